"""Headless tests of the chapter 1 explorer and figures."""

import numpy as np
import pytest

from lalib import datasets, plotting, widgets
from lalib import embeddings as emb

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def small_data():
    corpus = datasets.synthetic_corpus(30_000, np.random.default_rng(4))
    vocab = emb.build_vocab(corpus.tokens, min_count=1)
    ids = emb.encode(corpus.tokens, vocab)
    M = emb.ppmi(emb.cooccurrence(ids, len(vocab), 2), alpha=0.75)
    words = [vocab.stoi[w] for w in corpus.words if w in vocab.stoi]
    Q = np.array([[vocab.stoi.get(w, 0) for w in q[:4]] for q in corpus.analogies])
    keep = (Q > 0).all(axis=1)
    groups_q = [q[4] for q, k in zip(corpus.analogies, keep) if k]
    return M, vocab.itos, Q[keep], groups_q, words, [corpus.group[vocab.itos[w]] for w in words]


def test_explorer_moves_and_redraws(small_data):
    M, labels, Q, qg, words, groups = small_data
    ex = widgets.embedding_explorer(M, labels, questions=Q, question_groups=qg, words=words,
                                    groups=groups, k_max=30, k_step=10, word="king")
    assert set(ex.controls) == {"word", "k"}
    assert list(ex.ks) == [10, 20, 30] and np.all((ex.accuracy >= 0) & (ex.accuracy <= 1))
    # the precomputed accuracy is the library's accuracy on the truncated SVD
    W = emb.svd_embeddings(M, 30)
    assert ex.accuracy[0] == pytest.approx(emb.analogy_accuracy(W[:, :10], Q))
    state0, png0 = ex.state, ex.png
    ex.controls["word"].value = "queen"
    assert ex.state["word"] == "queen" and ex.png != png0
    png1 = ex.png
    ex.set(k=10)
    assert ex.state == {"word": "queen", "k": 10} and ex.png != png1 and ex.state != state0
    bundle = ex._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle and "image/png" in bundle


def test_explorer_bad_input(small_data):
    M, labels, *_ = small_data
    with pytest.raises(ValueError, match="labels must give one word per row"):
        widgets.embedding_explorer(M, labels[:-1])
    with pytest.raises(ValueError, match="k_max must be at most"):
        widgets.embedding_explorer(M, labels, k_max=M.shape[0])
    with pytest.raises(ValueError, match="k_step must be <= k_max"):
        widgets.embedding_explorer(M, labels, k_max=5, k_step=10)


def test_chapter_figures_are_labelled():
    rng = np.random.default_rng(0)
    figs = [
        plotting.zipf_figure({"a": rng.integers(1, 100, 50)}),
        plotting.matrices_figure([np.eye(3), np.ones((3, 3))], ["C", "PPMI"], labels=list("abc")),
        plotting.line_plot([1, 2, 3], {"acc": [0.1, 0.5, 0.9]}, xlabel="k", ylabel="accuracy", title="t"),
        plotting.embedding_map_figure(rng.normal(size=(4, 2)), list("abcd"), groups=["people"] * 4,
                                      arrows=[(0, 1)], title="map"),
        plotting.pmi_scatter_figure(rng.normal(size=20), rng.normal(size=20)),
        plotting.positions_figure(np.ones((4, 2)), np.ones((4, 4))),
    ]
    for fig in figs:
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                continue
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
