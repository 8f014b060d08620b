"""The chapter 4 spectrum explorer, driven headless, and the chapter 4 figures."""

import io

import matplotlib.image
import numpy as np
import pytest

from lalib import datasets, plotting, widgets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def png_size(png):
    h, w = matplotlib.image.imread(io.BytesIO(png), format="png").shape[:2]
    return w, h


@pytest.fixture(scope="module")
def explorer():
    return widgets.spectrum_explorer(rng=np.random.default_rng(0))


def test_explorer_has_its_controls_a_picture_and_fits(explorer):
    assert set(explorer.controls) == {"matrix", "k", "residual"}
    assert explorer.png[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = explorer._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle and "image/png" in bundle
    w, h = explorer.display_size
    assert w <= 960 and h <= 560, (w, h)
    assert png_size(explorer.png) == (2 * w, 2 * h)


def test_moving_the_rank_changes_picture_and_readout(explorer):
    explorer.set(matrix="image (Grace Hopper)", k=10, residual=False)
    before_png, before = explorer.png, dict(explorer.readout)
    explorer.controls["k"].value = 40
    assert explorer.png != before_png
    after = explorer.readout
    assert after["spectral"] < before["spectral"] and after["frobenius"] < before["frobenius"]
    # the readout is measured from A - A_k and equals sigma_{k+1} and the tail energy (Eckart-Young)
    s = np.linalg.svd(datasets.grace_hopper(downsample=2), compute_uv=False)
    for state in (before, after):
        k = (10, 40)[state is after]
        assert np.isclose(state["spectral"], s[k]) and np.isclose(state["sigma_next"], s[k])
        assert np.isclose(state["frobenius"], np.sqrt(np.sum(s[k:] ** 2)))
        assert np.isclose(state["tail"], np.sqrt(np.sum(s[k:] ** 2)))
    assert "rank 40" in explorer.readout_html.value


def test_switching_matrix_limits_the_rank_and_view_changes_picture():
    ex = widgets.spectrum_explorer({"tall": np.random.default_rng(1).normal(size=(30, 12)),
                                    "small": np.random.default_rng(2).normal(size=(6, 5))}, k=10)
    assert ex.controls["k"].max == 12
    before = ex.png
    ex.controls["matrix"].value = "small"
    assert ex.controls["k"].max == 5 and ex.controls["k"].value == 5 and ex.png != before
    assert ex.readout["spectral"] < 1e-10                  # full rank: exact
    ex.controls["k"].value = 2
    png = ex.png
    ex.controls["residual"].value = True
    assert ex.png != png


def test_one_matrix_disables_the_chooser(rng):
    ex = widgets.spectrum_explorer(rng.normal(size=(8, 8)), k=3)
    assert ex.controls["matrix"].disabled and ex.state["k"] == 3


def test_explorer_bad_input():
    with pytest.raises(ValueError, match="at least one matrix"):
        widgets.spectrum_explorer({})
    with pytest.raises(ValueError, match=r"matrices\['v'\] must be 2-D"):
        widgets.spectrum_explorer({"v": np.ones(3)})
    with pytest.raises(ValueError, match="k must be a positive"):
        widgets.spectrum_explorer(np.ones((3, 3)), k=0)


def test_chapter4_figures(rng):
    s = np.linalg.svd(rng.normal(size=(20, 10)), compute_uv=False)
    fig = plotting.rank_tradeoff_figure(s, (20, 10), marks=[3])
    assert len(fig.axes) == 3 and fig.axes[0].get_yscale() == "log"
    fig = plotting.images_figure([np.eye(5), np.ones((5, 5))], ["a", "b"])
    assert len(fig.axes) == 2
    fig = plotting.pca_scores_figure([0.6, 0.3, 0.1], rng.normal(size=(10, 2)), rng.integers(0, 2, 10))
    assert len(fig.axes) == 2


def test_grace_hopper_and_ratings_data():
    img = datasets.grace_hopper()
    assert img.shape == (600, 512) and 0.0 <= img.min() and img.max() <= 1.0
    R, R_true, mask = datasets.low_rank_ratings(30, 20, 3, observed=0.3, noise=0.0, rng=np.random.default_rng(0))
    assert np.linalg.matrix_rank(R_true) == 3 and np.array_equal(R, R_true) and 0.15 < mask.mean() < 0.45
    with pytest.raises(ValueError, match="observed must be"):
        datasets.low_rank_ratings(observed=1.5)
    with pytest.raises(ValueError, match="rank must be at most"):
        datasets.low_rank_ratings(5, 4, 6)
    with pytest.raises(ValueError, match="downsample must be"):
        datasets.grace_hopper(0)
