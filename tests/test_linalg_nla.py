"""Tests for the chapter 6 kernels of lalib.linalg: Lanczos, random projections, reduced precision.

Each kernel against an independent reference (numpy.linalg.eigh, scipy.sparse.linalg.eigsh,
the closed-form Johnson–Lindenstrauss bound, float64 sums and Higham's error bounds).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import eigsh

from lalib import attention, linalg
from lalib._validate import NotConvergedWarning


def sym_dense(n=200, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    return (A + A.T) / 2


def strakos(n=48, lam1=0.1, lamn=100.0, rho=0.9):
    """Strakoš's diagonal test matrix: eigenvalues dense at the bottom, sparse at the top.

    Plain Lanczos on it loses orthogonality quickly and produces ghost copies of
    the largest eigenvalues (the classical demonstration of Paige's theory).
    """
    i = np.arange(1, n + 1)
    return np.diag(lam1 + (i - 1) / (n - 1) * (lamn - lam1) * rho ** (n - i))


@pytest.fixture(scope="module")
def graph_L():
    return linalg.planted_graph_laplacian(3000, rng=np.random.default_rng(1))


# ---------------------------------------------------------------------------
# lanczos against eigh / eigsh
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["largest", "smallest"])
@pytest.mark.parametrize("reorth", ["full", "selective", "none"])
def test_lanczos_dense_matches_eigh(which, reorth):
    A = sym_dense()
    w = np.linalg.eigh(A)[0]
    k = 4
    vals, vecs = linalg.lanczos(A, k, which=which, reorth=reorth, rng=np.random.default_rng(2))
    want = w[-k:] if which == "largest" else w[:k]
    np.testing.assert_allclose(vals, want, rtol=0, atol=1e-8)
    assert np.all(np.diff(vals) >= 0)
    if reorth != "none":  # eigenvectors of plain Lanczos are not reliable; eigenvalues are
        res = np.linalg.norm(A @ vecs - vecs * vals, axis=0)
        assert np.all(res < 1e-6), res


@pytest.mark.parametrize("which,eigsh_which", [("largest", "LA"), ("smallest", "SA")])
def test_lanczos_sparse_matches_eigsh(graph_L, which, eigsh_which):
    k = 6
    ref = np.sort(eigsh(graph_L, k=k, which=eigsh_which, tol=1e-12)[0])
    vals, vecs = linalg.lanczos(graph_L, k, which=which, rng=np.random.default_rng(3))
    np.testing.assert_allclose(vals, ref, rtol=0, atol=1e-8)
    assert isinstance(vecs, np.ndarray) and vecs.shape == (graph_L.shape[0], k)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(k), atol=1e-8)


@pytest.mark.parametrize("which,eigsh_which", [("largest", "LA"), ("smallest", "SA")])
def test_lanczos_matvec_callable_matches_eigsh(graph_L, which, eigsh_which):
    calls = []

    def matvec(x):
        calls.append(1)
        return graph_L @ x

    n = graph_L.shape[0]
    ref = np.sort(eigsh(graph_L, k=3, which=eigsh_which, tol=1e-12)[0])
    vals, _, hist = linalg.lanczos(matvec, 3, which=which, n=n, rng=np.random.default_rng(4),
                                   return_history=True)
    np.testing.assert_allclose(vals, ref, rtol=0, atol=1e-8)
    assert len(calls) == hist["n_matvec"]


def test_laplacian_smallest_by_the_shift_two_minus_L(graph_L):
    # The docstring's account: the smallest eigenvalues of L_sym are 2 minus the largest of 2I - L_sym.
    n = graph_L.shape[0]
    shifted = lambda x: 2.0 * x - graph_L @ x  # noqa: E731
    mu, _ = linalg.lanczos(shifted, 4, which="largest", n=n, rng=np.random.default_rng(5))
    lam, _ = linalg.lanczos(graph_L, 4, which="smallest", rng=np.random.default_rng(5))
    np.testing.assert_allclose(np.sort(2.0 - mu), lam, atol=1e-8)
    assert abs(lam[0]) < 1e-8  # connected graph: lambda_1 = 0 is simple


def test_lanczos_residual_bound_is_the_true_residual():
    # |beta_m s_{m,i}| equals ||A y_i - theta_i y_i|| for every Ritz pair (full reorthogonalization).
    A = sym_dense(120, seed=7)
    V, T = linalg.lanczos_basis(A, 30, reorth="full", rng=np.random.default_rng(0))
    # one more step gives beta_m and v_{m+1}
    V1, T1 = linalg.lanczos_basis(A, 31, reorth="full", rng=np.random.default_rng(0))
    beta = T1[30, 29]
    theta, S = np.linalg.eigh(T)
    Y = V @ S
    true_res = np.linalg.norm(A @ Y - Y * theta, axis=0)
    np.testing.assert_allclose(np.abs(beta * S[-1, :]), true_res, rtol=1e-6, atol=1e-10)


def test_lanczos_history_and_convergence():
    A = sym_dense(150, seed=8)
    vals, vecs, hist = linalg.lanczos(A, 3, tol=1e-10, rng=np.random.default_rng(0), return_history=True)
    assert hist["converged"]
    last = hist["residuals"][-1]
    tnorm = np.max(np.abs(np.linalg.eigvalsh(A)))
    assert np.all(last <= 1e-10 * tnorm * 1.01)
    assert hist["residuals"][0].max() > last.max()  # it did converge from something worse
    np.testing.assert_allclose(hist["ritz_values"][-1], vals)
    assert hist["basis"].shape[0] == 150 and hist["T"].shape[0] == hist["basis"].shape[1]


def test_lanczos_warns_when_unconverged():
    A = sym_dense(300, seed=9)
    with pytest.warns(NotConvergedWarning, match="products with A"):
        vals, _ = linalg.lanczos(A, 5, tol=1e-14, max_iter=20, ncv=20, rng=np.random.default_rng(0))
    assert vals.shape == (5,)


def test_lanczos_finds_a_degenerate_invariant_subspace():
    # A with few distinct eigenvalues: the Krylov space is exhausted (beta = 0) and Lanczos must go on.
    A = np.diag(np.repeat([1.0, 2.0, 3.0], 20))
    vals, _ = linalg.lanczos(A, 2, rng=np.random.default_rng(0))
    np.testing.assert_allclose(vals, [3.0, 3.0], atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(10, 60), k=st.integers(1, 4))
def test_lanczos_property_extreme_eigenvalues(seed, n, k):
    A = sym_dense(n, seed)
    w = np.linalg.eigh(A)[0]
    vals, vecs = linalg.lanczos(A, k, which="smallest", rng=np.random.default_rng(seed))
    np.testing.assert_allclose(vals, w[:k], atol=1e-8)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(k), atol=1e-8)


# ---------------------------------------------------------------------------
# loss of orthogonality and ghost Ritz values
# ---------------------------------------------------------------------------

def test_full_reorth_keeps_orthonormal_where_plain_drifts_with_ghosts():
    A = strakos(48)
    lam_max = A[-1, -1]
    v0 = np.ones(48)
    m = 40  # fewer steps than n: in exact arithmetic no eigenvalue could repeat in T
    V_none, T_none = linalg.lanczos_basis(A, m, reorth="none", v0=v0)
    V_full, T_full = linalg.lanczos_basis(A, m, reorth="full", v0=v0)
    V_sel, T_sel = linalg.lanczos_basis(A, m, reorth="selective", v0=v0)
    loss = lambda V: np.linalg.norm(V.T @ V - np.eye(V.shape[1]), 2)  # noqa: E731
    assert loss(V_full) < 1e-10
    assert loss(V_none) > 1e-2          # plain Lanczos drifts far from orthonormal
    assert loss(V_sel) < 1e-6           # selective: orthogonal to about sqrt(eps)
    theta_none = np.linalg.eigvalsh(T_none)
    theta_full = np.linalg.eigvalsh(T_full)
    ghosts = np.sum(np.abs(theta_none - lam_max) < 1e-8 * lam_max)
    assert ghosts >= 2, f"expected a ghost copy of lambda_max, got {ghosts} Ritz values there"
    assert np.sum(np.abs(theta_full - lam_max) < 1e-8 * lam_max) == 1
    # lanczos itself merges the ghosts: the 3 largest are distinct eigenvalues of A
    vals, _ = linalg.lanczos(A, 3, reorth="none", v0=v0)
    np.testing.assert_allclose(vals, np.diag(A)[-3:], atol=1e-8)


def test_lanczos_basis_spans_krylov_space():
    A = sym_dense(50, seed=1)
    v0 = np.random.default_rng(0).standard_normal(50)
    V, T = linalg.lanczos_basis(A, 6, reorth="full", v0=v0)
    K = np.column_stack([np.linalg.matrix_power(A, j) @ v0 for j in range(6)])
    Q = np.linalg.qr(K)[0]
    assert np.linalg.norm(Q @ (Q.T @ V) - V) < 1e-8
    np.testing.assert_allclose(T, V.T @ A @ V, atol=1e-10)
    assert np.allclose(T, np.triu(np.tril(T, 1), -1))  # tridiagonal


# ---------------------------------------------------------------------------
# test graph
# ---------------------------------------------------------------------------

def test_planted_graph_laplacian_is_a_normalized_laplacian(graph_L):
    L = graph_L
    assert sp.issparse(L) and L.format == "csr"
    assert abs(L - L.T).max() == 0
    np.testing.assert_allclose(L.diagonal(), 1.0)
    w = np.linalg.eigvalsh(L.toarray())
    assert w[0] > -1e-10 and w[-1] < 2 + 1e-10
    assert abs(w[0]) < 1e-10 and w[1] > 1e-3  # connected: 0 is simple
    # one eigenvalue below the bulk per dense block (6 communities + 6 bipartite pairs), then a gap
    assert np.sum(w < 0.25) == 12 and w[12] - w[11] > 0.05


# ---------------------------------------------------------------------------
# Johnson–Lindenstrauss
# ---------------------------------------------------------------------------

def test_jl_dimension_closed_form():
    for n, eps in [(10, 0.1), (1000, 0.5), (10**6, 0.2)]:
        want = 4 * np.log(n) / (eps**2 / 2 - eps**3 / 3)
        k = linalg.jl_dimension(n, eps)
        assert want <= k < want + 1
    assert linalg.jl_dimension(10**6, 0.2) > linalg.jl_dimension(10**3, 0.2)
    assert linalg.jl_dimension(1000, 0.1) > linalg.jl_dimension(1000, 0.3)


@pytest.mark.parametrize("kind", ["gaussian", "achlioptas"])
def test_jl_preserves_distances_at_stated_dimension(kind):
    rng = np.random.default_rng(0)
    n, d, eps = 150, 3000, 0.3
    X = rng.standard_normal((n, d))
    k = linalg.jl_dimension(n, eps)
    Y = linalg.random_projection(X, k, kind, rng=np.random.default_rng(1))
    assert Y.shape == (n, k)
    r = linalg.distance_distortion(X, Y)
    assert r.shape == (n * (n - 1) // 2,)
    assert np.all(np.abs(r - 1) <= eps), np.max(np.abs(r - 1))
    # the same points squeezed into far fewer dimensions break the bound
    Y_small = linalg.random_projection(X, 10, kind, rng=np.random.default_rng(1))
    assert np.max(np.abs(linalg.distance_distortion(X, Y_small) - 1)) > eps


def test_random_projection_matrices():
    R = linalg.random_projection_matrix(400, 300, "achlioptas", np.random.default_rng(0))
    assert sp.issparse(R)
    vals = np.unique(np.round(R.toarray() * np.sqrt(300 / 3), 12))
    assert set(vals) <= {-1.0, 0.0, 1.0}
    density = R.nnz / (400 * 300)
    assert abs(density - 1 / 3) < 0.01
    G = linalg.random_projection_matrix(400, 300, "gaussian", np.random.default_rng(0))
    assert abs(np.mean(np.sum(G**2, axis=1)) - 1.0) < 0.02  # E||x^T R||^2 = ||x||^2
    assert abs(np.mean(np.sum(R.toarray() ** 2, axis=1)) - 1.0) < 0.02


def test_distance_distortion_closed_form():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(linalg.distance_distortion(X, 2 * X), 4.0)


# ---------------------------------------------------------------------------
# reduced precision
# ---------------------------------------------------------------------------

def test_pairwise_beats_sequential_on_long_float16_sums():
    rng = np.random.default_rng(0)
    u = np.finfo(np.float16).eps / 2
    for n in (2**12, 10**4, 2**15):
        x = rng.uniform(0, 1, n).astype(np.float16).astype(np.float64)  # exactly representable
        exact = np.sum(x)  # float64 holds this sum exactly enough (n u_64 << u_16)
        err_seq = abs(linalg.lowp_sum(x, "sequential") - exact)
        err_pw = abs(linalg.lowp_sum(x, "pairwise") - exact)
        assert err_pw < err_seq
        assert err_seq <= (n - 1) * u * np.sum(np.abs(x))
        assert err_pw <= np.ceil(np.log2(n)) * u * np.sum(np.abs(x))


def test_lowp_sum_float64_matches_numpy():
    x = np.random.default_rng(1).standard_normal(1000)
    assert linalg.lowp_sum(x, "pairwise", np.float64) == pytest.approx(np.sum(x), rel=1e-13)
    assert linalg.lowp_sum(x, "sequential", np.float64) == pytest.approx(np.sum(x), rel=1e-13)


def test_float16_sequential_sum_stagnates():
    assert linalg.lowp_sum(np.ones(5000), "sequential") == 2048.0  # 2048 + 1 rounds back to 2048
    assert linalg.lowp_sum(np.ones(4096), "pairwise") == 4096.0


def test_lowp_dot_mixed_precision():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (2, 8192))
    x16, y16 = x.astype(np.float16).astype(float), y.astype(np.float16).astype(float)
    prods = (x16 * y16).astype(np.float16).astype(float)
    exact = np.sum(prods)
    err16 = abs(linalg.lowp_dot(x, y, np.float16, np.float16) - exact)
    err32 = abs(linalg.lowp_dot(x, y, np.float16, np.float32) - exact)
    assert err32 < 1e-3 * err16
    assert err32 <= 8192 * np.finfo(np.float32).eps / 2 * np.sum(prods)


def test_lowp_softmax_shift_and_overflow():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 4, (8, 256)) + 20.0
    p = linalg.lowp_softmax(x, dtype=np.float16, accumulate=np.float32)
    assert p.dtype == np.float16
    np.testing.assert_allclose(p.astype(float), attention.softmax(x), atol=2e-3, rtol=1e-2)
    np.testing.assert_allclose(p.astype(np.float64).sum(axis=-1), 1.0, atol=1e-2)
    bad = linalg.lowp_softmax(x, shift=False)
    overflowing = np.any(x.astype(np.float16) > np.log(65504), axis=-1)
    assert overflowing.all()
    assert np.all(np.any(np.isnan(bad), axis=-1) == overflowing)
    small = rng.normal(0, 1, (4, 16))  # no overflow: shift or not, the same answer up to rounding
    np.testing.assert_allclose(linalg.lowp_softmax(small, shift=False).astype(float),
                               linalg.lowp_softmax(small).astype(float), atol=2e-3)
    np.testing.assert_allclose(linalg.lowp_softmax(small, axis=0, dtype=np.float64, accumulate=np.float64),
                               attention.softmax(small, axis=0), atol=1e-14)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(A=np.ones((3, 4)), k=1), ValueError, "A must be a square"),
    (dict(A=np.eye(5), k=0), ValueError, "k must be a positive"),
    (dict(A=np.eye(5), k=5), ValueError, "k must be at most 4"),
    (dict(A=np.eye(5), k=2.0), TypeError, "k must be an integer"),
    (dict(A=np.eye(5), k=1, which="biggest"), ValueError, "which must be one of"),
    (dict(A=np.eye(5), k=1, reorth="partial"), ValueError, "reorth must be one of"),
    (dict(A=np.eye(5), k=1, tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(A=np.eye(5), k=1, rng=3), TypeError, "rng must be a numpy.random.Generator"),
    (dict(A=np.full((5, 5), np.nan), k=1), ValueError, "A must be finite"),
    (dict(A=lambda x: x, k=1), ValueError, "give n or x0"),
    (dict(A=lambda x: x[:2], k=1, n=5), ValueError, "A\\(x\\) must return a vector of length 5"),
    (dict(A=np.eye(5), k=1, v0=np.zeros(5)), ValueError, "v0 must not be the zero vector"),
    (dict(A=np.eye(5), k=1, v0=np.ones(4)), ValueError, "x0 must have shape"),
    (dict(A=np.eye(8), k=3, ncv=4), ValueError, "ncv must be at least k \\+ 2"),
    (dict(A=np.eye(5), k=1, max_iter=0), ValueError, "max_iter must be a positive"),
    (dict(A=np.array([[1.0]]), k=1), ValueError, "k must be at most 0|at least 2 x 2"),
    (dict(A=np.array([["a", "b"], ["c", "d"]]), k=1), TypeError, "A must hold real numbers"),
])
def test_lanczos_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        linalg.lanczos(**kwargs)


@pytest.mark.parametrize("args,kwargs,exc,match", [
    ((np.eye(5), 0), {}, ValueError, "m must be a positive"),
    ((np.eye(5), 6), dict(reorth="full"), ValueError, "m must be at most 5"),
    ((np.eye(5), 2), dict(reorth="cgs"), ValueError, "reorth must be one of"),
    ((np.ones((2, 3)), 2), {}, ValueError, "A must be a square"),
    ((sp.csr_array(np.full((3, 3), np.inf)), 2), {}, ValueError, "A must be finite"),
])
def test_lanczos_basis_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        linalg.lanczos_basis(*args, **kwargs)


def test_planted_graph_bad_input():
    with pytest.raises(ValueError, match="n must be at least 200 \\* n_blocks = 1200"):
        linalg.planted_graph_laplacian(100)
    with pytest.raises(TypeError, match="n_blocks must be an integer"):
        linalg.planted_graph_laplacian(5000, n_blocks=2.5)
    with pytest.raises(TypeError, match="rng must be"):
        linalg.planted_graph_laplacian(5000, rng=0)


def test_jl_bad_input():
    with pytest.raises(ValueError, match="eps must lie in \\(0, 1\\)"):
        linalg.jl_dimension(100, 1.5)
    with pytest.raises(ValueError, match="eps must be > 0"):
        linalg.jl_dimension(100, 0.0)
    with pytest.raises(ValueError, match="n_points must be at least 2"):
        linalg.jl_dimension(1, 0.1)
    with pytest.raises(ValueError, match="kind must be one of"):
        linalg.random_projection_matrix(10, 5, "fourier")
    with pytest.raises(ValueError, match="k must be a positive"):
        linalg.random_projection(np.ones((3, 4)), 0)
    with pytest.raises(ValueError, match="X must be 2-D"):
        linalg.random_projection(np.ones(4), 2)
    with pytest.raises(ValueError, match="X must be finite"):
        linalg.random_projection(np.array([[np.nan, 1.0]]), 1)
    with pytest.raises(ValueError, match="Y must have one row per row of X"):
        linalg.distance_distortion(np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match="pairwise distinct"):
        linalg.distance_distortion(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        linalg.distance_distortion(np.ones((1, 2)), np.ones((1, 1)))


def test_lowp_bad_input():
    with pytest.raises(ValueError, match="method must be one of"):
        linalg.lowp_sum(np.ones(3), "kahan")
    with pytest.raises(TypeError, match="dtype must be np.float16"):
        linalg.lowp_sum(np.ones(3), dtype=np.int32)
    with pytest.raises(TypeError, match="dtype must be a float dtype"):
        linalg.lowp_sum(np.ones(3), dtype="not a dtype")
    with pytest.raises(ValueError, match="x must not be empty"):
        linalg.lowp_sum(np.array([]))
    with pytest.raises(ValueError, match="representable in float16"):
        linalg.lowp_sum(np.array([1e6, 1.0]))
    with pytest.raises(ValueError, match="y must have shape \\(3,\\)"):
        linalg.lowp_dot(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="accumulate must be np.float16"):
        linalg.lowp_dot(np.ones(3), np.ones(3), accumulate=np.complex64)
    with pytest.raises(ValueError, match="overflows in float16"):
        linalg.lowp_dot(np.full(3, 300.0), np.full(3, 300.0))
    with pytest.raises(ValueError, match="axis must be an integer"):
        linalg.lowp_softmax(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="x must be finite"):
        linalg.lowp_softmax(np.array([np.inf, 0.0]))
