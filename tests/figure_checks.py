"""Checks that a matplotlib figure reads well at the size it is shown (shared by the explorer tests).

``figure_problems(fig)`` returns readable problem lines (empty when the figure is fine):

* text smaller than ``min_px`` CSS pixels when the figure is shown at ``dpi`` pixels per inch;
* two texts that overlap (tick labels, titles, axis labels, annotations, legend entries);
* text cut off at the edge of the figure;
* a legend drawn over data: a line's points, a bar, a scatter point, or an image.
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text


def _texts(fig):
    """Every text the figure draws (visible, non-empty), tick labels only for ticks in view."""
    tick_labels = set()
    shown = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_ticklabels(which="both")  # brings the ticks up to date
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update((id(tick.label1), id(tick.label2)))
                loc = tick.get_loc()
                if loc is not None and lo - span <= loc <= hi + span:  # a tick outside the view is not drawn
                    shown += [lab for lab in (tick.label1, tick.label2) if lab.get_visible()]
    others = [t for t in fig.findobj(Text) if id(t) not in tick_labels]
    return [t for t in shown + others if t.get_visible() and t.get_text().strip()]


def _describe(t):
    where = f" in '{t.axes.get_title() or t.axes.get_label()}'" if t.axes is not None else ""
    return f"{t.get_text()!r}{where}"


def _overlap(a, b, tol=1.0):
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w > tol and h > tol


def figure_problems(fig, *, dpi=100, min_px=10.0):
    FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    texts = _texts(fig)
    frame = fig.bbox
    boxes = []
    for t in texts:
        px = t.get_fontsize() * dpi / 72
        if px < min_px - 1e-6:
            problems.append(f"text {_describe(t)} is {px:.1f} px high; at least {min_px:g} px reads on a projector")
        if hasattr(t, "update_positions"):
            t.update_positions(renderer)
        box = Text.get_window_extent(t, renderer)  # an annotation's words, without its arrow
        boxes.append(box)
        if box.x0 < frame.x0 - 1 or box.y0 < frame.y0 - 1 or box.x1 > frame.x1 + 1 or box.y1 > frame.y1 + 1:
            problems.append(f"text {_describe(t)} is cut off at the edge of the figure")
    for (t1, b1), (t2, b2) in itertools.combinations(zip(texts, boxes), 2):
        if _overlap(b1, b2):
            problems.append(f"texts {_describe(t1)} and {_describe(t2)} overlap")

    legends = [leg for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends) if leg is not None]
    for leg in legends:
        lb = leg.get_window_extent(renderer)
        for ax in fig.axes:
            clip = ax.get_window_extent(renderer)
            inside = lambda pts: (pts[:, 0] > lb.x0) & (pts[:, 0] < lb.x1) & (pts[:, 1] > lb.y0) & (pts[:, 1] < lb.y1) \
                & (pts[:, 0] >= clip.x0) & (pts[:, 0] <= clip.x1) & (pts[:, 1] >= clip.y0) & (pts[:, 1] <= clip.y1)
            for line in ax.lines:
                xy = line.get_xydata()
                if not line.get_visible() or len(xy) == 0 or line.get_gid() == "zero-axis":
                    continue
                pts = line.get_transform().transform(np.asarray(xy, dtype=float))
                if np.any(inside(pts[np.all(np.isfinite(pts), axis=1)])):
                    problems.append(f"legend covers the line {line.get_label()!r} in '{ax.get_title()}'")
            for patch in ax.patches:
                if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_height() != 0:
                    pb = patch.get_window_extent(renderer)
                    if _overlap(pb, lb) and _overlap(pb, clip):
                        problems.append(f"legend covers a bar in '{ax.get_title()}'")
                        break
            for coll in ax.collections:
                offs = coll.get_offsets()
                if len(offs) and coll.get_visible():
                    pts = coll.get_offset_transform().transform(np.asarray(offs, dtype=float))
                    if np.any(inside(pts)):
                        problems.append(f"legend covers scatter points in '{ax.get_title()}'")
            for im in ax.get_images():
                if isinstance(im, AxesImage) and _overlap(im.get_window_extent(renderer), lb):
                    problems.append(f"legend covers the image in '{ax.get_title()}'")
    return problems
