"""Chapter 4 benchmark: randomized SVD against the full SVD, ARPACK and scikit-learn.

A 4000 × 4000 matrix with singular values ``σ_j = 0.9^j`` (exact, known in
advance: ``A = U diag(σ) Vᵀ`` with orthonormal ``U, V``), rank ``k = 20``:

* ``lowrank.randomized_svd`` (p = 10, q = 2) against ``numpy.linalg.svd`` —
  target: at least 20× faster, with spectral error ``‖A − U_kΣ_kV_kᵀ‖₂`` at
  most 1.05 × the optimum ``σ_{k+1}``;
* against ``scipy.sparse.linalg.svds`` (ARPACK, k = 20) — no target, reported;
* against scikit-learn's ``randomized_svd`` with the same sketch size
  (``n_oversamples = 10``) and power iterations (``n_iter = 2``) — target: no
  slower, ratio ≤ 1.0×. scikit-learn comes from the ``bench`` extra
  (``pip install -e '.[bench]'``); without it the row says so and the rest runs.

Then time against ``k`` (n = 2000) and against ``n`` (k = 20) on log–log axes.
One BLAS thread, so the ratios compare algorithms rather than thread scheduling
on a shared machine. Times are medians of repeats run in turn (interleaved), so
a busy machine slows every method alike; the full SVD at n = 4000 is run once.
The spectral norm of the error is computed by ARPACK on the residual operator
(never forming ``A − U_kΣ_kV_kᵀ`` densely twice).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # must precede the NumPy import
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.fft  # noqa: E402
from scipy.sparse.linalg import LinearOperator, svds  # noqa: E402

from lalib import lowrank  # noqa: E402
from lalib.plotting import line_plot  # noqa: E402

HERE = Path(__file__).resolve().parent
K, P, Q = 20, 10, 2

try:
    from sklearn.utils.extmath import randomized_svd as sk_randomized_svd
    import sklearn
    SKLEARN = f"scikit-learn {sklearn.__version__}"
except ImportError:  # the bench extra is not installed
    sk_randomized_svd, SKLEARN = None, None


def decaying_matrix(n, rank=400, decay=0.9, seed=0):
    """``A = U diag(decay^j) Vᵀ`` (n × n); columns of U from an orthonormal DCT, V from a QR.

    Singular values beyond ``rank`` are below 0.9^400 ≈ 5e-19 σ_1, i.e. zero in
    float64, so only ``rank`` columns are formed: the matrix costs one
    n × rank × n product instead of two n × n orthogonal factors.
    """
    rng = np.random.default_rng(seed)
    rank = min(rank, n)
    U = scipy.fft.dct(np.eye(n, rank), norm="ortho", axis=0)          # orthonormal columns, O(n² log n)
    V, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    s = decay ** np.arange(rank)
    return np.ascontiguousarray((U * s) @ V.T), s


def spectral_error(A, U, s, Vt):
    """‖A − U diag(s) Vt‖₂ by ARPACK on the residual as an operator."""
    def mv(x):
        return A @ x - U @ (s[:, None] * (Vt @ x)) if x.ndim == 2 else A @ x - U @ (s * (Vt @ x))

    def rmv(y):
        return A.T @ y - Vt.T @ (s[:, None] * (U.T @ y)) if y.ndim == 2 else A.T @ y - Vt.T @ (s * (U.T @ y))

    op = LinearOperator(A.shape, matvec=mv, rmatvec=rmv, matmat=mv, rmatmat=rmv, dtype=A.dtype)
    return float(svds(op, k=1, return_singular_vectors=False, random_state=np.random.default_rng(1))[0])


def methods(A, k):
    n = min(A.shape)
    out = {
        "lalib randomized_svd": lambda: lowrank.randomized_svd(A, k, oversample=P, n_iter=Q,
                                                               rng=np.random.default_rng(0)),
        "scipy svds (ARPACK)": lambda: _svds_sorted(A, k),
    }
    if sk_randomized_svd is not None:
        out["scikit-learn randomized_svd"] = lambda: sk_randomized_svd(A, k, n_oversamples=P, n_iter=Q,
                                                                       random_state=0)
        out["scikit-learn, QR between iterations"] = lambda: sk_randomized_svd(
            A, k, n_oversamples=P, n_iter=Q, power_iteration_normalizer="QR", random_state=0)
    assert k < n
    return out


def _svds_sorted(A, k):
    U, s, Vt = svds(A, k=k, random_state=np.random.default_rng(0))
    order = np.argsort(s)[::-1]
    return U[:, order], s[order], Vt[order]


def median_interleaved(fns, repeats):
    """Median time of each function, running them in turn."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(v)) for name, v in times.items()}


def full_svd(A):
    return np.linalg.svd(A, full_matrices=False)


def headline():
    n = 4000
    A, s = decaying_matrix(n)
    t0 = time.perf_counter()
    Uf, sf, Vtf = full_svd(A)
    t_full = time.perf_counter() - t0
    fns = methods(A, K)
    for fn in fns.values():
        fn()  # warm-up
    times = median_interleaved(fns, repeats=5)
    opt = s[K]
    errors = {"numpy.linalg.svd (full)": spectral_error(A, Uf[:, :K], sf[:K], Vtf[:K])}
    for name, fn in fns.items():
        U, sv, Vt = fn()
        errors[name] = spectral_error(A, U, sv, Vt)
    t_lalib = times["lalib randomized_svd"]
    rows = ["| method | time (s) | time / lalib | spectral error / σ_{k+1} |", "|---|---|---|---|",
            f"| `numpy.linalg.svd` (full, thin; run once) | {t_full:.2f} | {t_full / t_lalib:.0f}× | "
            f"{errors['numpy.linalg.svd (full)'] / opt:.4f} |"]
    for name, t in times.items():
        rows.append(f"| {name} | {t:.3f} | {t / t_lalib:.2f}× | {errors[name] / opt:.4f} |")
    if sk_randomized_svd is None:
        rows.append("| scikit-learn randomized_svd | not installed (`pip install -e '.[bench]'`) | – | – |")
    speedup = t_full / t_lalib
    err_ratio = errors["lalib randomized_svd"] / opt
    targets = ["| target | measured | result |", "|---|---|---|",
               f"| randomized SVD ≥ 20× faster than `numpy.linalg.svd`, error ≤ 1.05 σ_{{k+1}} | "
               f"{t_full:.2f} s / {t_lalib * 1e3:.0f} ms = {speedup:.0f}×, error {err_ratio:.4f} σ_{{k+1}} | "
               f"{'PASS' if speedup >= 20 and err_ratio <= 1.05 else 'MISS'} |"]
    if sk_randomized_svd is not None:
        ratio = t_lalib / times["scikit-learn randomized_svd"]
        ratio_qr = t_lalib / times["scikit-learn, QR between iterations"]
        targets.append(f"| no slower than scikit-learn's randomized_svd (same p = {P}, q = {Q}) | "
                       f"{ratio:.2f}× (against its QR variant: {ratio_qr:.2f}×) | "
                       f"{'PASS' if ratio <= 1.0 else 'MISS'} |")
    else:
        targets.append("| no slower than scikit-learn's randomized_svd | scikit-learn not installed | not measured |")
    return "\n".join(rows), "\n".join(targets), t_full


def scaling(t_full_4000):
    results_k = {}
    ks = np.array([5, 10, 20, 40, 80])
    A, _ = decaying_matrix(2000)
    for k in ks:
        fns = methods(A, int(k))
        for fn in fns.values():
            fn()
        for name, t in median_interleaved(fns, repeats=3).items():
            results_k.setdefault(name, []).append(t)
    t0 = time.perf_counter()
    full_svd(A)
    results_k["numpy.linalg.svd (full)"] = [time.perf_counter() - t0] * len(ks)
    results_n = {}
    ns = np.array([500, 1000, 2000, 4000])
    for n in ns:
        A, _ = decaying_matrix(int(n))
        fns = methods(A, K)
        for fn in fns.values():
            fn()
        for name, t in median_interleaved(fns, repeats=3).items():
            results_n.setdefault(name, []).append(t)
        if n <= 2000:
            t0 = time.perf_counter()
            full_svd(A)
            results_n.setdefault("numpy.linalg.svd (full)", []).append(time.perf_counter() - t0)
        else:  # the n = 4000 full SVD is the headline's single run
            results_n["numpy.linalg.svd (full)"].append(t_full_4000)
    return ks, results_k, ns, results_n


def table(xname, xs, results):
    names = list(results)
    rows = [f"| {xname} | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for i, x in enumerate(xs):
        rows.append(f"| {x} | " + " | ".join(f"{results[nm][i] * 1e3:.1f}" if i < len(results[nm]) else "–"
                                               for nm in names) + " |")
    return "\n".join(rows)


def main():
    t_start = time.perf_counter()
    rows, targets, t_full = headline()
    ks, res_k, ns, res_n = scaling(t_full)
    print("## Chapter 4 — low rank: randomized SVD (`lalib.lowrank`)\n")
    print(f"A = U diag(0.9^j) Vᵀ, 4000 × 4000, float64, k = {K}; randomized: oversampling p = {P}, "
          f"q = {Q} power iterations. One BLAS thread; median of 5 interleaved runs (the full SVD: one run). "
          f"Peer: {SKLEARN or 'scikit-learn not installed'}.\n")
    print(rows + "\n")
    print("**Targets** (ratios measured in this run)\n")
    print(targets + "\n")
    print("### Time (ms) against the rank k (n = 2000)\n")
    print(table("k", ks, res_k) + "\n")
    print("### Time (ms) against n (k = 20)\n")
    print(table("n", ns, res_n) + "\n")
    fig = line_plot(ks, res_k, logx=True, logy=True, xlabel="rank $k$", ylabel="time (s)",
                    title="time against k (n = 2000, one thread)", width=6.0, height=4.0)
    fig.savefig(HERE / "bench_lowrank_k.png", dpi=80)
    fig = line_plot(ns, res_n, logx=True, logy=True,
                    xlabel="matrix size $n$ ($n \\times n$)", ylabel="time (s)",
                    title="time against n (k = 20, one thread)", width=6.0, height=4.0)
    fig.savefig(HERE / "bench_lowrank_n.png", dpi=80)
    print(f"Whole benchmark: {time.perf_counter() - t_start:.0f} s.\n")
    print("![time against k](bench_lowrank_k.png) ![time against n](bench_lowrank_n.png)")


if __name__ == "__main__":
    main()
