"""The root of the project's error hierarchy and the model layer's own errors."""


class QAError(Exception):
    """Base class of every error this project raises on purpose."""


class ModelNotAvailable(QAError):
    """The requested embedding model cannot be loaded here (not installed, not cached, offline)."""
