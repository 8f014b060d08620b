"""From words to vectors: tokens, embeddings and positions (chapter 1).

A language model's first step turns text into a sequence of integer ids and
each id into a vector: row ``ids[t]`` of an embedding matrix ``E`` (V, d).
This module builds that step from linear algebra:

* tokens — a word-level vocabulary with counts and an unknown token, and a
  minimal byte-pair-encoding (BPE) learner for subword tokens;
* one-hot vectors, and the lookup ``E[ids]`` that equals ``one_hot(ids) @ E``;
* the distributional view — a windowed co-occurrence matrix ``C`` (sparse),
  its positive pointwise mutual information ``PPMI`` and the truncated SVD of
  that (latent semantic analysis);
* skip-gram with negative sampling (SGNS), which implicitly factorizes the
  shifted PMI matrix (Levy & Goldberg, 2014);
* cosine similarity, nearest neighbours and analogies by vector arithmetic;
* positions — the sinusoidal encoding of Vaswani et al. (2017), for which
  ``PE(p + k) = R_k PE(p)`` with ``R_k`` a rotation, and rotary position
  embedding (RoPE, Su et al. 2021), a block-diagonal rotation of queries
  and keys that makes their dot product depend only on relative position.

Follows Baggag & Saad (2025), the section on tokens embedded in Euclidean space.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._progress import progress_bar
from ._validate import (
    as_float_array,
    as_int_array,
    as_sparse_or_dense,
    check_positive_float,
    check_finite_loss,
    check_positive_int,
    check_rng,
    check_shape,
)

__all__ = [
    # tokens
    "Vocab",
    "build_vocab",
    "encode",
    "decode",
    "learn_bpe",
    "bpe_tokenize",
    # one-hot and lookup
    "one_hot",
    "embed",
    # counts, PMI, SVD
    "cooccurrence",
    "ppmi",
    "pmi_dense",
    "svd_embeddings",
    # skip-gram
    "skipgram_pairs",
    "skipgram_loss_grad",
    "train_skipgram",
    # similarity and analogies
    "cosine_similarity",
    "nearest_neighbors",
    "analogy",
    "analogy_accuracy",
    # positions
    "positional_encoding",
    "position_rotation",
    "rope",
    "rope_matrix",
]


# ---------------------------------------------------------------------------
# Positions (placed first: chapter 3 builds on them)
# ---------------------------------------------------------------------------

def _frequencies(d: int, base: float) -> np.ndarray:
    """The angular frequencies ``ω_i = base^(-2i/d)``, i = 0 … ceil(d/2) - 1."""
    return base ** (-np.arange(0, d, 2, dtype=np.float64) / d)


def positional_encoding(n: int, d: int, base: float = 10000.0) -> np.ndarray:
    """Sinusoidal position encodings of Vaswani et al. (2017).

    .. math::

        PE[p, 2i] = \\sin(p\\,\\omega_i), \\qquad
        PE[p, 2i+1] = \\cos(p\\,\\omega_i), \\qquad
        \\omega_i = \\text{base}^{-2i/d}.

    Each pair of columns is a point on the unit circle turning at its own
    speed, so ``PE[p + k] = PE[p] @ position_rotation(k, d).T`` — shifting a
    position is a rotation — and ``PE[p] · PE[q]`` depends only on ``p − q``.

    Parameters
    ----------
    n : int
        Number of positions ``p = 0, …, n − 1``.
    d : int
        Model dimension (if odd, the last column is the sine of the last pair).
    base : float
        The wavelength scale (10000 in the paper).

    Returns
    -------
    PE : (n, d) float64

    Examples
    --------
    >>> positional_encoding(3, 4).shape
    (3, 4)
    >>> positional_encoding(1, 4)[0].tolist()
    [0.0, 1.0, 0.0, 1.0]

    Chapter 1 (positions); used by chapter 3 (transformers).
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    base = check_positive_float(base, "base")
    angles = np.arange(n, dtype=np.float64)[:, None] * _frequencies(d, base)[None, :]  # (n, ceil(d/2))
    PE = np.empty((n, 2 * angles.shape[1]))
    PE[:, 0::2] = np.sin(angles)
    PE[:, 1::2] = np.cos(angles)
    return PE[:, :d]


def position_rotation(k: float, d: int, base: float = 10000.0) -> np.ndarray:
    """The rotation ``R_k`` (d, d) with ``PE(p + k) = R_k PE(p)`` for every p.

    Block-diagonal with one 2×2 block per frequency ``ω_i`` acting on the pair
    ``(sin pω_i, cos pω_i)``:

    .. math::

        R_k = \\operatorname{diag}_i \\begin{pmatrix} \\cos k\\omega_i & \\sin k\\omega_i \\\\
                                          -\\sin k\\omega_i & \\cos k\\omega_i \\end{pmatrix}

    (from ``sin(a+b) = sin a cos b + cos a sin b`` and
    ``cos(a+b) = cos a cos b − sin a sin b``). ``R_k`` is orthogonal and does
    not depend on ``p``. For rows: ``PE[p + k] = PE[p] @ R_k.T``.

    Parameters
    ----------
    k : float
        The shift (any real number, negative allowed).
    d : int
        Model dimension; must be even.

    Returns
    -------
    R : (d, d) float64

    Examples
    --------
    >>> R = position_rotation(3, 4)
    >>> PE = positional_encoding(10, 4)
    >>> bool(np.allclose(PE[5] @ R.T, PE[8]))
    True

    Chapter 1 (positions).
    """
    if isinstance(k, (bool, np.bool_)) or not np.isscalar(k) or not np.isfinite(k):
        raise TypeError(f"k must be a finite real number; got {k!r}")
    d = _check_even_dim(d, "d")
    base = check_positive_float(base, "base")
    theta = float(k) * _frequencies(d, base)
    c, s = np.cos(theta), np.sin(theta)
    R = np.zeros((d, d))
    i = np.arange(0, d, 2)
    R[i, i], R[i, i + 1] = c, s
    R[i + 1, i], R[i + 1, i + 1] = -s, c
    return R


def _check_even_dim(d, name: str) -> int:
    d = check_positive_int(d, name)
    if d % 2:
        raise ValueError(f"{name} must be even (coordinates are rotated in pairs); got {d}")
    return d


def rope_matrix(p: float, d: int, base: float = 10000.0) -> np.ndarray:
    """The RoPE rotation ``R(p)`` (d, d) for position ``p`` (Su et al., 2021).

    Block-diagonal; block ``i`` rotates the pair ``(x_{2i}, x_{2i+1})`` by the
    angle ``p θ_i`` with ``θ_i = base^(-2i/d)``:

    .. math::

        R(p) = \\operatorname{diag}_i \\begin{pmatrix} \\cos p\\theta_i & -\\sin p\\theta_i \\\\
                                           \\sin p\\theta_i & \\cos p\\theta_i \\end{pmatrix}.

    Because ``R(p)ᵀ R(q) = R(q − p)``, the score ``(R(p) q)ᵀ (R(q) k)`` depends
    only on ``q − p``. Nobody forms this matrix in practice — :func:`rope` applies
    it in O(d) per vector — but it shows what RoPE is.

    Returns
    -------
    R : (d, d) float64

    Examples
    --------
    >>> R = rope_matrix(2.0, 4)
    >>> bool(np.allclose(R.T @ R, np.eye(4)))
    True

    Chapter 1 (positions).
    """
    if isinstance(p, (bool, np.bool_)) or not np.isscalar(p) or not np.isfinite(p):
        raise TypeError(f"p must be a finite real number; got {p!r}")
    return _rope_block(float(p), _check_even_dim(d, "d"), check_positive_float(base, "base"))


def _rope_block(p: float, d: int, base: float) -> np.ndarray:
    theta = p * _frequencies(d, base)
    c, s = np.cos(theta), np.sin(theta)
    R = np.zeros((d, d))
    i = np.arange(0, d, 2)
    R[i, i], R[i, i + 1] = c, -s
    R[i + 1, i], R[i + 1, i + 1] = s, c
    return R


def rope(X, positions=None, base: float = 10000.0) -> np.ndarray:
    """Rotary position embedding: rotate row ``p`` of ``X`` by ``R(positions[p])``.

    For each pair of coordinates ``(x_{2i}, x_{2i+1})`` of a row at position p,

    .. math::

        \\begin{pmatrix} x'_{2i} \\\\ x'_{2i+1} \\end{pmatrix} =
        \\begin{pmatrix} \\cos p\\theta_i & -\\sin p\\theta_i \\\\
                         \\sin p\\theta_i & \\cos p\\theta_i \\end{pmatrix}
        \\begin{pmatrix} x_{2i} \\\\ x_{2i+1} \\end{pmatrix}, \\qquad
        \\theta_i = \\text{base}^{-2i/d},

    i.e. ``X'[p] = R(p) X[p]`` with ``R(p) = rope_matrix(p, d)``, computed pair by
    pair without forming ``R``. Applied to queries and keys, the score
    ``rope(Q)[p] · rope(K)[q] = Q[p]ᵀ R(q − p) K[q]`` depends on positions only
    through ``q − p``.

    Parameters
    ----------
    X : (..., n, d) array, d even
        Rows to rotate (leading axes, e.g. heads, are broadcast over).
        float32 is kept as float32.
    positions : (n,) array of numbers, optional
        Position of each row; default ``0, 1, …, n − 1``.
    base : float
        Frequency scale (10000 in the paper).

    Returns
    -------
    X_rot : same shape and dtype as X

    Examples
    --------
    >>> X = np.ones((3, 2))
    >>> np.round(rope(X), 3).tolist()[1]
    [-0.301, 1.382]

    Chapter 1 (positions); used by chapter 3 (attention).
    """
    X = as_float_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d); got {X.ndim}-D with shape {X.shape}")
    n, d = X.shape[-2], X.shape[-1]
    if d % 2:
        raise ValueError(f"X must have an even number of columns d (pairs are rotated); got d = {d}")
    base = check_positive_float(base, "base")
    if positions is None:
        pos = np.arange(n, dtype=np.float64)
    else:
        pos = as_float_array(positions, "positions", ndim=1)
        check_shape(pos, "positions", (n,), why="one position per row of X")
    theta = pos[:, None] * _frequencies(d, base)[None, :]  # (n, d/2)
    c, s = np.cos(theta).astype(X.dtype), np.sin(theta).astype(X.dtype)
    x_even, x_odd = X[..., 0::2], X[..., 1::2]
    out = np.empty_like(X)
    out[..., 0::2] = x_even * c - x_odd * s
    out[..., 1::2] = x_even * s + x_odd * c
    return out


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------

@dataclass
class Vocab:
    """A word-level vocabulary: id → token (``itos``), token → id (``stoi``), counts.

    Id 0 is the unknown token; ``counts[0]`` is the number of corpus tokens
    that were mapped to it. Ids 1, 2, … are in order of decreasing count.
    """

    itos: list
    counts: np.ndarray
    unk: str = "<unk>"
    stoi: dict = field(init=False, repr=False)

    def __post_init__(self):
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, unk={self.unk!r}, tokens covered={int(self.counts.sum())})"


def _check_tokens(tokens, name: str = "tokens") -> list:
    if isinstance(tokens, str):
        raise TypeError(f"{name} must be a sequence of token strings, not one string; "
                        f"split it first, e.g. text.split()")
    try:
        tokens = list(tokens)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of strings; got {type(tokens).__name__}") from None
    if not tokens:
        raise ValueError(f"{name} must not be empty; got 0 tokens")
    bad = next((t for t in tokens if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"{name} must hold strings; got an item {bad!r} of type {type(bad).__name__}")
    return tokens


def build_vocab(tokens: Sequence[str], min_count: int = 1, max_size: int | None = None,
                unk: str = "<unk>") -> Vocab:
    """Count the tokens and keep the frequent ones; the rest become ``unk``.

    A token is kept if it occurs at least ``min_count`` times (and is among
    the ``max_size − 1`` most frequent). Id 0 is reserved for ``unk``; kept
    tokens get ids 1, 2, … by decreasing count (ties in order of first
    appearance).

    Parameters
    ----------
    tokens : sequence of str, length N > 0
    min_count : int >= 1
    max_size : int >= 2, optional
        Largest vocabulary size, the unknown token included.
    unk : str
        The unknown token (must not itself occur in ``tokens``).

    Returns
    -------
    Vocab
        with ``counts[i]`` the number of corpus tokens mapped to id ``i``
        (``counts.sum() == N``).

    Examples
    --------
    >>> v = build_vocab("a b a c a b".split(), min_count=2)
    >>> v.itos, v.counts.tolist()
    (['<unk>', 'a', 'b'], [1, 3, 2])

    Chapter 1 (tokens).
    """
    tokens = _check_tokens(tokens)
    min_count = check_positive_int(min_count, "min_count")
    if max_size is not None:
        max_size = check_positive_int(max_size, "max_size")
        if max_size < 2:
            raise ValueError(f"max_size must be >= 2 (the unknown token and one word); got {max_size}")
    if not isinstance(unk, str):
        raise TypeError(f"unk must be a string; got {type(unk).__name__}")
    counts = Counter(tokens)
    if unk in counts:
        raise ValueError(f"unk={unk!r} occurs in tokens; choose an unknown token that is not a word")
    kept = [(t, c) for t, c in counts.most_common() if c >= min_count]
    if max_size is not None:
        kept = kept[: max_size - 1]
    n_unk = len(tokens) - sum(c for _, c in kept)
    return Vocab([unk] + [t for t, _ in kept], np.array([n_unk] + [c for _, c in kept], dtype=np.int64), unk)


def _check_vocab(vocab) -> Vocab:
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab (from build_vocab); got {type(vocab).__name__}")
    return vocab


def encode(tokens: Sequence[str], vocab: Vocab) -> np.ndarray:
    """Map tokens to ids; tokens not in the vocabulary get id 0 (unknown).

    Returns
    -------
    ids : (N,) int64

    Examples
    --------
    >>> v = build_vocab("a b a".split())
    >>> encode(["a", "b", "z"], v).tolist()
    [1, 2, 0]

    Chapter 1 (tokens).
    """
    tokens = _check_tokens(tokens)
    stoi = _check_vocab(vocab).stoi
    return np.fromiter((stoi.get(t, 0) for t in tokens), dtype=np.int64, count=len(tokens))


def decode(ids, vocab: Vocab) -> list:
    """Map ids back to tokens (the unknown id gives the unknown token).

    Examples
    --------
    >>> v = build_vocab("a b a".split())
    >>> decode([1, 0, 2], v)
    ['a', '<unk>', 'b']

    Chapter 1 (tokens).
    """
    vocab = _check_vocab(vocab)
    ids = as_int_array(ids, "ids", ndim=1, low=0, high=len(vocab))
    return [vocab.itos[i] for i in ids]


_EOW = "</w>"


def _check_word_counts(word_counts) -> dict:
    if isinstance(word_counts, dict):
        items = dict(word_counts)
    else:
        items = Counter(_check_tokens(word_counts, "word_counts"))
    if not items:
        raise ValueError("word_counts must not be empty")
    for w, c in items.items():
        if not isinstance(w, str) or not w:
            raise TypeError(f"word_counts keys must be non-empty strings; got {w!r}")
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1:
            raise ValueError(f"word_counts values must be positive integers; got {c!r} for {w!r}")
    return items


def learn_bpe(word_counts, n_merges: int) -> list:
    """Learn byte-pair-encoding merges (Sennrich et al., 2016), a minimal version.

    Start from each word as a sequence of characters followed by the end-of-word
    symbol ``</w>``. Repeatedly find the most frequent adjacent pair of symbols
    (counting each word as often as it occurs) and merge it into a new symbol.
    Ties are broken by the pair that sorts first, so the result is reproducible.
    Stops early when no pair occurs twice.

    Parameters
    ----------
    word_counts : dict of str → int, or a sequence of words (counted)
    n_merges : int >= 1

    Returns
    -------
    merges : list of (str, str)
        The merges in the order learned.

    Examples
    --------
    >>> learn_bpe({"low": 5, "lower": 2, "lowest": 3}, 2)
    [('l', 'o'), ('lo', 'w')]

    Chapter 1 (tokens).
    """
    counts = _check_word_counts(word_counts)
    n_merges = check_positive_int(n_merges, "n_merges")
    words = {tuple(w) + (_EOW,): c for w, c in counts.items()}
    merges = []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for symbols, c in words.items():
            for pair in zip(symbols[:-1], symbols[1:]):
                pairs[pair] += c
        if not pairs:
            break
        best_count = max(pairs.values())
        if best_count < 2:
            break
        best = min(p for p, c in pairs.items() if c == best_count)
        merges.append(best)
        words = {_merge_pair(symbols, best): c for symbols, c in words.items()}
    return merges


def _merge_pair(symbols: tuple, pair: tuple) -> tuple:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def bpe_tokenize(word: str, merges: Sequence[tuple]) -> list:
    """Split one word into subword tokens by replaying the learned merges in order.

    Examples
    --------
    >>> bpe_tokenize("lowest", [('l', 'o'), ('lo', 'w'), ('e', 's')])
    ['low', 'es', 't', '</w>']

    Chapter 1 (tokens).
    """
    if not isinstance(word, str) or not word:
        raise TypeError(f"word must be a non-empty string; got {word!r}")
    symbols = tuple(word) + (_EOW,)
    for pair in merges:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"merges must be a list of (str, str) pairs; got an item {pair!r}")
        symbols = _merge_pair(symbols, pair)
    return list(symbols)


# ---------------------------------------------------------------------------
# One-hot vectors and the embedding lookup
# ---------------------------------------------------------------------------

def one_hot(ids, vocab_size: int, sparse: bool = False):
    """One-hot matrix: row t is the standard basis vector ``e_{ids[t]}``.

    .. math:: X[t, j] = 1 \\text{ if } j = \\text{ids}[t] \\text{ else } 0,
              \\qquad X\\,E = E[\\text{ids}].

    Multiplying by ``X`` selects rows of an embedding matrix ``E``: that is
    what an embedding layer computes, but by indexing (O(n d)) rather than by
    the product (O(n V d)).

    Parameters
    ----------
    ids : (n,) int
        Token ids, ``0 <= ids < vocab_size``.
    vocab_size : int
    sparse : bool
        Return a ``scipy.sparse.csr_array`` instead of a dense array.

    Returns
    -------
    X : (n, vocab_size) float64 (dense or CSR)

    Examples
    --------
    >>> one_hot([2, 0], 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]

    Chapter 1 (one-hot vectors).
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    ids = as_int_array(ids, "ids", ndim=1, low=0, high=vocab_size)
    n = ids.size
    if sparse:
        return sp.csr_array((np.ones(n), ids, np.arange(n + 1)), shape=(n, vocab_size))
    X = np.zeros((n, vocab_size))
    X[np.arange(n), ids] = 1.0
    return X


def embed(ids, E) -> np.ndarray:
    """Embedding lookup ``E[ids]`` — the rows of ``E`` picked by the ids.

    Equal to ``one_hot(ids, V) @ E`` without forming the one-hot matrix.

    Parameters
    ----------
    ids : int array of any shape, values in [0, V)
    E : (V, d)

    Returns
    -------
    (*ids.shape, d), dtype of E

    Examples
    --------
    >>> embed([1, 1], np.eye(2)).tolist()
    [[0.0, 1.0], [0.0, 1.0]]

    Chapter 1 (one-hot vectors).
    """
    E = as_float_array(E, "E", ndim=2)
    ids = as_int_array(ids, "ids", low=0, high=E.shape[0])
    return E[ids]


# ---------------------------------------------------------------------------
# Co-occurrence, PMI and the SVD
# ---------------------------------------------------------------------------

def cooccurrence(ids, vocab_size: int, window: int, weighting: str = "uniform") -> sp.csr_array:
    """Symmetric windowed co-occurrence counts as a sparse matrix.

    .. math::

        C_{ij} = \\sum_{s \\ne t,\\ |s - t| \\le w} [\\text{ids}_s = i]\\,[\\text{ids}_t = j]

    counts every ordered pair of positions at distance at most ``window``
    (so ``C`` is symmetric and ``C.sum() == 2 Σ_{o=1}^{w} (N − o)``). With
    ``weighting="harmonic"`` a pair at distance o counts ``1/o`` (as in GloVe).

    Vectorized over tokens: one pass per offset ``o = 1 … w`` pairs
    ``ids[:-o]`` with ``ids[o:]``; duplicates are summed when the COO triples
    become CSR. Never densifies the V × V matrix.

    Parameters
    ----------
    ids : (N,) int, N >= 2, values in [0, vocab_size)
    vocab_size : int
    window : int >= 1
    weighting : {"uniform", "harmonic"}

    Returns
    -------
    C : (vocab_size, vocab_size) scipy.sparse.csr_array, float64

    Examples
    --------
    >>> cooccurrence([0, 1, 2], 3, window=1).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]

    Chapter 1 (co-occurrence).
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    window = check_positive_int(window, "window")
    if weighting not in ("uniform", "harmonic"):
        raise ValueError(f"weighting must be one of 'uniform', 'harmonic'; got {weighting!r}")
    ids = as_int_array(ids, "ids", ndim=1, low=0, high=vocab_size)
    if ids.size < 2:
        raise ValueError(f"ids must hold at least 2 tokens to have co-occurrences; got {ids.size}")
    w = min(window, ids.size - 1)
    # Small index type and one flat key per pair: the sort that sums duplicates is the cost.
    idx = ids.astype(np.int32 if vocab_size < 2**31 else np.int64)
    rows = np.concatenate([idx[:-o] for o in range(1, w + 1)])
    cols = np.concatenate([idx[o:] for o in range(1, w + 1)])
    if weighting == "uniform":
        data = np.ones(rows.size)
    else:
        data = np.concatenate([np.full(ids.size - o, 1.0 / o) for o in range(1, w + 1)])
    P = sp.coo_array((data, (rows, cols)), shape=(vocab_size, vocab_size)).tocsr()  # sums duplicates
    C = (P + P.T).tocsr()  # pairs seen left→right plus right→left: symmetric
    C.sum_duplicates()
    return C


def _marginals(C, alpha: float):
    """Row sums, smoothed column probabilities and total of a count matrix."""
    row = np.asarray(C.sum(axis=1)).ravel()
    col = np.asarray(C.sum(axis=0)).ravel()
    total = row.sum()
    col_a = col ** alpha
    p_col = col_a / col_a.sum()
    return row, p_col, total


def _check_counts(C, name="C"):
    C = as_sparse_or_dense(C, name, square=False)
    data = C.data if sp.issparse(C) else C
    if data.size and data.min() < 0:
        raise ValueError(f"{name} must hold non-negative counts; got a value {data.min():g}")
    if (C.sum() if sp.issparse(C) else data.sum()) <= 0:
        raise ValueError(f"{name} must have at least one positive count; got all zeros")
    return C


def ppmi(C, alpha: float = 1.0, shift: float = 0.0):
    """Positive pointwise mutual information of a count matrix.

    .. math::

        \\mathrm{PMI}_{ij} = \\log \\frac{C_{ij}\\, T}{r_i\\, c_j},\\qquad
        \\mathrm{PPMI}_{ij} = \\max(\\mathrm{PMI}_{ij} - s,\\ 0)

    with ``T = Σ C``, ``r_i = Σ_j C_ij``, ``c_j = Σ_i C_ij``. With ``alpha < 1``
    the context probability ``c_j / T`` becomes ``c_j^α / Σ c^α`` (context
    distribution smoothing, Levy et al. 2015); ``shift = log K`` gives the
    shifted PPMI that skip-gram with K negatives approximates.

    Entries with ``C_ij = 0`` (PMI = −∞) are 0. A sparse ``C`` gives a sparse
    result with the same pattern or fewer entries — never densified; a dense
    ``C`` gives a dense result.

    Parameters
    ----------
    C : (V, V') non-negative counts, dense or scipy.sparse
    alpha : float in (0, 1]
    shift : float >= 0

    Returns
    -------
    M : (V, V') csr_array (sparse input) or ndarray (dense input), float64

    Examples
    --------
    >>> np.round(ppmi(np.array([[2., 0.], [0., 2.]])), 3).tolist()
    [[0.693, 0.0], [0.0, 0.693]]

    Chapter 1 (PPMI).
    """
    C = _check_counts(C)
    alpha = check_positive_float(alpha, "alpha")
    if alpha > 1:
        raise ValueError(f"alpha must lie in (0, 1]; got {alpha}")
    shift = check_positive_float(shift, "shift", allow_zero=True)
    row, p_col, total = _marginals(C, alpha)
    if sp.issparse(C):
        Cc = C.tocoo()
        keep = Cc.data > 0
        i, j, cij = Cc.row[keep], Cc.col[keep], Cc.data[keep].astype(np.float64)
        vals = np.log(cij) - np.log(row[i]) - np.log(p_col[j]) - shift  # log(C T / (r T p)) = log(C / (r p))
        pos = vals > 0
        return sp.csr_array((vals[pos], (i[pos], j[pos])), shape=C.shape)
    M = np.zeros(C.shape)
    i, j = np.nonzero(C > 0)
    vals = np.log(C[i, j]) - np.log(row[i]) - np.log(p_col[j]) - shift
    M[i, j] = np.maximum(vals, 0.0)
    return M


def pmi_dense(C, alpha: float = 1.0) -> np.ndarray:
    """The full PMI matrix as a dense array, with ``−inf`` where ``C_ij = 0``.

    Densifies (V × V): meant for small vocabularies and for comparing against
    skip-gram scores; see :func:`ppmi` for the formula.

    Returns
    -------
    PMI : (V, V') float64 ndarray

    Examples
    --------
    >>> pmi_dense(np.array([[1., 1.], [1., 0.]]))[1, 1]
    np.float64(-inf)

    Chapter 1 (skip-gram as matrix factorization).
    """
    C = _check_counts(C)
    alpha = check_positive_float(alpha, "alpha")
    if alpha > 1:
        raise ValueError(f"alpha must lie in (0, 1]; got {alpha}")
    row, p_col, _ = _marginals(C, alpha)
    Cd = C.toarray() if sp.issparse(C) else C
    out = np.full(Cd.shape, -np.inf)
    i, j = np.nonzero(Cd > 0)
    out[i, j] = np.log(Cd[i, j]) - np.log(row[i]) - np.log(p_col[j])
    return out


def svd_embeddings(M, k: int, power: float = 0.5, return_svd: bool = False):
    """Word vectors from the truncated SVD of ``M`` (e.g. PPMI): latent semantic analysis.

    .. math::

        M \\approx U_k \\Sigma_k V_k^T, \\qquad W = U_k\\, \\Sigma_k^{\\,p}

    The best rank-k approximation of ``M`` (Eckart–Young) keeps the k largest
    singular triplets. ``p = 1`` gives ``W Wᵀ ≈ M Mᵀ``'s best rank-k part;
    ``p = 1/2`` (the default) splits Σ evenly between words and contexts and
    usually gives better similarities (Levy, Goldberg & Dagan, 2015).

    Dense ``M``: ``numpy.linalg.svd``. Sparse ``M``: ``scipy.sparse.linalg.svds``
    (ARPACK, deterministic start), never densified. Signs are fixed so that the
    largest-magnitude entry of each column of U is positive, which makes the
    result reproducible.

    Parameters
    ----------
    M : (V, V') dense or scipy.sparse
    k : int, 1 <= k <= min(V, V') (sparse: k < min(V, V'))
    power : float >= 0
    return_svd : bool
        Also return ``(U_k, s_k, Vt_k)``, with s descending.

    Returns
    -------
    W : (V, k) float64
    (U, s, Vt) : (V, k), (k,), (k, V') if ``return_svd``

    Examples
    --------
    >>> W = svd_embeddings(np.diag([3.0, 2.0, 1.0]), 2, power=1.0)
    >>> np.abs(W).round(3).tolist()
    [[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]]

    Chapter 1 (SVD embeddings).
    """
    M = as_sparse_or_dense(M, "M")
    lim = min(M.shape) - (1 if sp.issparse(M) else 0)
    why = ("ARPACK needs k < min(M.shape) for sparse M" if sp.issparse(M)
           else "k <= min(M.shape)")
    k = check_positive_int(k, "k", maximum=lim, why=why)
    power = check_positive_float(power, "power", allow_zero=True)
    if sp.issparse(M):
        v0 = np.ones(min(M.shape)) / np.sqrt(min(M.shape))  # fixed start vector: reproducible
        U, s, Vt = spla.svds(M.astype(np.float64), k=k, v0=v0)
        order = np.argsort(s)[::-1]
        U, s, Vt = U[:, order], s[order], Vt[order]
    else:
        U, s, Vt = np.linalg.svd(M.astype(np.float64), full_matrices=False)
        U, s, Vt = U[:, :k], s[:k], Vt[:k]
    # sign convention: largest |U_ij| in each column positive
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(k)])
    signs[signs == 0] = 1.0
    U, Vt = U * signs, Vt * signs[:, None]
    W = U * s ** power
    return (W, (U, s, Vt)) if return_svd else W


# ---------------------------------------------------------------------------
# Skip-gram with negative sampling
# ---------------------------------------------------------------------------

def skipgram_pairs(ids, window: int):
    """All (center, context) pairs at distance 1 … window, vectorized.

    Their counts are exactly the co-occurrence matrix:
    ``cooccurrence(ids, V, window)[i, j]`` = number of pairs ``(i, j)``.

    Returns
    -------
    centers, contexts : (P,) int arrays with ``P = 2 Σ_o (N − o)``

    Examples
    --------
    >>> [a.tolist() for a in skipgram_pairs([5, 6, 7], 1)]
    [[5, 6, 6, 7], [6, 7, 5, 6]]

    Chapter 1 (skip-gram).
    """
    window = check_positive_int(window, "window")
    ids = as_int_array(ids, "ids", ndim=1, low=0)
    if ids.size < 2:
        raise ValueError(f"ids must hold at least 2 tokens; got {ids.size}")
    w = min(window, ids.size - 1)
    left = np.concatenate([ids[:-o] for o in range(1, w + 1)])
    right = np.concatenate([ids[o:] for o in range(1, w + 1)])
    return np.concatenate([left, right]), np.concatenate([right, left])


def _log_sigmoid(x):
    """log σ(x) = −log(1 + e^{−x}), stable for large |x|."""
    return -np.logaddexp(0.0, -x)


def _sigmoid(x):
    """σ(x) without overflow: exp of a non-positive number only."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sgns_batch(W, Cm, centers, contexts, negatives):
    """Loss (summed) and per-row gradients for one minibatch of SGNS pairs."""
    w = W[centers]                                   # (B, d)  center vectors
    c = Cm[contexts]                                 # (B, d)  true context vectors
    n = Cm[negatives]                                # (B, K, d) negative context vectors
    s_pos = np.einsum("bd,bd->b", w, c)              # (B,)
    s_neg = (n @ w[:, :, None])[:, :, 0]             # (B, K), a batched matrix-vector product
    loss = -_log_sigmoid(s_pos).sum() - _log_sigmoid(-s_neg).sum()
    g_pos = _sigmoid(s_pos) - 1.0                    # dL/ds_pos = −(1 − σ(s))
    g_neg = _sigmoid(s_neg)                          # dL/ds_neg = σ(s)
    grad_w = g_pos[:, None] * c + (g_neg[:, None, :] @ n)[:, 0, :]
    grad_c = g_pos[:, None] * w
    grad_n = g_neg[:, :, None] * w[:, None, :]
    return loss, grad_w, grad_c, grad_n


def _scatter_rows(rows, G, n_rows):
    """Σ of the rows of G landing on each index: ``S @ G`` with S the (n_rows, m) 0/1 matrix.

    The same as ``np.add.at(out, rows, G)`` but through a sparse product, which is
    several times faster for the many repeated indices of a minibatch.
    """
    m = rows.size
    S = sp.csr_array((np.ones(m, dtype=G.dtype), (rows, np.arange(m))), shape=(n_rows, m))
    return S @ G


def _check_sgns_params(params):
    if not isinstance(params, dict) or "W" not in params or "C" not in params:
        raise TypeError("params must be a dict with arrays 'W' (V, d) and 'C' (V, d)")
    W = as_float_array(params["W"], "params['W']", ndim=2)
    Cm = as_float_array(params["C"], "params['C']", ndim=2)
    check_shape(Cm, "params['C']", W.shape, why="same shape as params['W']")
    return W, Cm


def skipgram_loss_grad(params, centers, contexts, negatives):
    """Skip-gram negative-sampling loss of a batch and its gradient.

    .. math::

        L = -\\sum_b \\Big[\\log \\sigma(w_{i_b}^T c_{j_b})
              + \\sum_{m=1}^K \\log \\sigma(-w_{i_b}^T c_{n_{bm}})\\Big]

    with ``w_i`` row i of ``W`` (word vectors) and ``c_j`` row j of ``C``
    (context vectors). With ``s = wᵀc``: ``∂L/∂s_pos = σ(s) − 1`` and
    ``∂L/∂s_neg = σ(s)``, so ``∂L/∂w = (σ(s_pos) − 1) c + Σ_m σ(s_m) c_{n_m}``, etc.
    ``log σ`` is computed as ``−logaddexp(0, −s)``: no overflow.

    Parameters
    ----------
    params : dict with ``W`` (V, d) and ``C`` (V, d)
    centers, contexts : (B,) int in [0, V)
    negatives : (B, K) int in [0, V)

    Returns
    -------
    loss : float
        Summed over the batch.
    grads : dict with ``W`` (V, d) and ``C`` (V, d)
        Dense gradients (rows not in the batch are zero).

    Examples
    --------
    >>> p = {"W": np.zeros((3, 2)), "C": np.zeros((3, 2))}
    >>> loss, g = skipgram_loss_grad(p, [0], [1], [[2]])
    >>> round(loss, 4)   # 2 log 2: every probability is 1/2 at zero
    1.3863

    Chapter 1 (skip-gram).
    """
    W, Cm = _check_sgns_params(params)
    V = W.shape[0]
    centers = as_int_array(centers, "centers", ndim=1, low=0, high=V)
    contexts = as_int_array(contexts, "contexts", ndim=1, low=0, high=V)
    negatives = as_int_array(negatives, "negatives", ndim=2, low=0, high=V)
    check_shape(contexts, "contexts", centers.shape, why="one context per center")
    check_shape(negatives, "negatives", (centers.size, None), why="one row of negatives per center")
    loss, gw, gc, gn = _sgns_batch(W, Cm, centers, contexts, negatives)
    V, d = W.shape
    GW = _scatter_rows(centers, gw, V)
    GC = _scatter_rows(np.concatenate([contexts, negatives.ravel()]),
                       np.concatenate([gc, gn.reshape(-1, d)]), V)
    return float(loss), {"W": GW, "C": GC}


def train_skipgram(ids, vocab_size: int, dim: int = 50, window: int = 2, negatives: int = 5,
                   epochs: int = 2, lr: float = 0.1, batch_size: int = 1024, alpha: float = 0.75,
                   rng=None, progress: bool = True):
    """Train skip-gram with negative sampling (Mikolov et al., 2013) in NumPy.

    Every (center, context) pair at distance ≤ ``window`` (the pairs counted by
    :func:`cooccurrence`) is a positive example; ``negatives`` contexts per pair
    are drawn from the unigram distribution raised to ``alpha``. Each minibatch
    computes :func:`skipgram_loss_grad` (vectorized: gathers, batched products
    and one sparse scatter per matrix) and takes an Adagrad step (per-coordinate
    step ``lr / sqrt(Σ past g²)``): word frequencies span orders of magnitude, and a
    plain SGD step that suits rare rows diverges on frequent ones.

    At the optimum, Levy & Goldberg (2014) show ``w_i · c_j = PMI_ij − log K``
    (K = ``negatives``, context probabilities smoothed by ``alpha``) — reachable
    for every pair only when ``dim`` reaches the rank of that matrix. With
    ``dim < V`` SGNS is a weighted rank-``dim`` fit of the shifted PMI matrix,
    weighted toward frequent pairs (chapter 1, §8).

    Parameters
    ----------
    ids : (N,) int token ids in [0, vocab_size)
    vocab_size : int
    dim : int
        Embedding dimension d.
    window, negatives, epochs, batch_size : int >= 1
    lr : float > 0
        Adagrad step size.
    alpha : float in (0, 1]
        Power of the unigram noise distribution.
    rng : numpy.random.Generator, optional
    progress : bool
        Show a ``tqdm`` progress bar over batches.

    Returns
    -------
    params : dict with ``W`` (V, d) word vectors and ``C`` (V, d) context vectors
    history : dict with ``loss`` (mean loss per pair, one value per 1% of training)

    Raises
    ------
    DivergedError
        (from ``lalib._validate``) as soon as a minibatch's loss is NaN or ±inf,
        naming the epoch and the batch — never a run of NaN epochs.

    Examples
    --------
    >>> ids = np.tile([0, 1, 2, 3], 50)
    >>> params, hist = train_skipgram(ids, 4, dim=4, epochs=1, rng=np.random.default_rng(0),
    ...                               progress=False)
    >>> params["W"].shape
    (4, 4)

    Chapter 1 (skip-gram).
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    ids = as_int_array(ids, "ids", ndim=1, low=0, high=vocab_size)
    dim = check_positive_int(dim, "dim")
    window = check_positive_int(window, "window")
    K = check_positive_int(negatives, "negatives")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(lr, "lr")
    alpha = check_positive_float(alpha, "alpha")
    if alpha > 1:
        raise ValueError(f"alpha must lie in (0, 1]; got {alpha}")
    rng = check_rng(rng)
    centers, contexts = skipgram_pairs(ids, window)

    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    noise = counts ** alpha
    noise_cdf = np.cumsum(noise / noise.sum())
    noise_cdf[-1] = 1.0

    # word2vec's initialization: small random W, zero C.
    W = (rng.random((vocab_size, dim)) - 0.5) / dim
    Cm = np.zeros((vocab_size, dim))
    # Adagrad accumulators: word frequencies differ by orders of magnitude, so a
    # frequent row would get hundreds of gradient terms per batch and a plain SGD
    # step that suits rare rows would blow it up; Adagrad scales each coordinate.
    GW, GC = np.zeros_like(W), np.zeros_like(Cm)
    P = centers.size
    n_batches = -(-P // batch_size)
    total = epochs * n_batches
    record_every = max(1, total // 100)
    history = {"loss": []}
    bar = progress_bar(total=total, desc="skip-gram", show=progress)
    step, run_loss, run_pairs = 0, 0.0, 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(P)
        for b in range(n_batches):
            sel = order[b * batch_size:(b + 1) * batch_size]
            ci, co = centers[sel], contexts[sel]
            neg = np.searchsorted(noise_cdf, rng.random((sel.size, K)))  # inverse-CDF sampling
            # Once a step has blown the vectors up, scores and squared gradients overflow to inf
            # (and inf − inf gives NaN): let that happen quietly, and stop at the first batch
            # whose loss is not finite, naming its epoch, instead of training on with NaN.
            with np.errstate(over="ignore", invalid="ignore"):
                loss, gw, gc, gn = _sgns_batch(W, Cm, ci, co, neg)
                check_finite_loss(loss, epoch, f"train_skipgram (batch {b + 1} of {n_batches})",
                                  hint=f"lr = {lr:g} is too large for these data; lower it")
                dW = _scatter_rows(ci, gw, vocab_size)
                dC = _scatter_rows(np.concatenate([co, neg.ravel()]),
                                   np.concatenate([gc, gn.reshape(-1, dim)]), vocab_size)
                GW += dW * dW
                GC += dC * dC
                W -= lr * dW / (np.sqrt(GW) + 1e-8)
                Cm -= lr * dC / (np.sqrt(GC) + 1e-8)
            run_loss += loss
            run_pairs += sel.size
            step += 1
            if step % record_every == 0 or step == total:
                history["loss"].append(run_loss / run_pairs)
                run_loss, run_pairs = 0.0, 0
            bar.update()
    bar.close()
    history["loss"] = np.array(history["loss"])
    return {"W": W, "C": Cm}, history


# ---------------------------------------------------------------------------
# Similarity, neighbours, analogies
# ---------------------------------------------------------------------------

def _unit_rows(A):
    """Rows scaled to unit length (zero rows stay zero).

    Each row is first divided by its largest |entry|, so that squaring tiny or huge
    entries in the norm can neither underflow nor overflow.
    """
    scale = np.max(np.abs(A), axis=-1, keepdims=True)
    A = np.divide(A, scale, out=np.zeros_like(A), where=scale > 0)
    norms = np.linalg.norm(A, axis=-1, keepdims=True)
    return np.divide(A, norms, out=np.zeros_like(A), where=norms > 0)


def cosine_similarity(A, B=None) -> np.ndarray:
    """Cosine of the angle between every row of ``A`` and every row of ``B``.

    .. math:: S_{ij} = \\frac{a_i^T b_j}{\\|a_i\\|\\,\\|b_j\\|}

    computed as the product of the row-normalized matrices. A zero row has no
    direction: its similarities are defined as 0.

    Parameters
    ----------
    A : (m, d) or (d,)
    B : (n, d) or (d,), optional (default: A)

    Returns
    -------
    S : (m, n) — or (n,) / (m,) / scalar when an argument is 1-D

    Examples
    --------
    >>> cosine_similarity([1.0, 0.0], [[1.0, 1.0], [0.0, 2.0]]).round(3).tolist()
    [0.707, 0.0]

    Chapter 1 (similarity).
    """
    A = as_float_array(A, "A", ndim=(1, 2))
    B = A if B is None else as_float_array(B, "B", ndim=(1, 2))
    if A.shape[-1] != B.shape[-1]:
        raise ValueError(f"A and B must have the same number of columns d; got {A.shape[-1]} and {B.shape[-1]}")
    S = _unit_rows(np.atleast_2d(A)) @ _unit_rows(np.atleast_2d(B)).T
    if A.ndim == 1 and B.ndim == 1:
        return S[0, 0]
    if A.ndim == 1:
        return S[0]
    if B.ndim == 1:
        return S[:, 0]
    return S


def nearest_neighbors(E, query, k: int = 5, exclude_self: bool = True):
    """The ``k`` rows of ``E`` most cosine-similar to row ``query`` (or to a vector).

    Parameters
    ----------
    E : (V, d)
    query : int id in [0, V), or a (d,) vector
    k : int, 1 <= k < V

    Returns
    -------
    ids : (k,) int, most similar first
    sims : (k,) float cosine similarities

    Examples
    --------
    >>> E = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    >>> nearest_neighbors(E, 0, k=1)[0].tolist()
    [1]

    Chapter 1 (similarity).
    """
    E = as_float_array(E, "E", ndim=2)
    V = E.shape[0]
    if np.ndim(query) == 0:
        q = int(as_int_array([query], "query", low=0, high=V)[0])
        vec, skip = E[q], q if exclude_self else None
    else:
        vec = as_float_array(query, "query", shape=(E.shape[1],))
        skip = None
    k = check_positive_int(k, "k", maximum=V - (skip is not None),
                           why="number of other rows of E")
    sims = cosine_similarity(E, vec)
    if skip is not None:
        sims = sims.copy()
        sims[skip] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return top, sims[top]


def analogy(E, a, b, c, topn: int = 1):
    """Solve ``a : b :: c : ?`` by 3CosAdd (Mikolov et al., 2013).

    .. math:: d = \\arg\\max_{x \\notin \\{a,b,c\\}} \\cos(e_x,\\ \\hat e_b - \\hat e_a + \\hat e_c)

    with ``ê`` the unit-normalized rows: *king − man + woman ≈ queen*.
    Vectorized over many questions at once.

    Parameters
    ----------
    E : (V, d)
    a, b, c : int or (q,) int arrays of ids in [0, V)
    topn : int

    Returns
    -------
    d : (q, topn) int ids (or (topn,) for scalar a, b, c), best first

    Examples
    --------
    >>> E = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [5, 5, 5.]])
    >>> analogy(E, 0, 1, 2).tolist()   # 0 : 1 :: 2 : 3
    [3]

    Chapter 1 (analogies).
    """
    E = as_float_array(E, "E", ndim=2)
    V = E.shape[0]
    scalar = np.ndim(a) == 0
    a, b, c = (np.atleast_1d(as_int_array(x, n, ndim=(0, 1), low=0, high=V)) for x, n in
               ((a, "a"), (b, "b"), (c, "c")))
    if not (a.shape == b.shape == c.shape):
        raise ValueError(f"a, b and c must have the same length; got {a.size}, {b.size}, {c.size}")
    topn = check_positive_int(topn, "topn", maximum=V - 3, why="vocabulary minus a, b, c")
    En = _unit_rows(E)
    target = En[b] - En[a] + En[c]                      # (q, d)
    scores = _unit_rows(target) @ En.T                  # (q, V)
    q = np.arange(a.size)
    for x in (a, b, c):                                 # the question words are not answers
        scores[q, x] = -np.inf
    if topn == 1:
        best = np.argmax(scores, axis=1)[:, None]       # no full sort needed for the best answer
    else:
        best = np.argsort(-scores, axis=1, kind="stable")[:, :topn]
    return best[0] if scalar else best


def analogy_accuracy(E, questions) -> float:
    """Fraction of analogy questions ``(a, b, c, d)`` that 3CosAdd answers with ``d``.

    Parameters
    ----------
    E : (V, d)
    questions : (q, 4) int ids, rows ``a, b, c, d`` meaning ``a : b :: c : d``

    Returns
    -------
    accuracy : float in [0, 1]

    Examples
    --------
    >>> E = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [5, 5, 5.]])
    >>> analogy_accuracy(E, [[0, 1, 2, 3]])
    1.0

    Chapter 1 (analogies).
    """
    E = as_float_array(E, "E", ndim=2)
    Q = as_int_array(questions, "questions", ndim=2, low=0, high=E.shape[0])
    check_shape(Q, "questions", (None, 4), why="rows a, b, c, d")
    pred = analogy(E, Q[:, 0], Q[:, 1], Q[:, 2])[:, 0]
    return float(np.mean(pred == Q[:, 3]))
