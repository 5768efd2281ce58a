"""What the trained reader learns from, and the install step that trains it.

    python -m qa.reader_training --eval ../shared/eval [--samples samples]

The reader (models.span_reader_training) learns from the marked questions of an
XQuAD-style set and from cloze questions made from text: a sentence of one of its
passages, or of a report in `--samples`, with one typed span (a person, date,
administrative place or body from qa.candidates, a number, or the noun phrase after a
verb, from underthesea's part-of-speech tags, for "what") replaced by its question
word. Vietnamese leaves the question word where the answer stands ("Hội nghị do ai chủ
trì?"), so the cloze reads like a question; a share of its other words is dropped so
that copying the sentence is not enough. The span is the answer. On the 8 held-out
XQuAD-vi articles of fold 0 (benchmarks/train_reader.py), reading around the best
sentence as `ask` does, the reader trained on the other 658 questions scored F1 .509; with one
cloze per sentence beside them (297) .535, with two (483) .549. On the seed reports it
scored .522, .550 and .441; there `ask` reads only where the rules are weak
(qa.answer). The "what" clozes (867 clozes in all for fold 0 instead of 483, 955 for
fold 1 instead of 494) took `ask`'s held-out F1 from .493 to .507 on fold 0 and from .405
to .430 on fold 1 (session 12, same `ask`), for about 1.4x the training time.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Sequence
from pathlib import Path

from index.chunk import split_sentences
from index.normalize import compose
from models.base import file_sha256
from models.span_reader_training import XQUAD_QUESTIONS, Example, install, read_xquad
from qa.candidates import dates, organisations, people, places

# Clozes are made from sentences of this many words.
MIN_WORDS = 6
MAX_WORDS = 45
CLOZES_PER_SENTENCE = 2
# Share of the cloze's other words dropped.
DROPPED = 0.15
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*%?")
_PREPOSITION = re.compile(r"(?:^|\s)(?:ở|tại)\s*$")
# underthesea's part-of-speech tags: a "what" cloze asks for the noun phrase after a verb,
# from its first noun (or number, classifier, quantifier) through nouns, adjectives,
# pronouns and verbs that modify it ("xuất khẩu [dầu thô] của ...", "có [hai nhánh]").
_NOUN_TAGS = frozenset(("N", "Np", "Nc", "Nu", "Ny", "M", "L"))
_PHRASE_TAGS = _NOUN_TAGS | {"A", "P", "V"}
MAX_PHRASE_WORDS = 8
REPO = Path(__file__).resolve().parents[1]


def _tagged(sentence: str) -> list[tuple[int, int, str]]:
    """underthesea's words of `sentence` as (start, end, part-of-speech tag); none where a
    word cannot be found in the sentence as written (the tagger may respell it)."""
    from underthesea import pos_tag

    found, position = [], 0
    for word, tag in pos_tag(sentence):
        start = sentence.find(word, position)
        if start < 0:
            return []
        position = start + len(word)
        found.append((start, position, tag))
    return found


def _object_phrases(sentence: str) -> list[tuple[int, int]]:
    """Noun phrases right after a verb, of at most MAX_PHRASE_WORDS syllables."""
    words = _tagged(sentence)
    spans = []
    for first in range(1, len(words)):
        if words[first - 1][2] != "V" or words[first][2] not in _NOUN_TAGS:
            continue
        last = first
        while (
            last + 1 < len(words)
            and words[last + 1][2] in _PHRASE_TAGS
            and not words[last][2] == words[last + 1][2] == "V"
        ):
            last += 1
        while last > first and words[last][2] in ("V", "A"):
            last -= 1
        start, end = words[first][0], words[last][1]
        if len(sentence[start:end].split()) <= MAX_PHRASE_WORDS:
            spans.append((start, end))
    return spans


def _typed_spans(sentence: str) -> list[tuple[int, int, str]]:
    """Spans of `sentence` a cloze can ask for, with their question word."""
    spans = [(c.start, c.end, "ai") for c in people(sentence)]
    spans += [(c.start, c.end, "khi nào") for c in dates(sentence)]
    # Administrative places only: a capitalised run after "ở" is too often something else.
    spans += [(c.start, c.end, "đâu") for c in places(sentence) if c.prior >= 1.0]
    spans += [(c.start, c.end, "gì") for c in organisations(sentence)]
    # Numbers not inside a span above (the list on the right is built before it is added).
    spans += [
        (m.start(), m.end(), "bao nhiêu")
        for m in _NUMBER.finditer(sentence)
        if not any(start <= m.start() < end for start, end, _ in spans)
    ]
    spans += [
        (first, last, "gì")
        for first, last in _object_phrases(sentence)
        if not any(start < last and first < end for start, end, _ in spans)
    ]
    return spans


def clozes(text: str, source: str, rng: random.Random) -> list[Example]:
    """Cloze questions on the sentences of `text` (composed to NFC), answered in it."""
    text = compose(text).text
    found = []
    for sentence_span in split_sentences(text):
        sentence = text[sentence_span.start : sentence_span.end]
        if not MIN_WORDS <= len(sentence.split()) <= MAX_WORDS:
            continue
        spans = _typed_spans(sentence)
        for start, end, word in rng.sample(spans, min(CLOZES_PER_SENTENCE, len(spans))):
            before = sentence[:start]
            if word == "đâu" and not _PREPOSITION.search(before):
                word = "ở đâu"
            if not before.strip():
                word = word[0].upper() + word[1:]
            kept = [
                w
                for w in (before + f"\0{word}\0" + sentence[end:]).split()
                if "\0" in w or rng.random() >= DROPPED
            ]
            question = " ".join(kept).replace("\0", "").rstrip(" .;:!…") + "?"
            offset = sentence_span.start
            found.append(Example(question, text, offset + start, offset + end, source))
    return found


def training_set(examples: Sequence[Example], samples: Sequence[Path]) -> list[Example]:
    """`examples`, then clozes on each of their contexts and on each report in `samples`
    (the same every time: a fixed seed)."""
    rng = random.Random(0)
    contexts = dict.fromkeys((e.context, e.article) for e in examples)
    made = [c for context, article in contexts for c in clozes(context, article, rng)]
    for path in samples:
        made += clozes(path.read_text(encoding="utf-8"), path.stem, rng)
    return [*examples, *made]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, required=True, help="folder with XQuAD-vi files")
    parser.add_argument(
        "--samples", type=Path, default=REPO / "samples", help="folder of .txt reports"
    )
    args = parser.parse_args()
    if not (args.eval / XQUAD_QUESTIONS).is_file():
        raise SystemExit(f"No {XQUAD_QUESTIONS} in {args.eval}: nothing to train the reader on.")
    samples = sorted(args.samples.glob("*.txt"))
    folder = install(
        args.eval,
        training_set(read_xquad(args.eval), samples),
        tuple(file_sha256(path) for path in samples),
    )
    print(f"trained reader in {folder}")


if __name__ == "__main__":
    main()
