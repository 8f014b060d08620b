"""ipywidgets explorers built on :mod:`lalib.plotting`.

Every explorer is an :class:`Explorer`: a row of controls above a picture. The
picture is a PNG rendered by a pure plotting function from the current values
of the controls, shown in an ``ipywidgets.Image``. Two things follow from that
design:

* the same figure appears live in JupyterLab and, because the explorer puts a
  PNG of its current state in its display bundle, as a still picture on
  GitHub, nbviewer and ``jupyter nbconvert --to html`` (which cannot run
  widgets and fall back to the ``image/png`` entry);
* an explorer can be driven without a browser — set ``explorer.controls[name].value``
  and read ``explorer.state`` and ``explorer.png`` — which is how the tests move it.

One line creates each explorer in a notebook, e.g. ``transformation_explorer()``.
"""

from __future__ import annotations

import base64
import contextlib
from typing import Callable, Mapping

import ipywidgets as widgets
from matplotlib.figure import Figure

from .plotting import figure_to_png

__all__ = ["Explorer"]


class Explorer(widgets.VBox):
    """Controls above a picture that ``draw(**state)`` redraws on every change.

    Parameters
    ----------
    controls : mapping of str to ipywidgets.ValueWidget
        The named controls; their ``value`` traits form :attr:`state`.
    draw : callable
        ``draw(**state) -> matplotlib.figure.Figure``; pure, from plotting.py.
    dpi : int
        Resolution of the rendered PNG (kept modest so notebooks stay small).
    header : ipywidgets.Widget, optional
        Extra widget (e.g. preset buttons) shown above the controls.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], draw: Callable[..., Figure], *,
                 dpi: int = 80, header: widgets.Widget | None = None, columns: int = 3):
        self.controls = dict(controls)
        self._draw = draw
        self._dpi = dpi
        self._holding = False
        self.image = widgets.Image(format="png")
        items = list(self.controls.values())
        rows = [widgets.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
        children = ([header] if header is not None else []) + rows + [self.image]
        super().__init__(children=children)
        for control in items:
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def state(self) -> dict:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    @property
    def png(self) -> bytes:
        """The PNG bytes of the picture as it stands."""
        return self.image.value

    @contextlib.contextmanager
    def hold(self):
        """Change several controls at once and redraw only once, at the end."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            self.redraw()

    def set(self, **values) -> None:
        """Set several controls by name (one redraw)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this explorer has {sorted(self.controls)}")
        with self.hold():
            for name, value in values.items():
                self.controls[name].value = value

    def redraw(self) -> None:
        """Render the figure for the current state into the picture."""
        fig = self._draw(**self.state)
        self.image.value = figure_to_png(fig, dpi=self._dpi)

    def _on_change(self, _change) -> None:
        if not self._holding:
            self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        # The widget view for live front-ends, plus a PNG for static renderers.
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        return data


# Chapter explorers below, one section per chapter.

# --- chapter 0: linear algebra toolkit ---

# --- chapter 1: embeddings ---

# --- chapter 2: MLPs and backpropagation ---

# --- chapter 3: attention and transformers ---
