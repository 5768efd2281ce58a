"""Fit the span reader (qa/reader.py) on XQuAD-vi dev and print its cross-validated scores.

    HF_HUB_OFFLINE=1 python benchmarks/fit_reader.py [--eval ../shared/eval] [--index DIR]

Every question is searched and read as `ask` does; each candidate answer of a "what"
question is labelled by whether its token F1 with the gold answer reaches LABEL_F1, and a
logistic regression is fitted on their features (the other kinds keep the hand-set
ranking). The table gives EM / F1 by kind, withheld answers scoring 0, for the hand rules
alone on the same candidates, for 5-fold cross-validation with the folds grouped by
article (the part of passage_id before the dash: no article is scored by a model that saw
it), and for the model fitted on all questions, which is then printed as the INTERCEPT
and COEFFICIENTS to paste into qa/reader.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa.answer import MIN_CONFIDENCE, confidence, readings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluate import exact_match, read_questions, token_f1  # noqa: E402
from qa.question import WHAT, analyse  # noqa: E402
from qa.reader import FEATURES, Model, rank, sureness  # noqa: E402

FOLDS = 5
# Candidates at least this close to the gold answer are positives.
LABEL_F1 = 0.8
# Inverse regularisation strength, on standardised features.
COST = 0.1
Score = tuple[int, float, float]


@dataclass(frozen=True)
class Example:
    """One question's candidates: features, texts, passage evidence and gold answers."""

    kind: str
    article: str
    golds: tuple[str, ...]
    features: np.ndarray
    texts: tuple[str, ...]
    evidence: np.ndarray
    labels: np.ndarray


def collect(engine: Engine, questions_path: Path) -> list[Example]:
    """Every question's candidates, as `ask` finds them."""
    examples = []
    for question in read_questions(questions_path):
        understood = analyse(question.text)
        found = readings(understood, engine.search(question.text), engine.idf)
        texts = tuple(r.hit.text[r.span.start : r.span.end] for r in found)
        examples.append(
            Example(
                kind=understood.kind,
                article=str(question.doc).split("-")[0],
                golds=question.answers,
                features=np.array([r.features for r in found]).reshape(len(found), len(FEATURES)),
                texts=texts,
                evidence=np.array([r.evidence for r in found]),
                labels=np.array([token_f1(t, question.answers) >= LABEL_F1 for t in texts]),
            )
        )
    return examples


def fit(examples: list[Example]) -> Model:
    """Intercept and coefficients on the raw features (fitted on standardised ones), from
    the "what" questions: the others keep the hand-set ranking."""
    examples = [e for e in examples if e.kind == WHAT]
    features = np.vstack([e.features for e in examples])
    labels = np.concatenate([e.labels for e in examples])
    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=COST, max_iter=2000)
    model.fit((features - mean) / scale, labels)
    coefficients = model.coef_[0] / scale
    return float(model.intercept_[0] - coefficients @ mean), coefficients


def answer(example: Example, model: Model) -> str | None:
    """The text `extract_answer` would give with this model (None: not found)."""
    if not example.texts:
        return None
    ranks = [rank(features, example.kind, model) for features in example.features]
    best = max(range(len(ranks)), key=ranks.__getitem__)
    sure = sureness(example.features[best], example.kind)
    if confidence(float(example.evidence[best]), sure) < MIN_CONFIDENCE:
        return None
    return example.texts[best]


def scores(examples: list[Example], answers: list[str | None]) -> dict[str, Score]:
    """n, EM and F1 by question kind and over all."""
    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for example, text in zip(examples, answers, strict=True):
        golds = example.golds
        row = (0.0, 0.0) if text is None else (exact_match(text, golds), token_f1(text, golds))
        rows[example.kind].append(row)
        rows["all"].append(row)
    return {
        kind: (len(r), statistics.fmean(x[0] for x in r), statistics.fmean(x[1] for x in r))
        for kind, r in sorted(rows.items())
    }


def cross_validate(examples: list[Example]) -> list[str | None]:
    """Each question answered by the model fitted on the other articles' folds."""
    answers: list[str | None] = [None] * len(examples)
    groups = [e.article for e in examples]
    for train, test in GroupKFold(n_splits=FOLDS).split(examples, groups=groups):
        model = fit([examples[i] for i in train])
        for i in test:
            answers[i] = answer(examples[i], model)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--index", help="an index of xquad_vi_dev_passages.jsonl (else built)")
    args = parser.parse_args()
    if args.index:
        engine = Engine.load(args.index)
    else:
        engine = Engine.build([str(args.eval / "xquad_vi_dev_passages.jsonl")], progress=True)
    examples = collect(engine, args.eval / "xquad_vi_dev_questions.jsonl")
    held_out = scores(examples, cross_validate(examples))
    intercept, coefficients = fit(examples)
    fitted = scores(examples, [answer(e, (intercept, coefficients)) for e in examples])
    rules = scores(examples, [answer(e, (0.0, [0.0] * len(FEATURES))) for e in examples])
    print("EM / F1 by question kind: the hand rules alone, the reader in 5-fold CV by article,")
    print("and the reader fitted on all questions (a training-set score)")
    print(f"{'kind':8} {'n':>4} {'rules':>11} {'CV':>11} {'train':>11}")
    for kind, (n, em, f1) in held_out.items():
        row = [rules[kind][1:], (em, f1), fitted[kind][1:]]
        print(f"{kind:8} {n:4d} " + " ".join(f"{a:.3f}/{b:.3f}" for a, b in row))
    print(f"\nINTERCEPT = {intercept:.4f}\nCOEFFICIENTS: dict[str, float] = {{")
    for name, value in zip(FEATURES, coefficients, strict=True):
        print(f'    "{name}": {value:.4f},')
    print("}")


if __name__ == "__main__":
    main()
