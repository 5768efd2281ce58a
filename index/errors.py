"""Errors of the index layer: reading files and keeping indexes on disk."""

from models.errors import QAError


class UnsupportedFile(QAError):
    """A file cannot be ingested: unknown type, unreadable, not text, too large, broken line."""


class IndexNotFound(QAError):
    """No index exists at the given location."""


class IndexCorrupted(QAError):
    """An index folder is damaged or incomplete: a file is missing, truncated or inconsistent."""


class IndexVersionMismatch(QAError):
    """An index was written by a newer (or unknown) format version of this software."""


class ModelMismatch(QAError):
    """An index is queried with an embedder other than the one that built it."""


class IndexLocked(QAError):
    """Another process is writing to the same index folder."""


class IndexChanged(QAError):
    """The index folder was saved by someone else after this copy was loaded."""


class DocumentNotFound(QAError):
    """A document id that the index does not hold."""


class StoreUnavailable(QAError):
    """A database index cannot be reached, or its client library is not installed."""
