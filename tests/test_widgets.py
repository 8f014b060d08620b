"""The Explorer base: state, redraw, and the PNG that static renderers show."""

import base64
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest

from lalib.plotting import new_figure
from lalib.widgets import Explorer

ROOT = Path(__file__).resolve().parent.parent
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _line_explorer(calls):
    def draw(slope, label):
        calls.append((slope, label))
        fig, ax = new_figure()
        ax.plot(np.arange(5), slope * np.arange(5), label=label)
        ax.legend()
        return fig

    controls = {"slope": widgets.FloatSlider(value=1.0, min=-2, max=2), "label": widgets.Text(value="y")}
    return Explorer(controls, draw)


def test_first_state_is_drawn_and_is_a_png():
    calls = []
    e = _line_explorer(calls)
    assert calls == [(1.0, "y")]
    assert e.png[:8] == b"\x89PNG\r\n\x1a\n"


def test_moving_a_control_changes_state_and_picture():
    calls = []
    e = _line_explorer(calls)
    before = e.png
    e.controls["slope"].value = -1.5
    assert e.state == {"slope": -1.5, "label": "y"}
    assert e.png != before and len(calls) == 2


def test_set_redraws_once():
    calls = []
    e = _line_explorer(calls)
    e.set(slope=0.5, label="z")
    assert calls[-1] == (0.5, "z") and len(calls) == 2


def test_set_rejects_unknown_controls():
    e = _line_explorer([])
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['colour'\]"):
        e.set(colour="red")


def test_bundle_has_live_view_and_static_png():
    e = _line_explorer([])
    bundle = e._repr_mimebundle_()[0]
    assert WIDGET_MIME in bundle
    assert base64.b64decode(bundle["image/png"]) == e.png


def test_static_png_is_shown_at_the_live_size_with_twice_the_pixels():
    # Static renderers show the still as large as the live picture (metadata), sharp (2x pixels).
    import io

    from matplotlib.image import imread

    e = _line_explorer([])
    bundle, metadata = e._repr_mimebundle_()
    width, height = e.display_size
    assert metadata["image/png"] == {"width": width, "height": height}
    pixels = imread(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert pixels.shape[:2] == (2 * height, 2 * width)


def _widget_notebooks():
    paths = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    return [p for p in paths if WIDGET_MIME in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", _widget_notebooks(), ids=lambda p: p.name)
def test_static_html_shows_a_picture_for_every_widget(path):
    """`jupyter nbconvert --to html` cannot run widgets: it must fall back to the PNG.

    That works because committed notebooks are executed without stored widget
    state (see the Makefile's `notebooks` target), so nbconvert skips the live
    view and renders the `image/png` entry of the explorer's bundle.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state; re-run `make notebooks NB={path}`"
    n_widgets = sum(WIDGET_MIME in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))
    html, _ = HTMLExporter().from_notebook_node(nb)
    pngs_in_widget_cells = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if WIDGET_MIME in out.get("data", {}):
                pngs_in_widget_cells += out["data"]["image/png"][:64].strip() in html
    assert pngs_in_widget_cells == n_widgets


def test_picture_is_rendered_at_twice_the_size_it_is_shown():
    from lalib.widgets import DISPLAY_DPI, HIDPI

    e = _line_explorer([])
    w, h = e.display_size
    assert (w, h) == (round(4.0 * DISPLAY_DPI), round(3.5 * DISPLAY_DPI))  # new_figure's default 4 x 3.5 in
    png = e.png
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (HIDPI * w, HIDPI * h)
    assert (e.image.width, e.image.height) == (str(w), str(h))  # shown at its size, never stretched
    assert e.figure.get_size_inches().tolist() == [4.0, 3.5]


def test_a_control_that_does_not_apply_is_disabled_and_re_enabled():
    def draw(mode, size, other):
        fig, ax = new_figure()
        ax.plot([0, size if mode == "sized" else 1], [0, other])
        return fig

    controls = {"mode": widgets.Dropdown(options=["sized", "plain"], value="plain"),
                "size": widgets.IntSlider(value=1, min=1, max=5), "other": widgets.IntSlider(value=1, min=1, max=5)}
    e = Explorer(controls, draw, applies={"size": lambda st: st["mode"] == "sized"})
    assert controls["size"].disabled and not controls["other"].disabled and not controls["mode"].disabled
    e.controls["mode"].value = "sized"
    assert not controls["size"].disabled
    e.set(mode="plain")
    assert controls["size"].disabled


def test_applies_must_name_controls():
    with pytest.raises(ValueError, match=r"applies names unknown control\(s\) \['colour'\]"):
        Explorer({"slope": widgets.FloatSlider()}, lambda slope: new_figure()[0], applies={"colour": lambda st: True})


def test_explorer_is_marked_for_the_browser_tests():
    e = _line_explorer([])
    assert "lalib-explorer" in e._dom_classes and "lalib-explorer-picture" in e.image._dom_classes
