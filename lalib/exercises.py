"""Checkers for the exercises at the end of each chapter.

Every exercise ends in a call ``lalib.exercises.check_<name>(answer)``. The
checker runs the learner's function (or inspects their value) on hidden cases,
compares it with a reference, and prints either a short success message or the
first failing case with a hint. It never raises on a wrong answer, so a chapter
with unfinished exercises still runs top to bottom; it returns a
:class:`CheckResult` whose ``passed`` attribute the solutions notebooks assert.

Adding a checker: write the reference, build the cases with a seeded ``rng``
and call :func:`run_checker` (for functions) or :func:`check_value` (for a
number or an array the learner computed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["CheckResult", "run_checker", "check_value"]


@dataclass
class CheckResult:
    """The outcome of a checker: ``passed`` and the message that was printed."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:  # keeps notebook outputs short and stable
        return f"CheckResult(passed={self.passed})"


def _report(passed: bool, message: str) -> CheckResult:
    print(("✔ " if passed else "✘ ") + message)
    return CheckResult(passed, message)


def _close(got: Any, want: Any, rtol: float, atol: float) -> tuple[bool, str]:
    """Compare an answer with the reference; say what differs when it does."""
    if got is None:
        return False, "your function returned None (did you forget `return`?)"
    try:
        got_arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False, f"expected an array of numbers, got {type(got).__name__}"
    want_arr = np.asarray(want, dtype=float)
    if got_arr.shape != want_arr.shape:
        return False, f"shape {got_arr.shape}, expected {want_arr.shape}"
    if not np.all(np.isfinite(got_arr)):
        return False, "the result contains NaN or infinity"
    if not np.allclose(got_arr, want_arr, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(got_arr - want_arr)))
        return False, f"values differ from the reference by up to {err:.3g}"
    return True, ""


def run_checker(
    title: str,
    candidate: Callable,
    cases: Sequence[tuple[tuple, Any]],
    hint: str,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    compare: Callable[[Any, Any], tuple[bool, str]] | None = None,
) -> CheckResult:
    """Run ``candidate(*args)`` on each hidden case and compare with the expected value.

    Parameters
    ----------
    title : str
        What is being checked, e.g. ``"stable softmax"``.
    candidate : callable
        The learner's function.
    cases : sequence of (args, expected)
        Hidden inputs and the reference outputs.
    hint : str
        Printed on the first failure.
    compare : callable, optional
        ``compare(got, expected) -> (ok, reason)``; by default ``np.allclose``
        with a check of shape and finiteness.

    Examples
    --------
    >>> r = run_checker("double", lambda x: 2 * x, [((1.0,), 2.0)], "multiply by 2")
    ✔ double: all 1 hidden cases pass.
    >>> r.passed
    True
    """
    if not callable(candidate):
        return _report(False, f"{title}: expected a function, got {type(candidate).__name__}.")
    compare = compare or (lambda got, want: _close(got, want, rtol, atol))
    for i, (args, expected) in enumerate(cases, start=1):
        try:
            got = candidate(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
        except NotImplementedError:
            return _report(False, f"{title}: not written yet. Hint: {hint}")
        except Exception as exc:  # a learner's bug is a result, not a crash
            return _report(False, f"{title}: case {i} raised {type(exc).__name__}: {exc}. Hint: {hint}")
        ok, reason = compare(got, expected)
        if not ok:
            return _report(False, f"{title}: case {i} of {len(cases)} fails: {reason}. Hint: {hint}")
    return _report(True, f"{title}: all {len(cases)} hidden cases pass.")


def check_value(title: str, answer: Any, expected: Any, hint: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> CheckResult:
    """Compare a value the learner computed with the reference value.

    Examples
    --------
    >>> check_value("trace", 3.0, 3.0, "sum the diagonal").passed
    ✔ trace: correct.
    True
    """
    if answer is None or answer is Ellipsis:
        return _report(False, f"{title}: not answered yet. Hint: {hint}")
    ok, reason = _close(answer, expected, rtol, atol)
    if ok:
        return _report(True, f"{title}: correct.")
    return _report(False, f"{title}: {reason}. Hint: {hint}")


# Chapter checkers live below, one section per chapter, each a ``check_<name>``
# function built on run_checker / check_value.

# --- chapter 0: linear algebra toolkit ---

# --- chapter 1: embeddings ---

# --- chapter 2: MLPs and backpropagation ---

# --- chapter 3: attention and transformers ---
