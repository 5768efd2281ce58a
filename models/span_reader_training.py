"""Train the extractive reader (models.span_reader) on questions with marked answers.

Installed by `python -m qa.reader_training` (which adds cloze questions to the set).

The built-in model (converted multilingual-e5-small) gets a linear start/end layer and
learns, from question + context windows of MAX_TOKENS, which tokens begin and end the
answer. Its first FROZEN layers stay as converted, so their outputs are computed once
per window and only the upper layers train: 3.6 s per step of 16 windows on 2 cores,
against 14.3 s for every layer on windows of 320 tokens. On the 8 held-out XQuAD-vi
articles of fold 0, reading the passage `search` ranks first, F1 was .465 with 4
frozen layers, .431 with 6, and .481 training every layer on 320-token windows (one run
each, 4 epochs, 13.0, 10.6 and 54.8 minutes). The trained model is exported to ONNX and
quantised to int8 for reading at answer time.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.artifact_cache import build_artifact
from models.base import file_sha256
from models.bundled import QUERY_PREFIX
from models.convert_e5 import converted_model_dir
from models.errors import ModelNotAvailable
from models.span_reader import (
    INFO_FILE,
    MAX_TOKENS,
    SpanReader,
    reader_dir,
    reader_key,
)

FROZEN = 4
STRIDE = 64
BATCH = 16
EPOCHS = 4.0
RATE = 1e-4
# Windows without the answer kept for training, per window with it (labelled <s>).
NEGATIVE_SHARE = 0.125
# A trained int8 reader overlaps the marked answer of this share of its training questions.
MIN_OVERLAP = 0.6
XQUAD_PASSAGES = "xquad_vi_dev_passages.jsonl"
XQUAD_QUESTIONS = "xquad_vi_dev_questions.jsonl"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """A question, the passage that answers it, the answer's characters in the passage,
    and the article the passage belongs to (folds never split an article)."""

    question: str
    context: str
    start: int
    end: int
    article: str


@dataclass(frozen=True)
class Window:
    """Token ids of a question with one window of its context, and the answer's first and
    last token in it ((0, 0), the <s> token, when the window lacks the answer)."""

    ids: tuple[int, ...]
    label: tuple[int, int]


def read_xquad(folder: Path) -> list[Example]:
    """The XQuAD-style question set in `folder` (passages with ids, questions with their
    answers' character offsets) as training examples."""

    def rows(name: str) -> list[dict]:
        with (folder / name).open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    passages = {p["id"]: p["text"] for p in rows(XQUAD_PASSAGES)}
    examples = []
    for q in rows(XQUAD_QUESTIONS):
        context, start, answer = passages[q["passage_id"]], q["answer_starts"][0], q["answers"][0]
        if context[start : start + len(answer)] != answer:
            raise ValueError(f"Answer offset does not match its passage in {q['passage_id']}.")
        examples.append(
            Example(
                q["question"], context, start, start + len(answer), q["passage_id"].split("-")[0]
            )
        )
    return examples


def sources(folder: Path) -> tuple[str, ...]:
    """SHA-256 of the XQuAD-style files in `folder`: questions, then passages."""
    return (file_sha256(folder / XQUAD_QUESTIONS), file_sha256(folder / XQUAD_PASSAGES))


def windows(tokenizer, example: Example) -> list[Window]:
    """The question with each MAX_TOKENS window of its context (overlapping by STRIDE)."""
    encoded = tokenizer(
        QUERY_PREFIX + example.question,
        example.context,
        truncation="only_second",
        max_length=MAX_TOKENS,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    found = []
    for index, ids in enumerate(encoded["input_ids"]):
        offsets = encoded["offset_mapping"][index]
        inside = [i for i, part in enumerate(encoded.sequence_ids(index)) if part == 1]
        starts = [i for i in inside if offsets[i][0] <= example.start < offsets[i][1]]
        ends = [i for i in inside if offsets[i][0] < example.end <= offsets[i][1]]
        label = (starts[0], ends[-1]) if starts and ends else (0, 0)
        found.append(Window(tuple(ids), label))
    return found


def _reader_module(model_dir: Path, attention: str):
    import torch
    from transformers import BertModel

    class Reader(torch.nn.Module):
        """The encoder and a linear layer scoring each token as an answer's start and end."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel.from_pretrained(
                str(model_dir), add_pooling_layer=False, attn_implementation=attention
            )
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            return self.head(hidden)

    return Reader()


def _padded(rows: Sequence[Sequence[int]], pad: int):
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def train(examples: Sequence[Example], epochs: float = EPOCHS, seed: int = 0):
    """The reader (a torch module, input ids and mask in, start/end scores out) trained
    on `examples`: every window holding an answer, and some without one."""
    import torch
    from transformers import AutoTokenizer

    rng = random.Random(seed)
    torch.manual_seed(seed)
    model_dir = converted_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    data = [w for example in examples for w in windows(tokenizer, example)]
    positives = [w for w in data if w.label != (0, 0)]
    negatives = [w for w in data if w.label == (0, 0)]
    kept = min(len(negatives), int(len(positives) * NEGATIVE_SHARE))
    data = positives + rng.sample(negatives, kept)
    model = _reader_module(model_dir, "sdpa")
    bert = model.encoder
    log.warning(
        "Training the reader on %d questions (%d windows); about %.0f minutes on 2 cores.",
        len(examples),
        len(data),
        len(data) / BATCH * epochs * 3.6 / 60 + 2,
    )
    # The frozen layers' outputs, once per window.
    lower = []
    with torch.inference_mode():
        for first in range(0, len(data), 32):
            batch = data[first : first + 32]
            ids, mask = _padded([w.ids for w in batch], tokenizer.pad_token_id)
            states = bert(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            lower.extend(
                states.hidden_states[FROZEN][row, : len(w.ids)].clone()
                for row, w in enumerate(batch)
            )
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    upper = bert.encoder.layer[FROZEN:]
    trained = [*upper.parameters(), *model.head.parameters()]
    for parameter in trained:
        parameter.requires_grad_(True)
    optimiser = torch.optim.AdamW(trained, lr=RATE, weight_decay=0.01)
    steps = max(1, int(len(data) / BATCH * epochs))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1 - step / steps)
    )
    model.train()
    began, step, order = time.perf_counter(), 0, list(range(len(data)))
    while step < steps:
        rng.shuffle(order)
        for first in range(0, len(order) - BATCH + 1, BATCH):
            batch = order[first : first + BATCH]
            width = max(len(data[i].ids) for i in batch)
            hidden = torch.zeros(len(batch), width, bert.config.hidden_size)
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for row, i in enumerate(batch):
                hidden[row, : len(data[i].ids)] = lower[i]
                mask[row, : len(data[i].ids)] = 1
            attention = bert._create_attention_masks(mask, None, hidden, None, None)[0]
            for layer in upper:
                hidden = layer(hidden, attention_mask=attention)
            scores = model.head(hidden).masked_fill((mask == 0)[..., None], -1e4)
            labels = torch.tensor([data[i].label for i in batch])
            loss = (
                torch.nn.functional.cross_entropy(scores[..., 0], labels[:, 0])
                + torch.nn.functional.cross_entropy(scores[..., 1], labels[:, 1])
            ) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 25 == 0 or step == steps:
                log.warning(
                    "reader step %d/%d, loss %.2f, %.0f s",
                    step,
                    steps,
                    loss.item(),
                    time.perf_counter() - began,
                )
            if step == steps:
                break
    return model.eval()


def export(model, dest: Path, info: dict) -> None:
    """Write `model` to `dest` as an int8 ONNX graph with its tokenizer and `info`."""
    from models.onnx_e5 import copy_tokenizer, export_fused, quantize_int8

    model_dir = converted_model_dir()
    eager = _reader_module(model_dir, "eager")
    eager.load_state_dict(model.state_dict())
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp)
        export_fused(eager.eval(), eager.encoder.config, fp32, "scores")
        copy_tokenizer(model_dir, fp32)
        quantize_int8(fp32, dest)
    (dest / INFO_FILE).write_text(json.dumps(info), encoding="utf-8")


def verify(folder: Path, eval_dir: Path) -> None:
    """Refuse a reader (training and int8 export together) whose span overlaps the marked
    answer on fewer than MIN_OVERLAP of every ninth training question."""
    reader = SpanReader(folder)
    probes = read_xquad(eval_dir)[::9]
    hits = 0
    for example in probes:
        # The answer with 250 characters on each side: well inside MAX_TOKENS.
        first = max(0, example.start - 250)
        span = reader.read(example.question, example.context[first : example.end + 250])
        start, end = example.start - first, example.end - first
        hits += span is not None and span.start < end and start < span.end
    if hits < MIN_OVERLAP * len(probes):
        raise ModelNotAvailable(
            f"The trained reader finds only {hits} of {len(probes)} answers it learnt; "
            "delete its folder and train again."
        )


def install(
    eval_dir: Path, examples: Sequence[Example], extra_sources: tuple[str, ...] = ()
) -> Path:
    """The trained reader's folder in the user cache, trained on `examples` the first
    time. They hold the XQuAD-style set in `eval_dir` (which verifies the result), and
    may hold more, made from the files whose SHA-256 `extra_sources` gives."""
    found = (*sources(eval_dir), *extra_sources)
    info = {"questions": len(read_xquad(eval_dir)), "sources": list(found), "epochs": EPOCHS}
    return build_artifact(
        reader_dir(),
        reader_key(found),
        lambda out: export(train(examples), out, info),
        lambda out: verify(out, eval_dir),
        "the trained reader",
    )
