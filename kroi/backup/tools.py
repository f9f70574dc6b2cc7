"""pg_dump / pg_restore: finding the ones that fit the server, and running them with the app's connection.

A pg_dump older than the server refuses to dump it, and a pg_restore older than the pg_dump that wrote an
archive cannot read it; so the binaries are chosen by version: the pgserver wheel's (the embedded server),
those on PATH and Debian's /usr/lib/postgresql/<major>/bin, preferring the server's own major version.
"""
from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class ToolError(RuntimeError):
    """pg_dump or pg_restore is missing, too old, or failed; the message says which and what to do."""


@dataclass(frozen=True)
class Tool:
    path: str
    version: str  # "16.2"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    try:
        from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

        dirs.append(Path(POSTGRES_BIN_PATH))
    except ImportError:
        pass
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        dirs += sorted(base.glob("*/bin"))
    return dirs


async def _version(path: str) -> str | None:
    try:
        proc = await asyncio.create_subprocess_exec(path, "--version", stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL)
        out, _ = await proc.communicate()
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.(\d+))?", out.decode(errors="replace"))
    return f"{found.group(1)}.{found.group(2) or 0}" if found else None


async def find_tool(name: str, server_major: int, at_least: int = 0) -> Tool:
    """The `name` binary for a server of `server_major`: the same major if there is one, else the oldest newer
    one; never one older than the server or than `at_least` (the pg_dump that wrote the archive)."""
    need = max(server_major, at_least)
    seen: dict[str, Tool] = {}
    for folder in _candidate_dirs():
        path = folder / name
        real = str(path.resolve()) if path.exists() else None
        if real and real not in seen and os.access(real, os.X_OK):
            version = await _version(str(path))
            if version:
                seen[real] = Tool(str(path), version)
    fitting = sorted((t for t in seen.values() if t.major >= need), key=lambda t: (t.major != server_major, t.major))
    if fitting:
        return fitting[0]
    hint = (f"install the PostgreSQL {need} client tools (Debian: apt-get install postgresql-client-{need}) "
            f"or put a {name} of version {need} or newer on PATH")
    if not seen:
        raise ToolError(f"{name} not found (looked in the pgserver wheel, PATH and /usr/lib/postgresql/*/bin): {hint}")
    found = ", ".join(f"{t.path} ({t.version})" for t in seen.values())
    why = f"the server is PostgreSQL {server_major}" + (f" and the dump was written by version {at_least}"
                                                       if at_least > server_major else "")
    raise ToolError(f"every {name} found is too old ({found}); {why}: {hint}")


def libpq_env(database_url: str) -> tuple[dict[str, str], str]:
    """(environment for libpq tools, database name) from the app's SQLAlchemy URL; the password travels in
    PGPASSWORD, never on a command line that `ps` shows."""
    url = make_url(database_url)
    env = dict(os.environ)
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "PGSERVICE"):
        env.pop(var, None)
    host = url.query.get("host") or url.host
    if isinstance(host, tuple):
        host = host[0]
    if host:
        env["PGHOST"] = host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str) and ssl:
        env["PGSSLMODE"] = {"true": "require"}.get(ssl.lower(), ssl)
    return env, url.database or "postgres"


async def run(tool: Tool, args: list[str], env: dict[str, str]) -> None:
    """Run a tool; a non-zero exit is a ToolError carrying the end of its error output."""
    proc = await asyncio.create_subprocess_exec(tool.path, *args, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise ToolError(f"{Path(tool.path).name} {tool.version} failed (exit {proc.returncode}):\n  "
                        + "\n  ".join(lines[-15:] or ["(no error output)"]))
