"""Chapter 3 — attention and transformers, and attention in linear time.

Self-attention is a product of matrices with a row-wise softmax between them
(Baggag & Saad 2025, section on attention):

.. math::

    \\operatorname{Attention}(Q, K, V) = \\operatorname{softmax}\\!\\Big(\\frac{Q K^T}{\\sqrt{d_k}}\\Big) V,
    \\qquad Q = X W_Q,\\; K = X W_K,\\; V = X W_V .

A transformer block is a handful of such products, a layer norm and a
two-layer feed-forward network. The score matrix :math:`Q K^T` is ``n × n``:
time and memory grow like :math:`n^2` in the sequence length. The second half
of this module cuts that cost with linear algebra:

* :func:`chunked_attention` — *exact* attention over blocks of keys with the
  online-softmax recurrence (running max, running sum): memory ``O(n · chunk)``;
* :func:`linear_attention` — a kernel feature map and the associativity
  ``(φ(Q) φ(K)^T) V = φ(Q) (φ(K)^T V)``: time ``O(n D d_v)`` and memory ``O(n)``;
* :func:`performer_attention` — positive random features that estimate the
  softmax kernel itself;
* :func:`linformer_attention` — project keys and values along the sequence
  axis to ``k`` rows, inside the softmax: time ``O(n k d)``; it relies on the
  attention matrix being numerically low-rank, which diffuse attention is and
  sharp attention is not.

Conventions used by every function here
---------------------------------------
* Shapes: ``Q : (..., n, d_k)``, ``K : (..., m, d_k)``, ``V : (..., m, d_v)``;
  ``n`` queries attend over ``m`` keys. Leading dimensions (a batch, or the
  heads) are optional where a docstring says so.
* Masks: a **boolean** mask ``(n, m)`` is ``True`` where query ``i`` *may*
  attend to key ``j``; a **float** mask is *added* to the scores (``0`` to keep,
  ``-inf`` or a large negative number to suppress). A query whose row is fully
  masked has no keys to average over; its weights are a row of zeros (the rule
  of :func:`lalib.mlp.softmax`) and its output is a row of zeros — never NaN.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ._progress import progress_bar
from ._validate import (
    as_float_array,
    as_int_array,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_rng,
    check_finite_loss,
    check_shape,
)
from .mlp import Adam, _check_scores, _log_softmax, _softmax_inplace, softmax  # softmax: the one stable softmax, re-exported

__all__ = [
    "softmax",
    "softmax_backward",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "attention_backward",
    "mha_init",
    "multi_head_attention",
    "layer_norm",
    "transformer_block_init",
    "transformer_block",
    "chunked_attention",
    "linear_attention",
    "performer_projection",
    "performer_features",
    "performer_attention",
    "linformer_projection",
    "linformer_attention",
    "attention_model_init",
    "attention_model_forward",
    "attention_model_gradients",
    "train_attention_model",
    "attention_model_accuracy",
]


# ---------------------------------------------------------------------------
# softmax and masks
#
# ``softmax`` is :func:`lalib.mlp.softmax`, re-exported: one stable softmax for the
# package, with the masked-row rule (an all -inf row gives zero weights, never NaN)
# documented there. Attention uses its in-place, cache-blocked core ``_softmax_inplace``
# on the n × m score matrix, so no second n × m array is made.
# ---------------------------------------------------------------------------

def softmax_backward(p, grad_p, axis: int = -1) -> np.ndarray:
    """Gradient through a softmax: apply its Jacobian ``diag(p) - p pᵀ`` to ``grad_p``.

    For one row ``p = softmax(s)`` the Jacobian ``∂p/∂s = diag(p) - p pᵀ`` is
    symmetric, so the gradient with respect to the scores is

    .. math:: \\frac{\\partial L}{\\partial s} = (\\operatorname{diag}(p) - p p^T) g
              = p \\odot (g - (p^T g)\\,\\mathbf 1),

    computed row by row without ever forming the ``n × n`` Jacobian.

    Parameters
    ----------
    p : array_like
        Softmax output.
    grad_p : array_like, same shape as ``p``
        ``∂L/∂p``.
    axis : int
        The softmax axis.

    Returns
    -------
    grad_s : ndarray, same shape as ``p``

    Examples
    --------
    >>> p = softmax(np.array([0.0, 1.0])); J = np.diag(p) - np.outer(p, p)
    >>> bool(np.allclose(softmax_backward(p, np.array([1.0, 0.0])), J @ [1.0, 0.0]))
    True

    Chapter 3.
    """
    p = as_float_array(p, "p", allow_empty=False)
    g = as_float_array(grad_p, "grad_p", allow_empty=False)
    check_shape(g, "grad_p", p.shape, "same as p")
    return p * (g - np.sum(p * g, axis=axis, keepdims=True))


def causal_mask(n: int) -> np.ndarray:
    """Boolean causal mask: ``mask[i, j] = (j <= i)``, ``True`` = may attend.

    Query ``i`` sees itself and the tokens before it, never the future — the
    rule of an autoregressive (GPT-style) model. The mask is lower triangular.

    Parameters
    ----------
    n : int
        Sequence length.

    Returns
    -------
    mask : (n, n) bool ndarray

    Examples
    --------
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])

    Chapter 3.
    """
    n = check_positive_int(n, "n")
    return np.tril(np.ones((n, n), dtype=bool))


def padding_mask(lengths, n: int) -> np.ndarray:
    """Boolean padding mask for a batch of sequences padded to length ``n``.

    ``mask[b, i, j] = (j < lengths[b])``: every query may attend only to the
    real (non-padding) keys of its own sequence.

    Parameters
    ----------
    lengths : (B,) ints in [1, n]
    n : int

    Returns
    -------
    mask : (B, n, n) bool ndarray, broadcastable against scores ``(B, n, n)``

    Examples
    --------
    >>> padding_mask([2], 3)[0].astype(int)
    array([[1, 1, 0],
           [1, 1, 0],
           [1, 1, 0]])

    Chapter 3.
    """
    n = check_positive_int(n, "n")
    lengths = as_int_array(lengths, "lengths", ndim=1, low=1, high=n + 1)
    keep = np.arange(n)[None, :] < lengths[:, None]  # (B, n) over keys
    return np.broadcast_to(keep[:, None, :], (len(lengths), n, n)).copy()


# ---------------------------------------------------------------------------
# scaled dot-product attention and its backward pass
# ---------------------------------------------------------------------------

def _check_qkv(Q, K, V):
    Q = as_float_array(Q, "Q", allow_empty=False)
    K = as_float_array(K, "K", allow_empty=False)
    V = as_float_array(V, "V", allow_empty=False)
    if Q.ndim < 2:
        raise ValueError(f"Q must have shape (..., n, d_k) with at least 2 dimensions; got shape {Q.shape}")
    if K.ndim != Q.ndim or K.shape[:-2] != Q.shape[:-2] or K.shape[-1] != Q.shape[-1]:
        raise ValueError(f"K must have shape {Q.shape[:-2] + ('m', Q.shape[-1])} (d_k == Q.shape[-1] == "
                         f"{Q.shape[-1]}, same leading dimensions as Q); got {K.shape}")
    if V.ndim != K.ndim or V.shape[:-1] != K.shape[:-1]:
        raise ValueError(f"V must have shape {K.shape[:-1] + ('d_v',)} (one value row per key, "
                         f"m == K.shape[-2] == {K.shape[-2]}); got {V.shape}")
    dtype = np.result_type(Q, K, V)
    return Q.astype(dtype, copy=False), K.astype(dtype, copy=False), V.astype(dtype, copy=False)


def _check_mask(mask, n: int, m: int, lead: tuple) -> np.ndarray | None:
    """A mask broadcastable to the scores (..., n, m); bool (keep) or float (additive)."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        mask = _check_scores(mask, "mask")
    want = lead + (n, m)
    ok = mask.ndim >= 2 and mask.shape[-2:] == (n, m) and mask.ndim <= len(want)
    if ok:
        try:
            np.broadcast_shapes(mask.shape, want)
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(f"mask must have shape (n, m) = ({n}, {m}) (queries × keys), or be broadcastable "
                         f"to the scores {want}; got {mask.shape}")
    return mask


def _masked_scores(Q, K, mask) -> np.ndarray:
    """S = Q Kᵀ / √d_k with the mask applied, in one n × m array."""
    scale = 1.0 / math.sqrt(Q.shape[-1])
    S = (Q * scale) @ np.swapaxes(K, -1, -2)  # scaling Q costs n·d, scaling S would cost n·m
    if mask is not None:
        if mask.dtype == bool:
            if mask.shape == S.shape:
                S[~mask] = -np.inf  # in place: no second n × m array
            else:
                S = np.where(mask, S, -np.inf)  # a mask broadcast over a batch or heads
        else:
            S += mask
    return S


def scaled_dot_product_attention(Q, K, V, mask=None, return_weights: bool = False):
    """Scaled dot-product attention ``softmax(Q Kᵀ / √d_k) V``.

    .. math:: A = \\operatorname{softmax}\\!\\Big(\\frac{Q K^T}{\\sqrt{d_k}} + M\\Big),
              \\qquad \\operatorname{out} = A V

    Each row of ``A`` is a probability vector (row-stochastic matrix), so each
    output row is a weighted average of the rows of ``V``. Dividing by
    ``√d_k`` keeps the scores of unit-variance queries and keys at unit
    variance, so the softmax does not saturate as ``d_k`` grows.

    Parameters
    ----------
    Q : (..., n, d_k) queries
    K : (..., m, d_k) keys
    V : (..., m, d_v) values
    mask : (n, m) or broadcastable to (..., n, m), optional
        Boolean: ``True`` where query ``i`` may attend to key ``j``.
        Float: added to the scores (``0`` keep, ``-inf`` suppress).
        A fully masked row gives a zero row of weights and a zero output row.
    return_weights : bool
        Also return the attention matrix ``A``.

    Returns
    -------
    out : (..., n, d_v)
    A : (..., n, m), only if ``return_weights``

    Examples
    --------
    >>> Q = K = np.eye(2); V = np.array([[1.0], [3.0]])
    >>> out, A = scaled_dot_product_attention(Q, K, V, mask=causal_mask(2), return_weights=True)
    >>> out[0, 0], A[0].tolist()
    (np.float64(1.0), [1.0, 0.0])

    Chapter 3.
    """
    Q, K, V = _check_qkv(Q, K, V)
    mask = _check_mask(mask, Q.shape[-2], K.shape[-2], Q.shape[:-2])
    S = _masked_scores(Q, K, mask)
    if return_weights:
        _softmax_inplace(S)
        return S @ V, S
    # Normalise after the product: dividing the (n, d_v) output is cheaper than the (n, m) weights.
    total = _softmax_inplace(S, normalize=False)
    out = S @ V
    out /= np.where(total > 0, total, 1.0)
    return out


def attention_backward(dout, Q, K, V, mask=None):
    """Backward pass of scaled dot-product attention: ``(dQ, dK, dV)`` from ``dout = ∂L/∂out``.

    With ``S = Q Kᵀ/√d_k``, ``A = softmax(S)`` row by row and ``out = A V``:

    .. math::
        dV = A^T\\, d\\mathrm{out}, \\qquad dA = d\\mathrm{out}\\, V^T, \\qquad
        dS_{i,:} = (\\operatorname{diag}(a_i) - a_i a_i^T)\\, dA_{i,:}
                 = a_i \\odot (dA_{i,:} - a_i^T dA_{i,:}),

    .. math:: dQ = dS\\, K / \\sqrt{d_k}, \\qquad dK = dS^T Q / \\sqrt{d_k}.

    Masked entries have ``a_ij = 0``, so no gradient flows through them.

    Parameters
    ----------
    dout : (..., n, d_v)
    Q, K, V, mask
        As in :func:`scaled_dot_product_attention`.

    Returns
    -------
    dQ : (..., n, d_k), dK : (..., m, d_k), dV : (..., m, d_v)

    Examples
    --------
    >>> rng = np.random.default_rng(0); Q, K, V = rng.normal(size=(3, 4, 2))
    >>> dQ, dK, dV = attention_backward(np.ones((4, 2)), Q, K, V)
    >>> dQ.shape, dK.shape, dV.shape
    ((4, 2), (4, 2), (4, 2))

    Chapter 3.
    """
    Q, K, V = _check_qkv(Q, K, V)
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", Q.shape[:-1] + (V.shape[-1],), "same as the attention output")
    mask = _check_mask(mask, Q.shape[-2], K.shape[-2], Q.shape[:-2])
    A = _masked_scores(Q, K, mask)
    _softmax_inplace(A)
    return _attention_backward(dout, Q, K, V, A)


def _attention_backward(dout, Q, K, V, A):
    """The backward products, given the attention weights ``A`` of the forward pass."""
    KT = lambda M: np.swapaxes(M, -1, -2)  # noqa: E731  (transpose of the last two axes)
    dV = KT(A) @ dout
    dA = dout @ KT(V)
    dS = A * (dA - np.sum(A * dA, axis=-1, keepdims=True))  # (diag(a) - a aᵀ) dA, row by row
    scale = 1.0 / math.sqrt(Q.shape[-1])
    return (dS @ K) * scale, (KT(dS) @ Q) * scale, dV


# ---------------------------------------------------------------------------
# multi-head attention, layer norm, transformer block
# ---------------------------------------------------------------------------

def _check_params(params, keys, shapes: dict, where: str) -> dict:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays ({where}); got {type(params).__name__}")
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing} ({where}); it has {sorted(params)}")
    out = {}
    for k in keys:
        out[k] = as_float_array(params[k], f"params[{k!r}]", shape=shapes[k])
    return out


def _check_heads(d_model: int, n_heads) -> int:
    n_heads = check_positive_int(n_heads, "n_heads")
    if d_model % n_heads:
        raise ValueError(f"n_heads must divide d_model = {d_model} (each head gets d_model / n_heads "
                         f"columns); got n_heads = {n_heads}")
    return n_heads


def mha_init(d_model: int, n_heads: int, rng=None) -> dict:
    """Random parameters for :func:`multi_head_attention`.

    ``W_Q, W_K, W_V, W_O`` are ``(d_model, d_model)`` with entries
    ``N(0, 1/d_model)``, so a projection keeps the scale of its input.
    Head ``h`` owns columns ``h·d_h : (h+1)·d_h`` of ``W_Q, W_K, W_V`` and the
    same rows of ``W_O`` (``d_h = d_model / n_heads``).

    Examples
    --------
    >>> p = mha_init(8, 2, rng=np.random.default_rng(0)); sorted(p), p["W_Q"].shape
    (['W_K', 'W_O', 'W_Q', 'W_V'], (8, 8))

    Chapter 3.
    """
    d_model = check_positive_int(d_model, "d_model")
    _check_heads(d_model, n_heads)
    rng = check_rng(rng)
    std = 1.0 / math.sqrt(d_model)
    return {name: rng.normal(0.0, std, size=(d_model, d_model)) for name in ("W_Q", "W_K", "W_V", "W_O")}


def _split_heads(M: np.ndarray, n_heads: int) -> np.ndarray:
    """(..., n, d_model) → (..., h, n, d_h): the column blocks of M, one per head."""
    *lead, n, d = M.shape
    return np.moveaxis(M.reshape(*lead, n, n_heads, d // n_heads), -2, -3)


def _merge_heads(M: np.ndarray) -> np.ndarray:
    """(..., h, n, d_h) → (..., n, h·d_h): concatenate the heads side by side."""
    M = np.moveaxis(M, -3, -2)
    return M.reshape(*M.shape[:-2], -1)


def multi_head_attention(X, params, n_heads: int, mask=None, return_weights: bool = False):
    """Multi-head self-attention: ``concat(head_1, …, head_h) W_O``.

    .. math::
        W_Q = [W_Q^{(1)} \\,|\\, \\cdots \\,|\\, W_Q^{(h)}], \\quad
        \\operatorname{head}_i = \\operatorname{Attention}(X W_Q^{(i)}, X W_K^{(i)}, X W_V^{(i)}), \\quad
        \\operatorname{MHA}(X) = [\\operatorname{head}_1 | \\cdots | \\operatorname{head}_h]\\, W_O

    The projection matrices are split into ``h`` column blocks of width
    ``d_h = d_model / h``; one product ``X W_Q`` computes all heads' queries at
    once, and the concatenation times ``W_O`` is the sum over heads of
    ``head_i W_O^{(i)}`` (row blocks of ``W_O``).

    Parameters
    ----------
    X : (..., n, d_model)
    params : dict with ``W_Q, W_K, W_V, W_O`` each ``(d_model, d_model)`` (see :func:`mha_init`)
    n_heads : int, must divide ``d_model``
    mask : optional, as in :func:`scaled_dot_product_attention` (shared by all heads)
    return_weights : bool
        Also return the attention matrices, ``(..., n_heads, n, n)``.

    Returns
    -------
    out : (..., n, d_model)

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(5, 8))
    >>> multi_head_attention(X, mha_init(8, 2, rng=rng), n_heads=2).shape
    (5, 8)

    Chapter 3.
    """
    X = as_float_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d_model); got shape {X.shape}")
    d = X.shape[-1]
    n_heads = _check_heads(d, n_heads)
    p = _check_params(params, ("W_Q", "W_K", "W_V", "W_O"), {k: (d, d) for k in ("W_Q", "W_K", "W_V", "W_O")},
                      f"multi-head attention with d_model = {d}")
    n = X.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.ndim >= 3:  # a per-sequence mask (B, n, n) is shared by the heads: add a head axis
            mask = mask[..., None, :, :]
    Qh, Kh, Vh = (_split_heads(X @ p[k], n_heads) for k in ("W_Q", "W_K", "W_V"))
    mask = _check_mask(mask, n, n, Qh.shape[:-2])
    if return_weights:
        heads, A = scaled_dot_product_attention(Qh, Kh, Vh, mask=mask, return_weights=True)
        return _merge_heads(heads) @ p["W_O"], A
    heads = scaled_dot_product_attention(Qh, Kh, Vh, mask=mask)
    return _merge_heads(heads) @ p["W_O"]


def layer_norm(x, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """Layer normalisation over the last axis: ``γ ⊙ (x - μ) / √(σ² + ε) + β``.

    Each token (row) is centred and scaled by its own mean ``μ`` and variance
    ``σ²`` over the ``d`` features — a projection onto the hyperplane
    ``1ᵀx = 0`` followed by a rescaling to norm ``√d`` — then given a learned
    per-feature scale ``γ`` and shift ``β``.

    Parameters
    ----------
    x : (..., d)
    gamma, beta : (d,)
    eps : float > 0, guards against division by zero for a constant row

    Returns
    -------
    y : (..., d)

    Examples
    --------
    >>> y = layer_norm(np.array([[1.0, 2.0, 3.0]]), np.ones(3), np.zeros(3))
    >>> bool(abs(y.mean()) < 1e-12), round(float(y.std()), 4)
    (True, 1.0)

    Chapter 3.
    """
    x = as_float_array(x, "x")
    d = x.shape[-1]
    gamma = as_float_array(gamma, "gamma", shape=(d,))
    beta = as_float_array(beta, "beta", shape=(d,))
    eps = check_positive_float(eps, "eps")
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


_BLOCK_KEYS = ("W_Q", "W_K", "W_V", "W_O", "gamma1", "beta1", "gamma2", "beta2", "W1", "b1", "W2", "b2")


def transformer_block_init(d_model: int, n_heads: int, d_ff: int | None = None, rng=None) -> dict:
    """Random parameters for :func:`transformer_block` (pre-norm).

    Attention weights as in :func:`mha_init`; layer norms start as the
    identity map (``γ = 1, β = 0``); the feed-forward weights ``W1 : (d_model,
    d_ff)``, ``W2 : (d_ff, d_model)`` are He-normal, biases zero.
    ``d_ff`` defaults to ``4 · d_model`` as in Vaswani et al.

    Examples
    --------
    >>> p = transformer_block_init(8, 2, rng=np.random.default_rng(0)); p["W1"].shape
    (8, 32)

    Chapter 3.
    """
    d_model = check_positive_int(d_model, "d_model")
    d_ff = 4 * d_model if d_ff is None else check_positive_int(d_ff, "d_ff")
    rng = check_rng(rng)
    p = mha_init(d_model, n_heads, rng=rng)
    p.update(gamma1=np.ones(d_model), beta1=np.zeros(d_model), gamma2=np.ones(d_model), beta2=np.zeros(d_model),
             W1=rng.normal(0.0, math.sqrt(2.0 / d_model), size=(d_model, d_ff)), b1=np.zeros(d_ff),
             W2=rng.normal(0.0, math.sqrt(2.0 / d_ff), size=(d_ff, d_model)), b2=np.zeros(d_model))
    return p


def transformer_block(X, params, n_heads: int, mask=None, return_weights: bool = False):
    """One pre-norm transformer block: attention and a feed-forward net, each with a residual.

    .. math::
        H = X + \\operatorname{MHA}(\\operatorname{LN}_1(X)), \\qquad
        Y = H + \\operatorname{ReLU}(\\operatorname{LN}_2(H)\\, W_1 + b_1)\\, W_2 + b_2

    *Pre-norm* (layer norm before each sub-layer, as in GPT-2 and most modern
    models) rather than the post-norm of the original transformer: the
    residual path ``X → Y`` is then the identity plus corrections, which is
    what keeps deep stacks trainable.

    Parameters
    ----------
    X : (..., n, d_model)
    params : dict from :func:`transformer_block_init`
    n_heads : int, divides ``d_model``
    mask : optional, as in :func:`scaled_dot_product_attention`
    return_weights : bool
        Also return the attention matrices ``(..., n_heads, n, n)``.

    Returns
    -------
    Y : (..., n, d_model)

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(4, 8))
    >>> transformer_block(X, transformer_block_init(8, 2, rng=rng), n_heads=2).shape
    (4, 8)

    Chapter 3.
    """
    X = as_float_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d_model); got shape {X.shape}")
    d = X.shape[-1]
    if not isinstance(params, dict) or "W1" not in params:
        raise ValueError(f"params must be a dict with keys {list(_BLOCK_KEYS)} (see transformer_block_init); "
                         f"got {sorted(params) if isinstance(params, dict) else type(params).__name__}")
    d_ff = np.shape(params["W1"])[-1]
    shapes = {k: (d, d) for k in ("W_Q", "W_K", "W_V", "W_O")}
    shapes.update(gamma1=(d,), beta1=(d,), gamma2=(d,), beta2=(d,), W1=(d, d_ff), b1=(d_ff,), W2=(d_ff, d), b2=(d,))
    p = _check_params(params, _BLOCK_KEYS, shapes, f"transformer block with d_model = {d}")
    attn = multi_head_attention(layer_norm(X, p["gamma1"], p["beta1"]), p, n_heads, mask=mask,
                                return_weights=return_weights)
    attn, A = attn if return_weights else (attn, None)
    H = X + attn
    Z = layer_norm(H, p["gamma2"], p["beta2"]) @ p["W1"] + p["b1"]
    Y = H + np.maximum(Z, 0.0) @ p["W2"] + p["b2"]
    return (Y, A) if return_weights else Y


# ---------------------------------------------------------------------------
# exact attention in O(n · chunk) memory: the online softmax
# ---------------------------------------------------------------------------

def _check_2d_qkv(Q, K, V, causal: bool):
    Q, K, V = _check_qkv(Q, K, V)
    if Q.ndim != 2:
        raise ValueError(f"Q must be 2-D (n, d_k) here; got shape {Q.shape}")
    if causal and Q.shape[0] != K.shape[0]:
        raise ValueError(f"causal attention needs as many keys as queries (self-attention); "
                         f"got Q with n = {Q.shape[0]} and K with m = {K.shape[0]}")
    return Q, K, V


def chunked_attention(Q, K, V, chunk_size: int = 128, causal: bool = False) -> np.ndarray:
    """Exact softmax attention, one block of keys at a time (the online softmax).

    The keys are visited in blocks of ``chunk_size``. For every query we keep
    a running maximum ``m``, a running sum ``ℓ`` and a running output
    ``o`` (unnormalised). A new block with scores ``s`` updates them as

    .. math::
        m' = \\max(m, \\max_j s_j), \\quad
        \\ell' = e^{m - m'} \\ell + \\sum_j e^{s_j - m'}, \\quad
        o' = e^{m - m'} o + \\sum_j e^{s_j - m'} v_j ,

    and at the end ``out = o / ℓ``. Rescaling by ``e^{m - m'}`` corrects the
    earlier blocks for the new maximum, so the result equals
    :func:`scaled_dot_product_attention` to rounding error (Milakov &
    Gimelshein 2018; the same recurrence is the core of FlashAttention).
    Only an ``(n, chunk_size)`` block of scores ever exists: extra memory is
    ``O(n · chunk_size)`` instead of ``O(n²)``; the work is still ``O(n² d)``.

    Parameters
    ----------
    Q : (n, d_k), K : (m, d_k), V : (m, d_v)
    chunk_size : int >= 1 (need not divide ``m``)
    causal : bool
        Query ``i`` attends to keys ``j <= i`` (requires ``m == n``); blocks
        entirely in the future of a query are skipped for it.

    Returns
    -------
    out : (n, d_v)

    Examples
    --------
    >>> rng = np.random.default_rng(0); Q, K, V = rng.normal(size=(3, 10, 4))
    >>> bool(np.allclose(chunked_attention(Q, K, V, chunk_size=3), scaled_dot_product_attention(Q, K, V)))
    True

    Chapter 3.
    """
    Q, K, V = _check_2d_qkv(Q, K, V, causal)
    c = check_positive_int(chunk_size, "chunk_size")
    n, m = Q.shape[0], K.shape[0]
    Qs = Q * (1.0 / math.sqrt(Q.shape[1]))
    run_max = np.full(n, -np.inf, dtype=Q.dtype)
    run_sum = np.zeros(n, dtype=Q.dtype)
    out = np.zeros((n, V.shape[1]), dtype=Q.dtype)
    future = np.triu(np.ones((c, c), dtype=bool), k=1)  # key t after query r inside a diagonal block
    for start in range(0, m, c):
        Kb, Vb = K[start:start + c], V[start:start + c]
        q0 = start if causal else 0  # causal: queries before `start` see nothing in this block
        S = Qs[q0:] @ Kb.T  # (n - q0, b) scores of this block
        if causal:  # only the diagonal block's first rows see future keys (t > r)
            r = min(S.shape[0], Kb.shape[0])
            S[:r][future[:r, :Kb.shape[0]]] = -np.inf
        new_max = np.maximum(run_max[q0:], S.max(axis=1))  # finite: every row has key j <= i
        alpha = np.exp(run_max[q0:] - new_max)  # exp(-inf) = 0 on the first block
        S -= new_max[:, None]
        np.exp(S, out=S)  # masked -inf → 0
        o, ell = out[q0:], run_sum[q0:]  # views: the updates below happen in place
        ell *= alpha
        ell += S.sum(axis=1)
        o *= alpha[:, None]
        o += S @ Vb
        run_max[q0:] = new_max
        del S  # free this block before the next one is allocated: one (n, chunk) block at a time
    out /= run_sum[:, None]
    return out


# ---------------------------------------------------------------------------
# linear attention: a kernel feature map and associativity
# ---------------------------------------------------------------------------

def _elu_plus_one(X: np.ndarray) -> np.ndarray:
    """φ(x) = elu(x) + 1 = x + 1 for x > 0, eˣ for x <= 0: positive, smooth."""
    return np.where(X > 0, X + 1.0, np.exp(np.minimum(X, 0.0)))


_FEATURE_MAPS = {"elu": _elu_plus_one}


def _feature_map(feature_map) -> Callable[[np.ndarray], np.ndarray]:
    if callable(feature_map):
        return feature_map
    return _FEATURE_MAPS[check_choice(feature_map, "feature_map", tuple(_FEATURE_MAPS) + ("<a callable>",))]


def _kernel_attention(phiQ, phiK, V, causal: bool, chunk_size: int, name: str, return_weights: bool):
    """out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j), over j (or j <= i) — never an n × m matrix."""
    if return_weights:  # the implied n × m attention matrix, for pictures and tests only
        A = phiQ @ phiK.T
        if causal:
            A = np.tril(A)
        den = A.sum(axis=1, keepdims=True)
        if np.any(den <= 0):
            raise ValueError(f"{name} must give positive features: some normaliser φ(q)ᵀΣφ(k) is <= 0")
        A /= den
        return A @ V, A
    if not causal:
        KV = phiK.T @ V  # (D, d_v): the sum over keys, done once — this is the associativity trick
        z = phiK.sum(axis=0)  # (D,)
        num, den = phiQ @ KV, phiQ @ z
    else:
        # Prefix sums S_i = Σ_{j<=i} φ(k_j) v_jᵀ and z_i = Σ_{j<=i} φ(k_j), carried block by block:
        # inside a block the few pairs j <= i are done directly (a small lower-triangular product).
        n, D = phiQ.shape
        S = np.zeros((D, V.shape[1]), dtype=V.dtype)
        z = np.zeros(D, dtype=V.dtype)
        num = np.empty((n, V.shape[1]), dtype=V.dtype)
        den = np.empty(n, dtype=V.dtype)
        for s in range(0, n, chunk_size):
            q, k, v = phiQ[s:s + chunk_size], phiK[s:s + chunk_size], V[s:s + chunk_size]
            local = np.tril(q @ k.T)  # (b, b): pairs inside the block, j <= i
            num[s:s + chunk_size] = q @ S + local @ v
            den[s:s + chunk_size] = q @ z + local.sum(axis=1)
            S += k.T @ v
            z += k.sum(axis=0)
    if np.any(den <= 0):
        raise ValueError(f"{name} must give positive features: some normaliser φ(q)ᵀΣφ(k) is <= 0")
    return num / den[:, None]


def linear_attention(Q, K, V, feature_map="elu", causal: bool = False, chunk_size: int = 256,
                     return_weights: bool = False):
    """Linear attention (Katharopoulos et al. 2020): replace ``exp(qᵀk)`` by ``φ(q)ᵀφ(k)``.

    .. math::
        \\operatorname{out}_i = \\frac{\\sum_j \\varphi(q_i)^T\\varphi(k_j)\\, v_j^T}
                                    {\\sum_j \\varphi(q_i)^T\\varphi(k_j)}
        = \\frac{\\varphi(q_i)^T \\big(\\varphi(K)^T V\\big)}{\\varphi(q_i)^T \\big(\\varphi(K)^T \\mathbf 1\\big)}

    Because matrix products associate, ``(φ(Q) φ(K)ᵀ) V = φ(Q) (φ(K)ᵀ V)``:
    the right-hand side never forms the ``n × m`` matrix and costs
    ``O((n + m) D d_v)`` instead of ``O(n m d_v)``. The default feature map is
    ``φ(x) = elu(x) + 1``, positive so the weights stay a probability vector.

    With ``causal=True`` the sums run over ``j <= i``: they are prefix sums
    ``S_i = S_{i-1} + φ(k_i) v_iᵀ``, ``z_i = z_{i-1} + φ(k_i)`` — a recurrent
    network whose state is the ``D × d_v`` matrix ``S``. They are carried
    block by block (``chunk_size`` rows at a time) so NumPy does the work.

    Parameters
    ----------
    Q : (n, d_k), K : (m, d_k), V : (m, d_v)
    feature_map : "elu" or callable
        A callable maps an ``(r, d_k)`` array to positive features ``(r, D)``.
    causal : bool
        Requires ``m == n``.
    chunk_size : int
        Block length of the causal prefix sums (does not change the result).
    return_weights : bool
        Also return the implied ``(n, m)`` attention matrix (this forms it — for pictures only).

    Returns
    -------
    out : (n, d_v)

    Examples
    --------
    >>> rng = np.random.default_rng(0); Q, K, V = rng.normal(size=(3, 6, 2))
    >>> out, A = linear_attention(Q, K, V, return_weights=True)
    >>> out.shape, bool(np.allclose(A.sum(axis=1), 1))
    ((6, 2), True)

    Chapter 3.
    """
    Q, K, V = _check_2d_qkv(Q, K, V, causal)
    phi = _feature_map(feature_map)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    phiQ = as_float_array(phi(Q), "feature_map(Q)", ndim=2)
    phiK = as_float_array(phi(K), "feature_map(K)", ndim=2)
    check_shape(phiQ, "feature_map(Q)", (Q.shape[0], None), "one feature row per query")
    check_shape(phiK, "feature_map(K)", (K.shape[0], phiQ.shape[1]), "one row per key, as many features as for Q")
    if phiQ.min() < 0 or phiK.min() < 0:  # negative features could give negative "weights"
        raise ValueError(f"feature_map must return non-negative features; got a minimum of "
                         f"{min(phiQ.min(), phiK.min()):.3g}")
    return _kernel_attention(phiQ, phiK, V, causal, chunk_size, "feature_map", return_weights)


# ---------------------------------------------------------------------------
# Performer: positive random features for the softmax kernel
# ---------------------------------------------------------------------------

def performer_projection(n_features: int, d: int, orthogonal: bool = True, rng=None) -> np.ndarray:
    """Random projection ``W : (n_features, d)`` whose rows are Gaussian directions.

    ``orthogonal=False``: i.i.d. ``N(0, I_d)`` rows. ``orthogonal=True``:
    blocks of ``d`` rows made exactly orthogonal by a QR factorisation of a
    Gaussian matrix, each row rescaled to the length of an independent
    Gaussian vector (a χ_d length), so every row is still marginally
    ``N(0, I_d)`` but rows within a block do not repeat each other's
    information — the estimator's variance drops (Choromanski et al. 2021).

    Examples
    --------
    >>> W = performer_projection(4, 4, rng=np.random.default_rng(0))
    >>> G = W @ W.T; bool(np.allclose(G - np.diag(np.diag(G)), 0))
    True

    Chapter 3.
    """
    n_features = check_positive_int(n_features, "n_features")
    d = check_positive_int(d, "d")
    rng = check_rng(rng)
    if not orthogonal:
        return rng.normal(size=(n_features, d))
    blocks = []
    for _ in range(-(-n_features // d)):
        Qm, R = np.linalg.qr(rng.normal(size=(d, d)))
        Qm *= np.sign(np.diag(R))  # sign fix: makes Q Haar-distributed
        lengths = np.linalg.norm(rng.normal(size=(d, d)), axis=1)
        blocks.append(Qm.T * lengths[:, None])
    return np.vstack(blocks)[:n_features]


def performer_features(X, W, stabilize: str = "row") -> np.ndarray:
    """Positive random features ``φ(x) = exp(Wx - ‖x‖²/2) / √D`` of the rows of ``X``.

    They estimate the softmax kernel without bias:
    ``E[φ(q)ᵀφ(k)] = exp(qᵀk)`` for ``w ~ N(0, I)``. Every feature is
    positive, so estimated attention weights are never negative.

    ``stabilize`` subtracts a constant inside the exponential so nothing
    overflows: ``"row"`` the maximum of each row (right for queries: a
    per-query factor cancels in that query's normalisation), ``"all"`` one
    global maximum (right for keys: one factor for all keys cancels too),
    ``"none"`` nothing (the exact unbiased features).

    Parameters
    ----------
    X : (r, d), W : (D, d)

    Returns
    -------
    phi : (r, D)

    Examples
    --------
    >>> phi = performer_features(np.zeros((2, 3)), np.ones((5, 3))); phi.shape
    (2, 5)

    Chapter 3.
    """
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    check_shape(W, "W", (None, X.shape[1]), "columns == X.shape[1]")
    check_choice(stabilize, "stabilize", ("row", "all", "none"))
    U = X @ W.T - 0.5 * np.sum(X * X, axis=1, keepdims=True)
    if stabilize == "row":
        U -= U.max(axis=1, keepdims=True)
    elif stabilize == "all":
        U -= U.max()
    return np.exp(U) / math.sqrt(W.shape[0])


def performer_attention(Q, K, V, n_features: int, rng=None, orthogonal: bool = True, W=None,
                        causal: bool = False, return_weights: bool = False):
    """Performer attention (FAVOR+): softmax attention estimated with positive random features.

    With ``q̃ = q / d_k^{1/4}`` and ``k̃ = k / d_k^{1/4}`` (so ``q̃ᵀk̃ = qᵀk/√d_k``)
    and ``φ`` from :func:`performer_features`,

    .. math::
        \\exp(\\tilde q^T \\tilde k) = \\mathbb E_w\\big[e^{w^T\\tilde q - \\|\\tilde q\\|^2/2}\\,
        e^{w^T\\tilde k - \\|\\tilde k\\|^2/2}\\big] \\approx \\varphi(\\tilde q)^T \\varphi(\\tilde k),

    and attention becomes :func:`linear_attention` with this ``φ``: time
    ``O(n D d)``, no ``n × n`` matrix. The error falls like ``1/√D`` in the
    number of features ``D``; orthogonal features lower it further.

    Parameters
    ----------
    Q : (n, d_k), K : (m, d_k), V : (m, d_v)
    n_features : int
        ``D``, the number of random features.
    rng : numpy.random.Generator, optional
        Draws the projection (ignored when ``W`` is given).
    orthogonal : bool
        Orthogonal blocks (default) or i.i.d. Gaussian rows.
    W : (n_features, d_k), optional
        A projection to reuse (e.g. from :func:`performer_projection`).
    causal : bool
        Prefix-sum (causal) form; requires ``m == n``.
    return_weights : bool
        Also return the implied ``(n, m)`` attention matrix (forms it — for pictures only).

    Returns
    -------
    out : (n, d_v)

    Examples
    --------
    >>> rng = np.random.default_rng(0); Q, K, V = rng.normal(size=(3, 8, 4)) * 0.5
    >>> approx = performer_attention(Q, K, V, n_features=256, rng=rng)
    >>> bool(np.abs(approx - scaled_dot_product_attention(Q, K, V)).max() < 0.2)
    True

    Chapter 3.
    """
    Q, K, V = _check_2d_qkv(Q, K, V, causal)
    n_features = check_positive_int(n_features, "n_features")
    d = Q.shape[1]
    if W is None:
        W = performer_projection(n_features, d, orthogonal=orthogonal, rng=check_rng(rng))
    else:
        W = as_float_array(W, "W")
        check_shape(W, "W", (n_features, d), "(n_features, d_k)")
    scale = d ** -0.25
    phiQ = performer_features(Q * scale, W, stabilize="row")
    phiK = performer_features(K * scale, W, stabilize="all")
    return _kernel_attention(phiQ.astype(V.dtype, copy=False), phiK.astype(V.dtype, copy=False), V, causal, 256,
                             "performer features (inputs too large for their scale?)", return_weights)


# ---------------------------------------------------------------------------
# Linformer: project keys and values along the sequence axis
# ---------------------------------------------------------------------------

def linformer_projection(k: int, n: int, kind: str = "gaussian", rng=None) -> np.ndarray:
    """A ``(k, n)`` matrix that compresses a sequence of ``n`` rows to ``k`` rows.

    ``"gaussian"``: entries ``N(0, 1/k)``, so ``E[RᵀR] = I`` — a
    Johnson–Lindenstrauss random projection ``R``. Linformer's Theorem 1 uses
    it *after* the softmax: ``P V ≈ P Rᵀ (R V)`` with ``P`` the exact attention
    matrix, an error falling like ``1/√k`` whatever the rank of ``P`` (it still
    needs all of ``P``). :func:`linformer_attention` uses such a matrix
    differently, *inside* the softmax on the keys, ``softmax(Q (EK)ᵀ/√d_k) (FV)``
    — the Linformer layer, whose ``E, F`` are learned in a trained model; a
    random one there is untrained.
    ``"pool"``: row ``t`` averages the ``t``-th of ``k`` contiguous segments
    of the sequence (no randomness; with ``k = n`` it is the identity).

    Parameters
    ----------
    k : int, 1 <= k <= n
    n : int
    kind : "gaussian" or "pool"
    rng : numpy.random.Generator, optional (for ``"gaussian"``)

    Returns
    -------
    E : (k, n)

    Examples
    --------
    >>> linformer_projection(2, 4, kind="pool")
    array([[0.5, 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0.5]])

    Chapter 3.
    """
    n = check_positive_int(n, "n")
    k = check_positive_int(k, "k", maximum=n, why="cannot compress n rows to more than n")
    check_choice(kind, "kind", ("gaussian", "pool"))
    if kind == "gaussian":
        return check_rng(rng).normal(0.0, 1.0 / math.sqrt(k), size=(k, n))
    segment = np.minimum((np.arange(n) * k) // n, k - 1)  # which of the k segments each position is in
    E = np.zeros((k, n))
    E[segment, np.arange(n)] = 1.0
    return E / E.sum(axis=1, keepdims=True)


def linformer_attention(Q, K, V, k: int, rng=None, projection: str = "gaussian", E=None, F=None,
                        return_weights: bool = False):
    """Linformer attention (Wang et al. 2020): project keys and values to ``k`` rows.

    .. math::
        \\operatorname{out} = \\operatorname{softmax}\\!\\Big(\\frac{Q (E K)^T}{\\sqrt{d_k}}\\Big)\\,(F V),
        \\qquad E, F \\in \\mathbb R^{k \\times n}

    The score matrix is ``n × k`` instead of ``n × n``: time ``O(n k d)``
    (with ``d = max(d_k, d_v)``, plus ``O(n k d)`` for the compressions ``EK``
    and ``FV``) and memory ``O(n k)``, linear in ``n`` for fixed ``k``. The
    justification is linear algebra: the attention matrix is often numerically
    low-rank, so little is lost by letting every query see only ``k`` mixtures
    of the keys. The projection acts *inside* the softmax, on the keys (the
    Linformer layer); in a trained Linformer ``E`` and ``F`` are learned. Here
    they are fixed: random (``projection="gaussian"``, ``N(0, 1/k)`` entries
    drawn from ``rng`` — an untrained layer, not the after-the-softmax
    projection of Linformer's Theorem 1, see :func:`linformer_projection`),
    segment means (``projection="pool"``), or given as ``E`` and ``F``.

    Parameters
    ----------
    Q : (n, d_k), K : (m, d_k), V : (m, d_v)
    k : int, 1 <= k <= m
    rng : numpy.random.Generator, optional
        Draws ``E`` and ``F`` for ``projection="gaussian"``.
    projection : "gaussian" or "pool"
        Which fixed projection, when ``E``/``F`` are not given (``F = E``).
    E, F : (k, m), optional
        Projections to use (e.g. learned ones).
    return_weights : bool
        Also return the implied ``(n, m)`` attention matrix
        ``softmax(Q (EK)ᵀ/√d_k) F`` (forms it — for pictures only).

    Returns
    -------
    out : (n, d_v)

    Examples
    --------
    >>> rng = np.random.default_rng(0); Q, K, V = rng.normal(size=(3, 8, 4))
    >>> exact = linformer_attention(Q, K, V, k=8, projection="pool")  # k = n: no compression
    >>> bool(np.allclose(exact, scaled_dot_product_attention(Q, K, V)))
    True

    Chapter 3.
    """
    Q, K, V = _check_2d_qkv(Q, K, V, causal=False)
    m = K.shape[0]
    k = check_positive_int(k, "k", maximum=m, why=f"at most the number of keys m = {m}")
    if E is None:
        E = linformer_projection(k, m, kind=projection, rng=rng)
        F = E if F is None else F
    E = as_float_array(E, "E")
    check_shape(E, "E", (k, m), "(k, m): k rows mixing the m keys")
    F = E if F is None else as_float_array(F, "F")
    check_shape(F, "F", (k, m), "(k, m): k rows mixing the m values")
    Kp, Vp = E.astype(Q.dtype, copy=False) @ K, F.astype(Q.dtype, copy=False) @ V  # (k, d): the compression
    if return_weights:
        out, P = scaled_dot_product_attention(Q, Kp, Vp, return_weights=True)
        return out, P @ F
    return scaled_dot_product_attention(Q, Kp, Vp)


# ---------------------------------------------------------------------------
# A one-layer attention model, trained with the chapter 2 optimizers
# ---------------------------------------------------------------------------

_MODEL_KEYS = ("W_E", "W_Q", "W_K", "W_V", "W_out", "b_out")


def attention_model_init(vocab_size: int, d_model: int = 32, rng=None) -> dict:
    """Parameters of a one-layer, one-head attention model for sequence-to-sequence toy tasks.

    ``W_E : (vocab_size, d_model)`` token embeddings; ``W_Q, W_K, W_V :
    (d_model, d_model)``; ``W_out : (d_model, vocab_size)``, ``b_out``.
    See :func:`attention_model_forward` for the model.

    Examples
    --------
    >>> sorted(attention_model_init(5, 8, rng=np.random.default_rng(0)))
    ['W_E', 'W_K', 'W_Q', 'W_V', 'W_out', 'b_out']

    Chapter 3.
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    d_model = check_positive_int(d_model, "d_model")
    rng = check_rng(rng)
    s = 1.0 / math.sqrt(d_model)
    return {"W_E": rng.normal(0.0, 1.0, size=(vocab_size, d_model)),
            "W_Q": rng.normal(0.0, s, size=(d_model, d_model)),
            "W_K": rng.normal(0.0, s, size=(d_model, d_model)),
            "W_V": rng.normal(0.0, s, size=(d_model, d_model)),
            "W_out": rng.normal(0.0, s, size=(d_model, vocab_size)),
            "b_out": np.zeros(vocab_size)}


def _check_model(params, tokens):
    if not isinstance(params, dict) or any(k not in params for k in _MODEL_KEYS):
        raise ValueError(f"params must be a dict with keys {list(_MODEL_KEYS)} (see attention_model_init); "
                         f"got {sorted(params) if isinstance(params, dict) else type(params).__name__}")
    V, d = np.shape(params["W_E"])
    shapes = dict(W_E=(V, d), W_Q=(d, d), W_K=(d, d), W_V=(d, d), W_out=(d, V), b_out=(V,))
    p = _check_params(params, _MODEL_KEYS, shapes, f"attention model with vocab {V}, d_model {d}")
    tokens = as_int_array(tokens, "tokens", ndim=2, low=0, high=V)
    return p, tokens


def attention_model_forward(params, tokens, return_cache: bool = False):
    """Scores of the one-layer attention model: embed, add positions, attend, read out.

    .. math::
        X = W_E[\\text{tokens}] + PE, \\qquad
        H = \\operatorname{softmax}\\!\\Big(\\frac{(XW_Q)(XW_K)^T}{\\sqrt d}\\Big) X W_V, \\qquad
        \\text{logits} = H W_{out} + b_{out}

    ``PE`` is the sinusoidal position encoding of chapter 1
    (:func:`lalib.embeddings.positional_encoding`). There is no residual
    connection on purpose: whatever position ``i`` outputs must come
    through its attention row, so the learned map shows what the model does.

    Parameters
    ----------
    params : dict from :func:`attention_model_init`
    tokens : (B, n) ints in ``[0, vocab_size)``
    return_cache : bool
        Also return the intermediate arrays the backward pass needs.

    Returns
    -------
    logits : (B, n, vocab_size)
    A : (B, n, n) attention weights
    cache : dict, only if ``return_cache``

    Examples
    --------
    >>> p = attention_model_init(5, 8, rng=np.random.default_rng(0))
    >>> logits, A = attention_model_forward(p, np.array([[0, 1, 2]])); logits.shape, A.shape
    ((1, 3, 5), (1, 3, 3))

    Chapter 3.
    """
    p, tokens = _check_model(params, tokens)
    return _model_forward(p, tokens, return_cache)


def _model_forward(p, tokens, return_cache=False):
    """The forward pass on checked parameters; NaN in the weights propagates instead of raising."""
    from .embeddings import positional_encoding

    n, d = tokens.shape[1], p["W_E"].shape[1]
    X = p["W_E"][tokens] + positional_encoding(n, d)
    Q, K, V = X @ p["W_Q"], X @ p["W_K"], X @ p["W_V"]
    A = _masked_scores(Q, K, None)
    _softmax_inplace(A)
    H = A @ V
    logits = H @ p["W_out"] + p["b_out"]
    if return_cache:
        return logits, A, dict(tokens=tokens, X=X, Q=Q, K=K, V=V, H=H, A=A)
    return logits, A


def attention_model_gradients(params, tokens, targets):
    """Mean cross-entropy of the model and its gradient for every parameter.

    Backward through the model in reverse order: softmax cross-entropy
    (``(softmax(z) - onehot(y)) / N``), the read-out, :func:`attention_backward`
    for the attention layer, the three projections, and finally a
    scatter-add into the rows of ``W_E`` that the tokens used.

    Parameters
    ----------
    params : dict from :func:`attention_model_init`
    tokens, targets : (B, n) ints in ``[0, vocab_size)``

    Returns
    -------
    loss : float
    grads : dict with the keys and shapes of ``params``

    Examples
    --------
    >>> p = attention_model_init(4, 8, rng=np.random.default_rng(0)); t = np.array([[0, 1, 2, 3]])
    >>> loss, g = attention_model_gradients(p, t, t[:, ::-1]); g["W_Q"].shape
    (8, 8)

    Chapter 3.
    """
    p, tokens = _check_model(params, tokens)
    V = p["W_E"].shape[0]
    targets = as_int_array(targets, "targets", ndim=2, low=0, high=V)
    check_shape(targets, "targets", tokens.shape, "one target per token")
    return _model_gradients(p, tokens, targets)


def _model_gradients(p, tokens, targets):
    """Loss and gradients on checked inputs; a diverged model gives a NaN/inf loss instead of raising."""
    V = p["W_E"].shape[0]
    logits, _, c = _model_forward(p, tokens, return_cache=True)
    N = targets.size
    logP = _log_softmax(logits)
    loss = float(-np.mean(np.take_along_axis(logP, targets[..., None], axis=-1)))
    dlogits = np.exp(logP)  # softmax(logits)
    np.put_along_axis(dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], -1) - 1.0,
                      axis=-1)
    dlogits /= N
    d = p["W_E"].shape[1]
    grads = {"W_out": c["H"].reshape(-1, d).T @ dlogits.reshape(-1, V), "b_out": dlogits.reshape(-1, V).sum(0)}
    dH = dlogits @ p["W_out"].T
    dQ, dK, dV = _attention_backward(dH, c["Q"], c["K"], c["V"], c["A"])
    X2 = c["X"].reshape(-1, d)
    grads["W_Q"] = X2.T @ dQ.reshape(-1, d)
    grads["W_K"] = X2.T @ dK.reshape(-1, d)
    grads["W_V"] = X2.T @ dV.reshape(-1, d)
    dX = dQ @ p["W_Q"].T + dK @ p["W_K"].T + dV @ p["W_V"].T
    grads["W_E"] = np.zeros_like(p["W_E"])
    np.add.at(grads["W_E"], c["tokens"].ravel(), dX.reshape(-1, d))  # a token used twice gets both
    return loss, grads


def attention_model_accuracy(params, tokens, targets) -> float:
    """Fraction of positions where the model's top score is the target token.

    Examples
    --------
    >>> p = attention_model_init(4, 8, rng=np.random.default_rng(0)); t = np.array([[0, 1, 2, 3]])
    >>> 0.0 <= attention_model_accuracy(p, t, t) <= 1.0
    True

    Chapter 3.
    """
    logits, _ = attention_model_forward(params, tokens)
    targets = as_int_array(targets, "targets", ndim=2)
    check_shape(targets, "targets", logits.shape[:2], "one target per token")
    return float(np.mean(logits.argmax(axis=-1) == targets))


def train_attention_model(tokens, targets, vocab_size: int, d_model: int = 32, steps: int = 400,
                          batch_size: int = 64, optimizer=None, rng=None, progress: bool = True):
    """Train :func:`attention_model_forward` by minibatch steps of a chapter 2 optimizer.

    Each step draws ``batch_size`` sequences with ``rng``, computes
    :func:`attention_model_gradients` and calls ``optimizer.step(params,
    grads)`` (default :class:`lalib.mlp.Adam` with ``lr = 0.01``). If the loss
    of a step is NaN or infinite (a learning rate too large makes the weights
    blow up), training stops at once with :class:`lalib._validate.DivergedError`
    naming the step, instead of running on with NaN.

    Parameters
    ----------
    tokens, targets : (N, n) ints in ``[0, vocab_size)``
    vocab_size, d_model : int
    steps, batch_size : int
    optimizer : object with ``.step(params, grads)``, optional
    rng : numpy.random.Generator, optional (initialisation and batches)
    progress : bool
        Show a ``tqdm`` progress bar.

    Returns
    -------
    params : dict
    history : dict with lists ``"loss"`` (per step) and ``"accuracy"`` (on the batch, per step)

    Examples
    --------
    >>> rng = np.random.default_rng(0); t = rng.integers(0, 5, size=(50, 4))
    >>> p, h = train_attention_model(t, t[:, ::-1], 5, d_model=8, steps=3, rng=rng, progress=False)
    >>> len(h["loss"])
    3

    Chapter 3.
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    tokens = as_int_array(tokens, "tokens", ndim=2, low=0, high=vocab_size)
    targets = as_int_array(targets, "targets", ndim=2, low=0, high=vocab_size)
    check_shape(targets, "targets", tokens.shape, "one target per token")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    rng = check_rng(rng)
    params = attention_model_init(vocab_size, d_model, rng=rng)
    optimizer = Adam(lr=0.01) if optimizer is None else optimizer
    history = {"loss": [], "accuracy": []}
    for step in progress_bar(range(steps), desc="training", show=progress):
        batch = rng.integers(0, len(tokens), size=batch_size)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging model shows up in the loss, checked next
            loss, grads = _model_gradients(params, tokens[batch], targets[batch])
        check_finite_loss(loss, step, "train_attention_model (epoch = minibatch step)",
                          "the parameters blew up: lower the optimizer's learning rate")
        optimizer.step(params, grads)
        history["loss"].append(loss)
        with np.errstate(over="ignore", invalid="ignore"):
            logits, _ = _model_forward(params, tokens[batch])
        history["accuracy"].append(float(np.mean(logits.argmax(axis=-1) == targets[batch])))
    return params, history
