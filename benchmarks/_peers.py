"""Optional peers for the benchmarks: PyTorch on the CPU, when it is importable.

PyTorch is never a lalib dependency (its default wheels carry gigabytes of GPU
libraries). Install its CPU build to get the PyTorch columns:
``pip install torch --index-url https://download.pytorch.org/whl/cpu``.
A table row whose peer is missing says "not installed".
"""

from __future__ import annotations

import os

NOT_INSTALLED = "not installed"


def torch_cpu():
    """The ``torch`` module set to the thread count NumPy's BLAS uses here, or None when not installed."""
    try:
        import torch
    except ImportError:
        return None
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return torch


def torch_version() -> str:
    t = torch_cpu()
    return f"PyTorch {t.__version__} on the CPU, {t.get_num_threads()} thread(s)" if t else f"PyTorch {NOT_INSTALLED}"
