"""Domain errors. The server maps each class to one gRPC status; nothing else should be raised
to a caller on bad input.

Every error carries a stable ``reason`` (for ``google.rpc.ErrorInfo``) and, for bad input, the
path of the offending field (for ``google.rpc.BadRequest``).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a refused request that changed nothing."""

    reason = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """A field has a value the service cannot accept."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.description = message

    def under(self, prefix: str) -> "InvalidArgument":
        """The same error with ``prefix`` put in front of the field path."""
        path = f"{prefix}.{self.field}" if self.field else prefix
        return InvalidArgument(path, self.description)


class NotFound(DomainError):
    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    reason = "FAILED_PRECONDITION"


class Unavailable(DomainError):
    """The store cannot be reached; nothing was written. The caller may retry later."""

    reason = "STORE_UNAVAILABLE"


class Aborted(DomainError):
    """A concurrent write won; the caller may retry."""

    reason = "ABORTED"
