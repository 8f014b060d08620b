"""Tests for lalib.linalg (chapter 0): each function against NumPy/SciPy or the closed form."""

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import scipy.sparse as sp
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lalib import linalg
from lalib._validate import NotConvergedWarning

# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def well_conditioned(draw, min_rows=1, max_rows=8):
    """A tall (m >= n) matrix with full column rank and moderate condition number."""
    m = draw(st.integers(min_rows, max_rows))
    n = draw(st.integers(1, m))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    U = linalg.random_orthogonal(m, rng)[:, :n]
    V = linalg.random_orthogonal(n, rng)
    s = rng.uniform(0.1, 10.0, n)
    return (U * s) @ V.T


def vander_ill(m=40, n=12):
    """A famously ill-conditioned tall matrix (monomials on [0, 1])."""
    t = np.linspace(0.0, 1.0, m)
    return np.vander(t, n, increasing=True)


def orthogonality_loss(Q):
    return np.linalg.norm(Q.T @ Q - np.eye(Q.shape[1]), 2)


# ---------------------------------------------------------------------------
# norms
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ord", [1, 2, np.inf])
def test_vector_norm_matches_numpy(rng, ord):
    x = rng.standard_normal(17)
    assert linalg.vector_norm(x, ord) == pytest.approx(np.linalg.norm(x, ord), rel=1e-14)


def test_vector_norm_closed_form():
    assert linalg.vector_norm([3.0, -4.0]) == 5.0
    assert linalg.vector_norm([3.0, -4.0], 1) == 7.0
    assert linalg.vector_norm([3.0, -4.0], np.inf) == 4.0
    assert linalg.vector_norm(np.zeros(5)) == 0.0


def test_vector_norm_batched_rows(rng):
    X = rng.standard_normal((4, 3, 6))
    for ord in (1, 2, np.inf):
        np.testing.assert_allclose(linalg.vector_norm(X, ord), np.linalg.norm(X, ord, axis=-1), rtol=1e-14)


def test_vector_norm_scaling_avoids_overflow_and_underflow():
    assert linalg.vector_norm([1e200, 1e200]) == pytest.approx(np.sqrt(2) * 1e200, rel=1e-15)
    assert linalg.vector_norm([3e-200, 4e-200]) == pytest.approx(5e-200, rel=1e-15)


def test_vector_norm_keeps_float32(rng):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    assert linalg.vector_norm(x).dtype == np.float32


@given(arrays(np.float64, st.integers(1, 12), elements=finite), arrays(np.float64, st.integers(1, 12), elements=finite))
def test_norm_axioms(x, y):
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    for ord in (1, 2, np.inf):
        assert linalg.vector_norm(x + y, ord) <= linalg.vector_norm(x, ord) + linalg.vector_norm(y, ord) + 1e-12
        assert linalg.vector_norm(-2.5 * x, ord) == pytest.approx(2.5 * linalg.vector_norm(x, ord), rel=1e-12, abs=1e-300)
    # the unit balls are nested: ||x||_inf <= ||x||_2 <= ||x||_1
    assert linalg.vector_norm(x, np.inf) <= linalg.vector_norm(x, 2) * (1 + 1e-12)
    assert linalg.vector_norm(x, 2) <= linalg.vector_norm(x, 1) * (1 + 1e-12)


def test_frobenius_norm(rng):
    A = rng.standard_normal((5, 3))
    assert linalg.frobenius_norm(A) == pytest.approx(np.linalg.norm(A, "fro"), rel=1e-14)
    # equals the 2-norm of the singular values
    assert linalg.frobenius_norm(A) == pytest.approx(np.linalg.norm(np.linalg.svd(A, compute_uv=False)), rel=1e-13)


# ---------------------------------------------------------------------------
# projections
# ---------------------------------------------------------------------------

def test_projection_matches_normal_equations(rng):
    A = rng.standard_normal((8, 3))
    b = rng.standard_normal(8)
    x_ls = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(linalg.project(A, b), A @ x_ls, atol=1e-12)
    P_ref = A @ np.linalg.solve(A.T @ A, A.T)
    np.testing.assert_allclose(linalg.projection_matrix(A), P_ref, atol=1e-12)


def test_projection_residual_is_orthogonal(rng):
    A = rng.standard_normal((10, 4))
    B = rng.standard_normal((10, 3))
    r = B - linalg.project(A, B)
    np.testing.assert_allclose(A.T @ r, 0.0, atol=1e-12)


def test_projection_rank_deficient_is_handled(rng):
    a = rng.standard_normal((6, 2))
    A = np.column_stack([a, a @ [2.0, -1.0], a[:, 0]])  # rank 2, four columns
    Q = linalg.orthonormal_basis(A)
    assert Q.shape == (6, 2)
    np.testing.assert_allclose(linalg.projection_matrix(A), linalg.projection_matrix(a), atol=1e-12)
    # the zero matrix spans {0}
    assert linalg.orthonormal_basis(np.zeros((4, 2))).shape == (4, 0)
    np.testing.assert_array_equal(linalg.project(np.zeros((4, 2)), np.ones(4)), np.zeros(4))


def test_orthonormal_basis_matches_scipy_orth(rng):
    A = rng.standard_normal((7, 3)) @ rng.standard_normal((3, 5))  # rank 3
    Q = linalg.orthonormal_basis(A)
    Q_ref = scipy.linalg.orth(A)
    assert Q.shape == Q_ref.shape == (7, 3)
    np.testing.assert_allclose(Q @ Q.T, Q_ref @ Q_ref.T, atol=1e-12)


@given(well_conditioned(min_rows=2))
def test_projection_is_idempotent_and_symmetric(A):
    P = linalg.projection_matrix(A)
    np.testing.assert_allclose(P @ P, P, atol=1e-10)
    np.testing.assert_allclose(P, P.T, atol=1e-12)
    assert np.trace(P) == pytest.approx(A.shape[1], abs=1e-9)  # trace = rank
    np.testing.assert_allclose(P @ A, A, atol=1e-9)  # columns of A are fixed


# ---------------------------------------------------------------------------
# QR
# ---------------------------------------------------------------------------

QR_METHODS = {
    "classical": lambda A: linalg.gram_schmidt(A, "classical"),
    "modified": lambda A: linalg.gram_schmidt(A, "modified"),
    "householder": lambda A: linalg.householder_qr(A),
}


@pytest.mark.parametrize("name", QR_METHODS)
@given(A=well_conditioned())
def test_qr_properties(name, A):
    Q, R = QR_METHODS[name](A)
    n = A.shape[1]
    assert Q.shape == A.shape and R.shape == (n, n)
    np.testing.assert_allclose(Q.T @ Q, np.eye(n), atol=1e-10)
    np.testing.assert_array_equal(R, np.triu(R))
    np.testing.assert_allclose(Q @ R, A, atol=1e-10)


@pytest.mark.parametrize("name", QR_METHODS)
def test_qr_matches_numpy_up_to_signs(rng, name):
    A = rng.standard_normal((9, 5))
    Q, R = QR_METHODS[name](A)
    Q_ref, R_ref = np.linalg.qr(A)
    d = np.sign(np.diag(R)) * np.sign(np.diag(R_ref))  # QR is unique up to column signs
    np.testing.assert_allclose(Q * d, Q_ref, atol=1e-12)
    np.testing.assert_allclose(R * d[:, None], R_ref, atol=1e-12)


def test_gram_schmidt_diagonal_is_positive(rng):
    for method in ("classical", "modified"):
        _, R = linalg.gram_schmidt(rng.standard_normal((6, 4)), method)
        assert np.all(np.diag(R) > 0)


def test_modified_gram_schmidt_loses_less_orthogonality():
    A = vander_ill()
    kappa = np.linalg.cond(A)
    assert kappa > 1e7
    Q_cgs, _ = linalg.gram_schmidt(A, "classical")
    Q_mgs, _ = linalg.gram_schmidt(A, "modified")
    Q_hh, _ = linalg.householder_qr(A)
    loss_cgs, loss_mgs, loss_hh = map(orthogonality_loss, (Q_cgs, Q_mgs, Q_hh))
    assert loss_mgs < 1e-3 * loss_cgs  # MGS: ~ eps * kappa, CGS: ~ eps * kappa^2 (or worse)
    assert loss_mgs < 1e3 * np.finfo(float).eps * kappa
    assert loss_hh < 1e-13  # Householder: ~ eps, whatever kappa is


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (1, 3), (3, 1)])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_householder_shapes_match_numpy(rng, shape, mode):
    A = rng.standard_normal(shape)
    Q, R = linalg.householder_qr(A, mode)
    Q_ref, R_ref = np.linalg.qr(A, mode=mode)
    assert Q.shape == Q_ref.shape and R.shape == R_ref.shape
    np.testing.assert_allclose(Q.T @ Q, np.eye(Q.shape[1]), atol=1e-12)
    np.testing.assert_allclose(Q @ R, A, atol=1e-12)
    np.testing.assert_array_equal(R, np.triu(R))


def test_householder_rank_deficient_and_zero_columns(rng):
    a = rng.standard_normal((5, 2))
    A = np.column_stack([a, np.zeros(5), a.sum(axis=1)])
    Q, R = linalg.householder_qr(A)
    np.testing.assert_allclose(Q @ R, A, atol=1e-12)
    np.testing.assert_allclose(Q.T @ Q, np.eye(4), atol=1e-12)


def test_householder_keeps_float32(rng):
    A = rng.standard_normal((6, 3)).astype(np.float32)
    Q, R = linalg.householder_qr(A)
    assert Q.dtype == R.dtype == np.float32
    np.testing.assert_allclose(Q @ R, A, atol=1e-5)


def test_gram_schmidt_refuses_dependent_columns(rng):
    a = rng.standard_normal(5)
    with pytest.raises(ValueError, match="linearly independent"):
        linalg.gram_schmidt(np.column_stack([a, 2 * a]))


# ---------------------------------------------------------------------------
# power iteration
# ---------------------------------------------------------------------------

def spd_with_spectrum(rng, eigenvalues):
    Q = linalg.random_orthogonal(len(eigenvalues), rng)
    return (Q * eigenvalues) @ Q.T


def test_power_iteration_matches_eigh(rng):
    A = rng.standard_normal((30, 30))
    A = A + A.T
    lam, v, hist = linalg.power_iteration(A, rng=rng, max_iter=20000, tol=1e-12)
    w, V = np.linalg.eigh(A)
    i = np.argmax(np.abs(w))
    assert hist["converged"]
    assert lam == pytest.approx(w[i], rel=1e-10)
    assert abs(v @ V[:, i]) == pytest.approx(1.0, abs=1e-10)
    assert np.linalg.norm(v) == pytest.approx(1.0)
    assert hist["eigenvalue"].shape == hist["residual"].shape == (hist["n_iter"],)


def test_power_iteration_rate_is_ratio_of_eigenvalues(rng):
    eigs = np.array([4.0, 2.0, 1.0, 0.5, 0.25])
    A = spd_with_spectrum(rng, eigs)
    _, _, hist = linalg.power_iteration(A, x0=np.ones(5), tol=0.0, max_iter=25)
    err = np.abs(hist["eigenvalue"] - 4.0)
    # for symmetric A the Rayleigh quotient error shrinks like (lambda2/lambda1)^(2k) = 1/4 per step
    rates = err[8:16] / err[7:15]  # asymptotic regime, before rounding error dominates
    np.testing.assert_allclose(rates, 0.25, rtol=0.05)
    # the residual (an eigenvector error) like |lambda2/lambda1|^k = 1/2 per step
    res = hist["residual"]
    np.testing.assert_allclose(res[8:22] / res[7:21], 0.5, rtol=0.05)
    assert hist["n_iter"] == 25 and not hist["converged"]


def test_power_iteration_sparse_and_callable_agree(rng):
    A = sp.random_array((50, 50), density=0.1, rng=rng) + sp.eye_array(50) * 3
    A = (A + A.T).tocsr()
    x0 = rng.standard_normal(50)
    lam_s, v_s, _ = linalg.power_iteration(A, x0=x0, max_iter=5000)
    lam_d, v_d, _ = linalg.power_iteration(A.toarray(), x0=x0, max_iter=5000)
    lam_f, v_f, _ = linalg.power_iteration(lambda x: A @ x, x0=x0, max_iter=5000)
    ref = scipy.sparse.linalg.eigsh(A, k=1, which="LM", return_eigenvectors=False)[0]
    assert lam_s == pytest.approx(ref, rel=1e-9)
    assert lam_d == pytest.approx(lam_s, rel=1e-12) and lam_f == pytest.approx(lam_s, rel=1e-12)
    np.testing.assert_allclose(v_d, v_s, atol=1e-8)
    np.testing.assert_allclose(v_f, v_s, atol=1e-8)


def test_power_iteration_callable_with_n_and_rng_is_reproducible():
    D = np.array([5.0, 1.0, -2.0])
    out1 = linalg.power_iteration(lambda x: D * x, n=3, rng=np.random.default_rng(1))
    out2 = linalg.power_iteration(lambda x: D * x, n=3, rng=np.random.default_rng(1))
    assert out1[0] == out2[0] == pytest.approx(5.0)
    np.testing.assert_allclose(np.abs(out1[1]), [1.0, 0.0, 0.0], atol=1e-8)


def test_power_iteration_negative_dominant_eigenvalue():
    lam, v, hist = linalg.power_iteration(np.diag([-3.0, 1.0]), x0=[1.0, 1.0])
    assert hist["converged"] and lam == pytest.approx(-3.0)
    np.testing.assert_allclose(v, [1.0, 0.0], atol=1e-8)  # sign fixed: largest entry positive


def test_power_iteration_warns_for_plus_minus_pair():
    # eigenvalues +1 and -1: equal magnitude, so x_k flips between two vectors and never settles
    A = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.warns(NotConvergedWarning) as record:
        lam, x, hist = linalg.power_iteration(A, x0=[1.0, 0.3], max_iter=50)
    assert not hist["converged"] and hist["n_iter"] == 50
    message = str(record[0].message)
    residual = np.linalg.norm(A @ x - lam * x)
    assert "50 iterations" in message
    assert f"{residual:.3g}" in message and f"{hist['residual'][-1]:.3g}" in message
    assert "equal magnitude" in message
    assert hist["ratio_estimate"] == pytest.approx(1.0, abs=1e-3)


def test_power_iteration_warns_with_ratio_when_gap_is_small(rng):
    # |lambda2 / lambda1| = 0.99: converges, but too slowly for 200 steps; the warning estimates the ratio
    A = spd_with_spectrum(rng, np.array([1.0, 0.99, 0.5, 0.1]))
    with pytest.warns(NotConvergedWarning, match="close to 1") as record:
        _, _, hist = linalg.power_iteration(A, x0=np.ones(4), max_iter=200)
    assert hist["ratio_estimate"] == pytest.approx(0.99, abs=2e-3)
    assert "200 iterations" in str(record[0].message) and "0.99" in str(record[0].message)


def test_power_iteration_warns_for_complex_pair_and_too_few_steps():
    # a rotation by 90 degrees (eigenvalues +-i) beside a small real eigenvalue: |lambda1| = |lambda2| = 1
    R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.3]])
    with pytest.warns(NotConvergedWarning, match="equal magnitude"):
        _, _, hist = linalg.power_iteration(R, x0=np.ones(3), max_iter=100)
    assert hist["ratio_estimate"] == pytest.approx(1.0, abs=1e-3)
    with pytest.warns(NotConvergedWarning, match="Too few steps") as record:
        _, _, hist = linalg.power_iteration(np.diag([2.0, 1.0]), x0=[1.0, 1.0], max_iter=2)
    assert np.isnan(hist["ratio_estimate"]) and "2 iterations" in str(record[0].message)


def test_power_iteration_silent_when_converged_or_tol_zero(rng):
    import warnings

    A = spd_with_spectrum(rng, np.array([3.0, 1.0, 0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotConvergedWarning)
        assert linalg.power_iteration(A, x0=np.ones(3))[2]["converged"]
        assert not linalg.power_iteration(A, x0=np.ones(3), tol=0.0, max_iter=10)[2]["converged"]


def test_power_iteration_zero_matrix_converges_to_zero():
    lam, v, hist = linalg.power_iteration(np.zeros((3, 3)), x0=[1.0, 2.0, 2.0])
    assert lam == 0.0 and hist["converged"]


def test_rayleigh_quotient(rng):
    A = spd_with_spectrum(rng, np.array([3.0, 2.0, 1.0]))
    w, V = np.linalg.eigh(A)
    assert linalg.rayleigh_quotient(A, 7 * V[:, 0]) == pytest.approx(w[0])
    x = rng.standard_normal(3)
    assert linalg.rayleigh_quotient(A, x) == pytest.approx(x @ A @ x / (x @ x))
    assert w[0] - 1e-12 <= linalg.rayleigh_quotient(A, x) <= w[-1] + 1e-12


# ---------------------------------------------------------------------------
# convolution as a matrix product
# ---------------------------------------------------------------------------

@given(
    x=arrays(np.float64, st.integers(1, 20), elements=finite),
    k=st.integers(1, 20),
    seed=st.integers(0, 1000),
)
def test_conv1d_matrix_equals_direct(x, k, seed):
    k = min(k, x.size)
    w = np.random.default_rng(seed).standard_normal(k)
    T = linalg.conv1d_matrix(w, x.size)
    np.testing.assert_allclose(T @ x, linalg.cross_correlate1d(x, w), atol=1e-10)
    np.testing.assert_allclose(T @ x, np.correlate(x, w, "valid"), atol=1e-10)
    Tc = linalg.conv1d_matrix(w, x.size, kind="convolution")
    np.testing.assert_allclose(Tc @ x, linalg.convolve1d(x, w), atol=1e-10)
    np.testing.assert_allclose(Tc @ x, np.convolve(x, w, "valid"), atol=1e-10)


def test_conv1d_matrix_is_toeplitz(rng):
    w = rng.standard_normal(3)
    T = linalg.conv1d_matrix(w, 7)
    assert T.shape == (5, 7)
    first_col = np.zeros(5)
    first_col[0] = w[0]
    np.testing.assert_array_equal(T, scipy.linalg.toeplitz(first_col, np.r_[w, np.zeros(4)]))


def test_correlation_vs_convolution_is_a_flip(rng):
    x, w = rng.standard_normal(10), rng.standard_normal(4)
    np.testing.assert_allclose(linalg.convolve1d(x, w), linalg.cross_correlate1d(x, w[::-1]))
    assert not np.allclose(linalg.convolve1d(x, w), linalg.cross_correlate1d(x, w))


def test_conv2d_matches_scipy(rng):
    X, K = rng.standard_normal((9, 7)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(linalg.cross_correlate2d(X, K), scipy.signal.correlate2d(X, K, "valid"), atol=1e-12)
    np.testing.assert_allclose(linalg.convolve2d(X, K), scipy.signal.convolve2d(X, K, "valid"), atol=1e-12)
    np.testing.assert_allclose(linalg.conv2d_as_matmul(X, K), scipy.signal.correlate2d(X, K, "valid"), atol=1e-12)
    np.testing.assert_allclose(linalg.conv2d_as_matmul(X, K, "convolution"), scipy.signal.convolve2d(X, K, "valid"), atol=1e-12)


@given(
    H=st.integers(1, 8), W=st.integers(1, 8), kh=st.integers(1, 8), kw=st.integers(1, 8),
    c_in=st.integers(1, 3), c_out=st.integers(1, 3), seed=st.integers(0, 1000),
)
def test_conv2d_as_matmul_equals_direct_multichannel(H, W, kh, kw, c_in, c_out, seed):
    kh, kw = min(kh, H), min(kw, W)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((c_in, H, W))
    K = rng.standard_normal((c_out, c_in, kh, kw))
    Y = linalg.conv2d_as_matmul(X, K)
    assert Y.shape == (c_out, H - kh + 1, W - kw + 1)
    direct = np.array([sum(linalg.cross_correlate2d(X[c], K[o, c]) for c in range(c_in)) for o in range(c_out)])
    np.testing.assert_allclose(Y, direct, atol=1e-10)


def test_im2col_columns_are_patches(rng):
    X = rng.standard_normal((2, 4, 5))
    cols = linalg.im2col(X, 2, 3)
    assert cols.shape == (2 * 2 * 3, 3 * 3)
    p = 1 * 3 + 2  # patch at row 1, column 2
    np.testing.assert_array_equal(cols[:, p], X[:, 1:3, 2:5].ravel())


# ---------------------------------------------------------------------------
# random orthogonal matrices
# ---------------------------------------------------------------------------

def test_random_orthogonal_is_orthogonal_and_seeded():
    Q = linalg.random_orthogonal(6, np.random.default_rng(3))
    np.testing.assert_allclose(Q.T @ Q, np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(Q, linalg.random_orthogonal(6, np.random.default_rng(3)))
    assert linalg.random_orthogonal(4, np.random.default_rng(0), dtype=np.float32).dtype == np.float32


def test_random_orthogonal_is_haar():
    # Under the Haar measure the first column of Q is uniform on the sphere S^2,
    # so (Archimedes) its first entry is uniform on [-1, 1].
    rng = np.random.default_rng(7)
    q00 = np.array([linalg.random_orthogonal(3, rng)[0, 0] for _ in range(2000)])
    assert scipy.stats.kstest(q00, scipy.stats.uniform(-1, 2).cdf).pvalue > 1e-3
    # the same statistic from an unsigned QR is far from uniform: the sign fix matters
    raw = np.array([np.linalg.qr(rng.standard_normal((3, 3)))[0][0, 0] for _ in range(2000)])
    assert scipy.stats.kstest(raw, scipy.stats.uniform(-1, 2).cdf).pvalue < 1e-6


def test_random_orthogonal_preserves_norms(rng):
    Q = linalg.random_orthogonal(8, rng)
    X = rng.standard_normal((8, 5))
    np.testing.assert_allclose(np.linalg.norm(Q @ X, axis=0), np.linalg.norm(X, axis=0), rtol=1e-13)


# ---------------------------------------------------------------------------
# bad input, for every public function
# ---------------------------------------------------------------------------

NAN_VEC = np.array([1.0, np.nan, 2.0])
NAN_MAT = np.array([[1.0, np.nan], [0.0, 1.0]])

BAD_INPUT = [
    # (call, exception, message fragment)
    (lambda: linalg.vector_norm([1.0, 2.0], 3), ValueError, "ord"),
    (lambda: linalg.vector_norm(NAN_VEC), ValueError, "finite"),
    (lambda: linalg.vector_norm([]), ValueError, "empty"),
    (lambda: linalg.vector_norm(3.0), ValueError, "x must be"),
    (lambda: linalg.vector_norm(["a", "b"]), TypeError, "x must hold real"),
    (lambda: linalg.frobenius_norm([1.0, 2.0]), ValueError, "2-D"),
    (lambda: linalg.frobenius_norm(NAN_MAT), ValueError, "finite"),
    (lambda: linalg.frobenius_norm(np.array([[1 + 1j]])), TypeError, "real"),
    (lambda: linalg.orthonormal_basis(np.ones(3)), ValueError, "2-D"),
    (lambda: linalg.orthonormal_basis(NAN_MAT), ValueError, "finite"),
    (lambda: linalg.orthonormal_basis(np.eye(2), tol=-1.0), ValueError, "tol"),
    (lambda: linalg.projection_matrix(np.zeros((0, 2))), ValueError, "empty"),
    (lambda: linalg.projection_matrix(NAN_MAT), ValueError, "finite"),
    (lambda: linalg.project(np.eye(3), np.ones(2)), ValueError, "b must have 3 rows"),
    (lambda: linalg.project(np.eye(2), NAN_VEC[:2]), ValueError, "b must be finite"),
    (lambda: linalg.project(np.eye(2), np.ones((2, 2, 2))), ValueError, "b must be"),
    (lambda: linalg.gram_schmidt(np.ones((2, 3))), ValueError, "m >= n"),
    (lambda: linalg.gram_schmidt(np.eye(2), "fast"), ValueError, "method"),
    (lambda: linalg.gram_schmidt(NAN_MAT), ValueError, "finite"),
    (lambda: linalg.gram_schmidt(np.zeros((3, 1))), ValueError, "linearly independent"),
    (lambda: linalg.householder_qr(np.ones(3)), ValueError, "2-D"),
    (lambda: linalg.householder_qr(np.eye(2), "full"), ValueError, "mode"),
    (lambda: linalg.householder_qr(NAN_MAT), ValueError, "finite"),
    (lambda: linalg.rayleigh_quotient(np.ones((2, 3)), np.ones(2)), ValueError, "square"),
    (lambda: linalg.rayleigh_quotient(np.eye(2), np.zeros(2)), ValueError, "zero vector"),
    (lambda: linalg.rayleigh_quotient(np.eye(2), np.ones(3)), ValueError, "x must have shape"),
    (lambda: linalg.power_iteration(np.ones((2, 3))), ValueError, "square"),
    (lambda: linalg.power_iteration(NAN_MAT), ValueError, "finite"),
    (lambda: linalg.power_iteration(np.eye(2), x0=np.zeros(2)), ValueError, "zero vector"),
    (lambda: linalg.power_iteration(np.eye(2), x0=np.ones(3)), ValueError, "x0 must have shape"),
    (lambda: linalg.power_iteration(np.eye(2), max_iter=0), ValueError, "max_iter"),
    (lambda: linalg.power_iteration(np.eye(2), tol=-1e-3), ValueError, "tol"),
    (lambda: linalg.power_iteration(np.eye(2), rng=0), TypeError, "rng"),
    (lambda: linalg.power_iteration(np.eye(2), x0=np.ones(2), rng=0), TypeError, "rng"),
    (lambda: linalg.power_iteration(np.eye(2), n=0), ValueError, "n must be a positive"),
    (lambda: linalg.power_iteration("abc"), TypeError, "real numbers"),
    (lambda: linalg.power_iteration(lambda x: x), ValueError, "give n or x0"),
    (lambda: linalg.power_iteration(lambda x: x[:1], n=3), ValueError, "length 3"),
    (lambda: linalg.power_iteration(lambda x: x * np.nan, n=3), ValueError, "finite"),
    (lambda: linalg.power_iteration(lambda x: x, n=3, x0=np.ones(2)), ValueError, "x0 must have length"),
    (lambda: linalg.power_iteration(np.array([[1.0, 0.0], [0.0, 1j]])), TypeError, "real"),
    (lambda: linalg.cross_correlate1d(np.ones(2), np.ones(3)), ValueError, "longer"),
    (lambda: linalg.cross_correlate1d(NAN_VEC, np.ones(2)), ValueError, "x must be finite"),
    (lambda: linalg.cross_correlate1d(np.ones(3), []), ValueError, "w must not be empty"),
    (lambda: linalg.convolve1d(np.ones((2, 2)), np.ones(1)), ValueError, "1-D"),
    (lambda: linalg.convolve1d(np.ones(3), NAN_VEC[:2]), ValueError, "w must be finite"),
    (lambda: linalg.conv1d_matrix(np.ones(3), 2), ValueError, "n must be at least"),
    (lambda: linalg.conv1d_matrix(np.ones(3), 4.0), TypeError, "n must be an integer"),
    (lambda: linalg.conv1d_matrix(np.ones(3), 4, kind="full"), ValueError, "kind"),
    (lambda: linalg.im2col(np.ones((3, 3)), 4, 1), ValueError, "kh must be at most 3"),
    (lambda: linalg.im2col(np.ones(3), 1, 1), ValueError, "X must be 2-D or 3-D"),
    (lambda: linalg.im2col(np.ones((3, 3)), 0, 1), ValueError, "kh"),
    (lambda: linalg.cross_correlate2d(np.ones((2, 2)), np.ones((3, 1))), ValueError, "fit inside"),
    (lambda: linalg.cross_correlate2d(NAN_MAT, np.ones((1, 1))), ValueError, "finite"),
    (lambda: linalg.convolve2d(np.ones((3, 3)), np.ones(2)), ValueError, "K must be 2-D"),
    (lambda: linalg.conv2d_as_matmul(np.ones((2, 3, 3)), np.ones((2, 2))), ValueError, "C_out, C_in"),
    (lambda: linalg.conv2d_as_matmul(np.ones((2, 3, 3)), np.ones((1, 3, 2, 2))), ValueError, "C_in"),
    (lambda: linalg.conv2d_as_matmul(np.ones((1, 3, 3)), np.ones((1, 1, 4, 1))), ValueError, "fit inside"),
    (lambda: linalg.conv2d_as_matmul(np.ones((3, 3)), np.ones((2, 2)), kind="same"), ValueError, "kind"),
    (lambda: linalg.random_orthogonal(0), ValueError, "n must be a positive"),
    (lambda: linalg.random_orthogonal(2.5), TypeError, "n must be an integer"),
    (lambda: linalg.random_orthogonal(3, rng=42), TypeError, "rng"),
    (lambda: linalg.random_orthogonal(3, dtype=np.int64), TypeError, "dtype"),
    # chapter 6 (each function has more bad-input cases in test_linalg_nla.py)
    (lambda: linalg.lanczos_basis(np.eye(5), 0), ValueError, "m must be a positive"),
    (lambda: linalg.lanczos(np.eye(5), 5), ValueError, "k must be at most 4"),
    (lambda: linalg.planted_graph_laplacian(100), ValueError, "n must be at least"),
    (lambda: linalg.jl_dimension(100, 1.5), ValueError, "eps must lie in"),
    (lambda: linalg.random_projection_matrix(10, 5, "fourier"), ValueError, "kind"),
    (lambda: linalg.random_projection(np.ones(4), 2), ValueError, "X must be 2-D"),
    (lambda: linalg.distance_distortion(np.eye(3), np.eye(2)), ValueError, "Y must have one row per row of X"),
    (lambda: linalg.lowp_sum(np.ones(3), "kahan"), ValueError, "method"),
    (lambda: linalg.lowp_dot(np.ones(3), np.ones(4)), ValueError, "y must have shape"),
    (lambda: linalg.lowp_softmax(np.ones((2, 3)), axis=2), ValueError, "axis must be an integer"),
]


@pytest.mark.parametrize("call, exc, fragment", BAD_INPUT, ids=[str(i) for i in range(len(BAD_INPUT))])
def test_bad_input_is_refused_clearly(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call()


def test_every_public_function_has_a_bad_input_case():
    import inspect

    covered = {name for name in linalg.__all__ if any(f"linalg.{name}(" in inspect.getsource(c) for c, _, _ in BAD_INPUT)}
    assert covered == set(linalg.__all__)
