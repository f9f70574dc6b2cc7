"""Logging for every way Kroi runs (uvicorn --factory, the Docker command, `kroi serve`, the CLI): one handler on
the root logger, text or JSON lines, and the id of the request being served on every record."""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from typing import Any

# The id of the request this code runs for; "-" outside a request (workers, start-up).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("kroi_request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Attributes every LogRecord has; anything else on a record came in through `extra=` and goes into JSON lines.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id",
                                                                        "taskName", "color_message"}  # uvicorn's
_MARK = "_kroi_handler"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on each record (a handler filter, so records of every logger get it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Install Kroi's handler on the root logger (replacing an earlier one of ours: calling again is safe) and
    route uvicorn's own loggers through it; uvicorn's access log is switched off, as Kroi logs each request."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # KROI_LOG_LEVEL is the level of Kroi's own loggers; libraries speak from WARNING up (uvicorn keeps its INFO).
    numeric = logging.getLevelName(level.upper())
    root.setLevel(logging.WARNING)
    logging.getLogger("kroi").setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
