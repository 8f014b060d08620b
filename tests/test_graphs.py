"""Tests for lalib.graphs and chapter 5's data sets: Laplacians against networkx, spectrum facts,
Chebyshev against the exact filter, GCN and GAT gradients against finite differences, training,
the Planetoid loader's refusals, and bad input for every public function."""

import hashlib
import pickle
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from lalib import attention, datasets, graphs
from lalib.datasets import PlanetoidFileError
from numeric_helpers import fd_grad, rel_err




def weighted_graph_with_isolated(rng):
    G = nx.gnm_random_graph(12, 20, seed=3)
    G.add_nodes_from([12, 13])  # two isolated nodes
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.uniform(0.5, 3.0))
    return G


# --- graphs as matrices ----------------------------------------------------------------------

@pytest.mark.parametrize("weight", ["weight", None])
def test_adjacency_matches_networkx(weight, rng):
    G = weighted_graph_with_isolated(rng)
    A = graphs.adjacency_matrix(G, weight=weight)
    ref = nx.adjacency_matrix(G, weight=weight).toarray()
    assert sp.issparse(A) and A.format == "csr"
    np.testing.assert_allclose(A.toarray(), ref)


def test_adjacency_from_edge_list_weighted_and_repeated():
    A = graphs.adjacency_matrix([[0, 1, 2.0], [1, 2, 0.5], [0, 1, 1.0]], n=4)
    want = np.zeros((4, 4))
    want[0, 1] = want[1, 0] = 3.0
    want[1, 2] = want[2, 1] = 0.5
    np.testing.assert_allclose(A.toarray(), want)
    np.testing.assert_allclose(graphs.adjacency_matrix([[0, 1, 2.0]], weight=None).toarray(), [[0, 1], [1, 0]])


@pytest.mark.parametrize("weight", ["weight", None])
def test_laplacians_match_networkx_with_isolated_nodes(weight, rng):
    G = weighted_graph_with_isolated(rng)
    A = graphs.adjacency_matrix(G, weight=weight)
    L = graphs.laplacian(A, "combinatorial")
    Ls = graphs.laplacian(A, "symmetric")
    np.testing.assert_allclose(L.toarray(), nx.laplacian_matrix(G, weight=weight).toarray(), atol=1e-12)
    np.testing.assert_allclose(Ls.toarray(), nx.normalized_laplacian_matrix(G, weight=weight).toarray(),
                               atol=1e-12)
    assert np.all(np.isfinite(Ls.data))
    # isolated nodes: zero rows in the normalized forms
    assert np.all(Ls.toarray()[12:] == 0)
    # random walk: D^{-1}(D - A), similar to L_sym on the non-isolated nodes
    Lrw = graphs.laplacian(A, "random_walk").toarray()
    d = graphs.degrees(A)
    nz = d > 0
    np.testing.assert_allclose(Lrw[np.ix_(nz, nz)],
                               (np.diag(d[nz] ** -0.5) @ Ls.toarray()[np.ix_(nz, nz)] @ np.diag(d[nz] ** 0.5)),
                               atol=1e-12)
    assert np.all(Lrw[~nz] == 0)


def test_laplacian_with_self_loop_matches_networkx():
    G = nx.path_graph(4)
    G.add_edge(1, 1)
    A = graphs.adjacency_matrix(G)
    np.testing.assert_allclose(graphs.laplacian(A, "symmetric").toarray(),
                               nx.normalized_laplacian_matrix(G).toarray(), atol=1e-12)


def test_incidence_factorizes_laplacian(rng):
    A = graphs.adjacency_matrix(weighted_graph_with_isolated(rng))
    B = graphs.incidence_matrix(A)
    assert B.shape == (14, 20)
    np.testing.assert_allclose((B @ B.T).toarray(), graphs.laplacian(A).toarray(), atol=1e-12)
    x = rng.standard_normal(14)
    assert np.isclose(np.sum((B.T @ x) ** 2), x @ (graphs.laplacian(A) @ x))


@given(st.integers(0, 10_000))
def test_laplacian_quadratic_form_is_sum_over_edges(seed):
    rng = np.random.default_rng(seed)
    G = nx.gnp_random_graph(9, 0.4, seed=seed)
    A = graphs.adjacency_matrix(G)
    x = rng.standard_normal(9)
    want = sum((x[u] - x[v]) ** 2 for u, v in G.edges)
    assert np.isclose(x @ (graphs.laplacian(A) @ x), want)


def test_spectrum_facts():
    # Three components: a triangle (odd cycle), a 4-cycle (bipartite), a single node.
    G = nx.disjoint_union_all([nx.cycle_graph(3), nx.cycle_graph(4), nx.empty_graph(1)])
    A = graphs.adjacency_matrix(G)
    lam = np.linalg.eigvalsh(graphs.laplacian(A).toarray())
    assert lam.min() > -1e-12                                         # PSD
    assert np.sum(np.abs(lam) < 1e-10) == 3                           # zero multiplicity = components
    mu = np.linalg.eigvalsh(graphs.laplacian(A, "symmetric").toarray())
    assert mu.min() > -1e-12 and mu.max() < 2 + 1e-12                 # in [0, 2]
    assert np.sum(np.abs(mu - 2) < 1e-10) == 1                        # 2 once: one bipartite component
    mu_tri = np.linalg.eigvalsh(graphs.laplacian(graphs.adjacency_matrix(nx.cycle_graph(3)), "symmetric")
                                .toarray())
    assert mu_tri.max() < 2 - 1e-6                                    # no bipartite component: 2 absent


@given(st.integers(0, 10_000))
def test_renormalized_adjacency_eigenvalues_in_half_open_interval(seed):
    G = nx.gnp_random_graph(15, 0.3, seed=seed)
    A = graphs.adjacency_matrix(G)
    A_hat = graphs.renormalized_adjacency(A)
    d = np.asarray(A.sum(axis=1)).ravel() + 1
    np.testing.assert_allclose(A_hat.toarray(),
                               np.diag(d ** -0.5) @ (A.toarray() + np.eye(15)) @ np.diag(d ** -0.5), atol=1e-14)
    mu = np.linalg.eigvalsh(A_hat.toarray())
    assert mu.min() > -1 and abs(mu.max() - 1) < 1e-12


def test_renormalized_vs_first_order_ranges():
    # Bipartite graph: I + D^{-1/2} A D^{-1/2} reaches 0 and 2; the renormalized matrix stays in (-1, 1].
    A = graphs.adjacency_matrix(nx.cycle_graph(6))
    d = graphs.degrees(A)
    M = np.eye(6) + np.diag(d ** -0.5) @ A.toarray() @ np.diag(d ** -0.5)
    mu = np.linalg.eigvalsh(M)
    assert np.isclose(mu.min(), 0) and np.isclose(mu.max(), 2)
    mu_hat = np.linalg.eigvalsh(graphs.renormalized_adjacency(A).toarray())
    assert mu_hat.min() > -1 + 0.1 and np.isclose(mu_hat.max(), 1)


# --- graph Fourier and filters ----------------------------------------------------------------

def test_fourier_basis_and_transform_round_trip(rng):
    A = graphs.adjacency_matrix(nx.karate_club_graph(), weight=None)
    L = graphs.laplacian(A)
    lam, U = graphs.graph_fourier_basis(L)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(L.toarray()), atol=1e-10)
    np.testing.assert_allclose(U.T @ U, np.eye(34), atol=1e-10)
    x = rng.standard_normal(34)
    xh = graphs.graph_fourier_transform(x, U)
    np.testing.assert_allclose(graphs.inverse_graph_fourier_transform(xh, U), x, atol=1e-12)
    # frequency = Rayleigh quotient: λ_k = u_kᵀ L u_k
    np.testing.assert_allclose(np.einsum("ik,ik->k", U, L @ U), lam, atol=1e-10)


def test_spectral_filter_heat_kernel_is_expm(rng):
    from scipy.linalg import expm

    L = graphs.laplacian(graphs.adjacency_matrix(nx.karate_club_graph(), weight=None), "symmetric")
    x = rng.standard_normal((34, 2))
    y = graphs.spectral_filter(L, x, lambda lam: np.exp(-2.0 * lam))
    np.testing.assert_allclose(y, expm(-2.0 * L.toarray()) @ x, atol=1e-10)


def test_filter_responses():
    lam = np.linspace(0, 2, 9)
    assert np.array_equal(graphs.filter_response("low-pass", lam, cutoff=0.5), (lam <= 0.5).astype(float))
    assert np.array_equal(graphs.filter_response("high-pass", lam, cutoff=0.5), (lam > 0.5).astype(float))
    assert np.array_equal(graphs.filter_response("band-pass", lam, band=(0.5, 1.0)),
                          ((lam >= 0.5) & (lam <= 1.0)).astype(float))
    np.testing.assert_allclose(graphs.filter_response("heat", lam, t=3.0), np.exp(-3 * lam))


def test_chebyshev_filter_converges_to_exact_filter(rng):
    G = nx.connected_watts_strogatz_graph(60, 4, 0.2, seed=1)
    L = graphs.laplacian(graphs.adjacency_matrix(G))
    lmax = float(np.linalg.eigvalsh(L.toarray()).max())
    x = rng.standard_normal(60)
    g = lambda lam: np.exp(-1.5 * lam)  # noqa: E731
    exact = graphs.spectral_filter(L, x, g)
    errs = []
    for K in (1, 3, 5, 8, 12, 16, 24):
        c = graphs.chebyshev_coefficients(g, K, lmax)
        errs.append(rel_err(graphs.chebyshev_filter(L, x, c, lmax=lmax), exact))
    assert all(b < a for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 1e-10


def test_chebyshev_filter_estimates_lmax_by_power_iteration(rng):
    G = nx.connected_watts_strogatz_graph(40, 4, 0.2, seed=2)
    L = graphs.laplacian(graphs.adjacency_matrix(G))
    lmax = graphs.estimate_lmax(L)
    assert abs(lmax - np.linalg.eigvalsh(L.toarray()).max()) < 1e-4
    x = rng.standard_normal(40)
    c = graphs.chebyshev_coefficients(lambda lam: np.exp(-lam), 12, lmax)
    np.testing.assert_allclose(graphs.chebyshev_filter(L, x, c), graphs.chebyshev_filter(L, x, c, lmax=lmax))


def test_chebyshev_filter_is_k_hop_local():
    G = nx.path_graph(20)
    L = graphs.laplacian(graphs.adjacency_matrix(G))
    x = np.zeros(20)
    x[0] = 1.0
    y = graphs.chebyshev_filter(L, x, np.ones(4), lmax=4.0)  # degree K = 3
    assert np.all(y[4:] == 0) and y[3] != 0


# --- GCN ----------------------------------------------------------------------------------------

def small_problem(rng, sparse_x=False):
    G = nx.gnp_random_graph(12, 0.3, seed=7)
    A = graphs.adjacency_matrix(G)
    X = rng.standard_normal((12, 5))
    if sparse_x:
        X[rng.random(X.shape) < 0.5] = 0
        X = sp.csr_array(X)
    y = rng.integers(0, 3, 12)
    return A, X, y


@pytest.mark.parametrize("sparse_x", [False, True])
@pytest.mark.parametrize("sizes", [[5, 4, 3], [5, 6, 4, 3]])
def test_gcn_gradients_match_finite_differences(sizes, sparse_x, rng):
    A, X, y = small_problem(rng, sparse_x)
    A_hat = graphs.renormalized_adjacency(A)
    params = graphs.gcn_init(sizes, rng=rng)
    for k in params:
        params[k] = params[k] + 0.1 * rng.standard_normal(params[k].shape)  # non-zero biases
    train = np.array([0, 2, 3, 7, 11])
    loss, grads = graphs.gcn_loss_and_grads(params, A_hat, X, y, train, weight_decay=0.01)
    _, grads_sym = graphs.gcn_loss_and_grads(params, A_hat, X, y, train, weight_decay=0.01, symmetric=True)
    for k in grads:  # Â is symmetric: multiplying by Â or by Âᵀ in the backward pass is the same
        np.testing.assert_allclose(grads_sym[k], grads[k], rtol=1e-12, atol=1e-14)
    for k in params:
        def f(v, k=k):
            p = dict(params)
            p[k] = v
            return graphs.gcn_loss_and_grads(p, A_hat, X, y, train, weight_decay=0.01)[0]
        assert rel_err(grads[k], fd_grad(f, params[k])) < 1e-6, k


def test_gcn_gradients_with_a_non_symmetric_propagation_matrix(rng):
    A, X, y = small_problem(rng)
    P = sp.csr_array(graphs.laplacian(A, "random_walk").toarray() + np.eye(12) * 0.5)  # row-normalized, not symmetric
    params = graphs.gcn_init([5, 4, 3], rng=rng)
    train = np.arange(12)
    _, grads = graphs.gcn_loss_and_grads(params, P, X, y, train)
    for k in ("W1", "W2"):
        def f(v, k=k):
            return graphs.gcn_loss_and_grads({**params, k: v}, P, X, y, train)[0]
        assert rel_err(grads[k], fd_grad(f, params[k])) < 1e-6


def test_gcn_gradients_with_dropout_match_finite_differences(rng):
    A, X, y = small_problem(rng)
    A_hat = graphs.renormalized_adjacency(A)
    params = graphs.gcn_init([5, 4, 3], rng=rng)
    train = np.arange(12)

    def run(p):  # the same dropout masks every call: a fixed seed
        return graphs.gcn_loss_and_grads(p, A_hat, X, y, train, dropout=0.3, rng=np.random.default_rng(5))

    _, grads = run(params)
    for k in ("W1", "W2"):
        def f(v, k=k):
            p = dict(params)
            p[k] = v
            return run(p)[0]
        assert rel_err(grads[k], fd_grad(f, params[k])) < 1e-6


def test_gcn_forward_matches_dense_formula(rng):
    A, X, y = small_problem(rng)
    A_hat = graphs.renormalized_adjacency(A)
    p = graphs.gcn_init([5, 4, 3], rng=rng)
    Ah = A_hat.toarray()
    want = Ah @ np.maximum(Ah @ X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    np.testing.assert_allclose(graphs.gcn_forward(p, A_hat, X), want, atol=1e-12)


def test_gcn_float32_preserved(rng):
    A, X, y = small_problem(rng)
    p = graphs.gcn_init([5, 4, 3], rng=rng, dtype=np.float32)
    A32 = graphs.renormalized_adjacency(A).astype(np.float32)
    Z = graphs.gcn_forward(p, A32, X.astype(np.float32))
    assert Z.dtype == np.float32
    Z = graphs.gcn_forward(p, A32, X.astype(np.float32), dropout=0.5, rng=rng)   # dropout keeps float32 too
    assert Z.dtype == np.float32
    _, grads = graphs.gcn_loss_and_grads(p, A32, X.astype(np.float32), y, [0, 1], dropout=0.5, rng=rng)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_train_gcn_on_sbm_reaches_stated_accuracy():
    rng = np.random.default_rng(0)
    g = datasets.sbm_graph(2000, 4, avg_degree=10, intra_fraction=0.8, n_features=16, feature_signal=1.0, rng=rng)
    train, val, test = datasets.split_per_class(g.y, 20, 200, rng=rng)
    params, hist = graphs.train_gcn(g.A, g.X, g.y, train, val, epochs=200, rng=rng, test_idx=test, progress=False)
    acc = np.mean(graphs.gcn_predict(params, g.A, g.X)[test] == g.y[test])
    assert acc >= 0.9, acc
    assert hist["loss"][-1] < hist["loss"][0]
    assert len(hist["val_acc"]) == 200 and np.isclose(hist["test_acc"][-1], acc)


def test_train_gcn_beats_features_alone_on_sbm():
    # Without the graph (A = 0) the same model sees only the weak features.
    rng = np.random.default_rng(1)
    g = datasets.sbm_graph(1000, 4, avg_degree=10, intra_fraction=0.8, feature_signal=0.7, rng=rng)
    train, _, test = datasets.split_per_class(g.y, 20, rng=rng)
    p, _ = graphs.train_gcn(g.A, g.X, g.y, train, rng=np.random.default_rng(0), progress=False)
    empty = sp.csr_array((1000, 1000))
    q, _ = graphs.train_gcn(empty, g.X, g.y, train, rng=np.random.default_rng(0), progress=False)
    acc_graph = np.mean(graphs.gcn_predict(p, g.A, g.X)[test] == g.y[test])
    acc_feat = np.mean(graphs.gcn_predict(q, empty, g.X)[test] == g.y[test])
    assert acc_graph > acc_feat + 0.2, (acc_graph, acc_feat)


def test_karate_club_one_label_per_faction():
    g = datasets.karate_club()
    assert (g.n_nodes, g.n_edges) == (34, 78) and g.y[0] == 0 and g.y[33] == 1
    train = np.array([0, 33])
    params, _ = graphs.train_gcn(g.A, g.X, g.y, train, epochs=200, rng=np.random.default_rng(0), progress=False)
    rest = np.setdiff1d(np.arange(34), train)
    acc = np.mean(graphs.gcn_predict(params, g.A, g.X)[rest] == g.y[rest])
    assert acc >= 0.9, acc


def test_train_gcn_early_stopping_and_divergence(rng):
    g = datasets.sbm_graph(300, 3, rng=rng)
    tr, va, _ = datasets.split_per_class(g.y, 10, 60, rng=rng)
    _, h = graphs.train_gcn(g.A, g.X, g.y, tr, va, epochs=400, lr=0.05, patience=5, rng=rng, progress=False)
    assert len(h["loss"]) < 400
    from lalib._validate import DivergedError

    # a weight-decay term of 1e308 · ‖W1‖² overflows: the loss is inf at the first epoch
    with np.errstate(over="ignore"), pytest.raises(DivergedError, match="epoch 1"):
        graphs.train_gcn(g.A, g.X, g.y, tr, epochs=3, weight_decay=1e308, rng=rng, progress=False)


# --- GAT --------------------------------------------------------------------------------------

@pytest.mark.parametrize("score", ["additive", "dot"])
def test_gat_gradients_match_finite_differences(score, rng):
    A, X, _ = small_problem(rng)
    params = graphs.gat_init(5, 3, score=score, rng=rng)
    R = rng.standard_normal((12, 3))  # loss = <R, out>

    def loss(p, X_):
        return float(np.sum(R * graphs.gat_layer(A, X_, p)))

    _, cache = graphs.gat_layer(A, X, params, return_cache=True)
    grads = graphs.gat_backward(R, params, cache)
    for k in params:
        def f(v, k=k):
            p = dict(params)
            p[k] = v
            return loss(p, X)
        assert rel_err(grads[k], fd_grad(f, params[k])) < 1e-6, k
    assert rel_err(grads["X"], fd_grad(lambda v: loss(params, v), X)) < 1e-6


def test_gat_weights_are_a_softmax_over_neighbours_only(rng):
    A, X, _ = small_problem(rng)
    params = graphs.gat_init(5, 3, rng=rng)
    _, cache = graphs.gat_layer(A, X, params, return_cache=True)
    alpha = cache["alpha"].toarray()
    pattern = (A.toarray() + np.eye(12)) > 0
    assert np.all(alpha[~pattern] == 0) and np.allclose(alpha.sum(axis=1), 1)
    # dense reference: -inf off the graph, then chapter 3's softmax
    V = X @ params["W"]
    S = (V @ params["a_src"])[:, None] + (V @ params["a_dst"])[None, :]
    S = np.where(S > 0, S, 0.2 * S)
    np.testing.assert_allclose(alpha, attention.softmax(np.where(pattern, S, -np.inf)), atol=1e-14)


def test_gat_on_complete_graph_is_scaled_dot_product_attention(rng):
    n, d = 9, 6
    A = graphs.adjacency_matrix(nx.complete_graph(n))
    X = rng.standard_normal((n, d))
    p = graphs.gat_init(d, 4, score="dot", d_k=5, rng=rng)
    out, cache = graphs.gat_layer(A, X, p, return_cache=True)
    ref, W = attention.scaled_dot_product_attention(X @ p["W_Q"], X @ p["W_K"], X @ p["W"], return_weights=True)
    np.testing.assert_allclose(cache["alpha"].toarray(), W, atol=1e-14)
    np.testing.assert_allclose(out, ref, atol=1e-13)
    # additive scores on the complete graph: the same softmax rows as the dense score matrix
    q = graphs.gat_init(d, 4, rng=rng)
    _, c2 = graphs.gat_layer(A, X, q, return_cache=True)
    V = X @ q["W"]
    S = (V @ q["a_src"])[:, None] + (V @ q["a_dst"])[None, :]
    np.testing.assert_allclose(c2["alpha"].toarray(), attention.softmax(np.where(S > 0, S, 0.2 * S)), atol=1e-14)


def test_edge_softmax_handles_empty_rows_and_large_scores():
    A = graphs.adjacency_matrix([[0, 1], [0, 2]], n=4)  # node 3 isolated
    e = np.array([1000.0, 1001.0, 5.0, -3.0])
    alpha = graphs.edge_softmax(A, e).toarray()
    np.testing.assert_allclose(alpha[0, 1:3], attention.softmax(np.array([1000.0, 1001.0])))
    np.testing.assert_allclose(alpha.sum(axis=1), [1, 1, 1, 0])


# --- over-smoothing ----------------------------------------------------------------------------

def test_oversmoothing_measures_decay_with_propagation(rng):
    G = nx.connected_watts_strogatz_graph(50, 4, 0.3, seed=4)
    A = graphs.adjacency_matrix(G)
    A_hat = graphs.renormalized_adjacency(A)
    Lt = sp.eye_array(50) - A_hat
    X = rng.standard_normal((50, 3))
    E, D = [], []
    H = X
    for _ in range(30):
        E.append(graphs.dirichlet_energy(Lt, H))
        D.append(graphs.oversmoothing_distance(A, H))
        H = A_hat @ H
    assert all(b <= a + 1e-12 for a, b in zip(E, E[1:])) and E[-1] < 1e-2 * E[0]
    assert D[-1] < 0.05 and D[-1] < D[0]
    # the rate is |μ_2|, the second largest eigenvalue magnitude of Â
    mu = np.sort(np.abs(np.linalg.eigvalsh(A_hat.toarray())))
    assert abs(D[-1] / D[-2] - mu[-2]) < 0.05


def test_dirichlet_energy_is_edge_sum(rng):
    A = graphs.adjacency_matrix(weighted_graph_with_isolated(rng))
    X = rng.standard_normal((14, 2))
    C = sp.triu(A, 1).tocoo()
    want = sum(w * np.sum((X[i] - X[j]) ** 2) for i, j, w in zip(C.row, C.col, C.data))
    assert np.isclose(graphs.dirichlet_energy(graphs.laplacian(A), X), want)


def test_oversmoothing_distance_per_component():
    A = graphs.adjacency_matrix(nx.disjoint_union(nx.path_graph(3), nx.path_graph(2)))
    s = np.sqrt(graphs.degrees(A) + 1)
    X = np.concatenate([2 * s[:3], -5 * s[3:]])
    assert graphs.oversmoothing_distance(A, X) < 1e-12
    assert graphs.oversmoothing_distance(A, np.arange(5.0)) > 0.1


# --- data sets ----------------------------------------------------------------------------------

def test_sbm_graph_structure():
    rng = np.random.default_rng(0)
    g = datasets.sbm_graph(5000, 5, avg_degree=12, intra_fraction=0.9, n_features=8, feature_signal=2.0, rng=rng)
    A = g.A
    assert A.format == "csr" and abs(A - A.T).max() == 0 and A.diagonal().max() == 0 and A.data.max() == 1
    assert abs(A.nnz / 5000 - 12) < 0.5
    C = A.tocoo()
    intra = np.mean(g.y[C.row] == g.y[C.col])
    assert abs(intra - 0.9) < 0.02
    assert np.all(np.bincount(g.y) == 1000) and g.X.shape == (5000, 8)
    # class-correlated features: class means differ by much more than sampling noise
    means = np.array([g.X[g.y == c].mean(axis=0) for c in range(5)])
    assert np.linalg.norm(means[0] - means[1]) > 0.5


def test_sbm_graph_large_is_sparse():
    g = datasets.sbm_graph(100_000, 4, avg_degree=20, rng=np.random.default_rng(1))
    assert g.n_nodes == 100_000 and 0.99e6 < g.n_edges <= 1e6
    assert sp.issparse(g.A)


def test_split_per_class():
    y = np.repeat(np.arange(3), 50)
    tr, va, te = datasets.split_per_class(y, 5, 20, 30, rng=np.random.default_rng(0))
    assert np.all(np.bincount(y[tr]) == 5) and len(va) == 20 and len(te) == 30
    assert len(np.intersect1d(tr, va)) == 0 and len(np.intersect1d(va, te)) == 0


# --- the Planetoid loader, on fixtures made here --------------------------------------------------

def write_fixture(root, name="cora", n_feat=6, n_classes=3):
    """Eight files in Planetoid's format: 6 train, 3 more in allx, 4 test nodes stored shuffled."""
    rng = np.random.default_rng(0)
    n_train, n_all, n_test = 6, 9, 4
    n = n_all + n_test
    X = (rng.random((n, n_feat)) < 0.4).astype(float)
    X[:, 0] += 1  # no empty rows
    y = np.arange(n) % n_classes
    Y = np.eye(n_classes)[y]
    test_index = np.array([11, 9, 12, 10])
    objs = {
        "x": sp.csr_matrix(X[:n_train]), "y": Y[:n_train], "allx": sp.csr_matrix(X[:n_all]),
        "ally": Y[:n_all], "tx": sp.csr_matrix(X[test_index]), "ty": Y[test_index],
        "graph": defaultdict(list, {i: [(i + 1) % n, (i + 3) % n] for i in range(n)}),
    }
    root.mkdir(parents=True, exist_ok=True)
    for part, obj in objs.items():
        (root / f"ind.{name}.{part}").write_bytes(pickle.dumps(obj, protocol=4))
    (root / f"ind.{name}.test.index").write_text("\n".join(map(str, test_index)) + "\n")
    digests = {p: hashlib.sha256((root / f"ind.{name}.{p}").read_bytes()).hexdigest()
               for p in datasets.PLANETOID_PARTS}
    return X, y, digests


def test_planetoid_loader_reads_a_fixture(tmp_path):
    X, y, digests = write_fixture(tmp_path)
    g = datasets.load_planetoid("cora", root=tmp_path, digests=digests, normalize_features=False)
    np.testing.assert_allclose(g.X.toarray(), X)
    assert np.array_equal(g.y, y)
    assert np.array_equal(g.train_idx, np.arange(6)) and np.array_equal(g.test_idx, [9, 10, 11, 12])
    assert abs(g.A - g.A.T).max() == 0 and g.A.diagonal().max() == 0
    gn = datasets.load_planetoid("cora", root=tmp_path, digests=digests)
    np.testing.assert_allclose(np.asarray(gn.X.sum(axis=1)).ravel(), 1.0)


def test_planetoid_loader_refuses_a_wrong_digest(tmp_path):
    _, _, digests = write_fixture(tmp_path)
    bad = dict(digests, graph="0" * 64)
    with pytest.raises(PlanetoidFileError, match="SHA-256 .* does not match"):
        datasets.load_planetoid("cora", root=tmp_path, digests=bad)
    # the pinned digests of the real data refuse the fixture too
    with pytest.raises(PlanetoidFileError, match="refusing to read"):
        datasets.load_planetoid("cora", root=tmp_path)


class _Exploit:
    """A pickle that, if unpickled by plain pickle, would create a file (an arbitrary call)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def test_planetoid_loader_refuses_a_malicious_pickle(tmp_path):
    _, _, digests = write_fixture(tmp_path)
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"graph": _Exploit(str(marker))}, protocol=4)
    (tmp_path / "ind.cora.graph").write_bytes(payload)
    digests = dict(digests, graph=hashlib.sha256(payload).hexdigest())  # the digest passes; the content must not
    with pytest.raises(PlanetoidFileError, match="refusing to unpickle pathlib"):
        datasets.load_planetoid("cora", root=tmp_path, digests=digests)
    assert not marker.exists()
    # os.system, the classic
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    (tmp_path / "ind.cora.y").write_bytes(payload)
    digests["y"] = hashlib.sha256(payload).hexdigest()
    with pytest.raises(PlanetoidFileError, match="refusing to unpickle"):
        datasets.load_planetoid("cora", root=tmp_path, digests=digests)
    assert not marker.exists()


def test_planetoid_loader_offline_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        datasets.load_planetoid("citeseer", root=tmp_path)
    with pytest.raises(ValueError, match="name must be one of"):
        datasets.load_planetoid("reddit", root=tmp_path)
    with pytest.raises(TypeError, match="download"):
        datasets.load_planetoid("cora", root=tmp_path, download="yes")


def test_planetoid_digest_table_is_complete():
    for name, table in datasets.PLANETOID_SHA256.items():
        assert set(table) == set(datasets.PLANETOID_PARTS), name
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())


# --- bad input -------------------------------------------------------------------------------------

def test_bad_adjacency_is_refused():
    with pytest.raises(ValueError, match="A must be a square"):
        graphs.laplacian(sp.csr_array(np.ones((2, 3))))
    with pytest.raises(ValueError, match="A must be symmetric"):
        graphs.laplacian(sp.csr_array(np.array([[0, 1.0], [0, 0]])))
    with pytest.raises(ValueError, match="non-negative"):
        graphs.renormalized_adjacency(sp.csr_array(np.array([[0, -1.0], [-1.0, 0]])))
    with pytest.raises(ValueError, match="finite"):
        graphs.incidence_matrix(sp.csr_array(np.array([[0, np.nan], [np.nan, 0]])))
    with pytest.raises(ValueError, match="kind must be one of"):
        graphs.laplacian(np.eye(2), "normalized")
    with pytest.raises(ValueError, match="must not be empty"):
        graphs.degrees(sp.csr_array((0, 0)))
    with pytest.raises(TypeError, match="real numbers"):
        graphs.laplacian(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="edge list"):
        graphs.adjacency_matrix(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        graphs.adjacency_matrix([[0, 1, -2.0]])
    with pytest.raises(ValueError, match="< n = 2"):
        graphs.adjacency_matrix([[0, 5]], n=2)
    with pytest.raises(ValueError, match="directed"):
        graphs.adjacency_matrix(nx.DiGraph([(0, 1)]))


def test_bad_filter_input_is_refused(rng):
    L = graphs.laplacian(graphs.adjacency_matrix(nx.path_graph(5)))
    with pytest.raises(ValueError, match="x must have 5 rows"):
        graphs.chebyshev_filter(L, np.ones(4), [1.0])
    with pytest.raises(ValueError, match="lmax must be > 0"):
        graphs.chebyshev_filter(L, np.ones(5), [1.0], lmax=-1.0)
    with pytest.raises(ValueError, match="coeffs must not be empty"):
        graphs.chebyshev_filter(L, np.ones(5), [])
    with pytest.raises(TypeError, match="g must be callable"):
        graphs.chebyshev_coefficients(3.0, 4, 2.0)
    with pytest.raises(ValueError, match="K must be a non-negative"):
        graphs.chebyshev_coefficients(np.exp, -1, 2.0)
    with pytest.raises(ValueError, match="symmetric"):
        graphs.graph_fourier_basis(np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match="at most"):
        graphs.graph_fourier_basis(sp.eye_array(graphs.MAX_DENSE_NODES + 1, format="csr"))
    with pytest.raises(ValueError, match="g must have shape"):
        graphs.spectral_filter(L, np.ones(5), np.ones(3))
    with pytest.raises(ValueError, match="x must be finite"):
        graphs.spectral_filter(L, np.full(5, np.nan), np.exp)
    with pytest.raises(ValueError, match="U must have shape"):
        graphs.graph_fourier_transform(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="x_hat must have 3 rows"):
        graphs.inverse_graph_fourier_transform(np.ones(2), np.eye(3))
    with pytest.raises(ValueError, match="kind must be one of"):
        graphs.filter_response("notch", np.ones(3))
    with pytest.raises(ValueError, match="t must be >= 0"):
        graphs.filter_response("heat", np.ones(3), t=-1.0)
    with pytest.raises(ValueError, match="band must be"):
        graphs.filter_response("band-pass", np.ones(3), band=(2.0, 1.0))
    with pytest.raises(ValueError, match="X must have 5 rows"):
        graphs.dirichlet_energy(L, np.ones((4, 2)))
    with pytest.raises(ValueError, match="X must not be all zero"):
        graphs.oversmoothing_distance(graphs.adjacency_matrix(nx.path_graph(5)), np.zeros(5))


def test_bad_gcn_input_is_refused(rng):
    A, X, y = small_problem(rng)
    A_hat = graphs.renormalized_adjacency(A)
    p = graphs.gcn_init([5, 4, 3], rng=rng)
    with pytest.raises(ValueError, match="sizes must list"):
        graphs.gcn_init([5])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a positive"):
        graphs.gcn_init([5, 0, 3])
    with pytest.raises(ValueError, match="X must have 12 rows"):
        graphs.gcn_forward(p, A_hat, X[:5])
    with pytest.raises(ValueError, match="X must have 5 columns"):
        graphs.gcn_forward(p, A_hat, X[:, :3])
    with pytest.raises(ValueError, match="dropout must lie in"):
        graphs.gcn_forward(p, A_hat, X, dropout=1.0)
    with pytest.raises(TypeError, match="params must be a dict"):
        graphs.gcn_forward([1, 2], A_hat, X)
    with pytest.raises(ValueError, match="W2'\\] must have 4 rows"):
        graphs.gcn_forward({**p, "W2": np.ones((3, 3))}, A_hat, X)
    with pytest.raises(ValueError, match="y must be < 3"):
        graphs.gcn_loss_and_grads(p, A_hat, X, np.full(12, 3), [0])
    with pytest.raises(ValueError, match="train_idx must be < 12"):
        graphs.gcn_loss_and_grads(p, A_hat, X, y, [0, 12])
    with pytest.raises(ValueError, match="train_idx must be >= 0"):
        graphs.train_gcn(A, X, y, [-1])
    with pytest.raises(ValueError, match="y must have shape \\(12,\\)"):
        graphs.train_gcn(A, X, y[:5], [0])
    with pytest.raises(ValueError, match="y must be >= 0"):
        graphs.train_gcn(A, X, np.full(12, -1), [0])
    with pytest.raises(ValueError, match="A must be symmetric"):
        graphs.train_gcn(sp.csr_array(np.triu(A.toarray())), X, y, [0])
    with pytest.raises(ValueError, match="X must have 12 rows"):
        graphs.train_gcn(A, X[:3], y, [0])
    with pytest.raises(ValueError, match="lr must be > 0"):
        graphs.train_gcn(A, X, y, [0], lr=0.0)
    with pytest.raises(ValueError, match="patience needs val_idx"):
        graphs.train_gcn(A, X, y, [0], patience=3)
    with pytest.raises(ValueError, match="val_idx must be < 12"):
        graphs.train_gcn(A, X, y, [0], val_idx=[99])
    with pytest.raises(TypeError, match="rng must be"):
        graphs.train_gcn(A, X, y, [0], rng=0)
    with pytest.raises(ValueError, match="dZ must have shape"):
        _, cache = graphs.gcn_forward(p, A_hat, X, return_cache=True)
        graphs.gcn_backward(p, cache, np.ones((12, 2)))
    with pytest.raises(ValueError, match="X must have 5 columns"):
        graphs.gcn_predict(p, A, X[:, :2])
    with pytest.raises(ValueError, match="X must be finite"):
        graphs.gcn_predict(p, A, np.full((12, 5), np.nan))


def test_bad_gat_input_is_refused(rng):
    A, X, _ = small_problem(rng)
    p = graphs.gat_init(5, 3, rng=rng)
    with pytest.raises(ValueError, match="X must have 12 rows"):
        graphs.gat_layer(A, X[:4], p)
    with pytest.raises(ValueError, match="params\\['W'\\] must have 5 rows"):
        graphs.gat_layer(A, X, graphs.gat_init(4, 3, rng=rng))
    with pytest.raises(ValueError, match="score must be one of"):
        graphs.gat_init(5, 3, score="cosine")
    with pytest.raises(ValueError, match="A must be a square"):
        graphs.gat_layer(sp.csr_array(np.ones((12, 3))), X, p)
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        graphs.gat_layer(A, X, p, negative_slope=-0.1)
    with pytest.raises(ValueError, match="scores must have shape"):
        graphs.edge_softmax(A, np.ones(3))
    _, cache = graphs.gat_layer(A, X, p, return_cache=True)
    with pytest.raises(ValueError, match="dout must have shape"):
        graphs.gat_backward(np.ones((12, 2)), p, cache)


def test_bad_input_to_the_remaining_functions():
    with pytest.raises(ValueError, match="L must be symmetric"):
        graphs.estimate_lmax(np.triu(np.ones((3, 3))))
    with pytest.raises(TypeError, match="rng must be"):
        graphs.estimate_lmax(np.eye(3), rng=1)
    with pytest.raises(ValueError, match="d_in must be a positive"):
        graphs.gat_init(0, 3)
    with pytest.raises(TypeError, match="params must be a dict from gat_init"):
        graphs.gat_layer(np.eye(3), np.ones((3, 2)), {"a_src": 1})
    with pytest.raises(ValueError, match="A must be symmetric"):
        graphs.oversmoothing_distance(np.triu(np.ones((3, 3)), 1), np.ones(3))
    with pytest.raises(ValueError, match="A must be symmetric"):
        graphs.incidence_matrix(np.triu(np.ones((3, 3)), 1))
    with pytest.raises(ValueError, match="lam must be 1-D"):
        graphs.filter_response("heat", np.ones((2, 2)))
    with pytest.raises(ValueError, match="lmax must be > 0"):
        graphs.chebyshev_coefficients(np.exp, 3, 0.0)
    with pytest.raises(ValueError, match="must not be empty"):
        graphs.renormalized_adjacency(np.zeros((0, 0)))


def test_bad_dataset_input_is_refused():
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        datasets.sbm_graph(10, 1)
    with pytest.raises(ValueError, match="n_nodes must be at least"):
        datasets.sbm_graph(3, 4)
    with pytest.raises(ValueError, match="intra_fraction must lie in"):
        datasets.sbm_graph(100, 2, intra_fraction=1.5)
    with pytest.raises(ValueError, match="avg_degree must be > 0"):
        datasets.sbm_graph(100, 2, avg_degree=0)
    with pytest.raises(ValueError, match="n_per_class must be at most"):
        datasets.split_per_class(np.array([0, 0, 1]), 2)
