"""The chapter 3 attention explorer, driven headless, and the chapter 3 figures."""

import numpy as np
import pytest

from lalib import attention as att
from lalib import plotting, widgets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def explorer():
    return widgets.attention_explorer(rng=np.random.default_rng(0))


def test_explorer_has_its_controls_and_a_picture(explorer):
    assert set(explorer.controls) == {"layer", "head", "query", "causal", "temperature", "approximation",
                                      "linformer_k", "performer_m"}
    assert explorer.png[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = explorer._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle and "image/png" in bundle


@pytest.mark.parametrize("name, value", [
    ("head", 1), ("layer", 1), ("query", 4), ("causal", True), ("temperature", 0.2),
    ("linformer_k", 2), ("approximation", "Performer"),  # k matters only while a Linformer is shown
])
def test_moving_a_control_changes_state_and_picture(explorer, name, value):
    before_state, before_png = explorer.state, explorer.png
    explorer.controls[name].value = value
    assert explorer.state != before_state
    assert explorer.state[name] == value
    assert explorer.png != before_png


def test_set_several_controls_and_performer_features():
    ex = widgets.attention_explorer(rng=np.random.default_rng(1))
    ex.set(approximation="Performer", performer_m=8)
    png8 = ex.png
    ex.set(performer_m=200)
    assert ex.png != png8 and ex.state["performer_m"] == 200


def test_explorer_with_one_given_layer(rng):
    X = rng.normal(size=(6, 8))
    ex = widgets.attention_explorer(X, att.mha_init(8, 4, rng=rng), n_heads=4, labels=list("abcdef"))
    assert ex.controls["layer"].disabled and ex.controls["head"].max == 3
    before = ex.png
    ex.controls["head"].value = 3
    assert ex.png != before


def test_explorer_bad_input(rng):
    X = rng.normal(size=(6, 8))
    with pytest.raises(ValueError, match="n_heads must divide"):
        widgets.attention_explorer(X, att.mha_init(8, 2, rng=rng), n_heads=3)
    with pytest.raises(ValueError, match="labels"):
        widgets.attention_explorer(X, att.mha_init(8, 2, rng=rng), labels=["a"])
    with pytest.raises(ValueError, match="X must be given"):
        widgets.attention_explorer(params=att.mha_init(8, 2, rng=rng))
    with pytest.raises(ValueError, match="X must be finite"):
        widgets.attention_explorer(np.full((3, 8), np.nan), att.mha_init(8, 2, rng=rng))


def test_chapter3_figures_have_labelled_axes():
    fig = plotting.attention_maps_figure([np.eye(3), np.full((3, 3), 1 / 3)], ["a", "b"], labels=list("xyz"))
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    fig = plotting.scaling_figure([256, 512, 1024], {"full": [1.0, 4.0, 16.0], "linear": [1.0, 2.0, 4.0]})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and ax.get_xlabel()
    assert any("O(n)" in t.get_text() for t in ax.get_legend().get_texts())
    fig = plotting.line_plot([1, 2], {"e": [1.0, 0.5]}, xlabel="k", ylabel="error", logy=True)
    assert fig.axes[0].get_ylabel() == "error"
    fig = plotting.kernel_smoother_figure([0, 1], [0, 1], [0, 0.5, 1], {"h": [0, 0.5, 1]})
    assert fig.axes[0].get_legend() is not None


def test_only_the_chosen_approximations_size_control_is_enabled():
    ex = widgets.attention_explorer(rng=np.random.default_rng(2))
    c = ex.controls
    for approx in ("Linformer (pooled)", "Linformer (Gaussian)"):
        ex.set(approximation=approx)
        assert not c["linformer_k"].disabled and c["performer_m"].disabled
    ex.set(approximation="Performer")
    assert c["linformer_k"].disabled and not c["performer_m"].disabled
    # and the rule is honest: the disabled control really has no effect in that state
    before = ex.png
    c["linformer_k"].value = 2
    assert ex.png == before
    ex.set(approximation="Linformer (pooled)")
    before = ex.png
    c["performer_m"].value = 64
    assert ex.png == before


def test_explorer_picture_is_960x560_with_one_legend_outside_the_panels():
    from figure_checks import figure_problems

    ex = widgets.attention_explorer(rng=np.random.default_rng(0))
    assert ex.display_size == (960, 560)
    assert ex.figure.legends and not any(ax.get_legend() for ax in ex.figure.axes)
    # a query whose row has one dominant weight: the tallest bar must stay clear of the legend
    ex.set(temperature=0.1, query=3)
    assert figure_problems(ex.figure) == []
