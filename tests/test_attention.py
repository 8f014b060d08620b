"""Tests for lalib.attention (chapter 3): each kernel against the formula written out
directly, against the math it teaches (row-stochastic weights, shift invariance,
permutation equivariance, exactness of the online softmax, prefix sums), finite
differences for the backward pass, and bad input for every public function."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lalib import attention as att
from lalib import datasets, mlp
from lalib._validate import DivergedError
from lalib.embeddings import positional_encoding
from numeric_helpers import fd_grad


def direct_attention(Q, K, V, keep=None):
    """softmax(Q Kᵀ/√d) V written out entry by entry with exp (no stabilisation needed at test sizes)."""
    S = Q @ K.T / math.sqrt(Q.shape[1])
    E = np.exp(S)
    if keep is not None:
        E = E * keep
    A = E / E.sum(axis=1, keepdims=True)
    return A @ V, A


def qkv(rng, n=7, m=None, d=4, dv=3, scale=1.0):
    m = n if m is None else m
    return rng.normal(size=(n, d)) * scale, rng.normal(size=(m, d)) * scale, rng.normal(size=(m, dv))


finite_floats = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------- softmax

def test_one_softmax_for_the_package():
    # attention re-exports the softmax of mlp (the lowest module both use): one implementation, not two
    assert att.softmax is mlp.softmax
    assert att._softmax_inplace is mlp._softmax_inplace


@pytest.mark.parametrize("shape, axis", [((5, 6), -1), ((3, 4, 5), 1), ((4, 7), 0), ((2, 3, 4000), -1)])
def test_softmax_and_log_softmax_match_the_formula_with_masked_rows(rng, shape, axis):
    # the formula written out: p = e^x / Σ e^x over the kept entries; a masked entry gets 0, a fully masked
    # slice gets all zeros (log: all -inf). (2, 3, 4000) exercises the cache-blocked in-place path.
    x = rng.normal(size=shape) * 3
    keep = rng.random(shape) < 0.7
    x_masked = np.where(keep, x, -np.inf)
    first = tuple(0 if a != axis % len(shape) else slice(None) for a in range(len(shape)))
    x_masked[first] = -np.inf  # one slice along `axis` entirely masked
    keep[first] = False
    E = np.where(keep, np.exp(x), 0.0)
    tot = E.sum(axis=axis, keepdims=True)
    want = np.divide(E, tot, out=np.zeros_like(E), where=tot > 0)
    p = att.softmax(x_masked, axis=axis)
    np.testing.assert_allclose(p, want, rtol=1e-13, atol=0)
    assert np.all(p[first] == 0) and not np.isnan(p).any()
    np.testing.assert_allclose(p.sum(axis=axis)[tot.squeeze(axis) > 0], 1.0, rtol=1e-13)
    logp = mlp.log_softmax(x_masked, axis=axis)
    assert not np.isnan(logp).any()
    np.testing.assert_array_equal(np.isneginf(logp), ~keep)
    np.testing.assert_allclose(logp[keep], np.log(want[keep]), rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(np.finfo(np.longdouble).max < np.longdouble("1e440"), reason="needs an extended-range long double")
def test_softmax_large_scores_stable_against_formula_in_long_double():
    # e^1002 overflows float64 but not the 80-bit long double: there the formula needs no shift at all
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -999.0]])
    e = np.exp(x.astype(np.longdouble))
    want = (e / e.sum(axis=1, keepdims=True)).astype(float)
    np.testing.assert_allclose(att.softmax(x), want, rtol=1e-14)
    np.testing.assert_allclose(mlp.log_softmax(x), np.log(want), rtol=1e-13)


@given(arrays(np.float64, st.integers(1, 8), elements=finite_floats), finite_floats)
def test_softmax_shift_invariance(x, c):
    np.testing.assert_allclose(att.softmax(x + c), att.softmax(x), rtol=1e-9, atol=1e-12)


def test_softmax_float32_preserved():
    assert att.softmax(np.ones(3, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("bad, err", [
    (np.array([1.0, np.nan]), ValueError),
    (np.array([1.0, np.inf]), ValueError),
    (np.zeros((2, 0)), ValueError),
    (np.float64(1.0), ValueError),
    (np.array(["a", "b"]), TypeError),
    (np.array([1 + 1j]), TypeError),
])
def test_softmax_bad_input(bad, err):
    with pytest.raises(err, match="x"):
        att.softmax(bad)


def test_softmax_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        att.softmax(np.ones((2, 3)), axis=2)


def test_softmax_backward_is_jacobian_product(rng):
    s = rng.normal(size=(4, 5))
    g = rng.normal(size=(4, 5))
    p = att.softmax(s)
    for i in range(4):
        J = np.diag(p[i]) - np.outer(p[i], p[i])
        np.testing.assert_allclose(att.softmax_backward(p, g)[i], J @ g[i], rtol=1e-12, atol=1e-15)
    # and against finite differences of L = <g, softmax(s)>
    h, (i, j) = 1e-6, (2, 3)
    e = np.zeros_like(s)
    e[i, j] = h
    fd = (np.sum(g * att.softmax(s + e)) - np.sum(g * att.softmax(s - e))) / (2 * h)
    assert abs(att.softmax_backward(p, g)[i, j] - fd) < 1e-8


def test_softmax_backward_bad_input():
    with pytest.raises(ValueError, match="grad_p"):
        att.softmax_backward(np.ones((2, 3)) / 3, np.ones((2, 2)))
    with pytest.raises(ValueError, match="p"):
        att.softmax_backward(np.array([np.nan, 1.0]), np.ones(2))


# ----------------------------------------------------------------------- masks

def test_causal_mask_is_lower_triangular():
    M = att.causal_mask(5)
    assert M.dtype == bool
    np.testing.assert_array_equal(M, np.tril(np.ones((5, 5))) > 0)


@pytest.mark.parametrize("bad, err", [(0, ValueError), (-2, ValueError), (2.5, TypeError), ("3", TypeError)])
def test_causal_mask_bad_input(bad, err):
    with pytest.raises(err, match="n"):
        att.causal_mask(bad)


def test_padding_mask():
    M = att.padding_mask([1, 3], 3)
    assert M.shape == (2, 3, 3)
    np.testing.assert_array_equal(M[0], [[1, 0, 0]] * 3)
    np.testing.assert_array_equal(M[1], np.ones((3, 3)))
    with pytest.raises(ValueError, match="lengths"):
        att.padding_mask([0, 2], 3)
    with pytest.raises(ValueError, match="lengths"):
        att.padding_mask([4], 3)
    with pytest.raises(TypeError, match="lengths"):
        att.padding_mask([1.5], 3)


# --------------------------------------------------- scaled dot-product attention

def test_attention_matches_formula(rng):
    Q, K, V = qkv(rng, n=6, m=9)
    out, A = att.scaled_dot_product_attention(Q, K, V, return_weights=True)
    want_out, want_A = direct_attention(Q, K, V)
    np.testing.assert_allclose(A, want_A, rtol=1e-13)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(att.scaled_dot_product_attention(Q, K, V), want_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-14)
    assert A.min() >= 0


def test_boolean_mask_respected(rng):
    Q, K, V = qkv(rng, n=5)
    keep = rng.random((5, 5)) < 0.6
    keep[:, 0] = True
    out, A = att.scaled_dot_product_attention(Q, K, V, mask=keep, return_weights=True)
    assert np.all(A[~keep] == 0)
    want_out, want_A = direct_attention(Q, K, V, keep)
    np.testing.assert_allclose(A, want_A, rtol=1e-13)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-14)


def test_additive_mask_equals_boolean_mask(rng):
    Q, K, V = qkv(rng, n=6)
    keep = att.causal_mask(6)
    additive = np.where(keep, 0.0, -np.inf)
    np.testing.assert_allclose(att.scaled_dot_product_attention(Q, K, V, mask=additive),
                               att.scaled_dot_product_attention(Q, K, V, mask=keep), rtol=1e-14)


def test_causal_output_ignores_the_future(rng):
    Q, K, V = qkv(rng, n=6)
    out = att.scaled_dot_product_attention(Q, K, V, mask=att.causal_mask(6))
    K2, V2 = K.copy(), V.copy()
    K2[4:] += 10.0
    V2[4:] -= 3.0
    out2 = att.scaled_dot_product_attention(Q, K2, V2, mask=att.causal_mask(6))
    np.testing.assert_allclose(out2[:4], out[:4], rtol=1e-14)
    assert not np.allclose(out2[4:], out[4:])


def test_fully_masked_row_gives_zero_row_without_nan(rng):
    Q, K, V = qkv(rng, n=4)
    keep = np.ones((4, 4), dtype=bool)
    keep[2] = False
    out, A = att.scaled_dot_product_attention(Q, K, V, mask=keep, return_weights=True)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(A))
    np.testing.assert_array_equal(A[2], 0.0)
    np.testing.assert_array_equal(out[2], 0.0)
    np.testing.assert_array_equal(att.scaled_dot_product_attention(Q, K, V, mask=keep)[2], 0.0)
    additive = np.where(keep, 0.0, -np.inf)
    np.testing.assert_array_equal(att.scaled_dot_product_attention(Q, K, V, mask=additive)[2], 0.0)


def test_batched_attention_equals_loop(rng):
    Q, K, V = rng.normal(size=(3, 2, 5, 4))
    mask = att.padding_mask([3, 5], 5)
    out = att.scaled_dot_product_attention(Q, K, V, mask=mask)
    for b in range(2):
        np.testing.assert_allclose(out[b], att.scaled_dot_product_attention(Q[b], K[b], V[b], mask=mask[b]),
                                   rtol=1e-14)


def test_attention_float32_preserved(rng):
    Q, K, V = (a.astype(np.float32) for a in qkv(rng))
    assert att.scaled_dot_product_attention(Q, K, V).dtype == np.float32


@given(st.integers(2, 7), st.integers(0, 10_000))
def test_self_attention_is_permutation_equivariant(n, seed):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 4))
    Wq, Wk, Wv = r.normal(size=(3, 4, 4))
    perm = r.permutation(n)
    f = lambda Z: att.scaled_dot_product_attention(Z @ Wq, Z @ Wk, Z @ Wv)  # noqa: E731
    np.testing.assert_allclose(f(X[perm]), f(X)[perm], rtol=1e-10, atol=1e-12)


def test_positions_break_permutation_equivariance(rng):
    n = 6
    X = rng.normal(size=(n, 8))
    Wq, Wk, Wv = rng.normal(size=(3, 8, 8))
    P = positional_encoding(n, 8)
    perm = np.roll(np.arange(n), 1)
    f = lambda Z: att.scaled_dot_product_attention(Z @ Wq, Z @ Wk, Z @ Wv)  # noqa: E731
    assert not np.allclose(f(X[perm] + P), f(X + P)[perm], atol=1e-6)


@pytest.mark.parametrize("args, match", [
    (lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 2)), r.normal(size=(4, 2))), "K must have shape"),
    (lambda r: (r.normal(size=(4, 3)), r.normal(size=(5, 3)), r.normal(size=(4, 2))), "V must have shape"),
    (lambda r: (r.normal(size=(3,)), r.normal(size=(3,)), r.normal(size=(3,))), "Q must have shape"),
    (lambda r: (np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 2))), "Q must not be empty"),
    (lambda r: (np.full((2, 2), np.nan), np.ones((2, 2)), np.ones((2, 2))), "Q must be finite"),
    (lambda r: (np.ones((2, 2)), np.ones((2, 2)), np.array([[1.0, np.inf], [0, 0]])), "V must be finite"),
])
def test_attention_bad_shapes_and_values(rng, args, match):
    with pytest.raises(ValueError, match=match):
        att.scaled_dot_product_attention(*args(rng))


def test_attention_bad_dtype_and_mask(rng):
    Q, K, V = qkv(rng, n=4)
    with pytest.raises(TypeError, match="Q"):
        att.scaled_dot_product_attention(Q.astype(complex), K, V)
    with pytest.raises(ValueError, match="mask must have shape"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.ones((4, 3), dtype=bool))
    with pytest.raises(ValueError, match="mask"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="mask"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.full((4, 4), np.inf))


# ------------------------------------------------------------------- backward

@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_against_finite_differences(rng, masked):
    Q, K, V = qkv(rng, n=4, m=5, d=3, dv=2)
    mask = None
    if masked:
        mask = rng.random((4, 5)) < 0.7
        mask[:, 0] = True
    W = rng.normal(size=(4, 2))  # L = <W, out>, so dL/dout = W
    L = lambda Q, K, V: float(np.sum(W * att.scaled_dot_product_attention(Q, K, V, mask=mask)))  # noqa: E731
    dQ, dK, dV = att.attention_backward(W, Q, K, V, mask=mask)
    np.testing.assert_allclose(dQ, fd_grad(lambda X: L(X, K, V), Q), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dK, fd_grad(lambda X: L(Q, X, V), K), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dV, fd_grad(lambda X: L(Q, K, X), V), rtol=1e-6, atol=1e-9)


def test_attention_backward_bad_input(rng):
    Q, K, V = qkv(rng, n=4)
    with pytest.raises(ValueError, match="dout"):
        att.attention_backward(np.ones((4, 2)), Q, K, V)
    with pytest.raises(ValueError, match="K must have shape"):
        att.attention_backward(np.ones((4, 3)), Q, K[:, :2], V)


# --------------------------------------------------------- multi-head attention

def test_multi_head_equals_loop_over_heads(rng):
    n, d, h = 6, 12, 3
    X = rng.normal(size=(n, d))
    p = att.mha_init(d, h, rng=rng)
    dh = d // h
    heads = []
    for i in range(h):
        cols = slice(i * dh, (i + 1) * dh)
        heads.append(direct_attention(X @ p["W_Q"][:, cols], X @ p["W_K"][:, cols], X @ p["W_V"][:, cols])[0])
    want = np.hstack(heads) @ p["W_O"]
    out, A = att.multi_head_attention(X, p, h, return_weights=True)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(att.multi_head_attention(X, p, h), want, rtol=1e-12, atol=1e-14)
    assert A.shape == (h, n, n)
    # the sum over heads of head_i W_O^(i) (row blocks of W_O) is the same product
    blocks = sum(heads[i] @ p["W_O"][i * dh:(i + 1) * dh] for i in range(h))
    np.testing.assert_allclose(out, blocks, rtol=1e-12, atol=1e-14)


def test_multi_head_with_causal_mask_and_batch(rng):
    X = rng.normal(size=(2, 5, 8))
    p = att.mha_init(8, 2, rng=rng)
    out = att.multi_head_attention(X, p, 2, mask=att.causal_mask(5))
    for b in range(2):
        np.testing.assert_allclose(out[b], att.multi_head_attention(X[b], p, 2, mask=att.causal_mask(5)), rtol=1e-13)
    out_pad = att.multi_head_attention(X, p, 2, mask=att.padding_mask([2, 5], 5))
    np.testing.assert_allclose(out_pad[1], att.multi_head_attention(X[1], p, 2), rtol=1e-13)


def test_multi_head_bad_input(rng):
    X = rng.normal(size=(5, 8))
    p = att.mha_init(8, 2, rng=rng)
    with pytest.raises(ValueError, match="n_heads must divide"):
        att.multi_head_attention(X, p, 3)
    with pytest.raises(ValueError, match="n_heads must divide"):
        att.mha_init(8, 3)
    with pytest.raises(ValueError, match="missing"):
        att.multi_head_attention(X, {"W_Q": p["W_Q"]}, 2)
    with pytest.raises(ValueError, match="W_K"):
        att.multi_head_attention(X, dict(p, W_K=np.ones((8, 4))), 2)
    with pytest.raises(ValueError, match="X must not be empty"):
        att.multi_head_attention(np.zeros((0, 8)), p, 2)
    with pytest.raises(ValueError, match="X must be finite"):
        att.multi_head_attention(np.full((3, 8), np.nan), p, 2)
    with pytest.raises(TypeError, match="params"):
        att.multi_head_attention(X, [p], 2)
    with pytest.raises(ValueError, match="mask"):
        att.multi_head_attention(X, p, 2, mask=np.ones((4, 4), dtype=bool))
    with pytest.raises(TypeError, match="rng"):
        att.mha_init(8, 2, rng=0)


# --------------------------------------------------- layer norm, transformer block

def test_layer_norm_matches_formula(rng):
    x = rng.normal(size=(4, 6)) * 3 + 1
    g, b = rng.normal(size=6), rng.normal(size=6)
    mu = x.mean(1, keepdims=True)
    var = ((x - mu) ** 2).mean(1, keepdims=True)
    np.testing.assert_allclose(att.layer_norm(x, g, b), g * (x - mu) / np.sqrt(var + 1e-5) + b, rtol=1e-13)
    y = att.layer_norm(x, np.ones(6), np.zeros(6), eps=1e-12)
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-13)
    np.testing.assert_allclose(y.var(1), 1, rtol=1e-10)


def test_layer_norm_constant_row_is_finite():
    y = att.layer_norm(np.ones((1, 4)), np.ones(4), np.zeros(4))
    np.testing.assert_array_equal(y, 0.0)


def test_layer_norm_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        att.layer_norm(np.ones((2, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="beta"):
        att.layer_norm(np.ones((2, 3)), np.ones(3), np.zeros(4))
    with pytest.raises(ValueError, match="eps"):
        att.layer_norm(np.ones((2, 3)), np.ones(3), np.zeros(3), eps=0.0)
    with pytest.raises(ValueError, match="x must be finite"):
        att.layer_norm(np.array([[np.nan, 1, 2]]), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="x must not be empty"):
        att.layer_norm(np.zeros((0, 3)), np.ones(3), np.zeros(3))


def test_transformer_block_matches_composition(rng):
    X = rng.normal(size=(5, 8))
    p = att.transformer_block_init(8, 2, d_ff=16, rng=rng)
    p["gamma1"], p["beta1"] = rng.normal(size=8), rng.normal(size=8)
    p["b1"], p["b2"] = rng.normal(size=16), rng.normal(size=8)
    H = X + att.multi_head_attention(att.layer_norm(X, p["gamma1"], p["beta1"]), p, 2)
    Y = H + np.maximum(att.layer_norm(H, p["gamma2"], p["beta2"]) @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    out, A = att.transformer_block(X, p, 2, return_weights=True)
    np.testing.assert_allclose(out, Y, rtol=1e-12)
    assert A.shape == (2, 5, 5)


def test_transformer_block_is_identity_when_sublayers_output_zero(rng):
    X = rng.normal(size=(4, 8))
    p = att.transformer_block_init(8, 4, rng=rng)
    p["W_O"][:] = 0
    p["W2"][:] = 0
    np.testing.assert_allclose(att.transformer_block(X, p, 4), X, rtol=0, atol=0)


def test_transformer_block_permutation_equivariant_and_causal(rng):
    X = rng.normal(size=(6, 8))
    p = att.transformer_block_init(8, 2, rng=rng)
    perm = rng.permutation(6)
    np.testing.assert_allclose(att.transformer_block(X[perm], p, 2), att.transformer_block(X, p, 2)[perm],
                               rtol=1e-11, atol=1e-12)
    Y = att.transformer_block(X, p, 2, mask=att.causal_mask(6))
    X2 = X.copy()
    X2[5] += 1.0
    np.testing.assert_allclose(att.transformer_block(X2, p, 2, mask=att.causal_mask(6))[:5], Y[:5], rtol=1e-13)


def test_transformer_block_bad_input(rng):
    X = rng.normal(size=(4, 8))
    p = att.transformer_block_init(8, 2, rng=rng)
    with pytest.raises(ValueError, match="n_heads must divide"):
        att.transformer_block(X, p, 3)
    with pytest.raises(ValueError, match="params must be a dict"):
        att.transformer_block(X, {"W_Q": p["W_Q"]}, 2)
    with pytest.raises(ValueError, match="b2"):
        att.transformer_block(X, dict(p, b2=np.zeros(3)), 2)
    with pytest.raises(ValueError, match="X must have shape"):
        att.transformer_block(np.ones(8), p, 2)
    with pytest.raises(ValueError, match="X must be finite"):
        att.transformer_block(np.full((2, 8), np.inf), p, 2)
    with pytest.raises(ValueError, match="d_ff"):
        att.transformer_block_init(8, 2, d_ff=0)


# ------------------------------------------------------------ chunked attention

@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 16, 23, 40])
def test_chunked_equals_full_attention(rng, causal, chunk):
    n = 23
    Q, K, V = qkv(rng, n=n, d=8, dv=5, scale=2.0)
    mask = att.causal_mask(n) if causal else None
    full = att.scaled_dot_product_attention(Q, K, V, mask=mask)
    got = att.chunked_attention(Q, K, V, chunk_size=chunk, causal=causal)
    assert np.max(np.abs(got - full)) < 1e-12


def test_chunked_rectangular_and_large_scores(rng):
    Q, K, V = qkv(rng, n=5, m=31, d=4, scale=30.0)  # scores in the hundreds: exp would overflow unstabilised
    np.testing.assert_allclose(att.chunked_attention(Q, K, V, chunk_size=6),
                               att.scaled_dot_product_attention(Q, K, V), rtol=1e-11, atol=1e-12)


def test_chunked_float32(rng):
    Q, K, V = (a.astype(np.float32) for a in qkv(rng, n=20))
    got = att.chunked_attention(Q, K, V, chunk_size=6, causal=True)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, att.scaled_dot_product_attention(Q, K, V, mask=att.causal_mask(20)),
                               rtol=1e-5, atol=1e-6)


def test_chunked_bad_input(rng):
    Q, K, V = qkv(rng, n=6)
    with pytest.raises(ValueError, match="chunk_size"):
        att.chunked_attention(Q, K, V, chunk_size=0)
    with pytest.raises(TypeError, match="chunk_size"):
        att.chunked_attention(Q, K, V, chunk_size=2.0)
    with pytest.raises(ValueError, match="causal"):
        att.chunked_attention(Q, *qkv(rng, n=6, m=8)[1:], causal=True)
    with pytest.raises(ValueError, match="K must have shape"):
        att.chunked_attention(Q, K[:, :2], V)
    with pytest.raises(ValueError, match="Q must be 2-D"):
        att.chunked_attention(Q[None], K[None], V[None])
    with pytest.raises(ValueError, match="Q must be finite"):
        att.chunked_attention(np.full_like(Q, np.nan), K, V)
    with pytest.raises(ValueError, match="Q must not be empty"):
        att.chunked_attention(Q[:0], K, V)


# ------------------------------------------------------------- linear attention

def elu1(X):
    return np.where(X > 0, X + 1, np.exp(X))


def test_linear_attention_matches_quadratic_form(rng):
    Q, K, V = qkv(rng, n=9, m=12)
    W = elu1(Q) @ elu1(K).T
    want = (W @ V) / W.sum(1, keepdims=True)
    np.testing.assert_allclose(att.linear_attention(Q, K, V), want, rtol=1e-12)
    out, A = att.linear_attention(Q, K, V, return_weights=True)
    np.testing.assert_allclose(A, W / W.sum(1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(A.sum(1), 1, rtol=1e-14)


@pytest.mark.parametrize("chunk", [1, 4, 7, 64])
def test_causal_linear_attention_prefix_sums_equal_masked_quadratic_form(rng, chunk):
    n = 19
    Q, K, V = qkv(rng, n=n)
    W = np.tril(elu1(Q) @ elu1(K).T)
    want = (W @ V) / W.sum(1, keepdims=True)
    np.testing.assert_allclose(att.linear_attention(Q, K, V, causal=True, chunk_size=chunk), want, rtol=1e-12)
    # the recurrence written as a plain loop over positions
    S, z, rec = np.zeros((4, 3)), np.zeros(4), []
    for i in range(n):
        S += np.outer(elu1(K[i]), V[i])
        z += elu1(K[i])
        rec.append(elu1(Q[i]) @ S / (elu1(Q[i]) @ z))
    np.testing.assert_allclose(np.array(rec), want, rtol=1e-12)


def test_linear_attention_custom_feature_map(rng):
    Q, K, V = qkv(rng)
    phi = lambda X: np.exp(X / 2)  # noqa: E731
    W = phi(Q) @ phi(K).T
    np.testing.assert_allclose(att.linear_attention(Q, K, V, feature_map=phi), W @ V / W.sum(1, keepdims=True),
                               rtol=1e-12)


def test_linear_attention_bad_input(rng):
    Q, K, V = qkv(rng)
    with pytest.raises(ValueError, match="feature_map"):
        att.linear_attention(Q, K, V, feature_map="softmax")
    with pytest.raises(ValueError, match="feature_map"):
        att.linear_attention(Q, K, V, feature_map=lambda X: -np.abs(X) - 1)
    with pytest.raises(ValueError, match="feature_map"):
        att.linear_attention(Q, K, V, feature_map=lambda X: X[:1])
    with pytest.raises(ValueError, match="causal"):
        att.linear_attention(Q, *qkv(rng, n=7, m=4)[1:], causal=True)
    with pytest.raises(ValueError, match="V must have shape"):
        att.linear_attention(Q, K, V[:3])
    with pytest.raises(ValueError, match="K must be finite"):
        att.linear_attention(Q, np.full_like(K, np.inf), V)
    with pytest.raises(ValueError, match="chunk_size"):
        att.linear_attention(Q, K, V, causal=True, chunk_size=-1)


# ------------------------------------------------------------------- Performer

def test_performer_features_estimate_the_softmax_kernel(rng):
    q, k = rng.normal(size=(2, 1, 4)) * 0.5
    W = att.performer_projection(200_000, 4, orthogonal=False, rng=rng)
    est = (att.performer_features(q, W, "none") @ att.performer_features(k, W, "none").T).item()
    assert abs(est / math.exp((q @ k.T).item()) - 1) < 0.02
    assert np.all(att.performer_features(q, W[:100]) > 0)


def test_performer_projection_orthogonal_blocks(rng):
    W = att.performer_projection(10, 4, orthogonal=True, rng=rng)
    assert W.shape == (10, 4)
    for block in (W[:4], W[4:8], W[8:]):
        G = block @ block.T
        np.testing.assert_allclose(G - np.diag(np.diag(G)), 0, atol=1e-12)


@pytest.mark.parametrize("orthogonal", [False, True])
def test_performer_error_falls_as_features_grow(rng, orthogonal):
    Q, K, V = qkv(rng, n=32, d=8, scale=0.5)
    exact = att.scaled_dot_product_attention(Q, K, V)

    def mean_err(D):
        return np.mean([np.abs(att.performer_attention(Q, K, V, D, rng=np.random.default_rng(s),
                                                       orthogonal=orthogonal) - exact).mean() for s in range(10)])

    errs = [mean_err(D) for D in (8, 64, 512)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.5 * errs[0]


def test_performer_weights_and_causal_form(rng):
    Q, K, V = qkv(rng, n=10, scale=0.5)
    W = att.performer_projection(16, 4, rng=rng)
    out, A = att.performer_attention(Q, K, V, 16, W=W, return_weights=True)
    np.testing.assert_allclose(A.sum(1), 1, rtol=1e-13)
    assert A.min() > 0
    np.testing.assert_allclose(out, A @ V, rtol=1e-12)
    _, Ac = att.performer_attention(Q, K, V, 16, W=W, causal=True, return_weights=True)
    Wt = np.tril(A)  # same features: the causal weights are the masked, renormalised rows
    np.testing.assert_allclose(Ac, Wt / Wt.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(att.performer_attention(Q, K, V, 16, W=W, causal=True), Ac @ V, rtol=1e-12)


def test_performer_bad_input(rng):
    Q, K, V = qkv(rng)
    with pytest.raises(ValueError, match="n_features"):
        att.performer_attention(Q, K, V, 0)
    with pytest.raises(ValueError, match="W must have shape"):
        att.performer_attention(Q, K, V, 8, W=np.ones((8, 3)))
    with pytest.raises(TypeError, match="rng"):
        att.performer_attention(Q, K, V, 8, rng=1)
    with pytest.raises(ValueError, match="K must have shape"):
        att.performer_attention(Q, K[:, :3], V, 8)
    with pytest.raises(ValueError, match="Q must be finite"):
        att.performer_attention(np.full_like(Q, np.nan), K, V, 8)
    with pytest.raises(ValueError, match="stabilize"):
        att.performer_features(Q, np.ones((3, 4)), stabilize="max")


# ------------------------------------------------------------------- Linformer

def test_linformer_matches_formula_with_given_projections(rng):
    Q, K, V = qkv(rng, n=8, m=10)
    E, F = rng.normal(size=(2, 3, 10))
    want, _ = direct_attention(Q, E @ K, F @ V)
    out, A = att.linformer_attention(Q, K, V, 3, E=E, F=F, return_weights=True)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    np.testing.assert_allclose(A @ V, want, rtol=1e-12)


def test_linformer_pool_is_exact_at_full_rank_and_row_stochastic(rng):
    Q, K, V = qkv(rng, n=12)
    np.testing.assert_allclose(att.linformer_attention(Q, K, V, 12, projection="pool"),
                               att.scaled_dot_product_attention(Q, K, V), rtol=1e-12)
    _, A = att.linformer_attention(Q, K, V, 5, projection="pool", return_weights=True)
    np.testing.assert_allclose(A.sum(1), 1, rtol=1e-13)
    Ep = att.linformer_projection(5, 12, kind="pool")
    np.testing.assert_allclose(Ep.sum(1), 1)
    assert np.all((Ep > 0).sum(0) == 1)  # every position in exactly one segment


def test_linformer_gaussian_projection_is_seeded_and_scaled():
    E1 = att.linformer_projection(50, 400, rng=np.random.default_rng(1))
    E2 = att.linformer_projection(50, 400, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(E1, E2)
    assert abs(E1.var() * 50 - 1) < 0.05  # entries N(0, 1/k)


def test_linformer_bad_input(rng):
    Q, K, V = qkv(rng, n=6)
    with pytest.raises(ValueError, match="k must be at most"):
        att.linformer_attention(Q, K, V, 7)
    with pytest.raises(ValueError, match="k must be a positive"):
        att.linformer_attention(Q, K, V, 0)
    with pytest.raises(ValueError, match="E must have shape"):
        att.linformer_attention(Q, K, V, 2, E=np.ones((3, 6)))
    with pytest.raises(ValueError, match="F must have shape"):
        att.linformer_attention(Q, K, V, 2, E=np.ones((2, 6)), F=np.ones((2, 5)))
    with pytest.raises(ValueError, match="kind"):
        att.linformer_attention(Q, K, V, 2, projection="svd")
    with pytest.raises(ValueError, match="V must be finite"):
        att.linformer_attention(Q, K, np.full_like(V, np.nan), 2)


# ------------------------------------------------------- the trained toy model

def test_model_gradients_against_finite_differences(rng):
    tokens = rng.integers(0, 5, size=(3, 4))
    targets = tokens[:, ::-1]
    p = att.attention_model_init(5, 6, rng=rng)
    _, grads = att.attention_model_gradients(p, tokens, targets)
    h = 1e-6
    for key in ("W_E", "W_Q", "W_K", "W_V", "W_out", "b_out"):
        flat = p[key].reshape(-1)
        for j in rng.choice(flat.size, size=min(6, flat.size), replace=False):
            old = flat[j]
            flat[j] = old + h
            lp = att.attention_model_gradients(p, tokens, targets)[0]
            flat[j] = old - h
            lm = att.attention_model_gradients(p, tokens, targets)[0]
            flat[j] = old
            assert abs(grads[key].reshape(-1)[j] - (lp - lm) / (2 * h)) < 1e-6, key


def test_trained_toy_model_reverses_sequences():
    """Stated in the chapter: 400 Adam steps reach 100% held-out accuracy on reversal, and the map is anti-diagonal."""
    rng = np.random.default_rng(3)
    tokens, targets = datasets.reversal_task(2000, 8, 10, rng=rng)
    params, history = att.train_attention_model(tokens[:1500], targets[:1500], 10, d_model=32, steps=400,
                                                rng=rng, progress=False)
    assert history["loss"][-1] < 0.01 < history["loss"][0]
    assert att.attention_model_accuracy(params, tokens[1500:], targets[1500:]) == 1.0
    _, A = att.attention_model_forward(params, tokens[1500:])
    np.testing.assert_array_equal(A.mean(0).argmax(axis=1), np.arange(8)[::-1])


def test_training_stops_with_a_clear_error_when_the_loss_diverges():
    # a learning rate of 1e6 makes the weights blow up; the loop must stop at the first non-finite loss,
    # naming that step, instead of running on with NaN
    tokens, targets = datasets.reversal_task(200, seq_len=6, vocab_size=5, rng=np.random.default_rng(0))

    def run(steps):
        return att.train_attention_model(tokens, targets, 5, d_model=8, steps=steps, batch_size=16,
                                         optimizer=mlp.SGD(lr=1e6), rng=np.random.default_rng(1), progress=False)

    with pytest.raises(DivergedError, match=r"train_attention_model.* at epoch (\d+)") as info:
        run(50)
    step = int(re.search(r"at epoch (\d+)", str(info.value)).group(1))
    assert 0 < step < 50 and "learning rate" in str(info.value)
    _, history = run(step)  # every step before the named one had a finite loss
    assert len(history["loss"]) == step and np.all(np.isfinite(history["loss"]))


def test_model_bad_input(rng):
    p = att.attention_model_init(5, 4, rng=rng)
    with pytest.raises(ValueError, match="tokens must be < 5"):
        att.attention_model_forward(p, np.array([[0, 5]]))
    with pytest.raises(TypeError, match="tokens"):
        att.attention_model_forward(p, np.array([[0.5, 1]]))
    with pytest.raises(ValueError, match="tokens must be 2-D"):
        att.attention_model_forward(p, np.array([0, 1]))
    with pytest.raises(ValueError, match="params must be a dict"):
        att.attention_model_forward({"W_E": p["W_E"]}, np.array([[0, 1]]))
    with pytest.raises(ValueError, match="targets must have shape"):
        att.attention_model_gradients(p, np.array([[0, 1]]), np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="steps"):
        att.train_attention_model(np.array([[0, 1]]), np.array([[1, 0]]), 5, steps=0)


def test_reversal_task():
    tokens, targets = datasets.reversal_task(20, 6, 4, rng=np.random.default_rng(0))
    assert tokens.shape == (20, 6) and tokens.min() >= 0 and tokens.max() < 4
    np.testing.assert_array_equal(targets, tokens[:, ::-1])
    with pytest.raises(ValueError, match="seq_len"):
        datasets.reversal_task(5, 0, 3)


# ------------------------------------------- properties and the remaining bad input

@given(st.integers(1, 40), st.integers(1, 45), st.booleans(), st.integers(0, 10_000))
def test_chunked_equals_full_for_any_length_and_chunk(n, chunk, causal, seed):
    r = np.random.default_rng(seed)
    Q, K, V = r.normal(size=(3, n, 5)) * 2
    full = att.scaled_dot_product_attention(Q, K, V, mask=att.causal_mask(n) if causal else None)
    assert np.max(np.abs(att.chunked_attention(Q, K, V, chunk_size=chunk, causal=causal) - full)) < 1e-12


@given(st.integers(1, 9), st.integers(1, 9), st.integers(0, 10_000))
def test_weights_row_stochastic_under_any_mask(n, m, seed):
    r = np.random.default_rng(seed)
    Q, K, V = r.normal(size=(n, 3)), r.normal(size=(m, 3)), r.normal(size=(m, 2))
    keep = r.random((n, m)) < 0.5
    _, A = att.scaled_dot_product_attention(Q, K, V, mask=keep, return_weights=True)
    has_key = keep.any(axis=1)
    np.testing.assert_allclose(A[has_key].sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(A[~keep] == 0) and np.all(A[~has_key] == 0)


def test_remaining_bad_input(rng):
    with pytest.raises(ValueError, match="n_features"):
        att.performer_projection(0, 4)
    with pytest.raises(ValueError, match="d"):
        att.performer_projection(4, 0)
    with pytest.raises(TypeError, match="rng"):
        att.performer_projection(4, 4, rng=3)
    with pytest.raises(ValueError, match="W must have shape"):
        att.performer_features(np.ones((2, 3)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="X must be finite"):
        att.performer_features(np.array([[np.nan, 1.0]]), np.ones((3, 2)))
    with pytest.raises(ValueError, match="k must be at most"):
        att.linformer_projection(5, 4)
    with pytest.raises(ValueError, match="vocab_size"):
        att.attention_model_init(0)
    with pytest.raises(ValueError, match="d_model"):
        att.attention_model_init(5, d_model=-1)
    p = att.attention_model_init(5, 4, rng=rng)
    with pytest.raises(ValueError, match="targets must have shape"):
        att.attention_model_accuracy(p, np.array([[0, 1]]), np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="W_Q"):
        att.attention_model_forward(dict(p, W_Q=np.ones((4, 3))), np.array([[0, 1]]))
