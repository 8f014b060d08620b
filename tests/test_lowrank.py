"""Tests for lalib.lowrank (chapter 4): the truncated SVD against numpy.linalg.svd, Eckart–Young
errors exactly, randomized SVD within 5% of the optimum on decaying spectra (dense tall and wide,
sparse, LinearOperator), PCA against the covariance eigenvectors and an independent reference,
ALS recovery, LoRA gradients against finite differences, merge/unmerge, the fine-tuning experiment,
and bad input for every public function."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from lalib import attention, datasets
from lalib import lowrank as lr
from lalib.mlp import numerical_jacobian


def decaying(rng, m, n, decay=0.8, rank=None):
    """A dense (m, n) matrix with singular values decay**j and Haar-random singular vectors."""
    p = min(m, n) if rank is None else rank
    U, _ = np.linalg.qr(rng.normal(size=(m, p)))
    V, _ = np.linalg.qr(rng.normal(size=(n, p)))
    s = decay ** np.arange(p)
    return (U * s) @ V.T, s


def sparse_decaying(rng, m, n, density=0.02):
    """A sparse matrix whose spectrum decays: a sparse random matrix scaled by decaying row and column weights."""
    S = sp.random_array((m, n), density=density, rng=rng, format="csr", data_sampler=rng.standard_normal)
    rows = sp.diags_array(0.97 ** np.arange(m))
    cols = sp.diags_array(0.97 ** np.arange(n))
    return sp.csr_array(rows @ S @ cols)


# --------------------------------------------------------------------- truncated SVD

def test_truncated_svd_matches_numpy(rng):
    A = rng.normal(size=(9, 6))
    U, s, Vt = lr.truncated_svd(A, 3)
    U0, s0, Vt0 = np.linalg.svd(A)
    assert U.shape == (9, 3) and s.shape == (3,) and Vt.shape == (3, 6)
    assert np.allclose(s, s0[:3])
    # singular vectors agree up to sign: compare the rank-one pieces u_j v_jᵀ
    for j in range(3):
        assert np.allclose(np.outer(U[:, j], Vt[j]), np.outer(U0[:, j], Vt0[j]))


@pytest.mark.parametrize("shape", [(12, 7), (7, 12), (10, 10)])
def test_eckart_young_errors_are_exact(rng, shape):
    A = rng.normal(size=shape)
    s_all = np.linalg.svd(A, compute_uv=False)
    for k in range(1, min(shape) + 1):
        U, s, Vt = lr.truncated_svd(A, k)
        Ak = (U * s) @ Vt
        spec, frob = lr.eckart_young_error(s_all, k)
        assert np.isclose(np.linalg.norm(A - Ak, 2), spec, atol=1e-12)
        assert np.isclose(np.linalg.norm(A - Ak, "fro"), frob, atol=1e-12)
        assert np.linalg.matrix_rank(Ak) == k


def test_eckart_young_no_rank_k_matrix_is_closer(rng):
    # Any other rank-k matrix (here: random ones and a perturbed optimum) is farther away in both norms.
    A = rng.normal(size=(8, 6))
    k = 2
    spec, frob = lr.eckart_young_error(np.linalg.svd(A, compute_uv=False), k)
    U, s, Vt = lr.truncated_svd(A, k)
    for _ in range(20):
        B = (U * s + 0.05 * rng.normal(size=(8, k))) @ (Vt + 0.05 * rng.normal(size=(k, 6)))
        assert np.linalg.norm(A - B, 2) >= spec - 1e-12
        assert np.linalg.norm(A - B) >= frob - 1e-12


def test_truncated_svd_preserves_float32(rng):
    A = rng.normal(size=(5, 4)).astype(np.float32)
    U, s, Vt = lr.truncated_svd(A, 2)
    assert U.dtype == s.dtype == Vt.dtype == np.float32


def test_compress_weight_counts_and_error(rng):
    W = rng.normal(size=(20, 12))
    L, R, before, after = lr.compress_weight(W, 4)
    assert L.shape == (20, 4) and R.shape == (4, 12)
    assert before == 240 and after == 4 * 32
    s = np.linalg.svd(W, compute_uv=False)
    assert np.isclose(np.linalg.norm(W - L @ R, 2), s[4])


def test_effective_rank():
    assert lr.effective_rank([3.0, 0.0, 0.0]) == 1
    s = np.array([1.0, 1.0, 1.0, 1.0])
    assert lr.effective_rank(s, 0.5) == 2 and lr.effective_rank(s, 1.0) == 4


# --------------------------------------------------------------------- randomized SVD

def _spectral_error(A, U, s, Vt):
    D = (A.toarray() if sp.issparse(A) else A) - (U * s) @ Vt
    return np.linalg.norm(D, 2)


@pytest.mark.parametrize("shape", [(600, 150), (150, 600), (300, 300)], ids=["tall", "wide", "square"])
def test_randomized_svd_near_optimal_on_dense(shape):
    rng = np.random.default_rng(41)
    A, s_true = decaying(rng, *shape, decay=0.9)
    k = 12
    U, s, Vt = lr.randomized_svd(A, k, n_iter=2, rng=np.random.default_rng(1))
    assert U.shape == (shape[0], k) and Vt.shape == (k, shape[1])
    assert _spectral_error(A, U, s, Vt) <= 1.05 * s_true[k]
    assert np.allclose(U.T @ U, np.eye(k), atol=1e-12) and np.allclose(Vt @ Vt.T, np.eye(k), atol=1e-12)
    assert np.allclose(s, s_true[:k], rtol=1e-3)


def test_randomized_svd_near_optimal_on_sparse():
    rng = np.random.default_rng(42)
    A = sparse_decaying(rng, 500, 300, density=0.03)
    k = 10
    U, s, Vt = lr.randomized_svd(A, k, n_iter=2, rng=np.random.default_rng(2))
    s_true = np.linalg.svd(A.toarray(), compute_uv=False)
    assert _spectral_error(A, U, s, Vt) <= 1.05 * s_true[k]
    assert np.allclose(U.T @ U, np.eye(k), atol=1e-12) and np.allclose(Vt @ Vt.T, np.eye(k), atol=1e-12)


def test_randomized_svd_on_a_linear_operator_never_needs_entries():
    rng = np.random.default_rng(43)
    m, n = 400, 250
    Ua, _ = np.linalg.qr(rng.normal(size=(m, 60)))
    Va, _ = np.linalg.qr(rng.normal(size=(n, 60)))
    sig = 1.0 / (1.0 + np.arange(60)) ** 2
    calls = {"matmat": 0}

    def matmat(X):
        calls["matmat"] += 1
        return Ua @ (sig[:, None] * (Va.T @ X))

    op = LinearOperator((m, n), matvec=lambda x: matmat(x.reshape(-1, 1)).ravel(), matmat=matmat,
                        rmatvec=lambda y: Va @ (sig * (Ua.T @ y)), rmatmat=lambda Y: Va @ (sig[:, None] * (Ua.T @ Y)),
                        dtype=np.float64)
    k = 8
    U, s, Vt = lr.randomized_svd(op, k, n_iter=2, rng=np.random.default_rng(3))
    A = (Ua * sig) @ Va.T
    assert calls["matmat"] == 3                  # sketch + q = 2 power iterations, nothing else
    assert _spectral_error(A, U, s, Vt) <= 1.05 * sig[k]
    assert np.allclose(U.T @ U, np.eye(k), atol=1e-12)
    # aslinearoperator of a dense matrix gives the same result as the matrix itself (same seed)
    U2, s2, _ = lr.randomized_svd(aslinearoperator(A), k, rng=np.random.default_rng(3))
    U3, s3, _ = lr.randomized_svd(A, k, rng=np.random.default_rng(3))
    assert np.allclose(s2, s3)


def test_randomized_svd_exact_on_low_rank_and_preserves_float32(rng):
    A = rng.normal(size=(40, 5)) @ rng.normal(size=(5, 30))
    U, s, Vt = lr.randomized_svd(A, 5, oversample=0, n_iter=0, rng=rng)
    assert np.allclose((U * s) @ Vt, A)
    U, s, Vt = lr.randomized_svd(A.astype(np.float32), 5, rng=rng)
    assert U.dtype == s.dtype == Vt.dtype == np.float32


def test_range_finder_needs_reorthonormalization():
    # The kernel's basis stays orthonormal and captures the range even for q = 8 on a wide spectrum,
    # where (A Aᵀ)^q A Ω without the intermediate QRs loses every direction below σ_1 to rounding.
    rng = np.random.default_rng(44)
    A, s = decaying(rng, 200, 120, decay=0.7)
    ell, q = 15, 8
    Q = lr.randomized_range_finder(A, ell, n_iter=q, rng=np.random.default_rng(5))
    assert np.allclose(Q.T @ Q, np.eye(ell), atol=1e-12)
    assert np.linalg.norm(A - Q @ (Q.T @ A), 2) <= 1.05 * s[ell]
    Omega = np.random.default_rng(5).standard_normal((120, ell))
    Y = A @ Omega
    for _ in range(q):
        Y = A @ (A.T @ Y)
    Qbad, _ = np.linalg.qr(Y)
    assert np.linalg.norm(A - Qbad @ (Qbad.T @ A), 2) > 10 * s[ell]


def test_hmt_bound_dominates_measured_mean_error():
    rng = np.random.default_rng(45)
    A, s = decaying(rng, 120, 80, decay=0.85)
    k = 10
    for p, q in [(2, 0), (5, 0), (10, 0), (5, 1), (5, 2)]:
        errs = [np.linalg.norm(A - (Q := lr.randomized_range_finder(A, k + p, q, rng=np.random.default_rng(t)))
                               @ (Q.T @ A), 2) for t in range(8)]
        bound = lr.hmt_error_bound(s, k, p, q)
        assert s[k + p] <= np.mean(errs) <= bound      # a (k+p)-dimensional basis can beat σ_{k+1}
    # more oversampling and more power iterations lower the bound toward σ_{k+1}
    assert lr.hmt_error_bound(s, k, 20, 0) < lr.hmt_error_bound(s, k, 5, 0)
    assert lr.hmt_error_bound(s, k, 5, 3) < lr.hmt_error_bound(s, k, 5, 1) < lr.hmt_error_bound(s, k, 5, 0)


def test_hmt_bound_closed_form_for_q0():
    s = np.array([4.0, 2.0, 1.0, 0.5])
    k, p = 1, 3
    expected = (1 + math.sqrt(k / (p - 1))) * 2.0 + math.e * math.sqrt(k + p) / p * math.sqrt(4 + 1 + 0.25)
    assert np.isclose(lr.hmt_error_bound(s, k, p, 0), expected)


# --------------------------------------------------------------------- PCA

def test_pca_matches_covariance_eigenvectors(rng):
    X = rng.normal(size=(200, 5)) @ rng.normal(size=(5, 5)) + np.array([10.0, -3.0, 0.0, 5.0, 1.0])
    res = lr.pca(X, 3)
    C = np.cov(X, rowvar=False)
    lam, Q = np.linalg.eigh(C)
    lam, Q = lam[::-1], Q[:, ::-1]
    assert np.allclose(res["explained_variance"], lam[:3])
    assert np.allclose(res["explained_variance_ratio"], lam[:3] / lam.sum())
    for j in range(3):
        assert np.isclose(abs(res["components"][j] @ Q[:, j]), 1.0)
    assert np.allclose(res["mean"], X.mean(axis=0))
    assert np.allclose(res["scores"], (X - X.mean(axis=0)) @ res["components"].T)
    assert np.allclose(res["components"] @ res["components"].T, np.eye(3))


def test_pca_against_sign_insensitive_reference(rng):
    # Reference: power iteration with deflation on the covariance, written independently of the SVD.
    X = rng.normal(size=(120, 4)) * np.array([5.0, 3.0, 1.5, 0.5]) + 2.0
    res = lr.pca(X, 2)
    C = np.cov(X, rowvar=False)
    for j in range(2):
        v = np.ones(4)
        for _ in range(500):
            v = C @ v
            v /= np.linalg.norm(v)
        lam = v @ C @ v
        C = C - lam * np.outer(v, v)
        comp = res["components"][j]
        assert min(np.linalg.norm(comp - v), np.linalg.norm(comp + v)) < 1e-8
    # the sign convention: the largest-magnitude entry of each component is positive
    idx = np.argmax(np.abs(res["components"]), axis=1)
    assert np.all(res["components"][np.arange(2), idx] > 0)


@given(st.integers(2, 30), st.integers(1, 6), st.integers(0, 10_000))
def test_pca_invariant_to_translation(n, d, seed):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, d))
    k = min(n, d)
    a, b = lr.pca(X, k), lr.pca(X + r.normal(size=d) * 100, k)
    assert np.allclose(a["explained_variance"], b["explained_variance"], atol=1e-8)
    assert np.all(np.diff(a["explained_variance"]) <= 1e-12)


# --------------------------------------------------------------------- ALS

def test_als_recovers_low_rank_matrix_from_30_percent():
    rng = np.random.default_rng(46)
    m, n, k = 120, 90, 3
    R = rng.normal(size=(m, k)) @ rng.normal(size=(k, n))
    mask = rng.random((m, n)) < 0.30
    U, V, hist = lr.als_complete(R, mask, k, reg=1e-6, n_iter=100, rng=np.random.default_rng(0),
                                 return_history=True)
    held_out = ~mask
    rel = np.linalg.norm((U @ V.T - R)[held_out]) / np.linalg.norm(R[held_out])
    assert rel < 1e-3
    assert np.all(np.diff(hist["rmse"]) <= 1e-9)     # each sweep can only lower the objective (λ ~ 0)


def test_als_half_step_solves_the_observed_least_squares(rng):
    # One sweep from a given V equals the per-row regularized least squares written with lstsq.
    m, n, k, reg = 7, 9, 2, 0.3
    R = rng.normal(size=(m, n))
    mask = rng.random((m, n)) < 0.6
    mask[:, 0] = True
    V = rng.normal(size=(n, k))
    U = lr._half_step(np.where(mask, R, 0.0), mask.astype(float), V, reg)
    for i in range(m):
        Vi = V[mask[i]]
        ri = R[i, mask[i]]
        big = np.vstack([Vi, math.sqrt(reg) * np.eye(k)])
        want = np.linalg.lstsq(big, np.concatenate([ri, np.zeros(k)]), rcond=None)[0]
        assert np.allclose(U[i], want)


def test_als_sparse_input_equals_dense_with_mask():
    rng = np.random.default_rng(47)
    R = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 25))
    mask = rng.random(R.shape) < 0.5
    Rs = sp.csr_array(np.where(mask, R, 0.0))
    Rs.eliminate_zeros()
    U1, V1 = lr.als_complete(R, mask, 3, reg=0.01, n_iter=10, rng=np.random.default_rng(0))
    U2, V2 = lr.als_complete(Rs, None, 3, reg=0.01, n_iter=10, rng=np.random.default_rng(0))
    assert np.allclose(U1 @ V1.T, U2 @ V2.T)


def test_als_ignores_missing_entries(rng):
    # Whatever the unobserved entries hold (even NaN), the result is the same.
    R = rng.normal(size=(15, 3)) @ rng.normal(size=(3, 12))
    mask = rng.random(R.shape) < 0.6
    R2 = np.where(mask, R, np.nan)
    U1, V1 = lr.als_complete(R, mask, 2, n_iter=5, rng=np.random.default_rng(0))
    U2, V2 = lr.als_complete(R2, mask, 2, n_iter=5, rng=np.random.default_rng(0))
    assert np.allclose(U1, U2) and np.allclose(V1, V2)


def test_als_warns_when_tolerance_not_met(rng):
    R = rng.normal(size=(20, 15))
    mask = rng.random(R.shape) < 0.5
    with pytest.warns(lr.NotConvergedWarning, match="n_iter = 2"):
        lr.als_complete(R, mask, 3, n_iter=2, tol=1e-15, rng=rng)


# --------------------------------------------------------------------- LoRA

def test_lora_init_starts_equal_to_frozen_layer(rng):
    W, b = rng.normal(size=(6, 4)), rng.normal(size=4)
    lora = lr.lora_init(W, 2, 8.0, rng=rng)
    X = rng.normal(size=(5, 6))
    assert np.array_equal(lr.lora_forward(X, W, b, lora), X @ W + b)
    assert np.all(lora["B"] == 0) and np.linalg.matrix_rank(lora["A"]) == 2
    assert lora["scale"] == 4.0
    assert np.array_equal(lr.lora_merge(W, lora), W)


def test_lora_forward_equals_merged_weight(rng):
    W = rng.normal(size=(6, 4))
    lora = lr.lora_init(W, 3, 6.0, rng=rng)
    lora["B"] = rng.normal(size=(3, 4))
    X = rng.normal(size=(5, 6))
    assert np.allclose(lr.lora_forward(X, W, None, lora), X @ lr.lora_merge(W, lora))
    assert np.linalg.matrix_rank(lr.lora_delta(lora)) == 3


def test_lora_gradients_match_finite_differences(rng):
    W, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    X = rng.normal(size=(4, 5))
    lora = lr.lora_init(W, 2, 3.0, rng=rng)
    lora["B"] = rng.normal(size=(2, 3))          # away from the B = 0 start, so dA is not zero
    T = rng.normal(size=(4, 3))
    loss = lambda L: 0.5 * np.sum((lr.lora_forward(X, W, b, L) - T) ** 2)  # noqa: E731
    dZ = lr.lora_forward(X, W, b, lora) - T
    dX, g = lr.lora_backward(dZ, X, W, lora)
    fd_A = numerical_jacobian(lambda A: loss({**lora, "A": A}), lora["A"]).reshape(lora["A"].shape)
    fd_B = numerical_jacobian(lambda B: loss({**lora, "B": B}), lora["B"]).reshape(lora["B"].shape)
    fd_X = numerical_jacobian(lambda Xv: 0.5 * np.sum((lr.lora_forward(Xv, W, b, lora) - T) ** 2), X).reshape(X.shape)
    assert np.allclose(g["A"], fd_A, atol=1e-7) and np.allclose(g["B"], fd_B, atol=1e-7)
    assert np.allclose(dX, fd_X, atol=1e-7)
    # the chain rule from the effective weight's gradient gives the same
    g2 = lr.lora_weight_gradients(X.T @ dZ, lora)
    assert np.allclose(g2["A"], g["A"]) and np.allclose(g2["B"], g["B"])
    assert set(g) == {"A", "B"}                  # W and b are frozen: no gradient for them


def test_lora_merge_unmerge_round_trip(rng):
    W = rng.normal(size=(8, 5))
    lora = lr.lora_init(W, 2, 4.0, rng=rng)
    lora["B"] = rng.normal(size=(2, 5))
    merged = lr.lora_merge(W, lora)
    assert not np.allclose(merged, W)
    assert np.allclose(lr.lora_unmerge(merged, lora), W, rtol=0, atol=1e-14)
    assert np.allclose(merged - W, lr.lora_delta(lora))


def test_lora_num_params():
    assert lr.lora_num_params(12288, 12288, 8) == 8 * 2 * 12288
    assert lr.lora_num_params(3, 5, 2) == 16


def test_finetune_attention_model_lora_and_full_reach_stated_accuracy():
    # Task A: reversal; task B: reversal shifted by one position. LoRA r = 4 on W_Q, W_V must reach 95%.
    tok, tgt = datasets.reversal_task(1200, seq_len=8, vocab_size=10, rng=np.random.default_rng(3))
    model, _ = attention.train_attention_model(tok, tgt, 10, d_model=32, steps=400, rng=np.random.default_rng(3),
                                               progress=False)
    tgt_b = np.roll(tok[:, ::-1], 1, axis=1)
    test_tok, test_tgt = tok[1000:], tgt_b[1000:]
    before = attention.attention_model_accuracy(model, test_tok, test_tgt)
    tuned, info = lr.finetune_attention_model(model, tok[:1000], tgt_b[:1000], rank=4, steps=300,
                                              rng=np.random.default_rng(0), progress=False)
    acc = attention.attention_model_accuracy(tuned, test_tok, test_tgt)
    assert before < 0.3 and acc >= 0.95
    assert info["trainable"] == 2 * 4 * 64
    for name in ("W_E", "W_K", "W_out", "b_out"):   # frozen
        assert np.array_equal(tuned[name], model[name])
    assert np.linalg.matrix_rank(tuned["W_Q"] - model["W_Q"]) <= 4
    full, info_full = lr.finetune_attention_model(model, tok[:1000], tgt_b[:1000], steps=300,
                                                  rng=np.random.default_rng(0), progress=False)
    assert attention.attention_model_accuracy(full, test_tok, test_tgt) >= 0.95
    assert info_full["trainable"] == sum(v.size for v in model.values())


# --------------------------------------------------------------------- bad input

@pytest.mark.parametrize("k", [0, -1, 7])
def test_truncated_svd_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        lr.truncated_svd(np.ones((6, 4)), k)


def test_bad_matrices_named():
    with pytest.raises(ValueError, match="A must be finite"):
        lr.truncated_svd(np.array([[1.0, np.nan], [0.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="A must be 2-D"):
        lr.truncated_svd(np.ones(3), 1)
    with pytest.raises(TypeError, match="A must be a dense array"):
        lr.truncated_svd(sp.eye(3), 1)
    with pytest.raises(TypeError, match="k must be an integer"):
        lr.truncated_svd(np.eye(3), 1.5)
    with pytest.raises(ValueError, match="A must be finite"):
        lr.randomized_svd(np.array([[np.inf, 1.0], [0.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="A must be finite"):
        lr.randomized_svd(sp.csr_array(np.array([[np.nan, 1.0], [0.0, 1.0]])), 1)
    with pytest.raises(ValueError, match="k must be at most 2"):
        lr.randomized_svd(np.eye(2), 3)
    with pytest.raises(ValueError, match="k must be a positive"):
        lr.randomized_svd(np.eye(2), 0)
    with pytest.raises(ValueError, match="oversample must be"):
        lr.randomized_svd(np.eye(2), 1, oversample=-1)
    with pytest.raises(ValueError, match="n_iter must be"):
        lr.randomized_svd(np.eye(2), 1, n_iter=-2)
    with pytest.raises(TypeError, match="rng must be"):
        lr.randomized_svd(np.eye(2), 1, rng=0)
    with pytest.raises(ValueError, match="size must be"):
        lr.randomized_range_finder(np.eye(3), 0)
    with pytest.raises(ValueError, match="A must not be empty"):
        lr.randomized_svd(np.ones((0, 3)), 1)


def test_bad_input_eckart_young_hmt_effective_rank():
    with pytest.raises(ValueError, match="descending"):
        lr.eckart_young_error([1.0, 2.0], 1)
    with pytest.raises(ValueError, match="k must be at most 2"):
        lr.eckart_young_error([2.0, 1.0], 3)
    with pytest.raises(ValueError, match="oversample must be at least 2"):
        lr.hmt_error_bound([3.0, 2.0, 1.0], 1, 1)
    with pytest.raises(ValueError, match="k must be at most 2"):
        lr.hmt_error_bound([3.0, 2.0, 1.0], 3, 5)
    with pytest.raises(ValueError, match="s must be finite"):
        lr.hmt_error_bound([np.nan, 1.0], 1, 5)
    with pytest.raises(ValueError, match="energy must"):
        lr.effective_rank([1.0], 1.5)
    with pytest.raises(ValueError, match="all zero"):
        lr.effective_rank([0.0, 0.0])
    with pytest.raises(ValueError, match="k must be at most 3"):
        lr.compress_weight(np.ones((3, 5)), 4)


def test_bad_input_pca():
    with pytest.raises(ValueError, match="at least 2 rows"):
        lr.pca(np.ones((1, 3)), 1)
    with pytest.raises(ValueError, match="k must be at most 3"):
        lr.pca(np.random.default_rng(0).normal(size=(10, 3)), 4)
    with pytest.raises(ValueError, match="X must be finite"):
        lr.pca(np.array([[1.0, np.nan], [0.0, 1.0]]), 1)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        lr.pca(np.array([["a", "b"], ["c", "d"]]), 1)


def test_bad_input_als():
    R = np.ones((4, 3))
    mask = np.ones((4, 3), dtype=bool)
    with pytest.raises(ValueError, match="mask must have shape"):
        lr.als_complete(R, mask[:3], 1)
    with pytest.raises(TypeError, match="mask must be a boolean"):
        lr.als_complete(R, mask.astype(int), 1)
    with pytest.raises(ValueError, match="mask must be given"):
        lr.als_complete(R, None, 1)
    with pytest.raises(ValueError, match="mask must be None"):
        lr.als_complete(sp.csr_array(R), mask, 1)
    with pytest.raises(ValueError, match="at least one observed"):
        lr.als_complete(R, np.zeros((4, 3), dtype=bool), 1)
    with pytest.raises(ValueError, match="k must be at most 3"):
        lr.als_complete(R, mask, 4)
    with pytest.raises(ValueError, match="reg must be > 0"):
        lr.als_complete(R, mask, 1, reg=0.0)
    with pytest.raises(ValueError, match="observed entries"):
        lr.als_complete(np.where(mask, np.inf, 0.0), mask, 1)


def test_bad_input_lora():
    W = np.ones((6, 4))
    with pytest.raises(ValueError, match="r must be a positive"):
        lr.lora_init(W, 0, 1.0)
    with pytest.raises(ValueError, match="r must be at most 4"):
        lr.lora_init(W, 5, 1.0)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        lr.lora_init(W, 1, -1.0)
    with pytest.raises(ValueError, match="W must be finite"):
        lr.lora_init(np.full((2, 2), np.nan), 1, 1.0)
    lora = lr.lora_init(W, 2, 2.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="does not fit W of shape"):
        lr.lora_merge(np.ones((5, 4)), lora)
    with pytest.raises(ValueError, match="does not fit W of shape"):
        lr.lora_forward(np.ones((2, 6)), np.ones((6, 3)), None, lora)
    with pytest.raises(ValueError, match="X must have shape"):
        lr.lora_forward(np.ones((2, 5)), W, None, lora)
    with pytest.raises(ValueError, match="b must have shape"):
        lr.lora_forward(np.ones((2, 6)), W, np.ones(3), lora)
    with pytest.raises(ValueError, match="dZ must have shape"):
        lr.lora_backward(np.ones((2, 3)), np.ones((2, 6)), W, lora)
    with pytest.raises(ValueError, match="keys 'A', 'B', 'scale'"):
        lr.lora_merge(W, {"A": lora["A"]})
    with pytest.raises(ValueError, match=r"lora\['B'\] must have shape"):
        lr.lora_delta({"A": np.ones((6, 2)), "B": np.ones((3, 4)), "scale": 1.0})
    with pytest.raises(ValueError, match="does not fit"):
        lr.lora_unmerge(np.ones((6, 5)), lora)
    with pytest.raises(ValueError, match="dW must have shape"):
        lr.lora_weight_gradients(np.ones((6, 5)), lora)
    with pytest.raises(ValueError, match="r must be at most 3"):
        lr.lora_num_params(3, 5, 4)
    with pytest.raises(ValueError, match="params must be"):
        lr.finetune_attention_model({}, np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=int))
    params = attention.attention_model_init(5, 8, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="tokens must be < 5"):
        lr.finetune_attention_model(params, np.full((2, 3), 7), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="adapt must name"):
        lr.finetune_attention_model(params, np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=int),
                                    rank=1, adapt=("W_X",))


@given(st.integers(2, 25), st.integers(2, 25), st.integers(0, 3), st.integers(0, 10_000))
def test_randomized_svd_properties(m, n, q, seed):
    # orthonormal factors, descending values, and σ_j(QᵀA) <= σ_j(A) (a projection never adds energy)
    r = np.random.default_rng(seed)
    A = r.normal(size=(m, n))
    k = int(r.integers(1, min(m, n) + 1))
    U, s, Vt = lr.randomized_svd(A, k, oversample=int(r.integers(0, 5)), n_iter=q, rng=r)
    assert U.shape == (m, k) and s.shape == (k,) and Vt.shape == (k, n)
    assert np.allclose(U.T @ U, np.eye(k), atol=1e-10) and np.allclose(Vt @ Vt.T, np.eye(k), atol=1e-10)
    assert np.all(np.diff(s) <= 1e-12)
    assert np.all(s <= np.linalg.svd(A, compute_uv=False)[:k] * (1 + 1e-10))
