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
import numpy as np
from matplotlib.figure import Figure

from . import attention as _attention
from . import datasets as _datasets
from . import embeddings as _emb
from . import graphs as _graphs
from . import mlp as _mlp
from ._validate import as_float_array as _as_float_array
from ._validate import check_positive_int as _check_positive_int
from ._validate import check_rng as _check_rng
from .plotting import attention_explorer_figure as _attention_explorer_figure
from .plotting import decision_grid as _decision_grid
from .plotting import embedding_explorer_figure as _embedding_explorer_figure
from .plotting import figure_to_png
from .plotting import graph_layout as _graph_layout
from .plotting import graph_spectrum_explorer_figure as _graph_spectrum_explorer_figure
from .plotting import mlp_spectra_figure as _mlp_spectra_figure
from .plotting import spectrum_explorer_figure as _spectrum_explorer_figure
from .plotting import transformation_figure

__all__ = ["Explorer"]


# How big a picture is shown: 100 CSS pixels per inch of figure, so a font of
# 7.2 pt or more reads as at least 10 px. The PNG is rendered at twice that,
# so it stays sharp on a projector and on a high-density screen.
DISPLAY_DPI = 100
HIDPI = 2


class Explorer(widgets.VBox):
    """Controls above a picture that ``draw(**state)`` redraws on every change.

    Parameters
    ----------
    controls : mapping of str to ipywidgets.ValueWidget
        The named controls; their ``value`` traits form :attr:`state`.
    draw : callable
        ``draw(**state) -> matplotlib.figure.Figure``; pure, from plotting.py.
    dpi : int
        Pixels per inch of figure as shown (default 100: a W × H inch figure is
        shown at 100 W × 100 H px). The PNG is rendered at ``HIDPI`` (2) times
        this and the picture's width and height are set to the shown size, so
        it is sharp where one CSS pixel is two device pixels (projectors at
        2× zoom, high-density screens) and never stretched.
    header : ipywidgets.Widget, optional
        Extra widget (e.g. preset buttons) shown above the controls.
    columns : int
        Controls per row.
    applies : mapping of str to callable, optional
        ``applies[name](state) -> bool``: whether control ``name`` has an effect
        in ``state``. A control that does not apply is disabled (greyed out),
        never silently inert; this is re-evaluated after every change.

    Attributes
    ----------
    controls, image (the ``ipywidgets.Image``), figure (the last drawn Figure),
    :attr:`state`, :attr:`png`.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], draw: Callable[..., Figure], *,
                 dpi: int = DISPLAY_DPI, header: widgets.Widget | None = None, columns: int = 3,
                 applies: Mapping[str, Callable[[dict], bool]] | None = None):
        self.controls = dict(controls)
        self._draw = draw
        self._dpi = dpi
        self._holding = False
        self.applies = dict(applies or {})
        unknown = set(self.applies) - set(self.controls)
        if unknown:
            raise ValueError(f"applies names unknown control(s) {sorted(unknown)}; controls are {sorted(self.controls)}")
        self.figure = None
        self.image = widgets.Image(format="png")
        self.image.add_class("lalib-explorer-picture")
        items = list(self.controls.values())
        rows = [widgets.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
        children = ([header] if header is not None else []) + rows + [self.image]
        super().__init__(children=children)
        self.add_class("lalib-explorer")  # how the browser tests find an explorer on the page
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

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) in CSS pixels at which the picture is shown."""
        return int(self.image.width), int(self.image.height)

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

    def update_enabled(self) -> None:
        """Disable every control that does not apply in the current state, enable the others."""
        state = self.state
        for name, applies in self.applies.items():
            self.controls[name].disabled = not applies(state)

    def redraw(self) -> None:
        """Render the figure for the current state into the picture (at the size shown, twice the pixels)."""
        self.update_enabled()
        fig = self._draw(**self.state)
        self.figure = fig
        width, height = fig.get_size_inches() * self._dpi
        self.image.value = figure_to_png(fig, dpi=HIDPI * self._dpi)
        self.image.width, self.image.height = str(round(width)), str(round(height))

    def _on_change(self, _change) -> None:
        if not self._holding:
            self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        # The widget view for live front-ends, plus a PNG for static renderers (GitHub, nbviewer, the
        # static site, JupyterLab before the notebook runs). The PNG has twice the pixels; its metadata
        # says the size it is shown at, so it appears as large as the live picture and stays sharp.
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        width, height = self.display_size
        return data, {"image/png": {"width": width, "height": height}}


# Chapter explorers below, one section per chapter.

# --- chapter 0: linear algebra toolkit ---


TRANSFORMATION_PRESETS = {
    "identity": ((1.0, 0.0), (0.0, 1.0)),
    "rotation by 30°": ((0.866, -0.5), (0.5, 0.866)),
    "shear": ((1.0, 1.0), (0.0, 1.0)),
    "scaling": ((1.5, 0.0), (0.0, 0.5)),
    "projection onto y = x": ((0.5, 0.5), (0.5, 0.5)),
    "reflection across the x-axis": ((1.0, 0.0), (0.0, -1.0)),
    "singular (rank 1)": ((1.0, 2.0), (0.5, 1.0)),
}


def transformation_explorer(A=None, *, preset="shear"):
    """A 2×2 matrix as a linear map: four sliders for its entries, and presets (chapter 0).

    The picture (:func:`lalib.plotting.transformation_figure`) shows the unit
    circle mapped to an ellipse, the singular vectors scaled by the singular
    values, the real eigen-directions when they exist, and the determinant as
    the signed area of the image of the unit square. Choosing a preset
    (rotation, shear, scaling, projection, reflection, singular, identity) sets
    the four sliders at once; moving a slider afterwards switches the preset
    menu back to "custom".

    Parameters
    ----------
    A : (2, 2) array_like, optional
        Starting matrix (entries are clipped to the sliders' range [-2, 2]);
        default: the ``preset``.
    preset : str
        One of :data:`TRANSFORMATION_PRESETS`, used when ``A`` is None.

    Returns
    -------
    Explorer
        Controls ``a11, a12, a21, a22``; ``explorer.presets`` is the preset menu.

    Examples
    --------
    >>> ex = transformation_explorer(preset="rotation by 30°")
    >>> ex.presets.value = "shear"; ex.state["a12"]
    1.0
    """
    if A is None:
        if preset not in TRANSFORMATION_PRESETS:
            raise ValueError(f"preset must be one of {sorted(TRANSFORMATION_PRESETS)}; got {preset!r}")
        A = TRANSFORMATION_PRESETS[preset]
    A = np.asarray(A, dtype=float)
    if A.shape != (2, 2) or not np.all(np.isfinite(A)):
        raise ValueError(f"A must be a finite 2x2 matrix; got shape {A.shape}")
    A = np.clip(A, -2.0, 2.0)
    names = ("a11", "a12", "a21", "a22")
    controls = {
        name: widgets.FloatSlider(value=float(v), min=-2.0, max=2.0, step=0.01, description=name,
                                  continuous_update=False, readout_format=".2f")
        for name, v in zip(names, A.ravel())
    }

    def draw(a11, a12, a21, a22):
        return transformation_figure(np.array([[a11, a12], [a21, a22]]), lim=3.2)

    menu = widgets.Dropdown(options=["custom", *TRANSFORMATION_PRESETS], description="preset",
                            value=preset if preset in TRANSFORMATION_PRESETS else "custom")
    explorer = Explorer(controls, draw, header=menu, columns=2)
    explorer.presets = menu
    applying = {"now": False}

    def on_preset(change):
        if change["new"] == "custom":
            return
        values = dict(zip(names, np.ravel(TRANSFORMATION_PRESETS[change["new"]])))
        applying["now"] = True
        try:
            explorer.set(**{k: float(v) for k, v in values.items()})  # one redraw for four sliders
        finally:
            applying["now"] = False

    def on_slider(_change):
        if not applying["now"] and menu.value != "custom":
            menu.value = "custom"  # the matrix no longer is the preset

    menu.observe(on_preset, names="value")
    for control in controls.values():
        control.observe(on_slider, names="value")
    if A is not None and menu.value != "custom":
        preset_matrix = np.asarray(TRANSFORMATION_PRESETS[menu.value])
        if not np.allclose(preset_matrix, A):
            menu.value = "custom"
    return explorer


# --- chapter 1: embeddings ---


def _ch1_default_embedding_data():
    """PPMI of the chapter's corpus (200,000 tokens, seed 0, min_count 20, window 2, α = 0.75)."""
    from . import datasets as _ds

    corpus = _ds.synthetic_corpus(200_000, np.random.default_rng(0))
    vocab = _emb.build_vocab(corpus.tokens, min_count=20)
    ids = _emb.encode(corpus.tokens, vocab)
    M = _emb.ppmi(_emb.cooccurrence(ids, len(vocab), 2), alpha=0.75)
    questions = np.array([[vocab.stoi[w] for w in q[:4]] for q in corpus.analogies])
    question_groups = [q[4] for q in corpus.analogies]
    words = [vocab.stoi[w] for w in corpus.words]
    groups = [corpus.group[w] for w in corpus.words]
    return M, vocab.itos, questions, question_groups, words, groups


def embedding_explorer(M=None, labels=None, *, questions=None, question_groups=None, words=None,
                       groups=None, k_max=80, k_step=5, power=0.5, n_neighbors=8, word=None):
    """Pick a word and an embedding dimension k; see neighbours, the 2-D map and analogy accuracy (chapter 1).

    The embeddings are ``W_k = U_k Σ_k^power`` from the truncated SVD of ``M``
    (e.g. a PPMI matrix). One SVD of rank ``k_max`` is computed when the
    explorer is made; every k is a truncation of it, and the analogy accuracy
    for every k on the slider is computed then too, so moving the controls
    only redraws. The map is a PCA of the unit-normalized vectors of the chosen
    word's group (e.g. all people) at the current k; its nearest neighbours (by
    cosine) are searched in that group too.

    Parameters
    ----------
    M : (V, V') dense or sparse, optional
        Default: PPMI of the chapter's synthetic corpus (200,000 tokens, seed 0).
    labels : list of V str
    questions : (q, 4) int, rows a, b, c, d meaning a : b :: c : d
    question_groups : list of q str, optional (per-group accuracy curves)
    words : list of int ids shown in the map and the menu (default: all)
    groups : list of str, one per entry of ``words`` (colours)
    k_max, k_step : int
        The slider runs over k = k_step, 2 k_step, …, k_max.
    n_neighbors : int
    word : str, optional
        The word chosen at first.

    Returns
    -------
    Explorer
        Controls ``word`` (Dropdown) and ``k`` (IntSlider).

    Examples
    --------
    >>> ex = embedding_explorer()            # doctest: +SKIP
    >>> ex.set(word="queen", k=20)           # doctest: +SKIP
    """
    if M is None:
        M, labels, questions, question_groups, words, groups = _ch1_default_embedding_data()
    if labels is None or len(labels) != M.shape[0]:
        raise ValueError(f"labels must give one word per row of M ({M.shape[0]}); got "
                         f"{None if labels is None else len(labels)}")
    words = list(range(M.shape[0])) if words is None else [int(w) for w in words]
    groups = ["other"] * len(words) if groups is None else list(groups)
    if len(groups) != len(words):
        raise ValueError(f"groups must have one entry per word ({len(words)}); got {len(groups)}")
    k_step = _check_positive_int(k_step, "k_step")
    k_max = _check_positive_int(k_max, "k_max", maximum=min(M.shape) - (1 if hasattr(M, "tocsr") else 0),
                                why="the rank of a truncated SVD of M")
    n_neighbors = _check_positive_int(n_neighbors, "n_neighbors", maximum=len(words) - 1)
    _, (U, s, _) = _emb.svd_embeddings(M, k_max, power=power, return_svd=True)  # the one SVD
    ks = np.arange(k_step, k_max + 1, k_step)
    if ks.size == 0:
        raise ValueError(f"k_step must be <= k_max; got k_step={k_step}, k_max={k_max}")
    scaled = U * s ** power
    acc, acc_groups = np.full(ks.size, np.nan), {}
    if questions is not None:
        questions = np.asarray(questions)
        qg = np.asarray(question_groups) if question_groups is not None else None
        names = list(dict.fromkeys(qg)) if qg is not None else []
        acc_groups = {g: np.zeros(ks.size) for g in names}
        for i, k in enumerate(ks):
            pred = _emb.analogy(scaled[:, :k], questions[:, 0], questions[:, 1], questions[:, 2])[:, 0]
            hit = pred == questions[:, 3]
            acc[i] = hit.mean()
            for g in names:
                acc_groups[g][i] = hit[qg == g].mean()
    labels_shown = [labels[w] for w in words]
    group_of = np.asarray(groups)
    cache = {}

    def view(k, group):
        # unit vectors of the chosen word's group at dimension k, their PCA map and cosines
        if (k, group) not in cache:
            members = np.flatnonzero(group_of == group)
            Wk = scaled[np.asarray(words)[members], :k]
            Wn = Wk / np.maximum(np.linalg.norm(Wk, axis=1, keepdims=True), 1e-300)
            Uc, sc, _ = np.linalg.svd(Wn - Wn.mean(axis=0), full_matrices=False)
            Y = Uc[:, :2] * sc[:2]
            Y = Y * np.sign(Y[np.argmax(np.abs(Y), axis=0), [0, 1]])  # fixed orientation
            cache[k, group] = (members, Y, Wn @ Wn.T)
        return cache[k, group]

    def draw(word, k):
        i_all = labels_shown.index(word)
        members, Y, S = view(k, group_of[i_all])
        i = int(np.flatnonzero(members == i_all)[0])
        sims = S[i].copy()
        sims[i] = -np.inf
        nb = np.argsort(-sims, kind="stable")[:min(n_neighbors, len(members) - 1)]
        return _embedding_explorer_figure(Y, [labels_shown[m] for m in members], list(group_of[members]), i, nb,
                                          sims[nb], ks, acc, k, acc_groups=acc_groups)

    start = word if word in labels_shown else labels_shown[0]
    k0 = int(ks[np.nanargmax(acc)]) if questions is not None else int(ks[-1])
    controls = {
        "word": widgets.Dropdown(options=sorted(labels_shown), value=start, description="word"),
        "k": widgets.IntSlider(value=k0, min=int(ks[0]), max=int(ks[-1]), step=k_step,
                               description="dimension k", continuous_update=False),
    }
    explorer = Explorer(controls, draw, columns=2)
    explorer.ks, explorer.accuracy, explorer.accuracy_by_group = ks, acc, acc_groups
    return explorer


# --- chapter 2: MLPs and backpropagation ---


def _mlp_snapshot(params, X, y, grid_points, activation):
    """What the explorer shows at one moment of training, computed once."""
    L = len(params) // 2
    scores = _mlp.mlp_forward(params, X, activation)
    return {
        "spectra": [np.linalg.svd(params[f"W{l}"], compute_uv=False) for l in range(1, L + 1)],
        "grid_labels": _mlp.predict(params, grid_points, activation),
        "loss": _mlp.softmax_cross_entropy(scores, y)[0],
        "accuracy": _mlp.accuracy(scores, y),
    }


def mlp_spectra_explorer(X=None, y=None, *, sizes=(2, 32, 32, 3), activation="relu", epochs=60,
                         snapshot_every=2, optimizer=None, batch_size=32, grid=80, rng=None):
    """Slide over training epochs: the decision regions beside each weight matrix's singular values (chapter 2).

    Trains an MLP once (``mlp.train``), keeping a snapshot every
    ``snapshot_every`` epochs — the singular values of every ``W_ℓ`` and the
    predicted class on a grid — so moving the slider only looks a snapshot up.
    Default data: 3-class spirals from ``rng``.

    Controls: ``epoch`` (slider over the snapshots), ``scale`` ("log" or
    "linear" axis for the singular values). The snapshots are in
    ``explorer.snapshots`` (a dict epoch -> snapshot).

    Examples
    --------
    >>> ex = mlp_spectra_explorer(epochs=4, snapshot_every=2, rng=np.random.default_rng(0))
    >>> ex.set(epoch=4)
    """
    rng = _check_rng(rng)
    if X is None:
        X, y = _datasets.spirals(100, n_classes=sizes[-1], noise=0.2, turns=1.0, rng=rng)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2) (points in the plane); got {X.shape}")
    if y is None:
        raise ValueError("y must be given with X (one integer label per row of X)")
    snapshot_every = _check_positive_int(snapshot_every, "snapshot_every")
    epochs = _check_positive_int(epochs, "epochs")
    params = _mlp.mlp_init(sizes, activation=activation, rng=rng)
    gx, gy, points = _decision_grid(X, n=grid)
    snapshots = {0: _mlp_snapshot(params, X, y, points, activation)}

    def keep(epoch, p, _history):
        if epoch % snapshot_every == 0 or epoch == epochs:
            snapshots[epoch] = _mlp_snapshot(p, X, y, points, activation)

    _mlp.train(params, X, y, activation=activation, optimizer=optimizer or _mlp.Adam(lr=0.01),
               epochs=epochs, batch_size=batch_size, rng=rng, callback=keep, progress=False)
    ymax = 1.15 * max(s.max() for snap in snapshots.values() for s in snap["spectra"])
    available = np.array(sorted(snapshots))

    def draw(epoch, scale):
        nearest = int(available[np.argmin(np.abs(available - epoch))])
        snap = snapshots[nearest]
        return _mlp_spectra_figure(X, y, gx, gy, snap["grid_labels"], snap["spectra"], epoch=nearest,
                                   loss=snap["loss"], acc=snap["accuracy"], logy=(scale == "log"), ymax=ymax)

    controls = {
        # Redraw when the slider is released: a frame takes a few tenths of a second to render.
        # The first still shows the trained network (the last epoch); slide back to watch it learn.
        "epoch": widgets.IntSlider(value=epochs, min=0, max=epochs, step=snapshot_every, description="epoch",
                                   continuous_update=False),
        "scale": widgets.Dropdown(options=["log", "linear"], value="log", description="σ axis"),
    }
    explorer = Explorer(controls, draw, columns=2)
    explorer.snapshots = snapshots
    return explorer


# --- chapter 3: attention and transformers ---


_APPROXIMATIONS = ("Linformer (pooled)", "Linformer (Gaussian)", "Performer")


def _default_attention_example(rng):
    """A short sentence, seeded random embeddings plus positions, and two random pre-norm blocks."""
    from .embeddings import positional_encoding

    labels = "the cat sat on the mat because it was warm and the dog sat too".split()
    vocab = sorted(set(labels))
    d = 16
    E = rng.normal(size=(len(vocab), d))
    X = E[[vocab.index(w) for w in labels]] + positional_encoding(len(labels), d)
    layers = []
    for _ in range(2):
        p = _attention.transformer_block_init(d, 2, rng=rng)
        p["W_Q"] *= 2.0  # sharper than at initialisation, so the heads show some structure
        p["W_K"] *= 2.0
        layers.append(p)
    return X, layers, labels


def attention_explorer(X=None, params=None, n_heads=2, *, labels=None, rng=None):
    """Look inside attention: the map of a head, one query's row, and a linear-time approximation (chapter 3).

    Shows four panels: the exact attention matrix of the chosen layer and
    head (tokens on both axes), the same matrix as a Linformer or Performer
    approximation sees it, the chosen query's row as bars (exact beside
    approximate), and the singular values of both matrices.

    Parameters
    ----------
    X : (n, d_model), optional
        The token representations entering the first layer. Default: a
        15-token sentence with seeded random embeddings plus sinusoidal positions.
    params : dict or list of dict, optional
        One multi-head attention layer (``W_Q, W_K, W_V, W_O`` as from
        :func:`lalib.attention.mha_init`) or a list of transformer blocks
        (:func:`lalib.attention.transformer_block_init`); layer ``ℓ`` sees
        the output of blocks ``0..ℓ-1``, after the block's first layer norm.
    n_heads : int
    labels : list of n str, optional
        Token names for the axes.
    rng : numpy.random.Generator, optional
        Draws the default example; the Performer and Gaussian Linformer
        projections are drawn from a fixed seed so they do not change as you
        move other controls.

    Controls: ``layer``, ``head``, ``query`` (the row shown as bars),
    ``causal`` (mask the future), ``temperature`` τ (scores divided by
    ``τ √d_k``: small τ sharpens, large τ flattens), ``approximation``,
    ``linformer_k`` and ``performer_m`` (compressed length and number of features).

    Examples
    --------
    >>> ex = attention_explorer(rng=np.random.default_rng(0))
    >>> ex.set(head=1, approximation="Performer", performer_m=64)
    """
    rng = _check_rng(rng)
    if X is None:
        if params is not None:
            raise ValueError("X must be given when params is given (the token representations the layer sees)")
        X, params, default_labels = _default_attention_example(rng)
        labels = default_labels if labels is None else labels
    X = _as_float_array(X, "X", ndim=2)
    n, d = X.shape
    if params is None:
        params = _attention.mha_init(d, n_heads, rng=rng)
    layers = [params] if isinstance(params, dict) else list(params)
    if not layers:
        raise ValueError("params must be a dict or a non-empty list of transformer blocks; got an empty list")
    n_heads = _check_positive_int(n_heads, "n_heads")
    if d % n_heads:
        raise ValueError(f"n_heads must divide d_model = {d}; got {n_heads}")
    labels = [str(i) for i in range(n)] if labels is None else [str(s) for s in labels]
    if len(labels) != n:
        raise ValueError(f"labels must have one entry per token (n = {n}); got {len(labels)}")
    dh = d // n_heads

    def head_qk(layer, head, causal):
        Z = X
        mask = _attention.causal_mask(n) if causal else None
        for p in layers[:layer]:
            Z = _attention.transformer_block(Z, p, n_heads, mask=mask)
        p = layers[layer]
        if "gamma1" in p:
            Z = _attention.layer_norm(Z, p["gamma1"], p["beta1"])
        cols = slice(head * dh, (head + 1) * dh)
        return Z @ p["W_Q"][:, cols], Z @ p["W_K"][:, cols]

    def draw(layer, head, query, causal, temperature, approximation, linformer_k, performer_m):
        Q, K = head_qk(layer, head, causal)
        Q = Q / np.sqrt(temperature)  # (Q/√τ)(K/√τ)ᵀ/√d = QKᵀ/(τ√d)
        K = K / np.sqrt(temperature)
        eye = np.eye(n)  # V = I makes the output equal to the attention matrix itself
        mask = _attention.causal_mask(n) if causal else None
        _, A = _attention.scaled_dot_product_attention(Q, K, eye, mask=mask, return_weights=True)
        note = ""
        if approximation == "Performer":
            W = _attention.performer_projection(performer_m, dh, rng=np.random.default_rng(12345))
            A_approx = _attention.performer_attention(Q, K, eye, performer_m, W=W, causal=causal)
            name = f"Performer, m = {performer_m}"
        else:
            kind = "pool" if "pooled" in approximation else "gaussian"
            k = min(linformer_k, n)
            A_approx = _attention.linformer_attention(Q, K, eye, k, projection=kind,
                                                      rng=np.random.default_rng(12345))
            name = f"Linformer ({'pooled' if kind == 'pool' else 'Gaussian'}), k = {k}"
            note = " (never causal)" if causal else ""
        title = f"layer {layer}, head {head}, τ = {temperature:.2g}" + (" (causal)" if causal else "")
        return _attention_explorer_figure(A, A_approx, labels, query, approx_name=name + note, title=title)

    controls = {
        "layer": widgets.IntSlider(value=0, min=0, max=len(layers) - 1, description="layer",
                                   disabled=len(layers) == 1),
        "head": widgets.IntSlider(value=0, min=0, max=n_heads - 1, description="head", disabled=n_heads == 1),
        "query": widgets.IntSlider(value=0, min=0, max=n - 1, description="query"),
        "causal": widgets.Checkbox(value=False, description="causal mask"),
        "temperature": widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05, description="τ"),
        "approximation": widgets.Dropdown(options=_APPROXIMATIONS, value=_APPROXIMATIONS[0],
                                          description="approx."),
        "linformer_k": widgets.IntSlider(value=max(1, n // 3), min=1, max=n, description="Linformer k",
                                         style={"description_width": "initial"}),
        "performer_m": widgets.IntSlider(value=16, min=1, max=256, description="Performer m",
                                         style={"description_width": "initial"}),
    }
    # Each approximation has its own size control; the other one is disabled, not silently inert.
    applies = {"linformer_k": lambda st: st["approximation"] != "Performer",
               "performer_m": lambda st: st["approximation"] == "Performer"}
    return Explorer(controls, draw, columns=4, applies=applies)



# --- chapter 4: low-rank methods ---


def _default_spectrum_matrices(rng):
    """The image, a smooth attention matrix, a decaying-spectrum matrix and a Gaussian one for contrast."""
    from .embeddings import positional_encoding

    n, d = 96, 16
    X = positional_encoding(n, d, base=100.0) + 0.2 * rng.normal(size=(n, d))
    Wq, Wk = rng.normal(size=(2, d, d)) / np.sqrt(d)
    _, A = _attention.scaled_dot_product_attention(X @ Wq, X @ Wk, np.eye(n), return_weights=True)
    U, _ = np.linalg.qr(rng.normal(size=(120, 80)))
    V, _ = np.linalg.qr(rng.normal(size=(80, 80)))
    return {"image (Grace Hopper)": _datasets.grace_hopper(downsample=2),
            "attention matrix (smooth, as in ch. 3)": A,
            "decaying spectrum 0.9^j": (U * 0.9 ** np.arange(80)) @ V.T,
            "random Gaussian": rng.normal(size=(120, 80))}


def spectrum_explorer(matrices=None, *, k=10, images=None, rng=None):
    """Singular values, rank-k reconstruction and the Eckart–Young error of a matrix (chapter 4).

    The picture (:func:`lalib.plotting.spectrum_explorer_figure`) shows the
    chosen matrix, its best rank-``k`` approximation ``A_k`` (or the residual
    ``A − A_k``) and its singular values on a log scale with the rank marked
    and the discarded tail shaded. The readout under the controls gives
    ``‖A − A_k‖₂`` beside ``σ_{k+1}`` and ``‖A − A_k‖_F`` beside the tail
    energy ``(Σ_{j>k} σ_j²)^{1/2}`` — equal, as Eckart–Young–Mirsky says —
    and the storage ``k (m + n + 1)`` against ``m n``.

    Parameters
    ----------
    matrices : dict of name -> (m, n) array, or one array, optional
        Default: the Grace Hopper image, an attention matrix, a matrix with
        singular values ``0.9^j`` and a random Gaussian matrix.
    k : int, the initial rank
    images : iterable of names drawn as grey-scale pictures (default: names starting with "image")
    rng : numpy.random.Generator, optional (draws the default matrices)

    Controls: ``matrix``, ``k`` (its maximum follows ``min(m, n)`` of the
    chosen matrix), ``residual`` (show ``A − A_k`` instead of ``A_k``). The attribute
    ``readout`` holds the numbers shown (``spectral``, ``sigma_next``,
    ``frobenius``, ``tail``), measured from ``A − A_k`` itself.

    Examples
    --------
    >>> ex = spectrum_explorer({"ones": np.ones((5, 4))}, k=1)
    >>> round(ex.readout["spectral"], 12)
    0.0
    """
    from .lowrank import eckart_young_error

    rng = _check_rng(rng)
    if matrices is None:
        matrices = _default_spectrum_matrices(rng)
    elif not isinstance(matrices, dict):
        matrices = {"your matrix": matrices}
    if not matrices:
        raise ValueError("matrices must hold at least one matrix; got an empty dict")
    mats = {str(name): _as_float_array(M, f"matrices[{name!r}]", ndim=2) for name, M in matrices.items()}
    images = {n for n in mats if n.startswith("image")} if images is None else set(images)
    svds = {}

    def svd_of(name):
        if name not in svds:  # one SVD per matrix, computed when it is first shown
            svds[name] = np.linalg.svd(mats[name], full_matrices=False)
        return svds[name]

    names = list(mats)
    first = names[0]
    k = _check_positive_int(k, "k")
    p0 = min(mats[first].shape)
    controls = {
        "matrix": widgets.Dropdown(options=names, value=first, description="matrix",
                                   layout=widgets.Layout(width="360px"), disabled=len(names) == 1),
        "k": widgets.IntSlider(value=min(k, p0), min=1, max=p0, description="rank k", continuous_update=False),
        "residual": widgets.Checkbox(value=False, description="show the residual A − A_k"),
    }

    def on_matrix(change):
        p = min(mats[change["new"]].shape)
        slider = controls["k"]
        if slider.value > p:
            slider.value = p
        slider.max = p

    controls["matrix"].observe(on_matrix, names="value")  # before the explorer's redraw observer
    readout_box = widgets.HTML()
    readout = {}

    def draw(matrix, k, residual):
        A = mats[matrix]
        U, s, Vt = svd_of(matrix)
        k = min(k, s.size)
        A_k = (U[:, :k] * s[:k]) @ Vt[:k]
        sigma_next, tail = eckart_young_error(s, k)
        R = A - A_k
        m, n = A.shape
        readout.clear()
        readout.update(spectral=float(np.linalg.norm(R, 2)), sigma_next=sigma_next,
                       frobenius=float(np.linalg.norm(R)), tail=tail,
                       storage=k * (m + n + 1), full=m * n)
        readout_box.value = (
            f"<b>rank {k}</b>: ‖A − A<sub>k</sub>‖<sub>2</sub> = {readout['spectral']:.4g} "
            f"= σ<sub>k+1</sub> = {sigma_next:.4g} &nbsp;|&nbsp; "
            f"‖A − A<sub>k</sub>‖<sub>F</sub> = {readout['frobenius']:.4g} "
            f"= (Σ<sub>j&gt;k</sub> σ<sub>j</sub><sup>2</sup>)<sup>1/2</sup> = {tail:.4g} &nbsp;|&nbsp; "
            f"storage k(m+n+1) = {k * (m + n + 1):,} of mn = {m * n:,}")
        rel = (sigma_next / s[0] if s[0] > 0 else 0.0, tail / np.linalg.norm(s) if s[0] > 0 else 0.0)
        return _spectrum_explorer_figure(A, A_k, s, k, name=matrix, image=matrix in images, errors=rel,
                                         residual=residual)

    explorer = Explorer(controls, draw, columns=3)
    explorer.children = explorer.children[:-1] + (readout_box, explorer.image)
    explorer.readout = readout
    explorer.readout_html = readout_box
    return explorer


# --- chapter 5: graph neural networks ---


_SPECTRUM_GRAPHS = ("karate club", "SBM (3 blocks)", "grid 8 × 8", "ring 40")
_FILTER_LABELS = {"low-pass": "low-pass", "heat kernel": "heat", "high-pass": "high-pass",
                  "band-pass": "band-pass"}


def _spectrum_graph(name):
    """(A, pos, clean signal) for one of the explorer's built-in graphs."""
    if name == "karate club":
        g = _datasets.karate_club()
        return g.A, _graph_layout(g.A, seed=1), np.where(g.y == 0, 1.0, -1.0)
    if name.startswith("SBM"):
        g = _datasets.sbm_graph(60, 3, avg_degree=6, intra_fraction=0.9, rng=np.random.default_rng(5))
        return g.A, _graph_layout(g.A, seed=2), np.array([1.0, 0.0, -1.0])[g.y]
    if name.startswith("grid"):
        m = 8
        i, j = np.divmod(np.arange(m * m), m)
        edges = [(a, a + 1) for a in range(m * m) if j[a] < m - 1] + [(a, a + m) for a in range(m * m - m)]
        A = _graphs.adjacency_matrix(np.array(edges))
        pos = np.column_stack([j, -i]).astype(float)
        return A, pos, np.cos(np.pi * j / (m - 1)) * np.cos(0.5 * np.pi * i / (m - 1))
    n = 40
    A = _graphs.adjacency_matrix(np.array([(a, (a + 1) % n) for a in range(n)]))
    t = 2 * np.pi * np.arange(n) / n
    return A, _graph_layout(A, kind="circle"), np.cos(t) + 0.5 * np.sin(2 * t)


def graph_spectrum_explorer(A=None, *, pos=None, signal=None, graph="karate club", k=2, rng=None):
    """See a graph's Fourier modes and filter a noisy signal on it (chapter 5).

    Six panels: the graph coloured by eigenvector ``u_k`` of the chosen
    Laplacian; the spectrum with ``λ_k`` marked and the filter response
    ``g(λ)`` drawn over it; the graph Fourier coefficients ``|Uᵀx|`` of the
    noisy and the filtered signal; and the clean, noisy and filtered signals
    on the graph. The filtered signal is ``U g(Λ) Uᵀ x`` (dense: the graphs
    here have at most a few hundred nodes).

    Parameters
    ----------
    A : (n, n) sparse adjacency, optional
        Any graph; then ``graph`` offers "your graph" too. Default: the built-in graphs.
    pos : (n, 2), optional, node positions for ``A`` (default a spring layout)
    signal : (n,), optional, the clean signal on ``A`` (default the Fiedler vector's sign)
    graph : str, the built-in graph shown first: "karate club", "SBM (3 blocks)", "grid 8 × 8", "ring 40"
    k : int, the eigenvector shown first, numbered from 1 (``u_1`` is constant on a
        connected graph; the default ``u_2`` is the Fiedler vector)
    rng : numpy.random.Generator, draws the noise once (default seeded, so the picture is reproducible)

    Controls: ``graph``, ``laplacian`` ("combinatorial" L = D − A or
    "symmetric" L_sym), ``k`` (eigenvector ``u_k``, 1..n), ``filter`` (low-pass, high-pass, band-pass, heat
    kernel), ``cutoff`` (fraction of λ_max; the band is cutoff ± 0.15 λ_max;
    disabled for the heat kernel), ``t`` (heat-kernel time; disabled unless
    the heat kernel is chosen), ``noise`` (noise level relative to the signal).

    Examples
    --------
    >>> ex = graph_spectrum_explorer()
    >>> ex.set(filter="heat kernel", t=2.0)
    >>> ex.controls["t"].disabled, ex.controls["cutoff"].disabled
    (False, True)
    """
    rng = np.random.default_rng(0) if rng is None else _check_rng(rng)
    custom = {}
    names = list(_SPECTRUM_GRAPHS)
    if A is not None:
        A = _graphs._check_adjacency(A)
        n = A.shape[0]
        if n > 600:
            raise ValueError(f"A must have at most 600 nodes (the explorer diagonalizes densely); got {n}")
        pos = _graph_layout(A, seed=1) if pos is None else _as_float_array(pos, "pos", ndim=2, shape=(n, 2))
        if signal is None:
            _, U = _graphs.graph_fourier_basis(_graphs.laplacian(A, "symmetric"))
            signal = np.sign(U[:, 1]) + (U[:, 1] == 0)
        signal = _as_float_array(signal, "signal", ndim=1, shape=(n,))
        custom = {"your graph": (A, pos, signal)}
        names = ["your graph"] + names
        graph = "your graph"
    elif graph not in names:
        raise ValueError(f"graph must be one of {names}; got {graph!r}")
    cache = {}
    noise_draws = {}

    def data(name, kind):
        key = (name, kind)
        if key not in cache:
            A_, pos_, clean = custom[name] if name in custom else _spectrum_graph(name)
            clean = clean / np.linalg.norm(clean) * np.sqrt(len(clean))  # unit RMS: noise levels compare
            lam, U = _graphs.graph_fourier_basis(_graphs.laplacian(A_, kind))
            cache[key] = (A_, pos_, clean, lam, U)
            if name not in noise_draws:
                noise_draws[name] = rng.standard_normal(len(clean))
        return cache[key]

    def draw(graph, laplacian, k, filter, cutoff, t, noise):
        A_, pos_, clean, lam, U = data(graph, laplacian)
        k = min(k, len(lam)) - 1  # the slider numbers eigenvectors 1..n; U's columns are 0..n-1
        noisy = clean + noise * noise_draws[graph]
        top = float(lam[-1])
        kind = _FILTER_LABELS[filter]
        if kind == "heat":
            g = _graphs.filter_response("heat", lam, t=t)
            label = f"heat, t = {t:.2g}"
        elif kind == "band-pass":
            band = (max(cutoff - 0.15, 0.0) * top, min(cutoff + 0.15, 1.0) * top)
            g = _graphs.filter_response("band-pass", lam, band=band)
            label = f"band {band[0]:.2f}–{band[1]:.2f}"
        else:
            g = _graphs.filter_response(kind, lam, cutoff=cutoff * top)
            label = f"{kind}, λ {'≤' if kind == 'low-pass' else '>'} {cutoff * top:.2f}"
        filtered = U @ (g * (U.T @ noisy))  # U g(Λ) Uᵀ x
        kind_label = "L" if laplacian == "combinatorial" else "L_{sym}"
        return _graph_spectrum_explorer_figure(A_, pos_, lam, U, k, clean, noisy, filtered, g,
                                               filter_label=label, kind_label=kind_label)

    n0 = len(data(graph, "symmetric")[3])
    controls = {
        "graph": widgets.Dropdown(options=names, value=graph, description="graph"),
        "laplacian": widgets.Dropdown(options=["symmetric", "combinatorial"], value="symmetric",
                                      description="Laplacian"),
        "k": widgets.IntSlider(value=min(_check_positive_int(k, "k"), n0), min=1, max=n0,
                               description="eigvec k"),
        "cutoff": widgets.FloatSlider(value=0.25, min=0.0, max=1.0, step=0.05, description="cutoff/λmax"),
        "t": widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1.5, step=0.05, description="heat t"),
        "noise": widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1, description="noise"),
        # last, after the sliders it switches on and off: a person sets the filter, then tunes it
        "filter": widgets.Dropdown(options=list(_FILTER_LABELS), value="low-pass", description="filter"),
    }
    # The heat time applies only to the heat kernel, the cutoff to the other three: disabled, never inert.
    applies = {"t": lambda st: st["filter"] == "heat kernel", "cutoff": lambda st: st["filter"] != "heat kernel"}
    explorer = Explorer(controls, draw, columns=4, applies=applies)

    def on_graph(change):
        n = len(data(change["new"], controls["laplacian"].value)[3])
        with explorer.hold():
            controls["k"].max = n

    controls["graph"].observe(on_graph, names="value")
    return explorer
