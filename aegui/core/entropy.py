# SPDX-License-Identifier: MIT
"""Integer probability tables and range coding of latents with constriction.

Every table is a vector of integer counts that sums to ``2**PRECISION``. The
tables are computed once, when a model is exported, and shipped inside its weights
file. Coding reads them as they are, so the encoder and the decoder see
bit-identical probabilities on every machine: no floating-point function of the
network's output decides a probability.

Symbols are coded grouped by table: all symbols that use table 0 in raster order,
then those that use table 1, and so on. The decoder can compute each symbol's table
before decoding (the channel for ``z``, the scale index for ``y``), so it can
rebuild the same order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import constriction
import numpy as np

PRECISION = 16
TOTAL = 1 << PRECISION


def quantize_pmf(probabilities: np.ndarray) -> np.ndarray:
    """Turn a float PMF into int32 counts that sum to ``TOTAL``, each at least 1.

    The largest-remainder method spreads the rounding error; counts freed or owed
    are taken from or given to the largest bins.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or p.size > TOTAL // 2:
        raise ValueError(f"Invalid PMF of shape {p.shape}")
    p = np.clip(p, 0.0, None)
    p = p / p.sum()
    spare = TOTAL - p.size  # every bin gets 1 for free
    scaled = p * spare
    counts = np.floor(scaled).astype(np.int64)
    remainder = spare - int(counts.sum())
    if remainder > 0:
        order = np.argsort(-(scaled - counts), kind="stable")
        counts[order[:remainder]] += 1
    counts += 1
    assert int(counts.sum()) == TOTAL
    return counts.astype(np.int32)


@dataclass
class TableSet:
    """Integer tables laid end to end.

    ``counts[offsets[i] : offsets[i] + lengths[i]]`` is table ``i``; its first
    entry is the probability of the symbol value ``minima[i]``.
    """

    counts: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    minima: np.ndarray
    _models: dict[int, object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_tables(cls, tables: list[np.ndarray], minima: list[int]) -> TableSet:
        """Lay out count tables and the symbol value of each table's first entry."""
        lengths = np.array([len(t) for t in tables], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        counts = np.concatenate(tables).astype(np.int32)
        return cls(counts, offsets, lengths, np.asarray(minima, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def maxima(self) -> np.ndarray:
        """Largest symbol value of each table."""
        return self.minima + self.lengths - 1

    def validate(self) -> None:
        """Raise ValueError unless every table is a well-formed count vector."""
        n = len(self.lengths)
        if self.offsets.shape != (n,) or self.minima.shape != (n,):
            raise ValueError("Table offsets, lengths and minima differ in length")
        if np.any(self.lengths < 2) or np.any(self.offsets < 0):
            raise ValueError("Table with fewer than two entries or a negative offset")
        if np.any(self.offsets + self.lengths > len(self.counts)):
            raise ValueError("Table extends past the end of the counts")
        for i in range(n):
            table = self.table(i)
            if np.any(table < 1) or int(table.sum(dtype=np.int64)) != TOTAL:
                raise ValueError(
                    f"Table {i} does not sum to {TOTAL} with positive counts"
                )

    def table(self, index: int) -> np.ndarray:
        """Return the counts of table ``index``."""
        start = int(self.offsets[index])
        return self.counts[start : start + int(self.lengths[index])]

    def model(self, index: int) -> object:
        """Return the constriction model of table ``index``, built once."""
        model = self._models.get(index)
        if model is None:
            # counts / 2**16 is exact in float64, so constriction receives the
            # same numbers on every machine.
            probabilities = self.table(index).astype(np.float64) / TOTAL
            model = constriction.stream.model.Categorical(probabilities, perfect=False)
            self._models[index] = model
        return model


def narrow_index(table_index: np.ndarray, tables: TableSet) -> np.ndarray:
    """Return ``table_index`` flattened as int16, the smallest type that fits every index."""
    if len(tables) > np.iinfo(np.int16).max:
        raise ValueError(f"Too many tables for int16 indexes: {len(tables)}")
    return table_index.reshape(-1).astype(np.int16, copy=False)


def encode_symbols(
    symbols: np.ndarray, table_index: np.ndarray, tables: TableSet
) -> bytes:
    """Range-code ``symbols`` (int, any shape), each with table ``table_index``.

    Symbols outside their table's support must have been clamped by the caller.
    """
    # Narrow types keep the sort's copies small: a 6000x4000 photo has 15
    # million latents, and each int64 copy of them takes 120 MB.
    flat_symbols = symbols.reshape(-1).astype(np.int32, copy=False)
    flat_index = narrow_index(table_index, tables)
    order = np.argsort(flat_index, kind="stable")
    sorted_index = flat_index[order]
    sorted_symbols = flat_symbols[order]
    boundaries = np.flatnonzero(np.diff(sorted_index)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(sorted_index)]])

    encoder = constriction.stream.queue.RangeEncoder()
    for start, end in zip(starts, ends, strict=True):
        if start == end:
            continue
        index = int(sorted_index[start])
        values = sorted_symbols[start:end] - tables.minima[index]
        if values.min() < 0 or values.max() >= tables.lengths[index]:
            raise ValueError(f"Symbol outside the support of table {index}")
        encoder.encode(values.astype(np.int32), tables.model(index))
    return encoder.get_compressed().astype("<u4").tobytes()


def decode_symbols(
    data: bytes,
    table_index: np.ndarray,
    tables: TableSet,
    cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Decode the symbols that ``encode_symbols`` wrote, shaped like ``table_index``."""
    if len(data) % 4:
        raise ValueError(f"Stream length {len(data)} is not a multiple of 4 bytes")
    words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
    if table_index.size and not words.size:
        # The encoder writes at least one word as soon as it codes a symbol.
        raise ValueError(f"empty stream for {table_index.size} symbols")
    decoder = constriction.stream.queue.RangeDecoder(words)
    flat_index = narrow_index(table_index, tables)
    order = np.argsort(flat_index, kind="stable")
    sorted_index = flat_index[order]
    counts = np.bincount(sorted_index, minlength=len(tables))
    # Symbols lie within their tables' supports, so int32 stores them in half
    # the memory of int64.
    result = np.empty(len(flat_index), dtype=np.int32)
    position = 0
    for index in np.flatnonzero(counts):
        if cancelled is not None and cancelled():
            raise InterruptedError("Decoding cancelled")
        amount = int(counts[index])
        values = decoder.decode(tables.model(int(index)), amount)
        result[order[position : position + amount]] = values + tables.minima[index]
        position += amount
    if not decoder.maybe_exhausted():
        raise ValueError("data left over after the last symbol")
    return result.reshape(table_index.shape)


def gaussian_tables(scales: np.ndarray, tail: float = 1e-9) -> TableSet:
    """Build zero-mean quantized Gaussian tables, one per scale.

    Each table covers ``[-R, R]`` with ``R`` the smallest bound whose two-sided
    tail mass is below ``tail``. The tail mass is folded into the end bins, so
    clamping a symbol to ``[-R, R]`` costs exactly the table's probability.
    """
    tables, minima = [], []
    for sigma in scales:
        bound = max(1, math.ceil(sigma * math.sqrt(2.0) * _erfc_inverse(tail) + 0.5))
        values = np.arange(-bound, bound + 1, dtype=np.float64)
        upper = _normal_cdf((values + 0.5) / sigma)
        lower = _normal_cdf((values - 0.5) / sigma)
        upper[-1], lower[0] = 1.0, 0.0
        tables.append(quantize_pmf(upper - lower))
        minima.append(-bound)
    return TableSet.from_tables(tables, minima)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    import torch

    values = torch.from_numpy(np.asarray(x, dtype=np.float64))
    return (0.5 * torch.special.erfc(-values / math.sqrt(2.0))).numpy()


def _erfc_inverse(p: float) -> float:
    """Return t with erfc(t) = p, by bisection (export time only)."""
    low, high = 0.0, 10.0
    for _ in range(100):
        middle = 0.5 * (low + high)
        if math.erfc(middle) > p:
            low = middle
        else:
            high = middle
    return high
