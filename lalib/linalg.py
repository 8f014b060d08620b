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
