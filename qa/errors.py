"""The project's error hierarchy in one place: every error derives from QAError."""

from index.errors import (
    DocumentNotFound,
    IndexChanged,
    IndexCorrupted,
    IndexLocked,
    IndexNotFound,
    IndexVersionMismatch,
    ModelMismatch,
    StoreUnavailable,
    UnsupportedFile,
)
from models.errors import ModelNotAvailable, QAError


class InvalidQuery(QAError):
    """A query that cannot be searched: empty, without letters or digits, or too long."""


class EmptyQuery(InvalidQuery):
    """The query is empty, white space only, or has no letters or digits."""


class QueryTooLong(InvalidQuery):
    """The query is longer than the engine accepts."""


class InvalidArgument(QAError):
    """An argument outside its allowed values (k, mode, filters)."""


__all__ = [
    "DocumentNotFound",
    "EmptyQuery",
    "IndexChanged",
    "IndexCorrupted",
    "IndexLocked",
    "IndexNotFound",
    "IndexVersionMismatch",
    "InvalidArgument",
    "InvalidQuery",
    "ModelMismatch",
    "ModelNotAvailable",
    "QAError",
    "QueryTooLong",
    "StoreUnavailable",
    "UnsupportedFile",
]
