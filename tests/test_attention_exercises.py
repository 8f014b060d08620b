"""Chapter 3 exercise checkers: the right answer passes; a plausible wrong answer fails with a hint; a stub does
not raise. A checker that any answer could satisfy would fail here."""

import numpy as np
import pytest

from lalib import attention as att
from lalib import exercises


def stub(*args):
    raise NotImplementedError


def assert_fails_with_hint(result, capsys, words=()):
    out = capsys.readouterr().out
    assert not result.passed
    assert "✘" in out and "Hint:" in out, out
    for w in words:
        assert w in out, (w, out)


def test_stable_softmax_checker(capsys):
    assert exercises.check_stable_softmax(att.softmax).passed

    def unstable(x):  # overflows at scores near 1000: inf / inf = NaN
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(over="ignore", invalid="ignore"):
        result = exercises.check_stable_softmax(unstable)
    assert_fails_with_hint(result, capsys, ["maximum"])

    def wrong_axis(x):  # stable, but normalises the columns instead of the rows
        e = np.exp(x - x.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    assert_fails_with_hint(exercises.check_stable_softmax(wrong_axis), capsys)
    assert_fails_with_hint(exercises.check_stable_softmax(stub), capsys)


def test_masked_attention_checker(capsys):
    assert exercises.check_masked_attention(lambda Q, K, V, m: att.scaled_dot_product_attention(Q, K, V, mask=m))
    unscaled = lambda Q, K, V, m: att.scaled_dot_product_attention(Q * np.sqrt(Q.shape[1]), K, V, mask=m)  # noqa: E731
    assert_fails_with_hint(exercises.check_masked_attention(unscaled), capsys, ["sqrt(d_k)"])
    ignores_mask = lambda Q, K, V, m: att.scaled_dot_product_attention(Q, K, V)  # noqa: E731
    assert_fails_with_hint(exercises.check_masked_attention(ignores_mask), capsys)
    assert_fails_with_hint(exercises.check_masked_attention(stub), capsys)


def test_causal_linear_attention_checker(capsys):
    assert exercises.check_causal_linear_attention(lambda Q, K, V: att.linear_attention(Q, K, V, causal=True))
    not_causal = lambda Q, K, V: att.linear_attention(Q, K, V)  # noqa: E731
    assert_fails_with_hint(exercises.check_causal_linear_attention(not_causal), capsys, ["phi"])
    assert_fails_with_hint(exercises.check_causal_linear_attention(stub), capsys)


def test_performer_relative_variance_checker(capsys):
    right = lambda q, k: np.expm1(np.sum((q + k) ** 2))  # noqa: E731
    assert exercises.check_performer_relative_variance(right).passed
    # a Monte Carlo estimate of Var[X]/E[X]², from the definition, agrees with the closed form the checker uses
    rng = np.random.default_rng(0)
    q, k = np.array([0.3, -0.2]), np.array([0.1, 0.25])
    w = rng.normal(size=(400_000, 2))
    X = np.exp(w @ q - q @ q / 2) * np.exp(w @ k - k @ k / 2)
    assert X.var() / X.mean() ** 2 == pytest.approx(right(q, k), rel=0.03)
    wrong_answers = [
        lambda q, k: np.expm1(np.sum(q ** 2)),              # "grows like e^{‖q‖²}": depends on q alone
        lambda q, k: np.exp(np.sum((q + k) ** 2)),          # second moment over squared mean, without the −1
        lambda q, k: np.expm1(np.sum(q ** 2) + np.sum(k ** 2)),  # as if q and k were orthogonal
    ]
    for wrong in wrong_answers:
        assert_fails_with_hint(exercises.check_performer_relative_variance(wrong), capsys, ["q + k"])
    assert_fails_with_hint(exercises.check_performer_relative_variance(stub), capsys)


def _mha(X, p, h, *, transpose=True, scale_by="d_h", causal=True):
    """Batched multi-head attention, with switches for the classic mistakes."""
    n, d = X.shape
    dh = d // h

    def split(M):
        return M.reshape(n, h, dh).transpose(1, 0, 2) if transpose else M.reshape(h, n, dh)

    Qh, Kh, Vh = (split(X @ p[k]) for k in ("W_Q", "W_K", "W_V"))
    S = Qh @ Kh.transpose(0, 2, 1) / np.sqrt(dh if scale_by == "d_h" else d)
    if causal:
        S = np.where(att.causal_mask(n), S, -np.inf)
    O = att.softmax(S) @ Vh
    merged = O.transpose(1, 0, 2).reshape(n, d) if transpose else O.reshape(n, d)
    return merged @ p["W_O"]


def test_batched_multi_head_attention_checker(capsys):
    assert exercises.check_batched_multi_head_attention(_mha).passed
    for wrong in (lambda X, p, h: _mha(X, p, h, transpose=False),   # reshape (h, n, d_h) directly: mixes tokens
                  lambda X, p, h: _mha(X, p, h, scale_by="d"),      # 1/sqrt(d) instead of 1/sqrt(d_h)
                  lambda X, p, h: _mha(X, p, h, causal=False)):     # forgot the mask
        assert_fails_with_hint(exercises.check_batched_multi_head_attention(wrong), capsys, ["transpose"])
    assert_fails_with_hint(exercises.check_batched_multi_head_attention(stub), capsys)
