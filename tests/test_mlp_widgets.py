"""Chapter 2 figures, the spectra explorer (headless) and the exercise checkers."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from lalib import datasets, exercises, mlp, plotting, widgets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def explorer():
    return widgets.mlp_spectra_explorer(sizes=(2, 16, 16, 3), epochs=6, snapshot_every=2, grid=30,
                                        rng=np.random.default_rng(0))


def test_explorer_moves_and_redraws(explorer):
    png0, state0 = explorer.png, explorer.state
    assert png0[:4] == b"\x89PNG"
    explorer.controls["epoch"].value = 0  # it starts trained (the last epoch); slide back to the start
    assert explorer.state != state0 and explorer.png != png0
    png1 = explorer.png
    explorer.set(scale="linear")
    assert explorer.state["scale"] == "linear" and explorer.png != png1
    bundle = explorer._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle and "image/png" in bundle
    explorer.set(epoch=6, scale="log")


def test_explorer_snapshots_are_what_training_gives(explorer):
    # Snapshots at 0, 2, 4, 6; each holds one spectrum per weight matrix, equal to its singular values.
    assert sorted(explorer.snapshots) == [0, 2, 4, 6]
    snap = explorer.snapshots[6]
    assert [s.size for s in snap["spectra"]] == [2, 16, 3]
    assert all(np.all(np.diff(s) <= 0) for s in snap["spectra"])
    assert snap["grid_labels"].shape == (30 * 30,)
    assert snap["loss"] < explorer.snapshots[0]["loss"]


def test_explorer_bad_input():
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        widgets.mlp_spectra_explorer(np.zeros((5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="y must be given"):
        widgets.mlp_spectra_explorer(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="snapshot_every"):
        widgets.mlp_spectra_explorer(snapshot_every=0, rng=np.random.default_rng(0))


def test_chapter2_figures_build(rng):
    X, y = datasets.two_moons(20, rng=rng)
    gx, gy, P = plotting.decision_grid(X, n=10)
    assert P.shape == (100, 2) and gx[0] < X[:, 0].min() and gy[-1] > X[:, 1].max()
    labels = (P[:, 0] > 0.5).astype(int)
    z = np.linspace(-2, 2, 9)
    figs = [
        plotting.decision_regions_figure(X, y, gx, gy, [labels, 1 - labels], ["a", "b"]),
        plotting.activations_figure(z, {"tanh": (np.tanh(z), 1 - np.tanh(z) ** 2)}),
        plotting.training_curves_figure({"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]}),
        plotting.training_curves_figure({"loss": [1.0, 0.5]}),
        plotting.layer_curves_figure({"a": np.ones(5), "b": (np.arange(3), np.ones(3))}, ylabel="v", band=(0.5, 2)),
        plotting.scatter_before_after_figure(P * 2, P),
        plotting.mlp_spectra_figure(X, y, gx, gy, labels, [np.array([3.0, 1.0])], epoch=1, loss=0.5, acc=0.9),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    # Regions are drawn with one colour per predicted class, in grid order.
    img = figs[0].axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(img), labels.reshape(10, 10))


# --- checkers ---------------------------------------------------------------------------

def test_checkers_pass_correct_answers(capsys):
    assert exercises.check_dense_backward(lambda d, X, W: mlp.dense_backward(d, X, W)).passed
    assert exercises.check_softmax_cross_entropy_grad(lambda Z, y: mlp.softmax_cross_entropy(Z, y)[1]).passed

    def bn(dout, Z, gamma):
        _, cache = mlp.batch_norm_forward(Z, gamma, np.zeros_like(gamma))
        return mlp.batch_norm_backward(dout, cache)[0]

    assert exercises.check_batch_norm_backward(bn).passed
    assert capsys.readouterr().out.count("✔") == 3


def test_checkers_reject_wrong_answers_with_a_hint(capsys):
    def stub(*args):
        raise NotImplementedError

    def transpose_bug(d, X, W):
        return d @ W.T, (X.T @ d).T if X.shape[1] == d.shape[1] else d.T @ X, d.sum(axis=0)

    def forgets_mean(Z, y):
        return mlp.softmax(Z) - np.eye(Z.shape[1])[y]

    def naive_exp(Z, y):
        with np.errstate(all="ignore"):
            P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        return (P - np.eye(Z.shape[1])[y]) / len(y)

    def bn_ignores_stats(dout, Z, gamma):
        return dout * gamma / np.sqrt(Z.var(axis=0) + 1e-5)

    results = [
        exercises.check_dense_backward(stub),
        exercises.check_dense_backward(transpose_bug),
        exercises.check_dense_backward(lambda d, X, W: None),
        exercises.check_softmax_cross_entropy_grad(forgets_mean),
        exercises.check_softmax_cross_entropy_grad(naive_exp),
        exercises.check_batch_norm_backward(bn_ignores_stats),
        exercises.check_batch_norm_backward("not a function"),
    ]
    assert not any(r.passed for r in results)
    out = capsys.readouterr().out
    assert out.count("✘") == 7 and "Hint" in out and "not written yet" in out


def test_explorer_starts_at_the_trained_network(explorer):
    fresh = widgets.mlp_spectra_explorer(sizes=(2, 16, 16, 3), epochs=6, snapshot_every=2, grid=30,
                                         rng=np.random.default_rng(0))
    assert fresh.state["epoch"] == 6 == fresh.controls["epoch"].max
    assert "epoch 6:" in fresh.figure.axes[0].get_title()
