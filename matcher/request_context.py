"""The request id that follows one request through the server and the engine.

The server sets it for each call (the client's ``x-request-id`` metadata, or a fresh one) in a
context variable; every log record made while the call runs, in the server or the engine,
carries it (:class:`RequestIdFilter`), and the client gets it back in the trailing metadata.
Work the engine hands to its solver thread logs without it (a thread does not inherit the
variable); the engine logs the outcome once back on the event loop.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

METADATA_KEY = "x-request-id"
REQUEST_ID: ContextVar[str] = ContextVar("homedispatch_request_id", default="")
# What a client's id may look like; anything else is replaced by a fresh one.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:/@+=-]{1,128}")


def request_id_from(metadata: object) -> str:
    """The client's request id in ``metadata`` (pairs of key and value) when it is an
    acceptable one, else a fresh id."""
    for key, value in metadata or ():
        if key == METADATA_KEY and isinstance(value, str) and _ACCEPTABLE.fullmatch(value):
            return value
    return uuid.uuid4().hex


class request_scope:  # (lower case: used as a function, `with request_scope(id):`)
    """Everything inside (and the tasks it starts) runs under ``request_id``. (A class: the
    engine enters one per SubmitOrders request, and a generator-based context manager costs
    twice the calls.)"""

    __slots__ = ("request_id", "_token")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def __enter__(self) -> str:
        self._token = REQUEST_ID.set(self.request_id)
        return self.request_id

    def __exit__(self, *exc_info: object) -> None:
        REQUEST_ID.reset(self._token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as ``record.request_id`` ("" outside a
    request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True
