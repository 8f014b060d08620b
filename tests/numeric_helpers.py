"""Small numerical references shared by the kernel tests (written independently of lalib's own code)."""

import numpy as np


def rel_err(a, b):
    """‖a − b‖ / max(‖a‖, ‖b‖): relative difference, symmetric in its arguments."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


def fd_grad(f, x, eps=1e-6):
    """Gradient of a scalar function of an array by central differences, entry by entry.

    An independent reference: it does not use ``lalib.mlp.gradient_check`` or ``numerical_jacobian``.
    """
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g
