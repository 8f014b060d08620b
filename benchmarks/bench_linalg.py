"""Chapter 0 benchmark: what the written-out kernels of lalib.linalg cost and how accurate they are.

Run as ``python benchmarks/bench_linalg.py``; prints one Markdown section. Every
target is a ratio measured within this one run. Chapter 0 has no speed target
of its own in its specification; the targets below are the claims the chapter
text makes (sparse products are cheap, Householder keeps Q orthogonal, MGS
loses orthogonality like kappa*eps and CGS like kappa^2*eps, im2col turns a
convolution layer into one fast product at the price of memory).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import scipy.signal
import scipy.sparse as sp

from lalib import linalg

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


if __name__ == "__main__":
    main()
