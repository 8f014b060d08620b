"""The linear algebra toolkit (chapter 0): norms, projections, QR, power iteration, convolution.

Every function here is written out so that a student can read it next to the
equation it computes; the tests compare each one with NumPy/SciPy. The chapter
notebook is ``notebooks/00_linear_algebra_toolkit.ipynb``.

Numerical care is part of the lesson:

* the 2-norm is computed with scaling, so that ``[1e200, 1e200]`` does not overflow;
* projections and least squares go through an orthonormal basis (QR), never
  through ``inv(A.T @ A)``;
* modified Gram–Schmidt and Householder QR keep ``Q`` orthonormal where classical
  Gram–Schmidt does not.

Conventions for convolution. Deep-learning "convolution" layers compute a
*cross-correlation*: the kernel slides over the input without being flipped,

.. math:: y_i = \\sum_{j=0}^{k-1} w_j\\, x_{i+j}.

The convolution of signal processing flips the kernel first,
:math:`y_i = \\sum_j w_j\\, x_{i+k-1-j}`. Both are linear in ``x``, so both are a
matrix product: a Toeplitz (banded) matrix in 1-D and an ``im2col`` matrix in
2-D. All convolutions here are ``valid``: the output has one entry per position
where the kernel fits entirely inside the input (pad ``x`` yourself for "same").
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._validate import (
    NotConvergedWarning,
    as_float_array,
    as_sparse_or_dense,
    check_choice,
    check_finite,
    check_positive_float,
    check_positive_int,
    check_rng,
    check_shape,
)

__all__ = [
    "vector_norm",
    "frobenius_norm",
    "orthonormal_basis",
    "projection_matrix",
    "project",
    "gram_schmidt",
    "householder_qr",
    "rayleigh_quotient",
    "power_iteration",
    "cross_correlate1d",
    "convolve1d",
    "conv1d_matrix",
    "im2col",
    "cross_correlate2d",
    "convolve2d",
    "conv2d_as_matmul",
    "random_orthogonal",
]


# ---------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------

def vector_norm(x, ord=2):
    r"""The 1-, 2- or ∞-norm of a vector (or of each row of a batch), written out.

    .. math::
        \|x\|_1 = \sum_i |x_i|, \qquad
        \|x\|_2 = \Big(\sum_i x_i^2\Big)^{1/2}, \qquad
        \|x\|_\infty = \max_i |x_i|.

    The 2-norm is computed as :math:`s\,\|x/s\|_2` with :math:`s = \|x\|_\infty`,
    so that squaring large entries cannot overflow (and tiny ones cannot
    underflow to zero) — the same trick as BLAS ``nrm2``.

    Chapter 0 (vectors, norms and unit balls).

    Parameters
    ----------
    x : (n,) or (..., n) array_like
        A vector, or a batch of vectors along the last axis.
    ord : {1, 2, inf}
        Which norm.

    Returns
    -------
    norm : float or (...,) ndarray
        A float for a single vector; one norm per vector for a batch.

    Examples
    --------
    >>> vector_norm([3.0, -4.0]), vector_norm([3.0, -4.0], 1), vector_norm([3.0, -4.0], np.inf)
    (5.0, 7.0, 4.0)
    """
    if ord not in (1, 2, np.inf):
        raise ValueError(f"ord must be one of 1, 2, np.inf; got {ord!r}")
    x = as_float_array(x, "x", ndim=range(1, 33))
    absx = np.abs(x)
    if ord == 1:
        out = absx.sum(axis=-1)
    elif ord == np.inf:
        out = absx.max(axis=-1)
    else:
        scale = absx.max(axis=-1, keepdims=True)
        safe = np.where(scale > 0, scale, 1)  # the zero vector has norm 0, not 0/0
        out = safe[..., 0] * np.sqrt(((absx / safe) ** 2).sum(axis=-1))
    return float(out) if x.ndim == 1 else out


def frobenius_norm(A):
    r"""The Frobenius norm of a matrix, written out (with the same scaling as the 2-norm).

    .. math:: \|A\|_F = \Big(\sum_{i,j} a_{ij}^2\Big)^{1/2} = \Big(\sum_i \sigma_i^2\Big)^{1/2}.

    It is the 2-norm of ``A`` read as one long vector, and also the 2-norm of its
    singular values. Deep learning uses it as the "weight decay" penalty
    :math:`\lambda \|W\|_F^2`.

    Chapter 0.

    Parameters
    ----------
    A : (m, n) array_like

    Returns
    -------
    float

    Examples
    --------
    >>> frobenius_norm([[1.0, 2.0], [2.0, 4.0]])
    5.0
    """
    A = as_float_array(A, "A", ndim=2)
    return vector_norm(A.ravel(), 2)


# ---------------------------------------------------------------------------
# Orthonormal bases and projections
# ---------------------------------------------------------------------------

def orthonormal_basis(A, tol=None):
    r"""An orthonormal basis ``Q`` of the span of the columns of ``A``, by pivoted QR.

    Column-pivoted QR, :math:`A\Pi = QR`, moves the "most independent" columns
    first, so the diagonal of ``R`` decreases in magnitude. The numerical rank
    ``r`` is the number of :math:`|r_{ii}| > \mathrm{tol}`, and the first ``r``
    columns of ``Q`` span the column space of ``A``. Rank-deficient ``A`` is
    therefore handled (redundant columns are dropped), not refused.

    Chapter 0 (rank, span, projection).

    Parameters
    ----------
    A : (n, k) array_like
        The columns spanning the subspace.
    tol : float, optional
        Rank threshold on :math:`|r_{ii}|`; default
        ``max(n, k) * eps * |r_11|`` (as ``np.linalg.matrix_rank``).

    Returns
    -------
    Q : (n, r) ndarray
        Orthonormal columns, :math:`Q^T Q = I_r`, with ``r = rank(A)``
        (``r`` may be 0 when ``A`` is zero).

    Examples
    --------
    >>> orthonormal_basis([[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]]).shape  # two equal directions
    (3, 1)
    """
    A = as_float_array(A, "A", ndim=2)
    if tol is not None:
        tol = check_positive_float(tol, "tol", allow_zero=True)
    Q, R, _ = scipy.linalg.qr(A, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    if tol is None:
        tol = max(A.shape) * np.finfo(A.dtype).eps * (diag[0] if diag.size else 0.0)
    rank = int(np.count_nonzero(diag > tol))
    return Q[:, :rank]


def projection_matrix(A, tol=None):
    r"""The orthogonal projector onto the column space of ``A``: :math:`P = QQ^T`.

    The textbook formula :math:`P = A(A^TA)^{-1}A^T` squares the condition
    number of ``A`` and fails when ``A`` is rank deficient. With an orthonormal
    basis ``Q`` of :math:`\mathrm{range}(A)` (see :func:`orthonormal_basis`) the
    projector is simply :math:`QQ^T`; it is symmetric and idempotent,
    :math:`P^2 = P = P^T`. Rank-deficient ``A`` is handled.

    Chapter 0.

    Parameters
    ----------
    A : (n, k) array_like
    tol : float, optional
        Rank threshold, see :func:`orthonormal_basis`.

    Returns
    -------
    P : (n, n) ndarray

    Examples
    --------
    >>> projection_matrix([[1.0], [1.0]])
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    Q = orthonormal_basis(A, tol)
    return Q @ Q.T


def project(A, b, tol=None):
    r"""Orthogonal projection of ``b`` onto the column space of ``A``: :math:`\hat b = Q(Q^Tb)`.

    :math:`\hat b` is the vector of :math:`\mathrm{range}(A)` closest to ``b``,
    i.e. :math:`A\hat x` for the least-squares solution :math:`\hat x`; the
    residual :math:`b - \hat b` is orthogonal to every column of ``A``. Computed
    as two thin products, never forming the ``n × n`` projector. Rank-deficient
    ``A`` is handled (see :func:`orthonormal_basis`).

    Chapter 0.

    Parameters
    ----------
    A : (n, k) array_like
    b : (n,) or (n, m) array_like
        One vector, or ``m`` vectors as columns.
    tol : float, optional
        Rank threshold, see :func:`orthonormal_basis`.

    Returns
    -------
    b_hat : ndarray, same shape as ``b``

    Examples
    --------
    >>> project([[1.0], [0.0]], [3.0, 4.0])
    array([3., 0.])
    """
    A = as_float_array(A, "A", ndim=2)
    b = as_float_array(b, "b", ndim=(1, 2))
    if b.shape[0] != A.shape[0]:
        raise ValueError(f"b must have {A.shape[0]} rows (== A.shape[0]); got shape {b.shape}")
    Q = orthonormal_basis(A, tol)
    return Q @ (Q.T @ b)


# ---------------------------------------------------------------------------
# QR: Gram–Schmidt and Householder
# ---------------------------------------------------------------------------

def gram_schmidt(A, method="modified"):
    r"""Reduced QR of a full-column-rank ``A`` by Gram–Schmidt: ``A = QR``.

    Column ``j`` of ``Q`` is column ``a_j`` with its components along
    :math:`q_1, \dots, q_{j-1}` removed, then normalised:

    .. math:: v_j = a_j - \sum_{i<j} r_{ij} q_i, \quad r_{jj} = \|v_j\|_2, \quad q_j = v_j / r_{jj}.

    * ``"classical"`` (CGS) computes every :math:`r_{ij} = q_i^T a_j` from the
      *original* column. In floating point the :math:`q_j` then lose
      orthogonality in proportion to :math:`\kappa(A)^2`.
    * ``"modified"`` (MGS) computes :math:`r_{ij} = q_i^T v` from the *partly
      orthogonalised* column ``v``. In exact arithmetic this is the same; in
      floating point the loss of orthogonality grows only like :math:`\kappa(A)`.

    Chapter 0 (LU, QR and Cholesky).

    Parameters
    ----------
    A : (m, n) array_like, m >= n
        Columns must be linearly independent.
    method : {"modified", "classical"}

    Returns
    -------
    Q : (m, n) ndarray
        Orthonormal columns (up to rounding).
    R : (n, n) ndarray
        Upper triangular with positive diagonal.

    Raises
    ------
    ValueError
        If ``m < n`` or a column is (numerically) a combination of the previous
        ones, i.e. :math:`r_{jj} \le m\,\varepsilon\,\|a_j\|`.

    Examples
    --------
    >>> Q, R = gram_schmidt([[3.0, 1.0], [4.0, 2.0]])
    >>> np.allclose(Q @ R, [[3.0, 1.0], [4.0, 2.0]])
    True
    """
    method = check_choice(method, "method", ("modified", "classical"))
    A = as_float_array(A, "A", ndim=2)
    m, n = A.shape
    if m < n:
        raise ValueError(f"A must have at least as many rows as columns (m >= n) for Gram-Schmidt; got shape {A.shape}")
    eps = np.finfo(A.dtype).eps
    Q = np.zeros_like(A)
    R = np.zeros((n, n), dtype=A.dtype)
    for j in range(n):
        v = A[:, j].copy()
        if method == "classical":
            R[:j, j] = Q[:, :j].T @ A[:, j]  # all projections of the ORIGINAL column
            v -= Q[:, :j] @ R[:j, j]
        else:
            for i in range(j):
                R[i, j] = Q[:, i] @ v  # projection of the CURRENT, partly cleaned column
                v -= R[i, j] * Q[:, i]
        R[j, j] = vector_norm(v)
        if R[j, j] <= m * eps * vector_norm(A[:, j]):
            raise ValueError(
                f"A must have linearly independent columns; column {j} lies (numerically) in the span "
                f"of columns 0..{j - 1}. Use orthonormal_basis(A) for rank-deficient A"
            )
        Q[:, j] = v / R[j, j]
    return Q, R


def householder_qr(A, mode="reduced"):
    r"""QR factorisation ``A = QR`` by Householder reflections, written out.

    Step ``k`` reflects the column below the diagonal, ``x = A[k:, k]``, onto a
    multiple of :math:`e_1` with the reflector
    :math:`H = I - 2vv^T/(v^Tv)`, :math:`v = x + \mathrm{sign}(x_1)\|x\|_2 e_1`
    (the sign avoids cancellation). Each :math:`H` is orthogonal, so
    :math:`Q = H_1 H_2 \cdots H_p` is orthogonal to working precision *whatever*
    the conditioning of ``A`` — unlike Gram–Schmidt. LAPACK (``np.linalg.qr``)
    does the same, in blocks.

    The diagonal of ``R`` may be negative (its signs are those the reflections
    produce); multiply ``Q``'s columns and ``R``'s rows by ``sign(diag(R))`` to
    make it positive.

    Chapter 0.

    Parameters
    ----------
    A : (m, n) array_like
        Any shape; rank deficiency is fine.
    mode : {"reduced", "complete"}
        With ``p = min(m, n)``: ``"reduced"`` gives ``Q : (m, p)``, ``R : (p, n)``;
        ``"complete"`` gives ``Q : (m, m)``, ``R : (m, n)`` — as ``np.linalg.qr``.

    Returns
    -------
    Q : ndarray
        Orthonormal columns.
    R : ndarray
        Upper triangular (upper trapezoidal when ``m < n``).

    Examples
    --------
    >>> Q, R = householder_qr([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> Q.shape, R.shape, np.allclose(Q @ R, [[1, 2], [3, 4], [5, 6]])
    ((3, 2), (2, 2), True)
    """
    mode = check_choice(mode, "mode", ("reduced", "complete"))
    A = as_float_array(A, "A", ndim=2)
    m, n = A.shape
    R = A.copy()
    reflectors = []
    for k in range(min(m - 1, n)):
        x = R[k:, k]
        alpha = vector_norm(x)
        if alpha == 0.0:
            reflectors.append(None)  # column already zero below the diagonal
            continue
        v = x.copy()
        v[0] += (1.0 if x[0] >= 0 else -1.0) * alpha  # v = x + sign(x1) ||x|| e1
        v /= vector_norm(v)
        R[k:, k:] -= 2.0 * np.outer(v, v @ R[k:, k:])  # H R without forming H
        R[k + 1:, k] = 0.0  # exact zeros below the diagonal
        reflectors.append(v)
    p = m if mode == "complete" else min(m, n)
    # Q = H_1 ... H_s applied to the first p columns of the identity, last reflector first.
    Q = np.eye(m, p, dtype=A.dtype)
    for k in reversed(range(len(reflectors))):
        v = reflectors[k]
        if v is not None:
            Q[k:, :] -= 2.0 * np.outer(v, v @ Q[k:, :])
    return Q, np.triu(R[:p, :])


# ---------------------------------------------------------------------------
# Eigenvalues: power iteration
# ---------------------------------------------------------------------------

def _is_matvec(A):
    """A plain function ``x -> A @ x`` (not an array or a sparse matrix)."""
    return callable(A) and not sp.issparse(A) and not isinstance(A, np.ndarray)


def _as_operator(A, x0, n):
    """Return ``(matvec, x0, n, dtype)`` for a dense matrix, a sparse matrix or a matvec callable."""
    if _is_matvec(A):
        if x0 is not None:
            x0 = as_float_array(x0, "x0", ndim=1)
            if n is not None and x0.shape[0] != n:
                raise ValueError(f"x0 must have length n == {n}; got shape {x0.shape}")
            n = x0.shape[0]
        if n is None:
            raise ValueError("when A is a callable (a matvec), give n or x0 so the vector length is known")
        return A, x0, n, np.float64
    A = as_sparse_or_dense(A, "A", square=True)
    n = A.shape[0]
    if x0 is not None:
        x0 = as_float_array(x0, "x0", ndim=1, shape=(n,))
    return (lambda x: A @ x), x0, n, A.dtype


def rayleigh_quotient(A, x):
    r"""The Rayleigh quotient :math:`\rho(x) = \dfrac{x^TAx}{x^Tx}`.

    For an eigenvector ``x`` of ``A`` it is the eigenvalue; for symmetric ``A``
    an :math:`O(\epsilon)` error in ``x`` gives only an :math:`O(\epsilon^2)`
    error in :math:`\rho(x)`.

    Chapter 0.

    Parameters
    ----------
    A : (n, n) array_like or sparse matrix
    x : (n,) array_like, not zero

    Returns
    -------
    float

    Examples
    --------
    >>> rayleigh_quotient([[2.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
    2.0
    """
    A = as_sparse_or_dense(A, "A", square=True)
    x = as_float_array(x, "x", ndim=1, shape=(A.shape[0],))
    xx = float(x @ x)
    if xx == 0.0:
        raise ValueError("x must not be the zero vector")
    return float(x @ (A @ x)) / xx


def power_iteration(A, x0=None, *, n=None, max_iter=1000, tol=1e-10, rng=None):
    r"""The dominant eigenpair of ``A`` by power iteration, with its convergence history.

    .. math::
        x_{k+1} = \frac{A x_k}{\|A x_k\|_2}, \qquad
        \lambda_k = x_k^T A x_k \ \text{(Rayleigh quotient, } \|x_k\|_2 = 1).

    If :math:`|\lambda_1| > |\lambda_2| \ge \dots`, the angle between
    :math:`x_k` and the eigenvector shrinks like :math:`|\lambda_2/\lambda_1|^k`
    (and, for symmetric ``A``, the eigenvalue error like
    :math:`|\lambda_2/\lambda_1|^{2k}`). Only products :math:`x \mapsto Ax` are
    needed, so ``A`` may be dense, sparse, or just a function — the reason this
    is how PageRank, spectral norms of weight matrices ("spectral
    normalisation") and the Lanczos method begin.

    The iteration stops when the residual
    :math:`\|Ax_k - \lambda_k x_k\|_2 \le \mathrm{tol}\cdot|\lambda_k|`. If
    :math:`|\lambda_1| = |\lambda_2|` (e.g. :math:`\pm\lambda` or a complex
    pair) it cannot converge, and if :math:`|\lambda_2/\lambda_1|` is close to 1
    it converges too slowly for ``max_iter``. Either way, when it stops at
    ``max_iter`` above the tolerance it warns with
    :class:`lalib._validate.NotConvergedWarning`, giving the number of steps,
    the residual and the likely cause, with :math:`|\lambda_2/\lambda_1|`
    estimated from the convergence history (the residual shrinks by about that
    factor per step); ``history["converged"]`` is then False. With ``tol=0``
    (run all steps, for a convergence study) it never warns.

    Chapter 0 (eigendecomposition and power iteration).

    Parameters
    ----------
    A : (n, n) array_like, scipy.sparse matrix, or callable
        The matrix, or a function ``x -> A @ x`` for ``x : (n,)``.
    x0 : (n,) array_like, optional
        Starting vector (non-zero); default a random Gaussian vector from ``rng``.
    n : int, optional
        Length of the vectors; needed only when ``A`` is a callable and ``x0`` is None.
    max_iter : int
        Maximum number of products with ``A``.
    tol : float
        Relative residual at which to stop (0 runs all ``max_iter`` steps).
    rng : numpy.random.Generator, optional
        Used only for the default ``x0``.

    Returns
    -------
    eigenvalue : float
        The Rayleigh quotient :math:`\lambda` of the last iterate.
    eigenvector : (n,) ndarray
        Unit 2-norm; its sign is fixed so that its largest-magnitude entry is positive.
    history : dict
        ``"eigenvalue"`` : (k,) Rayleigh quotient at each step;
        ``"residual"`` : (k,) :math:`\|Ax_k - \lambda_k x_k\|_2` at each step;
        ``"converged"`` : bool; ``"n_iter"`` : int, the number ``k`` of steps taken;
        ``"ratio_estimate"`` : float, :math:`|\lambda_2/\lambda_1|` estimated
        from the geometric decay of the residual over the second half of the
        history (NaN with fewer than 4 steps).

    Warns
    -----
    NotConvergedWarning
        When ``tol > 0`` and the residual is still above ``tol * |λ|`` after
        ``max_iter`` steps.

    Examples
    --------
    >>> lam, v, hist = power_iteration(np.diag([3.0, 1.0]), x0=[1.0, 1.0])
    >>> round(lam, 8), hist["converged"]
    (3.0, True)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = power_iteration([[0.0, 1.0], [1.0, 0.0]], x0=[1.0, 0.5], max_iter=50)
    >>> caught[0].category.__name__
    'NotConvergedWarning'
    """
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_positive_float(tol, "tol", allow_zero=True)
    rng = check_rng(rng)
    if n is not None:
        n = check_positive_int(n, "n")
    matvec, x0, n, dtype = _as_operator(A, x0, n)
    if x0 is None:
        x = rng.standard_normal(n).astype(dtype)
    else:
        x = x0.astype(dtype, copy=True)
    x_norm = vector_norm(x)
    if x_norm == 0.0:
        raise ValueError("x0 must not be the zero vector")
    x /= x_norm

    eigenvalues, residuals = [], []
    converged = False
    lam = 0.0
    for _ in range(max_iter):
        y = np.asarray(matvec(x), dtype=dtype)
        if y.shape not in ((n,), (n, 1)):
            raise ValueError(f"A(x) must return a vector of length {n}; got shape {y.shape}")
        y = y.reshape(n)
        check_finite(y, "A @ x")
        lam = float(x @ y)  # Rayleigh quotient, since ||x|| = 1
        res = vector_norm(y - lam * x)
        eigenvalues.append(lam)
        residuals.append(res)
        y_norm = vector_norm(y)
        if y_norm == 0.0:  # A x = 0: x is an eigenvector for the eigenvalue 0
            converged = True
            break
        if res <= tol * abs(lam):
            converged = True
            break
        x = y / y_norm
    # A fixed sign makes the result reproducible: largest-magnitude entry positive.
    if x[np.argmax(np.abs(x))] < 0:
        x = -x
    residuals = np.array(residuals)
    ratio = _decay_rate(residuals)
    history = {
        "eigenvalue": np.array(eigenvalues),
        "residual": residuals,
        "converged": converged,
        "n_iter": len(eigenvalues),
        "ratio_estimate": ratio,
    }
    if not converged and tol > 0:
        warnings.warn(_not_converged_message(len(residuals), residuals[-1], lam, tol, ratio),
                      NotConvergedWarning, stacklevel=2)
    return lam, x, history


def _decay_rate(residuals):
    """Geometric decay factor per step of the residual, fitted over the second half of the history.

    Power iteration's residual behaves like ``C |λ₂/λ₁|^k``, so the slope of
    ``log(residual)`` against ``k`` estimates ``log|λ₂/λ₁|``. NaN when there are
    fewer than 4 steps or a residual is exactly 0.
    """
    tail = residuals[len(residuals) // 2:]
    if tail.size < 2 or np.any(tail <= 0):
        return float("nan")
    slope = np.polyfit(np.arange(tail.size), np.log(tail), 1)[0]
    return float(np.exp(slope))


def _not_converged_message(n_iter, residual, lam, tol, ratio):
    """The warning text: where it stopped, how far off it is, and why it probably did not converge."""
    head = (f"power_iteration did not converge in {n_iter} iterations: residual ||Ax - λx|| = {residual:.3g} "
            f"> tol·|λ| = {tol * abs(lam):.3g} (λ ≈ {lam:.6g}). ")
    if not np.isfinite(ratio):
        return head + "Too few steps to estimate |λ2/λ1|; raise max_iter."
    if ratio > 0.999:
        return head + (f"The residual is not decreasing (estimated |λ2/λ1| ≈ {min(ratio, 1.0):.3f}): A probably has "
                       "two dominant eigenvalues of equal magnitude (such as +λ and -λ, or a complex-conjugate "
                       "pair), which power iteration cannot separate. Shift the matrix (A + σI) or use a "
                       "Krylov method such as Lanczos / scipy.sparse.linalg.eigsh.")
    steps = int(np.ceil(np.log(tol * abs(lam) / residual) / np.log(ratio))) if lam != 0 else -1
    more = f" about {steps} more steps would reach tol," if steps > 0 else ""
    return head + (f"The residual shrinks by a factor ≈ {ratio:.4f} per step, so the dominant ratio "
                   f"|λ2/λ1| ≈ {ratio:.4f} is close to 1:{more} or shift the matrix / use Lanczos.")


# ---------------------------------------------------------------------------
# Convolution as a matrix product
# ---------------------------------------------------------------------------

def _signal_and_kernel_1d(x, w):
    x = as_float_array(x, "x", ndim=1)
    w = as_float_array(w, "w", ndim=1)
    if w.shape[0] > x.shape[0]:
        raise ValueError(f"w must not be longer than x for a 'valid' convolution; got len(w)={w.shape[0]} > len(x)={x.shape[0]}")
    return x, w


def cross_correlate1d(x, w):
    r"""'Valid' 1-D cross-correlation, the operation of a deep-learning ``Conv1d`` layer.

    .. math:: y_i = \sum_{j=0}^{k-1} w_j\, x_{i+j}, \qquad i = 0, \dots, n-k.

    Written as a sum of ``k`` shifted copies of ``x`` (one per kernel tap).

    Chapter 0 (convolution as a matrix product).

    Parameters
    ----------
    x : (n,) array_like
    w : (k,) array_like, k <= n

    Returns
    -------
    y : (n - k + 1,) ndarray

    Examples
    --------
    >>> cross_correlate1d([1.0, 2.0, 3.0, 4.0], [1.0, -1.0])
    array([-1., -1., -1.])
    """
    x, w = _signal_and_kernel_1d(x, w)
    k, n_out = w.shape[0], x.shape[0] - w.shape[0] + 1
    y = np.zeros(n_out, dtype=np.result_type(x, w))
    for j in range(k):
        y += w[j] * x[j:j + n_out]
    return y


def convolve1d(x, w):
    r"""'Valid' 1-D convolution (kernel flipped), as ``np.convolve(x, w, "valid")``.

    .. math:: y_i = \sum_{j=0}^{k-1} w_j\, x_{i+k-1-j} = (x \star \mathrm{flip}(w))_i.

    Chapter 0.

    Parameters
    ----------
    x : (n,) array_like
    w : (k,) array_like, k <= n

    Returns
    -------
    y : (n - k + 1,) ndarray

    Examples
    --------
    >>> convolve1d([1.0, 2.0, 3.0, 4.0], [1.0, -1.0])
    array([1., 1., 1.])
    """
    x, w = _signal_and_kernel_1d(x, w)
    return cross_correlate1d(x, w[::-1])


def conv1d_matrix(w, n, kind="correlation"):
    r"""The Toeplitz matrix ``T`` with ``T @ x`` equal to the 'valid' 1-D correlation (or convolution).

    Row ``i`` of ``T`` holds the kernel at columns ``i .. i+k-1``:
    :math:`T_{i,i+j} = w_j`, so :math:`(Tx)_i = \sum_j w_j x_{i+j}`. ``T`` is
    constant along its diagonals (Toeplitz) and banded: a convolution layer is
    a dense layer whose weight matrix is this sparse, *shared* pattern.

    Chapter 0.

    Parameters
    ----------
    w : (k,) array_like
    n : int, n >= k
        Length of the input signal.
    kind : {"correlation", "convolution"}
        ``"convolution"`` flips ``w`` first.

    Returns
    -------
    T : (n - k + 1, n) ndarray

    Examples
    --------
    >>> conv1d_matrix([1.0, -1.0], 3)
    array([[ 1., -1.,  0.],
           [ 0.,  1., -1.]])
    """
    w = as_float_array(w, "w", ndim=1)
    n = check_positive_int(n, "n")
    kind = check_choice(kind, "kind", ("correlation", "convolution"))
    k = w.shape[0]
    if k > n:
        raise ValueError(f"n must be at least len(w) = {k} for a 'valid' convolution; got {n}")
    if kind == "convolution":
        w = w[::-1]
    T = np.zeros((n - k + 1, n), dtype=w.dtype)
    rows = np.arange(n - k + 1)
    for j in range(k):
        T[rows, rows + j] = w[j]  # the j-th diagonal holds w_j
    return T


def _as_image(X, name="X"):
    """(H, W) or (C, H, W) -> (C, H, W) float array."""
    X = as_float_array(X, name, ndim=(2, 3))
    return X[None] if X.ndim == 2 else X


def im2col(X, kh, kw):
    r"""Unfold every ``kh × kw`` patch of an image into a column ("image to columns").

    For an input with ``C`` channels, column ``p = r * W_out + c`` holds the
    patch whose top-left corner is ``(r, c)``, read channel by channel, row by
    row: ``cols[(ch*kh + a)*kw + b, p] = X[ch, r + a, c + b]``. A 2-D
    correlation is then one matrix product ``K_flat @ cols`` — the way GPU
    libraries turn convolution layers into GEMMs.

    Chapter 0.

    Parameters
    ----------
    X : (H, W) or (C, H, W) array_like
    kh, kw : int
        Patch height and width, at most ``H`` and ``W``.

    Returns
    -------
    cols : (C * kh * kw, H_out * W_out) ndarray
        With ``H_out = H - kh + 1``, ``W_out = W - kw + 1``.

    Examples
    --------
    >>> im2col(np.arange(9.0).reshape(3, 3), 2, 2)[:, 0]  # the top-left 2x2 patch
    array([0., 1., 3., 4.])
    """
    X = _as_image(X)
    kh = check_positive_int(kh, "kh", maximum=X.shape[1], why="the image height")
    kw = check_positive_int(kw, "kw", maximum=X.shape[2], why="the image width")
    C, H, W = X.shape
    Ho, Wo = H - kh + 1, W - kw + 1
    cols = np.empty((C, kh, kw, Ho, Wo), dtype=X.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, a, b] = X[:, a:a + Ho, b:b + Wo]  # every patch's (a, b) entry at once
    return cols.reshape(C * kh * kw, Ho * Wo)


def _image_and_kernel_2d(X, K):
    X = as_float_array(X, "X", ndim=2)
    K = as_float_array(K, "K", ndim=2)
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(f"K must fit inside X for a 'valid' convolution; got K {K.shape} and X {X.shape}")
    return X, K


def cross_correlate2d(X, K):
    r"""'Valid' 2-D cross-correlation of one image with one kernel (what ``Conv2d`` computes).

    .. math:: Y_{rc} = \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1} K_{ab}\, X_{r+a,\,c+b}.

    Written as a sum of ``kh * kw`` shifted copies of ``X``.

    Chapter 0.

    Parameters
    ----------
    X : (H, W) array_like
    K : (kh, kw) array_like, fitting inside X

    Returns
    -------
    Y : (H - kh + 1, W - kw + 1) ndarray

    Examples
    --------
    >>> cross_correlate2d(np.arange(9.0).reshape(3, 3), [[1.0, 0.0], [0.0, -1.0]])
    array([[-4., -4.],
           [-4., -4.]])
    """
    X, K = _image_and_kernel_2d(X, K)
    kh, kw = K.shape
    Ho, Wo = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    Y = np.zeros((Ho, Wo), dtype=np.result_type(X, K))
    for a in range(kh):
        for b in range(kw):
            Y += K[a, b] * X[a:a + Ho, b:b + Wo]
    return Y


def convolve2d(X, K):
    r"""'Valid' 2-D convolution (kernel flipped in both axes), as ``scipy.signal.convolve2d(X, K, "valid")``.

    .. math:: Y_{rc} = \sum_{a,b} K_{ab}\, X_{r+k_h-1-a,\,c+k_w-1-b}.

    Chapter 0.

    Parameters
    ----------
    X : (H, W) array_like
    K : (kh, kw) array_like, fitting inside X

    Returns
    -------
    Y : (H - kh + 1, W - kw + 1) ndarray

    Examples
    --------
    >>> convolve2d(np.arange(9.0).reshape(3, 3), [[1.0, 0.0], [0.0, -1.0]])
    array([[4., 4.],
           [4., 4.]])
    """
    X, K = _image_and_kernel_2d(X, K)
    return cross_correlate2d(X, K[::-1, ::-1])


def conv2d_as_matmul(X, K, kind="correlation"):
    r"""A 2-D convolution layer (no bias) as one matrix product via :func:`im2col`.

    With ``C_in`` input channels and ``C_out`` filters,

    .. math:: Y_{o,r,c} = \sum_{ch}\sum_{a,b} K_{o,ch,a,b}\, X_{ch,\,r+a,\,c+b}
        \quad\Longleftrightarrow\quad
        Y_{\text{flat}} = K_{\text{flat}}\; \mathrm{im2col}(X),

    where ``K_flat : (C_out, C_in*kh*kw)`` is ``K`` reshaped row by row.

    Chapter 0.

    Parameters
    ----------
    X : (H, W) or (C_in, H, W) array_like
    K : (kh, kw) or (C_out, C_in, kh, kw) array_like
        A 2-D kernel goes with a 2-D image.
    kind : {"correlation", "convolution"}
        ``"convolution"`` flips every kernel in both spatial axes.

    Returns
    -------
    Y : (H_out, W_out) for 2-D ``X``, or (C_out, H_out, W_out) ndarray

    Examples
    --------
    >>> X = np.arange(9.0).reshape(3, 3)
    >>> np.allclose(conv2d_as_matmul(X, [[1.0, 0.0], [0.0, -1.0]]), -4.0)
    True
    """
    kind = check_choice(kind, "kind", ("correlation", "convolution"))
    X_in = as_float_array(X, "X", ndim=(2, 3))
    K = as_float_array(K, "K", ndim=(2, 4))
    if (X_in.ndim == 2) != (K.ndim == 2):
        raise ValueError(
            f"K must be (kh, kw) for a 2-D X, or (C_out, C_in, kh, kw) for a 3-D X; got X {X_in.shape} and K {K.shape}"
        )
    X3 = X_in[None] if X_in.ndim == 2 else X_in
    K4 = K[None, None] if K.ndim == 2 else K
    C_out, C_in, kh, kw = K4.shape
    check_shape(K4, "K", (None, X3.shape[0], None, None), why="C_in == X.shape[0]")
    if kh > X3.shape[1] or kw > X3.shape[2]:
        raise ValueError(f"K must fit inside X for a 'valid' convolution; got kernel {kh}x{kw} and image {X3.shape[1]}x{X3.shape[2]}")
    if kind == "convolution":
        K4 = K4[..., ::-1, ::-1]
    cols = im2col(X3, kh, kw)                      # (C_in*kh*kw, Ho*Wo)
    Y = K4.reshape(C_out, -1) @ cols               # (C_out, Ho*Wo): ONE matrix product
    Y = Y.reshape(C_out, X3.shape[1] - kh + 1, X3.shape[2] - kw + 1)
    return Y[0] if X_in.ndim == 2 else Y


# ---------------------------------------------------------------------------
# Random orthogonal matrices
# ---------------------------------------------------------------------------

def random_orthogonal(n, rng=None, dtype=np.float64):
    r"""A random ``n × n`` orthogonal matrix, uniformly (Haar) distributed.

    Take a Gaussian matrix :math:`G = QR`. ``Q`` alone is *not* uniform: QR
    codes choose the signs of :math:`\mathrm{diag}(R)` by a rule, which biases
    ``Q``. Multiplying the columns of ``Q`` by :math:`\mathrm{sign}(r_{ii})`
    makes the factorisation unique (positive diagonal of ``R``), and then ``Q``
    inherits the rotation invariance of ``G``: it is Haar distributed
    (Mezzadri, 2007). Orthogonal initialisation of recurrent and deep networks
    uses such matrices (Saxe et al., 2014), because :math:`\|Qx\| = \|x\|`.

    Chapter 0.

    Parameters
    ----------
    n : int
    rng : numpy.random.Generator, optional
    dtype : {np.float64, np.float32}

    Returns
    -------
    Q : (n, n) ndarray
        :math:`Q^TQ = I`.

    Examples
    --------
    >>> Q = random_orthogonal(3, np.random.default_rng(0))
    >>> np.allclose(Q.T @ Q, np.eye(3))
    True
    """
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"dtype must be np.float32 or np.float64; got {dtype!r}")
    G = rng.standard_normal((n, n))
    Q, R = np.linalg.qr(G)
    d = np.sign(np.diag(R))
    d[d == 0] = 1.0  # probability zero, but never divide a column by 0
    return (Q * d).astype(dtype, copy=False)


# ---------------------------------------------------------------------------
# Chapter 6: Krylov subspaces and Lanczos, random projections, reduced precision
# ---------------------------------------------------------------------------

__all__ += [
    "lanczos_basis",
    "lanczos",
    "planted_graph_laplacian",
    "jl_dimension",
    "random_projection_matrix",
    "random_projection",
    "distance_distortion",
    "lowp_sum",
    "lowp_dot",
    "lowp_softmax",
]

_REORTH = ("none", "full", "selective")


def _lanczos_operator(A, v0, n):
    """``(matvec, v0, n, dtype)`` for Lanczos; a callable's output is checked at each product."""
    matvec, v0, n, dtype = _as_operator(A, v0, n)
    if n < 2:
        raise ValueError(f"A must be at least 2 x 2 for Lanczos; got n = {n}")

    def checked(x):
        y = np.asarray(matvec(x))
        if y.shape not in ((n,), (n, 1)):
            raise ValueError(f"A(x) must return a vector of length {n}; got shape {y.shape}")
        y = y.reshape(n).astype(dtype, copy=False)
        check_finite(y, "A @ x")
        return y

    return checked, v0, n, dtype


def _start_vector(v0, n, dtype, rng):
    v = rng.standard_normal(n).astype(dtype) if v0 is None else v0.astype(dtype, copy=True)
    nv = np.linalg.norm(v)
    if nv == 0.0:
        raise ValueError("v0 must not be the zero vector")
    return v / nv


def _orthogonalize(w, V):
    """Remove from ``w`` its components along the orthonormal columns of ``V``: twice (CGS2).

    One pass of classical Gram–Schmidt leaves an error of order κ·ε; the second
    pass brings it to ε ("twice is enough", Kahan–Parlett).
    """
    if V.shape[1] == 0:
        return w
    w = w - V @ (V.T @ w)
    return w - V @ (V.T @ w)


def _fresh_direction(V, n, dtype, rng):
    """A random unit vector orthogonal to the columns of ``V`` (after an invariant subspace is found).

    When ``V`` already has ``n`` columns it spans everything: the zero vector is returned
    (and goes with beta = 0, so the decomposition ``AV = VT`` is exact).
    """
    if V.shape[1] >= n:
        return np.zeros(n, dtype=dtype)
    for _ in range(5):
        w = _orthogonalize(rng.standard_normal(n).astype(dtype), V)
        nw = np.linalg.norm(w)
        if nw > 1e-8:
            return w / nw
    raise ValueError(f"cannot extend the Krylov basis: it already spans R^{n}")


def _ritz(T, tridiagonal=False):
    """Eigenpairs of the small projected matrix ``T`` (ascending); O(m²) when it is tridiagonal."""
    if tridiagonal:
        return scipy.linalg.eigh_tridiagonal(np.diag(T).copy(), np.diag(T, 1).copy())
    return np.linalg.eigh(T)


def _extend(matvec, V, T, j0, m, reorth, rng, tnorm_floor=0.0):
    """Lanczos steps ``j0 .. m-1``: fill columns ``j0+1 .. m`` of ``V`` and rows of ``T``.

    On entry ``V[:, :j0+1]`` is orthonormal and ``T[:j0, :j0]`` (with its
    coupling to row ``j0``) is filled. On exit ``V[:, m]`` is the next Lanczos
    vector and ``T[m-1, m]`` (stored in the returned ``beta``) its coefficient.
    Returns ``beta`` and the number of products with ``A``.
    """
    n = V.shape[0]
    eps = np.finfo(V.dtype).eps
    beta = T[j0, j0 - 1] if j0 > 0 else 0.0
    for j in range(j0, m):
        w = matvec(V[:, j])
        if reorth == "full":
            # Gram-Schmidt against the whole basis, repeated when it cancelled much of w
            # (the DGKS test, as in ARPACK): V^T V = I to working precision.
            Vj = V[:, :j + 1]
            norm_before = np.linalg.norm(w)
            h = Vj.T @ w
            w -= Vj @ h
            if np.linalg.norm(w) < 0.717 * norm_before:
                h2 = Vj.T @ w
                w -= Vj @ h2
                h += h2
            alpha = h[j]
        else:
            # The three-term recurrence  beta_j v_{j+1} = A v_j - alpha_j v_j - beta_{j-1} v_{j-1}.
            if j > 0:
                w = w - beta * V[:, j - 1]
            alpha = V[:, j] @ w
            w = w - alpha * V[:, j]
        T[j, j] = alpha
        if reorth == "selective" and j > 0:
            # Parlett-Scott: orthogonality is lost only towards converged Ritz vectors
            # (Paige), so purge w of those whose residual bound |beta_j s_ji| is small.
            theta, S = _ritz(T[:j + 1, :j + 1], tridiagonal=True)
            tnorm = max(np.max(np.abs(theta)), tnorm_floor)
            bounds = np.abs(np.linalg.norm(w) * S[j, :])
            good = bounds <= np.sqrt(eps) * tnorm
            if np.any(good):
                Y = V[:, :j + 1] @ S[:, good]
                w = w - Y @ (Y.T @ w)
        beta = np.linalg.norm(w)
        if beta <= eps * max(abs(alpha), 1.0) * n:
            # Invariant subspace found: continue with a fresh direction (T decouples, beta = 0).
            beta = 0.0
            V[:, j + 1] = _fresh_direction(V[:, :j + 1], n, V.dtype, rng)
        else:
            V[:, j + 1] = w / beta
        if j + 1 < T.shape[0]:
            T[j, j + 1] = T[j + 1, j] = beta
    return beta, m - j0


def lanczos_basis(A, m, *, reorth="none", v0=None, n=None, rng=None):
    r"""``m`` steps of the Lanczos process: a Krylov basis ``V`` and the tridiagonal ``T = VᵀAV``.

    For symmetric ``A`` and a unit start vector :math:`v_1`, the Lanczos vectors
    span the Krylov subspace
    :math:`\mathcal K_m(A, v_1) = \mathrm{span}\{v_1, Av_1, \dots, A^{m-1}v_1\}`
    and obey the three-term recurrence

    .. math::
        \beta_j v_{j+1} = A v_j - \alpha_j v_j - \beta_{j-1} v_{j-1},
        \qquad \alpha_j = v_j^T A v_j,\ \ \beta_j = \|\cdot\|_2,

    i.e. :math:`AV_m = V_m T_m + \beta_m v_{m+1} e_m^T` with
    :math:`T_m = \mathrm{tridiag}(\beta, \alpha, \beta)`. In exact arithmetic
    :math:`V_m^TV_m = I`. In floating point, the plain recurrence
    (``reorth="none"``) loses orthogonality as soon as a Ritz value converges
    (Paige, 1980), and copies of converged eigenvalues — *ghost* Ritz values —
    appear in :math:`T_m`. ``"full"`` re-orthogonalizes each new vector against
    all previous ones (twice, O(n j) per step); ``"selective"`` only against the
    converged Ritz vectors (Parlett–Scott), whose residual bound
    :math:`|\beta_j s_{j,i}| \le \sqrt{\varepsilon}\,\|T_j\|`.

    This returns the raw process, with no stopping test, so that its loss of
    orthogonality can be watched; :func:`lanczos` is the eigensolver.

    Chapter 6 (Krylov subspaces and Lanczos).

    Parameters
    ----------
    A : (n, n) array_like, scipy.sparse matrix, or callable
        Symmetric; or a function ``x -> A @ x``.
    m : int
        Number of steps (basis vectors), ``1 <= m <= n`` when reorthogonalizing.
    reorth : {"none", "full", "selective"}
    v0 : (n,) array_like, optional
        Start vector (non-zero); default Gaussian from ``rng``.
    n : int, optional
        Vector length; needed only when ``A`` is a callable and ``v0`` is None.
    rng : numpy.random.Generator, optional

    Returns
    -------
    V : (n, m) ndarray
        The Lanczos vectors as columns.
    T : (m, m) ndarray
        The symmetric tridiagonal matrix of the recurrence coefficients.

    Examples
    --------
    >>> V, T = lanczos_basis(np.diag(np.arange(1.0, 11.0)), 4, v0=np.ones(10))
    >>> V.shape, T.shape, bool(np.allclose(V.T @ V, np.eye(4)))
    ((10, 4), (4, 4), True)
    """
    reorth = check_choice(reorth, "reorth", _REORTH)
    rng = check_rng(rng)
    if n is not None:
        n = check_positive_int(n, "n")
    matvec, v0, n, dtype = _lanczos_operator(A, v0, n)
    m = check_positive_int(m, "m", maximum=n if reorth != "none" else None,
                           why="an orthonormal basis of R^n has at most n vectors")
    V = np.zeros((n, m + 1), dtype=dtype, order="F")  # columns contiguous: fast V^T w
    V[:, 0] = _start_vector(v0, n, dtype, rng)
    T = np.zeros((m, m), dtype=np.float64)
    _extend(matvec, V, T, 0, m, reorth, rng)
    return V[:, :m], T


def lanczos(A, k, which="largest", tol=1e-10, reorth="full", rng=None, *, v0=None, n=None,
            ncv=None, max_iter=None, return_history=False):
    r"""The ``k`` largest or smallest eigenpairs of a symmetric matrix by the Lanczos method.

    Lanczos builds an orthonormal basis :math:`V_m` of the Krylov subspace
    :math:`\mathcal K_m(A, v_1)` with the three-term recurrence of
    :func:`lanczos_basis`, so that :math:`AV_m = V_mT_m + \beta_m v_{m+1}e_m^T`.
    The eigenpairs :math:`(\theta_i, s_i)` of the small tridiagonal :math:`T_m`
    give *Ritz pairs* :math:`(\theta_i, y_i = V_m s_i)`, and the extreme ones
    converge first, to the extreme eigenpairs of ``A``. Their residual needs no
    product with ``A``:

    .. math:: \|Ay_i - \theta_i y_i\|_2 = |\beta_m\, s_{m,i}|,

    the last component of :math:`s_i` times the last β. The method stops when
    :math:`|\beta_m s_{m,i}| \le \mathrm{tol}\cdot\|T_m\|_2` for all ``k``
    wanted pairs; then each :math:`\theta_i` is within that bound of an
    eigenvalue of ``A`` (and within its square over the gap, for symmetric ``A``).

    Only products :math:`x \mapsto Ax` are used, so ``A`` may be dense, sparse,
    or a function. With ``reorth="full"`` the basis has at most ``ncv`` vectors:
    when it is full without convergence, the method *restarts thickly*
    (Wu & Simon, 2000): it keeps the best Ritz vectors at the wanted end plus
    the residual direction — equivalent to ARPACK's implicit restart — so memory
    stays :math:`O(n\cdot\mathrm{ncv})`. With ``"none"`` or ``"selective"`` the
    basis grows up to ``max_iter`` vectors without restart; plain Lanczos then
    produces ghost copies of converged eigenvalues, which are removed here by
    merging Ritz values that agree to :math:`\sqrt{\varepsilon}` (their vectors
    are not reliable: use ``"full"`` for eigenvectors).

    **Smallest eigenvalues of a graph Laplacian.** Krylov subspaces are shift
    invariant, :math:`\mathcal K_m(A - \sigma I, v) = \mathcal K_m(A, v)`, so
    Lanczos finds both ends of the spectrum equally: ``which="smallest"``
    simply keeps the smallest Ritz values. The shift matters for methods that
    only find the eigenvalue of largest *magnitude* (power iteration, ARPACK's
    ``"LM"`` mode): for the normalized Laplacian, whose spectrum lies in
    :math:`[0, 2]`, the smallest eigenvalues of
    :math:`L_{sym}` are the largest of :math:`2I - L_{sym} = I + D^{-1/2}AD^{-1/2}`
    (positive semidefinite); for the combinatorial one, use
    :math:`\lambda_{\max} I - L` with :math:`\lambda_{\max} \le 2 d_{\max}`.
    Convergence is governed by the gaps relative to the spread of the spectrum
    (:math:`(\lambda_2-\lambda_1)/(\lambda_n-\lambda_1)`), which a shift does
    not change; only shift-and-invert (a factorization) would.

    Chapter 6 (Krylov subspaces and Lanczos).

    Parameters
    ----------
    A : (n, n) array_like, scipy.sparse matrix, or callable
        Symmetric (not checked: a non-symmetric ``A`` gives meaningless output);
        or a function ``x -> A @ x`` for ``x : (n,)``.
    k : int
        Number of eigenpairs, ``1 <= k < n``.
    which : {"largest", "smallest"}
        Algebraically largest or smallest eigenvalues.
    tol : float
        Relative residual bound at which a Ritz pair counts as converged.
    reorth : {"full", "selective", "none"}
        Reorthogonalization of the Lanczos vectors (see :func:`lanczos_basis`).
    rng : numpy.random.Generator, optional
        For the default start vector.
    v0 : (n,) array_like, optional
        Start vector.
    n : int, optional
        Vector length; needed only when ``A`` is a callable and ``v0`` is None.
    ncv : int, optional
        Basis size between restarts (``"full"`` only); default
        ``min(n, max(2k + 10, 30))``.
    max_iter : int, optional
        Maximum number of products with ``A``; default ``max(100 * ncv, 1000)``
        (``"full"``) and ``min(n, ...)`` steps without restart for the others.
    return_history : bool
        Also return the convergence history.

    Returns
    -------
    eigenvalues : (k,) ndarray
        Ascending.
    eigenvectors : (n, k) ndarray
        Unit columns, ``eigenvectors[:, i]`` goes with ``eigenvalues[i]``.
    history : dict, only if ``return_history``
        ``"ritz_values"`` : list of (k,) arrays, the wanted Ritz values at each check;
        ``"residuals"`` : list of (k,) arrays, their bounds :math:`|\beta_m s_{m,i}|`;
        ``"matvecs"`` : list of int, the products with ``A`` made by each check;
        ``"n_matvec"`` : int; ``"n_restarts"`` : int; ``"converged"`` : bool;
        ``"basis"`` : (n, m) the last Krylov basis; ``"T"`` : (m, m) its projected matrix.

    Warns
    -----
    NotConvergedWarning
        If ``max_iter`` products pass before all ``k`` residual bounds meet ``tol``.

    Examples
    --------
    >>> A = np.diag(np.arange(1.0, 101.0))
    >>> vals, vecs = lanczos(A, 3, rng=np.random.default_rng(0))
    >>> np.round(vals, 8)
    array([ 98.,  99., 100.])
    """
    which = check_choice(which, "which", ("largest", "smallest"))
    reorth = check_choice(reorth, "reorth", _REORTH)
    tol = check_positive_float(tol, "tol", allow_zero=True)
    rng = check_rng(rng)
    if n is not None:
        n = check_positive_int(n, "n")
    matvec, v0, n, dtype = _lanczos_operator(A, v0, n)
    k = check_positive_int(k, "k", maximum=n - 1, why="Lanczos finds at most n - 1 eigenpairs; use eigh for all")
    if ncv is None:
        ncv = min(n, max(2 * k + 10, 30))
    else:
        ncv = check_positive_int(ncv, "ncv", maximum=n)
        if ncv < k + 2:
            raise ValueError(f"ncv must be at least k + 2 = {k + 2}; got {ncv}")
    restart = reorth == "full"
    if max_iter is None:
        if restart:
            max_iter = max(100 * ncv, 1000)
        else:  # the basis grows without restart; with reorthogonalization it cannot exceed n vectors
            max_iter = max(20 * k, 300) if reorth == "none" else min(n, max(20 * k, 300))
    else:
        max_iter = check_positive_int(max_iter, "max_iter")
    m_cap = ncv if restart else max_iter
    eps = np.finfo(dtype).eps

    V = np.zeros((n, m_cap + 1), dtype=dtype, order="F")  # columns contiguous: fast V^T w
    V[:, 0] = _start_vector(v0, n, dtype, rng)
    T = np.zeros((m_cap, m_cap), dtype=np.float64)
    history = {"ritz_values": [], "residuals": [], "matvecs": [], "n_matvec": 0, "n_restarts": 0,
               "converged": False}

    def wanted(theta):
        return np.arange(len(theta))[-k:] if which == "largest" else np.arange(k)

    j0, n_matvec, converged = 0, 0, False
    theta = S = idx = None
    tnorm = 0.0
    while True:
        # Extend the basis: to ncv vectors (thick restart), or one step at a time (no restart).
        m = m_cap if restart else min(j0 + max(1, j0 // 10), m_cap)  # check often early, less later
        beta, used = _extend(matvec, V, T, j0, m, reorth, rng)
        n_matvec += used
        theta, S = _ritz(T[:m, :m], tridiagonal=not restart)
        tnorm = max(tnorm, np.max(np.abs(theta)))
        if not restart and reorth == "none":
            theta, S = _merge_ghosts(theta, S, tnorm, eps)
        idx = wanted(theta) if len(theta) >= k else np.arange(len(theta))
        bounds = np.abs(beta * S[m - 1, idx])
        history["ritz_values"].append(theta[idx].copy())
        history["residuals"].append(bounds)
        history["matvecs"].append(n_matvec)
        if len(idx) == k and np.all(bounds <= tol * tnorm):
            converged = True
            break
        if n_matvec >= max_iter or (not restart and m >= m_cap):
            break
        if not restart:
            j0 = m
            continue
        # Thick restart: keep l Ritz vectors at the wanted end, then the residual direction v_{m+1}.
        l = min(ncv - 2, k + (ncv - k) // 2)
        keep = np.arange(m)[-l:] if which == "largest" else np.arange(l)
        Y = V[:, :m] @ S[:, keep]
        r = V[:, m].copy()
        V[:, :l] = Y
        V[:, l] = r
        T[:] = 0.0
        T[np.arange(l), np.arange(l)] = theta[keep]
        T[:l, l] = T[l, :l] = beta * S[m - 1, keep]  # the "arrow": A y_i = theta_i y_i + beta s_mi v_{m+1}
        j0 = l
        history["n_restarts"] += 1

    vals = theta[idx]
    vecs = V[:, :S.shape[0]] @ S[:, idx]
    vecs /= np.linalg.norm(vecs, axis=0)
    history.update(n_matvec=n_matvec, converged=converged, basis=V[:, :S.shape[0]], T=T[:S.shape[0], :S.shape[0]])
    if not converged:
        worst = float(np.max(history["residuals"][-1])) if len(history["residuals"][-1]) else np.inf
        warnings.warn(
            f"lanczos stopped after {n_matvec} products with A without convergence: the largest residual "
            f"bound |beta s_mi| is {worst:.2e} > tol * ||T|| = {tol * tnorm:.2e}. Likely cause: wanted "
            f"eigenvalues clustered relative to the spread of the spectrum; raise max_iter or ncv, "
            f"or loosen tol" + ("" if reorth == "full" else " (or use reorth='full', which restarts)"),
            NotConvergedWarning, stacklevel=2)
    order = np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    if return_history:
        return vals, vecs, history
    return vals, vecs


def _merge_ghosts(theta, S, tnorm, eps):
    """Drop Ritz values that repeat a neighbour to sqrt(eps)·‖T‖ (ghosts of plain Lanczos)."""
    if len(theta) < 2:
        return theta, S
    keep = np.ones(len(theta), dtype=bool)
    keep[1:] = np.diff(theta) > np.sqrt(eps) * tnorm
    return theta[keep], S[:, keep]


def planted_graph_laplacian(n, n_blocks=6, rng=None):
    r"""The normalized Laplacian of a random graph with structure at both ends of its spectrum.

    A stochastic block model on ``n`` nodes: a random ring (so the graph is
    connected), a sparse Erdős–Rényi background of mean degree 4,
    ``n_blocks`` dense *communities* (mean internal degree 10, 12, …) and
    ``n_blocks`` dense *bipartite pairs* (two halves joined by random edges,
    mean degree 10, 12, …); about a fifth to a quarter of the nodes in each kind. Its
    normalized Laplacian

    .. math:: L_{sym} = I - D^{-1/2} A D^{-1/2}, \qquad 0 = \lambda_1 \le \dots \le \lambda_n \le 2,

    has a few eigenvalues well below the bulk around 1 — every block is a dense
    subgraph weakly tied to the rest (a sparse cut), so the ``2 n_blocks``
    smallest eigenvalues, :math:`\lambda_1 = 0` included, belong to the blocks
    — and one eigenvalue near 2 per bipartite pair (a vector that changes sign
    across the pair). It is a test matrix on which the extreme eigenpairs are
    meaningful and
    computable to 1e-10 by Lanczos in a few hundred products. Built in
    :math:`O(n + |E|)`, never densified.

    Chapter 6 (the extreme eigenpairs of a large graph).

    Parameters
    ----------
    n : int, >= 200 * n_blocks
        Number of nodes.
    n_blocks : int
        Number of communities, and of bipartite pairs.
    rng : numpy.random.Generator, optional

    Returns
    -------
    L : (n, n) scipy.sparse CSR array
        Symmetric, with unit diagonal.

    Examples
    --------
    >>> L = planted_graph_laplacian(2000, rng=np.random.default_rng(0))
    >>> L.shape, bool(abs(L - L.T).max() == 0)
    ((2000, 2000), True)
    """
    n_blocks = check_positive_int(n_blocks, "n_blocks")
    n = check_positive_int(n, "n")
    if n < 200 * n_blocks:
        raise ValueError(f"n must be at least 200 * n_blocks = {200 * n_blocks}; got {n}")
    rng = check_rng(rng)
    perm = rng.permutation(n)
    rows, cols = [perm], [np.roll(perm, 1)]  # a ring through all nodes: one connected component

    def add_edges(a, b, n_edges):
        rows.append(rng.choice(a, n_edges))
        cols.append(rng.choice(b, n_edges))

    add_edges(perm, perm, 2 * n)  # background: mean degree 4
    base = n // (5 * n_blocks)
    grow = max(1, base // 8)  # blocks of different sizes and degrees: distinct eigenvalues
    start = 0
    for b in range(n_blocks):
        size, deg = base + grow * b, 10 + 2 * b
        block = perm[start:start + size]
        add_edges(block, block, deg * size // 2)
        start += size
    for b in range(n_blocks):
        half, deg = (base + grow * b) // 2, 10 + 2 * b
        P, Q = perm[start:start + half], perm[start + half:start + 2 * half]
        add_edges(P, Q, deg * half)
        start += 2 * half
    i, j = np.concatenate(rows), np.concatenate(cols)
    off = i != j
    A = sp.csr_array((np.ones(int(off.sum())), (i[off], j[off])), shape=(n, n))
    A = sp.csr_array(((A + A.T) > 0).astype(np.float64))  # simple, undirected graph
    d_inv_sqrt = 1.0 / np.sqrt(np.asarray(A.sum(axis=1)).ravel())
    S = sp.diags_array(d_inv_sqrt) @ A @ sp.diags_array(d_inv_sqrt)
    return sp.csr_array(sp.eye_array(n) - S)


# --- random projections (Johnson–Lindenstrauss) ---

def jl_dimension(n_points, eps):
    r"""The target dimension the Johnson–Lindenstrauss lemma asks for: ``n_points`` points, distortion ``eps``.

    For any ``n`` points in :math:`\mathbb R^d` and :math:`0 < \varepsilon < 1`,
    a random projection to

    .. math:: k \ \ge\ \frac{4 \ln n}{\varepsilon^2/2 - \varepsilon^3/3}

    dimensions keeps every squared pairwise distance within a factor
    :math:`1 \pm \varepsilon` with positive probability (Dasgupta & Gupta's
    proof of the lemma; Achlioptas, 2003, for the sparse ±1 projection).
    ``k`` depends on ``n`` only through :math:`\log n` and not at all on ``d``.

    Chapter 6 (sketching).

    Parameters
    ----------
    n_points : int, >= 2
    eps : float in (0, 1)

    Returns
    -------
    k : int

    Examples
    --------
    >>> jl_dimension(1000, 0.5)
    332
    """
    n_points = check_positive_int(n_points, "n_points")
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2 (distances need two points); got {n_points}")
    eps = check_positive_float(eps, "eps")
    if eps >= 1:
        raise ValueError(f"eps must lie in (0, 1); got {eps}")
    return int(np.ceil(4.0 * np.log(n_points) / (eps ** 2 / 2 - eps ** 3 / 3)))


def random_projection_matrix(d, k, kind="gaussian", rng=None):
    r"""A ``d × k`` random projection ``R`` with :math:`\mathbb E[\|x^TR\|^2] = \|x\|^2`.

    * ``"gaussian"``: :math:`R_{ij} \sim \mathcal N(0, 1/k)`, dense.
    * ``"achlioptas"``: :math:`R_{ij} = \sqrt{3/k}\cdot\{+1, 0, -1\}` with
      probabilities :math:`1/6, 2/3, 1/6` (Achlioptas, 2003): two thirds of the
      entries are zero, the rest a sign — a sparse CSR matrix, products need no
      multiplications by Gaussian numbers.

    Chapter 6 (sketching).

    Parameters
    ----------
    d : int
        Input dimension.
    k : int
        Target dimension.
    kind : {"gaussian", "achlioptas"}
    rng : numpy.random.Generator, optional

    Returns
    -------
    R : (d, k) ndarray (gaussian) or scipy.sparse CSR array (achlioptas)

    Examples
    --------
    >>> random_projection_matrix(100, 20, "achlioptas", np.random.default_rng(0)).shape
    (100, 20)
    """
    d = check_positive_int(d, "d")
    k = check_positive_int(k, "k")
    kind = check_choice(kind, "kind", ("gaussian", "achlioptas"))
    rng = check_rng(rng)
    if kind == "gaussian":
        return rng.standard_normal((d, k)) / np.sqrt(k)
    u = rng.random((d, k))
    signs = np.where(u < 1 / 6, 1.0, np.where(u > 5 / 6, -1.0, 0.0))
    return sp.csr_array(signs * np.sqrt(3.0 / k))


def random_projection(X, k, kind="gaussian", rng=None):
    r"""Project the rows of ``X`` to ``k`` dimensions: :math:`Y = XR`, ``R`` from :func:`random_projection_matrix`.

    By the Johnson–Lindenstrauss lemma, with ``k >= jl_dimension(n, eps)``
    every pairwise distance is kept within :math:`1 \pm \varepsilon`
    (squared), with high probability. A *sketch*: a random linear map that
    keeps the geometry that matters — Linformer, Performer and randomized SVD
    are built on the same idea.

    Chapter 6 (sketching).

    Parameters
    ----------
    X : (n, d) array_like
    k : int
    kind : {"gaussian", "achlioptas"}
    rng : numpy.random.Generator, optional

    Returns
    -------
    Y : (n, k) ndarray

    Examples
    --------
    >>> random_projection(np.eye(5), 3, rng=np.random.default_rng(0)).shape
    (5, 3)
    """
    X = as_float_array(X, "X", ndim=2)
    R = random_projection_matrix(X.shape[1], k, kind, rng)
    if sp.issparse(R):
        # For a dense X, one BLAS product with the ±1 (and 0) entries beats a sparse product at density 1/3.
        R = R.toarray()
    return (X @ R.astype(X.dtype, copy=False)).astype(X.dtype, copy=False)


def distance_distortion(X, Y):
    r"""Ratios :math:`\|y_i - y_j\|^2 / \|x_i - x_j\|^2` over all pairs ``i < j``.

    The Johnson–Lindenstrauss guarantee is that every ratio lies in
    :math:`[1 - \varepsilon, 1 + \varepsilon]`. Forms all ``n(n-1)/2`` pairs:
    meant for a few thousand points at most.

    Chapter 6 (sketching).

    Parameters
    ----------
    X : (n, d) array_like
        Original points, pairwise distinct.
    Y : (n, k) array_like
        Their images.

    Returns
    -------
    ratios : (n (n - 1) / 2,) ndarray

    Examples
    --------
    >>> distance_distortion([[0.0, 0.0], [3.0, 4.0]], [[0.0], [5.0]])
    array([1.])
    """
    X = as_float_array(X, "X", ndim=2)
    Y = as_float_array(Y, "Y", ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"Y must have one row per row of X ({X.shape[0]}); got {Y.shape[0]}")
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows (points); got {X.shape[0]}")

    def sq_dists(Z):
        g = np.einsum("ij,ij->i", Z, Z)
        D = g[:, None] + g[None, :] - 2.0 * (Z @ Z.T)  # Gram trick: one matrix product
        iu = np.triu_indices(Z.shape[0], 1)
        return np.maximum(D[iu], 0.0)

    dx, dy = sq_dists(X), sq_dists(Y)
    if np.any(dx == 0):
        raise ValueError("X must have pairwise distinct rows (a zero distance has no distortion ratio)")
    return dy / dx


# --- reduced precision: summation, dot products, softmax ---

_LOWP = (np.float16, np.float32, np.float64)


def _check_dtype(dtype, name):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be a float dtype (np.float16, np.float32 or np.float64); got {dtype!r}") from None
    if dt not in [np.dtype(t) for t in _LOWP]:
        raise TypeError(f"{name} must be np.float16, np.float32 or np.float64; got {dt}")
    return dt


def _pairwise(x):
    """Pairwise (cascade) sum of a 1-D array, every partial sum rounded to ``x.dtype``.

    Level by level: add neighbours in pairs until one number is left, so every
    term passes through only ⌈log₂ n⌉ additions.
    """
    while x.shape[0] > 1:
        if x.shape[0] % 2:
            x = np.concatenate([x, np.zeros(1, dtype=x.dtype)])  # adding 0 is exact
        x = x[0::2] + x[1::2]
    return x[0]


def lowp_sum(x, method="sequential", dtype=np.float16):
    r"""Sum a vector in a given floating-point format, sequentially or pairwise.

    The inputs are first rounded to ``dtype``, then every partial sum is
    rounded to ``dtype`` (unit roundoff :math:`u`: :math:`2^{-11}` for float16,
    :math:`2^{-24}` for float32). Higham (1993) bounds the error by

    .. math::
        |\hat s - s| \lesssim (n-1)\,u \sum_i |x_i| \ \ \text{(sequential)},\qquad
        |\hat s - s| \lesssim \lceil\log_2 n\rceil\,u \sum_i |x_i| \ \ \text{(pairwise)}.

    In float16 a sequential running sum also *stagnates*: once it exceeds
    :math:`2^{11}` times a term, adding the term changes nothing.

    Chapter 6 (reduced precision).

    Parameters
    ----------
    x : (n,) array_like
    method : {"sequential", "pairwise"}
    dtype : {np.float16, np.float32, np.float64}

    Returns
    -------
    float
        The computed sum (its value in ``dtype``, returned as a Python float).

    Examples
    --------
    >>> lowp_sum(np.full(4096, 1.0), "sequential"), lowp_sum(np.full(4096, 1.0), "pairwise")
    (2048.0, 4096.0)
    """
    method = check_choice(method, "method", ("sequential", "pairwise"))
    dt = _check_dtype(dtype, "dtype")
    with np.errstate(over="ignore"):
        x = as_float_array(x, "x", ndim=1).astype(dt)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x must be representable in {dt} (it overflows to infinity when rounded)")
    with np.errstate(over="ignore"):
        if method == "sequential":
            return float(np.add.accumulate(x, dtype=dt)[-1])  # strictly left to right
        return float(_pairwise(x))


def lowp_dot(x, y, dtype=np.float16, accumulate=np.float32, method="sequential"):
    r"""The dot product :math:`x^Ty` with inputs and products in ``dtype`` and the sum in ``accumulate``.

    Each product :math:`x_iy_i` is rounded to ``dtype`` (as a float16 tensor
    core's inputs are), then the products are summed in ``accumulate`` by
    :func:`lowp_sum`. Mixed precision (Micikevicius et al., 2018) stores float16
    and accumulates in float32: the error is then dominated by the ``n·u`` of
    the accumulator's :math:`u = 2^{-24}`, not float16's :math:`2^{-11}`.

    Chapter 6 (reduced precision).

    Parameters
    ----------
    x, y : (n,) array_like
    dtype : {np.float16, np.float32, np.float64}
        Format of the inputs and of each product.
    accumulate : {np.float16, np.float32, np.float64}
        Format of the running sum.
    method : {"sequential", "pairwise"}

    Returns
    -------
    float

    Examples
    --------
    >>> lowp_dot(np.ones(4096), np.ones(4096), np.float16, np.float16)
    2048.0
    """
    dt = _check_dtype(dtype, "dtype")
    acc = _check_dtype(accumulate, "accumulate")
    method = check_choice(method, "method", ("sequential", "pairwise"))
    x = as_float_array(x, "x", ndim=1)
    y = as_float_array(y, "y", ndim=1, shape=(x.shape[0],))
    with np.errstate(over="ignore"):
        prod = (x.astype(dt) * y.astype(dt)).astype(dt)
    if not np.all(np.isfinite(prod)):
        raise ValueError(f"x * y overflows in {dt}; scale the inputs")
    return lowp_sum(prod.astype(acc), method, acc)


def lowp_softmax(x, axis=-1, dtype=np.float16, accumulate=np.float32, shift=True):
    r"""Softmax computed in reduced precision, with or without the max shift.

    .. math:: \mathrm{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},\qquad m = \max_j x_j.

    The inputs and the exponentials are rounded to ``dtype``; the sum of the
    exponentials (the normalization) runs in ``accumulate``; the result is
    rounded to ``dtype``. With ``shift=False`` the exponential of a score above
    :math:`\ln(65504) \approx 11.1` overflows float16 to ``inf``, and the row's
    probabilities become ``nan`` (inf/inf) or 0 — returned as such, because
    that failure is the lesson; :func:`lalib.attention.softmax` always shifts.

    Chapter 6 (reduced precision).

    Parameters
    ----------
    x : (..., n) array_like
    axis : int
    dtype, accumulate : {np.float16, np.float32, np.float64}
    shift : bool

    Returns
    -------
    p : ndarray of ``dtype``, same shape as ``x``

    Examples
    --------
    >>> lowp_softmax(np.array([0.0, 20.0]), shift=False)
    array([ 0., nan], dtype=float16)
    """
    dt = _check_dtype(dtype, "dtype")
    acc = _check_dtype(accumulate, "accumulate")
    x = as_float_array(x, "x", ndim=range(1, 33))
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an integer in [-{x.ndim}, {x.ndim}); got {axis!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        z = x.astype(dt)
        if shift:
            z = (z - z.max(axis=axis, keepdims=True)).astype(dt)
        e = np.exp(z).astype(dt)
        s = e.astype(acc).sum(axis=axis, keepdims=True, dtype=acc)
        return (e.astype(acc) / s).astype(dt)
