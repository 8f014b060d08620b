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

from . import attention, embeddings, graphs, lowrank, mlp

__all__ = ["CheckResult", "run_checker", "check_value"]


@dataclass
class CheckResult:
    """The outcome of a checker: ``passed`` and the message that was printed."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        # The checker has already printed its verdict; when a notebook cell ends in
        # a checker call, showing the result object again would only repeat it.
        pass


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

def _ch0_rng():
    return np.random.default_rng(2025_0)


def check_modified_gram_schmidt(mgs):
    """Check ``mgs(A) -> (Q, R)``, modified Gram–Schmidt, on hidden matrices (chapter 0).

    Passes when ``Q @ R == A``, ``R`` is upper triangular with a positive
    diagonal, and ``Q`` is orthonormal — including on an ill-conditioned
    matrix, where classical Gram–Schmidt loses orthogonality.

    Examples
    --------
    >>> def mgs(A):
    ...     Q, R = np.linalg.qr(A); d = np.sign(np.diag(R)); return Q * d, R * d[:, None]
    >>> check_modified_gram_schmidt(mgs).passed
    ✔ modified Gram-Schmidt: all 3 hidden cases pass.
    True
    """
    rng = _ch0_rng()
    t = np.linspace(0.0, 1.0, 30)
    matrices = [rng.standard_normal((5, 3)), rng.standard_normal((8, 8)),
                np.vander(t, 10, increasing=True)]  # the last has cond ~ 1e7: CGS fails there
    cases = [((A,), A) for A in matrices]  # the "expected" value is A itself: QR must give it back

    def compare(got, A):
        try:
            Q, R = (np.asarray(a, dtype=float) for a in got)
        except (TypeError, ValueError):
            return False, "return a pair (Q, R) of arrays"
        m, n = A.shape
        if Q.shape != (m, n) or R.shape != (n, n):
            return False, f"Q should be {(m, n)} and R {(n, n)}; got {Q.shape} and {R.shape}"
        if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(R))):
            return False, "Q or R contains NaN or infinity"
        if not np.allclose(R, np.triu(R)) or np.any(np.diag(R) <= 0):
            return False, "R should be upper triangular with r_jj = ||v_j|| > 0 on the diagonal"
        if not np.allclose(Q @ R, A, atol=1e-10 * np.abs(A).max()):
            return False, "Q @ R is not A"
        loss = float(np.linalg.norm(Q.T @ Q - np.eye(n), 2))
        if loss > 1e-6:
            return False, (f"Q^T Q differs from I by {loss:.1e} (is it classical Gram-Schmidt? "
                           "project the *current* vector v, not the original column)")
        return True, ""

    return run_checker("modified Gram-Schmidt", mgs, cases,
                       "for each column j: v = a_j; for i < j: r_ij = q_i . v, v -= r_ij q_i; "
                       "then r_jj = ||v||, q_j = v / r_jj",
                       compare=compare)


def _graded_matrix(rng, m, n, cond):
    """``A = U diag(s) V^T`` with singular values from 1 down to ``1/cond``; returns ``(A, U)``."""
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (U * np.geomspace(1.0, 1.0 / cond, n)) @ V.T, U


def check_projection(project):
    r"""Check ``project(A, b)``, the orthogonal projection of ``b`` onto the columns of ``A`` (chapter 0).

    The answer must be within a relative error of ``1e-6``. The last hidden
    case has :math:`\kappa(A) = 10^8`: the normal equations
    ``A @ inv(A.T @ A) @ A.T @ b`` (or ``solve(A.T @ A, A.T @ b)``) square the
    condition number to :math:`10^{16}` and miss by more than 10 % there, while
    an orthonormal basis (QR, modified Gram–Schmidt, or the SVD inside
    ``lstsq``) gets about ``1e-9``.

    Examples
    --------
    >>> check_projection(lambda A, b: A @ np.linalg.lstsq(A, b, rcond=None)[0]).passed
    ✔ projection onto range(A): all 4 hidden cases pass.
    True
    """
    rng = _ch0_rng()
    cases = []
    for m, n, cond in [(4, 1, 1.0), (7, 3, 10.0), (12, 5, 1e3), (40, 6, 1e8)]:
        A, U = _graded_matrix(rng, m, n, cond)
        b = U @ rng.standard_normal(n) + rng.standard_normal(m)  # a part in range(A), a part outside
        cases.append(((A, b), U @ (U.T @ b)))  # U is an exact orthonormal basis of range(A)

    def compare(got, want):
        ok, reason = _close(got, want, rtol=0.0, atol=1e300)  # shape, None and finiteness only
        if not ok:
            return ok, reason
        err = float(np.linalg.norm(np.asarray(got, dtype=float) - want) / np.linalg.norm(want))
        if err > 1e-6:
            return False, (f"relative error {err:.1e} > 1e-6 (the hidden matrices have kappa(A) up to 1e8: "
                           "the normal equations A^T A x = A^T b square kappa and lose every digit there, "
                           "classical Gram-Schmidt loses about kappa^2 eps)")
        return True, ""

    return run_checker("projection onto range(A)", project, cases,
                       "orthonormalise the columns (Q, R = np.linalg.qr(A)) and return Q @ (Q.T @ b); "
                       "no inverse and no A.T @ A needed", compare=compare)


def _products_only(W, budget):
    """``W`` as a ``scipy.sparse.linalg.LinearOperator`` that offers ``W @ x`` and ``W.T @ y`` only,
    and refuses more than ``budget`` products (so ``W`` cannot be rebuilt column by column)."""
    from scipy.sparse.linalg import LinearOperator

    count = [0]

    def counted(f):
        def apply(x):
            count[0] += 1
            if count[0] > budget:
                raise RuntimeError(f"more than {budget} products with W or W.T; power iteration needs "
                                   "a few dozen here (do not rebuild W from W @ e_j)")
            return f(np.asarray(x, dtype=float).reshape(-1))
        return apply

    return LinearOperator(W.shape, matvec=counted(lambda x: W @ x), rmatvec=counted(lambda y: W.T @ y),
                          dtype=float)


def check_spectral_norm(spectral_norm):
    """Check ``spectral_norm(W)``, the largest singular value by power iteration on ``WᵀW`` (chapter 0).

    Each hidden ``W`` is given only as an operator
    (``scipy.sparse.linalg.LinearOperator``) offering the products ``W @ x``
    and ``W.T @ y`` — as for a layer one can apply but not store — and at most
    400 of them, fewer than the columns of the largest case: the matrix cannot
    be rebuilt, so ``np.linalg.norm(W, 2)`` or an SVD of it is impossible. The
    answer must be within a relative error of ``1e-6``.

    Examples
    --------
    >>> def spectral_norm(W, n_iter=100):
    ...     x = np.ones(W.shape[1])
    ...     for _ in range(n_iter):
    ...         x = W.T @ (W @ x); x /= np.linalg.norm(x)
    ...     return np.linalg.norm(W @ x)
    >>> check_spectral_norm(spectral_norm).passed
    ✔ spectral norm by power iteration: all 3 hidden cases pass.
    True
    """
    rng = _ch0_rng()
    cases = []
    for m, n in [(3, 3), (30, 20), (600, 500)]:
        k = min(m, n)
        s = np.sort(rng.uniform(0.1, 1.0, k))[::-1]
        s[0] = 2.0  # a clear gap sigma_2 / sigma_1 <= 0.5: a few dozen steps suffice
        W = np.zeros((m, n))
        W[:k, :k] = np.diag(s)
        # two Householder reflections on each side: orthogonal, so the singular values stay s,
        # at O(mn) cost instead of the QR of a large Gaussian matrix
        for _ in range(2):
            p, q = rng.standard_normal(m), rng.standard_normal(n)
            p, q = p / np.linalg.norm(p), q / np.linalg.norm(q)
            W -= 2.0 * np.outer(p, p @ W)
            W -= 2.0 * np.outer(W @ q, q)
        cases.append(((_products_only(W, budget=400),), 2.0))
    return run_checker("spectral norm by power iteration", spectral_norm, cases,
                       "W offers only products: iterate x <- W.T @ (W @ x), normalise x each step; "
                       "then sigma_1 = ||W @ x||", rtol=1e-6, atol=0.0)


def check_conv1d_matrix(conv_matrix):
    """Check ``conv_matrix(w, n)``: the Toeplitz matrix of 'valid' cross-correlation (chapter 0).

    Row ``i`` must hold ``w`` in columns ``i .. i+k-1``, so ``T @ x`` is
    ``np.correlate(x, w, "valid")``.

    Examples
    --------
    >>> from lalib.linalg import conv1d_matrix
    >>> check_conv1d_matrix(conv1d_matrix).passed
    ✔ convolution as a Toeplitz matrix: all 3 hidden cases pass.
    True
    """
    rng = _ch0_rng()
    cases = []
    for k, n in [(1, 4), (3, 8), (5, 5)]:
        w = rng.standard_normal(k)
        T = np.array([np.correlate(e, w, "valid") for e in np.eye(n)]).T  # column j = T @ e_j
        cases.append(((w, n), T))
    return run_checker("convolution as a Toeplitz matrix", conv_matrix, cases,
                       "T has n - k + 1 rows and n columns, and T[i, i + j] = w[j] (no kernel flip: "
                       "deep-learning 'convolution' is cross-correlation)")


# --- chapter 1: embeddings ---

def _ch1_dense(x):
    """Learners may return a scipy.sparse matrix; compare it as an array."""
    return x.toarray() if hasattr(x, "toarray") else x


def check_cooccurrence(cooccurrence_counts) -> CheckResult:
    """Exercise: ``cooccurrence_counts(ids, V, window)`` → the (V, V) symmetric window counts.

    ``C[i, j]`` counts the ordered pairs of positions s ≠ t with ``|s − t| <= window``,
    ``ids[s] = i`` and ``ids[t] = j``. Dense or sparse answers are accepted.
    """

    rng = np.random.default_rng(101)
    cases = []
    for n, V, w in [(12, 4, 1), (30, 6, 2), (50, 5, 3), (6, 6, 10)]:
        ids = rng.integers(0, V, n)
        cases.append(((ids, V, w), embeddings.cooccurrence(ids, V, w).toarray()))
    return run_checker(
        "windowed co-occurrence counts",
        lambda *a: _ch1_dense(cooccurrence_counts(*a)),
        cases,
        "for each offset o = 1 … window pair ids[:-o] with ids[o:], count with np.add.at (or a "
        "sparse coo matrix), then add the transpose for the pairs read right to left; a window "
        "longer than the text must not break it",
    )


def check_ppmi(ppmi) -> CheckResult:
    """Exercise: ``ppmi(C)`` → ``max(log(C_ij T / (r_i c_j)), 0)`` with 0 where ``C_ij = 0``."""

    rng = np.random.default_rng(102)
    cases = []
    for shape in [(3, 3), (4, 6), (8, 8)]:
        C = rng.integers(0, 6, shape).astype(float)
        C[0, 0] += 1
        cases.append(((C,), embeddings.ppmi(C)))
    return run_checker(
        "positive PMI",
        lambda C: _ch1_dense(ppmi(C)),
        cases,
        "T = C.sum(), r = C.sum(1), c = C.sum(0); compute the log only where C > 0 "
        "(np.log(0) gives -inf and a warning) and clip negatives to 0",
    )


def check_analogy(solve_analogy) -> CheckResult:
    """Exercise: ``solve_analogy(E, a, b, c)`` → the id d answering a : b :: c : d by 3CosAdd."""

    rng = np.random.default_rng(103)
    ax, ay = rng.normal(size=(3, 10)), rng.normal(size=(4, 10))
    E = np.array([ax[i] + ay[j] for i in range(3) for j in range(4)])  # id = 4 i + j
    E = E * rng.uniform(0.5, 3.0, size=(len(E), 1))                    # lengths must not matter
    E = np.vstack([E, 4 * (E[1] - E[0] + E[4]) / 3,                    # 12: a long decoy near b − a + c
                   E[0] + 0.05 * rng.normal(size=10)])                 # 13: a near-synonym of word 0
    questions = [(0, 1, 4), (5, 6, 1), (2, 10, 3), (0, 4, 1), (0, 13, 7)]
    # expected answers from the library's 3CosAdd; the question words travel along for the hint
    cases = [((E, a, b, c), (int(embeddings.analogy(E, a, b, c)[0]), (a, b, c))) for a, b, c in questions]

    def compare(got, want):
        d, question = want
        try:
            got = int(np.asarray(got).ravel()[0])
        except (TypeError, ValueError, IndexError):
            return False, f"expected an integer id, got {got!r}"
        if got in question:
            return False, f"answered {got}, one of the question words {question}: exclude a, b and c"
        return (got == d), f"answered {got}, expected {d}"

    # the decoy (id 12) is nearest to b − a + c by Euclidean distance but not by cosine
    return run_checker(
        "3CosAdd analogy",
        solve_analogy,
        cases,
        "normalize the rows of E, form t = ê_b − ê_a + ê_c, score every word by ê_x · t, set the "
        "scores of a, b and c to -inf and return the argmax",
        compare=compare,
    )


def check_rope(rope) -> CheckResult:
    """Exercise: ``rope(X)`` rotating row p of X (n, d) pair by pair by the angles p θ_i."""

    rng = np.random.default_rng(104)
    cases = [((X,), embeddings.rope(X)) for X in (rng.normal(size=(5, 4)), rng.normal(size=(9, 8)),
                                           rng.normal(size=(3, 2)))]
    return run_checker(
        "rotary position embedding",
        rope,
        cases,
        "θ_i = 10000 ** (-2 i / d) for i = 0 … d/2 − 1; angle = p θ_i; the even column becomes "
        "x_even cos − x_odd sin and the odd column x_even sin + x_odd cos",
        rtol=1e-9, atol=1e-12,
    )



def check_shifted_ppmi(shifted_ppmi) -> CheckResult:
    """Exercise: ``shifted_ppmi(C, K)`` → ``max(PMI^(0.75)_ij − log K, 0)``, 0 where ``C_ij = 0``.

    The matrix that skip-gram with K negatives approximates (Levy & Goldberg), with the context
    probabilities smoothed by α = 0.75 as in the chapter: ``P(j) = c_j^0.75 / Σ c^0.75``.
    """

    rng = np.random.default_rng(105)
    cases = []
    for shape, K in [((4, 4), 1), ((5, 7), 5), ((8, 8), 2), ((6, 6), 15)]:
        C = rng.integers(0, 9, shape).astype(float)
        C[rng.random(shape) < 0.3] = 0.0
        C[0, 0] += 1
        cases.append(((C, K), embeddings.ppmi(C, alpha=0.75, shift=np.log(K))))
    return run_checker(
        "shifted PPMI",
        lambda C, K: _ch1_dense(shifted_ppmi(C, K)),
        cases,
        "PMI_ij = log C_ij − log r_i − log P(j) with r = C.sum(1) and P(j) = c_j^0.75 / Σ c^0.75 "
        "(c = C.sum(0)); subtract log K (not K) before clipping at 0, and leave 0 where C_ij = 0",
    )

# --- chapter 2: MLPs and backpropagation ---

def _ch2_fd_grad(f, x):
    """Gradient of a scalar function of an array by central differences (the checkers' reference)."""
    return mlp.numerical_jacobian(f, x).reshape(np.shape(x))


def _ch2_compare_tuple(names, rtol=1e-5, atol=1e-7):
    """A compare function for answers that are tuples of arrays, e.g. ``(dX, dW, db)``."""
    def compare(got, want):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return False, f"expected a tuple of {len(want)} arrays ({', '.join(names)}), got {type(got).__name__}"
        for name, g, w in zip(names, got, want):
            ok, reason = _close(g, w, rtol, atol)
            if not ok:
                return False, f"{name}: {reason}"
        return True, ""
    return compare


def check_dense_backward(dense_backward):
    """Check ``dense_backward(delta, X, W) -> (dX, dW, db)`` against finite differences (chapter 2).

    The hidden cases use the loss ``L = Σ_ij delta_ij Z_ij`` with ``Z = X W + 1 bᵀ``,
    whose gradient with respect to ``Z`` is ``delta``; the reference gradients are
    central finite differences of ``L`` with respect to ``X``, ``W`` and ``b``.

    Examples
    --------
    >>> r = check_dense_backward(lambda d, X, W: (d @ W.T, X.T @ d, d.sum(axis=0)))
    ✔ dense layer backward pass: all 3 hidden cases pass.
    """
    rng = np.random.default_rng(2025_2)
    cases = []
    for n, d_in, d_out in [(4, 3, 2), (1, 5, 3), (7, 2, 6)]:
        X, W, b = rng.standard_normal((n, d_in)), rng.standard_normal((d_in, d_out)), rng.standard_normal(d_out)
        delta = rng.standard_normal((n, d_out))

        def loss(X_, W_, b_, delta=delta):
            return float(np.sum(delta * (X_ @ W_ + b_)))

        want = (_ch2_fd_grad(lambda x: loss(x, W, b), X), _ch2_fd_grad(lambda w: loss(X, w, b), W),
                _ch2_fd_grad(lambda c: loss(X, W, c), b))
        cases.append(((delta, X, W), want))
    hint = ("each gradient has the shape of its variable: dW = Xᵀ δ is (d_in, d_out), db = 1ᵀ δ sums δ over "
            "the rows (the batch), dX = δ Wᵀ is (n, d_in)")
    return run_checker("dense layer backward pass", dense_backward, cases, hint,
                       compare=_ch2_compare_tuple(("dX", "dW", "db")))


def check_softmax_cross_entropy_grad(grad):
    """Check ``grad(Z, y) -> dZ``, the gradient of the mean softmax cross-entropy (chapter 2).

    The loss is ``L = (1/n) Σ_i [log Σ_j exp Z_ij − Z_{i,y_i}]``; the reference is
    central finite differences of a stable implementation. One hidden case has
    scores near 1000, where computing ``exp(Z)`` directly overflows.

    Examples
    --------
    >>> def grad(Z, y):
    ...     P = np.exp(Z - Z.max(axis=1, keepdims=True)); P /= P.sum(axis=1, keepdims=True)
    ...     P[np.arange(len(y)), y] -= 1
    ...     return P / len(y)
    >>> r = check_softmax_cross_entropy_grad(grad)
    ✔ softmax cross-entropy gradient: all 3 hidden cases pass.
    """
    rng = np.random.default_rng(2025_2 + 1)

    def loss(Z, y):
        m = Z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        return float(np.mean(lse - Z[np.arange(len(y)), y]))

    cases = []
    for n, k, scale, shift in [(5, 3, 1.0, 0.0), (8, 4, 3.0, 0.0), (3, 5, 1.0, 1000.0)]:
        Z = scale * rng.standard_normal((n, k)) + shift
        y = rng.integers(0, k, n)
        cases.append(((Z, y), _ch2_fd_grad(lambda z, y=y: loss(z, y), Z)))
    hint = ("dZ = (softmax(Z) − Y) / n with Y the one-hot labels; compute softmax as exp(Z − max) / sum "
            "so that large scores do not overflow, and remember the 1/n of the mean")
    return run_checker("softmax cross-entropy gradient", grad, cases, hint, rtol=1e-5, atol=1e-7)


def check_batch_norm_backward(batch_norm_backward):
    """Check ``batch_norm_backward(dout, Z, gamma) -> dZ`` against finite differences (chapter 2).

    The forward map is ``out = γ ⊙ (Z − μ) / sqrt(v + ε)`` per column, with the
    batch mean ``μ``, the (biased) batch variance ``v`` and ``ε = 1e-5``; the hidden
    loss is ``L = Σ dout ⊙ out``.

    Examples
    --------
    >>> def bn_back(dout, Z, gamma, eps=1e-5):
    ...     n = Z.shape[0]; inv = 1 / np.sqrt(Z.var(0) + eps); Zh = (Z - Z.mean(0)) * inv; g = dout * gamma
    ...     return inv / n * (n * g - g.sum(0) - Zh * (g * Zh).sum(0))
    >>> r = check_batch_norm_backward(bn_back)
    ✔ batch normalization backward pass: all 3 hidden cases pass.
    """
    rng = np.random.default_rng(2025_2 + 2)
    eps = 1e-5

    def forward(Z, gamma):
        return gamma * (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + eps)

    cases = []
    for n, d in [(4, 2), (10, 3), (2, 1)]:
        Z = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.standard_normal(d)
        gamma, dout = rng.standard_normal(d), rng.standard_normal((n, d))
        want = _ch2_fd_grad(lambda z, g=gamma, G=dout: float(np.sum(G * forward(z, g))), Z)
        cases.append(((dout, Z, gamma), want))
    hint = ("μ and v depend on every row, so dZ has three terms: the direct one γ ⊙ dout / sqrt(v + ε), "
            "minus its column mean (through μ), minus Ẑ times the column mean of (γ ⊙ dout ⊙ Ẑ) (through v)")
    return run_checker("batch normalization backward pass", batch_norm_backward, cases, hint,
                       rtol=1e-5, atol=1e-7)


def check_low_rank_summary(low_rank_summary):
    """Check ``low_rank_summary(M, k) -> (stable_rank, energy)`` (chapter 2, section 11).

    ``stable_rank = ‖M‖_F² / ‖M‖_2² = Σ σ_i² / σ_1²`` and
    ``energy = (σ_1² + … + σ_k²) / Σ σ_i²``, the fraction of ‖M‖_F² in the top
    ``k`` singular values. The hidden cases include an exactly rank-one matrix
    (stable rank 1), a rank-two matrix plus small noise and a Gaussian matrix.

    Examples
    --------
    >>> def summary(M, k):
    ...     s = np.linalg.svd(M, compute_uv=False)
    ...     return float(np.sum(s**2) / s[0]**2), float(np.sum(s[:k]**2) / np.sum(s**2))
    >>> r = check_low_rank_summary(summary)
    ✔ stable rank and top-k energy: all 4 hidden cases pass.
    """
    rng = np.random.default_rng(2025_2 + 3)
    u, v = rng.standard_normal(6), rng.standard_normal(4)
    low = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 15))
    matrices = [(np.outer(u, v), 1), (low + 0.01 * rng.standard_normal((20, 15)), 2),
                (rng.standard_normal((30, 20)), 5), (np.diag([3.0, 2.0, 1.0, 0.5]), 2)]
    cases = []
    for M, k in matrices:
        s = np.linalg.svd(M, compute_uv=False)
        cases.append(((M, k), (float(np.sum(s ** 2) / s[0] ** 2), float(np.sum(s[:k] ** 2) / np.sum(s ** 2)))))
    hint = ("both use the squares of the singular values: stable rank = ‖M‖_F² / ‖M‖_2² = Σσ_i² / σ_1² "
            "(a real number between 1 and the rank), energy = (σ_1² + … + σ_k²) / Σσ_i²")
    return run_checker("stable rank and top-k energy", low_rank_summary, cases, hint,
                       compare=_ch2_compare_tuple(("stable_rank", "energy"), rtol=1e-6, atol=1e-9))


def check_gelu_second_moment(second_moment):
    """Check ``second_moment(q) -> E[GELU(z)²]`` for ``z ~ N(0, q)`` to 4 digits (chapter 2, section 8).

    The reference is adaptive quadrature (``scipy.integrate.quad``) of
    ``GELU(t)² φ(t; 0, q)`` over the real line. He initialization preserves the
    variance exactly when ``2 E[σ(z)²] = q``; for ReLU ``E[relu(z)²] = q/2``, and
    GELU differs from that most for small ``q``.

    Examples
    --------
    >>> def m2(q):
    ...     t = np.linspace(-12, 12, 40001) * np.sqrt(q)
    ...     w = np.exp(-t**2 / (2 * q)) / np.sqrt(2 * np.pi * q)
    ...     return float(np.sum(mlp.gelu(t) ** 2 * w) * (t[1] - t[0]))
    >>> r = check_gelu_second_moment(m2)
    ✔ E[GELU(z)²] for z ~ N(0, q): all 4 hidden cases pass.
    """
    from scipy.integrate import quad

    def reference(q):
        sd = np.sqrt(q)
        f = lambda t: float(mlp.gelu(np.array([t]))[0]) ** 2 * np.exp(-t * t / (2 * q)) / np.sqrt(2 * np.pi * q)  # noqa: E731
        return quad(f, -14 * sd, 14 * sd, points=[0.0], limit=200, epsabs=0, epsrel=1e-11)[0]

    cases = [((q,), reference(q)) for q in (0.05, 1.0, 3.7, 25.0)]
    hint = ("integrate GELU(t)² against the N(0, q) density numerically (a fine grid over ±12√q, or "
            "scipy.integrate.quad): for small q, GELU(z) ≈ z/2 + z²/√(2π) is not ReLU, so q/2 is wrong, and "
            "Monte Carlo sampling is too noisy for 4 digits")
    return run_checker("E[GELU(z)²] for z ~ N(0, q)", second_moment, cases, hint, rtol=1e-4, atol=0.0)


# --- chapter 3: attention and transformers ---

def check_stable_softmax(candidate) -> CheckResult:
    """Check a learner's ``softmax(x)`` over the last axis of a 2-D array (chapter 3).

    Hidden cases include scores near ±1000, where ``exp`` overflows unless the
    row maximum is subtracted first, and entries equal to ``-inf`` (masked).

    Examples
    --------
    >>> from lalib.attention import softmax
    >>> check_stable_softmax(softmax).passed
    ✔ stable softmax: all 4 hidden cases pass.
    True
    """

    rng = np.random.default_rng(303)
    xs = [rng.normal(size=(3, 5)),
          rng.normal(size=(2, 4)) * 10 + 1000.0,
          np.array([[-1000.0, -1001.0, -999.0]]),
          np.array([[0.0, -np.inf, 1.0], [2.0, 2.0, -np.inf]])]
    cases = [((x,), attention.softmax(x)) for x in xs]
    return run_checker("stable softmax", candidate, cases,
                       "subtract each row's maximum before exp (softmax(x) = softmax(x - c)), then divide by "
                       "the row sum; exp(-inf) = 0 takes care of masked entries.", rtol=1e-10, atol=1e-12)


def check_masked_attention(candidate) -> CheckResult:
    """Check a learner's ``attention(Q, K, V, mask)`` with a boolean mask, True = may attend (chapter 3).

    Examples
    --------
    >>> from lalib.attention import scaled_dot_product_attention as f
    >>> check_masked_attention(lambda Q, K, V, mask: f(Q, K, V, mask=mask)).passed
    ✔ masked attention: all 3 hidden cases pass.
    True
    """

    rng = np.random.default_rng(304)
    cases = []
    for n, m, d, kind in [(5, 5, 4, "causal"), (4, 6, 3, "random"), (6, 6, 8, "none")]:
        Q, K, V = rng.normal(size=(n, d)), rng.normal(size=(m, d)), rng.normal(size=(m, 2))
        if kind == "causal":
            mask = attention.causal_mask(n)
        elif kind == "random":
            mask = rng.random((n, m)) < 0.5
            mask[:, 0] = True
        else:
            mask = np.ones((n, m), dtype=bool)
        cases.append(((Q, K, V, mask), attention.scaled_dot_product_attention(Q, K, V, mask=mask)))
    return run_checker("masked attention", candidate, cases,
                       "scores S = Q @ K.T / sqrt(d_k); set S[~mask] = -inf; softmax each row; multiply by V.",
                       rtol=1e-9, atol=1e-12)


def check_causal_linear_attention(candidate) -> CheckResult:
    """Check a learner's causal linear attention with ``φ(x) = elu(x) + 1`` (chapter 3).

    The answer must equal ``tril(φ(Q)φ(K)ᵀ) V`` divided row by row by
    ``tril(φ(Q)φ(K)ᵀ) 1`` — best computed with the running sums
    ``S_i = S_{i-1} + φ(k_i) v_iᵀ`` and ``z_i = z_{i-1} + φ(k_i)``.

    Examples
    --------
    >>> from lalib.attention import linear_attention
    >>> check_causal_linear_attention(lambda Q, K, V: linear_attention(Q, K, V, causal=True)).passed
    ✔ causal linear attention: all 3 hidden cases pass.
    True
    """

    rng = np.random.default_rng(305)
    cases = []
    for n, d, dv in [(1, 3, 2), (7, 4, 3), (30, 8, 5)]:
        Q, K, V = rng.normal(size=(n, d)), rng.normal(size=(n, d)), rng.normal(size=(n, dv))
        cases.append(((Q, K, V), attention.linear_attention(Q, K, V, causal=True)))
    return run_checker("causal linear attention", candidate, cases,
                       "phi(x) = np.where(x > 0, x + 1, np.exp(x)); walk i = 0..n-1 keeping S (d × d_v) and "
                       "z (d,): add the outer product phi(k_i) v_iᵀ to S and phi(k_i) to z, then "
                       "out_i = phi(q_i) @ S / (phi(q_i) @ z).", rtol=1e-9, atol=1e-12)


def check_performer_relative_variance(relative_variance) -> CheckResult:
    """Check ``relative_variance(q, k)``: Var[X] / E[X]² of one positive random feature sample (chapter 3).

    One sample of the Performer estimator of ``e^{qᵀk}`` is
    ``X = exp(wᵀq − ‖q‖²/2) · exp(wᵀk − ‖k‖²/2)`` with ``w ~ N(0, I)``. Its mean
    is ``e^{qᵀk}`` and its relative variance ``Var[X] / E[X]² = e^{‖q + k‖²} − 1``.

    Examples
    --------
    >>> r = check_performer_relative_variance(lambda q, k: np.expm1(np.sum((q + k) ** 2)))
    ✔ relative variance of a positive random feature: all 4 hidden cases pass.
    """
    rng = np.random.default_rng(306)
    cases = []
    for d, scale in [(2, 0.5), (4, 0.4), (8, 0.3), (16, 0.2)]:
        q, k = rng.normal(size=(2, d)) * scale
        k = k + 0.5 * q  # correlated, so that ‖q + k‖² differs clearly from ‖q‖² + ‖k‖²
        cases.append(((q, k), float(np.expm1(np.sum((q + k) ** 2)))))
    hint = ("E[e^{wᵀx}] = e^{‖x‖²/2} for w ~ N(0, I). So E[X] = e^{qᵀk}, and X² = exp(wᵀ(2q + 2k) − ‖q‖² − ‖k‖²) "
            "gives E[X²] = e^{2‖q+k‖² − ‖q‖² − ‖k‖²}; the relative variance is E[X²]/E[X]² − 1 = e^{‖q+k‖²} − 1 "
            "(it depends on q + k, not on q alone).")
    return run_checker("relative variance of a positive random feature", relative_variance, cases, hint,
                       rtol=1e-9, atol=1e-12)


def check_batched_multi_head_attention(candidate) -> CheckResult:
    """Check ``mha(X, params, h)``: causal multi-head self-attention as one batched product (chapter 3).

    The reference is :func:`lalib.attention.multi_head_attention` with a causal
    mask: ``Q = X W_Q`` reshaped ``(n, d) → (n, h, d_h) → (h, n, d_h)`` (and the
    same for ``K``, ``V``), scores ``(h, n, n)`` scaled by ``1/√d_h``, the
    causal mask, a row softmax, ``(h, n, d_h)`` outputs merged back to
    ``(n, d)`` and multiplied by ``W_O``.

    Examples
    --------
    >>> from lalib.attention import causal_mask, multi_head_attention
    >>> r = check_batched_multi_head_attention(
    ...     lambda X, p, h: multi_head_attention(X, p, h, mask=causal_mask(X.shape[0])))
    ✔ batched causal multi-head attention: all 3 hidden cases pass.
    """
    rng = np.random.default_rng(307)
    cases = []
    for n, d, h in [(5, 8, 2), (7, 12, 3), (3, 16, 4)]:
        X = rng.normal(size=(n, d))
        params = attention.mha_init(d, h, rng=rng)
        params = {k: v * (2.0 if k in ("W_Q", "W_K") else 1.0) for k, v in params.items()}  # less uniform maps
        cases.append(((X, params, h), attention.multi_head_attention(X, params, h, mask=attention.causal_mask(n))))
    hint = ("reshape X @ W_Q from (n, d) to (n, h, d_h) and then transpose to (h, n, d_h) — a plain reshape to "
            "(h, n, d_h) mixes tokens and heads; scores Qh @ Kh.transpose(0, 2, 1) / sqrt(d_h) (the head width, "
            "not d); set the scores above the diagonal to -inf; softmax the rows; (A @ Vh) back to (n, h, d_h) "
            "and reshape to (n, d); multiply by W_O.")
    return run_checker("batched causal multi-head attention", candidate, cases, hint, rtol=1e-9, atol=1e-12)


# --- chapter 4: low-rank methods ---

def _decaying_matrix(rng, m, n, decay):
    """A dense ``(m, n)`` matrix with singular values ``decay**j`` and random singular vectors."""
    p = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, p)))
    V, _ = np.linalg.qr(rng.standard_normal((n, p)))
    return (U * decay ** np.arange(p)) @ V.T


def check_range_finder(range_finder) -> CheckResult:
    """Check ``range_finder(A, ell, n_iter, rng) -> Q``, the randomized range finder with power iterations (chapter 4).

    Passes when ``Q : (m, ℓ)`` has orthonormal columns and captures the range
    almost as well as the best ``ℓ``-dimensional basis:
    ``‖A − QQᵀA‖₂ ≤ 1.1 σ_{ℓ+1}``. One hidden case has ``q = 6`` power
    iterations on a fast-decaying spectrum: without a QR after *every*
    product the columns collapse onto the top singular vector and the
    error is many times ``σ_{ℓ+1}``.

    Examples
    --------
    >>> check_range_finder(lambda A, l, q, rng: lowrank.randomized_range_finder(A, l, q, rng=rng)).passed
    ✔ randomized range finder: all 3 hidden cases pass.
    True
    """
    rng = np.random.default_rng(404)
    cases = []
    for m, n, decay, ell, q in [(60, 40, 0.5, 5, 2), (40, 70, 0.7, 8, 3), (120, 80, 0.6, 10, 6)]:
        A = _decaying_matrix(rng, m, n, decay)
        cases.append(((A, ell, q, np.random.default_rng(int(rng.integers(1 << 30)))), (A, ell)))

    def compare(Q, want):
        A, ell = want
        if Q is None:
            return False, "your function returned None (did you forget `return`?)"
        Q = np.asarray(Q, dtype=float)
        if Q.shape != (A.shape[0], ell):
            return False, f"Q should have shape {(A.shape[0], ell)}; got {Q.shape}"
        if not np.all(np.isfinite(Q)):
            return False, "Q contains NaN or infinity"
        loss = float(np.linalg.norm(Q.T @ Q - np.eye(ell), 2))
        if loss > 1e-8:
            return False, f"the columns of Q are not orthonormal (‖QᵀQ − I‖₂ = {loss:.1e})"
        s = np.linalg.svd(A, compute_uv=False)
        err = float(np.linalg.norm(A - Q @ (Q.T @ A), 2))
        if err > 1.1 * s[ell]:
            return False, (f"‖A − QQᵀA‖₂ = {err:.2e} is {err / s[ell]:.0f}× the best possible σ_ℓ+1 = {s[ell]:.2e} "
                           "(did the columns collapse onto the top singular vector?)")
        return True, ""

    return run_checker("randomized range finder", range_finder, cases,
                       "Y = A @ Omega with a Gaussian Omega (n × ell) from rng, Q = qr(Y); then n_iter times: "
                       "Q = qr(A.T @ Q), Q = qr(A @ Q) — re-orthonormalize after EVERY product, or the columns "
                       "all turn toward u_1 in floating point", compare=compare)


def check_pca(pca) -> CheckResult:
    """Check ``pca(X, k) -> (components (k, d), explained_variance (k,))`` on hidden data (chapter 4).

    Components are compared up to the sign of each row (the SVD leaves it
    free). The hidden data sit far from the origin, so PCA without centring
    finds the direction of the mean instead of the direction of largest
    variance; variances use ``n − 1``, like ``np.cov``.

    Examples
    --------
    >>> check_pca(lambda X, k: (lowrank.pca(X, k)["components"], lowrank.pca(X, k)["explained_variance"])).passed
    ✔ PCA: all 3 hidden cases pass.
    True
    """
    rng = np.random.default_rng(405)
    cases = []
    for n, d, k, offset in [(50, 3, 2, 0.0), (80, 5, 3, 20.0), (200, 4, 1, 5.0)]:
        X = rng.standard_normal((n, d)) * np.linspace(3.0, 0.5, d) @ np.linalg.qr(rng.standard_normal((d, d)))[0]
        X = X + offset * rng.standard_normal(d)
        ref = lowrank.pca(X, k)
        cases.append(((X, k), (ref["components"], ref["explained_variance"])))

    def compare(got, want):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return False, f"return a pair (components, explained_variance); got {type(got).__name__}"
        comps, var = (np.asarray(g, dtype=float) for g in got)
        want_c, want_v = want
        if comps.shape != want_c.shape:
            return False, f"components should have shape {want_c.shape} (one component per row); got {comps.shape}"
        signs = np.sign(np.sum(comps * want_c, axis=1))
        signs[signs == 0] = 1
        ok, reason = _close(comps * signs[:, None], want_c, 1e-6, 1e-8)
        if not ok:
            return False, f"components: {reason}"
        ok, reason = _close(var, want_v, 1e-8, 1e-10)
        if not ok:
            return False, f"explained variance: {reason}"
        return True, ""

    return run_checker("PCA", pca, cases,
                       "centre first (Xc = X - X.mean(axis=0)), then U, s, Vt = np.linalg.svd(Xc, "
                       "full_matrices=False); components = Vt[:k], explained variance = s[:k]**2 / (n - 1)",
                       compare=compare)


def check_lora_init(lora_init) -> CheckResult:
    """Check ``lora_init(W, r, alpha, rng) -> {"A": (d_in, r), "B": (r, d_out), "scale": float}`` (chapter 4).

    Passes when ``B = 0`` (the adapted layer ``X W + s (X A) B`` starts equal
    to the frozen ``X W``), ``A`` is random of rank ``r`` (so the gradient
    ``s Aᵀ G`` of ``B`` is not zero and training can start), and
    ``s = α / r``.

    Examples
    --------
    >>> check_lora_init(lambda W, r, alpha, rng: lowrank.lora_init(W, r, alpha, rng=rng)).passed
    ✔ LoRA initialisation: all 3 hidden cases pass.
    True
    """
    rng = np.random.default_rng(406)
    cases = []
    for d_in, d_out, r, alpha in [(6, 4, 1, 1.0), (10, 8, 2, 16.0), (16, 12, 4, 8.0)]:
        W = rng.standard_normal((d_in, d_out))
        cases.append(((W, r, alpha, np.random.default_rng(int(rng.integers(1 << 30)))), (W, r, alpha)))

    def compare(got, want):
        W, r, alpha = want
        d_in, d_out = W.shape
        if not isinstance(got, dict) or any(key not in got for key in ("A", "B", "scale")):
            return False, "return a dict with keys 'A', 'B' and 'scale'"
        A, B = np.asarray(got["A"], dtype=float), np.asarray(got["B"], dtype=float)
        if A.shape != (d_in, r) or B.shape != (r, d_out):
            return False, f"A should be {(d_in, r)} and B {(r, d_out)}; got {A.shape} and {B.shape}"
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
            return False, "A or B contains NaN or infinity"
        X = np.random.default_rng(0).standard_normal((5, d_in))
        if not np.allclose(X @ W + float(got["scale"]) * (X @ A) @ B, X @ W, rtol=0, atol=1e-12):
            return False, "the adapted layer X W + s (X A) B does not start equal to the frozen X W (is B zero?)"
        if np.linalg.matrix_rank(A) < r:
            return False, (f"A has rank {np.linalg.matrix_rank(A)} < r = {r}: with A = 0 the gradient of B, "
                           "s Aᵀ G, is zero and training never starts")
        if not np.isclose(float(got["scale"]), alpha / r):
            return False, f"scale should be alpha / r = {alpha / r:g}; got {float(got['scale']):g}"
        return True, ""

    return run_checker("LoRA initialisation", lora_init, cases,
                       "A = rng.standard_normal((d_in, r)) / sqrt(d_in) (random, so gradients flow), "
                       "B = np.zeros((r, d_out)) (so the adapted layer starts equal to W), scale = alpha / r",
                       compare=compare)


def check_als_update(update_rows) -> CheckResult:
    """Check ``update_rows(R, mask, V, reg) -> U``, one ALS half-step on the observed entries (chapter 4).

    For every row ``i``, ``u_i`` must solve
    ``(V_Ωᵢᵀ V_Ωᵢ + λ I) u_i = V_Ωᵢᵀ r_Ωᵢ`` where ``Ω_i`` are the observed
    columns of row ``i``. ``R`` holds 0 where ``mask`` is False: solving
    ``(VᵀV + λI) u_i = Vᵀ r_i`` with all columns fits those zeros as if
    they were ratings — the classic mistake.

    Examples
    --------
    >>> from lalib.lowrank import _half_step
    >>> check_als_update(lambda R, mask, V, reg: _half_step(R, mask.astype(float), V, reg)).passed
    ✔ ALS half-step: all 3 hidden cases pass.
    True
    """
    rng = np.random.default_rng(407)
    cases = []
    for m, n, k, frac, reg in [(5, 6, 2, 0.6, 0.1), (12, 9, 3, 0.4, 1.0), (30, 20, 4, 0.25, 0.01)]:
        mask = rng.random((m, n)) < frac
        R = np.where(mask, rng.standard_normal((m, n)) + 3.0, 0.0)
        V = rng.standard_normal((n, k))
        cases.append(((R, mask, V, reg), lowrank._half_step(R, mask.astype(float), V, reg)))
    return run_checker("ALS half-step", update_rows, cases,
                       "for each row i take the observed columns j = mask[i]: Vi = V[j], ri = R[i, j], and solve "
                       "(Vi.T @ Vi + reg * I) u = Vi.T @ ri (e.g. scipy.linalg.cho_solve); unobserved entries "
                       "are unknown, not zero", rtol=1e-8, atol=1e-10)


def check_lora_params(answer) -> CheckResult:
    """Check the trainable parameters of LoRA with r = 8 on all four attention projections of GPT-3 (chapter 4).

    GPT-3 175B: 96 layers of width d = 12288; the adapted projections are
    ``W_q, W_k, W_v, W_o`` (each ``d × d``), and each gets ``r (d + d)`` parameters.

    Examples
    --------
    >>> check_lora_params(96 * 4 * 8 * 2 * 12288).passed
    ✔ LoRA parameters for GPT-3: correct.
    True
    """
    return check_value("LoRA parameters for GPT-3", answer, 96 * 4 * lowrank.lora_num_params(12288, 12288, 8),
                       "per adapted matrix A is d × r and B is r × d: r (d + d) numbers; four matrices "
                       "(W_q, W_k, W_v, W_o) per layer, 96 layers", rtol=0, atol=0.5)


# --- chapter 5: graph neural networks ---

def _as_dense_answer(got):
    """A learner's matrix answer (sparse or dense) as a dense float array, or None if it is not one."""
    import scipy.sparse as sp

    if sp.issparse(got):
        return got.toarray().astype(float)
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None


def _diagnose(got, want, mistakes, rtol=1e-9, atol=1e-12):
    """Compare with the reference; if it fails, name the first known mistake the answer matches."""
    if got is None:
        return False, "your function returned None (did you forget `return`?)"
    arr = _as_dense_answer(got)
    if arr is None:
        return False, f"expected a matrix (NumPy or scipy.sparse), got {type(got).__name__}"
    ok, reason = _close(arr, want, rtol, atol)
    if ok:
        return True, ""
    for wrong, explanation in mistakes:
        if arr.shape == wrong.shape and np.allclose(arr, wrong, rtol=rtol, atol=atol):
            return False, explanation
    return False, reason


def _ch5_graphs():
    """Small hidden graphs: a weighted one, a path with an isolated node, a star."""
    import networkx as nx

    rng = np.random.default_rng(505)
    G = nx.gnm_random_graph(7, 10, seed=5)
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    path = nx.path_graph(4)
    path.add_node(4)
    return [graphs.adjacency_matrix(G), graphs.adjacency_matrix(path), graphs.adjacency_matrix(nx.star_graph(5))]


def _inv_sqrt_degrees(A):
    d = np.asarray(A.sum(axis=1)).ravel()
    return np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0), d


def check_normalized_adjacency(normalized_adjacency) -> CheckResult:
    """Check ``normalized_adjacency(A) -> D^{-1/2} A D^{-1/2}`` (isolated nodes: 0) (chapter 5).

    ``A`` is a scipy.sparse CSR adjacency; the answer may be sparse or dense.
    Classic mistakes it recognizes: ``D^{-1} A`` (one side only),
    ``D^{-1} A D^{-1}``, and a division by zero at an isolated node.

    Examples
    --------
    >>> f = lambda A: np.eye(A.shape[0]) - graphs.laplacian(A, "symmetric").toarray() - np.diag(
    ...     (graphs.degrees(A) == 0).astype(float))
    >>> check_normalized_adjacency(f).passed
    ✔ symmetric normalized adjacency: all 3 hidden cases pass.
    True
    """
    cases = []
    for A in _ch5_graphs():
        s, d = _inv_sqrt_degrees(A)
        Ad = A.toarray()
        inv = s * s
        want = s[:, None] * Ad * s[None, :]
        mistakes = [(inv[:, None] * Ad, "this is D⁻¹A (each row divided by its degree, a random-walk matrix); "
                                        "the symmetric form divides entry (i, j) by √(d_i d_j): D^{-1/2} on "
                                        "both sides"),
                    (inv[:, None] * Ad * inv[None, :], "this divides by d_i d_j (D⁻¹ on both sides); use "
                                                       "D^{-1/2} = diag(1/√d) on each side")]
        cases.append(((A,), (want, mistakes)))
    return run_checker("symmetric normalized adjacency", normalized_adjacency, cases,
                       "d = A.sum(axis=1); s = 1/sqrt(d) where d > 0 and 0 at isolated nodes; "
                       "return diag(s) @ A @ diag(s)",
                       compare=lambda got, want: _diagnose(got, *want))


def check_renormalized_adjacency(renormalized_adjacency) -> CheckResult:
    """Check ``renormalized_adjacency(A) -> D̃^{-1/2}(A + I)D̃^{-1/2}``, ``D̃`` the degrees of ``A + I`` (chapter 5).

    Classic mistakes it recognizes: forgetting the self loops
    (``D^{-1/2} A D^{-1/2}``), adding ``I`` but normalizing with the degrees
    of ``A`` (``D^{-1/2}(A + I)D^{-1/2}``), and ``D̃^{-1}(A + I)``.

    Examples
    --------
    >>> check_renormalized_adjacency(graphs.renormalized_adjacency).passed
    ✔ renormalized adjacency: all 3 hidden cases pass.
    True
    """
    cases = []
    for A in _ch5_graphs():
        n = A.shape[0]
        Ad = A.toarray()
        At = Ad + np.eye(n)
        dt = At.sum(axis=1)
        st = 1 / np.sqrt(dt)
        s, _ = _inv_sqrt_degrees(A)
        want = st[:, None] * At * st[None, :]
        mistakes = [(s[:, None] * Ad * s[None, :], "no self loops: this is D^{-1/2} A D^{-1/2}; add the identity "
                                                   "first, Ã = A + I, so each node keeps its own features"),
                    (s[:, None] * At * s[None, :], "the degrees must be those of Ã = A + I (each one larger by "
                                                   "1), not those of A"),
                    (At / dt[:, None], "this is D̃⁻¹Ã (rows sum to 1); the renormalization is symmetric: "
                                       "D̃^{-1/2} on both sides")]
        cases.append(((A,), (want, mistakes)))
    return run_checker("renormalized adjacency", renormalized_adjacency, cases,
                       "At = A + I; d = At.sum(axis=1); return diag(1/sqrt(d)) @ At @ diag(1/sqrt(d))",
                       compare=lambda got, want: _diagnose(got, *want))


def check_chebyshev_filter(chebyshev_filter) -> CheckResult:
    """Check ``chebyshev_filter(L, x, coeffs, lmax) -> Σ_k c_k T_k(L̃) x`` with ``L̃ = 2L/lmax − I`` (chapter 5).

    Classic mistakes it recognizes: the recurrence run on ``L`` instead of
    the rescaled ``L̃``, and ``T_k = L̃ T_{k−1}`` without the factor 2 and the
    ``− T_{k−2}`` term (plain powers of ``L̃``).

    Examples
    --------
    >>> check_chebyshev_filter(graphs.chebyshev_filter).passed
    ✔ Chebyshev filter: all 3 hidden cases pass.
    True
    """
    rng = np.random.default_rng(506)

    def run(Lop, x, c):
        y, prev, cur = c[0] * x, x, Lop(x)
        if len(c) > 1:
            y = y + c[1] * cur
        for k in range(2, len(c)):
            prev, cur = cur, 2 * Lop(cur) - prev
            y = y + c[k] * cur
        return y

    def powers(Lop, x, c):
        y, cur = c[0] * x, x
        for k in range(1, len(c)):
            cur = Lop(cur)
            y = y + c[k] * cur
        return y

    cases = []
    for A, K in zip(_ch5_graphs(), (3, 5, 6)):
        L = graphs.laplacian(A)
        lmax = float(np.linalg.eigvalsh(L.toarray()).max())
        x = rng.standard_normal(A.shape[0])
        c = rng.standard_normal(K + 1)
        Lt = lambda v, L=L, lmax=lmax: 2 / lmax * (L @ v) - v  # noqa: E731
        want = graphs.chebyshev_filter(L, x, c, lmax=lmax)
        mistakes = [(run(lambda v, L=L: L @ v, x, c), "the recurrence must run on the rescaled L̃ = 2L/λ_max − I, "
                                                      "whose spectrum is in [−1, 1], not on L"),
                    (powers(Lt, x, c), "these are powers L̃ᵏx; Chebyshev polynomials obey "
                                       "T_k = 2 L̃ T_{k−1} − T_{k−2}, with T_0 x = x and T_1 x = L̃ x")]
        cases.append(((L, x, c, lmax), (want, mistakes)))
    return run_checker("Chebyshev filter", chebyshev_filter, cases,
                       "xs = [x, Lt(x)] with Lt(v) = 2/lmax * (L @ v) - v; then xs.append(2*Lt(xs[-1]) - xs[-2]); "
                       "return sum(c_k * xs[k])",
                       compare=lambda got, want: _diagnose(got, *want, rtol=1e-8, atol=1e-10))


def check_neighbour_softmax(neighbour_softmax) -> CheckResult:
    """Check ``neighbour_softmax(A, scores)``: a softmax over each node's neighbours only (chapter 5).

    ``A`` is a CSR matrix with sorted indices, ``scores`` one score per
    stored entry (``scores[A.indptr[i]:A.indptr[i+1]]`` are node ``i``'s
    neighbours). The answer — an ``(nnz,)`` array in that order, or a sparse
    or dense ``(n, n)`` matrix — must hold ``exp(e_ij) / Σ_{k∈N(i)} exp(e_ik)``
    on the edges and 0 elsewhere. Hidden cases include scores near 1000 (an
    unstable ``exp`` overflows) and nodes with one neighbour. Classic mistake it
    recognizes: a dense softmax over all ``n`` nodes (the zeros off the graph
    get weight too).

    Examples
    --------
    >>> check_neighbour_softmax(lambda A, e: graphs.edge_softmax(A, e)).passed
    ✔ softmax over neighbours: all 3 hidden cases pass.
    True
    """
    import scipy.sparse as sp

    rng = np.random.default_rng(507)
    cases = []
    for A, shift in zip(_ch5_graphs(), (0.0, 1000.0, 0.0)):
        A = sp.csr_array(A)
        A.sort_indices()
        e = rng.standard_normal(A.nnz) * 2 + shift
        want = graphs.edge_softmax(A, e).toarray()
        E = sp.csr_array((e, A.indices, A.indptr), shape=A.shape).toarray()
        with np.errstate(over="ignore", invalid="ignore"):
            Ex = np.exp(E - E.max(axis=1, keepdims=True))
        dense_all = Ex / Ex.sum(axis=1, keepdims=True)
        mistakes = [(dense_all, "this is a softmax over all n nodes: the non-neighbours (score 0 in a dense "
                                "matrix) took weight too. Normalize each row over its stored entries only — "
                                "masked attention with the graph as the mask")]
        cases.append(((A, e), (want, mistakes, A)))

    def compare(got, want):
        ref, mistakes, A = want
        arr = _as_dense_answer(got) if got is not None else None
        if arr is not None and arr.shape == (A.nnz,):  # weights listed in CSR order
            got = sp.csr_array((arr, A.indices, A.indptr), shape=A.shape)
        return _diagnose(got, ref, mistakes, rtol=1e-9, atol=1e-12)

    return run_checker("softmax over neighbours", neighbour_softmax, cases,
                       "for each row i take s = scores[A.indptr[i]:A.indptr[i+1]]; w = exp(s - s.max()); "
                       "w / w.sum() (or vectorized: np.maximum.reduceat and np.add.reduceat over A.indptr[:-1])",
                       compare=compare)
