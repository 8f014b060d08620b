"""The chapter 1 checkers: right answers pass; each plausible wrong answer fails with a hint; stubs do not crash."""

import numpy as np
import pytest
import scipy.sparse as sp

from lalib import embeddings as emb
from lalib import exercises


def stub(*args):
    raise NotImplementedError


def fails_with_hint(result, *words):
    """A failing verdict whose message carries a hint (and, if given, says what went wrong)."""
    assert not result.passed, result.message
    assert "Hint:" in result.message, result.message
    for w in words:
        assert w in result.message, result.message
    return True


# ---------------------------------------------------------------- exercise 1: co-occurrence

def test_cooccurrence_checker_accepts_dense_and_sparse():
    assert exercises.check_cooccurrence(lambda ids, V, w: emb.cooccurrence(ids, V, w)).passed
    assert exercises.check_cooccurrence(lambda ids, V, w: emb.cooccurrence(ids, V, w).toarray()).passed
    assert exercises.check_cooccurrence(lambda ids, V, w: sp.csr_array(emb.cooccurrence(ids, V, w))).passed


def one_direction(ids, V, w):
    """Forgets the pairs read right to left: C is not symmetric."""
    C = np.zeros((V, V))
    for o in range(1, w + 1):
        np.add.at(C, (ids[:-o], ids[o:]), 1)
    return C


def fancy_index_increment(ids, V, w):
    """C[i, j] += 1 with repeated (i, j) counts a repeated pair only once."""
    C = np.zeros((V, V))
    for o in range(1, min(w, len(ids) - 1) + 1):
        C[ids[:-o], ids[o:]] += 1
        C[ids[o:], ids[:-o]] += 1
    return C


def window_off_by_one(ids, V, w):
    """Stops one offset short (range(1, w) instead of range(1, w + 1))."""
    return emb.cooccurrence(ids, V, w - 1).toarray() if w > 1 else np.zeros((V, V))


@pytest.mark.parametrize("wrong", [one_direction, fancy_index_increment, window_off_by_one])
def test_cooccurrence_checker_rejects_wrong_answers(wrong):
    assert fails_with_hint(exercises.check_cooccurrence(wrong), "fails")


def test_cooccurrence_checker_stub():
    assert fails_with_hint(exercises.check_cooccurrence(stub), "not written yet")


# ---------------------------------------------------------------- exercise 2: PPMI

def test_ppmi_checker():
    assert exercises.check_ppmi(emb.ppmi).passed


def pmi_not_clipped(C):
    return emb.pmi_dense(C).clip(min=-1)


def ppmi_with_row_totals(C):
    """Uses the row sums for both marginals: wrong for a non-symmetric C."""
    C = np.asarray(C, float)
    T, r = C.sum(), C.sum(axis=1)
    out = np.zeros_like(C)
    i, j = np.nonzero(C)
    out[i, j] = np.maximum(np.log(C[i, j] * T / (r[i] * r[j % len(r)])), 0)
    return out


def ppmi_log2(C):
    """Base-2 logarithm: a different unit from the chapter's natural log."""
    return emb.ppmi(C) / np.log(2)


@pytest.mark.parametrize("wrong", [pmi_not_clipped, ppmi_with_row_totals, ppmi_log2, lambda C: None])
def test_ppmi_checker_rejects_wrong_answers(wrong):
    assert fails_with_hint(exercises.check_ppmi(wrong))


def test_ppmi_checker_stub():
    assert fails_with_hint(exercises.check_ppmi(stub), "not written yet")


# ---------------------------------------------------------------- exercise 3: 3CosAdd

def test_analogy_checker():
    assert exercises.check_analogy(lambda E, a, b, c: int(emb.analogy(E, a, b, c)[0])).passed


def no_exclusion(E, a, b, c):
    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    return int(np.argmax(En @ (En[b] - En[a] + En[c])))


def unnormalized(E, a, b, c):
    s = E @ (E[b] - E[a] + E[c])
    s[[a, b, c]] = -np.inf
    return int(np.argmax(s))


def euclidean_nearest(E, a, b, c):
    t = E[b] - E[a] + E[c]
    dist = np.linalg.norm(E - t, axis=1)
    dist[[a, b, c]] = np.inf
    return int(np.argmin(dist))


def wrong_offset(E, a, b, c):  # a − b + c: the offset reversed
    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    s = En @ (En[a] - En[b] + En[c])
    s[[a, b, c]] = -np.inf
    return int(np.argmax(s))


@pytest.mark.parametrize("wrong", [no_exclusion, unnormalized, euclidean_nearest, wrong_offset])
def test_analogy_checker_rejects_wrong_answers(wrong):
    assert fails_with_hint(exercises.check_analogy(wrong), "answered")


def test_analogy_checker_stub():
    assert fails_with_hint(exercises.check_analogy(stub), "not written yet")


# ---------------------------------------------------------------- exercise 4: RoPE

def test_rope_checker():
    assert exercises.check_rope(emb.rope).passed


def wrong_sign(X):  # rotates the other way
    return emb.rope(X, positions=-np.arange(X.shape[0]))


def wrong_frequencies(X):  # θ_i = 10000^(-i/d) instead of 10000^(-2i/d)
    return emb.rope(X, base=10000.0 ** 0.5)


def positions_from_one(X):  # the first row is position 1, not 0
    return emb.rope(X, positions=np.arange(1, X.shape[0] + 1))


def halves_not_pairs(X):  # rotates (x_i, x_{i + d/2}) — another RoPE layout, not the chapter's
    n, d = X.shape
    perm = np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])
    inv = np.argsort(perm)
    return emb.rope(X[:, inv])[:, perm] if d > 2 else emb.rope(X)[:, ::-1]


@pytest.mark.parametrize("wrong", [wrong_sign, wrong_frequencies, positions_from_one, halves_not_pairs,
                                   lambda X: X])
def test_rope_checker_rejects_wrong_answers(wrong):
    assert fails_with_hint(exercises.check_rope(wrong))


def test_rope_checker_stub():
    assert fails_with_hint(exercises.check_rope(stub), "not written yet")


# ---------------------------------------------------------------- exercise 5: shifted PPMI

def test_shifted_ppmi_checker():
    assert exercises.check_shifted_ppmi(lambda C, K: emb.ppmi(C, alpha=0.75, shift=np.log(K))).passed
    assert exercises.check_shifted_ppmi(lambda C, K: sp.csr_array(emb.ppmi(C, alpha=0.75, shift=np.log(K)))).passed


def shift_after_clipping(C, K):  # max(PMI, 0) − log K: negative entries survive
    return emb.ppmi(C, alpha=0.75) - np.log(K) * (np.asarray(C) > 0)


def shift_by_K(C, K):  # subtracts K instead of log K
    return emb.ppmi(C, alpha=0.75, shift=float(K))


def no_smoothing(C, K):  # α = 1: the plain context distribution
    return emb.ppmi(C, alpha=1.0, shift=np.log(K))


@pytest.mark.parametrize("wrong", [shift_after_clipping, shift_by_K, no_smoothing])
def test_shifted_ppmi_checker_rejects_wrong_answers(wrong):
    assert fails_with_hint(exercises.check_shifted_ppmi(wrong), "fails")


def test_shifted_ppmi_checker_stub():
    assert fails_with_hint(exercises.check_shifted_ppmi(stub), "not written yet")
