"""Passages: spans of a document that are embedded and indexed, with exact offsets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from index.chunk import chunk_text
from index.documents import Document
from index.normalize import canonical


@dataclass(frozen=True)
class Passage:
    """A span of a document: `document.text[start:end] == text`."""

    doc_id: str
    title: str
    start: int
    end: int
    text: str
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def indexed_text(self) -> str:
        """What the embedder and BM25 see: the title, then the passage, tones canonical.
        A passage that opens with the title (a report's first lines) does not get it twice."""
        if self.text.startswith(self.title):
            return canonical(self.text)
        return canonical(f"{self.title}\n{self.text}")


def split_document(document: Document) -> list[Passage]:
    """The passages of a document, in order, each a verbatim span of its text."""
    return [
        Passage(
            doc_id=document.doc_id,
            title=document.title,
            start=span.start,
            end=span.end,
            text=document.text[span.start : span.end],
            metadata=document.metadata,
        )
        for span in chunk_text(document.text)
    ]
