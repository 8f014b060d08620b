"""Chapter 1 benchmark: sparse co-occurrence counting and skip-gram throughput.

Run as ``python benchmarks/bench_embeddings.py``; prints one Markdown section and
saves ``benchmarks/bench_embeddings.png``.

Targets (from the chapter's specification):
* the co-occurrence matrix of a 1,000,000-token corpus with window 5 builds in under 2 s;
* skip-gram throughput is reported in tokens per second (and pairs per second), with the
  speed-up of the vectorized minibatch kernel over a per-pair loop measured in the same run.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

from lalib import datasets, embeddings, plotting

HERE = Path(__file__).resolve().parent


def best_of(fn, repeats=5):
    """Best wall time of ``repeats`` calls (the least disturbed by other processes) and the last result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_memory(fn):
    """Peak bytes allocated through Python/NumPy while ``fn`` runs (tracemalloc)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def cooccurrence_loop(ids, V, window):
    """The definition, one Python iteration per token and offset (the slow reference)."""
    C = {}
    n = len(ids)
    for s in range(n):
        for t in range(max(0, s - window), min(n, s + window + 1)):
            if t != s:
                key = (ids[s], ids[t])
                C[key] = C.get(key, 0) + 1
    return C


def cooccurrence_onehot(ids, V, window):
    """C = Σ_o X[:-o]ᵀ X[o:] + transpose, with sparse one-hot X (the matrix formula, literally)."""
    X = embeddings.one_hot(ids, V, sparse=True)
    P = sum(X[:-o].T @ X[o:] for o in range(1, window + 1))
    return (P + P.T).tocsr()


def sgns_per_pair(W, Cm, centers, contexts, negatives, lr=0.025):
    """word2vec's inner loop in Python: one SGD update per (center, context) pair."""
    for b in range(centers.size):
        w = W[centers[b]]
        g_w = np.zeros_like(w)
        for j, label in [(contexts[b], 1.0)] + [(n, 0.0) for n in negatives[b]]:
            c = Cm[j]
            s = 1.0 / (1.0 + np.exp(-np.dot(w, c)))
            g = s - label
            g_w += g * c
            Cm[j] = c - lr * g * w
        W[centers[b]] = w - lr * g_w


def main():
    lines = ["## Chapter 1 — embeddings: co-occurrence and skip-gram", ""]
    rng = np.random.default_rng(0)

    # --- co-occurrence at 1M tokens, window 5 ---------------------------------------------------
    corpus = datasets.synthetic_corpus(1_000_000, rng)
    vocab = embeddings.build_vocab(corpus.tokens, min_count=5)
    ids = embeddings.encode(corpus.tokens, vocab)
    V = len(vocab)
    t_kernel, C = best_of(lambda: embeddings.cooccurrence(ids, V, 5))
    mem_kernel = peak_memory(lambda: embeddings.cooccurrence(ids, V, 5))
    t_onehot, C_onehot = best_of(lambda: cooccurrence_onehot(ids, V, 5), repeats=3)
    assert abs(C - C_onehot).sum() == 0  # same matrix
    n_loop = 20_000
    t_loop, _ = best_of(lambda: cooccurrence_loop(ids[:n_loop].tolist(), V, 5), repeats=1)
    t_loop_full = t_loop * len(ids) / n_loop  # the loop is linear in N

    # a vocabulary 100 times larger: uniform ids fill many more distinct pairs (worst case for nnz)
    ids_big = rng.integers(0, 50_000, 1_000_000)
    t_big, C_big = best_of(lambda: embeddings.cooccurrence(ids_big, 50_000, 5), repeats=3)

    target = 2.0
    lines += [
        "Co-occurrence matrix $C$ (CSR, symmetric) of a 1,000,000-token corpus, window 5 "
        "(10^7 ordered pairs), best of repeats.",
        "",
        "| method | corpus | V | nnz(C) | time (s) | peak memory | vs kernel |",
        "|---|---|---|---|---|---|---|",
        f"| `embeddings.cooccurrence` (vectorized) | synthetic, 10^6 tokens | {V} | {C.nnz:,} | {t_kernel:.3f} | "
        f"{mem_kernel / 2**20:.0f} MiB | 1.0× |",
        f"| one-hot products $\\sum_o X_{{:-o}}^T X_{{o:}}$ (sparse) | same | {V} | {C_onehot.nnz:,} | {t_onehot:.3f} | – | "
        f"{t_onehot / t_kernel:.1f}× slower |",
        f"| Python loop over tokens (timed on {n_loop:,} tokens, ×{len(ids) // n_loop}) | same | {V} | – | "
        f"{t_loop_full:.1f} | – | {t_loop_full / t_kernel:.0f}× slower |",
        f"| `embeddings.cooccurrence` | uniform random ids | 50,000 | {C_big.nnz:,} | {t_big:.3f} | – | – |",
        "",
        f"Target: 1M tokens, window 5 in under {target:.0f} s → **{t_kernel:.2f} s: "
        f"{'PASS' if t_kernel < target else 'MISS'}** (ratio to target {t_kernel / target:.2f}).",
        "",
    ]

    # --- scaling in N and in the window ------------------------------------------------------------
    Ns = [10_000, 30_000, 100_000, 300_000, 1_000_000]
    windows = [1, 2, 5, 10]
    times = {w: [best_of(lambda: embeddings.cooccurrence(ids[:n], V, w), repeats=3)[0] for n in Ns] for w in windows}
    lines += ["Scaling (seconds; the work is $2wN$ pairs, so time should grow linearly in both):", "",
              "| N | " + " | ".join(f"w = {w}" for w in windows) + " |",
              "|---|" + "---|" * len(windows)]
    for i, n in enumerate(Ns):
        lines.append(f"| {n:,} | " + " | ".join(f"{times[w][i]:.4f}" for w in windows) + " |")
    lines.append("")

    # --- skip-gram throughput --------------------------------------------------------------------
    corpus_s = datasets.synthetic_corpus(200_000, np.random.default_rng(1))
    vocab_s = embeddings.build_vocab(corpus_s.tokens, min_count=20)
    ids_s = embeddings.encode(corpus_s.tokens, vocab_s)
    Vs = len(vocab_s)
    Q = np.array([[vocab_s.stoi[w] for w in q[:4]] for q in corpus_s.analogies])
    window_s = 2
    n_pairs = 2 * sum(len(ids_s) - o for o in range(1, window_s + 1))
    rows = []
    for dim, batch in [(50, 256), (50, 1024), (50, 4096), (100, 1024)]:
        t, (params, _) = best_of(lambda: embeddings.train_skipgram(
            ids_s, Vs, dim=dim, window=window_s, negatives=5, epochs=1, batch_size=batch,
            rng=np.random.default_rng(2), progress=False), repeats=2)
        acc = embeddings.analogy_accuracy(params["W"], Q)
        rows.append((dim, batch, t, len(ids_s) / t, n_pairs / t, acc))
    # the per-pair loop on a slice of the same pairs, same negatives count
    centers, contexts = embeddings.skipgram_pairs(ids_s, window_s)
    m = 5_000
    r = np.random.default_rng(3)
    W0, C0 = (r.random((Vs, 50)) - 0.5) / 50, np.zeros((Vs, 50))
    negs = r.integers(0, Vs, (m, 5))
    t_pp, _ = best_of(lambda: sgns_per_pair(W0.copy(), C0.copy(), centers[:m], contexts[:m], negs), repeats=1)
    pairs_per_s_loop = m / t_pp
    base = rows[1]
    lines += [
        f"Skip-gram with negative sampling (K = 5, window {window_s}, one epoch = {len(ids_s):,} tokens = "
        f"{n_pairs:,} pairs, V = {Vs}); analogy accuracy after that single epoch on the corpus's 2,548 questions.",
        "",
        "| d | batch | time / epoch (s) | tokens / s | pairs / s | analogy acc. (1 epoch) |",
        "|---|---|---|---|---|---|",
    ]
    for dim, batch, t, tps, pps, acc in rows:
        lines.append(f"| {dim} | {batch} | {t:.2f} | {tps:,.0f} | {pps:,.0f} | {acc:.3f} |")
    lines += [
        f"| 50 | per-pair Python loop (timed on {m:,} pairs) | {n_pairs / pairs_per_s_loop:.1f} (extrapolated) | "
        f"{pairs_per_s_loop * len(ids_s) / n_pairs:,.0f} | {pairs_per_s_loop:,.0f} | – |",
        "",
        f"Vectorized minibatches (d = 50, batch 1024) vs the per-pair loop: "
        f"**{base[4] / pairs_per_s_loop:.0f}× more pairs per second** in this run.",
        "",
    ]

    # --- figure ----------------------------------------------------------------------------------
    fig, ax = plotting.new_figure(width=4.6, height=3.4)
    for w in windows:
        ax.loglog(Ns, times[w], "o-", ms=4, label=f"window {w}")
    ax.loglog(Ns, np.array(Ns) * times[5][-1] / Ns[-1], "k:", lw=1, label="∝ N")
    ax.axhline(target, color="tab:red", ls="--", lw=1, label="target (1M tokens, w = 5)")
    ax.set_xlabel("corpus size N (tokens)")
    ax.set_ylabel("time to build C (s)")
    ax.set_title("sparse co-occurrence: linear in N")
    ax.legend(fontsize=7)
    fig.savefig(HERE / "bench_embeddings.png", dpi=90)
    lines.append("![co-occurrence scaling](bench_embeddings.png)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
