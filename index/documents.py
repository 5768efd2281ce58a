"""Reading documents from .txt, .md and .jsonl files and folders, with their encodings."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

from index.errors import UnsupportedFile

TEXT_SUFFIXES = frozenset({".txt", ".md"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".jsonl"}
MAX_FILE_BYTES = 64 * 1024 * 1024
# A title longer than this is a paragraph, not a headline; shorter than this (in words)
# it is a section label or a dateline.
MAX_TITLE_CHARS = 200
MIN_TITLE_WORDS = 7
_DATELINE = re.compile(r"thứ\s+\w+,|chủ nhật|ngày\s+\d|\d{1,2}/\d{1,2}/\d{4}", re.IGNORECASE)
_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})|ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})",
    re.IGNORECASE,
)
# Share of letters and spaces below which decoded bytes are not text.
MIN_TEXT_SHARE = 0.6


@dataclass(frozen=True)
class Document:
    """One report: its id, title, original text (never altered) and metadata."""

    doc_id: str
    title: str
    text: str
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def content_hash(self) -> str:
        """SHA-256 of the NFC text, so the same report in NFC or NFD counts once."""
        return hashlib.sha256(unicodedata.normalize("NFC", self.text).encode()).hexdigest()


@dataclass(frozen=True)
class SkippedFile:
    """A file in an ingested folder that was not read, and why."""

    path: str
    reason: str


def _looks_like_text(text: str) -> bool:
    if not text.strip():
        return True
    if any(ch in text for ch in "\x00\ufffd"):
        return False
    sample = text[:20000]
    good = sum(
        ch.isalnum() or ch.isspace() or unicodedata.category(ch)[0] in "PMS" for ch in sample
    )
    return good / len(sample) >= MIN_TEXT_SHARE


def decode_bytes(data: bytes, name: str) -> str:
    """Decode a file's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1258.

    Raises UnsupportedFile naming the file when none gives text.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        # Windows-1258 is the legacy Vietnamese code page; it decodes almost any bytes,
        # so its result must still look like text.
        candidates = ["utf-8", "cp1258"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise UnsupportedFile(
        f"{name}: not readable as text (tried {', '.join(candidates)}). "
        "Save it as UTF-8 text, or convert it to .txt first."
    )


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnsupportedFile(
            f"{path}: {size / 2**20:.0f} MiB is over the {MAX_FILE_BYTES // 2**20} MiB limit "
            "for one file; split it into smaller files."
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnsupportedFile(f"{path}: cannot be read ({exc.strerror}).") from exc


def title_of(text: str, fallback: str) -> str:
    """The headline among the opening lines: not a dateline ("Thứ Sáu, 1/7/2022"), not a
    sentence (no final full stop), preferably of MIN_TITLE_WORDS words or more, so that a
    section label ("Tin tức - Sự kiện nổi bật") gives way to the headline under it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    headlines = [
        line
        for line in lines[:5]
        if len(line) <= MAX_TITLE_CHARS and not _DATELINE.match(line) and not line.endswith(".")
    ]
    for line in headlines:
        if len(re.findall(r"\w+", line)) >= MIN_TITLE_WORDS:
            return line
    if headlines:
        return headlines[0]
    return lines[0] if lines and len(lines[0]) <= MAX_TITLE_CHARS else fallback


def date_of(text: str) -> str | None:
    """The first date in a report's opening lines, as YYYY-MM-DD, or None."""
    opening = "\n".join(text.lstrip().splitlines()[:6])
    for match in _DATE.finditer(opening):
        day, month, year = (int(g) for g in match.groups() if g)
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def text_document(text: str, doc_id: str, fallback_title: str) -> Document:
    """A document from plain text: its headline as title, a dateline's date as metadata."""
    when = date_of(text)
    metadata = MappingProxyType({"date": when} if when else {})
    return Document(doc_id, title_of(text, fallback_title), text, metadata)


def _text_document(path: Path, doc_id: str) -> Document:
    return text_document(decode_bytes(_read_bytes(path), str(path)), doc_id, path.stem)


def _jsonl_documents(path: Path) -> list[Document]:
    """One document per line; a broken line refuses the whole file, naming the line."""
    text = decode_bytes(_read_bytes(path), str(path))
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnsupportedFile(f"{path}:{number}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise UnsupportedFile(f"{path}:{number}: a line needs a string field 'text'.")
        try:
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UnsupportedFile(
                f"{path}:{number}: not valid Unicode text ({exc.reason})."
            ) from exc
        doc_id = str(record.get("id", f"{path.name}:{number}"))
        title = str(record.get("title") or doc_id)
        metadata = {
            key: str(value)
            for key, value in record.items()
            if key not in {"id", "title", "text"} and isinstance(value, (str, int, float))
        }
        documents.append(Document(doc_id, title, record["text"], MappingProxyType(metadata)))
    return documents


def read_file(path: Path, doc_id: str | None = None) -> list[Document]:
    """The documents in one file; `doc_id` names a text file's document (default: its name)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _jsonl_documents(path)
    if suffix in TEXT_SUFFIXES:
        return [_text_document(path, doc_id or path.name)]
    raise UnsupportedFile(
        f"{path}: unsupported file type {suffix or '(none)'}; "
        f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}."
    )


def read_paths(paths: Iterable[str | Path]) -> tuple[list[Document], list[SkippedFile]]:
    """Documents from files and folders (recursively), and the folder entries skipped.

    A file named directly must be readable; inside a folder, files of other types are
    reported as skipped, and unreadable supported files still raise.
    """
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                if child.suffix.lower() not in SUPPORTED_SUFFIXES:
                    skipped.append(SkippedFile(str(child), f"unsupported type {child.suffix}"))
                    continue
                documents.extend(read_file(child, child.relative_to(path).as_posix()))
        elif path.is_file():
            documents.extend(read_file(path))
        else:
            raise UnsupportedFile(f"{path}: no such file or folder.")
    return documents, skipped
