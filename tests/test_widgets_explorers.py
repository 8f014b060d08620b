"""Every explorer in lalib.widgets, driven headless: size, sharpness, legibility, and honest controls.

Explorers are discovered (public functions of lalib.widgets ending in
``_explorer``) and built with their defaults, so a new explorer is held to the
same rules without editing this file:

* the picture is shown at most 960 × 560 px (so controls and picture fit a
  1280 × 720 window) and rendered at twice that (sharp on a projector and a
  high-density screen), with the ``Image`` widget sized to the shown size;
* its text is at least 10 px high as shown, no two texts collide, none is cut
  off, and no legend covers data (see ``figure_checks``) — in the first state
  and after each control is moved;
* every enabled control changes the picture, and every disabled control would
  not (a control that does not apply is disabled, never silently inert).
"""

import inspect
import math

import ipywidgets
import numpy as np
import pytest

import lalib.widgets
from figure_checks import figure_problems
from lalib.widgets import DISPLAY_DPI, HIDPI

EXPLORERS = sorted(name for name, f in inspect.getmembers(lalib.widgets, inspect.isfunction)
                   if name.endswith("_explorer") and not name.startswith("_") and f.__module__ == "lalib.widgets")
MAX_W, MAX_H = 960, 560


def _png_size(png: bytes):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _other_value(control):
    """A different value a person could set: one step along a slider, the next option, the other state."""
    if isinstance(control, ipywidgets.FloatLogSlider):
        exp = math.log(control.value, control.base)
        new = exp + control.step if exp + control.step <= control.max + 1e-12 else exp - control.step
        return control.base ** new
    if isinstance(control, (ipywidgets.IntSlider, ipywidgets.FloatSlider)):
        step = control.step
        return control.value + step if control.value + step <= control.max else control.value - step
    if isinstance(control, ipywidgets.Dropdown):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return values[(values.index(control.value) + 1) % len(values)]
    if isinstance(control, ipywidgets.Checkbox):
        return not control.value
    raise TypeError(f"no rule to move a {type(control).__name__}")


@pytest.fixture(scope="module", params=EXPLORERS)
def explorer(request):
    return request.param, getattr(lalib.widgets, request.param)()


def test_there_are_explorers():
    assert EXPLORERS


def test_picture_fits_and_is_rendered_at_twice_the_size_shown(explorer):
    name, ex = explorer
    w, h = ex.display_size
    assert w <= MAX_W and h <= MAX_H, f"{name} shows a {w}x{h} px picture; at most {MAX_W}x{MAX_H} fits 1280x720"
    assert _png_size(ex.png) == (HIDPI * w, HIDPI * h), f"{name}: the PNG is not {HIDPI}x the size shown"
    fig_w, fig_h = ex.figure.get_size_inches()
    assert (w, h) == (round(fig_w * DISPLAY_DPI), round(fig_h * DISPLAY_DPI))


def test_first_picture_reads_well(explorer):
    name, ex = explorer
    problems = figure_problems(ex.figure, dpi=DISPLAY_DPI)
    assert not problems, f"{name} in its first state:\n" + "\n".join(problems)


def test_enabled_controls_change_the_picture_and_disabled_ones_would_not(explorer):
    name, ex = explorer
    start = ex.state
    try:
        for cname, control in ex.controls.items():
            before_png, before_state = ex.png, ex.state
            new = _other_value(control)
            control.value = new
            moved = ex.png != before_png
            if control.disabled:
                assert not moved, (f"{name}: '{cname}' is disabled in {before_state}, yet moving it changes the "
                                   "picture")
            else:
                assert moved, (f"{name}: '{cname}' is enabled in {before_state}, but moving it to {new!r} leaves "
                               "the picture unchanged (disable a control that does not apply)")
                problems = figure_problems(ex.figure, dpi=DISPLAY_DPI)
                assert not problems, f"{name} after moving '{cname}' to {new!r}:\n" + "\n".join(problems)
            ex.set(**before_state)
    finally:
        ex.set(**start)
