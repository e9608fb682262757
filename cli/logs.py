"""structlog, configured once at the entry point: stderr only; readable on a terminal, JSON
otherwise."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

import structlog


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return repr(value)


def configure_logging(verbose: int = 0) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    renderer: Any
    if sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer(
            serializer=lambda obj, **kw: json.dumps(obj, default=_default))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The libraries' own logging (psycopg, SQLAlchemy, APScheduler) goes the same way; their
    # warnings only with -v: a failure the user needs to know about reaches them as our error.
    # The level is the handler's, not only the root logger's: psycopg sets its own logger to
    # WARNING on import, which a root level alone would not filter.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=renderer,
        foreign_pre_chain=[structlog.stdlib.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)]))
    handler.set_name(_HANDLER)
    library_level = logging.ERROR if verbose == 0 else level
    handler.setLevel(library_level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(library_level)


_HANDLER = "extramile-stderr"


def get_logger() -> Any:
    return structlog.get_logger("extramile")
