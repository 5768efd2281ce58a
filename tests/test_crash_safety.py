"""An index survives kill -9 in the middle of a save, and searches stay consistent while
another thread adds and removes documents."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from index.documents import Document
from qa import Engine

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 24
QUESTION = "Ai chủ trì hội nghị dân vận ở Na Hang?"
NA_HANG = (
    "Huyện Na Hang sơ kết công tác dân vận sáu tháng đầu năm 2023.\n\n"
    "Đồng chí Lý Văn Khánh, Phó Bí thư Huyện ủy, chủ trì hội nghị. Các xã đăng ký "
    "mười hai mô hình Dân vận khéo về giữ gìn vệ sinh môi trường và làm đường giao thông "
    "nông thôn.\n\nHội nghị giao Ban Dân vận Huyện ủy theo dõi, báo cáo kết quả hằng quý."
)

# The worker loads the index once, adds the Na Hang report once, then for each "go" on
# stdin forks a child that saves the old and the new version in turn, forever; the test
# kills the child with SIGKILL and the worker reports when it has reaped it. The versions
# are saved as new builds (no origin), so each save replaces whatever is there.
WORKER = """
import dataclasses, os, sys
from pathlib import Path
from qa import Engine

folder, report = Path(sys.argv[1]), Path(sys.argv[2])
old = Engine.load(folder)
new = Engine(old.embedder, old._data)
new.add([report])
versions = [dataclasses.replace(e._data, origin=None) for e in (old, new)]
print("ready", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        turn = int(line.split()[1])
        while True:
            Engine(old.embedder, versions[turn % 2]).save(folder)
            turn += 1
    print(f"child {pid}", flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


def _keys(engine: Engine) -> list[tuple[str, int, int]]:
    return [(h.doc_id, h.start, h.end) for h in engine.search(QUESTION, k=5)]


def _assert_consistent(engine: Engine) -> None:
    texts = {d.doc_id: d.text for d in engine.documents}
    assert len(texts) == len(engine.documents)
    for passage in engine.passages:
        assert texts[passage.doc_id][passage.start : passage.end] == passage.text
    assert engine._data.dense.size == len(engine.passages)
    assert engine._data.lexical.size == len(engine.passages)


def _read_line(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith(prefix), f"worker said {line!r}; stderr: {process.stderr}"
    return line


def test_kill_9_during_save_leaves_old_or_new_index(
    engine: Engine, saved_index: Path, tmp_path: Path
) -> None:
    """SIGKILL at random moments of repeated saves: every load gives exactly the old index
    or the new one, never an error and never a mix."""
    folder = tmp_path / "ix"
    shutil.copytree(saved_index, folder)
    report = tmp_path / "na-hang.txt"
    report.write_text(NA_HANG, encoding="utf-8")
    old = Engine.load(folder, embedder=engine.embedder)
    new = Engine(old.embedder, old._data)
    new.add([report])
    expected = {
        len(old.documents): ({d.doc_id for d in old.documents}, _keys(old)),
        len(new.documents): ({d.doc_id for d in new.documents}, _keys(new)),
    }
    started = time.perf_counter()
    Engine(old.embedder, new._data).save(tmp_path / "timing")
    save_s = time.perf_counter() - started
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(folder), str(report)],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    rng = random.Random(7)
    seen: dict[int, int] = {}
    interrupted = 0
    deadline = time.monotonic() + 90
    try:
        _read_line(worker, "ready")
        assert worker.stdin is not None
        for trial in range(TRIALS):
            assert time.monotonic() < deadline, f"only {trial} trials in the time allowed"
            worker.stdin.write(f"go {trial}\n")
            worker.stdin.flush()
            child = int(_read_line(worker, "child").split()[1])
            # Anywhere from before the first save ends to a few saves later.
            time.sleep(rng.uniform(0, 4 * save_s))
            os.kill(child, signal.SIGKILL)
            _read_line(worker, "reaped")
            loaded = Engine.load(folder, embedder=engine.embedder)
            count = len(loaded.documents)
            assert count in expected, f"trial {trial}: {count} documents"
            ids, keys = expected[count]
            assert {d.doc_id for d in loaded.documents} == ids
            _assert_consistent(loaded)
            assert _keys(loaded) == keys
            manifest = json.loads((folder / "manifest.json").read_text())
            assert (manifest["documents"], manifest["passages"]) == (
                count,
                len(loaded.passages),
            )
            seen[count] = seen.get(count, 0) + 1
            names = [p.name for p in folder.iterdir()]
            staged = sum(n.startswith(".tmp-") or n.endswith(".tmp") for n in names)
            interrupted += staged > 0 or sum(n.startswith("gen-") for n in names) > 1
    finally:
        worker.kill()
        worker.wait(timeout=30)
    assert sum(seen.values()) == TRIALS
    print(f"kill -9 trials: {TRIALS}, loads by document count: {seen}, mid-save: {interrupted}")
    # Most kills land inside a save (the child does nothing else), not between saves.
    assert interrupted >= TRIALS // 4
    # A save after all the kills leaves one generation and no staging leftovers.
    Engine(old.embedder, dataclasses.replace(new._data, origin=None)).save(folder)
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith((".tmp-", "gen-")))
    assert len(leftovers) == 1 and leftovers[0].startswith("gen-")
    assert len(Engine.load(folder, embedder=engine.embedder).documents) == len(new.documents)


def test_searches_stay_consistent_while_documents_change(engine: Engine) -> None:
    """8 threads search and ask while another adds and removes documents: no exception,
    and every hit is the exact span of the document text it names."""
    local = Engine(engine.embedder, engine._data)
    extra = [
        Document(f"extra-{n}.txt", f"Báo cáo số {n}", f"{NA_HANG}\n\nPhụ lục số {n}.")
        for n in range(3)
    ]
    texts = {d.doc_id: d.text for d in [*engine.documents, *extra]}
    questions = [
        QUESTION,
        "Ai chủ trì hội nghị ở Chiêm Hóa?",
        "bao nhieu mo hinh dan van kheo",
        "How many models were registered?",
    ]
    readers_done = threading.Event()
    writes = 0

    def write() -> None:
        nonlocal writes
        turn = 0
        while not readers_done.is_set() and turn < 200:
            document = extra[turn % len(extra)]
            local.add_documents([document])
            local.remove(document.doc_id)
            turn += 1
        writes = turn

    def read(seed: int) -> int:
        checked = 0
        for n in range(12):
            question = questions[(seed + n) % len(questions)]
            if n % 3 == 2:
                answer = local.ask(question, k=3)
                hits = [p.hit for p in answer.passages]
                if answer.found:
                    assert answer.hit is not None and answer.document_span is not None
                    span = answer.document_span
                    assert texts[answer.hit.doc_id][span.start : span.end] == answer.text
                    hits.append(answer.hit)
            else:
                hits = local.search(question, k=5)
                assert hits
            for hit in hits:
                assert texts[hit.doc_id][hit.start : hit.end] == hit.text
                checked += 1
        return checked

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=9) as pool:
        writer = pool.submit(write)
        readers = [pool.submit(read, seed) for seed in range(8)]
        try:
            checked = sum(r.result(timeout=120) for r in readers)
        finally:
            readers_done.set()
        writer.result(timeout=120)
    assert time.monotonic() - started < 120
    assert checked >= 8 * 8 and writes >= 1
    assert {d.doc_id for d in local.documents} == {d.doc_id for d in engine.documents}
    _assert_consistent(local)
