"""Headless tests of the chapter 0 explorer and figures: move the controls, see the picture change."""

import numpy as np
import pytest

from lalib import plotting, widgets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def explorer():
    return widgets.transformation_explorer()


def test_starts_on_the_shear_preset(explorer):
    assert explorer.state == {"a11": 1.0, "a12": 1.0, "a21": 0.0, "a22": 1.0}
    assert explorer.presets.value == "shear"
    assert explorer.png[:4] == b"\x89PNG"


def test_moving_a_slider_changes_state_and_picture(explorer):
    before_state, before_png = explorer.state, explorer.png
    explorer.controls["a21"].value = 0.7
    assert explorer.state != before_state and explorer.state["a21"] == 0.7
    assert explorer.png != before_png
    assert explorer.presets.value == "custom"  # the matrix is no longer the shear


@pytest.mark.parametrize("name", list(widgets.TRANSFORMATION_PRESETS))
def test_every_preset_sets_the_sliders_and_redraws(explorer, name):
    explorer.set(a11=0.3, a12=-0.4, a21=1.2, a22=0.1)  # a matrix that is none of the presets
    before = explorer.png
    explorer.presets.value = name
    want = np.ravel(widgets.TRANSFORMATION_PRESETS[name])
    np.testing.assert_array_equal([explorer.state[k] for k in ("a11", "a12", "a21", "a22")], want)
    assert explorer.png != before
    assert explorer.presets.value == name  # setting the sliders did not switch the menu to custom


def test_a_preset_redraws_once(monkeypatch, explorer):
    calls = []
    original = explorer.redraw
    monkeypatch.setattr(explorer, "redraw", lambda: (calls.append(1), original())[1])
    explorer.presets.value = "rotation by 30°"
    assert len(calls) == 1


def test_set_several_controls(explorer):
    explorer.set(a11=2.0, a12=0.0, a21=0.0, a22=-0.5)
    assert explorer.state == {"a11": 2.0, "a12": 0.0, "a21": 0.0, "a22": -0.5}


def test_mime_bundle_has_widget_view_and_png(explorer):
    bundle = explorer._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle and "image/png" in bundle
    explorer.presets.value = "reflection across the x-axis"
    import base64

    assert base64.b64decode(explorer._repr_mimebundle_()[0]["image/png"]) == explorer.png


def test_start_from_a_matrix():
    ex = widgets.transformation_explorer([[0.0, -1.0], [1.0, 0.0]])
    assert ex.state == {"a11": 0.0, "a12": -1.0, "a21": 1.0, "a22": 0.0}
    assert ex.presets.value == "custom"


def test_bad_input():
    with pytest.raises(ValueError, match="preset must be one of"):
        widgets.transformation_explorer(preset="spin")
    with pytest.raises(ValueError, match="2x2"):
        widgets.transformation_explorer(np.eye(3))
    with pytest.raises(ValueError, match="2x2"):
        widgets.transformation_explorer([[np.nan, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="2x2"):
        plotting.transformation_figure(np.ones((2, 3)))


def _legend_labels(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_figure_shows_what_the_math_says():
    # a rotation has no real eigenvector; a reflection flips orientation (det < 0)
    rot = plotting.transformation_figure([[0.0, -1.0], [1.0, 0.0]])
    assert not any("eigen-direction" in s for s in _legend_labels(rot))
    assert "complex eigenvalues" in rot.axes[0].get_title()
    refl = plotting.transformation_figure([[1.0, 0.0], [0.0, -1.0]])
    labels = _legend_labels(refl)
    assert any("det = -1.00 (flipped)" in s for s in labels)
    assert sum("eigen-direction" in s for s in labels) == 2
    # a shear is defective: one eigen-direction only
    shear = plotting.transformation_figure([[1.0, 1.0], [0.0, 1.0]])
    assert sum("eigen-direction" in s for s in _legend_labels(shear)) == 1
    # the singular values in the legend are those of numpy
    A = np.array([[1.5, 0.5], [0.3, 0.8]])
    s = np.linalg.svd(A, compute_uv=False)
    labels = _legend_labels(plotting.transformation_figure(A))
    assert any(f"σ1 = {s[0]:.2f}" in t for t in labels) and any(f"σ2 = {s[1]:.2f}" in t for t in labels)


def test_other_chapter0_figures_render():
    figs = [
        plotting.unit_balls_figure(),
        plotting.line_plot(None, {"a": 0.5 ** np.arange(5), "b": (np.arange(3), np.ones(3))}, logy=True),
        plotting.svd_steps_figure([[2.0, 1.0], [0.0, 1.0]]),
        plotting.pca_figure(np.ones((3, 2)), np.zeros(2), np.eye(2), np.ones(2)),
        plotting.loglog_scatter([1.0, 10.0], [1e-16, 1e-15], reference=lambda c: c * 1e-16),
        plotting.histograms({"u": np.linspace(-1, 1, 50)}, density_line=("flat", [-1, 1], [0.5, 0.5])),
    ]
    for fig in figs:
        assert plotting.figure_to_png(fig, dpi=30)[:4] == b"\x89PNG"


def test_plot_does_not_move_when_the_legend_changes_width():
    # different legends: a shear (one eigen-direction), a flip, complex eigenvalues, large entries
    mats = [[[1, 1], [0, 1]], [[1.5, 0], [0, -0.5]], [[0.866, -0.5], [0.5, 0.866]], [[-2, 1.75], [0.5, -1.25]]]
    figs = [plotting.transformation_figure(np.array(A, dtype=float), lim=3.2) for A in mats]
    boxes = {tuple(np.round(f.axes[0].get_position().bounds, 6)) for f in figs}
    sizes = {tuple(f.get_size_inches()) for f in figs}
    assert len(boxes) == 1 and len(sizes) == 1
    from figure_checks import figure_problems

    for f in figs:
        assert figure_problems(f) == []


def test_eigen_directions_have_distinct_colours_and_every_line_is_labelled():
    fig = plotting.transformation_figure(np.array([[2.0, 1.0], [0.5, 1.0]]))
    ax = fig.axes[0]
    eig = [line for line in ax.lines if line.get_label().startswith("eigen-direction")]
    assert len(eig) == 2 and eig[0].get_color() != eig[1].get_color()
    assert "λ1" in eig[0].get_label() and "λ2" in eig[1].get_label()
    unlabelled = [line for line in ax.lines if line.get_label().startswith("_") and line.get_gid() != "zero-axis"]
    assert unlabelled == []
    legend = set(_legend_labels(fig))
    assert {line.get_label() for line in ax.lines if line.get_gid() != "zero-axis"} <= legend
