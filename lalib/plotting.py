"""Matplotlib figures for the chapters: data in, ``Figure`` out.

Every function here is pure: it takes arrays, builds a new
``matplotlib.figure.Figure`` (not through ``pyplot``, so nothing accumulates in
a global figure list while a widget redraws) and returns it. A notebook shows
the returned figure by leaving it as the last expression of a cell.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

__all__ = ["new_figure", "figure_to_png", "heatmap"]


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.0, height: float = 3.5, **subplot_kw):
    """A fresh ``Figure`` with a grid of axes, ``(fig, axes)`` like ``plt.subplots``.

    ``width`` and ``height`` are per panel, in inches.

    Examples
    --------
    >>> fig, ax = new_figure()
    """
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, subplot_kw=subplot_kw or None)
    return fig, axes


def figure_to_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a figure to PNG bytes (used by the widgets and their static pictures).

    Examples
    --------
    >>> fig, ax = new_figure(); figure_to_png(fig)[:4]
    b'\\x89PNG'
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def heatmap(ax, M, *, xlabels=None, ylabels=None, title="", cmap="viridis", vmin=None, vmax=None,
            colorbar=True, xlabel="", ylabel=""):
    """Draw matrix ``M`` as an image on ``ax``, with optional tick labels; returns the image.

    Examples
    --------
    >>> fig, ax = new_figure(); im = heatmap(ax, np.eye(3), title="I")
    """
    M = np.asarray(M)
    im = ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), labels=list(xlabels), rotation=90, fontsize=8)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), labels=list(ylabels), fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return im


# Chapter figures below, one section per chapter.

# --- chapter 0: linear algebra toolkit ---

# --- chapter 1: embeddings ---

# --- chapter 2: MLPs and backpropagation ---

# --- chapter 3: attention and transformers ---
