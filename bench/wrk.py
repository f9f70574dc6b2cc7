"""Drive the app with wrk: a Lua script cycling through a list of requests, percentiles printed as JSON."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = r"""
local requests = {
%(requests)s
}
local counter = 0

function setup(thread)
  -- Threads start at different places in the list, so they do not ask for the same URL at the same time.
  thread:set("start", math.random(0, #requests - 1))
end

function init(args)
  counter = tonumber(start) or 0
end

%(delay)s
function request()
  counter = counter + 1
  local r = requests[(counter %% #requests) + 1]
  return wrk.format("GET", r[1], r[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "mean_us": %%.1f, "max_us": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p95_us": %%d, "p99_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

BASE_HEADERS = {"Accept-Encoding": "gzip", "User-Agent": "kroi-bench (wrk)"}
HX_HEADERS = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/cars", "HX-Target": "results"}


@dataclass
class Result:
    name: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    kb_per_request: float
    think_ms: int = 0
    load_average: float = 0.0  # 1-minute load average of the machine right after the run

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


DELAY = """
-- Think time between a connection's requests (exponential, mean %(think)d ms): an open-ish load of
-- clients that read what they got, instead of wrk's default back-to-back requests.
function delay()
  return math.floor(-math.log(1 - math.random()) * %(think)d)
end
"""


def lua_script(requests: list[tuple[str, bool]], think_ms: int = 0) -> str:
    """A wrk script for (path, as_htmx_fragment) pairs."""
    lines = []
    for path, htmx in requests:
        headers = BASE_HEADERS | (HX_HEADERS if htmx else {})
        table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        lines.append(f"  {{{_lua_string(path)}, {{{table}}}}},")
    delay = DELAY % {"think": think_ms} if think_ms else ""
    return LUA % {"requests": "\n".join(lines), "delay": delay}


def run(name: str, base_url: str, requests: list[tuple[str, bool]], *, connections: int, duration: int,
        threads: int = 2, timeout_s: int = 10, think_ms: int = 0) -> Result:
    """Run wrk for `duration` seconds (bounded: the process is killed after duration + 30 s)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua_script(requests, think_ms))
        script = f.name
    try:
        cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s",
               f"--timeout={timeout_s}s", "-s", script, base_url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, check=False)
    finally:
        Path(script).unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    seconds = data["duration_us"] / 1e6
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return Result(
        name=name, connections=connections, duration_s=round(seconds, 1), requests=data["requests"],
        rps=round(data["requests"] / seconds, 1), mean_ms=round(data["mean_us"] / 1000, 2),
        p50_ms=round(data["p50_us"] / 1000, 2), p90_ms=round(data["p90_us"] / 1000, 2),
        p95_ms=round(data["p95_us"] / 1000, 2), p99_ms=round(data["p99_us"] / 1000, 2),
        max_ms=round(data["max_us"] / 1000, 2), errors=errors,
        kb_per_request=round(data["bytes"] / max(1, data["requests"]) / 1024, 1),
        think_ms=think_ms, load_average=round(os.getloadavg()[0], 1),
    )
