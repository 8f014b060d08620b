"""The chapter 5 graph spectrum explorer, driven headless, and the chapter 5 figures."""

import io

import networkx as nx
import numpy as np
import pytest
from PIL import Image

from lalib import datasets, graphs, plotting, widgets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def explorer():
    return widgets.graph_spectrum_explorer()


def test_explorer_has_its_controls_and_a_picture_that_fits(explorer):
    assert set(explorer.controls) == {"graph", "laplacian", "k", "filter", "cutoff", "t", "noise"}
    bundle = explorer._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle and "image/png" in bundle
    w, h = explorer.display_size
    assert w <= 960 and h <= 560, (w, h)
    assert Image.open(io.BytesIO(explorer.png)).size == (2 * w, 2 * h)   # sharp on a projector
    # the heat-kernel time does not apply to the first filter (low-pass): disabled, not inert
    assert explorer.state["filter"] == "low-pass" and explorer.controls["t"].disabled
    assert not explorer.controls["cutoff"].disabled


@pytest.mark.parametrize("name, value", [
    ("k", 5), ("laplacian", "combinatorial"), ("cutoff", 0.6), ("noise", 1.5), ("filter", "high-pass"),
    ("filter", "band-pass"), ("filter", "heat kernel"), ("t", 5.0), ("graph", "ring 40"),
    ("graph", "SBM (3 blocks)"), ("graph", "grid 8 × 8"),
])
def test_moving_a_control_changes_state_and_picture(explorer, name, value):
    before_state, before_png = explorer.state, explorer.png
    explorer.controls[name].value = value
    assert explorer.state != before_state and explorer.state[name] == value
    assert explorer.png != before_png


def test_heat_time_enabled_only_for_the_heat_kernel():
    ex = widgets.graph_spectrum_explorer(graph="ring 40")
    ex.controls["filter"].value = "heat kernel"
    assert not ex.controls["t"].disabled and ex.controls["cutoff"].disabled
    ex.controls["filter"].value = "band-pass"
    assert ex.controls["t"].disabled and not ex.controls["cutoff"].disabled


def test_graph_change_resizes_the_eigenvector_slider():
    ex = widgets.graph_spectrum_explorer(graph="ring 40")
    assert ex.controls["k"].max == 40 and ex.controls["k"].min == 1
    ex.controls["graph"].value = "grid 8 × 8"
    assert ex.controls["k"].max == 64


def test_explorer_on_a_graph_passed_in():
    A = graphs.adjacency_matrix(nx.barbell_graph(6, 2))
    ex = widgets.graph_spectrum_explorer(A, k=2)
    assert ex.state["graph"] == "your graph" and ex.controls["k"].max == A.shape[0]
    before = ex.png
    ex.controls["k"].value = 3
    assert ex.png != before
    with pytest.raises(ValueError, match="A must be symmetric"):
        widgets.graph_spectrum_explorer(np.triu(np.ones((4, 4)), 1))
    with pytest.raises(ValueError, match="signal must have shape"):
        widgets.graph_spectrum_explorer(A, signal=np.ones(3))
    with pytest.raises(ValueError, match="graph must be one of"):
        widgets.graph_spectrum_explorer(graph="petersen")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        widgets.graph_spectrum_explorer(k=0)


def test_chapter5_figures_have_labels():
    g = datasets.karate_club()
    pos = plotting.graph_layout(g.A, seed=1)
    fig = plotting.graph_signals_figure(g.A, pos, {"faction": np.where(g.y == 0, 1.0, -1.0)})
    assert fig.axes[0].get_title() == "faction"
    fig = plotting.classes_figure([g.X[:, :2]], g.y, ["X"], class_names=g.class_names)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    assert plotting.graph_layout(g.A, kind="spectral").shape == (34, 2)
