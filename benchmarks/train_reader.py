"""Fine-tune the built-in model as an extractive reader on some XQuAD-vi articles and
compare it with `ask` on the others, in one run.

    HF_HUB_OFFLINE=1 python benchmarks/train_reader.py [--fold 0] [--epochs 2]

A measurement of what would close issue #5's XQuAD-vi F1 gap, not part of the engine:
the converted multilingual-e5-small (models.convert_e5) gets a start/end head and is
trained on the question + passage windows of four fifths of the dev articles (fold F
holds out every fifth article, sorted by number: no held-out article is seen in
training). On the held-out articles' questions the table gives EM / F1 of `ask` (the
rule and logistic-regression reader of qa/reader.py, withheld answers scoring 0), of the
trained reader on the passage `search` ranks first, and of the trained reader on the
gold passage. Training runs on the CPU in fp32 (about 15 s per step of 16 windows on 2
cores); the weights are not kept.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertModel, PreTrainedTokenizerBase

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.bundled import QUERY_PREFIX  # noqa: E402
from models.convert_e5 import converted_model_dir  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluate import exact_match, token_f1  # noqa: E402

FOLDS = 5
# Question + passage windows of at most this many tokens, overlapping by STRIDE.
MAX_TOKENS = 320
STRIDE = 96
BATCH = 16
# Windows without the answer kept for training (their label is the <s> token).
NEGATIVES = 100
# Longest answer considered, in tokens, and the best starts and ends paired.
MAX_ANSWER = 30
TOP = 20


@dataclass(frozen=True)
class Example:
    """A dev question, its passage, gold answers and the first answer's offset."""

    question: str
    passage_id: str
    answers: tuple[str, ...]
    start: int


@dataclass(frozen=True)
class Window:
    """The token ids of a question with one window of its passage."""

    ids: list[int]
    # Token indexes of the passage and their character spans in it.
    context: list[int]
    offsets: list[tuple[int, int]]
    label: tuple[int, int]


class Reader(torch.nn.Module):
    """The encoder with one linear layer giving each token a start and an end score."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.encoder = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = self.head(hidden).masked_fill((mask == 0)[..., None], -1e4)
        return logits[..., 0], logits[..., 1]


def read_examples(folder: Path) -> tuple[dict[str, str], list[Example]]:
    def lines(name: str) -> list[dict]:
        with (folder / name).open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    passages = {p["id"]: p["text"] for p in lines("xquad_vi_dev_passages.jsonl")}
    examples = [
        Example(q["question"], q["passage_id"], tuple(q["answers"]), q["answer_starts"][0])
        for q in lines("xquad_vi_dev_questions.jsonl")
    ]
    return passages, examples


def windows(
    tokenizer: PreTrainedTokenizerBase, question: str, passage: str, answer: tuple[int, int] | None
) -> list[Window]:
    """The question with each window of the passage; labelled with the answer's first and
    last tokens where the window holds the whole answer, else (0, 0)."""
    encoded = tokenizer(
        QUERY_PREFIX + question,
        passage,
        truncation="only_second",
        max_length=MAX_TOKENS,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    found = []
    for index, ids in enumerate(encoded["input_ids"]):
        sequence = encoded.sequence_ids(index)
        offsets = [tuple(span) for span in encoded["offset_mapping"][index]]
        context = [i for i, part in enumerate(sequence) if part == 1]
        label = (0, 0)
        if answer is not None:
            first, last = answer
            starts = [i for i in context if offsets[i][0] <= first < offsets[i][1]]
            ends = [i for i in context if offsets[i][0] < last <= offsets[i][1]]
            if starts and ends:
                label = (starts[0], ends[-1])
        found.append(Window(ids, context, offsets, label))
    return found


def padded(
    tokenizer: PreTrainedTokenizerBase, batch: list[Window]
) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(w.ids) for w in batch)
    ids = torch.full((len(batch), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, window in enumerate(batch):
        ids[row, : len(window.ids)] = torch.tensor(window.ids)
        mask[row, : len(window.ids)] = 1
    return ids, mask


def train(
    model: Reader,
    tokenizer: PreTrainedTokenizerBase,
    data: list[Window],
    epochs: float,
    rate: float,
) -> None:
    # The 250k-row word embedding table stays as converted: most rows never occur here.
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=rate, weight_decay=0.01)
    steps = max(1, int(len(data) / BATCH * epochs))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1 - step / steps)
    )
    model.train()
    began, step = time.perf_counter(), 0
    while step < steps:
        random.shuffle(data)
        for first in range(0, len(data) - BATCH + 1, BATCH):
            batch = data[first : first + BATCH]
            starts, ends = model(*padded(tokenizer, batch))
            loss = (
                torch.nn.functional.cross_entropy(starts, torch.tensor([w.label[0] for w in batch]))
                + torch.nn.functional.cross_entropy(ends, torch.tensor([w.label[1] for w in batch]))
            ) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 10 == 0 or step == steps:
                elapsed = time.perf_counter() - began
                print(f"step {step}/{steps} loss {loss.item():.3f} {elapsed:.0f} s", flush=True)
            if step == steps:
                break
    model.eval()


def read(model: Reader, tokenizer: PreTrainedTokenizerBase, question: str, passage: str) -> str:
    """The best-scoring span of at most MAX_ANSWER tokens over the passage's windows."""
    best, text = float("-inf"), ""
    with torch.inference_mode():
        for window in windows(tokenizer, question, passage, None):
            starts, ends = (s[0].tolist() for s in model(*padded(tokenizer, [window])))
            firsts = sorted(window.context, key=lambda i: -starts[i])[:TOP]
            lasts = sorted(window.context, key=lambda i: -ends[i])[:TOP]
            for first in firsts:
                for last in lasts:
                    score = starts[first] + ends[last]
                    if first <= last < first + MAX_ANSWER and score > best:
                        best = score
                        text = passage[window.offsets[first][0] : window.offsets[last][1]]
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--fold", type=int, default=0, choices=range(FOLDS))
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=1e-4)
    args = parser.parse_args()
    random.seed(0)
    torch.manual_seed(0)
    passages, examples = read_examples(args.eval)
    articles = sorted({e.passage_id.split("-")[0] for e in examples}, key=int)
    held_out = set(articles[args.fold :: FOLDS])
    training = [e for e in examples if e.passage_id.split("-")[0] not in held_out]
    testing = [e for e in examples if e.passage_id.split("-")[0] in held_out]

    folder = converted_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    data = [
        window
        for e in training
        for window in windows(
            tokenizer, e.question, passages[e.passage_id], (e.start, e.start + len(e.answers[0]))
        )
    ]
    positives = [w for w in data if w.label != (0, 0)]
    negatives = [w for w in data if w.label == (0, 0)]
    data = positives + random.sample(negatives, min(NEGATIVES, len(negatives)))
    print(
        f"{len(training)} training questions ({len(positives)} answer windows), "
        f"{len(testing)} held-out questions in {len(held_out)} articles",
        flush=True,
    )
    model = Reader(folder)
    began = time.perf_counter()
    train(model, tokenizer, data, args.epochs, args.rate)
    trained_s = time.perf_counter() - began

    engine = Engine.build([str(args.eval / "xquad_vi_dev_passages.jsonl")])
    rows: dict[str, list[tuple[float, float]]] = {"ask": [], "top hit": [], "gold passage": []}
    for e in testing:
        answer = engine.ask(e.question)
        top = engine.search(e.question, k=1)[0].text
        texts = {
            "ask": answer.text if answer.found else None,
            "top hit": read(model, tokenizer, e.question, top),
            "gold passage": read(model, tokenizer, e.question, passages[e.passage_id]),
        }
        for name, text in texts.items():
            scored = (
                (0.0, 0.0)
                if text is None
                else (exact_match(text, e.answers), token_f1(text, e.answers))
            )
            rows[name].append(scored)
    print(
        f"\nfold {args.fold}: {len(testing)} held-out questions, {args.epochs} epochs, "
        f"training {trained_s / 60:.1f} min"
    )
    print(f"{'reader':28} {'EM':>6} {'F1':>6}")
    for name, scored in rows.items():
        label = {
            "ask": "ask (rules + LR)",
            "top hit": "trained, search's top passage",
            "gold passage": "trained, gold passage",
        }[name]
        em = statistics.fmean(s[0] for s in scored)
        f1 = statistics.fmean(s[1] for s in scored)
        print(f"{label:28} {em:6.3f} {f1:6.3f}")


if __name__ == "__main__":
    main()
