"""Graphs as sparse matrices: Laplacians, graph Fourier, Chebyshev filters, GCN, GAT (chapter 5).

A graph on ``n`` nodes is its adjacency matrix ``A`` (``n × n``, symmetric,
non-negative, ``scipy.sparse`` CSR). Everything in this module works on that
sparse matrix: a product ``A @ X`` costs ``O(|E| · d)``, and nothing forms a
dense ``n × n`` matrix unless its name or docstring says so (only the small-
graph Fourier basis does).

The chapter's path: the Laplacian ``L = D − A`` measures smoothness through
``xᵀ L x = ½ Σ a_ij (x_i − x_j)²``; its eigenvectors are the graph's Fourier
modes; a filter ``U g(Λ) Uᵀ`` is approximated by a polynomial in ``L``
(Chebyshev, no eigenvectors needed); keeping one term and renormalizing gives
Kipf & Welling's GCN layer ``H' = σ(Â H W)``; a graph attention layer replaces
the fixed weights of ``Â`` by a softmax over each node's neighbours; and
stacking many layers is a power iteration with ``Â``, which is why deep GCNs
over-smooth.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from . import linalg as _linalg
from ._progress import progress_bar
from ._validate import (
    as_float_array,
    as_int_array,
    check_callable,
    check_choice,
    check_finite_loss,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_rng,
    check_shape,
)
from .mlp import Adam, init_weight
from .mlp import _relu as _relu
from .mlp import _relu_grad as _relu_grad
from .mlp import _softmax_cross_entropy as _softmax_cross_entropy

__all__ = [
    # graphs as matrices
    "adjacency_matrix", "degrees", "laplacian", "renormalized_adjacency", "incidence_matrix",
    # graph Fourier transform and filters
    "graph_fourier_basis", "graph_fourier_transform", "inverse_graph_fourier_transform",
    "filter_response", "spectral_filter", "chebyshev_coefficients", "estimate_lmax", "chebyshev_filter",
    # GCN
    "gcn_init", "gcn_forward", "gcn_backward", "gcn_loss_and_grads", "train_gcn", "gcn_predict",
    # GAT
    "edge_softmax", "gat_init", "gat_layer", "gat_backward",
    # over-smoothing
    "dirichlet_energy", "oversmoothing_distance",
]

#: The largest graph :func:`graph_fourier_basis` will diagonalize densely.
MAX_DENSE_NODES = 5000


# ---------------------------------------------------------------------------
# Graphs as matrices
# ---------------------------------------------------------------------------

def _as_csr(A, name):
    """``A`` (dense or sparse, square, finite, real) as a float CSR array, without densifying."""
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D; got shape {A.shape}")
        if A.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got dtype {A.dtype}")
        dtype = A.dtype if A.dtype in (np.float32, np.float64) else np.float64
        A = sp.csr_array(A, dtype=dtype)
        if not np.all(np.isfinite(A.data)):
            raise ValueError(f"{name} must be finite; got NaN or infinite entries")
    else:
        A = sp.csr_array(as_float_array(A, name, ndim=2, allow_empty=True))
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix (n, n); got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must not be empty; got shape {A.shape}")
    A.sum_duplicates()
    return A


def _check_adjacency(A, name="A", *, symmetric=True):
    """A checked adjacency: square CSR, finite, non-negative and (by default) symmetric."""
    A = _as_csr(A, name)
    if A.nnz and A.data.min() < 0:
        raise ValueError(f"{name} must have non-negative weights (an adjacency matrix); "
                         f"got a weight {A.data.min():.3g}")
    if symmetric:
        diff = abs(A - A.T)
        scale = float(abs(A).max()) if A.nnz else 0.0
        if diff.nnz and float(diff.max()) > 1e-10 * max(scale, 1.0):
            raise ValueError(f"{name} must be symmetric (an undirected graph); got |A - Aᵀ| up to "
                             f"{float(diff.max()):.3g} — use A + A.T or A.maximum(A.T) to symmetrize")
    return A


def adjacency_matrix(G, n=None, *, weight="weight"):
    """The symmetric adjacency matrix of a graph, as a sparse CSR array.

    ``a_ij = a_ji = w`` for every edge ``{i, j}`` of weight ``w`` (1 when
    unweighted); repeated edges add up. Chapter 5.

    Parameters
    ----------
    G : networkx.Graph, or (m, 2) / (m, 3) array_like edge list
        A networkx graph (nodes taken in ``G.nodes`` order, like
        ``networkx.adjacency_matrix``), or rows ``(i, j)`` / ``(i, j, w)``
        with node ids ``0 .. n-1``.
    n : int, optional
        Number of nodes for an edge list (default ``max id + 1``); ignored for networkx.
    weight : str or None
        networkx edge attribute holding the weight (missing → 1); ``None``
        gives every edge weight 1. For an edge list, ``None`` ignores a third column.

    Returns
    -------
    A : (n, n) scipy.sparse.csr_array, symmetric, non-negative

    Examples
    --------
    >>> adjacency_matrix([[0, 1], [1, 2]]).toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    """
    if hasattr(G, "nodes") and hasattr(G, "edges"):  # a networkx graph, without importing networkx
        if G.is_directed():
            raise ValueError("G must be an undirected graph; got a directed one (use G.to_undirected())")
        index = {node: k for k, node in enumerate(G.nodes)}
        n = len(index)
        if n == 0:
            raise ValueError("G must have at least one node; got an empty graph")
        edges = list(G.edges(data=True))
        rows = np.array([index[u] for u, _, _ in edges], dtype=np.int64)
        cols = np.array([index[v] for _, v, _ in edges], dtype=np.int64)
        w = np.array([1.0 if weight is None else d.get(weight, 1.0) for _, _, d in edges], dtype=np.float64)
    else:
        E = as_float_array(G, "G", ndim=2, allow_empty=True)
        if E.shape[1] not in (2, 3):
            raise ValueError(f"G must be an edge list of shape (m, 2) or (m, 3); got {E.shape}")
        ids = E[:, :2]
        if np.any(ids != np.round(ids)) or (ids.size and ids.min() < 0):
            raise ValueError("G's node ids (first two columns) must be non-negative integers")
        rows, cols = ids[:, 0].astype(np.int64), ids[:, 1].astype(np.int64)
        top = int(ids.max()) + 1 if ids.size else 0
        n = top if n is None else check_positive_int(n, "n")
        if top > n:
            raise ValueError(f"G's node ids must be < n = {n}; got an id {top - 1}")
        if n == 0:
            raise ValueError("G must have at least one edge when n is not given; got an empty edge list")
        w = E[:, 2].astype(np.float64) if (E.shape[1] == 3 and weight is not None) else np.ones(len(rows))
    if w.size and (not np.all(np.isfinite(w)) or w.min() < 0):
        raise ValueError("G's edge weights must be finite and non-negative")
    loops = rows == cols  # a self loop is one entry a_ii, not two
    r = np.concatenate([rows, cols[~loops]])
    c = np.concatenate([cols, rows[~loops]])
    v = np.concatenate([w, w[~loops]])
    A = sp.csr_array((v, (r, c)), shape=(n, n))
    A.sum_duplicates()
    return A


def degrees(A):
    """Weighted degrees ``d = A 1`` (row sums), shape ``(n,)``. Chapter 5.

    Examples
    --------
    >>> degrees(adjacency_matrix([[0, 1], [1, 2]]))
    array([1., 2., 1.])
    """
    A = _check_adjacency(A, symmetric=False)
    return np.asarray(A.sum(axis=1)).ravel()


def _inv_power(d, p):
    """``d**p`` entry by entry with ``0 ↦ 0``: isolated nodes are left alone, not divided by zero."""
    out = np.zeros_like(d)
    pos = d > 0
    out[pos] = d[pos] ** p
    return out


_KINDS = ("combinatorial", "symmetric", "random_walk")


def laplacian(A, kind="combinatorial"):
    r"""A graph Laplacian of the adjacency ``A``, sparse.

    * ``"combinatorial"``: :math:`L = D - A`, with :math:`D = \operatorname{diag}(A\mathbf 1)`;
      :math:`x^TLx = \tfrac12\sum_{ij} a_{ij}(x_i-x_j)^2 \ge 0`.
    * ``"symmetric"``: :math:`L_{sym} = D^{-1/2}(D - A)D^{-1/2} = I - D^{-1/2}AD^{-1/2}`,
      eigenvalues in :math:`[0, 2]`.
    * ``"random_walk"``: :math:`L_{rw} = D^{-1}(D - A) = I - D^{-1}A`, similar to
      :math:`L_{sym}` (:math:`L_{rw} = D^{-1/2}L_{sym}D^{1/2}`), so the same eigenvalues.

    **Isolated nodes** (degree 0): :math:`d^{-1/2}` and :math:`d^{-1}` are taken
    as 0 there, so their row and column of :math:`L_{sym}` and :math:`L_{rw}`
    are zero — an isolated node contributes the eigenvalue 0 (it is a component
    of its own). This is what ``networkx.normalized_laplacian_matrix`` does; the
    normalized forms are computed as :math:`D^{-1/2}(D-A)D^{-1/2}` like
    networkx, so a self loop gives the same diagonal as there too. Chapter 5.

    Parameters
    ----------
    A : (n, n) sparse or dense, symmetric, non-negative
    kind : {"combinatorial", "symmetric", "random_walk"}

    Returns
    -------
    L : (n, n) scipy.sparse.csr_array

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1], [1, 2]])
    >>> laplacian(A).toarray()
    array([[ 1., -1.,  0.],
           [-1.,  2., -1.],
           [ 0., -1.,  1.]])
    """
    check_choice(kind, "kind", _KINDS)
    A = _check_adjacency(A)
    d = np.asarray(A.sum(axis=1)).ravel()
    L = sp.diags_array(d, format="csr") - A
    if kind == "symmetric":
        s = sp.diags_array(_inv_power(d, -0.5))
        L = s @ L @ s
    elif kind == "random_walk":
        L = sp.diags_array(_inv_power(d, -1.0)) @ L
    L = sp.csr_array(L, dtype=A.dtype)
    L.eliminate_zeros()
    return L


def renormalized_adjacency(A):
    r"""Kipf & Welling's renormalized adjacency :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`.

    With :math:`\tilde A = A + I` (a self loop on every node) and
    :math:`\tilde D = \operatorname{diag}(\tilde A\mathbf 1)`, every degree is at
    least 1, so nothing divides by zero. :math:`\hat A = I - \tilde L_{sym}` where
    :math:`\tilde L_{sym}` is the normalized Laplacian of :math:`\tilde A`, and its
    eigenvalues lie in :math:`(-1, 1]` (the self loops push the lower end
    above −1), with 1 the largest, eigenvector :math:`\tilde D^{1/2}\mathbf 1`
    on each component. Chapter 5.

    Parameters
    ----------
    A : (n, n) sparse or dense adjacency, symmetric, non-negative, without self loops
        (a self loop already present simply gets weight ``a_ii + 1``).

    Returns
    -------
    A_hat : (n, n) scipy.sparse.csr_array, symmetric

    Examples
    --------
    >>> renormalized_adjacency(adjacency_matrix([[0, 1]])).toarray()
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    A = _check_adjacency(A)
    At = A + sp.eye_array(A.shape[0], dtype=A.dtype, format="csr")
    s = 1.0 / np.sqrt(np.asarray(At.sum(axis=1)).ravel())
    A_hat = sp.csr_array(sp.diags_array(s) @ At @ sp.diags_array(s), dtype=A.dtype)
    A_hat.sort_indices()
    return A_hat


def incidence_matrix(A):
    r"""The oriented, weighted incidence matrix :math:`B` with :math:`L = BB^T`.

    One column per edge :math:`\{i, j\}` with :math:`i < j`:
    :math:`b_e = \sqrt{a_{ij}}\,(e_i - e_j)`, so that
    :math:`BB^T = \sum_e a_{ij}(e_i-e_j)(e_i-e_j)^T = D - A` and
    :math:`\|B^Tx\|_2^2 = x^TLx` — the smoothness of :math:`x` is the energy
    of its differences along the edges. Self loops are left out (they cancel
    in :math:`D - A`). Edges are ordered by :math:`(i, j)`. Chapter 5.

    Parameters
    ----------
    A : (n, n) sparse or dense, symmetric, non-negative

    Returns
    -------
    B : (n, m) scipy.sparse.csr_array, m = number of edges

    Examples
    --------
    >>> incidence_matrix(adjacency_matrix([[0, 1], [1, 2]])).toarray()
    array([[ 1.,  0.],
           [-1.,  1.],
           [ 0., -1.]])
    """
    A = _check_adjacency(A)
    U = sp.triu(A, k=1, format="coo")
    i, j, w = U.row, U.col, np.sqrt(U.data)
    order = np.lexsort((j, i))
    i, j, w = i[order], j[order], w[order]
    m = len(w)
    e = np.arange(m)
    B = sp.csr_array((np.concatenate([w, -w]), (np.concatenate([i, j]), np.concatenate([e, e]))),
                     shape=(A.shape[0], m), dtype=A.dtype)
    return B


# ---------------------------------------------------------------------------
# Graph Fourier transform and spectral filters
# ---------------------------------------------------------------------------

def _check_laplacian_like(L, name="L"):
    """A square, symmetric sparse (or dense) matrix, returned as CSR."""
    L = _as_csr(L, name)
    diff = abs(L - L.T)
    if diff.nnz and float(diff.max()) > 1e-10 * max(float(abs(L).max()), 1.0):
        raise ValueError(f"{name} must be symmetric; got |L - Lᵀ| up to {float(diff.max()):.3g}")
    return L


def graph_fourier_basis(L):
    r"""Eigenvalues and eigenvectors :math:`L = U\Lambda U^T` — the graph Fourier basis (dense, small graphs).

    The eigenvectors :math:`u_k` are the graph's Fourier modes and the
    eigenvalues :math:`\lambda_k = u_k^TLu_k` (ascending) their frequencies:
    :math:`u_1` (:math:`\lambda = 0`) is constant on each component, and
    modes of larger :math:`\lambda` change sign across more edges. This
    **densifies** ``L`` and costs :math:`O(n^3)`; it refuses graphs with more
    than ``MAX_DENSE_NODES`` nodes — on large graphs use
    :func:`chebyshev_filter`, which needs no eigenvectors. Chapter 5.

    Parameters
    ----------
    L : (n, n) symmetric Laplacian (sparse or dense)

    Returns
    -------
    lam : (n,) eigenvalues, ascending
    U : (n, n) orthonormal eigenvectors, column k for ``lam[k]``; each column's
        sign fixed so its largest-magnitude entry is positive

    Examples
    --------
    >>> lam, U = graph_fourier_basis(laplacian(adjacency_matrix([[0, 1]])))
    >>> np.round(lam, 12)
    array([0., 2.])
    """
    L = _check_laplacian_like(L)
    n = L.shape[0]
    if n > MAX_DENSE_NODES:
        raise ValueError(f"L must have at most {MAX_DENSE_NODES} nodes for a dense eigendecomposition; got "
                         f"{n} (use chebyshev_filter, or linalg.lanczos for a few eigenpairs)")
    lam, U = np.linalg.eigh(L.toarray())
    flip = U[np.argmax(np.abs(U), axis=0), np.arange(n)] < 0
    U[:, flip] *= -1
    return lam, U


def _check_signal(x, n, name="x"):
    x = as_float_array(x, name, ndim=(1, 2))
    if x.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows (one value per node); got shape {x.shape}")
    return x


def graph_fourier_transform(x, U):
    r"""Graph Fourier coefficients :math:`\hat x = U^Tx` of a signal on the nodes. Chapter 5.

    Parameters
    ----------
    x : (n,) or (n, d) signal(s)
    U : (n, n) orthonormal eigenvectors from :func:`graph_fourier_basis`

    Returns
    -------
    x_hat : same shape as ``x``

    Examples
    --------
    >>> lam, U = graph_fourier_basis(laplacian(adjacency_matrix([[0, 1]])))
    >>> np.round(graph_fourier_transform([1.0, 1.0], U), 12)
    array([1.41421356, 0.        ])
    """
    U = as_float_array(U, "U", ndim=2)
    check_shape(U, "U", (U.shape[0], U.shape[0]), "square")
    x = _check_signal(x, U.shape[0])
    return U.T @ x


def inverse_graph_fourier_transform(x_hat, U):
    r"""The signal :math:`x = U\hat x` with graph Fourier coefficients ``x_hat``. Chapter 5.

    Examples
    --------
    >>> lam, U = graph_fourier_basis(laplacian(adjacency_matrix([[0, 1]])))
    >>> np.round(inverse_graph_fourier_transform([np.sqrt(2), 0.0], U), 12)
    array([1., 1.])
    """
    U = as_float_array(U, "U", ndim=2)
    check_shape(U, "U", (U.shape[0], U.shape[0]), "square")
    x_hat = _check_signal(x_hat, U.shape[0], "x_hat")
    return U @ x_hat


FILTERS = ("low-pass", "high-pass", "band-pass", "heat")


def filter_response(kind, lam, *, cutoff=None, band=None, t=1.0):
    r"""A named spectral filter's response :math:`g(\lambda)`. Chapter 5.

    * ``"low-pass"``: :math:`g = 1` for :math:`\lambda \le` ``cutoff``, else 0;
    * ``"high-pass"``: :math:`g = 1` for :math:`\lambda >` ``cutoff``, else 0;
    * ``"band-pass"``: :math:`g = 1` for :math:`\lambda` in ``band = (low, high)``;
    * ``"heat"``: the heat kernel :math:`g = e^{-t\lambda}` (diffusion for time ``t``).

    Defaults: ``cutoff`` = a quarter of the largest ``lam``, ``band`` its
    middle third.

    Parameters
    ----------
    kind : {"low-pass", "high-pass", "band-pass", "heat"}
    lam : (n,) eigenvalues (frequencies)

    Returns
    -------
    g : (n,) in [0, 1]

    Examples
    --------
    >>> filter_response("heat", np.array([0.0, 1.0]), t=np.log(2))
    array([1. , 0.5])
    """
    check_choice(kind, "kind", FILTERS)
    lam = as_float_array(lam, "lam", ndim=1)
    top = float(lam.max()) if lam.size else 1.0
    if kind == "heat":
        t = check_positive_float(t, "t", allow_zero=True)
        return np.exp(-t * lam)
    if kind in ("low-pass", "high-pass"):
        c = top / 4 if cutoff is None else float(check_positive_float(cutoff, "cutoff", allow_zero=True))
        low = lam <= c
        return (low if kind == "low-pass" else ~low).astype(lam.dtype)
    lo, hi = (top / 3, 2 * top / 3) if band is None else (float(band[0]), float(band[1]))
    if not lo <= hi:
        raise ValueError(f"band must be (low, high) with low <= high; got {band}")
    return ((lam >= lo) & (lam <= hi)).astype(lam.dtype)


def spectral_filter(L, x, g, *, basis=None):
    r"""Filter a signal in the graph Fourier basis: :math:`y = U\,g(\Lambda)\,U^Tx` (dense, small graphs).

    The exact filter that :func:`chebyshev_filter` approximates. Chapter 5.

    Parameters
    ----------
    L : (n, n) symmetric Laplacian
    x : (n,) or (n, d) signal(s)
    g : callable ``g(lam) -> (n,)`` response, or an (n,) array of responses
    basis : (lam, U), optional
        A precomputed :func:`graph_fourier_basis` of ``L`` (saves the :math:`O(n^3)` step).

    Returns
    -------
    y : same shape as ``x``

    Examples
    --------
    >>> L = laplacian(adjacency_matrix([[0, 1]]))
    >>> spectral_filter(L, [1.0, 0.0], lambda lam: (lam < 1).astype(float)).round(12)
    array([0.5, 0.5])
    """
    L = _check_laplacian_like(L)
    x = _check_signal(x, L.shape[0])
    lam, U = graph_fourier_basis(L) if basis is None else basis
    lam = as_float_array(lam, "basis[0]", ndim=1, shape=(L.shape[0],))
    U = as_float_array(U, "basis[1]", ndim=2, shape=(L.shape[0], L.shape[0]))
    if callable(g):
        resp = as_float_array(g(lam), "g(lam)", ndim=1, shape=lam.shape)
    else:
        resp = as_float_array(g, "g", ndim=1, shape=lam.shape)
    x_hat = U.T @ x
    return U @ (resp[:, None] * x_hat if x.ndim == 2 else resp * x_hat)


def chebyshev_coefficients(g, K, lmax):
    r"""Chebyshev coefficients :math:`c_0..c_K` of :math:`g` on :math:`[0, \lambda_{max}]`.

    With :math:`\lambda = \tfrac{\lambda_{max}}2(1 + \cos\theta)`, the
    interpolant at the :math:`N = K + 1` Chebyshev points
    :math:`\theta_j = \pi(j + \tfrac12)/N` is
    :math:`g(\lambda) \approx \sum_{k=0}^K c_k T_k(2\lambda/\lambda_{max} - 1)`,
    :math:`c_k = \tfrac{2 - \delta_{k0}}{N}\sum_j g(\lambda(\theta_j))\cos(k\theta_j)`.
    For smooth :math:`g` the error falls geometrically in :math:`K`. Chapter 5.

    Parameters
    ----------
    g : callable, vectorized ``g(lam)``
    K : int >= 0, the polynomial degree (the filter is K-hop local)
    lmax : float > 0

    Returns
    -------
    coeffs : (K + 1,)

    Examples
    --------
    >>> np.round(chebyshev_coefficients(lambda lam: lam, 1, 2.0), 12)   # λ = 1 + T_1
    array([1., 1.])
    """
    check_callable(g, "g")
    K = check_nonneg_int(K, "K")
    lmax = check_positive_float(lmax, "lmax")
    N = K + 1
    theta = np.pi * (np.arange(N) + 0.5) / N
    vals = as_float_array(g(lmax / 2 * (1 + np.cos(theta))), "g(lam)", ndim=1, shape=(N,))
    c = 2.0 / N * np.cos(np.outer(np.arange(N), theta)) @ vals
    c[0] /= 2
    return c


def estimate_lmax(L, *, rng=None):
    """The largest eigenvalue of a symmetric PSD ``L`` by power iteration (chapter 0's kernel). Chapter 5.

    Power iteration converges to the eigenvalue of largest magnitude, which
    for a positive semidefinite Laplacian is :math:`\\lambda_{max}`; the
    Rayleigh quotient approaches it from below.

    Examples
    --------
    >>> round(estimate_lmax(laplacian(adjacency_matrix([[0, 1]]))), 6)
    2.0
    """
    L = _check_laplacian_like(L)
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    lam, _, _ = _linalg.power_iteration(L, max_iter=2000, tol=1e-6, rng=rng)
    return float(lam)


def chebyshev_filter(L, x, coeffs, lmax=None):
    r"""Apply :math:`\sum_k c_k T_k(\tilde L)\,x`, :math:`\tilde L = 2L/\lambda_{max} - I`, by the three-term recurrence.

    .. math:: \bar x_0 = x,\quad \bar x_1 = \tilde L x,\quad
              \bar x_k = 2\tilde L\bar x_{k-1} - \bar x_{k-2},\qquad
              y = \textstyle\sum_k c_k\bar x_k .

    Only :math:`K` sparse products with :math:`L` — :math:`O(K\,|E|)` work, no
    eigendecomposition — and :math:`T_k(\tilde L)` has zero entries between
    nodes more than :math:`k` hops apart, so the filter is :math:`K`-hop
    local (Defferrard et al., 2016). With ``coeffs`` from
    :func:`chebyshev_coefficients` it approximates :func:`spectral_filter`.
    Chapter 5.

    Parameters
    ----------
    L : (n, n) symmetric Laplacian, sparse
    x : (n,) or (n, d)
    coeffs : (K + 1,) Chebyshev coefficients
    lmax : float, optional
        Upper end of the spectrum. When not given it is estimated by power
        iteration (:func:`lalib.linalg.power_iteration`); pass the same value
        used to compute ``coeffs``.

    Returns
    -------
    y : same shape as ``x``

    Examples
    --------
    >>> L = laplacian(adjacency_matrix([[0, 1], [1, 2]]))
    >>> c = chebyshev_coefficients(lambda lam: lam, 1, 3.0)   # the filter g(λ) = λ
    >>> np.allclose(chebyshev_filter(L, [1.0, 0.0, 0.0], c, lmax=3.0), L @ [1.0, 0.0, 0.0])
    True
    """
    L = _check_laplacian_like(L)
    x = _check_signal(x, L.shape[0])
    c = as_float_array(coeffs, "coeffs", ndim=1)
    lmax = estimate_lmax(L) if lmax is None else check_positive_float(lmax, "lmax")
    scale = 2.0 / lmax

    def Lt(v):  # L̃ v = (2/λmax) L v - v
        return scale * (L @ v) - v

    y = c[0] * x
    if c.size > 1:
        prev, cur = x, Lt(x)
        y = y + c[1] * cur
        for k in range(2, c.size):
            prev, cur = cur, 2 * Lt(cur) - prev
            y = y + c[k] * cur
    return y


# ---------------------------------------------------------------------------
# Graph convolutional network (Kipf & Welling, 2017)
# ---------------------------------------------------------------------------

def gcn_init(sizes, rng=None, *, dtype=np.float64):
    """GCN parameters for layer widths ``sizes = [d, h_1, ..., n_classes]``, Glorot (Xavier) weights.

    Returns ``{"W1": (d, h_1), "b1": (h_1,), ..., "WL": (h_{L-1}, c), "bL": (c,)}``
    with zero biases; weights from :func:`lalib.mlp.init_weight` (``"xavier"``),
    Glorot's scale as in Kipf & Welling. Chapter 5.

    Examples
    --------
    >>> p = gcn_init([34, 16, 2], rng=np.random.default_rng(0))
    >>> p["W1"].shape, p["W2"].shape
    ((34, 16), (16, 2))
    """
    sizes = list(sizes) if not isinstance(sizes, (int, np.integer)) else None
    if sizes is None or len(sizes) < 2:
        raise ValueError(f"sizes must list at least two widths [d, ..., n_classes]; got {sizes}")
    sizes = [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    rng = check_rng(rng)
    params = {}
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = init_weight(a, b, "xavier", rng=rng, dtype=dtype)
        params[f"b{l}"] = np.zeros(b, dtype=dtype)
    return params


def _n_layers(params):
    if not isinstance(params, dict) or "W1" not in params:
        raise TypeError(f"params must be a dict from gcn_init with keys W1, b1, ...; got {type(params).__name__}")
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params.get(f"b{l}")
        if not isinstance(W, np.ndarray) or W.ndim != 2:
            raise ValueError(f"params['W{l}'] must be a 2-D array; got {getattr(W, 'shape', type(W))}")
        if b is None or np.shape(b) != (W.shape[1],):
            raise ValueError(f"params['b{l}'] must have shape ({W.shape[1]},); got {np.shape(b)}")
        if l > 1 and params[f"W{l - 1}"].shape[1] != W.shape[0]:
            raise ValueError(f"params['W{l}'] must have {params[f'W{l - 1}'].shape[1]} rows "
                             f"(the width of layer {l - 1}); got {W.shape}")
    return L


def _check_features(X, n, d=None):
    """Dense (n, d) float array or sparse CSR (n, d) features."""
    if sp.issparse(X):
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must hold real numbers; got dtype {X.dtype}")
        X = sp.csr_array(X, dtype=X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
        if not np.all(np.isfinite(X.data)):
            raise ValueError("X must be finite; got NaN or infinite entries")
    else:
        X = as_float_array(X, "X", ndim=2)
    if X.shape[0] != n:
        raise ValueError(f"X must have {n} rows (one per node of A); got shape {X.shape}")
    if d is not None and X.shape[1] != d:
        raise ValueError(f"X must have {d} columns (params['W1'] has {d} rows); got shape {X.shape}")
    return X


def _dropout(H, p, rng):
    """Inverted dropout: keep each entry with probability 1 − p and scale by 1/(1 − p); returns (H', mask)."""
    if p == 0.0:
        return H, None
    if sp.issparse(H):  # drop stored entries of a sparse feature matrix, as Kipf & Welling do
        keep = rng.random(H.nnz) >= p
        out = H.copy()
        out.data = out.data * keep / (1 - p)
        return out, keep
    # The mask in H's own dtype: a float64 mask would silently turn float32 features into float64.
    mask = (rng.random(H.shape) >= p).astype(H.dtype) / H.dtype.type(1 - p)
    return H * mask, mask


def gcn_forward(params, A_hat, X, *, dropout=0.0, rng=None, return_cache=False, symmetric=False):
    r"""GCN forward pass :math:`H_\ell = \sigma(\hat A\,H_{\ell-1}W_\ell + \mathbf 1b_\ell^T)`, logits at the end.

    Layer :math:`\ell` applies dropout to :math:`H_{\ell-1}` (training only),
    multiplies by :math:`W_\ell` first (:math:`n\times h`, cheaper than
    :math:`\hat AH` when :math:`h < d`), then propagates with the sparse
    :math:`\hat A` (:math:`O(|E|\,h)`), adds the bias, and applies ReLU —
    except after the last layer, which returns the class scores
    :math:`Z = \hat A H_{L-1}W_L + \mathbf 1 b_L^T`. Chapter 5.

    Parameters
    ----------
    params : dict from :func:`gcn_init`
    A_hat : (n, n) sparse propagation matrix, usually :func:`renormalized_adjacency`
    X : (n, d) dense or sparse features
    dropout : float in [0, 1)
    rng : numpy.random.Generator, for dropout
    return_cache : bool
        Also return what :func:`gcn_backward` needs (``cache["H"]`` is the
        list of hidden representations :math:`H_0 = X, H_1, \dots`).
    symmetric : bool
        Declare ``A_hat`` symmetric (as :func:`renormalized_adjacency` is): the
        backward pass then multiplies by ``A_hat`` itself, a CSR product about
        twice as fast as one with its transpose (a CSC matrix).

    Returns
    -------
    Z : (n, n_classes) scores; and ``cache`` if asked

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1], [1, 2]]); p = gcn_init([3, 4, 2], rng=np.random.default_rng(0))
    >>> gcn_forward(p, renormalized_adjacency(A), np.eye(3)).shape
    (3, 2)
    """
    Lyr = _n_layers(params)
    A_hat = _as_csr(A_hat, "A_hat")
    X = _check_features(X, A_hat.shape[0], params["W1"].shape[0])
    p = check_probability(dropout, "dropout")
    rng = check_rng(rng) if p > 0 else rng
    return _gcn_forward(params, A_hat, X, Lyr, p, rng, return_cache, bool(symmetric))


def _gcn_forward(params, A_hat, X, Lyr, p, rng, return_cache, symmetric=False):
    H = X
    Hs, Hd, masks, Zs = [X], [], [], []
    for l in range(1, Lyr + 1):
        Hin, mask = _dropout(H, p, rng)
        Z = A_hat @ (Hin @ params[f"W{l}"]) + params[f"b{l}"]
        Hd.append(Hin)
        masks.append(mask)
        Zs.append(Z)
        H = _relu(Z) if l < Lyr else Z
        if l < Lyr:
            Hs.append(H)
    if return_cache:
        return H, {"A_hat": A_hat, "A_hat_T": A_hat if symmetric else A_hat.T,
                   "H": Hs, "H_in": Hd, "masks": masks, "Z": Zs, "p": p}
    return H


def gcn_backward(params, cache, dZ):
    r"""Backward pass of :func:`gcn_forward`: gradients of every ``W_ℓ``, ``b_ℓ`` from ``dZ = ∂loss/∂Z``.

    For :math:`Z_\ell = \hat A\,\tilde H_{\ell-1}W_\ell + \mathbf 1b_\ell^T`
    (:math:`\tilde H` = after dropout) and :math:`G_\ell = \partial\text{loss}/\partial Z_\ell`:

    .. math:: \frac{\partial}{\partial W_\ell} = \tilde H_{\ell-1}^T(\hat A^TG_\ell),\quad
              \frac{\partial}{\partial b_\ell} = G_\ell^T\mathbf 1,\quad
              G_{\ell-1} = \big((\hat A^TG_\ell)W_\ell^T \odot M_{\ell-1}\big)\odot\sigma'(Z_{\ell-1}),

    with :math:`M` the (scaled) dropout mask. One more sparse product per
    layer than the forward pass. Chapter 5.

    Returns
    -------
    grads : dict with the keys of ``params``

    Examples
    --------
    >>> A = renormalized_adjacency(adjacency_matrix([[0, 1], [1, 2]]))
    >>> p = gcn_init([3, 4, 2], rng=np.random.default_rng(0))
    >>> Z, cache = gcn_forward(p, A, np.eye(3), return_cache=True)
    >>> sorted(gcn_backward(p, cache, np.ones_like(Z)))
    ['W1', 'W2', 'b1', 'b2']
    """
    Lyr = _n_layers(params)
    dZ = as_float_array(dZ, "dZ", ndim=2)
    n = cache["A_hat"].shape[0]
    check_shape(dZ, "dZ", (n, params[f"W{Lyr}"].shape[1]), "the shape of the scores Z")
    return _gcn_backward(params, cache, dZ, Lyr)


def _gcn_backward(params, cache, G, Lyr):
    A_T = cache["A_hat_T"]
    grads = {}
    for l in range(Lyr, 0, -1):
        P = A_T @ G                         # ∂/∂(H̃ W): back through the propagation
        Hin = cache["H_in"][l - 1]
        grads[f"W{l}"] = Hin.T @ P
        grads[f"b{l}"] = G.sum(axis=0)
        if l > 1:
            dH = P @ params[f"W{l}"].T
            mask = cache["masks"][l - 1]
            if mask is not None:
                dH = dH * mask
            G = dH * _relu_grad(cache["Z"][l - 2])
    return {k: np.asarray(v) for k, v in grads.items()}


def gcn_loss_and_grads(params, A_hat, X, y, train_idx, *, weight_decay=0.0, dropout=0.0, rng=None,
                       symmetric=False):
    r"""Cross-entropy on the labelled nodes plus weight decay on the first layer, and its gradients.

    .. math:: \text{loss} = -\frac1{|T|}\sum_{i\in T}\log\operatorname{softmax}(Z_i)_{y_i}
              + \frac{\lambda}{2}\|W_1\|_F^2

    (Kipf & Welling put the L2 penalty on the first layer only.) Only the
    rows in ``train_idx`` receive a gradient from the loss, but through
    :math:`\hat A` it reaches the weights from every node within ``L`` hops:
    that is how unlabelled nodes help. ``symmetric=True`` declares ``A_hat``
    symmetric, as in :func:`gcn_forward`. Chapter 5.

    Returns
    -------
    loss : float
    grads : dict

    Examples
    --------
    >>> A = renormalized_adjacency(adjacency_matrix([[0, 1], [1, 2]]))
    >>> p = gcn_init([3, 4, 2], rng=np.random.default_rng(0))
    >>> loss, g = gcn_loss_and_grads(p, A, np.eye(3), [0, 1, 1], [0, 2])
    >>> g["W1"].shape
    (3, 4)
    """
    Lyr = _n_layers(params)
    A_hat = _as_csr(A_hat, "A_hat")
    n = A_hat.shape[0]
    X = _check_features(X, n, params["W1"].shape[0])
    c = params[f"W{Lyr}"].shape[1]
    y = _check_node_labels(y, n, c)
    train_idx = as_int_array(train_idx, "train_idx", ndim=1, low=0, high=n)
    wd = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    p = check_probability(dropout, "dropout")
    rng = check_rng(rng) if p > 0 else rng
    return _gcn_loss_and_grads(params, A_hat, X, y, train_idx, Lyr, wd, p, rng, bool(symmetric))[:2]


def _check_node_labels(y, n, c):
    y = as_int_array(y, "y", ndim=1, low=0, high=c)
    if y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) (one label per node of A); got {y.shape}")
    return y


def _gcn_loss_and_grads(params, A_hat, X, y, train_idx, Lyr, wd, p, rng, symmetric=False):
    Z, cache = _gcn_forward(params, A_hat, X, Lyr, p, rng, True, symmetric)
    loss, dZt = _softmax_cross_entropy(Z[train_idx], y[train_idx])
    dZ = np.zeros_like(Z)
    np.add.at(dZ, train_idx, dZt)
    grads = _gcn_backward(params, cache, dZ, Lyr)
    if wd:
        W1 = params["W1"]
        loss += 0.5 * wd * float(np.sum(W1 * W1))
        grads["W1"] = grads["W1"] + wd * W1
    return loss, grads, Z


def _accuracy(Z, y, idx):
    return float(np.mean(np.argmax(Z[idx], axis=1) == y[idx])) if len(idx) else float("nan")


def train_gcn(A, X, y, train_idx, val_idx=None, hidden=16, epochs=200, lr=0.01, weight_decay=5e-4,
              dropout=0.5, rng=None, *, patience=None, test_idx=None, progress=True):
    """Train a GCN for semi-supervised node classification (Kipf & Welling's set-up as defaults).

    Renormalizes ``A`` (:func:`renormalized_adjacency`), initializes with
    :func:`gcn_init` (``[d, hidden, n_classes]``), and takes ``epochs``
    full-batch Adam steps (:class:`lalib.mlp.Adam`) on
    :func:`gcn_loss_and_grads` — cross-entropy on ``train_idx`` only, L2
    ``weight_decay`` on the first layer, dropout on each layer's input. The
    loss is checked every epoch (:func:`lalib._validate.check_finite_loss`).
    Chapter 5.

    Parameters
    ----------
    A : (n, n) sparse adjacency, symmetric, non-negative, without self loops
    X : (n, d) dense or sparse features
    y : (n,) integer labels ``0 .. c-1`` (only ``y[train_idx]`` is trained on;
        the others are read to report accuracies). ``c = y.max() + 1``.
    train_idx, val_idx, test_idx : index arrays
    hidden : int or sequence of int
        Hidden width(s); a sequence gives a deeper GCN.
    epochs : int >= 0
    lr, weight_decay : float
    dropout : float in [0, 1)
    rng : numpy.random.Generator, for the initialization and dropout
    patience : int, optional
        Early stopping on ``val_idx``: stop once the validation loss exceeds
        the mean of the previous ``patience`` epochs' (Kipf & Welling use 10).
    progress : bool, show a progress bar

    Returns
    -------
    params : dict
    history : dict of lists, one entry per epoch: ``"loss"`` (training, with the
        penalty) and ``"train_acc"``, both from the epoch's training pass (with
        dropout, before the update, as Kipf & Welling report them); and
        ``"val_loss"``, ``"val_acc"``, ``"test_acc"`` after the update, without
        dropout, when those indices are given (one extra forward pass).

    Examples
    --------
    >>> from lalib import datasets
    >>> g = datasets.karate_club()
    >>> p, h = train_gcn(g.A, g.X, g.y, [0, 33], epochs=50, rng=np.random.default_rng(0), progress=False)
    >>> len(h["loss"])
    50
    """
    A = _check_adjacency(A)
    n = A.shape[0]
    X = _check_features(X, n)
    y0 = as_int_array(y, "y", ndim=1, low=0)
    c = int(y0.max()) + 1
    y = _check_node_labels(y0, n, c)
    train_idx = as_int_array(train_idx, "train_idx", ndim=1, low=0, high=n)
    val_idx = None if val_idx is None else as_int_array(val_idx, "val_idx", ndim=1, low=0, high=n)
    test_idx = None if test_idx is None else as_int_array(test_idx, "test_idx", ndim=1, low=0, high=n)
    widths = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
    widths = [check_positive_int(h, "hidden") for h in widths]
    epochs = check_nonneg_int(epochs, "epochs")
    Adam(lr=lr)  # validates lr before any work
    wd = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    p = check_probability(dropout, "dropout")
    rng = check_rng(rng)
    if patience is not None:
        patience = check_positive_int(patience, "patience")
        if val_idx is None:
            raise ValueError("patience needs val_idx (early stopping watches the validation loss)")

    A_hat = renormalized_adjacency(A)
    dtype = X.dtype
    params = gcn_init([X.shape[1], *widths, c], rng=rng, dtype=dtype)
    Lyr = len(widths) + 1
    opt = Adam(lr=lr)
    history = {"loss": [], "train_acc": []}
    if val_idx is not None:
        history["val_loss"], history["val_acc"] = [], []
    if test_idx is not None:
        history["test_acc"] = []
    bar = progress_bar(range(1, epochs + 1), desc="training GCN", show=progress and epochs >= 20)
    for epoch in bar:
        loss, grads, Z_train = _gcn_loss_and_grads(params, A_hat, X, y, train_idx, Lyr, wd, p, rng, True)
        check_finite_loss(loss, epoch, "train_gcn", "lower lr, or check X for huge values")
        history["loss"].append(loss)
        history["train_acc"].append(_accuracy(Z_train, y, train_idx))
        opt.step(params, grads)
        if val_idx is not None or test_idx is not None:  # one more forward pass, without dropout
            Z = _gcn_forward(params, A_hat, X, Lyr, 0.0, None, False)
        if val_idx is not None:
            history["val_loss"].append(_softmax_cross_entropy(Z[val_idx], y[val_idx])[0])
            history["val_acc"].append(_accuracy(Z, y, val_idx))
        if test_idx is not None:
            history["test_acc"].append(_accuracy(Z, y, test_idx))
        if patience is not None and epoch > patience:
            vl = history["val_loss"]
            if vl[-1] > np.mean(vl[-(patience + 1):-1]):
                break
    bar.close()
    return params, history


def gcn_predict(params, A, X):
    """Predicted class of every node, ``argmax`` of the GCN scores (no dropout). Chapter 5.

    Parameters
    ----------
    params : dict from :func:`train_gcn` or :func:`gcn_init`
    A : (n, n) adjacency of the raw graph (renormalized here, like :func:`train_gcn`)
    X : (n, d) features

    Returns
    -------
    (n,) int64 labels

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1], [1, 2]]); p = gcn_init([3, 4, 2], rng=np.random.default_rng(0))
    >>> gcn_predict(p, A, np.eye(3)).shape
    (3,)
    """
    Lyr = _n_layers(params)
    A = _check_adjacency(A)
    X = _check_features(X, A.shape[0], params["W1"].shape[0])
    Z = _gcn_forward(params, renormalized_adjacency(A), X, Lyr, 0.0, None, False)
    return np.argmax(Z, axis=1).astype(np.int64)


# ---------------------------------------------------------------------------
# Graph attention (Veličković et al., 2018): a softmax over each node's neighbours
# ---------------------------------------------------------------------------

def _pattern(A, self_loops):
    """The CSR sparsity pattern of A (plus the diagonal), sorted, as (indptr, indices, row of each entry)."""
    A = _as_csr(A, "A")
    if A.nnz and A.data.min() < 0:
        raise ValueError(f"A must have non-negative weights (an adjacency matrix); got {A.data.min():.3g}")
    P = (A != 0).astype(np.float64)
    if self_loops:
        P = P + sp.eye_array(A.shape[0], format="csr")
    P = sp.csr_array(P)
    P.sum_duplicates()
    P.sort_indices()
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    return P.indptr, P.indices, rows


def _segment_softmax(e, indptr):
    """Softmax of ``e`` within each row segment ``indptr[i]:indptr[i+1]`` (segment max, then segment sum)."""
    counts = np.diff(indptr)
    starts = indptr[:-1][counts > 0]
    if e.size == 0:
        return e.copy()
    m = np.maximum.reduceat(e, starts)          # one max per non-empty row: every exponent <= 0
    m_full = np.repeat(m, counts[counts > 0])
    w = np.exp(e - m_full)
    s = np.add.reduceat(w, starts)
    return w / np.repeat(s, counts[counts > 0])


def edge_softmax(A, scores):
    r"""Softmax of edge scores over each node's neighbours, on the sparse pattern of ``A``.

    :math:`\alpha_{ij} = \exp(e_{ij}) / \sum_{k\in N(i)}\exp(e_{ik})` for the
    stored entries :math:`(i, j)` of ``A`` only — masked attention whose mask
    is the graph. Computed with a segment maximum (subtracted for stability,
    as in chapter 3's softmax) and a segment sum over each CSR row: :math:`O(|E|)`
    work and memory, never an :math:`n\times n` array. Chapter 5.

    Parameters
    ----------
    A : (n, n) sparse; its stored entries, in sorted CSR order, are the edges
    scores : (nnz,) one score per stored entry, in that order

    Returns
    -------
    alpha : (n, n) scipy.sparse.csr_array with the same pattern; rows with
        entries sum to 1

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1], [0, 2]])
    >>> edge_softmax(A, np.array([0.0, 0.0, 0.0, 0.0])).toarray()
    array([[0. , 0.5, 0.5],
           [1. , 0. , 0. ],
           [1. , 0. , 0. ]])
    """
    A = _as_csr(A, "A")
    A.sort_indices()
    e = as_float_array(scores, "scores", ndim=1, allow_empty=True)
    if e.shape != (A.nnz,):
        raise ValueError(f"scores must have shape ({A.nnz},) (one per stored entry of A); got {e.shape}")
    alpha = _segment_softmax(e, A.indptr)
    return sp.csr_array((alpha, A.indices.copy(), A.indptr.copy()), shape=A.shape)


_SCORES = ("additive", "dot")


def gat_init(d_in, d_out, *, score="additive", d_k=None, rng=None, dtype=np.float64):
    """Parameters of one attention head on a graph. Chapter 5.

    ``"additive"`` (GAT): ``W : (d_in, d_out)``, ``a_src, a_dst : (d_out,)``.
    ``"dot"`` (scaled dot-product, as in chapter 3): ``W`` plus
    ``W_Q, W_K : (d_in, d_k)`` (``d_k`` defaults to ``d_out``). Glorot weights.

    Examples
    --------
    >>> sorted(gat_init(4, 3, rng=np.random.default_rng(0)))
    ['W', 'a_dst', 'a_src']
    """
    d_in = check_positive_int(d_in, "d_in")
    d_out = check_positive_int(d_out, "d_out")
    check_choice(score, "score", _SCORES)
    rng = check_rng(rng)
    p = {"W": init_weight(d_in, d_out, "xavier", rng=rng, dtype=dtype)}
    if score == "additive":
        a = init_weight(2 * d_out, 1, "xavier", rng=rng, dtype=dtype)[:, 0]
        p["a_src"], p["a_dst"] = a[:d_out].copy(), a[d_out:].copy()
    else:
        d_k = d_out if d_k is None else check_positive_int(d_k, "d_k")
        p["W_Q"] = init_weight(d_in, d_k, "xavier", rng=rng, dtype=dtype)
        p["W_K"] = init_weight(d_in, d_k, "xavier", rng=rng, dtype=dtype)
    return p


def _check_gat_params(params, d):
    if not isinstance(params, dict) or "W" not in params:
        raise TypeError(f"params must be a dict from gat_init (keys W and a_src, a_dst or W_Q, W_K); "
                        f"got {type(params).__name__}")
    score = "additive" if "a_src" in params else "dot"
    W = as_float_array(params["W"], "params['W']", ndim=2)
    if W.shape[0] != d:
        raise ValueError(f"params['W'] must have {d} rows (the columns of X); got {W.shape}")
    if score == "additive":
        for k in ("a_src", "a_dst"):
            as_float_array(params[k], f"params[{k!r}]", ndim=1, shape=(W.shape[1],))
    else:
        if "W_Q" not in params or "W_K" not in params:
            raise ValueError("params must hold a_src and a_dst (additive) or W_Q and W_K (dot)")
        WQ = as_float_array(params["W_Q"], "params['W_Q']", ndim=2)
        check_shape(WQ, "params['W_Q']", (d, None), "rows == X.shape[1]")
        check_shape(as_float_array(params["W_K"], "params['W_K']", ndim=2), "params['W_K']", WQ.shape, "like W_Q")
    return score


def gat_layer(A, X, params, *, negative_slope=0.2, self_loops=True, return_cache=False):
    r"""One graph attention head: a softmax over each node's neighbours, on the sparse pattern.

    With :math:`V = XW`, the score of edge :math:`(i, j)` is

    * additive (GAT): :math:`e_{ij} = \operatorname{LeakyReLU}(a_{src}^Tv_i + a_{dst}^Tv_j)`;
    * dot: :math:`e_{ij} = q_i^Tk_j/\sqrt{d_k}`, :math:`Q = XW_Q`, :math:`K = XW_K` (chapter 3's scores);

    then :math:`\alpha = ` :func:`edge_softmax` over :math:`j\in N(i)` (plus
    :math:`i` itself when ``self_loops``), and :math:`\text{out} = \alpha V`, a
    sparse-times-dense product. Scores exist only on edges: :math:`O(|E|\,d)`
    time, :math:`O(|E|)` memory. On the complete graph with self loops the
    ``"dot"`` head *is* :math:`\operatorname{softmax}(QK^T/\sqrt{d_k})V`.
    No nonlinearity is applied (GAT applies an ELU after the layer). Chapter 5.

    Parameters
    ----------
    A : (n, n) sparse adjacency; only its pattern is used
    X : (n, d) dense features
    params : dict from :func:`gat_init`
    negative_slope : float >= 0, LeakyReLU slope (additive scores)
    self_loops : bool, let each node attend to itself
    return_cache : bool, also return what :func:`gat_backward` needs

    Returns
    -------
    out : (n, d_out); ``alpha`` (sparse attention weights) is ``cache["alpha"]``

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1], [1, 2]]); p = gat_init(2, 3, rng=np.random.default_rng(0))
    >>> out, cache = gat_layer(A, np.ones((3, 2)), p, return_cache=True)
    >>> np.allclose(cache["alpha"].sum(axis=1), 1)
    True
    """
    indptr, cols, rows = _pattern(A, self_loops)
    n = len(indptr) - 1
    X = as_float_array(X, "X", ndim=2)
    if X.shape[0] != n:
        raise ValueError(f"X must have {n} rows (one per node of A); got shape {X.shape}")
    score = _check_gat_params(params, X.shape[1])
    slope = check_positive_float(negative_slope, "negative_slope", allow_zero=True)
    V = X @ params["W"]
    if score == "additive":
        s = (V @ params["a_src"])[rows] + (V @ params["a_dst"])[cols]
        e = np.where(s > 0, s, slope * s)
        Q = K = None
    else:
        Q, K = X @ params["W_Q"], X @ params["W_K"]
        s = np.einsum("ij,ij->i", Q[rows], K[cols]) / np.sqrt(Q.shape[1])
        e = s
    alpha = _segment_softmax(e, indptr)
    Alpha = sp.csr_array((alpha, cols, indptr), shape=(n, n))
    out = Alpha @ V
    if return_cache:
        cache = {"X": X, "V": V, "Q": Q, "K": K, "s": s, "alpha": Alpha, "rows": rows, "cols": cols,
                 "indptr": indptr, "score": score, "slope": slope}
        return out, cache
    return out


def gat_backward(dout, params, cache):
    r"""Gradients of :func:`gat_layer` from ``dout = ∂loss/∂out``, all on the edges.

    With :math:`\text{out} = \alpha V`:
    :math:`\partial V = \alpha^T\,\text{dout}`;
    :math:`\partial\alpha_{ij} = \text{dout}_i\cdot v_j` on each edge;
    through the softmax of row :math:`i`,
    :math:`\partial e_{ij} = \alpha_{ij}(\partial\alpha_{ij} - \sum_k\alpha_{ik}\partial\alpha_{ik})`
    (chapter 3's :math:`\operatorname{diag}(p)-pp^T`, one segment at a time);
    then through the score: for additive scores
    :math:`\partial s = \partial e\cdot\operatorname{LeakyReLU}'(s)`, and the
    source/destination terms collect :math:`\partial s` by row and by column
    (segment sums); for dot scores :math:`\partial Q = (\partial S)K/\sqrt{d_k}`,
    :math:`\partial K = (\partial S)^TQ/\sqrt{d_k}` with :math:`\partial S` sparse. Chapter 5.

    Returns
    -------
    grads : dict with the keys of ``params`` and ``"X"``

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1]]); p = gat_init(2, 2, rng=np.random.default_rng(0))
    >>> out, cache = gat_layer(A, np.eye(2), p, return_cache=True)
    >>> sorted(gat_backward(np.ones_like(out), p, cache))
    ['W', 'X', 'a_dst', 'a_src']
    """
    X, V, Alpha = cache["X"], cache["V"], cache["alpha"]
    rows, cols, indptr = cache["rows"], cache["cols"], cache["indptr"]
    n = X.shape[0]
    dout = as_float_array(dout, "dout", ndim=2)
    check_shape(dout, "dout", V.shape, "the shape of the layer's output")
    alpha = Alpha.data
    dV = Alpha.T @ dout
    dalpha = np.einsum("ij,ij->i", dout[rows], V[cols])
    weighted = np.add.reduceat(alpha * dalpha, indptr[:-1]) if alpha.size else np.zeros(0)
    weighted[np.diff(indptr) == 0] = 0.0  # reduceat copies a neighbour's value into an empty row
    de = alpha * (dalpha - weighted[rows])
    grads = {}
    if cache["score"] == "additive":
        s = cache["s"]
        ds = np.where(s > 0, de, cache["slope"] * de)
        df_src = np.bincount(rows, weights=ds, minlength=n)
        df_dst = np.bincount(cols, weights=ds, minlength=n)
        grads["a_src"] = V.T @ df_src
        grads["a_dst"] = V.T @ df_dst
        dV = dV + np.outer(df_src, params["a_src"]) + np.outer(df_dst, params["a_dst"])
        dX = dV @ params["W"].T
    else:
        Q, K = cache["Q"], cache["K"]
        dS = sp.csr_array((de / np.sqrt(Q.shape[1]), cols, indptr), shape=(n, n))
        dQ, dK = dS @ K, dS.T @ Q
        grads["W_Q"] = X.T @ dQ
        grads["W_K"] = X.T @ dK
        dX = dV @ params["W"].T + dQ @ params["W_Q"].T + dK @ params["W_K"].T
    grads["W"] = X.T @ dV
    grads["X"] = dX
    return grads


# ---------------------------------------------------------------------------
# Over-smoothing: repeated propagation is a power iteration
# ---------------------------------------------------------------------------

def dirichlet_energy(L, X):
    r"""Dirichlet energy :math:`E(X) = \operatorname{tr}(X^TLX)`, the smoothness of the columns of ``X``.

    For :math:`L = D - A`, :math:`E(X) = \tfrac12\sum_{ij}a_{ij}\|x_i - x_j\|^2`.
    To watch a GCN's propagation :math:`\hat A^kX` smooth, use
    :math:`L = I - \hat A` (the normalized Laplacian of :math:`A + I`): then
    :math:`E(\hat A^kX) = \sum_j (1-\mu_j)\mu_j^{2k}\|\hat x_j\|^2` with
    :math:`\mu_j` the eigenvalues of :math:`\hat A`, which decays to 0 because
    every :math:`|\mu_j| < 1` except the :math:`\mu = 1` whose factor
    :math:`1 - \mu` vanishes. Chapter 5.

    Parameters
    ----------
    L : (n, n) symmetric Laplacian, sparse
    X : (n,) or (n, d)

    Returns
    -------
    float

    Examples
    --------
    >>> dirichlet_energy(laplacian(adjacency_matrix([[0, 1]])), [1.0, -1.0])
    4.0
    """
    L = _check_laplacian_like(L)
    X = _check_signal(X, L.shape[0], "X")
    return float(np.sum(X * (L @ X)))


def oversmoothing_distance(A, X):
    r"""Relative distance of ``X`` to the dominant eigenspace of :math:`\hat A`: :math:`\|(I - P)X\|_F/\|X\|_F`.

    :math:`\hat A`'s eigenvalue 1 has eigenvectors :math:`\tilde D^{1/2}\mathbf 1_C`,
    one per connected component :math:`C` (:math:`\tilde D` = degrees of
    :math:`A + I`); :math:`P` projects onto their span. Since every other
    eigenvalue has :math:`|\mu| < 1`, :math:`\hat A^kX` converges to
    :math:`PX` like a power iteration, the distance shrinks like
    :math:`|\mu_2|^k`, and in the limit the rows of node features differ only
    by the factor :math:`\sqrt{\tilde d_i}`: the features no longer tell the
    nodes of a component apart. Chapter 5.

    Parameters
    ----------
    A : (n, n) adjacency of the raw graph
    X : (n,) or (n, d), not all zero

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> A = adjacency_matrix([[0, 1]])
    >>> round(oversmoothing_distance(A, [1.0, 1.0]), 12)   # already in the dominant eigenspace
    0.0
    """
    A = _check_adjacency(A)
    X = _check_signal(X, A.shape[0], "X")
    norm = np.linalg.norm(X)
    if norm == 0:
        raise ValueError("X must not be all zero")
    _, comp = connected_components(A, directed=False)
    s = np.sqrt(np.asarray(A.sum(axis=1)).ravel() + 1.0)
    X2 = X.reshape(X.shape[0], -1)
    # P X = Σ_C u_C u_Cᵀ X with u_C = s·1_C / ‖s·1_C‖: a weighted mean per component.
    num = np.zeros((comp.max() + 1, X2.shape[1]))
    np.add.at(num, comp, s[:, None] * X2)
    den = np.bincount(comp, weights=s * s)
    PX = s[:, None] * (num / den[:, None])[comp]
    return float(np.linalg.norm(X2 - PX) / norm)
