"""Uploaded files -> documents: .txt and .md as text, .pdf and .docx by text extraction."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PureWindowsPath

import docx
import pypdf
from docx.opc.exceptions import PackageNotFoundError
from pypdf.errors import DependencyError, PyPdfError

from index.documents import Document, decode_bytes, text_document
from qa.errors import UnsupportedFile

MAX_UPLOAD_BYTES = 10 * 2**20
MAX_UPLOAD_FILES = 20


def _plain_text(path: Path, name: str) -> str:
    return decode_bytes(path.read_bytes(), name)


def _pdf_text(path: Path, name: str) -> str:
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnsupportedFile(f"{name}: the PDF is password-protected.")
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, DependencyError, ValueError, KeyError) as exc:
        raise UnsupportedFile(f"{name}: not a readable PDF ({exc}).") from exc


def _docx_text(path: Path, name: str) -> str:
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnsupportedFile(
            f"{name}: not a readable .docx file; save it from Word as .docx or .pdf."
        ) from exc
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        paragraphs.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    return "\n\n".join(text for text in paragraphs if text.strip())


EXTRACTORS: dict[str, Callable[[Path, str], str]] = {
    ".txt": _plain_text,
    ".md": _plain_text,
    ".pdf": _pdf_text,
    ".docx": _docx_text,
}
UPLOAD_SUFFIXES = tuple(EXTRACTORS)


def read_upload(path: Path, name: str | None = None) -> Document:
    """The document in one uploaded file, named `name` (default: the file's name).

    Raises UnsupportedFile with a message for the user: wrong type, too large, no text.
    Only the last part of `name` is kept ("../../x.txt" and "C:\\x.txt" become "x.txt"):
    a browser's file name is a label, never a path.
    """
    name = PureWindowsPath(name or path.name).name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UnsupportedFile(
            f"{name}: type {suffix or '(none)'} is not accepted; "
            f"upload {', '.join(UPLOAD_SUFFIXES)}."
        )
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UnsupportedFile(
            f"{name}: {size / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB "
            "limit per file; split it into smaller files."
        )
    text = EXTRACTORS[suffix](path, name)
    if not text.strip():
        raise UnsupportedFile(f"{name}: no text found (a scanned PDF needs OCR first).")
    return text_document(text, name, Path(name).stem)


def read_uploads(
    paths: Sequence[Path], on_file: Callable[[int, str], None] | None = None
) -> tuple[list[Document], list[str]]:
    """Documents from uploaded files and one message per refused file.

    `on_file(i, name)` is called before the i-th file is read (for progress bars).
    """
    if len(paths) > MAX_UPLOAD_FILES:
        dropped = ", ".join(path.name for path in paths[MAX_UPLOAD_FILES:])
        refused = [f"{dropped}: at most {MAX_UPLOAD_FILES} files per upload; add them next time."]
        paths = paths[:MAX_UPLOAD_FILES]
    else:
        refused = []
    documents = []
    for i, path in enumerate(paths):
        if on_file is not None:
            on_file(i, path.name)
        try:
            documents.append(read_upload(path))
        except UnsupportedFile as exc:
            refused.append(str(exc))
    return documents, refused
