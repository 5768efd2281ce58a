"""The on-disk layout of an index: one folder, a manifest, and one generation of data files.

    folder/manifest.json     format version, embedder, normaliser, counts, current generation
    folder/gen-000007/       documents.jsonl, passages.jsonl, dense.faiss, lexical/

A save writes a new generation folder beside the old one, then replaces manifest.json
with os.replace, which is atomic: a crash at any point leaves either the old index or
the new one. Older generations are removed after the switch. Nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from index.dense import KINDS as DENSE_KINDS
from index.dense import DenseStore
from index.documents import Document
from index.errors import (
    IndexChanged,
    IndexCorrupted,
    IndexLocked,
    IndexNotFound,
    IndexVersionMismatch,
    ModelMismatch,
)
from index.lexical import LexicalStore
from index.normalize import NORMALIZER_VERSION
from index.passages import Passage

FORMAT_VERSION = 2
_GENERATION = re.compile(r"gen-\d{6}")
MANIFEST = "manifest.json"
LOCK = ".lock"


@dataclass(frozen=True)
class EmbedderInfo:
    """What the manifest records of the embedder that built an index."""

    name: str
    dim: int
    fingerprint: str


@dataclass(frozen=True)
class IndexData:
    """Everything an index holds in memory; rows of both stores follow `passages`."""

    embedder: EmbedderInfo
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    dense: DenseStore
    lexical: LexicalStore
    created: str
    # The index folder and generation this data was loaded from or last saved to.
    origin: tuple[str, str] | None = None


def check_embedder(where: str, recorded: EmbedderInfo, given: EmbedderInfo) -> None:
    """Raise ModelMismatch unless `given` is the embedder an index at `where` was built with."""
    if given.fingerprint != recorded.fingerprint or given.dim != recorded.dim:
        raise ModelMismatch(
            f"{where} was built with embedder {recorded.name!r} "
            f"(fingerprint {recorded.fingerprint}, dim {recorded.dim}) but "
            f"{given.name!r} (fingerprint {given.fingerprint}, dim {given.dim}) was "
            "given. Load it with the same embedder, or rebuild it with "
            "`python -m qa ingest ... --embedder NAME`."
        )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _fsync_tree(folder: Path) -> None:
    """Flush every file under `folder` to disk before the manifest points at it."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def write_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock file; another writer gets IndexLocked at once."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexLocked(
                f"{folder} is being written by another process; try again when it finishes."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_index(folder: Path, data: IndexData) -> IndexData:
    """Write `data` to `folder` atomically (see the module docstring); returns `data`
    with its new origin.

    Raises IndexLocked while another process writes the folder, and IndexChanged when
    the folder was saved by someone else since `data` was loaded from it.
    """
    folder = Path(folder)
    with write_lock(folder):
        previous = _read_manifest_or_none(folder)
        here = str(folder.resolve())
        if (
            previous is not None
            and data.origin is not None
            and data.origin[0] == here
            and data.origin[1] != previous["generation"]
        ):
            raise IndexChanged(
                f"{folder} was changed by another process after this index was loaded; "
                "load it again and repeat the change."
            )
        staging = folder / f".tmp-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            _write_jsonl(
                staging / "documents.jsonl",
                [
                    {"id": d.doc_id, "title": d.title, "text": d.text, "metadata": dict(d.metadata)}
                    for d in data.documents
                ],
            )
            _write_jsonl(
                staging / "passages.jsonl",
                [{"doc": p.doc_id, "start": p.start, "end": p.end} for p in data.passages],
            )
            data.dense.save(staging / "dense.faiss")
            data.lexical.save(staging / "lexical")
            _fsync_tree(staging)
            number = int(previous["generation"].split("-")[1]) + 1 if previous else 1
            generation = f"gen-{number:06d}"
            shutil.rmtree(folder / generation, ignore_errors=True)
            os.replace(staging, folder / generation)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": generation,
            "embedder": {
                "name": data.embedder.name,
                "dim": data.embedder.dim,
                "fingerprint": data.embedder.fingerprint,
            },
            "normalizer": NORMALIZER_VERSION,
            "dense_index": data.dense.kind,
            "dense": {**data.dense.describe(), "policy": data.dense.policy},
            "documents": len(data.documents),
            "passages": len(data.passages),
            "created": data.created,
            "updated": now_iso(),
        }
        pending = folder / f"{MANIFEST}.{uuid.uuid4().hex}.tmp"
        with pending.open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pending, folder / MANIFEST)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        for stale in folder.iterdir():
            leftover = stale.name.startswith(("gen-", ".tmp-", MANIFEST + "."))
            if leftover and stale.name != generation:
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
    return dataclasses.replace(data, origin=(here, generation))


def _read_manifest_or_none(folder: Path) -> dict[str, Any] | None:
    try:
        return read_manifest(folder)
    except (IndexNotFound, IndexCorrupted, IndexVersionMismatch):
        return None


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the index in `folder`, checked for its format version."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise IndexNotFound(
            f"no index at {folder} (no {MANIFEST}). Build one with "
            f"`python -m qa ingest PATH --index {folder}`."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = manifest["format_version"]
        # The generation names a folder inside the index, never a path elsewhere.
        if not isinstance(manifest["generation"], str) or not _GENERATION.fullmatch(
            manifest["generation"]
        ):
            raise ValueError("the generation entry is not a generation folder name")
        EmbedderInfo(**manifest["embedder"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupted(
            f"{path} is damaged ({exc!r}); rebuild the index with `python -m qa ingest`."
        ) from exc
    if version != FORMAT_VERSION:
        raise IndexVersionMismatch(
            f"{folder} uses index format {version!r}; this version reads format "
            f"{FORMAT_VERSION}. Rebuild it with `python -m qa ingest`, or upgrade."
        )
    return manifest


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_index(folder: Path) -> IndexData:
    """Read and cross-check an index folder; any damage raises IndexCorrupted."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("normalizer") != NORMALIZER_VERSION:
        raise IndexVersionMismatch(
            f"{folder} was built with text normaliser {manifest.get('normalizer')!r}; this "
            f"version indexes words with {NORMALIZER_VERSION!r}. Rebuild it with "
            "`python -m qa ingest`."
        )
    data_dir = folder / manifest["generation"]
    try:
        documents = tuple(
            Document(r["id"], r["title"], r["text"], MappingProxyType(r["metadata"]))
            for r in _read_jsonl(data_dir / "documents.jsonl")
        )
        by_id: Mapping[str, Document] = {d.doc_id: d for d in documents}
        passages = []
        for record in _read_jsonl(data_dir / "passages.jsonl"):
            document = by_id[record["doc"]]
            start, end = int(record["start"]), int(record["end"])
            if not 0 <= start < end <= len(document.text):
                raise ValueError(f"passage offsets {start}:{end} outside {document.doc_id}")
            passages.append(
                Passage(
                    document.doc_id,
                    document.title,
                    start,
                    end,
                    document.text[start:end],
                    document.metadata,
                )
            )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupted(
            f"{data_dir} is damaged ({exc!r}); rebuild the index with `python -m qa ingest`."
        ) from exc
    embedder = EmbedderInfo(**manifest["embedder"])
    counts = (len(documents), len(passages))
    if counts != (manifest.get("documents"), manifest.get("passages")):
        raise IndexCorrupted(
            f"{folder}: the manifest promises {manifest.get('documents')} documents and "
            f"{manifest.get('passages')} passages but the files hold {counts[0]} and {counts[1]}."
        )
    policy = manifest.get("dense", {}).get("policy", "auto")
    if policy not in DENSE_KINDS:
        raise IndexCorrupted(f"{folder}: the manifest names an unknown dense policy {policy!r}")
    dense = DenseStore.load(data_dir / "dense.faiss", embedder.dim, len(passages), policy)
    lexical = LexicalStore.load(data_dir / "lexical")
    if lexical.size != len(passages):
        raise IndexCorrupted(f"{folder}: the BM25 index does not match the passages file.")
    origin = (str(folder.resolve()), manifest["generation"])
    return IndexData(
        embedder, documents, tuple(passages), dense, lexical, manifest["created"], origin
    )
