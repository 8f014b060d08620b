"""Chapter 4 — low-rank methods: the SVD, randomized SVD, PCA, matrix completion and LoRA.

Low rank is the thread that runs through the source text (Baggag & Saad 2025)
and Saad's talk on the linear algebra of large language models:

* the truncated SVD gives the best rank-``k`` approximation in the spectral
  and Frobenius norms (Eckart–Young–Mirsky), with errors read off the
  singular values: ``σ_{k+1}`` and ``(Σ_{j>k} σ_j²)^{1/2}``;
* randomized SVD (Halko, Martinsson & Tropp 2011) finds that approximation
  from a few products with the matrix — it never needs the matrix entries,
  only ``A @ X`` and ``Aᵀ @ X``;
* PCA is the SVD of the centred data;
* alternating least squares completes a low-rank matrix from a fraction of
  its entries (recommendation);
* LoRA (Hu et al. 2022) fine-tunes a frozen weight ``W`` through a rank-``r``
  update, with ``r (d_in + d_out)`` trainable parameters instead of ``d_in d_out``.

Conventions
-----------
* Row convention of the series: a dense layer is ``Z = X W + 1 bᵀ`` with
  ``W : (d_in, d_out)``. Hu et al. write ``h = W₀x + BAx`` (columns); in rows
  the same adapter is ``Z = X W + (α/r) (X A) B`` with ``A : (d_in, r)``
  applied first (Gaussian at initialisation) and ``B : (r, d_out)`` second
  (zero at initialisation), so ``ΔW = (α/r) A B``.
* An SVD is returned as ``U, s, Vt`` (like :func:`numpy.linalg.svd`):
  ``A ≈ U diag(s) Vt`` with ``s`` descending; ``V = Vt.T`` holds the right
  singular vectors.
* No explicit inverses: least-squares solves go through Cholesky factors,
  bases through QR.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._progress import progress_bar
from ._validate import (
    NotConvergedWarning,
    as_float_array,
    as_int_array,
    as_sparse_or_dense,
    check_finite,
    check_finite_loss,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_rng,
    check_shape,
)

__all__ = [
    "truncated_svd",
    "eckart_young_error",
    "compress_weight",
    "randomized_range_finder",
    "randomized_svd",
    "hmt_error_bound",
    "pca",
    "als_complete",
    "lora_init",
    "lora_delta",
    "lora_forward",
    "lora_backward",
    "lora_weight_gradients",
    "lora_merge",
    "lora_unmerge",
    "lora_num_params",
    "finetune_attention_model",
    "effective_rank",
]


# ---------------------------------------------------------------------------
# Truncated SVD and Eckart–Young–Mirsky
# ---------------------------------------------------------------------------

def _check_rank(k, shape, name="k"):
    """``1 <= k <= min(m, n)``, with the shape in the message."""
    return check_positive_int(k, name, maximum=min(shape), why=f"min(m, n) for a matrix of shape {tuple(shape)}")


def truncated_svd(A, k: int):
    """The best rank-``k`` approximation ``A_k = U_k Σ_k V_kᵀ`` of a dense matrix.

    .. math::
        A_k = \\sum_{j=1}^{k} \\sigma_j u_j v_j^T, \\qquad
        \\|A - A_k\\|_2 = \\sigma_{k+1}, \\qquad
        \\|A - A_k\\|_F = \\Big(\\sum_{j>k} \\sigma_j^2\\Big)^{1/2}

    (Eckart–Young–Mirsky: no matrix of rank ``k`` is closer in either norm.)
    Computed from the full thin SVD (LAPACK), so it costs ``O(mn min(m, n))``;
    for a large or sparse matrix use :func:`randomized_svd`.

    Parameters
    ----------
    A : (m, n) dense array
    k : int, ``1 <= k <= min(m, n)``

    Returns
    -------
    U : (m, k), orthonormal columns
    s : (k,), descending
    Vt : (k, n), orthonormal rows

    Examples
    --------
    >>> U, s, Vt = truncated_svd(np.diag([3.0, 2.0, 1.0]), 2); s
    array([3., 2.])

    Chapter 4.
    """
    if sp.issparse(A) or isinstance(A, LinearOperator):
        raise TypeError(f"A must be a dense array (truncated_svd forms the full SVD); got {type(A).__name__}. "
                        "Use randomized_svd for sparse matrices and operators.")
    A = as_float_array(A, "A", ndim=2)
    k = _check_rank(k, A.shape)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vt[:k]


def eckart_young_error(s, k: int):
    """Errors of the best rank-``k`` approximation, read off the singular values.

    .. math::
        \\|A - A_k\\|_2 = \\sigma_{k+1}, \\qquad \\|A - A_k\\|_F = \\Big(\\sum_{j>k}\\sigma_j^2\\Big)^{1/2}

    (``σ_{k+1} = 0`` when ``k`` equals the number of singular values).

    Parameters
    ----------
    s : (p,) all singular values of ``A``, descending, ``p = min(m, n)``
    k : int, ``1 <= k <= p``

    Returns
    -------
    spectral, frobenius : float

    Examples
    --------
    >>> eckart_young_error([3.0, 2.0, 1.0], 1)
    (2.0, 2.23606797749979)

    Chapter 4.
    """
    s = as_float_array(s, "s", ndim=1).astype(np.float64)
    if np.any(s < 0) or np.any(np.diff(s) > 0):
        raise ValueError("s must be the singular values of a matrix: non-negative and descending")
    k = check_positive_int(k, "k", maximum=s.size, why="the number of singular values")
    tail = s[k:]
    spectral = float(tail[0]) if tail.size else 0.0
    return spectral, float(math.sqrt(float(np.sum(tail * tail))))


def compress_weight(W, k: int):
    """Replace a weight matrix by two thin factors of rank ``k``: ``W ≈ L R``.

    ``L = U_k Σ_k : (d_in, k)``, ``R = V_kᵀ : (k, d_out)`` from the truncated
    SVD, so a layer ``X W`` becomes ``(X L) R``: ``k (d_in + d_out)``
    parameters instead of ``d_in d_out`` — a saving whenever
    ``k < d_in d_out / (d_in + d_out)``.

    Parameters
    ----------
    W : (d_in, d_out)
    k : int, ``1 <= k <= min(d_in, d_out)``

    Returns
    -------
    L : (d_in, k)
    R : (k, d_out)
    params_before : int, ``d_in d_out``
    params_after : int, ``k (d_in + d_out)``

    Examples
    --------
    >>> L, R, before, after = compress_weight(np.ones((4, 6)), 1)
    >>> np.allclose(L @ R, 1), before, after
    (True, 24, 10)

    Chapter 4.
    """
    W = as_float_array(W, "W", ndim=2)
    U, s, Vt = truncated_svd(W, k)
    d_in, d_out = W.shape
    return U * s, Vt, d_in * d_out, int(k) * (d_in + d_out)


def effective_rank(s, energy: float = 0.9) -> int:
    """The smallest ``k`` whose leading singular values hold a fraction ``energy`` of ``‖A‖_F²``.

    .. math:: \\min\\Big\\{k : \\sum_{j\\le k}\\sigma_j^2 \\ge \\text{energy}\\cdot\\sum_j \\sigma_j^2\\Big\\}

    Parameters
    ----------
    s : (p,) singular values, descending, not all zero
    energy : float in (0, 1]

    Examples
    --------
    >>> effective_rank([10.0, 1.0, 0.1], 0.9)
    1

    Chapter 4.
    """
    s = as_float_array(s, "s", ndim=1).astype(np.float64)
    if np.any(s < 0):
        raise ValueError("s must be singular values (non-negative)")
    energy = check_positive_float(energy, "energy")
    if energy > 1:
        raise ValueError(f"energy must lie in (0, 1]; got {energy}")
    total = float(np.sum(s * s))
    if total == 0:
        raise ValueError("s must not be all zero (a zero matrix has no energy to capture)")
    cum = np.cumsum(s * s) / total
    return int(min(np.searchsorted(cum, energy * (1 - 1e-12)) + 1, s.size))


# ---------------------------------------------------------------------------
# Randomized SVD (Halko, Martinsson & Tropp 2011)
# ---------------------------------------------------------------------------

def _as_operator(A, name="A"):
    """Return ``(A, shape, dtype)`` for a dense array, a sparse matrix or an object with ``@`` and ``.T``.

    Dense and sparse input are validated (finite, real, 2-D); an operator
    (``scipy.sparse.linalg.LinearOperator`` or any object with ``shape``,
    ``@`` and ``.T``) is used as it is: only products with it are formed.
    """
    if isinstance(A, LinearOperator) or (not sp.issparse(A) and not isinstance(A, (np.ndarray, list, tuple))
                                         and hasattr(A, "__matmul__") and hasattr(A, "shape")):
        shape = tuple(A.shape)
        if len(shape) != 2 or 0 in shape:
            raise ValueError(f"{name} must be a non-empty 2-D operator; got shape {shape}")
        if not hasattr(A, "T"):
            raise TypeError(f"{name} must support A.T @ X (the transpose products of the power iterations); "
                            f"got {type(A).__name__} without .T")
        dtype = np.dtype(getattr(A, "dtype", np.float64) or np.float64)
        dtype = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return A, shape, dtype
    if sp.issparse(A):
        A = as_sparse_or_dense(A, name)
    else:
        A = as_float_array(A, name, ndim=2, finite=False)
        # Fast path: a finite sum proves every entry finite (one pass, no n×n mask); otherwise the
        # shared check counts the bad entries and raises (or passes if the sum merely overflowed).
        if not np.isfinite(np.sum(A)):
            check_finite(A, name)
    return A, A.shape, A.dtype


def _orthonormalize(Y):
    """An orthonormal basis of the columns of ``Y`` (Householder QR, reduced)."""
    Q, _ = np.linalg.qr(Y)
    return Q


def _apply(A, X, dtype):
    return np.asarray(A @ X, dtype=dtype)


def _apply_transpose(A, X, dtype):
    """``Aᵀ X``. For a dense row-major ``A`` as ``(Xᵀ A)ᵀ``: the same product, but BLAS streams
    ``A`` row by row instead of column by column, which is measurably faster for large ``A``."""
    if isinstance(A, np.ndarray):
        return np.asarray((X.T @ A).T, dtype=dtype)
    return np.asarray(A.T @ X, dtype=dtype)


def randomized_range_finder(A, size: int, n_iter: int = 2, rng=None):
    """An orthonormal ``Q`` whose range captures the dominant column space of ``A``.

    .. math::
        Y = (AA^T)^q A\\Omega, \\quad \\Omega\\in\\mathbb R^{n\\times \\ell}\\ \\text{Gaussian},
        \\qquad Q = \\operatorname{orth}(Y), \\qquad A \\approx QQ^TA

    The ``q`` power iterations multiply the ``j``-th singular direction by
    ``σ_j^{2q+1}``: directions beyond the ``ℓ``-th fade, and the basis
    approaches the best one. **Re-orthonormalization between the products
    is essential**: ``(AAᵀ)^q AΩ`` computed directly has columns that all
    collapse onto ``u_1`` in floating point (every column is dominated by
    ``σ_1^{2q+1}``; the information about ``σ_j`` with
    ``(σ_j/σ_1)^{2q+1} < u ≈ 10^{-16}`` is lost to rounding). So each
    product is followed by a QR factorization (HMT, Algorithm 4.4).

    Parameters
    ----------
    A : (m, n) dense array, scipy.sparse matrix or operator with ``@`` and ``.T``
    size : int, ``ℓ`` columns, ``1 <= ℓ <= min(m, n)``
    n_iter : int >= 0, ``q`` power iterations
    rng : numpy.random.Generator, optional (draws ``Ω``)

    Returns
    -------
    Q : (m, ℓ), orthonormal columns

    Examples
    --------
    >>> A = np.outer(np.arange(1.0, 5.0), np.ones(3))
    >>> Q = randomized_range_finder(A, 1, rng=np.random.default_rng(0))
    >>> np.allclose(Q @ (Q.T @ A), A)
    True

    Chapter 4.
    """
    A, shape, dtype = _as_operator(A)
    size = _check_rank(size, shape, "size")
    n_iter = check_nonneg_int(n_iter, "n_iter")
    rng = check_rng(rng)
    return _range_finder(A, shape, dtype, size, n_iter, rng)


def _range_finder(A, shape, dtype, size, n_iter, rng):
    Omega = rng.standard_normal((shape[1], size)).astype(dtype, copy=False)
    Q = _orthonormalize(_apply(A, Omega, dtype))
    for _ in range(n_iter):
        Q = _orthonormalize(_apply_transpose(A, Q, dtype))   # basis of the row space, re-orthonormalized
        Q = _orthonormalize(_apply(A, Q, dtype))    # back to the column space, re-orthonormalized
    return Q


def randomized_svd(A, k: int, oversample: int = 10, n_iter: int = 2, rng=None):
    """Rank-``k`` SVD from a random sketch (Halko, Martinsson & Tropp 2011).

    1. **Sketch**: ``Y = AΩ`` with a Gaussian ``Ω : (n, ℓ)``, ``ℓ = k + p``
       (``p`` = ``oversample``; ``p ≈ 5–10`` makes failure vanishingly rare).
    2. **Range finder**: ``q`` power iterations ``Y ← A(AᵀY)``, each product
       followed by a QR (see :func:`randomized_range_finder` for why), ending
       in ``Q : (m, ℓ)`` with orthonormal columns and ``A ≈ QQᵀA``.
    3. **Small SVD**: ``B = QᵀA : (ℓ, n)`` (computed as ``(AᵀQ)ᵀ``, one more
       product), ``B = Ũ Σ Vᵀ``, and ``U = QŨ``; keep the leading ``k``.

    Cost: ``2q + 2`` products of ``A`` with ``ℓ`` vectors plus ``O((m+n)ℓ²)``,
    against ``O(mn min(m, n))`` for the full SVD. Only products are needed,
    so ``A`` may be sparse or a ``LinearOperator``. With decaying singular
    values and ``q = 2`` the spectral error is typically within a few per
    cent of the optimum ``σ_{k+1}``; :func:`hmt_error_bound` bounds its mean.

    Parameters
    ----------
    A : (m, n) dense array, scipy.sparse matrix, or operator with ``shape``, ``@`` and ``.T``
    k : int, ``1 <= k <= min(m, n)``
    oversample : int >= 0, ``p`` (``ℓ = min(k + p, min(m, n))``)
    n_iter : int >= 0, ``q``
    rng : numpy.random.Generator, optional

    Returns
    -------
    U : (m, k), s : (k,) descending, Vt : (k, n)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(50, 3)) @ rng.normal(size=(3, 40))      # rank 3
    >>> U, s, Vt = randomized_svd(A, 3, rng=rng)
    >>> np.allclose((U * s) @ Vt, A)
    True

    Chapter 4.
    """
    A, shape, dtype = _as_operator(A)
    k = _check_rank(k, shape)
    oversample = check_nonneg_int(oversample, "oversample")
    n_iter = check_nonneg_int(n_iter, "n_iter")
    rng = check_rng(rng)
    size = min(k + oversample, min(shape))
    Q = _range_finder(A, shape, dtype, size, n_iter, rng)
    B = _apply_transpose(A, Q, dtype).T             # B = QᵀA : (ℓ, n), one more product
    Ub, s, Vt = np.linalg.svd(B, full_matrices=False)
    U = Q @ Ub
    return U[:, :k], s[:k], Vt[:k]


def hmt_error_bound(s, k: int, oversample: int, n_iter: int = 0) -> float:
    """The Halko–Martinsson–Tropp bound on the *mean* range-finder error ``E‖A − QQᵀA‖₂``.

    .. math::
        \\mathbb E\\,\\|A - QQ^TA\\|_2 \\le \\Big[\\Big(1 + \\sqrt{\\tfrac{k}{p-1}}\\Big)\\sigma_{k+1}^{2q+1}
        + \\frac{e\\sqrt{k+p}}{p}\\Big(\\sum_{j>k}\\sigma_j^{2(2q+1)}\\Big)^{1/2}\\Big]^{1/(2q+1)}

    (HMT 2011, Theorem 10.6 for ``q = 0`` and Corollary 10.10 with ``q``
    power iterations; Gaussian ``Ω`` with ``k + p`` columns, ``p >= 2``.)
    It bounds the projection error of the ``(k+p)``-dimensional basis; the
    rank-``k`` truncation of :func:`randomized_svd` adds at most
    ``σ_{k+1}`` more. The bound is always ``>= σ_{k+1}``, the optimum.

    Parameters
    ----------
    s : (r,) singular values of ``A``, descending (all of them, or all that matter)
    k : int, ``1 <= k < len(s)``
    oversample : int >= 2, ``p``
    n_iter : int >= 0, ``q``

    Examples
    --------
    >>> s = 0.5 ** np.arange(30)
    >>> bool(hmt_error_bound(s, 5, 5, 1) >= s[5])
    True

    Chapter 4.
    """
    s = as_float_array(s, "s", ndim=1).astype(np.float64)
    if np.any(s < 0) or np.any(np.diff(s) > 0):
        raise ValueError("s must be singular values: non-negative and descending")
    k = check_positive_int(k, "k", maximum=s.size - 1, why="one less than the number of singular values given")
    p = check_nonneg_int(oversample, "oversample")
    if p < 2:
        raise ValueError(f"oversample must be at least 2 for the HMT bound (it has a p - 1 in a denominator); got {p}")
    q = check_nonneg_int(n_iter, "n_iter")
    e = 2 * q + 1
    tail = s[k:]
    scale = tail[0] if tail[0] > 0 else 1.0            # work with ratios: σ^(4q+2) underflows quickly
    t = tail / scale
    inner = (1 + math.sqrt(k / (p - 1))) * t[0] ** e + math.e * math.sqrt(k + p) / p * math.sqrt(
        float(np.sum(t ** (2 * e))))
    return float(scale * inner ** (1.0 / e))


# ---------------------------------------------------------------------------
# PCA by the SVD of the centred data
# ---------------------------------------------------------------------------

def pca(X, k: int) -> dict:
    """Principal component analysis of the rows of ``X`` by the SVD of the centred data.

    .. math::
        X_c = X - \\mathbf 1\\mu^T = U\\Sigma V^T, \\qquad
        \\text{components} = V_k^T, \\qquad
        \\text{explained variance}_j = \\frac{\\sigma_j^2}{n-1}, \\qquad
        \\text{scores} = X_c V_k = U_k\\Sigma_k

    The covariance ``C = X_cᵀX_c/(n−1) = V (Σ²/(n−1)) Vᵀ`` is never formed:
    forming it squares the condition number, and small variances drown in
    rounding. Signs are fixed so that the largest-magnitude entry of each
    component is positive (the SVD leaves each sign free).

    Parameters
    ----------
    X : (n, d), ``n >= 2`` samples in rows
    k : int, ``1 <= k <= min(n, d)``

    Returns
    -------
    dict with
        ``mean`` (d,), ``components`` (k, d) orthonormal rows,
        ``explained_variance`` (k,), ``explained_variance_ratio`` (k,),
        ``singular_values`` (k,), ``scores`` (n, k) the projected data.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]])
    >>> r = pca(X, 1); np.round(r["components"], 4), np.round(r["explained_variance_ratio"], 4)
    (array([[0.7071, 0.7071]]), array([1.]))

    Chapter 4.
    """
    X = as_float_array(X, "X", ndim=2)
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows (samples) to have a variance; got shape {X.shape}")
    k = _check_rank(k, X.shape)
    mean = X.mean(axis=0)
    Xc = X - mean
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    U, s, Vt = U[:, :k], s, Vt[:k]
    signs = np.sign(Vt[np.arange(k), np.argmax(np.abs(Vt), axis=1)])
    signs[signs == 0] = 1
    Vt = Vt * signs[:, None]
    U = U * signs
    n = X.shape[0]
    var = s * s / (n - 1)
    total = float(var.sum())
    ratio = var[:k] / total if total > 0 else np.zeros(k, dtype=X.dtype)
    return {"mean": mean, "components": Vt, "explained_variance": var[:k],
            "explained_variance_ratio": ratio, "singular_values": s[:k], "scores": U * s[:k]}


# ---------------------------------------------------------------------------
# Matrix completion by alternating least squares
# ---------------------------------------------------------------------------

def _observed(R, mask):
    """Return ``(R, M)``: ratings and a 0/1 indicator of observed entries, both dense or both CSR."""
    if sp.issparse(R):
        if mask is not None:
            raise ValueError("mask must be None when R is sparse (its stored entries are the observed ones)")
        R = as_sparse_or_dense(R, "R")
        M = R.copy()
        M.data = np.ones_like(M.data)
        return R, M
    if mask is None:
        raise ValueError("mask must be given for a dense R: a boolean (m, n) array, True where observed")
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array (True = observed); got dtype {mask.dtype}")
    R = as_float_array(R, "R", ndim=2, finite=False)
    check_shape(mask, "mask", R.shape, "one flag per entry of R")
    if not mask.any():
        raise ValueError("mask must mark at least one observed entry; got none")
    R = np.where(mask, R, 0.0).astype(R.dtype, copy=False)   # missing entries may hold anything, even NaN
    check_finite(R, "R (its observed entries)")
    return R, mask.astype(R.dtype)


def _batched_cholesky_solve(G, b):
    """Solve ``G_i x_i = b_i`` for a stack of symmetric positive definite ``G : (m, k, k)``.

    One Cholesky factorization per system (``G_i = L_i L_iᵀ``), then a forward
    and a back substitution vectorized across the stack — no inverse.
    """
    L = np.linalg.cholesky(G)
    k = G.shape[-1]
    y = np.empty_like(b)
    for i in range(k):                             # L y = b
        y[:, i] = (b[:, i] - np.einsum("mj,mj->m", L[:, i, :i], y[:, :i])) / L[:, i, i]
    x = np.empty_like(b)
    for i in reversed(range(k)):                   # Lᵀ x = y
        x[:, i] = (y[:, i] - np.einsum("mj,mj->m", L[:, i + 1:, i], x[:, i + 1:])) / L[:, i, i]
    return x


def _half_step(R, M, V, reg):
    """New left factor: for every row i, ``(V_Ωᵢᵀ V_Ωᵢ + λI) u_i = V_Ωᵢᵀ r_Ωᵢ`` (observed entries only).

    The Gram matrices of all rows at once: ``G_i = Σ_j m_ij v_j v_jᵀ`` is row i
    of ``M @ (v_j ⊗ v_j)``, and the right-hand sides are ``(M ∘ R) V = R V``
    (R is zero off the mask).
    """
    k = V.shape[1]
    outer = (V[:, :, None] * V[:, None, :]).reshape(V.shape[0], k * k)
    G = np.asarray(M @ outer).reshape(-1, k, k)
    G += reg * np.eye(k)
    b = np.asarray(R @ V)
    return _batched_cholesky_solve(G, b)


def als_complete(R, mask, k: int, reg: float = 0.1, n_iter: int = 30, rng=None, *, tol=None,
                 return_history: bool = False):
    """Complete a low-rank matrix from some of its entries by alternating least squares.

    Find ``U : (m, k)``, ``V : (n, k)`` minimising, over the observed set ``Ω`` only,

    .. math::
        \\sum_{(i,j)\\in\\Omega} \\big(r_{ij} - u_i^Tv_j\\big)^2 + \\lambda\\big(\\|U\\|_F^2 + \\|V\\|_F^2\\big).

    With ``V`` fixed the problem splits into one small ridge regression per
    row, ``(V_Ωᵢᵀ V_Ωᵢ + λI) u_i = V_Ωᵢᵀ r_Ωᵢ`` — a ``k × k`` system solved by
    Cholesky (batched over the rows, no inverse); then the same for ``V``
    with ``U`` fixed. Each half-step can only lower the objective. The
    missing entries are *not* treated as zeros: that is what the truncated
    SVD of the zero-filled matrix does, and it shrinks every prediction
    toward 0 by roughly the observed fraction.

    Parameters
    ----------
    R : (m, n) dense array with ``mask``, or a scipy.sparse matrix whose stored entries are the observed ones
    mask : (m, n) bool, True where observed; ``None`` when ``R`` is sparse
    k : int, rank, ``1 <= k <= min(m, n)``
    reg : float > 0, ``λ`` (keeps every system positive definite, even for rows with few entries)
    n_iter : int >= 1, full sweeps (U then V)
    rng : numpy.random.Generator, optional (initial ``V``)
    tol : float, optional
        Stop when the relative change of the observed RMSE falls below ``tol``;
        a :class:`NotConvergedWarning` says so if it never does. ``None``: run ``n_iter`` sweeps.
    return_history : bool
        Also return ``{"rmse": [...]}``, the RMSE on the observed entries after each sweep.

    Returns
    -------
    U : (m, k), V : (n, k), so that ``R ≈ U Vᵀ``; and the history if asked

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> R = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 20)); mask = rng.random(R.shape) < 0.6
    >>> U, V = als_complete(R, mask, 2, reg=1e-6, n_iter=50, rng=rng)
    >>> bool(np.abs(U @ V.T - R).max() < 1e-3)
    True

    Chapter 4.
    """
    R, M = _observed(R, mask)
    k = _check_rank(k, R.shape)
    reg = check_positive_float(reg, "reg")
    n_iter = check_positive_int(n_iter, "n_iter")
    rng = check_rng(rng)
    if tol is not None:
        tol = check_positive_float(tol, "tol")
    m, n = R.shape
    RT, MT = R.T, M.T
    if sp.issparse(R):
        RT, MT = sp.csr_array(RT), sp.csr_array(MT)
    n_obs = float(M.sum())
    scale = math.sqrt(float((R.multiply(R) if sp.issparse(R) else R * R).sum()) / n_obs / k) or 1.0
    V = rng.standard_normal((n, k)) * scale
    history = {"rmse": []}
    for it in range(n_iter):
        U = _half_step(R, M, V, reg)
        V = _half_step(RT, MT, U, reg)
        rmse = _observed_rmse(R, M, U, V, n_obs)
        check_finite_loss(rmse, it + 1, "als_complete", "increase reg")
        history["rmse"].append(rmse)
        if tol is not None and it > 0 and abs(history["rmse"][-2] - rmse) <= tol * max(rmse, 1e-300):
            break
    else:
        if tol is not None:
            warnings.warn(f"als_complete stopped after n_iter = {n_iter} sweeps with observed RMSE {rmse:.3g} "
                          f"still changing by more than tol = {tol:g}; the rank k may be too small or "
                          "reg too large — raise n_iter or loosen tol", NotConvergedWarning, stacklevel=2)
    return (U, V, history) if return_history else (U, V)


def _observed_rmse(R, M, U, V, n_obs):
    if sp.issparse(R):
        coo = R.tocoo()
        pred = np.einsum("ij,ij->i", U[coo.row], V[coo.col])
        return math.sqrt(float(np.sum((coo.data - pred) ** 2)) / n_obs)
    res = (R - U @ V.T) * M
    return math.sqrt(float(np.sum(res * res)) / n_obs)


# ---------------------------------------------------------------------------
# LoRA: low-rank adaptation (Hu et al. 2022)
# ---------------------------------------------------------------------------

def _check_lora(lora, W_shape=None, name="lora"):
    """Validate an adapter dict ``{"A": (d_in, r), "B": (r, d_out), "scale": float}``."""
    if not isinstance(lora, dict) or any(key not in lora for key in ("A", "B", "scale")):
        got = sorted(lora) if isinstance(lora, dict) else type(lora).__name__
        raise ValueError(f"{name} must be a dict with keys 'A', 'B', 'scale' (see lora_init); got {got}")
    A = as_float_array(lora["A"], f"{name}['A']", ndim=2)
    B = as_float_array(lora["B"], f"{name}['B']", ndim=2)
    r = A.shape[1]
    check_shape(B, f"{name}['B']", (r, None), f"rows == {name}['A'].shape[1] == r == {r}")
    scale = lora["scale"]
    if isinstance(scale, np.ndarray) and scale.ndim == 0:
        scale = float(scale)
    scale = check_positive_float(scale, f"{name}['scale']", allow_zero=True)
    if W_shape is not None:
        want = (W_shape[0], r)
        if A.shape != want or B.shape[1] != W_shape[1]:
            raise ValueError(f"{name} does not fit W of shape {tuple(W_shape)}: A must be {want} and B "
                             f"({r}, {W_shape[1]}); got A {A.shape} and B {B.shape}")
    return A, B, scale


def lora_init(W, r: int, alpha: float, rng=None) -> dict:
    """A LoRA adapter for a frozen weight ``W : (d_in, d_out)``: ``A`` Gaussian, ``B = 0``, scale ``α/r``.

    .. math::
        W_{\\text{eff}} = W + \\frac{\\alpha}{r} A B, \\qquad A_{ij}\\sim N(0, 1/d_{in}),\\quad B = 0

    Because ``B = 0`` the adapted layer starts *equal* to the frozen one; the
    gradient of ``B`` (``(α/r) Aᵀ G``) is nonzero, so training moves away from
    it at once. (With ``A`` and ``B`` both zero no gradient would ever flow;
    with ``B`` random the adapted model would start off a different model.)
    Dividing by ``r`` keeps the size of the update comparable across ranks,
    so ``α`` need not be retuned when ``r`` changes (Hu et al. 2022, §4.1).

    Parameters
    ----------
    W : (d_in, d_out), the frozen weight (only its shape and dtype are used)
    r : int, ``1 <= r <= min(d_in, d_out)``
    alpha : float > 0
    rng : numpy.random.Generator, optional

    Returns
    -------
    dict ``{"A": (d_in, r), "B": (r, d_out), "scale": α/r}``

    Examples
    --------
    >>> lora = lora_init(np.zeros((6, 4)), 2, 4.0, rng=np.random.default_rng(0))
    >>> lora["A"].shape, lora["B"].shape, lora["scale"], bool(np.all(lora["B"] == 0))
    ((6, 2), (2, 4), 2.0, True)

    Chapter 4.
    """
    W = as_float_array(W, "W", ndim=2)
    r = _check_rank(r, W.shape, "r")
    alpha = check_positive_float(alpha, "alpha")
    rng = check_rng(rng)
    d_in, d_out = W.shape
    A = (rng.standard_normal((d_in, r)) / math.sqrt(d_in)).astype(W.dtype, copy=False)
    return {"A": A, "B": np.zeros((r, d_out), dtype=W.dtype), "scale": alpha / r}


def lora_delta(lora) -> np.ndarray:
    """The update ``ΔW = (α/r) A B : (d_in, d_out)`` an adapter adds (rank at most ``r``).

    Examples
    --------
    >>> lora_delta({"A": np.ones((3, 1)), "B": np.ones((1, 2)), "scale": 0.5})
    array([[0.5, 0.5],
           [0.5, 0.5],
           [0.5, 0.5]])

    Chapter 4.
    """
    A, B, scale = _check_lora(lora)
    return scale * (A @ B)


def _check_layer(X, W, b, lora):
    W = as_float_array(W, "W", ndim=2)
    X = as_float_array(X, "X", ndim=2)
    check_shape(X, "X", (None, W.shape[0]), f"columns == W.shape[0] == d_in == {W.shape[0]}")
    if b is not None:
        b = as_float_array(b, "b", ndim=1)
        check_shape(b, "b", (W.shape[1],), f"d_out == W.shape[1] == {W.shape[1]}")
    A, B, scale = _check_lora(lora, W.shape)
    return X, W, b, A, B, scale


def lora_forward(X, W, b, lora) -> np.ndarray:
    """The LoRA-adapted dense layer (row convention), without ever forming ``ΔW``.

    .. math:: Z = XW + \\mathbf 1 b^T + \\frac{\\alpha}{r}(XA)B

    ``(XA)B`` costs ``O(n r (d_in + d_out))``, far less than ``X(AB)`` when
    ``r`` is small.

    Parameters
    ----------
    X : (n, d_in)
    W : (d_in, d_out), frozen
    b : (d_out,) or None, frozen
    lora : dict from :func:`lora_init`

    Returns
    -------
    Z : (n, d_out)

    Examples
    --------
    >>> W = np.eye(3); lora = lora_init(W, 1, 1.0, rng=np.random.default_rng(0))
    >>> np.allclose(lora_forward(np.ones((2, 3)), W, None, lora), np.ones((2, 3)))   # B = 0: equals X W
    True

    Chapter 4.
    """
    X, W, b, A, B, scale = _check_layer(X, W, b, lora)
    Z = X @ W + scale * ((X @ A) @ B)
    return Z if b is None else Z + b


def lora_backward(dZ, X, W, lora):
    """Gradients of the adapted layer for ``A`` and ``B`` only (``W`` and ``b`` are frozen).

    With ``dZ = ∂L/∂Z`` and ``s = α/r``:

    .. math::
        \\frac{\\partial L}{\\partial B} = s\\,(XA)^T dZ, \\qquad
        \\frac{\\partial L}{\\partial A} = s\\,X^T(dZ\\,B^T), \\qquad
        \\frac{\\partial L}{\\partial X} = dZ\\,W^T + s\\,(dZ\\,B^T)A^T

    Parameters
    ----------
    dZ : (n, d_out)
    X : (n, d_in), the layer's input
    W : (d_in, d_out)
    lora : dict from :func:`lora_init`

    Returns
    -------
    dX : (n, d_in)
    grads : dict ``{"A": (d_in, r), "B": (r, d_out)}``

    Examples
    --------
    >>> W = np.eye(2); lora = lora_init(W, 1, 1.0, rng=np.random.default_rng(0))
    >>> dX, g = lora_backward(np.ones((3, 2)), np.ones((3, 2)), W, lora); g["B"].shape
    (1, 2)

    Chapter 4.
    """
    X, W, _, A, B, scale = _check_layer(X, W, None, lora)
    dZ = as_float_array(dZ, "dZ", ndim=2)
    check_shape(dZ, "dZ", (X.shape[0], W.shape[1]), "(rows of X, d_out)")
    dZB = dZ @ B.T
    grads = {"A": scale * (X.T @ dZB), "B": scale * ((X @ A).T @ dZ)}
    dX = dZ @ W.T + scale * (dZB @ A.T)
    return dX, grads


def lora_weight_gradients(dW, lora) -> dict:
    """Chain rule from the gradient of the effective weight to the adapter's factors.

    If a model uses ``W_eff = W + s A B`` and ``dW = ∂L/∂W_eff`` is known (any
    backward pass that gives a weight gradient), then

    .. math:: \\frac{\\partial L}{\\partial A} = s\\, dW\\, B^T, \\qquad \\frac{\\partial L}{\\partial B} = s\\, A^T dW .

    Parameters
    ----------
    dW : (d_in, d_out)
    lora : dict from :func:`lora_init`

    Returns
    -------
    dict ``{"A": (d_in, r), "B": (r, d_out)}``

    Examples
    --------
    >>> lora = {"A": np.ones((2, 1)), "B": np.zeros((1, 3)), "scale": 1.0}
    >>> lora_weight_gradients(np.ones((2, 3)), lora)["B"]
    array([[2., 2., 2.]])

    Chapter 4.
    """
    A, B, scale = _check_lora(lora)
    dW = as_float_array(dW, "dW", ndim=2)
    check_shape(dW, "dW", (A.shape[0], B.shape[1]), "(d_in, d_out) of the adapter")
    return {"A": scale * (dW @ B.T), "B": scale * (A.T @ dW)}


def lora_merge(W, lora) -> np.ndarray:
    """Fold the adapter into the weight: ``W' = W + (α/r) A B`` — no extra cost at inference.

    Parameters
    ----------
    W : (d_in, d_out)
    lora : dict from :func:`lora_init`

    Returns
    -------
    W' : (d_in, d_out), a new array (``W`` is not modified)

    Examples
    --------
    >>> lora = {"A": np.ones((2, 1)), "B": np.ones((1, 2)), "scale": 1.0}
    >>> lora_merge(np.eye(2), lora)
    array([[2., 1.],
           [1., 2.]])

    Chapter 4.
    """
    W = as_float_array(W, "W", ndim=2)
    A, B, scale = _check_lora(lora, W.shape)
    return W + scale * (A @ B)


def lora_unmerge(W_merged, lora) -> np.ndarray:
    """Take a merged adapter back out: ``W = W' − (α/r) A B`` (to swap in another task's adapter).

    Equal to the original ``W`` up to rounding (one addition and one
    subtraction of the same product).

    Examples
    --------
    >>> lora = {"A": np.ones((2, 1)), "B": np.ones((1, 2)), "scale": 1.0}
    >>> np.allclose(lora_unmerge(lora_merge(np.eye(2), lora), lora), np.eye(2))
    True

    Chapter 4.
    """
    W_merged = as_float_array(W_merged, "W_merged", ndim=2)
    A, B, scale = _check_lora(lora, W_merged.shape)
    return W_merged - scale * (A @ B)


def lora_num_params(d_in: int, d_out: int, r: int) -> int:
    """Trainable parameters of a rank-``r`` adapter on a ``d_in × d_out`` weight: ``r (d_in + d_out)``.

    Full fine-tuning of the same weight trains ``d_in d_out``; the ratio is
    ``d_in d_out / (r (d_in + d_out))`` — ``d / (2r)`` for a square ``d × d``.

    Examples
    --------
    >>> lora_num_params(12288, 12288, 1), 12288 * 12288
    (24576, 150994944)

    Chapter 4.
    """
    d_in = check_positive_int(d_in, "d_in")
    d_out = check_positive_int(d_out, "d_out")
    r = check_positive_int(r, "r", maximum=min(d_in, d_out), why="min(d_in, d_out)")
    return r * (d_in + d_out)


def finetune_attention_model(params, tokens, targets, *, rank=None, alpha=None, adapt=("W_Q", "W_V"),
                             steps: int = 300, batch_size: int = 64, lr: float = 0.01, rng=None,
                             progress: bool = True):
    """Fine-tune chapter 3's attention model on a new task: fully, or with LoRA adapters.

    * ``rank=None`` — **full fine-tuning**: every parameter starts from
      ``params`` and is trained.
    * ``rank=r`` — **LoRA**: the weights named in ``adapt`` (default the
      query and value projections, as in Hu et al.) get an adapter from
      :func:`lora_init`; everything else is frozen. Each step runs
      :func:`lalib.attention.attention_model_gradients` on the merged
      weights and maps the weight gradients to ``A`` and ``B`` with
      :func:`lora_weight_gradients`; :class:`lalib.mlp.Adam` updates only
      the adapters.

    Parameters
    ----------
    params : dict from :func:`lalib.attention.train_attention_model` (not modified)
    tokens, targets : (N, n) ints, the new task
    rank : int or None
    alpha : float, optional, LoRA's ``α`` (default ``2 r``, so the scale is 2)
    adapt : tuple of parameter names to adapt (square weights ``W_Q``, ``W_K``, ``W_V``, or ``W_out``)
    steps, batch_size : int
    lr : float, Adam's learning rate
    rng : numpy.random.Generator, optional (adapter initialisation and batches)
    progress : bool

    Returns
    -------
    params : dict, the fine-tuned parameters (adapters merged in)
    info : dict with ``"loss"`` (per step), ``"trainable"`` (number of trained
        parameters), ``"seconds"`` (wall time) and, for LoRA, ``"adapters"``
        (name -> adapter dict)

    Examples
    --------
    >>> from lalib import attention
    >>> rng = np.random.default_rng(0); t = rng.integers(0, 5, size=(40, 4))
    >>> p, _ = attention.train_attention_model(t, t[:, ::-1], 5, d_model=8, steps=2, rng=rng, progress=False)
    >>> q, info = finetune_attention_model(p, t, t, rank=1, steps=2, rng=rng, progress=False)
    >>> info["trainable"]                       # 1 * (8 + 8) for W_Q and for W_V
    32

    Chapter 4.
    """
    from . import attention as _att
    from .mlp import Adam

    if not isinstance(params, dict) or "W_E" not in params:
        raise ValueError("params must be the dict of a trained attention model "
                         "(lalib.attention.train_attention_model / attention_model_init)")
    V = np.shape(params["W_E"])[0]
    tokens = as_int_array(tokens, "tokens", ndim=2, low=0, high=V)
    targets = as_int_array(targets, "targets", ndim=2, low=0, high=V)
    check_shape(targets, "targets", tokens.shape, "one target per token")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(lr, "lr")
    rng = check_rng(rng)
    base = {key: np.array(value, dtype=np.float64, copy=True) for key, value in params.items()}
    adapt = tuple(adapt)
    for name in adapt:
        if name not in base or np.ndim(base[name]) != 2:
            raise ValueError(f"adapt must name weight matrices of the model; got {name!r}")
    adapters = {}
    if rank is not None:
        rank = check_positive_int(rank, "rank")
        alpha = 2.0 * rank if alpha is None else check_positive_float(alpha, "alpha")
        adapters = {name: lora_init(base[name], rank, alpha, rng=rng) for name in adapt}
        trainable = sum(a["A"].size + a["B"].size for a in adapters.values())
    else:
        trainable = sum(np.size(v) for v in base.values())
    opt = Adam(lr=lr)
    losses = []
    t0 = time.perf_counter()
    for step in progress_bar(range(steps), desc="fine-tuning", show=progress):
        batch = rng.integers(0, len(tokens), size=batch_size)
        current = dict(base)
        for name, lora in adapters.items():
            current[name] = lora_merge(base[name], lora)
        loss, grads = _att.attention_model_gradients(current, tokens[batch], targets[batch])
        losses.append(check_finite_loss(loss, step + 1, "finetune_attention_model", "lower lr"))
        if rank is None:
            opt.step(base, grads)
        else:
            flat_params, flat_grads = {}, {}
            for name, lora in adapters.items():
                g = lora_weight_gradients(grads[name], lora)
                for part in ("A", "B"):
                    flat_params[f"{name}.{part}"] = lora[part]
                    flat_grads[f"{name}.{part}"] = g[part]
            opt.step(flat_params, flat_grads)         # updates the adapter arrays in place
    seconds = time.perf_counter() - t0
    final = dict(base)
    for name, lora in adapters.items():
        final[name] = lora_merge(base[name], lora)
    info = {"loss": losses, "trainable": int(trainable), "seconds": seconds}
    if rank is not None:
        info["adapters"] = adapters
    return final, info
