"""Chapter 0 benchmark: what the written-out kernels of lalib.linalg cost and how accurate they are.

Run as ``python benchmarks/bench_linalg.py``; prints one Markdown section. Every
target is a ratio measured within this one run. Chapter 0 has no speed target
of its own in its specification; the targets below are the claims the chapter
text makes (sparse products are cheap, Householder keeps Q orthogonal, MGS
loses orthogonality like kappa*eps and CGS like kappa^2*eps, im2col turns a
convolution layer into one fast product at the price of memory).
"""

from __future__ import annotations

import os

# One BLAS thread for both sides of every comparison (set before NumPy loads), so that on a shared
# machine the ratios compare algorithms rather than thread scheduling.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.linalg import eigsh  # noqa: E402

from lalib import linalg  # noqa: E402

EPS = np.finfo(float).eps


def best_of(fn, repeat=5):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_bytes(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def verdict(ok):
    return "PASS" if ok else "MISS"


def sparse_vs_dense(rng):
    rows = ["| n | nnz | dense power step (ms) | CSR power step (ms) | dense / CSR | target | |",
            "|---|---|---|---|---|---|---|"]
    for n in (1000, 2000, 4000):
        A = sp.random_array((n, n), density=10 / n, rng=rng, format="csr")
        A = (A + A.T).tocsr()
        D = A.toarray()
        x0 = rng.standard_normal(n)
        steps = 20
        run = lambda M: linalg.power_iteration(M, x0=x0, tol=0.0, max_iter=steps)  # noqa: E731
        t_dense = best_of(lambda: run(D), 3) / steps
        t_sparse = best_of(lambda: run(A), 3) / steps
        ratio = t_dense / t_sparse
        target = "CSR >= 10x faster" if n == 4000 else "-"
        ok = verdict(ratio >= 10) if n == 4000 else ""
        rows.append(f"| {n} | {A.nnz} | {1e3 * t_dense:.3f} | {1e3 * t_sparse:.3f} | {ratio:.1f} | {target} | {ok} |")
    return "\n".join(rows)


def qr_accuracy():
    t = np.linspace(0, 1, 60)
    rows = ["| columns | kappa(A) | CGS loss | MGS loss | Householder loss | np.linalg.qr loss | MGS / (kappa eps) | targets | |",
            "|---|---|---|---|---|---|---|---|---|"]
    for ncols in (4, 8, 12, 15):
        A = np.vander(t, ncols, increasing=True)
        kappa = np.linalg.cond(A)
        loss = lambda Q: np.linalg.norm(Q.T @ Q - np.eye(ncols), 2)  # noqa: E731
        l_cgs = loss(linalg.gram_schmidt(A, "classical")[0])
        l_mgs = loss(linalg.gram_schmidt(A, "modified")[0])
        l_hh = loss(linalg.householder_qr(A)[0])
        l_np = loss(np.linalg.qr(A)[0])
        ok = l_hh <= 10 * max(l_np, EPS) and l_mgs <= 100 * kappa * EPS
        rows.append(f"| {ncols} | {kappa:.1e} | {l_cgs:.1e} | {l_mgs:.1e} | {l_hh:.1e} | {l_np:.1e} | "
                    f"{l_mgs / (kappa * EPS):.2f} | HH <= 10x LAPACK, MGS <= 100 kappa eps | {verdict(ok)} |")
    return "\n".join(rows)


def qr_speed(rng):
    rows = ["| m x n | written-out Householder (ms) | np.linalg.qr (ms) | ratio | MGS (ms) |",
            "|---|---|---|---|---|"]
    for m, n in ((200, 100), (400, 200), (800, 400)):
        A = rng.standard_normal((m, n))
        t_hh = best_of(lambda: linalg.householder_qr(A), 3)
        t_np = best_of(lambda: np.linalg.qr(A), 3)
        t_mgs = best_of(lambda: linalg.gram_schmidt(A, "modified"), 3)
        rows.append(f"| {m} x {n} | {1e3 * t_hh:.1f} | {1e3 * t_np:.1f} | {t_hh / t_np:.1f} | {1e3 * t_mgs:.1f} |")
    return "\n".join(rows)


def conv_layer(rng):
    c_in, c_out, H, k = 8, 16, 64, 3
    X = rng.standard_normal((c_in, H, H))
    K = rng.standard_normal((c_out, c_in, k, k))
    mm = lambda: linalg.conv2d_as_matmul(X, K)  # noqa: E731
    loops = lambda: np.array([sum(scipy.signal.correlate2d(X[c], K[o, c], "valid") for c in range(c_in))  # noqa: E731
                              for o in range(c_out)])
    assert np.allclose(mm(), loops())
    t_mm, t_loop = best_of(mm), best_of(loops)
    mem_cols = peak_bytes(lambda: linalg.im2col(X, k, k))
    ratio_mem = mem_cols / X.nbytes
    return "\n".join([
        f"Layer {c_in} -> {c_out} channels, {H}x{H} input, {k}x{k} kernels ('valid').",
        "",
        "| method | time (ms) | ratio to im2col | target | |",
        "|---|---|---|---|---|",
        f"| im2col + one GEMM (`conv2d_as_matmul`) | {1e3 * t_mm:.2f} | 1.0 | | |",
        f"| {c_in * c_out} calls of `scipy.signal.correlate2d` | {1e3 * t_loop:.2f} | {t_loop / t_mm:.1f} | "
        f"im2col faster | {verdict(t_loop > t_mm)} |",
        "",
        f"Memory of `im2col(X)`: {mem_cols / 1e6:.2f} MB = {ratio_mem:.1f} x the input "
        f"(expected about k_h k_w = {k * k}: each pixel is copied into up to {k * k} columns).",
    ])


# ---------------------------------------------------------------------------
# Chapter 6: Lanczos against ARPACK (scipy.sparse.linalg.eigsh)
# ---------------------------------------------------------------------------

LANCZOS_N = int(os.environ.get("LALIB_BENCH_LANCZOS_N", 100_000))
LANCZOS_REPEATS = int(os.environ.get("LALIB_BENCH_REPEATS", 3))
LANCZOS_TARGET = 1.5


def alternate_median(fns, repeats):
    """Median time and result of each function, run in turn (a, b, a, b, ...) so load hits both alike."""
    times = [[] for _ in fns]
    results = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times], results


def sketch_and_precision_section(rng):
    """Random projections against scikit-learn's, and float16 summation against NumPy's, timed in turn."""
    try:
        from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
    except ImportError:
        GaussianRandomProjection = SparseRandomProjection = None
    n, d, eps = 2000, 5000, 0.3
    X = rng.standard_normal((n, d))
    k = linalg.jl_dimension(n, eps)
    rows = ["| kernel | size | lalib time (ms) | lalib peak memory (MiB) | reference | reference time (ms) | "
            "reference peak memory (MiB) | ratio | target | |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for kind, peer_name, peer_cls, kw in (
            ("gaussian", "sklearn `GaussianRandomProjection`", GaussianRandomProjection, {}),
            ("achlioptas", "sklearn `SparseRandomProjection(density=1/3)`", SparseRandomProjection,
             {"density": 1 / 3, "dense_output": True})):
        ours = lambda: linalg.random_projection(X, k, kind, rng=np.random.default_rng(1))  # noqa: E731
        size = f"{n} × {d} → {k} (JL, ε = {eps})"
        if peer_cls is None:
            (t_ours,), _ = alternate_median([ours], 5)
            rows.append(f"| `random_projection(X, k, \"{kind}\")` | {size} | {1e3 * t_ours:.0f} | "
                        f"{peak_bytes(ours) / 2**20:.0f} | {peer_name} | not installed | – | – | ≤ 1.5× | |")
            continue
        peer = lambda: peer_cls(n_components=k, random_state=1, **kw).fit_transform(X)  # noqa: E731,B023
        (t_ours, t_peer), _ = alternate_median([ours, peer], 5)
        ratio = t_ours / t_peer
        rows.append(f"| `random_projection(X, k, \"{kind}\")` | {size} | {1e3 * t_ours:.0f} | "
                    f"{peak_bytes(ours) / 2**20:.0f} | {peer_name} | {1e3 * t_peer:.0f} | "
                    f"{peak_bytes(peer) / 2**20:.0f} | {ratio:.2f}× | ≤ 1.5× | {verdict(ratio <= 1.5)} |")
    x = rng.uniform(0, 1, 2**16)  # sum about 32768: inside float16's range (max 65504)
    x16 = x.astype(np.float16)
    exact = float(np.sum(x16.astype(np.float64)))
    ours = lambda: linalg.lowp_sum(x, "pairwise")  # noqa: E731
    peer = lambda: np.sum(x16, dtype=np.float16)  # noqa: E731
    (t_ours, t_peer), (s_ours, s_peer) = alternate_median([ours, peer], 5)
    rows.append(f"| `lowp_sum(x, \"pairwise\")` (float16) | n = 2¹⁶ | {1e3 * t_ours:.1f} | "
                f"{peak_bytes(ours) / 2**20:.0f} | `np.sum(x16, dtype=float16)` (blocked pairwise) | "
                f"{1e3 * t_peer:.1f} | {peak_bytes(peer) / 2**20:.0f} | {t_ours / t_peer:.1f}× | "
                f"none (rel. errors: lalib {abs(float(s_ours) - exact) / exact:.0e}, "
                f"NumPy {abs(float(s_peer) - exact) / exact:.0e}) | |")
    return "\n".join([
        "### Sketching and reduced precision",
        "",
        "Johnson–Lindenstrauss projections against scikit-learn's (from the `bench` extra), and the float16 "
        "pairwise sum, written level by level so every partial sum is rounded to float16, against NumPy's "
        "float16 sum. Median of 5 runs taken in turn.",
        "",
    ] + rows)


def lanczos_section():
    L = linalg.planted_graph_laplacian(LANCZOS_N, rng=np.random.default_rng(0))
    tol = 1e-10
    rows = ["| kernel | size | lalib time (s) | lalib peak memory (MiB) | reference | reference time (s) | "
            "reference peak memory (MiB) | ratio | max eigenvalue difference | target | |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for which, arpack in (("largest", "LA"), ("smallest", "SA")):
        ours = lambda: linalg.lanczos(L, 6, which=which, tol=tol, rng=np.random.default_rng(1))  # noqa: E731
        ref = lambda: eigsh(L, k=6, which=arpack, tol=tol)  # noqa: E731
        (t_ours, t_ref), (res_ours, res_ref) = alternate_median([ours, ref], LANCZOS_REPEATS)
        m_ours, m_ref = peak_bytes(ours) / 2**20, peak_bytes(ref) / 2**20
        diff = float(np.max(np.abs(res_ours[0] - np.sort(res_ref[0]))))
        ratio = t_ours / t_ref
        ok = ratio <= LANCZOS_TARGET and diff <= 1e-8
        rows.append(f"| `lanczos(L, 6, which=\"{which}\")` | n = {LANCZOS_N:,}, nnz = {L.nnz:,} | {t_ours:.2f} | "
                    f"{m_ours:.0f} | `eigsh(L, 6, which=\"{arpack}\")` | {t_ref:.2f} | {m_ref:.0f} | "
                    f"{ratio:.2f}× | {diff:.1e} | ≤ {LANCZOS_TARGET}× time, ≤ 1e-8 | {verdict(ok)} |")
    return "\n".join([
        "## Chapter 6 — numerical linear algebra in the age of AI (`lalib.linalg`)",
        "",
        "### Lanczos against ARPACK (`lalib.linalg.lanczos` vs `scipy.sparse.linalg.eigsh`)",
        "",
        "Target from the chapter's specification: at most 1.5× `eigsh`'s time, eigenvalues equal to 1e-8.",
        "",
        f"The normalized Laplacian of a {LANCZOS_N:,}-node random graph (`linalg.planted_graph_laplacian`, a "
        "stochastic block model), its 6 largest and 6 smallest eigenpairs at the same tolerance "
        f"(tol = {tol:g}; lalib's thick-restart Lanczos with full reorthogonalization, basis of 30 vectors; "
        "ARPACK's implicitly restarted Lanczos, its default 20). Time: median of "
        f"{LANCZOS_REPEATS} runs taken in turn; memory: tracemalloc peak of one call. One BLAS thread.",
        "",
    ] + rows)


def main():
    rng = np.random.default_rng(0)
    print("## Chapter 0 — linear algebra toolkit (`lalib.linalg`)\n")
    print("### Power iteration: dense versus sparse products\n")
    print("Time per power-iteration step (one product, one Rayleigh quotient) on a random symmetric "
          "matrix with about 20 non-zeros per row, best of 3.\n")
    print(sparse_vs_dense(rng) + "\n")
    print("### Loss of orthogonality ||QᵀQ − I||₂ on Vandermonde matrices (60 points on [0, 1])\n")
    print(qr_accuracy() + "\n")
    print("### Speed of the written-out QR (for reading, not for speed)\n")
    print("The written-out Householder QR applies one reflection at a time (matrix-vector work); LAPACK "
          "blocks the reflections into matrix-matrix products. No target: this table shows the price of clarity.\n")
    print(qr_speed(rng) + "\n")
    print("### A convolution layer as one matrix product\n")
    print(conv_layer(rng))
    print()
    print(lanczos_section())
    print()
    print(sketch_and_precision_section(rng))


if __name__ == "__main__":
    main()
