"""An index of a corpus folder kept in the cache: built on first use, rebuilt when the
corpus files or the model change, reused otherwise."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from index.backend import is_postgres
from index.documents import SUPPORTED_SUFFIXES
from models import DEFAULT_MODEL, Embedder, load_embedder
from models.artifact_cache import cache_root
from models.base import file_sha256
from qa.engine import Engine
from qa.errors import (
    IndexCorrupted,
    IndexNotFound,
    IndexVersionMismatch,
    ModelMismatch,
    UnsupportedFile,
)

# Written inside the index folder next to the store's own files.
SIGNATURE_FILE = "corpus-signature.json"

log = logging.getLogger(__name__)


def corpus_signature(corpus: Path) -> str:
    """SHA-256 over the names and contents of the files an ingest of `corpus` reads."""
    digest = hashlib.sha256()
    files = sorted(
        path
        for path in corpus.rglob("*")
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in SUPPORTED_SUFFIXES
    )
    for path in files:
        digest.update(f"{path.relative_to(corpus).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def default_index_folder(corpus: Path) -> Path:
    """A folder in the user cache, one per corpus location."""
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:16]
    return cache_root() / "indexes" / f"{corpus.resolve().name}-{key}"


def _recorded_signature(folder: Path) -> str | None:
    try:
        return json.loads((folder / SIGNATURE_FILE).read_text(encoding="utf-8"))["signature"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_corpus_index(
    corpus: str | Path,
    folder: str | Path | None = None,
    embedder: str | Embedder = DEFAULT_MODEL,
) -> Engine:
    """The index of `corpus` saved in `folder` (default: the user cache), built when missing,
    damaged, made from other files, or made by another model.

    `folder` may be a postgresql:// URI: the database's index (created when missing) gets
    the corpus files it does not hold yet, and keeps every document uploaded to it.
    """
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise UnsupportedFile(f"{corpus}: not a folder; pass a folder of reports as the corpus.")
    model = load_embedder(embedder) if isinstance(embedder, str) else embedder
    if is_postgres(folder):
        try:
            engine = Engine.load(folder, embedder=model)
        except IndexNotFound:
            engine = Engine.create(folder, model)
        engine.add([corpus])
        return engine
    folder = Path(folder) if folder is not None else default_index_folder(corpus)
    signature = corpus_signature(corpus)
    if _recorded_signature(folder) == signature:
        try:
            return Engine.load(folder, embedder=model)
        except (IndexNotFound, IndexCorrupted, IndexVersionMismatch, ModelMismatch) as exc:
            log.warning("rebuilding the index in %s: %s", folder, exc)
    log.info("indexing %s into %s", corpus, folder)
    engine = Engine.build([corpus], embedder=model, folder=folder)
    (folder / SIGNATURE_FILE).write_text(
        json.dumps({"corpus": str(corpus.resolve()), "signature": signature}), encoding="utf-8"
    )
    return engine
