"""Chapter 5 exercise checkers: right answers pass, each classic mistake fails with its own hint, stubs do not raise."""

import numpy as np
import scipy.sparse as sp

from lalib import exercises, graphs
from lalib import attention as att


def stub(*args):
    raise NotImplementedError


def degrees(A):
    return np.asarray(A.sum(axis=1)).ravel()


def inv_sqrt(d):
    return np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0.0)


def test_normalized_adjacency_checker(capsys):
    def right(A):
        s = inv_sqrt(degrees(A))
        return sp.diags_array(s) @ A @ sp.diags_array(s)

    assert exercises.check_normalized_adjacency(right).passed
    assert exercises.check_normalized_adjacency(lambda A: right(A).toarray()).passed   # dense is fine too
    capsys.readouterr()

    def one_side(A):  # D^{-1} A
        d = degrees(A)
        return sp.diags_array(np.where(d > 0, 1 / np.where(d > 0, d, 1), 0)) @ A

    assert not exercises.check_normalized_adjacency(one_side).passed
    assert "both sides" in capsys.readouterr().out

    def d_both_sides(A):  # D^{-1} A D^{-1}
        d = degrees(A)
        s = np.where(d > 0, 1 / np.where(d > 0, d, 1), 0)
        return sp.diags_array(s) @ A @ sp.diags_array(s)

    assert not exercises.check_normalized_adjacency(d_both_sides).passed
    assert "D^{-1/2} = diag(1/√d)" in capsys.readouterr().out

    def divides_by_zero(A):
        with np.errstate(divide="ignore"):
            s = 1 / np.sqrt(degrees(A))
        return s[:, None] * A.toarray() * s[None, :]

    with np.errstate(invalid="ignore"):
        assert not exercises.check_normalized_adjacency(divides_by_zero).passed
    assert "Hint" in capsys.readouterr().out
    assert not exercises.check_normalized_adjacency(stub).passed


def test_renormalized_adjacency_checker(capsys):
    assert exercises.check_renormalized_adjacency(graphs.renormalized_adjacency).passed
    capsys.readouterr()

    def no_self_loops(A):
        s = inv_sqrt(degrees(A))
        return s[:, None] * A.toarray() * s[None, :]

    assert not exercises.check_renormalized_adjacency(no_self_loops).passed
    assert "self loops" in capsys.readouterr().out

    def degrees_of_A(A):
        s = inv_sqrt(degrees(A))
        return s[:, None] * (A.toarray() + np.eye(A.shape[0])) * s[None, :]

    assert not exercises.check_renormalized_adjacency(degrees_of_A).passed
    assert "degrees must be those of Ã" in capsys.readouterr().out

    def row_normalized(A):
        At = A.toarray() + np.eye(A.shape[0])
        return At / At.sum(axis=1, keepdims=True)

    assert not exercises.check_renormalized_adjacency(row_normalized).passed
    assert "symmetric" in capsys.readouterr().out
    assert not exercises.check_renormalized_adjacency(stub).passed


def test_chebyshev_filter_checker(capsys):
    assert exercises.check_chebyshev_filter(graphs.chebyshev_filter).passed
    capsys.readouterr()

    def on_L(L, x, c, lmax):
        xs = [x, L @ x]
        for _ in range(2, len(c)):
            xs.append(2 * (L @ xs[-1]) - xs[-2])
        return sum(ck * xk for ck, xk in zip(c, xs))

    assert not exercises.check_chebyshev_filter(on_L).passed
    assert "rescaled" in capsys.readouterr().out

    def powers(L, x, c, lmax):
        y, cur = c[0] * x, x
        for ck in c[1:]:
            cur = 2 / lmax * (L @ cur) - cur
            y = y + ck * cur
        return y

    assert not exercises.check_chebyshev_filter(powers).passed
    assert "T_k = 2" in capsys.readouterr().out
    assert not exercises.check_chebyshev_filter(stub).passed


def test_neighbour_softmax_checker(capsys):
    assert exercises.check_neighbour_softmax(graphs.edge_softmax).passed
    assert exercises.check_neighbour_softmax(lambda A, e: graphs.edge_softmax(A, e).data).passed  # (nnz,) form

    def loop(A, e):  # a plain loop over rows, stable
        out = np.zeros_like(e)
        for i in range(A.shape[0]):
            s = slice(A.indptr[i], A.indptr[i + 1])
            if s.start < s.stop:
                w = np.exp(e[s] - e[s].max())
                out[s] = w / w.sum()
        return out

    assert exercises.check_neighbour_softmax(loop).passed
    capsys.readouterr()

    def dense_over_all_nodes(A, e):
        E = sp.csr_array((e, A.indices, A.indptr), shape=A.shape).toarray()
        return att.softmax(E)

    assert not exercises.check_neighbour_softmax(dense_over_all_nodes).passed
    assert "all n nodes" in capsys.readouterr().out

    def unstable(A, e):
        out = np.zeros_like(e)
        for i in range(A.shape[0]):
            s = slice(A.indptr[i], A.indptr[i + 1])
            w = np.exp(e[s])
            out[s] = w / w.sum()
        return out

    with np.errstate(over="ignore", invalid="ignore"):
        assert not exercises.check_neighbour_softmax(unstable).passed
    assert "s.max()" in capsys.readouterr().out
    assert not exercises.check_neighbour_softmax(stub).passed
