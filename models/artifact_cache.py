"""Build-once model folders in the user cache: atomic writes and a manifest checked on load."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import platformdirs

from models.base import file_sha256
from models.errors import ModelNotAvailable

CACHE_ENV = "VIETQA_CACHE_DIR"
MANIFEST = "vietqa-artifact.json"
MANIFEST_VERSION = 2

log = logging.getLogger(__name__)


def cache_root() -> Path:
    """Where converted models live: $VIETQA_CACHE_DIR, else the platform's user cache."""
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("vietqa"))


def _files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST]


def _file_records(folder: Path) -> dict[str, list]:
    """Per file: [size, SHA-256, modification time in ns]."""
    return {
        str(path.relative_to(folder)): [
            path.stat().st_size,
            file_sha256(path),
            path.stat().st_mtime_ns,
        ]
        for path in _files(folder)
    }


def _unchanged(folder: Path, records: object) -> bool:
    """Every file has its recorded size; a file touched since the build must also still
    have its recorded hash (hashing 1 GB on every load would cost seconds)."""
    if not isinstance(records, dict) or set(records) != {
        str(p.relative_to(folder)) for p in _files(folder)
    }:
        return False
    for name, record in records.items():
        path = folder / name
        size, digest, mtime = record
        stat = path.stat()
        if stat.st_size != size:
            return False
        if stat.st_mtime_ns != mtime and file_sha256(path) != digest:
            return False
    return True


def artifact_problem(folder: Path, key: str) -> str | None:
    """Why `folder` is not a complete artifact for `key`, or None when it is."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return "no manifest (an interrupted build?)"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unreadable manifest"
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("key") != key:
        return "built by another version"
    try:
        unchanged = _unchanged(folder, manifest.get("files"))
    except (OSError, ValueError, TypeError):
        unchanged = False
    if not unchanged:
        return "files missing, truncated or changed"
    return None


def build_artifact(
    folder: Path,
    key: str,
    build: Callable[[Path], None],
    verify: Callable[[Path], None],
    what: str,
) -> Path:
    """Return `folder`, first building it with `build` and checking it with `verify`.

    A folder that fails its manifest check is rebuilt. The build happens in a temporary
    sibling that replaces `folder` only after `verify` passed; a failed build leaves nothing.
    """
    problem = artifact_problem(folder, key)
    if problem is None:
        return folder
    if folder.exists():
        log.warning("Rebuilding %s at %s: %s.", what, folder, problem)
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    log.warning("Building %s in %s (once)...", what, folder)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    try:
        build(staging)
        verify(staging)
        manifest = {"version": MANIFEST_VERSION, "key": key, "files": _file_records(staging)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        try:
            os.replace(staging, folder)
        except OSError:
            # Another process finished a build first: keep it when it is this one,
            # else (another version's) replace it.
            if artifact_problem(folder, key) is not None:
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if artifact_problem(folder, key) is not None:
        raise ModelNotAvailable(f"Could not build {what} in {folder}.")
    return folder
