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

__all__ = ["new_figure", "figure_to_png", "heatmap", "line_plot"]


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


def line_plot(x, curves, *, xlabel="", ylabel="", title="", logx=False, logy=False, styles=None,
              hline=None, marks=None, ylim=None, width=5.0, height=3.5):
    """Several labelled curves on one axes, with a legend and a light grid.

    The one function behind every plain curve plot of the chapters:
    convergence and spectra (chapter 0), accuracy and loss (chapter 1),
    errors against a size (chapter 3).

    Parameters
    ----------
    x : (n,) array_like or None
        The x shared by the curves; ``None`` means the index ``0, 1, ..., len(y) - 1``.
    curves : mapping of label -> y, or label -> (x, y)
        One curve per label. A ``tuple`` ``(x, y)`` gives that curve its own x.
    xlabel, ylabel, title : str
    logx, logy : bool
        Log scale on that axis (errors, spectra and powers like ``0.8^k`` span decades).
    styles : mapping of label -> str or dict, optional
        A matplotlib format string such as ``"k:"``, or a dict of line keywords
        such as ``{"ls": "--", "color": "0.5"}``. Without one, a short curve
        (under 40 points) is drawn ``"o-"`` so its samples show, a long one ``"-"``.
    hline : (value, label), optional
        A dashed horizontal reference line, e.g. a tolerance or a uniform weight.
    marks : sequence of float, optional
        x positions marked by vertical dotted lines, e.g. a chosen dimension.
    ylim : (low, high), optional
    width, height : float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> k = np.arange(20)
    >>> fig = line_plot(None, {"error": 0.5 ** k, "bound": (k, 0.6 ** k)}, logy=True,
    ...                 styles={"bound": "k:"}, xlabel="iteration k", ylabel="error")
    >>> fig.axes[0].get_yscale()
    'log'
    """
    fig, ax = new_figure(width=width, height=height)
    styles = styles or {}
    for label, data in curves.items():
        if isinstance(data, tuple):
            cx, y = np.asarray(data[0]), np.asarray(data[1])
        else:
            y = np.asarray(data)
            cx = np.arange(y.size) if x is None else np.asarray(x)
        style = styles.get(label, "o-" if y.size < 40 else "-")
        if isinstance(style, dict):  # keywords alone: a format string too would set the line style twice
            ax.plot(cx, y, label=label, **style)
        else:
            ax.plot(cx, y, style, label=label, ms=4)
    if hline is not None:
        value, hlabel = hline
        ax.axhline(value, color="0.5", ls="--", lw=1, label=hlabel)
    for m in marks or []:
        ax.axvline(m, color="0.5", ls=":", lw=1)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)  # minor lines help read a log axis over a few decades
    ax.legend(fontsize=8)
    return fig


# Chapter figures below, one section per chapter.

# --- chapter 0: linear algebra toolkit ---

def _draw_arrow(ax, vec, color, label=None, lw=2.0):
    ax.annotate("", xy=(vec[0], vec[1]), xytext=(0.0, 0.0),
                arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, shrinkA=0, shrinkB=0))
    if label is not None:  # an invisible line so the arrow gets a legend entry
        ax.plot([], [], color=color, lw=lw, label=label)


def transformation_figure(A, *, lim=None, title=None):
    """The picture of a 2×2 matrix as a linear map (chapter 0).

    Draws the unit circle and its image (an ellipse with semi-axes
    :math:`\\sigma_1 u_1, \\sigma_2 u_2`), the unit square and its image (a
    parallelogram whose signed area is :math:`\\det A`; orange when the map
    flips orientation), the scaled left singular vectors :math:`\\sigma_i u_i`
    with the right singular vectors :math:`v_i` they come from, and the real
    eigenvector directions when they exist (:math:`A x = \\lambda x` keeps
    those lines fixed), each in its own colour.

    The axes sit at a fixed place in a 7.6 × 4.6 inch figure and the legend
    is outside them, so the plot does not move when the legend's text changes
    width as the matrix changes.

    Parameters
    ----------
    A : (2, 2) array_like
    lim : float, optional
        Half-width of the square view; by default it fits the picture (at least 2).

    Examples
    --------
    >>> fig = transformation_figure([[2.0, 1.0], [0.0, 1.0]])
    """
    A = np.asarray(A, dtype=float)
    if A.shape != (2, 2) or not np.all(np.isfinite(A)):
        raise ValueError(f"A must be a finite 2x2 matrix; got shape {A.shape}")
    width, height = 7.6, 4.6
    fig = Figure(figsize=(width, height))
    # Fixed axes rectangle (inches converted to figure fractions): no layout engine moves it.
    left, bottom, side = 0.6, 0.5, 3.5
    ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
    theta = np.linspace(0.0, 2 * np.pi, 241)
    circle = np.vstack([np.cos(theta), np.sin(theta)])
    ellipse = A @ circle
    square = np.array([[0, 1, 1, 0, 0], [0, 0, 1, 1, 0]], dtype=float)
    image = A @ square
    det = float(np.linalg.det(A))
    det = 0.0 if abs(det) < 1e-12 else det  # print a singular matrix's det as +0.00, not -0.00
    U, s, Vt = np.linalg.svd(A)

    ax.plot(*circle, color="0.6", ls="--", lw=1, label="unit circle")
    ax.fill(*square, color="0.85", alpha=0.5, label="unit square (area 1)")
    flip = det < 0
    ax.fill(*image, color="tab:orange" if flip else "tab:blue", alpha=0.25,
            label=f"image of square: det = {det:+.2f}" + (" (flipped)" if flip else ""))
    ax.plot(*ellipse, color="tab:blue", lw=2, label="image of circle A·x")
    for i, color in enumerate(("tab:red", "tab:purple")):
        _draw_arrow(ax, s[i] * U[:, i], color, label=f"σ{i + 1}·u{i + 1}, σ{i + 1} = {s[i]:.2f}")
        ax.plot(*np.c_[[0, 0], Vt[i]], color=color, lw=1.2, ls=":",
                label=f"v{i + 1} (A·v{i + 1} = σ{i + 1}·u{i + 1})")

    eigvals, eigvecs = np.linalg.eig(A)
    extent = max(2.0, 1.15 * float(np.max(np.abs(np.c_[ellipse, image]))))
    lim = extent if lim is None else float(lim)
    if np.all(np.abs(eigvals.imag) < 1e-12):
        drawn = []
        styles = (("tab:green", "-."), ("tab:brown", (0, (6, 2))))
        for i, (lam, v) in enumerate(zip(eigvals.real, eigvecs.real.T)):
            if any(abs(abs(v @ w) - 1.0) < 1e-8 for w in drawn):
                continue  # a defective matrix (e.g. a shear) has one eigen-direction
            drawn.append(v)
            color, ls = styles[len(drawn) - 1]
            ax.plot(*np.c_[-2 * lim * v, 2 * lim * v], color=color, lw=1.4, ls=ls,
                    label=f"eigen-direction {i + 1}: λ{i + 1} = {lam:.2f}")
        if len(drawn) == 1 and eigvals.size == 2:
            ax.plot([], [], " ", label=f"(λ2 = {eigvals.real[1]:.2f} has the same line: defective)")
        eig_text = "real eigenvalues " + ", ".join(f"{lam:.2f}" for lam in eigvals.real)
    else:
        eig_text = f"complex eigenvalues {eigvals[0].real:.2f} ± {abs(eigvals[0].imag):.2f}i (no real eigenvector)"

    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal", adjustable="box")
    ax.axhline(0, color="0.8", lw=0.6, gid="zero-axis", label="_nolegend_")
    ax.axvline(0, color="0.8", lw=0.6, gid="zero-axis", label="_nolegend_")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"A = [[{A[0, 0]:.2f}, {A[0, 1]:.2f}], [{A[1, 0]:.2f}, {A[1, 1]:.2f}]]\n{eig_text}",
                 fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.04, 1.0), fontsize=8, frameon=False, borderaxespad=0.0)
    return fig


def unit_balls_figure(ords=(1, 2, np.inf)):
    """The unit balls :math:`\\{x : \\|x\\|_p \\le 1\\}` in the plane, one outline per norm (chapter 0).

    Each boundary point is a direction :math:`d` divided by its norm,
    :math:`d / \\|d\\|_p`, computed with :func:`lalib.linalg.vector_norm`.

    Examples
    --------
    >>> fig = unit_balls_figure()
    """
    from .linalg import vector_norm

    theta = np.linspace(0.0, 2 * np.pi, 721)
    D = np.column_stack([np.cos(theta), np.sin(theta)])
    fig, ax = new_figure(width=5.0, height=3.4)  # fits a 720-px slide under its caption, x-axis included
    for p in ords:
        B = D / vector_norm(D, p)[:, None]
        sub = "\\infty" if p == np.inf else str(p)
        ax.plot(B[:, 0], B[:, 1], lw=2, label=f"$\\|x\\|_{{{sub}}} = 1$")
    ax.set_aspect("equal")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("unit balls of the 1-, 2- and ∞-norms")
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)  # off the outlines
    return fig


def svd_steps_figure(A):
    """The SVD :math:`A = U\\Sigma V^T` as rotate – stretch – rotate, in four panels (chapter 0).

    The unit circle (with :math:`v_1, v_2`) is rotated by :math:`V^T` onto the
    axes, stretched by :math:`\\Sigma` into an axis-aligned ellipse, and rotated
    by :math:`U` into the image :math:`A\\cdot` circle.

    Examples
    --------
    >>> fig = svd_steps_figure([[2.0, 1.0], [0.0, 1.0]])
    """
    A = np.asarray(A, dtype=float)
    U, s, Vt = np.linalg.svd(A)
    theta = np.linspace(0.0, 2 * np.pi, 241)
    C = np.vstack([np.cos(theta), np.sin(theta)])
    stages = [
        ("x on the unit circle", np.eye(2), Vt.T),
        ("$V^T x$: rotate (or reflect)", Vt, np.eye(2)),
        ("$\\Sigma V^T x$: stretch the axes", np.diag(s) @ Vt, np.diag(s)),
        ("$U \\Sigma V^T x = A x$: rotate", A, U * s),
    ]
    fig, axes = new_figure(4, 1, width=2.7, height=2.9)
    lim = 1.15 * max(1.0, s[0])
    for ax, (title, M, arrows) in zip(axes, stages):
        P = M @ C
        ax.plot(*P, color="tab:blue", lw=1.8)
        ax.plot(*(M @ np.c_[[0, 0], [1, 0]]), color="0.5", lw=0.8)  # where e1 goes: shows the rotation
        for i, color in enumerate(("tab:red", "tab:purple")):
            _draw_arrow(ax, arrows[:, i], color, label=(f"image of v{i + 1}" if ax is axes[0] else None))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    axes[0].legend(fontsize=7, loc="lower left")
    return fig


def pca_figure(X, mean, components, stds, *, title="PCA: principal directions of a point cloud"):
    """2-D data with its principal directions drawn from the mean, length = 2 standard deviations (chapter 0).

    Parameters
    ----------
    X : (n, 2) array
    mean : (2,) array
    components : (2, 2) array, one principal direction per row
    stds : (2,) array, the standard deviation along each direction

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((50, 2))
    >>> fig = pca_figure(X, X.mean(0), np.eye(2), X.std(0))
    """
    X = np.asarray(X)
    fig, ax = new_figure(width=4.6, height=4.0)
    ax.scatter(X[:, 0], X[:, 1], s=8, alpha=0.5, color="0.4", label="data $x_i$")
    for i, color in enumerate(("tab:red", "tab:purple")):
        end = mean + 2 * stds[i] * components[i]
        ax.annotate("", xy=tuple(end), xytext=tuple(mean),
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=2.5))
        ax.plot([], [], color=color, lw=2.5, label=f"PC{i + 1}: 2·std = {2 * stds[i]:.2f}")
    ax.set_aspect("equal")
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def loglog_scatter(x, y, *, reference=None, xlabel="", ylabel="", title="", label="measured"):
    """Points on log–log axes, with an optional reference line ``y = reference(x)`` (chapter 0: conditioning).

    Examples
    --------
    >>> fig = loglog_scatter([1e2, 1e4], [1e-14, 1e-12], reference=lambda c: c * 2.2e-16)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig, ax = new_figure(width=4.8, height=3.6)
    ax.loglog(x, y, "o", label=label)
    if reference is not None:
        xs = np.geomspace(x.min(), x.max(), 50)
        ax.loglog(xs, reference(xs), "--", color="0.4", label="cond(A) · eps")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def histograms(samples, *, bins=30, xlabel="", title="", density_line=None):
    """Overlaid density histograms, one per labelled sample, with an optional density curve (chapter 0).

    Parameters
    ----------
    samples : mapping of label -> (n,) array
    density_line : (label, x, y), optional
        A reference density to draw over the histograms.

    Examples
    --------
    >>> fig = histograms({"u": np.random.default_rng(0).uniform(-1, 1, 100)})
    """
    fig, ax = new_figure(width=4.8, height=3.4)
    for label, data in samples.items():
        ax.hist(np.asarray(data), bins=bins, density=True, alpha=0.5, label=label)
    if density_line is not None:
        label, x, y = density_line
        ax.plot(x, y, "k--", lw=1.5, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


# --- chapter 1: embeddings ---

_CH1_GROUP_COLORS = {"people": "tab:red", "places": "tab:blue", "verbs": "tab:green", "other": "0.6"}


def zipf_figure(counts, *, title="word frequencies in the corpus"):
    """Rank–frequency plot on log–log axes (Zipf's law), one line per labelled count array.

    ``counts`` is an array, or a dict label → array of token counts.

    Examples
    --------
    >>> fig = zipf_figure(np.array([50, 20, 10, 5]))
    """
    series = counts if isinstance(counts, dict) else {"tokens": counts}
    fig, ax = new_figure(width=4.6, height=3.2)
    for label, c in series.items():
        c = np.sort(np.asarray(c, dtype=float))[::-1]
        c = c[c > 0]
        ax.loglog(np.arange(1, c.size + 1), c, ".", ms=3, label=label)
    ax.set_xlabel("rank of the token")
    ax.set_ylabel("count")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def matrices_figure(mats, titles, *, labels=None, xlabels=None, ylabels=None, width=3.6, cmap="viridis",
                    suptitle="", xlabel="context word j", ylabel="word i", vmin=None, vmax=None):
    """Several matrices side by side as heatmaps with shared tick labels.

    ``labels`` labels both axes (square matrices); ``xlabels`` / ``ylabels`` override one axis.

    Examples
    --------
    >>> fig = matrices_figure([np.eye(3), np.ones((3, 3))], ["I", "ones"], labels=list("abc"))
    """
    fig, axes = new_figure(len(mats), width=width, height=width * 0.9)
    axes = np.atleast_1d(axes)
    for ax, M, t in zip(axes, mats, titles):
        heatmap(ax, M, xlabels=labels if xlabels is None else xlabels,
                ylabels=labels if ylabels is None else ylabels, title=t, cmap=cmap, xlabel=xlabel, ylabel=ylabel,
                vmin=vmin, vmax=vmax)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _ch1_scatter_words(ax, Y, labels, groups, *, annotate=True, fontsize=7):
    groups = list(groups) if groups is not None else ["other"] * len(labels)
    for g in dict.fromkeys(groups):
        sel = [i for i, gi in enumerate(groups) if gi == g]
        ax.scatter(Y[sel, 0], Y[sel, 1], s=12, color=_CH1_GROUP_COLORS.get(g, "0.4"), label=g, alpha=0.8)
    if annotate:
        for i, w in enumerate(labels):
            ax.annotate(w, Y[i], fontsize=fontsize, xytext=(2, 2), textcoords="offset points")


def embedding_map_figure(Y, labels, *, groups=None, arrows=(), title="", xlabel="PC 1", ylabel="PC 2",
                         annotate=True):
    """Words at their 2-D coordinates ``Y`` (n, 2), coloured by group; arrows ``(i, j)`` from word i to j.

    Parallel arrows of equal length are the picture of an analogy: b − a ≈ d − c.

    Examples
    --------
    >>> fig = embedding_map_figure(np.eye(2), ["a", "b"], arrows=[(0, 1)])
    """
    Y = np.asarray(Y, dtype=float)
    fig, ax = new_figure(width=5.0, height=4.2)
    _ch1_scatter_words(ax, Y, labels, groups, annotate=annotate)
    for i, j in arrows:
        ax.annotate("", xy=Y[j], xytext=Y[i],
                    arrowprops=dict(arrowstyle="->", color="0.3", lw=1.0, shrinkA=2, shrinkB=2))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if groups is not None:
        ax.legend(fontsize=8, loc="best")
    return fig


def pmi_scatter_figure(target, scores, *, title="skip-gram scores against shifted PMI",
                       xlabel=r"$\mathrm{PMI}_{ij} - \log K$", ylabel=r"$w_i^T c_j$"):
    """Scatter of SGNS scores against the shifted PMI, with the line y = x.

    Examples
    --------
    >>> fig = pmi_scatter_figure(np.arange(3.0), np.arange(3.0))
    """
    target, scores = np.asarray(target, float), np.asarray(scores, float)
    fig, ax = new_figure(width=4.4, height=3.2)
    ax.scatter(target, scores, s=4, alpha=0.35, label="frequent pairs (i, j)")
    lo, hi = min(target.min(), scores.min()), max(target.max(), scores.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def positions_figure(PE, G, *, title_pe="sinusoidal encodings PE", title_g=r"$\langle PE(p), PE(p')\rangle$"):
    """Two panels: the encoding matrix (positions × dimensions) and its Gram matrix (Toeplitz).

    Examples
    --------
    >>> PE = np.ones((4, 2)); fig = positions_figure(PE, PE @ PE.T)
    """
    fig, axes = new_figure(2, width=4.0, height=3.4)
    heatmap(axes[0], PE, title=title_pe, cmap="RdBu_r", vmin=-1, vmax=1, xlabel="dimension", ylabel="position p")
    heatmap(axes[1], G, title=title_g, cmap="viridis", xlabel="position p'", ylabel="position p")
    return fig


def _freeze_layout(fig):
    """Run the figure's layout engine once and fix the result, so text can be placed by its drawn size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return fig.canvas.get_renderer()


def _place_labels(ax, renderer, points, texts, *, fontsize=8, avoid=(), styles=None):
    """Annotate ``points`` with ``texts`` so that no two labels (nor a label and a marked point) overlap.

    Greedy, in the order given: each label tries eight positions around its
    point (right, above, left, below, then the corners) at five distances (the
    far ones joined to the point by a thin leader line) and
    takes the first that overlaps nothing already placed and stays inside the
    axes; if none is free, the one with the least overlap. ``avoid`` are
    display-space boxes to keep clear; ``styles`` per-label text keywords
    (e.g. ``{"weight": "bold", "fontsize": 10}``). Returns the annotations.
    """
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    inside = ax.get_window_extent(renderer)
    placed = [b for b in avoid]
    for xy in points:  # the markers themselves, a few pixels each
        x, y = ax.transData.transform(xy)
        placed.append(Bbox([[x - 3, y - 3], [x + 3, y + 3]]))
    candidates = [(ha, va, sx * gap, sy * gap) for gap in (3.0, 9.0, 16.0, 26.0, 38.0) for ha, va, sx, sy in (
        ("left", "center", 1, 0), ("center", "bottom", 0, 1), ("right", "center", -1, 0), ("center", "top", 0, -1),
        ("left", "bottom", 1, 1), ("right", "bottom", -1, 1), ("left", "top", 1, -1), ("right", "top", -1, -1))]
    out = []
    for xy, text, style in zip(points, texts, styles or [{}] * len(texts)):
        best, best_cost = None, np.inf
        for ha, va, dx, dy in candidates:
            leader = dict(arrowstyle="-", color="0.6", lw=0.6, shrinkA=0, shrinkB=2) if abs(dx) + abs(dy) > 20 else None
            ann = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                              arrowprops=leader, **{"fontsize": fontsize, **style})
            ann.update_positions(renderer)
            box = Text.get_window_extent(ann, renderer)  # the words alone, without the leader line
            cost = sum(max(0.0, min(box.x1, b.x1) - max(box.x0, b.x0)) * max(0.0, min(box.y1, b.y1) - max(box.y0, b.y0))
                       for b in placed)
            cost += 1e3 * (box.x0 < inside.x0 or box.x1 > inside.x1 or box.y0 < inside.y0 or box.y1 > inside.y1)
            if cost < best_cost:
                if best is not None:
                    best.remove()
                best, best_cost, best_box = ann, cost, box
            else:
                ann.remove()
            if cost == 0:
                break
        placed.append(best_box)
        out.append(best)
    return out


def embedding_explorer_figure(Y, labels, groups, word, neighbors, sims, ks, accuracy, k, *, acc_groups=None):
    """The chapter 1 explorer's picture: the 2-D map with a word and its neighbours, their
    cosine similarities, and analogy accuracy against the embedding dimension k.

    A 9.6 × 4.0 inch figure (960 × 400 px as the explorer shows it). The
    neighbours' names on the map are placed so that they do not overlap; the
    accuracy legend sits below its panel, clear of the curves.

    Parameters
    ----------
    Y : (n, 2) coordinates of the words in the map
    labels, groups : the n words and their groups
    word : int index of the chosen word; neighbors : (m,) indices; sims : (m,) cosines
    ks : (K,) dimensions; accuracy : (K,) overall accuracy (and dict ``acc_groups`` of per-group curves)
    k : the current dimension

    Examples
    --------
    >>> fig = embedding_explorer_figure(np.eye(3)[:, :2], list("abc"), ["people"] * 3, 0, [1], [0.5],
    ...                                 [1, 2], [0.1, 0.2], 2)
    """
    Y = np.asarray(Y, dtype=float)
    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[1.15, 0.85, 1.0])
    ax = axes[0]
    color = _CH1_GROUP_COLORS.get(groups[word], "0.4")
    ax.scatter(Y[:, 0], Y[:, 1], s=12, color=color, alpha=0.5)
    for j in neighbors:
        ax.plot(*zip(Y[word], Y[j]), color="0.55", lw=0.8)
    ax.scatter(Y[neighbors, 0], Y[neighbors, 1], s=16, color=color)
    ax.scatter(*Y[word], s=120, facecolors="none", edgecolors="k", lw=1.5)
    pad = 0.12 * max(float(np.ptp(Y[:, 0])), float(np.ptp(Y[:, 1])), 1e-12)
    ax.set_xlim(Y[:, 0].min() - pad, Y[:, 0].max() + pad)
    ax.set_ylim(Y[:, 1].min() - pad, Y[:, 1].max() + pad)
    ax.set_title(f"'{labels[word]}' among the {groups[word]} (PCA map, k = {k})", fontsize=9)
    ax.set_xlabel("PC 1", fontsize=9)
    ax.set_ylabel("PC 2", fontsize=9)
    ax.tick_params(labelsize=8)
    ax = axes[1]
    order = np.arange(len(neighbors))[::-1]
    ax.barh(order, sims, color=[_CH1_GROUP_COLORS.get(groups[j], "0.5") for j in neighbors])
    ax.set_yticks(order, labels=[labels[j] for j in neighbors], fontsize=8)
    ax.set_xlim(min(0.0, float(np.min(sims))), 1.0)
    ax.set_xlabel("cosine similarity", fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(f"nearest neighbours of '{labels[word]}'", fontsize=9)
    ax = axes[2]
    ax.plot(ks, accuracy, "k.-", label="all questions", ms=4)
    for g, acc in (acc_groups or {}).items():
        ax.plot(ks, acc, "-", color=_CH1_GROUP_COLORS.get(g, "0.5"), lw=1, label=g)
    ax.axvline(k, color="0.5", ls=":")
    i = int(np.argmin(np.abs(np.asarray(ks) - k)))
    ax.plot([ks[i]], [accuracy[i]], "ko", ms=7, mfc="none")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("embedding dimension k", fontsize=9)
    ax.set_ylabel("analogy accuracy (3CosAdd)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_title(f"accuracy {accuracy[i]:.2f} at k = {ks[i]}", fontsize=9)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
    renderer = _freeze_layout(fig)
    shown = [word, *neighbors]  # the chosen word first, in bold: it gets the best place
    _place_labels(axes[0], renderer, [Y[j] for j in shown], [labels[j] for j in shown], fontsize=8,
                  styles=[{"weight": "bold", "fontsize": 10}] + [{}] * len(neighbors))
    return fig


# --- chapter 2: MLPs and backpropagation ---

_CLASS_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def decision_grid(X, n=120, margin=0.25):
    """A square grid of points covering the data, for drawing decision regions (chapter 2).

    Returns ``(gx, gy, points)``: ``gx`` (n,) and ``gy`` (n,) the coordinates,
    ``points`` (n², 2) the grid points in row-major order (``y`` slow, ``x`` fast),
    ready for a batched forward pass.

    Examples
    --------
    >>> gx, gy, P = decision_grid(np.array([[0.0, 0.0], [1.0, 1.0]]), n=5)
    >>> P.shape
    (25, 2)
    """
    X = np.asarray(X, dtype=float)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    xx, yy = np.meshgrid(gx, gy)
    return gx, gy, np.column_stack([xx.ravel(), yy.ravel()])


def draw_decision_regions(ax, X, y, gx, gy, grid_labels, *, title=""):
    """Colour the plane by predicted class and scatter the labelled points on ``ax`` (chapter 2).

    Parameters
    ----------
    X : (n, 2), y : (n,) int
    gx, gy : grid coordinates from :func:`decision_grid`
    grid_labels : (len(gy) * len(gx),) predicted class of each grid point

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]]); gx, gy, P = decision_grid(X, n=4)
    >>> fig, ax = new_figure(); draw_decision_regions(ax, X, [0, 1], gx, gy, (P[:, 0] > 0.5).astype(int))
    """
    from matplotlib.colors import ListedColormap

    y = np.asarray(y)
    k = int(max(np.max(y), np.max(grid_labels))) + 1
    cmap = ListedColormap(_CLASS_COLORS[:k])
    labels = np.asarray(grid_labels).reshape(len(gy), len(gx))
    ax.imshow(labels, origin="lower", extent=(gx[0], gx[-1], gy[0], gy[-1]), cmap=cmap,
              vmin=-0.5, vmax=k - 0.5, alpha=0.25, interpolation="nearest", aspect="auto")
    for c in range(k):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=9, color=_CLASS_COLORS[c], edgecolors="k", linewidths=0.3,
                   label=f"class {c}")
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title, fontsize=10)


def decision_regions_figure(X, y, gx, gy, grid_labels_list, titles, *, width=3.2):
    """One or more decision-region panels side by side, e.g. snapshots during training (chapter 2).

    Parameters
    ----------
    grid_labels_list : list of (len(gy) * len(gx),) arrays, one per panel
    titles : list of str, one per panel

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]]); gx, gy, P = decision_grid(X, n=4)
    >>> fig = decision_regions_figure(X, [0, 1], gx, gy, [(P[:, 0] > 0.5).astype(int)], ["one panel"])
    """
    k = len(grid_labels_list)
    fig, axes = new_figure(k, 1, width=width, height=width)
    axes = np.atleast_1d(axes)
    for ax, labels, title in zip(axes, grid_labels_list, titles):
        draw_decision_regions(ax, X, y, gx, gy, labels, title=title)
        ax.set_aspect("equal")
    axes[0].legend(fontsize=7, loc="lower left", framealpha=0.8)
    return fig


def activations_figure(z, curves):
    """Each activation ``σ`` and its derivative ``σ'`` on a common axis, two panels (chapter 2).

    Parameters
    ----------
    z : (m,) points
    curves : mapping name -> (σ(z), σ'(z))

    Examples
    --------
    >>> z = np.linspace(-3, 3, 7)
    >>> fig = activations_figure(z, {"tanh": (np.tanh(z), 1 - np.tanh(z) ** 2)})
    """
    fig, (ax1, ax2) = new_figure(2, 1, width=4.0, height=3.0)
    for name, (values, derivative) in curves.items():
        ax1.plot(z, values, label=name)
        ax2.plot(z, derivative, label=name)
    ax1.set_title("activations $\\sigma(z)$", fontsize=10)
    ax2.set_title("derivatives $\\sigma'(z)$: the Jacobian's diagonal", fontsize=10)
    for ax in (ax1, ax2):
        ax.set_xlabel("$z$")
        ax.grid(True, alpha=0.3)
        ax.axhline(0, color="0.5", lw=0.6)
    ax1.set_ylabel("$\\sigma(z)$")
    ax2.set_ylabel("$\\sigma'(z)$")
    ax1.legend(fontsize=8)
    return fig


def training_curves_figure(history, *, title=""):
    """Loss (log scale) and, when present, accuracy against epoch (chapter 2).

    Held-out curves (``"val_loss"``, ``"val_accuracy"``, as ``mlp.train`` records
    them with ``validation=``) are drawn dashed beside the training curves.

    Parameters
    ----------
    history : dict with list ``"loss"`` and optional lists ``"accuracy"``, ``"val_loss"``,
        ``"val_accuracy"`` (entry 0 = before training)

    Examples
    --------
    >>> fig = training_curves_figure({"loss": [1.0, 0.5, 0.2], "accuracy": [0.3, 0.6, 0.9]})
    """
    has_acc = "accuracy" in history
    fig, axes = new_figure(2 if has_acc else 1, 1, width=3.8, height=2.9)
    axes = np.atleast_1d(axes)
    epochs = np.arange(len(history["loss"]))
    axes[0].semilogy(epochs, history["loss"], color="tab:red", label="training loss")
    if "val_loss" in history:
        axes[0].semilogy(epochs, history["val_loss"], color="tab:red", linestyle="--", label="held-out loss")
    axes[0].set_ylabel("loss")
    if has_acc:
        axes[1].plot(epochs, history["accuracy"], color="tab:blue", label="training accuracy")
        if "val_accuracy" in history:
            axes[1].plot(epochs, history["val_accuracy"], color="tab:blue", linestyle="--",
                         label="held-out accuracy")
        axes[1].set_ylabel("accuracy")
        axes[1].set_ylim(0, 1.02)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def layer_curves_figure(curves, *, ylabel, title="", xlabel="layer $\\ell$", logy=True, logx=False, band=None,
                        band_label="within a factor 2"):
    """Curves of a per-layer (or per-index) quantity, one per label, optionally on a log axis (chapter 2).

    Parameters
    ----------
    curves : mapping label -> (m,) values at x = 1..m, or -> (x, values)
    band : (low, high), optional; a shaded horizontal band, labelled ``band_label``

    Examples
    --------
    >>> fig = layer_curves_figure({"He": np.ones(20)}, ylabel="variance", band=(0.5, 2))
    """
    fig, ax = new_figure(width=5.0, height=3.3)
    for label, data in curves.items():
        if isinstance(data, tuple):
            x, v = map(np.asarray, data)
        else:
            v = np.asarray(data)
            x = np.arange(1, v.size + 1)
        ax.plot(x, v, marker="o", ms=3, label=label)
    if band is not None:
        ax.axhspan(*band, color="0.85", zorder=0, label=band_label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def scatter_before_after_figure(before, after, *, titles=("before", "after"), xlabel="feature 1",
                                ylabel="feature 2"):
    """Two 2-D point clouds side by side on the same axes limits (chapter 2: batch normalization).

    Examples
    --------
    >>> P = np.random.default_rng(0).standard_normal((20, 2))
    >>> fig = scatter_before_after_figure(P * 3 + 1, P)
    """
    before, after = np.asarray(before), np.asarray(after)
    fig, axes = new_figure(2, 1, width=3.3, height=3.3)
    both = np.vstack([before[:, :2], after[:, :2]])
    lo, hi = both.min() - 0.5, both.max() + 0.5
    for ax, P, title, color in zip(axes, (before, after), titles, ("tab:gray", "tab:blue")):
        ax.scatter(P[:, 0], P[:, 1], s=8, alpha=0.6, color=color)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
    return fig


def mlp_spectra_figure(X, y, gx, gy, grid_labels, spectra, *, epoch, loss, acc, logy=True, ymax=None):
    """Decision regions beside the singular values of every weight matrix (chapter 2 explorer).

    Parameters
    ----------
    X : (n, 2), y : (n,)
    gx, gy, grid_labels : see :func:`draw_decision_regions`
    spectra : list of 1-D arrays, the singular values of ``W1, W2, ...`` (descending)
    epoch : int, loss : float, acc : float — shown in the titles
    ymax : float, optional; a fixed upper y-limit so frames are comparable

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]]); gx, gy, P = decision_grid(X, n=4)
    >>> fig = mlp_spectra_figure(X, [0, 1], gx, gy, (P[:, 0] > .5).astype(int), [np.array([2.0, 1.0])],
    ...                          epoch=0, loss=0.7, acc=0.5)
    """
    fig, (ax1, ax2) = new_figure(2, 1, width=4.3, height=4.0)
    draw_decision_regions(ax1, X, y, gx, gy, grid_labels,
                          title=f"epoch {epoch}: loss {loss:.3f}, accuracy {acc:.2f}")
    ax1.tick_params(labelsize=8)
    # Legends below the panels: inside they would cover data points or curves.
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    for l, s in enumerate(spectra, start=1):
        ax2.plot(np.arange(1, len(s) + 1), s, marker="o", ms=3, label=f"$W_{l}$ ({len(s)} values)")
    if logy:
        ax2.set_yscale("log")
    if ymax is not None:
        ax2.set_ylim(top=ymax)
    ax2.set_xlabel("index $i$")
    ax2.set_ylabel("singular value $\\sigma_i(W_\\ell)$")
    ax2.set_title("singular values of each weight matrix", fontsize=10)
    ax2.tick_params(labelsize=8)
    ax2.grid(True, which="major", alpha=0.3)
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    return fig


# --- chapter 3: attention and transformers ---

def attention_maps_figure(maps, titles, *, labels=None, width=3.0, cmap="viridis", suptitle="",
                          shared_scale=True):
    """Several attention matrices side by side, keys on the x-axis and queries on the y-axis.

    ``maps`` is a list of ``(n, m)`` arrays (e.g. one per head); ``labels`` the
    token strings shown on both axes (queries = keys for self-attention). All
    panels share the colour scale ``[0, max]`` so heads can be compared;
    ``shared_scale=False`` gives each panel its own scale and colour bar (for
    maps whose largest weights differ by orders of magnitude).

    Examples
    --------
    >>> fig = attention_maps_figure([np.eye(3) , np.ones((3, 3)) / 3], ["head 1", "head 2"])
    """
    maps = [np.asarray(M) for M in maps]
    fig, axes = new_figure(len(maps), width=width, height=width * 0.9)
    axes = np.atleast_1d(axes)
    vmax = max(float(M.max()) for M in maps)
    for ax, M, title in zip(axes, maps, titles):
        heatmap(ax, M, xlabels=labels, ylabels=labels, title=title, cmap=cmap, vmin=0.0,
                vmax=vmax if shared_scale else float(M.max()),
                colorbar=(ax is axes[-1]) or not shared_scale, xlabel="key $j$", ylabel="query $i$")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def scaling_figure(ns, measurements, *, ylabel="time (s)", title="", guides=(1, 2)):
    """Measured cost against sequence length on log–log axes, with O(n) and O(n²) guide lines.

    ``measurements`` maps a method's name to its values at ``ns`` (NaN where
    not measured). A guide ``n^p`` is drawn through the first value of the
    first curve so the slopes can be read off: slope 1 is linear, 2 quadratic.

    Examples
    --------
    >>> fig = scaling_figure([256, 512], {"full": [1.0, 4.0], "linear": [1.0, 2.0]})
    """
    ns = np.asarray(ns, dtype=float)
    fig, ax = new_figure(width=5.5, height=4.0)
    for name, vals in measurements.items():
        ax.loglog(ns, vals, "o-", label=name, ms=4)
    anchor = float(np.asarray(next(iter(measurements.values())), dtype=float)[0])
    for p, ls in zip(guides, (":", "--", "-.")):
        ax.loglog(ns, anchor * (ns / ns[0]) ** p, color="gray", ls=ls, lw=1,
                  label=f"$O(n^{p})$ guide" if p != 1 else "$O(n)$ guide")
    ax.set_xticks(ns, labels=[str(int(v)) for v in ns])
    ax.set_xticks([], minor=True)  # the measured n as plain numbers, no crowded minor labels
    ax.set(xlabel="sequence length $n$", ylabel=ylabel, title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def kernel_smoother_figure(x, y, xq, curves, *, title="attention as a kernel smoother"):
    """Data points ``(x_j, y_j)`` and smoothed curves ``{label: ŷ(xq)}`` (Nadaraya–Watson).

    Examples
    --------
    >>> fig = kernel_smoother_figure([0, 1], [0, 1], [0, 0.5, 1], {"h=1": [0.2, 0.5, 0.8]})
    """
    fig, ax = new_figure(width=5.5, height=3.5)
    ax.scatter(x, y, s=12, color="gray", alpha=0.7, label="values $v_j$ at keys $k_j$")
    for label, yq in curves.items():
        ax.plot(xq, yq, lw=2, label=label)
    ax.set(xlabel="position (query $q$ / key $k$)", ylabel="value", title=title)
    ax.legend(fontsize=8)
    return fig


def attention_explorer_figure(A, A_approx, labels, query, *, approx_name="approximation", title=""):
    """The attention explorer's picture: exact map, approximate map, one query's row, singular values.

    Four panels in a 9.6 × 5.6 inch figure (960 × 560 px as the explorer shows
    it, so it fits a 1280 × 720 window with the controls): the two maps on the
    left share one colour scale; on the right the chosen query's row as bars
    (exact beside approximate) above the singular values of both matrices.
    One legend, outside the panels, names the two series of both right-hand
    panels, so it never covers a bar or a tick label.

    Parameters
    ----------
    A, A_approx : (n, n) attention matrices (rows sum to one)
    labels : list of n token strings
    query : int, the row shown as bars (highlighted on the maps)
    approx_name : str, names the approximation in titles and legends

    Examples
    --------
    >>> A = np.full((3, 3), 1 / 3); fig = attention_explorer_figure(A, A, ["a", "b", "c"], 0)
    """
    A, A_approx = np.asarray(A), np.asarray(A_approx)
    n = A.shape[0]
    fig = Figure(figsize=(9.6, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.0, 1.0, 1.25])
    ax1, ax2 = fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[:, 1])
    ax3, ax4 = fig.add_subplot(grid[0, 2]), fig.add_subplot(grid[1, 2])
    vmax = float(max(A.max(), A_approx.max()))
    ticks = list(labels) if n <= 32 else None
    tick_size = 8 if n <= 20 else 7.5
    err = np.linalg.norm(A - A_approx) / np.linalg.norm(A)
    for ax, M, ttl in ((ax1, A, title or "exact attention $A$"),
                       (ax2, A_approx, f"{approx_name}\n" + r"$\|A-\tilde A\|_F/\|A\|_F$" + f" = {err:.3f}")):
        im = ax.imshow(M, cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest")
        if ticks is not None:
            ax.set_xticks(range(n), labels=ticks, rotation=90, fontsize=tick_size)
            ax.set_yticks(range(n), labels=ticks if ax is ax1 else [], fontsize=tick_size)
        ax.axhline(query, color="red", lw=1.0)
        ax.set_xlabel("key $j$", fontsize=9)
        ax.set_title(ttl, fontsize=9)
    ax1.set_ylabel("query $i$", fontsize=9)
    cbar = fig.colorbar(im, ax=[ax1, ax2], shrink=0.6, location="bottom", aspect=30)
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label("attention weight $a_{ij}$", fontsize=8)

    pos = np.arange(n)
    exact_bars = ax3.bar(pos - 0.2, A[query], width=0.4, color="tab:blue")
    approx_bars = ax3.bar(pos + 0.2, A_approx[query], width=0.4, color="tab:orange")
    ax3.set_xlim(-0.7, n - 0.3)
    ax3.set_ylim(0, 1.08 * max(float(A[query].max()), float(A_approx[query].max()), 1e-12))
    ax3.set_xticks(pos, labels=[])  # the keys are named on the maps' x-axes, in the same order
    ax3.set_xlabel("key $j$ (same order as the maps)", fontsize=9)
    ax3.set_ylabel("weight $a_{ij}$", fontsize=9)
    ax3.tick_params(labelsize=8)
    ax3.set_title(f"row of query {query}" + (f" ({labels[query]!s})" if labels is not None else ""), fontsize=9)
    s = np.linalg.svd(A, compute_uv=False)
    s2 = np.linalg.svd(A_approx, compute_uv=False)
    ax4.semilogy(np.arange(1, n + 1), np.maximum(s, 1e-17), "o-", ms=3, color="tab:blue")
    ax4.semilogy(np.arange(1, n + 1), np.maximum(s2, 1e-17), "s-", ms=3, color="tab:orange")
    ax4.set_ylim(1e-17, 2)
    ax4.set_yticks([1e-16, 1e-12, 1e-8, 1e-4, 1])
    ax4.set_xlabel("index $r$", fontsize=9)
    ax4.set_ylabel(r"singular value $\sigma_r$", fontsize=9)
    ax4.set_title("singular values", fontsize=9)
    ax4.tick_params(labelsize=8)
    ax4.grid(True, which="major", alpha=0.3)
    fig.legend([exact_bars, approx_bars], ["exact $A$", approx_name], loc="outside lower right", ncols=2,
               fontsize=8, frameon=False)
    return fig


# --- chapter 4: low-rank methods ---

def images_figure(images, titles, *, width=2.8, suptitle=""):
    """Grey-scale images side by side, equal aspect, no ticks (e.g. an image and its rank-k approximations).

    All panels share the grey scale of the first image, so a reconstruction
    that over- or undershoots shows as clipped black or white.

    Examples
    --------
    >>> fig = images_figure([np.eye(4), np.ones((4, 4))], ["I", "ones"])
    """
    images = [np.asarray(M) for M in images]
    h, w = images[0].shape
    fig, axes = new_figure(len(images), width=width, height=width * h / w + 0.45)
    axes = np.atleast_1d(axes)
    lo, hi = float(images[0].min()), float(images[0].max())
    for ax, M, title in zip(axes, images, titles):
        ax.imshow(M, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def rank_tradeoff_figure(s, shape, *, marks=(), title_prefix=""):
    """Three panels for a rank-k approximation of an ``m × n`` matrix: spectrum, storage, error.

    Left: singular values ``σ_j`` on a log scale. Middle: numbers stored by
    the factors, ``k (m + n + 1)``, against ``m n`` for the full matrix.
    Right: relative errors ``σ_{k+1}/σ_1`` (spectral) and
    ``(Σ_{j>k} σ_j²)^{1/2} / ‖A‖_F`` (Frobenius) — Eckart–Young.

    Parameters
    ----------
    s : (p,) singular values, descending
    shape : (m, n)
    marks : ranks to mark with dotted lines

    Examples
    --------
    >>> fig = rank_tradeoff_figure(0.5 ** np.arange(10), (10, 12), marks=[3])
    """
    s = np.asarray(s, dtype=float)
    m, n = shape
    p = s.size
    ks = np.arange(1, p + 1)
    tail = np.sqrt(np.maximum(np.cumsum((s ** 2)[::-1])[::-1], 0.0))       # tail[j] = ‖(σ_j, σ_{j+1}, ...)‖
    frob = np.append(tail[1:], 0.0) / tail[0]
    spec = np.append(s[1:], 0.0) / s[0]
    fig, (ax1, ax2, ax3) = new_figure(3, width=3.6, height=3.0)
    ax1.semilogy(ks, np.maximum(s, 1e-300), "-", lw=1.5)
    ax1.set(xlabel="index $j$", ylabel=r"$\sigma_j$", title=f"{title_prefix}singular values")
    ax2.plot(ks, ks * (m + n + 1), label="rank-$k$ factors $k(m+n+1)$")
    ax2.axhline(m * n, color="0.4", ls="--", lw=1, label=f"full matrix $mn$ = {m * n:,}")
    ax2.set(xlabel="rank $k$", ylabel="numbers stored", title="storage")
    ax2.legend(fontsize=8)
    ax3.semilogy(ks[:-1], spec[:-1], label=r"spectral $\sigma_{k+1}/\sigma_1$")
    ax3.semilogy(ks[:-1], frob[:-1], label=r"Frobenius, tail / $\|A\|_F$")
    ax3.set(xlabel="rank $k$", ylabel="relative error", title="error (Eckart–Young)")
    ax3.legend(fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.grid(True, which="major", alpha=0.3)
        for k in marks:
            ax.axvline(k, color="0.5", ls=":", lw=1)
    return fig


def pca_scores_figure(ratio, scores, labels, *, title="", class_names=None):
    """PCA summary: cumulative explained-variance ratio, and the data on its first two components.

    Parameters
    ----------
    ratio : (d,) explained-variance ratio of every component, descending
    scores : (n, 2) the data projected on the first two components
    labels : (n,) integer class of each sample (colours)

    Examples
    --------
    >>> fig = pca_scores_figure([0.7, 0.2, 0.1], np.zeros((4, 2)), [0, 1, 0, 1])
    """
    ratio = np.asarray(ratio, dtype=float)
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    fig, (ax1, ax2) = new_figure(2, width=4.2, height=3.4)
    j = np.arange(1, ratio.size + 1)
    ax1.bar(j, ratio, color="tab:blue", alpha=0.6, label="per component")
    ax1.plot(j, np.cumsum(ratio), "o-", color="tab:red", ms=3, label="cumulative")
    ax1.axhline(0.9, color="0.5", ls="--", lw=1, label="90%")
    ax1.set(xlabel="component $j$", ylabel="explained-variance ratio", title=title or "explained variance",
            ylim=(0, 1.05))
    ax1.legend(fontsize=8)
    for c in np.unique(labels):
        name = class_names[c] if class_names is not None else f"class {c}"
        ax2.scatter(scores[labels == c, 0], scores[labels == c, 1], s=8, alpha=0.6, label=name)
    ax2.set(xlabel="PC 1 score", ylabel="PC 2 score", title="data on the first two components")
    ax2.legend(fontsize=8, markerscale=2)
    return fig


def spectrum_explorer_figure(A, A_k, s, k, *, name="A", image=False, errors=None, residual=False):
    """The spectrum explorer's picture: the matrix, its rank-k reconstruction, its singular values.

    Parameters
    ----------
    A, A_k : (m, n) the matrix and its best rank-``k`` approximation
    s : (p,) all singular values of ``A``, descending
    k : int, the rank shown (marked on the spectrum; the tail ``j > k`` shaded)
    name : str, names the matrix in the titles
    image : bool, draw ``A`` as a grey-scale picture (equal aspect) rather than a heatmap
    errors : (spectral, frobenius) relative errors to print, optional
    residual : bool, show the residual ``A − A_k`` in the middle panel instead of ``A_k``

    Examples
    --------
    >>> A = np.outer(np.arange(4.0), np.ones(3)); s = np.linalg.svd(A, compute_uv=False)
    >>> fig = spectrum_explorer_figure(A, A, s, 1)
    """
    A, A_k, s = np.asarray(A), np.asarray(A_k), np.asarray(s, dtype=float)
    middle = A - A_k if residual else A_k
    fig = Figure(figsize=(9.6, 3.9), layout="constrained")
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.25]})
    ax1, ax2, ax3 = axes
    if image:
        lo, hi = float(A.min()), float(A.max())
        if residual:  # centre the residual on mid-grey so positive and negative errors both show
            lo, hi = -(hi - lo) / 2, (hi - lo) / 2
        ax1.imshow(A, cmap="gray", vmin=float(A.min()), vmax=float(A.max()), interpolation="nearest")
        ax2.imshow(middle, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        for ax in (ax1, ax2):
            ax.set_xticks([])
            ax.set_yticks([])
    else:
        v = float(np.abs(A).max()) or 1.0
        for ax, M in ((ax1, A), (ax2, middle)):
            im = ax.imshow(M, cmap="RdBu_r", vmin=-v, vmax=v, aspect="auto", interpolation="nearest")
            ax.set_xlabel("column", fontsize=9)
            ax.set_ylabel("row", fontsize=9)
            ax.tick_params(labelsize=9)
        fig.colorbar(im, ax=ax2, shrink=0.8).ax.tick_params(labelsize=9)
    m, n = A.shape
    ax1.set_title(f"{name}\n{m} × {n}", fontsize=9)
    ax2.set_title(f"residual A − A_k\nk = {k}" if residual else f"best rank-{k}\napproximation A_k", fontsize=9)
    j = np.arange(1, s.size + 1)
    floor = max(float(s[0]) * 1e-17, 1e-300)
    ax3.semilogy(j, np.maximum(s, floor), "-", color="tab:blue", lw=1.5)
    ax3.semilogy(j[k:], np.maximum(s[k:], floor), ".", color="tab:red", ms=4)
    ax3.axvline(k + 0.5, color="k", ls="--", lw=1)
    ax3.set_xlabel(f"index j\n(dashed: rank k = {k}; red: discarded tail)", fontsize=9)
    ax3.set_ylabel(r"singular value $\sigma_j$", fontsize=9)
    ax3.tick_params(labelsize=9)
    ax3.grid(True, which="major", alpha=0.3)
    if errors is not None:
        spec, frob = errors
        ax3.set_title(r"$\|A - A_k\|_2/\sigma_1 = \sigma_{k+1}/\sigma_1$" + f" = {spec:.3g}\n"
                      + r"$\|A - A_k\|_F/\|A\|_F$ = tail energy" + f" = {frob:.3g}", fontsize=9)
    return fig


# --- chapter 5: graph neural networks ---

def graph_layout(A, *, kind="spring", seed=0):
    """2-D node positions ``(n, 2)`` for drawing a graph: ``"spring"`` (networkx), ``"circle"`` or ``"spectral"``.

    ``"spectral"`` places node ``i`` at ``(u_2[i], u_3[i])``, the second and
    third eigenvectors of the symmetric normalized Laplacian — the drawing
    the chapter explains. Pass ``pos`` you computed once to every figure of a
    graph so the pictures line up.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> graph_layout(sp.csr_array(np.ones((3, 3)) - np.eye(3)), kind="circle").shape
    (3, 2)
    """
    import scipy.sparse as sp

    n = A.shape[0]
    if kind == "circle":
        t = 2 * np.pi * np.arange(n) / n
        return np.column_stack([np.cos(t), np.sin(t)])
    if kind == "spectral":
        from .graphs import laplacian

        _, U = np.linalg.eigh(laplacian(A, "symmetric").toarray())
        return U[:, 1:3].copy()
    import networkx as nx

    G = nx.from_scipy_sparse_array(sp.csr_array(A))
    pos = nx.spring_layout(G, seed=seed)
    return np.array([pos[i] for i in range(n)])


def draw_graph(ax, A, pos, values=None, *, cmap="coolwarm", vmin=None, vmax=None, node_size=60, title="",
               colorbar=False, cbar_label="", edge_alpha=0.35, labels=None):
    """Draw edges as thin lines and nodes coloured by ``values`` (a signal on the nodes); returns the scatter.

    A diverging colour map centred at 0 (the default when ``values`` has
    both signs) shows the sign pattern of an eigenvector at a glance.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> fig, ax = new_figure(); A = sp.csr_array(np.ones((3, 3)) - np.eye(3))
    >>> sc = draw_graph(ax, A, np.eye(3)[:, :2], values=[1.0, -1.0, 0.0])
    """
    from matplotlib.collections import LineCollection
    import scipy.sparse as sp

    pos = np.asarray(pos, dtype=float)
    C = sp.triu(sp.csr_array(A), k=1).tocoo()
    segs = np.stack([pos[C.row], pos[C.col]], axis=1)
    ax.add_collection(LineCollection(segs, colors="0.45", linewidths=0.6, alpha=edge_alpha, zorder=1))
    if values is None:
        sc = ax.scatter(pos[:, 0], pos[:, 1], s=node_size, c="tab:blue", edgecolors="k", linewidths=0.4, zorder=2)
    else:
        v = np.asarray(values, dtype=float)
        if vmin is None and vmax is None and v.min() < 0 < v.max():
            vmax = float(np.abs(v).max())
            vmin = -vmax
        sc = ax.scatter(pos[:, 0], pos[:, 1], s=node_size, c=v, cmap=cmap, vmin=vmin, vmax=vmax,
                        edgecolors="k", linewidths=0.4, zorder=2)
        if colorbar:
            cb = ax.figure.colorbar(sc, ax=ax, shrink=0.8)
            cb.set_label(cbar_label)
    if labels is not None:
        for i, text in enumerate(labels):
            ax.annotate(str(text), pos[i], fontsize=8, ha="center", va="center", zorder=3)
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    return sc


def graph_signals_figure(A, pos, signals, *, width=3.6, height=3.2, cmap="coolwarm", share_scale=True,
                         suptitle="", node_size=50):
    """The same graph drawn once per signal, ``signals = {title: values}``, side by side with one colour bar.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_array(np.ones((3, 3)) - np.eye(3))
    >>> fig = graph_signals_figure(A, np.eye(3)[:, :2], {"x": [1.0, 0.0, -1.0]})
    """
    fig, axes = new_figure(len(signals), width=width, height=height)
    axes = np.atleast_1d(axes)
    vals = [np.asarray(v, dtype=float) for v in signals.values()]
    vmax = max(float(np.abs(v).max()) for v in vals) if share_scale else None
    for ax, title, v in zip(axes, signals, vals):
        vm = vmax if share_scale else float(np.abs(v).max())
        sc = draw_graph(ax, A, pos, v, cmap=cmap, vmin=-vm if v.min() < 0 or share_scale else 0, vmax=vm,
                        title=title, node_size=node_size)
        if not share_scale:  # each panel its own scale, so each its own colour bar
            fig.colorbar(sc, ax=ax, shrink=0.7)
    if share_scale:
        fig.colorbar(sc, ax=list(axes), shrink=0.8, label="value on the node")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def classes_figure(points, y, titles, *, class_names=None, width=3.4, height=3.2, xlabel="component 1",
                   ylabel="component 2", suptitle=""):
    """2-D point clouds (e.g. hidden representations after PCA), one panel each, coloured by class.

    Examples
    --------
    >>> fig = classes_figure([np.eye(3)[:, :2]], np.array([0, 1, 1]), ["H"])
    """
    fig, axes = new_figure(len(points), width=width, height=height)
    axes = np.atleast_1d(axes)
    y = np.asarray(y)
    classes = np.unique(y)
    names = class_names or [f"class {c}" for c in classes]
    for ax, P, title in zip(axes, points, titles):
        P = np.asarray(P)
        for c, name in zip(classes, names):
            ax.scatter(P[y == c, 0], P[y == c, 1], s=14, alpha=0.8, label=str(name))
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes[0].legend(fontsize=9, loc="best")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def graph_spectrum_explorer_figure(A, pos, lam, U, k, clean, noisy, filtered, response, *, filter_label="",
                                   kind_label="L"):
    """The graph spectrum explorer's picture (six panels, 9.6 × 3.9 in: 960 × 390 px at 100 dpi).

    Top: the graph coloured by eigenvector ``u_k``; the spectrum with
    ``λ_k`` marked, each eigenvalue coloured by the filter's response ``g(λ)``; the graph
    Fourier coefficients of the noisy and the filtered signal. Bottom: the
    clean, noisy and filtered signals on the graph, on one colour scale.

    Parameters
    ----------
    A : (n, n) sparse adjacency; pos : (n, 2) layout
    lam : (n,) ascending eigenvalues; U : (n, n) eigenvectors
    k : int, 0-based column of ``U`` shown (labelled ``u_{k+1}``: eigenvectors are numbered from 1)
    clean, noisy, filtered : (n,) signals
    response : (n,) g(λ) at the eigenvalues

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from lalib import graphs
    >>> A = graphs.adjacency_matrix([[0, 1], [1, 2], [2, 0]]); lam, U = graphs.graph_fourier_basis(graphs.laplacian(A))
    >>> x = np.array([1.0, 0.0, -1.0])
    >>> fig = graph_spectrum_explorer_figure(A, np.eye(3)[:, :2], lam, U, 1, x, x, x, np.ones(3))
    """
    fig, axes = new_figure(3, 2, width=3.2, height=1.95)  # 9.6 × 3.9 in: 960 × 390 px, fits a slide with its controls
    (a_mode, a_spec, a_four), (a_clean, a_noisy, a_filt) = axes
    n = len(lam)
    draw_graph(a_mode, A, pos, U[:, k], title=f"eigenvector $u_{{{k + 1}}}$, $\\lambda_{{{k + 1}}}$ = {lam[k]:.3f}",
               node_size=40)
    idx = np.arange(1, n + 1)  # eigenvalues numbered 1..n, as in the chapter (λ_1 = 0)
    # Each eigenvalue coloured by the filter's response there: dark green is kept, white removed.
    sc = a_spec.scatter(idx, lam, c=response, cmap="Greens", vmin=0.0, vmax=1.0, s=22, edgecolors="0.3",
                        linewidths=0.5, label=r"$\lambda_j$, colour $g(\lambda_j)$")
    a_spec.plot([k + 1], [lam[k]], "o", ms=10, mfc="none", mec="red", mew=2, label=f"$\\lambda_{{{k + 1}}}$")
    a_spec.set(xlabel="index $j$", ylabel=f"eigenvalue of ${kind_label}$", title=f"filter: {filter_label}")
    cb = fig.colorbar(sc, ax=a_spec, shrink=0.8, pad=0.02)
    cb.set_label(r"response $g(\lambda)$")
    # Head-room above the largest eigenvalue holds the one-row legend, clear of every point.
    a_spec.set_ylim(top=float(lam.max()) + 0.45 * float(lam.max() - lam.min()) + 1e-9)
    a_spec.legend(fontsize=9, loc="upper left", ncols=2, columnspacing=0.8, handletextpad=0.3)
    a_spec.grid(True, alpha=0.3)
    xh_noisy, xh_filt = U.T @ noisy, U.T @ filtered
    a_four.plot(idx, np.abs(xh_noisy), "-", color="0.5", lw=1, label="noisy")
    a_four.plot(idx, np.abs(xh_filt), "-", color="tab:green", lw=1.5, label="filtered")
    a_four.axvline(k + 1, color="red", lw=1, ls=":")
    a_four.set(xlabel="frequency index $j$", ylabel=r"$|\hat x_j|$", title="graph Fourier coefficients")
    a_four.legend(fontsize=9)
    a_four.grid(True, alpha=0.3)
    vm = float(max(np.abs(clean).max(), np.abs(noisy).max(), np.abs(filtered).max()))
    err_noisy = np.linalg.norm(noisy - clean) / np.linalg.norm(clean)
    err_filt = np.linalg.norm(filtered - clean) / np.linalg.norm(clean)
    draw_graph(a_clean, A, pos, clean, vmin=-vm, vmax=vm, title="clean signal", node_size=40)
    draw_graph(a_noisy, A, pos, noisy, vmin=-vm, vmax=vm, title=f"noisy: rel. error {err_noisy:.2f}", node_size=40)
    sc = draw_graph(a_filt, A, pos, filtered, vmin=-vm, vmax=vm, title=f"filtered: rel. error {err_filt:.2f}",
                    node_size=40)
    fig.colorbar(sc, ax=[a_clean, a_noisy, a_filt], shrink=0.8, label="signal value")
    return fig


# --- chapter 6: numerical linear algebra in the age of AI ---

def ritz_values_figure(T, eigenvalues=None, *, top=None, title="Ritz values of $T_j$ against the step $j$",
                       width=5.6, height=3.8):
    """The Ritz values (eigenvalues of the leading ``j × j`` block of ``T``) at every step ``j``.

    Ritz values that repeat a neighbour to 1e-8 (relative) are circled in red:
    ghost copies, impossible in exact arithmetic before step ``n``. Dotted lines
    mark the true ``eigenvalues``; ``top`` restricts the y-range to
    the band holding the largest ones, where ghosts of plain Lanczos show up.

    Examples
    --------
    >>> fig = ritz_values_figure(np.diag([1.0, 2.0, 3.0]) + np.diag([0.5, 0.5], 1) + np.diag([0.5, 0.5], -1))
    """
    T = np.asarray(T, dtype=float)
    fig, ax = new_figure(width=width, height=height)
    ghost_label = "second copy (ghost)"
    for j in range(1, T.shape[0] + 1):
        theta = np.linalg.eigvalsh(T[:j, :j])
        # a Ritz value equal to its lower neighbour to 1e-8 relative is a repeated copy of one eigenvalue
        dup = np.zeros(j, dtype=bool)
        dup[1:] = np.diff(theta) < 1e-8 * np.max(np.abs(theta))
        ax.plot(np.full(j, j), theta, "o", ms=2.5, color="C0", label="Ritz values" if j == 1 else None)
        if dup.any():
            ax.plot(np.full(dup.sum(), j), theta[dup], "o", ms=7, mfc="none", color="C3", label=ghost_label)
            ghost_label = None
    if eigenvalues is not None:
        for i, lam in enumerate(np.asarray(eigenvalues, dtype=float)):
            ax.axhline(lam, color="0.6", ls=":", lw=0.8, label="eigenvalues of A" if i == 0 else None)
    if top is not None:
        ax.set_ylim(*top)
    ax.set(xlabel="Lanczos step $j$", ylabel="Ritz value", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
