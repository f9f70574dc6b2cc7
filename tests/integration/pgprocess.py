"""A PostgreSQL server of the test's own (pgserver's or Debian's binaries, a free TCP port on 127.0.0.1), to stop,
restart and refuse connections without touching the shared server other tests and agents use."""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from kroi import testing


def _bin(name: str) -> str:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

        if (POSTGRES_BIN_PATH / name).exists():
            return str(POSTGRES_BIN_PATH / name)
    except ImportError:
        pass
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                                                   reverse=True)), None)
    if not found:
        raise RuntimeError(f"no PostgreSQL binary {name!r} (install pgserver or PostgreSQL)")
    return str(found)


def _user() -> str | None:
    """PostgreSQL refuses to run as root: run it as an unprivileged user that exists on the machine."""
    if os.geteuid() != 0:
        return None
    for name in ("pgserver", "postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user for PostgreSQL")


class PostgresProcess:
    """initdb once, then start/stop the postmaster directly (its signals choose smart, fast or immediate)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kroi-test-pg-"))
        self.data = self.dir / "data"
        self.port = testing.free_port()
        self.user = _user()
        self.proc: subprocess.Popen | None = None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        subprocess.run([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True, user=self.user)

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=60",
             "-c", "shared_buffers=32MB"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "log", "ab"), user=self.user)  # noqa: SIM115
        deadline = time.monotonic() + 30
        while not self.accepts():
            assert self.proc.poll() is None, (self.dir / "log").read_text()[-2000:]
            assert time.monotonic() < deadline, "PostgreSQL did not start"
            time.sleep(0.05)

    def accepts(self) -> bool:
        """True once a connection gets past start-up (pg_isready answers 0 only when accepting)."""
        return subprocess.call([_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]) == 0

    def send(self, sig: int) -> None:
        """SIGTERM: smart shutdown (new connections refused with "shutting down"), SIGINT: fast, SIGQUIT: immediate."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGINT) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def port_closed(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) != 0

    def remove(self) -> None:
        self.stop(signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)
