"""Small pieces of the logging and metrics set-up: settings that fail fast, ids, JSON lines."""
from __future__ import annotations

import json
import logging
import sys

import pytest
from pydantic import ValidationError

from kroi import logs
from kroi.settings import Settings
from kroi.web.observability import incoming_request_id

pytestmark = pytest.mark.unit


def test_a_bad_metrics_network_is_a_start_up_error() -> None:
    assert Settings(metrics_allow="10.0.0.0/8, fd00::/8").metrics_allow
    with pytest.raises(ValidationError, match="intranet"):
        Settings(metrics_allow="10.0.0.0/8,intranet")


def test_request_ids() -> None:
    scope = {"headers": [(b"x-request-id", b"edge-1.2")]}
    assert incoming_request_id(scope, trusted=True) == "edge-1.2"
    assert incoming_request_id(scope, trusted=False) != "edge-1.2"
    assert incoming_request_id({"headers": [(b"x-request-id", b"x" * 129)]}, trusted=True) != "x" * 129
    assert incoming_request_id({"headers": [(b"x-request-id", b"a\nb")]}, trusted=True) != "a\nb"
    assert len({incoming_request_id({}, trusted=True) for _ in range(100)}) == 100


def test_json_lines_carry_the_request_id_extras_and_the_traceback() -> None:
    record_args = dict(name="kroi.leads", level=logging.ERROR, pathname=__file__, lineno=1, msg="lead %s failed",
                       args=(7,), exc_info=None)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record_args["exc_info"] = sys.exc_info()
    record = logging.LogRecord(**record_args)
    record.status = 503
    token = logs.request_id.set("abc123")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        logs.request_id.reset(token)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "lead 7 failed" and line["level"] == "ERROR" and line["logger"] == "kroi.leads"
    assert line["request_id"] == "abc123" and line["status"] == 503
    assert "RuntimeError: boom" in line["exception"]
    assert logs.request_id.get() == "-"


def test_configure_twice_keeps_one_handler_and_honours_the_level() -> None:
    root = logging.getLogger()
    logs.configure("DEBUG", "json")
    logs.configure("WARNING", "text")
    ours = [h for h in root.handlers if getattr(h, "_kroi_handler", False)]
    assert len(ours) == 1 and not isinstance(ours[0].formatter, logs.JsonFormatter)
    assert logging.getLogger("kroi").level == logging.WARNING
    logs.configure("INFO", "text")
    assert logging.getLogger("kroi").level == logging.INFO
    assert logging.getLogger("uvicorn.access").disabled
