"""Input checks shared by every lalib module.

Each check raises a ``ValueError`` or ``TypeError`` *before any work is done*,
and its message names the argument, what was expected and what was given, e.g.

    ValueError: K must have shape (m, 64) (columns == Q.shape[1]); got (128, 32)

Kernels call these instead of re-typing their own checks, so that every error
in the library reads the same way.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_float_array",
    "as_int_array",
    "check_shape",
    "check_square",
    "check_same_shape",
    "check_finite",
    "check_positive_int",
    "check_nonneg_int",
    "check_positive_float",
    "check_probability",
    "check_choice",
    "check_rng",
    "check_callable",
    "as_sparse_or_dense",
    "NotConvergedWarning",
    "DivergedError",
    "check_finite_loss",
]

_FLOATS = (np.float32, np.float64)


def _shape_str(shape: Sequence[int | None]) -> str:
    """Format an expected shape with ``None`` shown as a free dimension name."""
    letters = iter("nmpqrstuvw")
    parts = [str(s) if s is not None else next(letters) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def as_float_array(
    x: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    shape: Sequence[int | None] | None = None,
    allow_empty: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """Return ``x`` as a float array, checking dimension, shape and finiteness.

    float32 and float64 are kept as they are; integers and booleans become
    float64; complex, object and string arrays are refused (``TypeError``).

    Parameters
    ----------
    x : array_like
    name : str
        The argument's name, used in the error message.
    ndim : int or iterable of int, optional
        Allowed numbers of dimensions.
    shape : sequence of int or None, optional
        Expected shape; ``None`` entries are free.
    allow_empty : bool
        Whether an array with a zero-length axis is acceptable.
    finite : bool
        Whether to reject NaN and infinity.

    Examples
    --------
    >>> as_float_array([[1, 2], [3, 4]], "A", ndim=2).dtype
    dtype('float64')
    """
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array; got a sparse {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like of numbers; got {type(x).__name__} ({exc})") from None
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "f":
        if arr.dtype not in _FLOATS:  # float16, longdouble: compute in float64
            arr = arr.astype(np.float64)
    else:
        raise TypeError(
            f"{name} must hold real numbers (float32 or float64); got dtype {arr.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got {arr.ndim}-D with shape {arr.shape}")
    if shape is not None:
        check_shape(arr, name, shape)
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if finite:
        check_finite(arr, name)
    return arr


def as_int_array(
    x: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    low: int | None = None,
    high: int | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Return ``x`` as an int64 array of ids, checking ``low <= x < high``.

    Floats that are whole numbers are refused too: an id given as ``3.0``
    usually means a bug upstream.

    Examples
    --------
    >>> as_int_array([0, 2, 1], "ids", high=3)
    array([0, 2, 1])
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "b" or arr.size or arr.dtype.kind not in "f":
            raise TypeError(f"{name} must hold integers; got dtype {arr.dtype}")
        arr = arr.astype(np.int64)  # an empty float array from np.array([])
    arr = arr.astype(np.int64, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got {arr.ndim}-D with shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if low is not None and lo < low:
            raise ValueError(f"{name} must be >= {low}; got a value {lo}")
        if high is not None and hi >= high:
            raise ValueError(f"{name} must be < {high}; got a value {hi}")
    return arr


def check_shape(arr: np.ndarray, name: str, shape: Sequence[int | None], why: str = "") -> None:
    """Check ``arr.shape`` against ``shape`` (``None`` = any length).

    ``why`` explains where the expected numbers come from, e.g.
    ``"columns == Q.shape[1]"``.

    Examples
    --------
    >>> check_shape(np.zeros((3, 2)), "X", (None, 2))
    """
    ok = len(arr.shape) == len(shape) and all(
        s is None or s == a for s, a in zip(shape, arr.shape)
    )
    if not ok:
        because = f" ({why})" if why else ""
        raise ValueError(f"{name} must have shape {_shape_str(shape)}{because}; got {tuple(arr.shape)}")


def check_square(A: Any, name: str) -> None:
    """Check that ``A`` (dense or sparse) is a square matrix.

    Examples
    --------
    >>> check_square(np.eye(3), "A")
    """
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{name} must be a square matrix (n, n); got shape {shape}")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Check that two arrays have the same shape.

    Examples
    --------
    >>> check_same_shape(np.zeros(2), np.ones(2), "x", "y")
    """
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_finite(arr: Any, name: str) -> None:
    """Reject NaN and infinity, saying how many entries are bad.

    Examples
    --------
    >>> check_finite(np.array([1.0, 2.0]), "x")
    """
    data = arr.data if sp.issparse(arr) else np.asarray(arr)
    if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        raise ValueError(f"{name} must be finite; got {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}")


def _check_number(value: Any, name: str, integer: bool) -> None:
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}; got {value!r} of type {type(value).__name__}")


def check_positive_int(value: Any, name: str, *, maximum: int | None = None, why: str = "") -> int:
    """Check ``1 <= value (<= maximum)`` for an integer and return it as ``int``.

    Examples
    --------
    >>> check_positive_int(3, "k", maximum=5)
    3
    """
    _check_number(value, name, integer=True)
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    if maximum is not None and value > maximum:
        because = f" ({why})" if why else ""
        raise ValueError(f"{name} must be at most {maximum}{because}; got {value}")
    return value


def check_nonneg_int(value: Any, name: str, *, maximum: int | None = None) -> int:
    """Check ``0 <= value (<= maximum)`` for an integer and return it as ``int``.

    Examples
    --------
    >>> check_nonneg_int(0, "n_iter")
    0
    """
    _check_number(value, name, integer=True)
    value = int(value)
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}; got {value}")
    return value


def check_positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Check a finite real ``value > 0`` (or ``>= 0``) and return it as ``float``.

    Examples
    --------
    >>> check_positive_float(0.1, "lr")
    0.1
    """
    _check_number(value, name, integer=False)
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def check_probability(value: Any, name: str, *, allow_one: bool = False) -> float:
    """Check ``0 <= value < 1`` (or ``<= 1``), e.g. a dropout rate.

    Examples
    --------
    >>> check_probability(0.5, "dropout")
    0.5
    """
    _check_number(value, name, integer=False)
    value = float(value)
    upper_ok = value <= 1 if allow_one else value < 1
    if not (0 <= value and upper_ok):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}; got {value}")
    return value


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices`` and return it.

    Examples
    --------
    >>> check_choice("relu", "activation", ["relu", "tanh"])
    'relu'
    """
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator``: ``None`` gives a fresh unseeded one.

    An ``int`` seed is refused on purpose: the library's convention is an
    explicit generator, so that one seeded ``rng`` drives a whole notebook.

    Examples
    --------
    >>> isinstance(check_rng(np.random.default_rng(0)), np.random.Generator)
    True
    """
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)) or None; "
            f"got {type(rng).__name__}"
        )
    return rng


def check_callable(value: Any, name: str) -> None:
    """Check that ``value`` can be called.

    Examples
    --------
    >>> check_callable(len, "f")
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable; got {type(value).__name__}")


def as_sparse_or_dense(A: Any, name: str, *, square: bool = False, allow_empty: bool = False):
    """Return a float CSR array for sparse input, a float ndarray for dense input.

    Sparse input is never densified here.

    Examples
    --------
    >>> as_sparse_or_dense(sp.eye(3), "A", square=True).format
    'csr'
    """
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D; got shape {A.shape}")
        if A.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got dtype {A.dtype}")
        A = sp.csr_array(A, dtype=A.dtype if A.dtype in _FLOATS else np.float64)
        if not allow_empty and 0 in A.shape:
            raise ValueError(f"{name} must not be empty; got shape {A.shape}")
        check_finite(A, name)
    else:
        A = as_float_array(A, name, ndim=2, allow_empty=allow_empty)
    if square:
        check_square(A, name)
    return A


class NotConvergedWarning(UserWarning):
    """An iterative method stopped at its iteration limit without meeting its tolerance.

    Raised as a warning (the partial result is still returned) by every
    iterative kernel; its message gives the iteration count, the residual and
    the likely cause. ``warnings.simplefilter("error", NotConvergedWarning)``
    turns it into an exception.
    """


class DivergedError(FloatingPointError):
    """A training loop's loss became NaN or infinite; training stopped at that epoch."""


def check_finite_loss(loss: float, epoch: int, where: str, hint: str = "") -> float:
    """Stop a training loop the moment its loss is NaN or ±inf (never run on with NaN epochs).

    Raises :class:`DivergedError` naming the loop, the epoch (or step) and the value,
    with ``hint`` (e.g. "lower the learning rate") appended.
    """
    loss = float(loss)
    if not np.isfinite(loss):
        msg = f"{where}: the loss became {loss} at epoch {epoch}; training stopped"
        raise DivergedError(msg + (f" ({hint})" if hint else ""))
    return loss
