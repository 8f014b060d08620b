"""The chapter 1 checkers: right answers pass, common mistakes fail, stubs do not crash."""

import numpy as np
import scipy.sparse as sp

from lalib import embeddings as emb
from lalib import exercises


def stub(*args):
    raise NotImplementedError


def test_cooccurrence_checker():
    assert exercises.check_cooccurrence(lambda ids, V, w: emb.cooccurrence(ids, V, w)).passed
    assert exercises.check_cooccurrence(lambda ids, V, w: sp.csr_array(emb.cooccurrence(ids, V, w))).passed

    def one_direction(ids, V, w):  # forgets the pairs read right to left
        C = np.zeros((V, V))
        for o in range(1, w + 1):
            np.add.at(C, (ids[:-o], ids[o:]), 1)
        return C

    assert not exercises.check_cooccurrence(one_direction).passed
    assert not exercises.check_cooccurrence(stub).passed


def test_ppmi_checker():
    assert exercises.check_ppmi(emb.ppmi).passed
    assert not exercises.check_ppmi(lambda C: emb.pmi_dense(C).clip(min=-1)).passed  # not clipped at 0
    assert not exercises.check_ppmi(lambda C: None).passed
    assert not exercises.check_ppmi(stub).passed


def test_analogy_checker():
    assert exercises.check_analogy(lambda E, a, b, c: int(emb.analogy(E, a, b, c)[0])).passed

    def no_exclusion(E, a, b, c):
        En = E / np.linalg.norm(E, axis=1, keepdims=True)
        return int(np.argmax(En @ (En[b] - En[a] + En[c])))

    def unnormalized(E, a, b, c):
        s = E @ (E[b] - E[a] + E[c])
        s[[a, b, c]] = -np.inf
        return int(np.argmax(s))

    assert not exercises.check_analogy(no_exclusion).passed
    assert not exercises.check_analogy(unnormalized).passed
    assert not exercises.check_analogy(stub).passed


def test_rope_checker():
    assert exercises.check_rope(emb.rope).passed

    def wrong_sign(X):  # rotates the other way
        return emb.rope(X, positions=-np.arange(X.shape[0]))

    assert not exercises.check_rope(wrong_sign).passed
    assert not exercises.check_rope(lambda X: X).passed
    assert not exercises.check_rope(stub).passed
