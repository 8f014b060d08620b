"""Chapter 2 — multilayer perceptrons and backpropagation as matrix products.

A multilayer perceptron (MLP) is a composition of affine maps and element-wise
nonlinearities. With a batch of ``n`` inputs stacked as the rows of ``X`` the
forward pass is, layer by layer,

.. math::

    Z_\\ell = A_{\\ell-1} W_\\ell + \\mathbf 1 b_\\ell^T, \\qquad A_\\ell = \\sigma(Z_\\ell),
    \\qquad A_0 = X,

with the last layer left linear: its output ``Z_L`` are the *scores*. The
backward pass is three matrix products per layer,

.. math::

    \\frac{\\partial L}{\\partial W_\\ell} = A_{\\ell-1}^T \\delta_\\ell, \\qquad
    \\frac{\\partial L}{\\partial b_\\ell} = \\mathbf 1^T \\delta_\\ell, \\qquad
    \\frac{\\partial L}{\\partial A_{\\ell-1}} = \\delta_\\ell W_\\ell^T,

where ``δ_ℓ = ∂L/∂Z_ℓ`` and ``δ_{ℓ-1} = (δ_ℓ W_ℓ^T) ⊙ σ'(Z_{ℓ-1})`` (the
activation's Jacobian is diagonal, so it acts as an element-wise product).

Parameters are a plain dict of arrays, ``{"W1": (d0, d1), "b1": (d1,), "W2": ...}``.
Optimizers (:class:`SGD`, :class:`Momentum`, :class:`Adam`) update such a dict
in place from a dict of gradients with the same keys, so they serve any model
written in this style (chapter 3 trains attention layers with them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
from scipy.special import ndtr

from ._progress import progress_bar
from ._validate import (
    as_float_array,
    as_int_array,
    check_callable,
    check_choice,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_rng,
    check_same_shape,
)

__all__ = [
    # activations and their derivatives
    "relu", "relu_grad", "tanh", "tanh_grad", "sigmoid", "sigmoid_grad", "gelu", "gelu_grad",
    "ACTIVATIONS",
    # softmax and losses
    "softmax", "log_softmax", "mse_loss", "softmax_cross_entropy",
    # layers
    "dense_forward", "dense_backward", "batch_norm_forward", "batch_norm_backward",
    # initialization and networks
    "init_weight", "mlp_init", "mlp_forward", "mlp_backward", "mlp_loss_and_grads",
    "predict", "accuracy",
    # checking gradients
    "numerical_jacobian", "gradient_check",
    # optimizers and training
    "SGD", "Momentum", "Adam", "train",
]


# ---------------------------------------------------------------------------
# Activations. Each pair (σ, σ') acts entry by entry, so the Jacobian of
# A = σ(Z) with respect to Z is the diagonal matrix diag(σ'(Z)).
# The private versions skip the input checks; the MLP calls them after
# checking its inputs once.
# ---------------------------------------------------------------------------

def _relu(z):
    return np.maximum(z, 0)


def _relu_grad(z):
    # The kink at 0 gets derivative 0 (any value in [0, 1] is a subgradient).
    return (z > 0).astype(z.dtype)


def _tanh(z):
    return np.tanh(z)


def _tanh_grad(z):
    t = np.tanh(z)
    return 1 - t * t


def _sigmoid(z):
    # 1/(1+e^{-z}) written through tanh: no overflow of e^{-z} for very negative z.
    return 0.5 * (1 + np.tanh(0.5 * z))


def _sigmoid_grad(z):
    s = _sigmoid(z)
    return s * (1 - s)


def _gelu(z):
    # Exact GELU: z Φ(z), with Φ the standard normal distribution function.
    return z * ndtr(z).astype(z.dtype, copy=False)


def _gelu_grad(z):
    phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return (ndtr(z) + z * phi).astype(z.dtype, copy=False)


#: name -> (σ, σ'), the element-wise activations an MLP can use.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (_relu, _relu_grad),
    "tanh": (_tanh, _tanh_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "gelu": (_gelu, _gelu_grad),
}


def _activation_doc(fn, formula: str, example: str):
    fn.__doc__ = f"""{formula}

    Chapter 2. Acts entry by entry, so its Jacobian is diagonal.

    Parameters
    ----------
    z : array_like, any shape, finite

    Returns
    -------
    ndarray, same shape and float dtype as ``z``

    Examples
    --------
    {example}
    """
    return fn


def relu(z):
    return _relu(as_float_array(z, "z", allow_empty=True))


def relu_grad(z):
    return _relu_grad(as_float_array(z, "z", allow_empty=True))


def tanh(z):
    return _tanh(as_float_array(z, "z", allow_empty=True))


def tanh_grad(z):
    return _tanh_grad(as_float_array(z, "z", allow_empty=True))


def sigmoid(z):
    return _sigmoid(as_float_array(z, "z", allow_empty=True))


def sigmoid_grad(z):
    return _sigmoid_grad(as_float_array(z, "z", allow_empty=True))


def gelu(z):
    return _gelu(as_float_array(z, "z", allow_empty=True))


def gelu_grad(z):
    return _gelu_grad(as_float_array(z, "z", allow_empty=True))


_activation_doc(relu, "ReLU, ``σ(z) = max(z, 0)``.", ">>> relu([-1.0, 2.0])\n    array([0., 2.])")
_activation_doc(relu_grad, "Derivative of ReLU, ``σ'(z) = 1 if z > 0 else 0``.",
                ">>> relu_grad([-1.0, 2.0])\n    array([0., 1.])")
_activation_doc(tanh, "Hyperbolic tangent, ``σ(z) = tanh z``.", ">>> tanh([0.0])\n    array([0.])")
_activation_doc(tanh_grad, "Derivative of tanh, ``σ'(z) = 1 - tanh(z)^2``.",
                ">>> tanh_grad([0.0])\n    array([1.])")
_activation_doc(sigmoid, "Logistic sigmoid, ``σ(z) = 1 / (1 + e^{-z}) = (1 + tanh(z/2)) / 2`` (overflow-free form).",
                ">>> sigmoid([0.0])\n    array([0.5])")
_activation_doc(sigmoid_grad, "Derivative of the sigmoid, ``σ'(z) = σ(z) (1 - σ(z))``.",
                ">>> sigmoid_grad([0.0])\n    array([0.25])")
_activation_doc(gelu, "GELU, ``σ(z) = z Φ(z)`` with ``Φ`` the standard normal CDF (exact form).",
                ">>> gelu([0.0])\n    array([0.])")
_activation_doc(gelu_grad, "Derivative of GELU, ``σ'(z) = Φ(z) + z φ(z)`` with ``φ`` the normal density.",
                ">>> gelu_grad([0.0])\n    array([0.5])")


# ---------------------------------------------------------------------------
# Softmax and losses
#
# The one stable softmax and log-softmax of the package (chapter 3's attention
# imports them from here). Masked entries: a score of -inf gets weight exactly 0,
# and a slice that is entirely -inf (a fully masked row: a query with no key to
# attend to) gets weights that are all 0 and log-weights that are all -inf —
# never NaN. Mathematically that row is 0/0; zeros are the convention that lets
# a padded batch flow through without poisoning anything downstream.
# ---------------------------------------------------------------------------

def _check_scores(x, name: str) -> np.ndarray:
    """Scores may hold -inf (masked entries) but never NaN or +inf."""
    arr = as_float_array(x, name, finite=False, allow_empty=True)
    if np.isnan(arr).any() or np.isposinf(arr).any():
        raise ValueError(f"{name} must be finite, or -inf where an entry is masked (no NaN, no +inf); "
                         f"got {int(np.isnan(arr).sum())} NaN and {int(np.isposinf(arr).sum())} +inf")
    return arr


def _check_softmax_input(x, axis) -> np.ndarray:
    arr = _check_scores(x, "x")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension; got a scalar")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis must lie in [{-arr.ndim}, {arr.ndim - 1}] for x of shape {arr.shape}; got {axis}")
    if arr.shape[axis] == 0:
        raise ValueError(f"x must not be empty along axis {axis}; got shape {arr.shape}")
    return arr


def _softmax_inplace(S: np.ndarray, axis: int = -1, normalize: bool = True) -> np.ndarray:
    """Overwrite ``S`` with exp(S - max); return the sums along ``axis`` (keepdims). Divides if ``normalize``.

    Subtracting the maximum is what makes softmax stable: the largest
    exponent becomes exp(0) = 1, nothing overflows, and the result is the same
    because softmax(x + c) = softmax(x). A slice of only -inf has max -inf;
    it is shifted by 0 instead, so its exponentials are all 0 and its sum is 0.
    Attention calls this on its n × m score matrix with ``normalize=False`` and
    divides the (smaller) output instead.
    """
    if axis in (-1, S.ndim - 1) and S.flags.c_contiguous and S.shape[-1] > 0:
        # Same arithmetic, a few rows at a time: the four passes (max, subtract, exp, sum) then run
        # over a block that stays in the CPU cache instead of streaming the whole n × m matrix four times.
        rows = S.reshape(-1, S.shape[-1])
        total = np.empty(rows.shape[0], dtype=S.dtype)
        step = max(1, 32768 // rows.shape[1])  # about 256 KiB of float64 per block
        for i in range(0, rows.shape[0], step):
            total[i:i + step] = _softmax_block(rows[i:i + step], normalize)
        return total.reshape(S.shape[:-1] + (1,))
    m = S.max(axis=axis, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    S -= m
    np.exp(S, out=S)
    total = S.sum(axis=axis, keepdims=True)
    if normalize:
        S /= np.where(total > 0, total, 1.0)  # fully masked slices have total 0: divide by 1, leaving zeros
    return total


def _softmax_block(B: np.ndarray, normalize: bool) -> np.ndarray:
    """Stable softmax of the rows of a 2-D block, in place; returns the row sums."""
    m = B.max(axis=1, keepdims=True)
    m[~np.isfinite(m)] = 0.0  # a fully masked (all -inf) row: shift by 0, its exponentials are all 0
    B -= m
    np.exp(B, out=B)
    total = B.sum(axis=1)
    if normalize:
        B /= np.where(total > 0, total, 1.0)[:, None]  # fully masked rows stay zero, never 0/0
    return total


def _softmax(z, axis=-1):
    """Softmax of a checked array, into a new array."""
    S = np.array(z, copy=True)
    _softmax_inplace(S, axis=axis)
    return S


def _log_softmax(z, axis=-1):
    """log softmax = z - m - log Σ exp(z - m); -inf stays -inf, a fully masked slice is all -inf."""
    m = z.max(axis=axis, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    shifted = z - m
    total = np.exp(shifted).sum(axis=axis, keepdims=True)
    return shifted - np.log(np.where(total > 0, total, 1.0))  # -inf - 0 = -inf, not -inf - (-inf) = NaN


def softmax(x, axis=-1):
    """Numerically stable softmax along ``axis``.

    .. math:: \\operatorname{softmax}(x)_i = \\frac{e^{x_i - \\max_j x_j}}{\\sum_k e^{x_k - \\max_j x_j}}

    Subtracting the maximum changes nothing mathematically (softmax is
    invariant to adding a constant) but keeps every exponent ``<= 0``, so
    ``exp`` never overflows, and the largest term is ``e^0 = 1``, so the sum
    never underflows to 0. Entries equal to ``-inf`` (masked) get probability
    exactly 0; a slice that is entirely ``-inf`` (a fully masked row) becomes
    all zeros, not NaN. This is the one softmax of the package: chapter 2 uses
    it for class probabilities, chapter 3 for attention weights
    (``lalib.attention.softmax`` is this function).

    Parameters
    ----------
    x : array_like, any shape with at least one dimension
        Scores; may contain ``-inf``, not NaN or ``+inf``.
    axis : int
        The axis that sums to one.

    Returns
    -------
    p : ndarray, same shape and float dtype as ``x``; each slice along ``axis``
        sums to 1 (or is all 0 if it was all ``-inf``)

    Examples
    --------
    >>> softmax([1000.0, 1000.0])  # a naive exp would overflow
    array([0.5, 0.5])
    >>> softmax([[0.0, np.log(3.0)], [-np.inf, -np.inf]])
    array([[0.25, 0.75],
           [0.  , 0.  ]])

    Chapters 2 and 3.
    """
    return _softmax(_check_softmax_input(x, axis), axis)


def log_softmax(x, axis=-1):
    """Log of the softmax, through a stable log-sum-exp.

    .. math:: \\log\\operatorname{softmax}(x)_j = x_j - m - \\log\\sum_k e^{x_k - m},
              \\qquad m = \\max_k x_k

    Subtracting the maximum makes every exponent ``<= 0``, so nothing
    overflows, and the largest term is ``exp(0) = 1``, so the sum never
    underflows to 0 and its log is finite. Masked entries (``-inf``) get
    ``-inf`` (log of weight 0); a slice that is entirely ``-inf`` gives all
    ``-inf``, never NaN — the log of the zero row :func:`softmax` returns.

    Parameters
    ----------
    x : array_like, any shape with at least one dimension
        Scores; may contain ``-inf``, not NaN or ``+inf``.
    axis : int
        The axis the probabilities run along.

    Returns
    -------
    ndarray, same shape and float dtype as ``x``

    Examples
    --------
    >>> np.round(np.exp(log_softmax([1000.0, 1000.0])), 3)
    array([0.5, 0.5])

    Chapters 2 and 3.
    """
    return _log_softmax(_check_softmax_input(x, axis), axis)


def mse_loss(Y_hat, Y):
    """Mean squared error and its gradient.

    ``L = (1 / 2n) ‖Ŷ − Y‖_F²`` and ``∂L/∂Ŷ = (Ŷ − Y) / n``, with ``n`` the
    number of rows (examples). Chapter 2.

    Parameters
    ----------
    Y_hat : (n, k) predictions
    Y : (n, k) targets

    Returns
    -------
    loss : float
    grad : (n, k)

    Examples
    --------
    >>> mse_loss([[1.0, 2.0]], [[0.0, 0.0]])[0]
    2.5
    """
    Y_hat = as_float_array(Y_hat, "Y_hat", ndim=2)
    Y = as_float_array(Y, "Y", ndim=2)
    check_same_shape(Y_hat, Y, "Y_hat", "Y")
    n = Y_hat.shape[0]
    R = Y_hat - Y
    return float(0.5 * np.sum(R * R) / n), R / n


def _check_labels(y, n, n_classes):
    y = as_int_array(y, "y", ndim=1, low=0, high=n_classes)
    if y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) (one label per row of the scores); got {y.shape}")
    return y


def softmax_cross_entropy(Z, y):
    """Softmax cross-entropy of scores against integer labels, and its gradient.

    ``L = (1/n) Σ_i [ log Σ_j exp(Z_ij) − Z_{i, y_i} ]`` (the log-sum-exp is
    computed stably), and ``∂L/∂Z = (softmax(Z) − Y) / n`` with ``Y`` the
    one-hot matrix of the labels: the gradient is "predicted minus true". Chapter 2.

    Parameters
    ----------
    Z : (n, k) scores (logits)
    y : (n,) integer labels in ``0 .. k-1``

    Returns
    -------
    loss : float
    grad : (n, k)

    Examples
    --------
    >>> loss, dZ = softmax_cross_entropy([[0.0, 0.0]], [1])
    >>> round(loss, 4), dZ
    (0.6931, array([[ 0.5, -0.5]]))
    """
    Z = as_float_array(Z, "Z", ndim=2)
    y = _check_labels(y, Z.shape[0], Z.shape[1])
    return _softmax_cross_entropy(Z, y)


def _softmax_cross_entropy(Z, y):
    n = Z.shape[0]
    rows = np.arange(n)
    logp = _log_softmax(Z, axis=1)
    loss = -float(np.mean(logp[rows, y]))
    grad = np.exp(logp)
    grad[rows, y] -= 1
    return loss, grad / n


_LOSSES = ("cross_entropy", "mse")


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

def _check_dense(X, W, b):
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    if W.shape[0] != X.shape[1]:
        raise ValueError(f"W must have shape ({X.shape[1]}, m) (rows == X.shape[1]); got {W.shape}")
    if b is not None:
        b = as_float_array(b, "b", shape=(W.shape[1],))
    return X, W, b


def dense_forward(X, W, b):
    """Dense (affine) layer on a batch: ``Z = X W + 1 bᵀ``.

    Each row of ``X`` is one example, so one matrix product applies the layer
    to the whole batch; broadcasting adds ``b`` to every row. Chapter 2.

    Parameters
    ----------
    X : (n, d_in)
    W : (d_in, d_out)
    b : (d_out,)

    Returns
    -------
    Z : (n, d_out)

    Examples
    --------
    >>> dense_forward(np.ones((2, 3)), np.ones((3, 1)), np.array([0.5]))
    array([[3.5],
           [3.5]])
    """
    X, W, b = _check_dense(X, W, b)
    return X @ W + b


def dense_backward(delta, X, W):
    """Backward pass of ``Z = X W + 1 bᵀ``: three matrix products.

    Given ``δ = ∂L/∂Z``,

    ``∂L/∂W = Xᵀ δ``,  ``∂L/∂b = 1ᵀ δ`` (column sums),  ``∂L/∂X = δ Wᵀ``.

    Chapter 2.

    Parameters
    ----------
    delta : (n, d_out)
    X : (n, d_in), the layer's input saved from the forward pass
    W : (d_in, d_out)

    Returns
    -------
    dX : (n, d_in)
    dW : (d_in, d_out)
    db : (d_out,)

    Examples
    --------
    >>> dX, dW, db = dense_backward(np.ones((2, 1)), np.ones((2, 3)), np.ones((3, 1)))
    >>> dW.ravel(), db
    (array([2., 2., 2.]), array([2.]))
    """
    X, W, _ = _check_dense(X, W, None)
    delta = as_float_array(delta, "delta", shape=(X.shape[0], W.shape[1]))
    return delta @ W.T, X.T @ delta, delta.sum(axis=0)


def batch_norm_forward(Z, gamma, beta, eps=1e-5):
    """Batch normalization (training mode): a per-feature affine standardization.

    For each column ``j`` (feature) of ``Z``, with batch mean ``μ_j`` and
    variance ``v_j``,

    ``Ẑ = (Z − 1μᵀ) diag(v + ε)^{-1/2}``,  ``out = Ẑ diag(γ) + 1βᵀ``.

    Chapter 2 (Ioffe & Szegedy, 2015).

    Parameters
    ----------
    Z : (n, d), n >= 2
    gamma, beta : (d,)
    eps : float > 0

    Returns
    -------
    out : (n, d)
    cache : dict with ``Z_hat`` (n, d) and ``inv_std`` (d,) and ``gamma``, for the backward pass

    Examples
    --------
    >>> out, _ = batch_norm_forward([[1.0], [3.0]], [1.0], [0.0], eps=1e-12)
    >>> np.round(out.ravel(), 6)
    array([-1.,  1.])
    """
    Z = as_float_array(Z, "Z", ndim=2)
    if Z.shape[0] < 2:
        raise ValueError(f"Z must have at least 2 rows (a batch statistic needs a batch); got {Z.shape}")
    gamma = as_float_array(gamma, "gamma", shape=(Z.shape[1],))
    beta = as_float_array(beta, "beta", shape=(Z.shape[1],))
    eps = check_positive_float(eps, "eps")
    mu = Z.mean(axis=0)
    var = Z.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_hat = (Z - mu) * inv_std
    return Z_hat * gamma + beta, {"Z_hat": Z_hat, "inv_std": inv_std, "gamma": gamma}


def batch_norm_backward(dout, cache):
    """Backward pass of :func:`batch_norm_forward`.

    With ``g = dout ⊙ γ`` (row-broadcast),

    ``∂L/∂Z = (inv_std / n) ⊙ (n g − 1 1ᵀ g − Ẑ ⊙ 1 (1ᵀ (g ⊙ Ẑ)))``,
    ``∂L/∂γ = 1ᵀ (dout ⊙ Ẑ)``,  ``∂L/∂β = 1ᵀ dout``.

    The two subtracted terms are projections: the gradient is made orthogonal
    to the directions that the standardization removed (shifting a column,
    scaling a column). Chapter 2.

    Parameters
    ----------
    dout : (n, d)
    cache : dict from :func:`batch_norm_forward`

    Returns
    -------
    dZ : (n, d)
    dgamma, dbeta : (d,)

    Examples
    --------
    >>> out, cache = batch_norm_forward([[1.0], [3.0]], [1.0], [0.0])
    >>> dZ, dg, db = batch_norm_backward(np.ones((2, 1)), cache)
    >>> np.allclose(dZ, 0)   # adding a constant to every row changes nothing
    True
    """
    if not isinstance(cache, Mapping) or not {"Z_hat", "inv_std", "gamma"} <= set(cache):
        raise TypeError("cache must be the dict returned by batch_norm_forward")
    Z_hat = cache["Z_hat"]
    dout = as_float_array(dout, "dout", shape=Z_hat.shape)
    n = Z_hat.shape[0]
    g = dout * cache["gamma"]
    dZ = cache["inv_std"] / n * (n * g - g.sum(axis=0) - Z_hat * (g * Z_hat).sum(axis=0))
    return dZ, (dout * Z_hat).sum(axis=0), dout.sum(axis=0)


# ---------------------------------------------------------------------------
# Initialization
# ---------------------------------------------------------------------------

_INITS = ("he", "xavier", "orthogonal", "normal")
#: The gain that keeps signals at a steady size for each activation (the same
#: values as torch.nn.init.calculate_gain; GELU is treated like ReLU).
_GAINS = {"relu": np.sqrt(2.0), "gelu": np.sqrt(2.0), "tanh": 5.0 / 3.0, "sigmoid": 1.0}
_DEFAULT_INIT = {"relu": "he", "gelu": "he", "tanh": "xavier", "sigmoid": "xavier"}


def init_weight(d_in, d_out, scheme="he", *, gain=1.0, std=0.01, rng=None, dtype=np.float64):
    """A random ``(d_in, d_out)`` weight matrix under a named initialization.

    * ``"he"`` (Kaiming): entries ``N(0, 2 / d_in)``. Since ``E[relu(z)²] = Var(z)/2``,
      the factor 2 undoes the halving, so pre-activation variance stays put.
    * ``"xavier"`` (Glorot): ``N(0, gain² · 2 / (d_in + d_out))``, the compromise between
      preserving the variance forward (``1/d_in``) and backward (``1/d_out``).
      ``gain = 1`` is Glorot's original; ``5/3`` compensates for tanh's contraction.
    * ``"orthogonal"``: ``gain · Q`` with ``Q`` having orthonormal columns (or rows),
      from the QR factorization of a Gaussian matrix (signs fixed so that ``Q``
      is uniformly distributed). All singular values equal ``gain``.
    * ``"normal"``: entries ``N(0, std²)``, a fixed scale (to show what goes wrong).

    Chapter 2.

    Parameters
    ----------
    d_in, d_out : int >= 1
    scheme : {"he", "xavier", "orthogonal", "normal"}
    gain : float > 0 (xavier, orthogonal)
    std : float > 0 (normal)
    rng : numpy.random.Generator or None
    dtype : float32 or float64

    Returns
    -------
    W : (d_in, d_out)

    Examples
    --------
    >>> W = init_weight(4, 3, "orthogonal", rng=np.random.default_rng(0))
    >>> np.allclose(W.T @ W, np.eye(3))
    True
    """
    d_in = check_positive_int(d_in, "d_in")
    d_out = check_positive_int(d_out, "d_out")
    check_choice(scheme, "scheme", _INITS)
    gain = check_positive_float(gain, "gain")
    std = check_positive_float(std, "std")
    rng = check_rng(rng)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
    if scheme == "orthogonal":
        big, small = max(d_in, d_out), min(d_in, d_out)
        Q, R = np.linalg.qr(rng.standard_normal((big, small)))
        Q = Q * np.sign(np.diag(R))  # make the distribution uniform (Haar)
        W = gain * (Q if d_in >= d_out else Q.T)
    else:
        scale = {"he": np.sqrt(2.0 / d_in),
                 "xavier": gain * np.sqrt(2.0 / (d_in + d_out)),
                 "normal": std}[scheme]
        W = scale * rng.standard_normal((d_in, d_out))
    return W.astype(dtype, copy=False)


def mlp_init(sizes, activation="relu", rng=None, *, init=None, gain=None, dtype=np.float64):
    """Parameters of an MLP with layer widths ``sizes = [d0, d1, ..., dL]``.

    Returns ``{"W1": (d0, d1), "b1": (d1,), ..., "WL": (d_{L-1}, dL), "bL": (dL,)}``
    with zero biases and random weights. The activation chooses the matching
    initialization: He for ReLU/GELU, Xavier (gain 5/3 for tanh, 1 for the
    sigmoid) otherwise. Pass the same ``activation`` to :func:`mlp_forward`,
    :func:`mlp_backward` and :func:`train`. Chapter 2.

    Parameters
    ----------
    sizes : sequence of int, length >= 2
    activation : {"relu", "tanh", "sigmoid", "gelu"}
    rng : numpy.random.Generator or None
    init : {"he", "xavier", "orthogonal", "normal"} or None (the activation's default)
    gain : float or None (the activation's gain)
    dtype : float32 or float64

    Examples
    --------
    >>> params = mlp_init([2, 16, 3], rng=np.random.default_rng(0))
    >>> {k: v.shape for k, v in params.items()}
    {'W1': (2, 16), 'b1': (16,), 'W2': (16, 3), 'b2': (3,)}
    """
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"sizes must be a sequence of layer widths; got {type(sizes).__name__}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 widths (input and output); got {sizes}")
    sizes = [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    check_choice(activation, "activation", ACTIVATIONS)
    init = _DEFAULT_INIT[activation] if init is None else check_choice(init, "init", _INITS)
    gain = _GAINS[activation] if gain is None else check_positive_float(gain, "gain")
    rng = check_rng(rng)
    params = {}
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = init_weight(d_in, d_out, init, gain=gain, rng=rng, dtype=dtype)
        params[f"b{l}"] = np.zeros(d_out, dtype=dtype)
    return params


# ---------------------------------------------------------------------------
# Forward and backward through the whole network
# ---------------------------------------------------------------------------

def _n_layers(params) -> int:
    """Check that ``params`` is a consistent MLP and return its depth ``L``."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays like mlp_init returns; got {type(params).__name__}")
    L = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
    if L == 0:
        raise ValueError("params must contain W1, b1, ...; got keys " + str(sorted(map(str, params))))
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    if set(params) != expected:
        raise ValueError(f"params must have exactly the keys {sorted(expected)}; got {sorted(map(str, params))}")
    for l in range(1, L + 1):
        W = as_float_array(params[f"W{l}"], f"params['W{l}']", ndim=2)
        as_float_array(params[f"b{l}"], f"params['b{l}']", shape=(W.shape[1],))
        if l > 1:
            prev = params[f"W{l - 1}"].shape[1]
            if W.shape[0] != prev:
                raise ValueError(
                    f"params['W{l}'] must have {prev} rows (the width of layer {l - 1}); got shape {W.shape}"
                )
    return L


def _check_X(params, X, name="X"):
    d0 = np.shape(params["W1"])[0]
    return as_float_array(X, name, ndim=2, shape=(None, d0))


def mlp_forward(params, X, activation="relu", *, return_cache=False):
    """Forward pass of an MLP on a batch: the output scores.

    ``A_0 = X``; for ``ℓ < L``: ``Z_ℓ = A_{ℓ-1} W_ℓ + 1 b_ℓᵀ``, ``A_ℓ = σ(Z_ℓ)``;
    the last layer is affine only, ``scores = Z_L``. Chapter 2.

    Parameters
    ----------
    params : dict from :func:`mlp_init`
    X : (n, d0)
    activation : {"relu", "tanh", "sigmoid", "gelu"}
    return_cache : bool
        Also return the dict ``{"A0": X, "Z1": ..., "A1": ..., ..., "ZL": scores}``
        that :func:`mlp_backward` needs.

    Returns
    -------
    scores : (n, dL)
    cache : dict (only if ``return_cache``)

    Examples
    --------
    >>> params = mlp_init([2, 8, 3], rng=np.random.default_rng(0))
    >>> mlp_forward(params, np.zeros((5, 2))).shape
    (5, 3)
    """
    L = _n_layers(params)
    X = _check_X(params, X)
    check_choice(activation, "activation", ACTIVATIONS)
    return _forward(params, X, L, activation, return_cache)


def _forward(params, X, L, activation, return_cache):
    sigma = ACTIVATIONS[activation][0]
    cache = {"A0": X}
    A = X
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        cache[f"Z{l}"] = Z
        if l < L:
            A = sigma(Z)
            cache[f"A{l}"] = A
    return (Z, cache) if return_cache else Z


def mlp_backward(params, cache, dscores, activation="relu"):
    """Backpropagation: the gradient of the loss with respect to every parameter.

    Starting from ``δ_L = ∂L/∂scores`` and going from the output back to the input,

    ``∂L/∂W_ℓ = A_{ℓ-1}ᵀ δ_ℓ``,  ``∂L/∂b_ℓ = 1ᵀ δ_ℓ``,
    ``δ_{ℓ-1} = (δ_ℓ W_ℓᵀ) ⊙ σ'(Z_{ℓ-1})``.

    Every step is a vector–Jacobian product: a matrix product with ``W_ℓᵀ`` and
    an element-wise product with the diagonal of the activation's Jacobian.
    Chapter 2.

    Parameters
    ----------
    params : dict from :func:`mlp_init`
    cache : dict from ``mlp_forward(params, X, activation, return_cache=True)``
    dscores : (n, dL), the gradient of the loss with respect to the scores
    activation : the one used in the forward pass

    Returns
    -------
    grads : dict with the same keys and shapes as ``params``

    Examples
    --------
    >>> params = mlp_init([2, 4, 3], rng=np.random.default_rng(0))
    >>> X, y = np.ones((5, 2)), np.zeros(5, dtype=int)
    >>> scores, cache = mlp_forward(params, X, return_cache=True)
    >>> grads = mlp_backward(params, cache, softmax_cross_entropy(scores, y)[1])
    >>> sorted(grads) == sorted(params)
    True
    """
    L = _n_layers(params)
    check_choice(activation, "activation", ACTIVATIONS)
    if not isinstance(cache, Mapping) or not ({f"A{l}" for l in range(L)} | {f"Z{l}" for l in range(1, L + 1)}) <= set(cache):
        raise TypeError("cache must be the dict returned by mlp_forward(..., return_cache=True) for these params")
    n = np.shape(cache["A0"])[0]
    dscores = as_float_array(dscores, "dscores", shape=(n, params[f"W{L}"].shape[1]))
    return _backward(params, cache, dscores, L, activation)


def _backward(params, cache, delta, L, activation):
    sigma_grad = ACTIVATIONS[activation][1]
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = cache[f"A{l - 1}"].T @ delta
        grads[f"b{l}"] = delta.sum(axis=0)
        if l > 1:  # the input X needs no gradient: skip that product
            delta = (delta @ params[f"W{l}"].T) * sigma_grad(cache[f"Z{l - 1}"])
    return {k: grads[k] for k in params}  # same key order as params


def mlp_loss_and_grads(params, X, y, activation="relu", loss="cross_entropy", weight_decay=0.0):
    """Loss of the MLP on ``(X, y)`` and its gradient with respect to every parameter.

    One forward pass, the loss and ``δ_L`` (:func:`softmax_cross_entropy` or
    :func:`mse_loss`), one backward pass. With ``weight_decay = λ > 0`` the loss
    gains ``(λ/2) Σ_ℓ ‖W_ℓ‖_F²`` and each ``∂L/∂W_ℓ`` gains ``λ W_ℓ``. Chapter 2.

    Parameters
    ----------
    params : dict from :func:`mlp_init`
    X : (n, d0)
    y : (n,) integer labels (cross-entropy) or (n, dL) targets (mse)
    activation : {"relu", "tanh", "sigmoid", "gelu"}
    loss : {"cross_entropy", "mse"}
    weight_decay : float >= 0

    Returns
    -------
    loss : float
    grads : dict like ``params``

    Examples
    --------
    >>> params = mlp_init([2, 4, 3], rng=np.random.default_rng(0))
    >>> loss, grads = mlp_loss_and_grads(params, np.zeros((4, 2)), [0, 1, 2, 0])
    >>> bool(np.isclose(loss, np.log(3)))   # zero input, zero biases: uniform scores
    True
    """
    L = _n_layers(params)
    X = _check_X(params, X)
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(loss, "loss", _LOSSES)
    weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    y = _check_targets(y, X.shape[0], params[f"W{L}"].shape[1], loss)
    return _loss_and_grads(params, X, y, L, activation, loss, weight_decay)


def _check_targets(y, n, k, loss):
    if loss == "cross_entropy":
        return _check_labels(y, n, k)
    return as_float_array(y, "y", shape=(n, k))


def _loss_and_grads(params, X, y, L, activation, loss, weight_decay):
    scores, cache = _forward(params, X, L, activation, True)
    if loss == "cross_entropy":
        value, dscores = _softmax_cross_entropy(scores, y)
    else:
        R = scores - y
        value, dscores = float(0.5 * np.sum(R * R) / X.shape[0]), R / X.shape[0]
    grads = _backward(params, cache, dscores, L, activation)
    if weight_decay:
        for l in range(1, L + 1):
            W = params[f"W{l}"]
            value += 0.5 * weight_decay * float(np.sum(W * W))
            grads[f"W{l}"] = grads[f"W{l}"] + weight_decay * W
    return value, grads


def predict(params, X, activation="relu"):
    """Predicted class of each row of ``X``: ``argmax_j scores_ij``.

    Chapter 2.

    Parameters
    ----------
    params : dict from :func:`mlp_init`
    X : (n, d0)
    activation : the one the network was trained with

    Returns
    -------
    labels : (n,) int

    Examples
    --------
    >>> params = mlp_init([2, 4, 3], rng=np.random.default_rng(0))
    >>> predict(params, np.zeros((2, 2))).shape
    (2,)
    """
    return np.argmax(mlp_forward(params, X, activation), axis=1)


def accuracy(scores, y):
    """Fraction of rows whose largest score is at the true label.

    Chapter 2.

    Parameters
    ----------
    scores : (n, k)
    y : (n,) integer labels in ``0 .. k-1``

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> accuracy([[2.0, 1.0], [0.0, 3.0]], [0, 0])
    0.5
    """
    scores = as_float_array(scores, "scores", ndim=2)
    y = _check_labels(y, scores.shape[0], scores.shape[1])
    return float(np.mean(np.argmax(scores, axis=1) == y))


# ---------------------------------------------------------------------------
# Checking gradients with finite differences
# ---------------------------------------------------------------------------

def numerical_jacobian(f, x, eps=1e-6):
    """Jacobian of ``f`` at ``x`` by central differences, one column per input entry.

    ``J[:, j] ≈ (f(x + ε e_j) − f(x − ε e_j)) / (2ε)``; the error is ``O(ε²)``
    (the even terms of the Taylor series cancel) plus rounding ``O(u/ε)``.
    Inputs and outputs are flattened. Chapter 2.

    Parameters
    ----------
    f : callable, array of ``x``'s shape -> array_like of any shape (m entries)
    x : array_like, any shape (n entries), finite, computed in float64
    eps : float > 0

    Returns
    -------
    J : (m, n)

    Examples
    --------
    >>> np.round(numerical_jacobian(np.tanh, np.zeros(2)), 6)
    array([[1., 0.],
           [0., 1.]])
    """
    check_callable(f, "f")
    x = as_float_array(x, "x").astype(np.float64)
    eps = check_positive_float(eps, "eps")
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        e = e.reshape(x.shape)
        diff = np.asarray(f(x + e), dtype=np.float64) - np.asarray(f(x - e), dtype=np.float64)
        cols.append(diff.ravel() / (2 * eps))
    return np.stack(cols, axis=1)


def gradient_check(f, params, grads, eps=1e-6, *, n_entries=None, rng=None, per_param=False):
    """Compare analytic gradients with central finite differences; return the worst relative error.

    For every parameter array ``P`` (every key of ``params``) and each checked
    entry ``i``, ``g̃_i = (f(P + ε e_i) − f(P − ε e_i)) / (2ε)`` with the other
    entries fixed. The relative error of ``P`` is ``‖g − g̃‖ / max(‖g‖, ‖g̃‖)``
    (norms over the checked entries; 0 when both vanish), and the result is the
    largest over all parameters. In float64, correct gradients give about
    ``1e-8`` or less; a bug gives something near 1. Chapter 2.

    Parameters
    ----------
    f : callable, ``f(params) -> float`` (the loss)
    params : dict of arrays, or one array (then ``f`` takes that array)
        Entries are perturbed in place and restored; must be float64.
    grads : dict like ``params`` (or one array): the analytic gradient to check
    eps : float > 0
    n_entries : int or None
        Check only this many random entries per parameter (all if None).
    rng : numpy.random.Generator or None, used when ``n_entries`` is set
    per_param : bool
        Also return the dict of relative errors by key.

    Returns
    -------
    worst : float
    errors : dict (only if ``per_param``)

    Examples
    --------
    >>> x = np.array([1.0, -2.0])
    >>> gradient_check(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2) < 1e-8
    True
    """
    check_callable(f, "f")
    single = not isinstance(params, Mapping)
    if single:
        params, grads, call = {"x": params}, {"x": grads}, (lambda p: f(p["x"]))
    else:
        call = f
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads must be a dict like params; got {type(grads).__name__}")
    if set(grads) != set(params):
        raise ValueError(f"grads must have the keys of params {sorted(params)}; got {sorted(grads)}")
    for k in params:
        name = "params" if single else f"params[{k!r}]"
        if not isinstance(params[k], np.ndarray) or params[k].dtype != np.float64:
            raise TypeError(f"{name} must be a float64 ndarray (it is perturbed in place); "
                            f"got {type(params[k]).__name__} {getattr(params[k], 'dtype', '')}")
        gname = "grads" if single else f"grads[{k!r}]"
        check_same_shape(as_float_array(params[k], name), as_float_array(grads[k], gname), name, gname)
    eps = check_positive_float(eps, "eps")
    if n_entries is not None:
        n_entries = check_positive_int(n_entries, "n_entries")
    rng = check_rng(rng)
    errors = {}
    for k, P in params.items():
        flat = P.reshape(-1)  # a view: writing to it perturbs P
        idx = np.arange(flat.size)
        if n_entries is not None and n_entries < flat.size:
            idx = rng.choice(flat.size, size=n_entries, replace=False)
        g = np.asarray(grads[k], dtype=np.float64).reshape(-1)[idx]
        g_fd = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = flat[i]
            flat[i] = old + eps
            f_plus = float(call(params))
            flat[i] = old - eps
            f_minus = float(call(params))
            flat[i] = old
            g_fd[j] = (f_plus - f_minus) / (2 * eps)
        scale = max(np.linalg.norm(g), np.linalg.norm(g_fd))
        errors[k] = 0.0 if scale == 0 else float(np.linalg.norm(g - g_fd) / scale)
    worst = max(errors.values())
    return (worst, errors) if per_param else worst


# ---------------------------------------------------------------------------
# Optimizers: each updates a dict of arrays in place from a dict of gradients
# with the same keys, keeping its own state per key (created on first use).
# ---------------------------------------------------------------------------

def _check_step(params, grads):
    if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
        raise TypeError(f"params and grads must be dicts of arrays; got {type(params).__name__} "
                        f"and {type(grads).__name__}")
    for k, g in grads.items():
        if k not in params:
            raise ValueError(f"grads has a key {k!r} that params does not have (params: {sorted(params)})")
        if not isinstance(params[k], np.ndarray) or params[k].dtype.kind != "f":
            raise TypeError(f"params[{k!r}] must be a float ndarray (it is updated in place); "
                            f"got {type(params[k]).__name__}")
        g = np.asarray(g)
        if g.shape != params[k].shape:
            raise ValueError(f"grads[{k!r}] must have shape {params[k].shape} like params[{k!r}]; got {g.shape}")
        as_float_array(g, f"grads[{k!r}]", allow_empty=True)


def _check_beta(value, name):
    value = check_positive_float(value, name, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must lie in [0, 1); got {value}")
    return value


@dataclass
class SGD:
    """Stochastic gradient descent, optionally with (heavy-ball) momentum.

    ``v ← μ v + g``,  ``P ← P − η v``  (``μ = 0``: plain ``P ← P − η g``).
    Chapter 2.

    Parameters
    ----------
    lr : float > 0, the step size η
    momentum : float in [0, 1), μ

    Examples
    --------
    >>> params = {"w": np.array([1.0])}
    >>> SGD(lr=0.5).step(params, {"w": np.array([2.0])}); params["w"]
    array([0.])
    """

    lr: float
    momentum: float = 0.0
    state: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self.lr = check_positive_float(self.lr, "lr")
        self.momentum = _check_beta(self.momentum, "momentum")

    def step(self, params: dict, grads: dict) -> None:
        """Update ``params`` in place from ``grads`` (same keys; keys absent from grads stay)."""
        _check_step(params, grads)
        for k, g in grads.items():
            g = np.asarray(g)
            if self.momentum:
                v = self.state.get(k)
                v = g.copy() if v is None else self.momentum * v + g
                self.state[k] = v
                g = v
            params[k] -= self.lr * g


@dataclass
class Momentum:
    """Gradient descent with heavy-ball momentum: ``v ← β v + g``, ``P ← P − η v``.

    The velocity ``v`` sums past gradients with weights ``β^t``: along a
    direction where they agree the step grows to ``η / (1 − β)``; where they
    oscillate it cancels. Same update as ``SGD(lr, momentum=beta)``. Chapter 2.

    Parameters
    ----------
    lr : float > 0
    beta : float in [0, 1)

    Examples
    --------
    >>> params = {"w": np.array([0.0])}
    >>> opt = Momentum(lr=1.0, beta=0.5)
    >>> for _ in range(2): opt.step(params, {"w": np.array([1.0])})
    >>> params["w"]   # -(1) - (0.5 + 1)
    array([-2.5])
    """

    lr: float
    beta: float = 0.9
    state: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self.lr = check_positive_float(self.lr, "lr")
        self.beta = _check_beta(self.beta, "beta")

    def step(self, params: dict, grads: dict) -> None:
        """Update ``params`` in place from ``grads``."""
        _check_step(params, grads)
        for k, g in grads.items():
            g = np.asarray(g)
            v = self.state.get(k)
            v = g.copy() if v is None else self.beta * v + g
            self.state[k] = v
            params[k] -= self.lr * v


@dataclass
class Adam:
    """Adam: momentum on the gradient and on its square, with bias correction.

    Per key, with ``t`` the number of steps that key has taken,
    ``m ← β₁ m + (1 − β₁) g``,  ``v ← β₂ v + (1 − β₂) g ⊙ g``,
    ``m̂ = m / (1 − β₁ᵗ)``,  ``v̂ = v / (1 − β₂ᵗ)``,  ``P ← P − η m̂ / (√v̂ + ε)``.

    The division is entry by entry: a diagonal preconditioner. Kingma & Ba (2015).
    Chapter 2.

    Parameters
    ----------
    lr : float > 0
    beta1, beta2 : float in [0, 1)
    eps : float > 0

    Examples
    --------
    >>> params = {"w": np.array([1.0, 1.0])}
    >>> Adam(lr=0.1).step(params, {"w": np.array([5.0, -0.01])})
    >>> np.round(params["w"], 6)   # the first step has size lr whatever |g| is
    array([0.9, 1.1])
    """

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    state: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self.lr = check_positive_float(self.lr, "lr")
        self.beta1 = _check_beta(self.beta1, "beta1")
        self.beta2 = _check_beta(self.beta2, "beta2")
        self.eps = check_positive_float(self.eps, "eps")

    def step(self, params: dict, grads: dict) -> None:
        """Update ``params`` in place from ``grads``."""
        _check_step(params, grads)
        for k, g in grads.items():
            g = np.asarray(g)
            m, v, t = self.state.get(k, (0.0, 0.0, 0))
            t += 1
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * (g * g)
            self.state[k] = (m, v, t)
            m_hat = m / (1 - self.beta1 ** t)
            v_hat = v / (1 - self.beta2 ** t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def train(params, X, y, *, activation="relu", loss="cross_entropy", optimizer=None, epochs=100,
          batch_size=32, weight_decay=0.0, rng=None, callback=None, progress=True):
    """Train an MLP with minibatch gradient steps; return the trained copy and its history.

    Each epoch shuffles the rows with ``rng`` and walks through them in
    minibatches ``B``: ``loss, grads = mlp_loss_and_grads(params, X[B], y[B])``,
    ``optimizer.step(params, grads)``. After each epoch it records the loss
    (and, for cross-entropy, the accuracy) on the whole of ``(X, y)``. Chapter 2.

    Parameters
    ----------
    params : dict from :func:`mlp_init` (not modified: training works on a copy)
    X : (n, d0)
    y : (n,) integer labels (cross-entropy) or (n, dL) targets (mse)
    activation : {"relu", "tanh", "sigmoid", "gelu"}
    loss : {"cross_entropy", "mse"}
    optimizer : SGD, Momentum or Adam instance; default ``Adam(lr=0.01)``
    epochs : int >= 0
    batch_size : int >= 1 (the last batch of an epoch may be smaller)
    weight_decay : float >= 0, see :func:`mlp_loss_and_grads`
    rng : numpy.random.Generator or None, for the shuffling
    callback : callable or None, ``callback(epoch, params, history)`` after each epoch
        (epoch counts from 1); ``params`` is live, copy what you keep.
    progress : bool, show a ``tqdm`` progress bar over epochs

    Returns
    -------
    params : dict, the trained parameters
    history : dict with lists ``"loss"`` and, for cross-entropy, ``"accuracy"``;
        entry 0 is before training, entry ``e`` after epoch ``e``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 2)); y = (X[:, 0] > 0).astype(int)
    >>> p, h = train(mlp_init([2, 8, 2], rng=rng), X, y, epochs=30, rng=rng, progress=False)
    >>> h["accuracy"][-1] >= 0.9
    True
    """
    L = _n_layers(params)
    X = _check_X(params, X)
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(loss, "loss", _LOSSES)
    y = _check_targets(y, X.shape[0], params[f"W{L}"].shape[1], loss)
    if optimizer is None:
        optimizer = Adam(lr=0.01)
    elif not hasattr(optimizer, "step") or not callable(optimizer.step):
        raise TypeError(f"optimizer must have a step(params, grads) method, like SGD, Momentum or Adam; "
                        f"got {type(optimizer).__name__}")
    epochs = check_nonneg_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    rng = check_rng(rng)
    if callback is not None:
        check_callable(callback, "callback")

    params = {k: np.array(v, copy=True) for k, v in params.items()}
    n = X.shape[0]
    history = {"loss": []}
    if loss == "cross_entropy":
        history["accuracy"] = []

    def record():
        scores = _forward(params, X, L, activation, False)
        if loss == "cross_entropy":
            history["loss"].append(_softmax_cross_entropy(scores, y)[0])
            history["accuracy"].append(float(np.mean(np.argmax(scores, axis=1) == y)))
        else:
            history["loss"].append(float(0.5 * np.sum((scores - y) ** 2) / n))

    record()
    epoch_iter = range(1, epochs + 1)
    bar = None
    if progress and epochs:
        bar = progress_bar(epoch_iter, desc="training")
        epoch_iter = bar
    for epoch in epoch_iter:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, grads = _loss_and_grads(params, X[batch], y[batch], L, activation, loss, weight_decay)
            optimizer.step(params, grads)
        record()
        if bar is not None:
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}")
        if callback is not None:
            callback(epoch, params, history)
    if bar is not None:
        bar.close()
    return params, history
