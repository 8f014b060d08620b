"""Chapter 3 benchmark: time and peak memory of attention against sequence length.

Full softmax attention stores the n × n matrix: O(n²) time and memory. Chunked
(online-softmax) attention is exact in O(n · chunk) memory; linear attention,
Linformer and Performer are O(n) in both. Measured here for n = 256 … 16384,
d = 64, float64, with three targets stated as ratios measured in this one run:

* linear attention at least 10× faster than full attention at n = 16384;
* chunked attention's peak memory at most 1/10 of full attention's at n = 8192;
* full attention at n = 2048 within 1.5× of the time of its two matrix
  products Q Kᵀ and P V alone (the softmax and bookkeeping cost little).

BLAS runs on one thread (set before NumPy loads), so that on a shared machine
the ratios compare algorithms rather than thread scheduling.

Run: ``python benchmarks/bench_attention.py`` — prints one Markdown section and
saves ``benchmarks/bench_attention_time.png`` and ``bench_attention_memory.png``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # must precede the NumPy import
os.environ.setdefault("OMP_NUM_THREADS", "1")

import gc  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from _peers import NOT_INSTALLED, torch_cpu, torch_version  # noqa: E402
from lalib import attention  # noqa: E402
from lalib.plotting import figure_to_png, scaling_figure  # noqa: E402

HERE = Path(__file__).resolve().parent
NS = [256, 512, 1024, 2048, 4096, 8192, 16384]
D = 64
CHUNK = 256
K_LINFORMER = 128
M_PERFORMER = 128

METHODS = {
    "full": lambda Q, K, V: attention.scaled_dot_product_attention(Q, K, V),
    f"chunked (c={CHUNK})": lambda Q, K, V: attention.chunked_attention(Q, K, V, chunk_size=CHUNK),
    "linear (elu+1)": lambda Q, K, V: attention.linear_attention(Q, K, V),
    f"Linformer (k={K_LINFORMER})": lambda Q, K, V: attention.linformer_attention(
        Q, K, V, K_LINFORMER, projection="pool"),
    f"Performer (m={M_PERFORMER})": lambda Q, K, V: attention.performer_attention(
        Q, K, V, M_PERFORMER, rng=np.random.default_rng(0)),
}


def repeats_for(n: int) -> int:
    return 5 if n <= 2048 else (3 if n <= 4096 else 1)


def best_time(fn, *args, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def peak_memory(fn, *args) -> float:
    """Peak bytes allocated while ``fn`` runs, beyond what was allocated before (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def sweep(rng):
    times = {name: [] for name in METHODS}
    memory = {name: [] for name in METHODS}
    for n in NS:
        Q, K, V = rng.normal(size=(3, n, D)) / 2
        for name, fn in METHODS.items():
            times[name].append(best_time(fn, Q, K, V, repeats=repeats_for(n)))
            memory[name].append(peak_memory(fn, Q, K, V))
            gc.collect()
        del Q, K, V
    return times, memory


def matmul_floor(rng, n=2048, repeats=15):
    """Time of full attention at n against its two products Q Kᵀ and P V alone (best of ``repeats``)."""
    Q, K, V = rng.normal(size=(3, n, D)) / 2
    P = attention.softmax(Q @ K.T / np.sqrt(D))
    t_qk = best_time(lambda: Q @ K.T, repeats=repeats)
    t_pv = best_time(lambda: P @ V, repeats=repeats)
    t_full = best_time(lambda: attention.scaled_dot_product_attention(Q, K, V), repeats=repeats)
    return t_full, t_qk, t_pv


TORCH_NS = [512, 1024, 2048, 4096]


def torch_comparison(rng, repeats=5):
    """Full and chunked attention against PyTorch's CPU ``scaled_dot_product_attention``, same dtype and threads.

    Times are medians of ``repeats`` runs taken in turn (lalib full, lalib chunked, PyTorch).
    """
    torch = torch_cpu()
    rows = []
    for n in TORCH_NS:
        Q, K, V = rng.normal(size=(3, n, D)) / 2
        fns = [lambda: attention.scaled_dot_product_attention(Q, K, V),
               lambda: attention.chunked_attention(Q, K, V, chunk_size=CHUNK)]
        if torch is not None:
            Qt, Kt, Vt = (torch.from_numpy(a) for a in (Q, K, V))
            fns.append(lambda: torch.nn.functional.scaled_dot_product_attention(Qt, Kt, Vt))
            assert np.allclose(fns[2]().numpy(), fns[0](), atol=1e-10)
        for fn in fns:
            fn()  # warm up (first-call costs, thread pools)
        times = [[] for _ in fns]
        for _ in range(repeats):
            for i, fn in enumerate(fns):
                t0 = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t0)
        med = [float(np.median(t)) for t in times]
        mem_full = peak_memory(attention.scaled_dot_product_attention, Q, K, V)
        if torch is not None:
            rows.append([str(n), f"{med[0] * 1e3:.1f}", f"{mem_full / 2**20:.0f}",
                         "`torch.nn.functional.scaled_dot_product_attention`", f"{med[2] * 1e3:.1f}",
                         f"{med[0] / med[2]:.2f}×", f"{med[1] / med[2]:.2f}×"])
        else:
            rows.append([str(n), f"{med[0] * 1e3:.1f}", f"{mem_full / 2**20:.0f}",
                         "`torch.nn.functional.scaled_dot_product_attention`", NOT_INSTALLED, "–", "–"])
        del Q, K, V
        gc.collect()
    return rows


def fmt_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    rng = np.random.default_rng(0)
    t_start = time.perf_counter()
    times, memory = sweep(rng)
    t_full, t_qk, t_pv = matmul_floor(rng)
    torch_rows = torch_comparison(rng)
    elapsed = time.perf_counter() - t_start

    names = list(METHODS)
    out = ["## Attention: time and memory against sequence length (chapter 3)", ""]
    out.append(f"d = {D}, float64, one BLAS thread, {os.cpu_count()} CPU(s); time = best of "
               f"{', '.join(f'{repeats_for(n)} (n={n})' for n in (2048, 4096, 8192))} runs; memory = "
               "tracemalloc peak of the call. Linformer uses segment-mean projections, Performer orthogonal "
               f"random features. Whole benchmark: {elapsed:.0f} s.")
    out.append("")
    out.append("**Time (ms)**")
    out.append("")
    out.append(fmt_table(["n"] + names, [[str(n)] + [f"{times[m][i] * 1e3:.1f}" for m in names]
                                          for i, n in enumerate(NS)]))
    out.append("")
    out.append("**Peak extra memory (MiB)**")
    out.append("")
    out.append(fmt_table(["n"] + names, [[str(n)] + [f"{memory[m][i] / 2**20:.1f}" for m in names]
                                          for i, n in enumerate(NS)]))
    out.append("")
    slope = {m: np.polyfit(np.log(NS[-3:]), np.log(times[m][-3:]), 1)[0] for m in names}
    mslope = {m: np.polyfit(np.log(NS[-3:]), np.log(memory[m][-3:]), 1)[0] for m in names}
    out.append("Log–log slopes over n = 4096 … 16384 (1 = linear, 2 = quadratic): time "
               + ", ".join(f"{m} {slope[m]:.2f}" for m in names) + "; memory "
               + ", ".join(f"{m} {mslope[m]:.2f}" for m in names) + ".")
    out.append("")

    i16, i8 = NS.index(16384), NS.index(8192)
    chunk_name, linear_name = names[1], names[2]
    r_lin = times["full"][i16] / times[linear_name][i16]
    r_mem = memory[chunk_name][i8] / memory["full"][i8]
    r_mm = t_full / (t_qk + t_pv)
    out.append("**Targets** (ratios measured in this run)")
    out.append("")
    out.append(fmt_table(["target", "measured", "result"], [
        ["linear attention ≥ 10× faster than full at n = 16384",
         f"full {times['full'][i16]:.2f} s / linear {times[linear_name][i16] * 1e3:.1f} ms = {r_lin:.0f}×",
         verdict(r_lin >= 10)],
        ["chunked peak memory ≤ 1/10 of full at n = 8192",
         f"{memory[chunk_name][i8] / 2**20:.1f} MiB / {memory['full'][i8] / 2**20:.0f} MiB = 1/{1 / r_mem:.0f}",
         verdict(r_mem <= 0.1)],
        ["full attention at n = 2048 within 1.5× of QKᵀ + PV alone",
         f"{t_full * 1e3:.1f} ms / ({t_qk * 1e3:.1f} + {t_pv * 1e3:.1f}) ms = {r_mm:.2f}×",
         verdict(r_mm <= 1.5)],
    ]))
    out.append("")
    out.append("**Against PyTorch on the CPU** (float64, same thread count; median of 5 runs taken in turn)")
    out.append("")
    out.append(fmt_table(["n", "lalib full (ms)", "lalib full peak memory (MiB)", "reference", "reference (ms)",
                          "lalib full / reference", f"lalib chunked (c={CHUNK}) / reference"], torch_rows))
    out.append("")
    out.append(f"Peer: {torch_version()}. Its output equals lalib's to 1e-10 (checked in the run). No target: "
               "PyTorch's fused CPU kernel is what a practitioner would call; the ratio shows the price of "
               "lalib's readable NumPy. PyTorch's memory is not seen by tracemalloc, so only lalib's is given.")
    out.append("")
    out.append("![time](bench_attention_time.png) ![memory](bench_attention_memory.png)")
    print("\n".join(out))

    fig = scaling_figure(NS, times, ylabel="time (s)", title=f"attention time against n (d = {D})")
    (HERE / "bench_attention_time.png").write_bytes(figure_to_png(fig, dpi=80))
    mem_mib = {m: np.array(v) / 2**20 for m, v in memory.items()}
    fig = scaling_figure(NS, mem_mib, ylabel="peak extra memory (MiB)", title=f"attention memory against n (d = {D})")
    (HERE / "bench_attention_memory.png").write_bytes(figure_to_png(fig, dpi=80))


if __name__ == "__main__":
    main()
