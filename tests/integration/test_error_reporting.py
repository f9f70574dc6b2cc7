"""Sentry only when KROI_SENTRY_DSN is set: not even imported without it; with it, an unhandled error reaches
the DSN's server (a small HTTP sink on loopback here). Each case runs in a process of its own, since
sentry-sdk, once initialised, hooks into Litestar for the rest of the process."""
from __future__ import annotations

import gzip
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from kroi.settings import Settings

pytestmark = [pytest.mark.integration]

APP = """
import asyncio, sys
import httpx
from litestar import get
from kroi.app import create_app
from kroi.settings import Settings

app = create_app(Settings(env="test", database_url=sys.argv[1], var_dir=sys.argv[2], run_worker=False,
                          sentry_dsn=sys.argv[3] or None))

@get("/boom", sync_to_thread=False)
def boom() -> str:
    raise RuntimeError("kroi-sentry-probe")

app.register(boom)

async def main() -> None:
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/boom")
            print("status", r.status_code, "error id" if "kroi-sentry-probe" not in r.text else "LEAKED")

asyncio.run(main())
if "sentry_sdk" in sys.modules:
    import sentry_sdk
    sentry_sdk.flush(10)
print("sentry loaded", "sentry_sdk" in sys.modules, sentry_sdk.get_client().is_active() if "sentry_sdk" in sys.modules else False)
"""


@pytest.fixture
def sink() -> Iterator[tuple[str, list[bytes]]]:
    """An HTTP server that keeps every body POSTed to it (ungzipped) and answers 200."""
    received: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public-key@127.0.0.1:{server.server_address[1]}/42", received
    server.shutdown()
    server.server_close()


def run_app(settings: Settings, dsn: str) -> str:
    run = subprocess.run([sys.executable, "-c", APP, settings.database_url or "", str(settings.var_dir), dsn],
                         capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if not k.startswith("KROI_SENTRY")})
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_without_a_dsn_sentry_is_not_even_imported(settings: Settings, sink) -> None:  # noqa: ANN001
    out = run_app(settings, "")
    assert "status 500 error id" in out
    assert "sentry loaded False False" in out
    assert sink[1] == []


def test_with_a_dsn_an_unhandled_error_is_reported(settings: Settings, sink) -> None:  # noqa: ANN001
    dsn, received = sink
    out = run_app(settings, dsn)
    assert "status 500 error id" in out  # the visitor still gets the error page with an id, no trace
    assert "sentry loaded True True" in out
    events = [b for b in received if b"kroi-sentry-probe" in b]
    assert events, received
    assert b"RuntimeError" in events[0]
