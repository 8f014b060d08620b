"""Timing shared by the benchmarks: best of repeats, measured in turn, so a busy machine slows all alike."""

from __future__ import annotations

import time

import numpy as np


def best_of_interleaved(fns, repeats=40):
    """Best wall time of each function in ``fns``, calling them in turn ``repeats`` times after a warm-up."""
    for fn in fns:
        fn()  # warm up caches and BLAS threads
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best
