"""Chapter 2 benchmark: how close is one training step of an MLP to its matrix products?

One forward + backward step of a 784-512-512-10 ReLU MLP with softmax
cross-entropy on a batch of 256 (``mlp.mlp_loss_and_grads``), against the time
of the matrix products that step cannot avoid, measured in the same run:

* forward:  X W1, A1 W2, A2 W3                       (3 products)
* backward: A2ᵀ δ3, A1ᵀ δ2, Xᵀ δ1  (weight gradients)  (3 products)
            δ3 W3ᵀ, δ2 W2ᵀ        (deltas sent back)   (2 products; the input needs none)

Everything else — bias adds, ReLU and its mask, the stable softmax, input
checks — is element-wise, O(n d) against the products' O(n d²). Target: the
step takes at most 1.5× its eight products. The ratio against the six products
of the forward pass and the weight gradients alone is shown too.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from _peers import NOT_INSTALLED, torch_cpu, torch_version
from lalib import mlp
from _timing import best_of_interleaved

SIZES = [784, 512, 512, 10]
BATCH = 256
TARGET = 1.5




def products_only(params, X, deltas, which):
    """The matrix products of one step, on arrays of the right shapes (values do not matter)."""
    W1, W2, W3 = params["W1"], params["W2"], params["W3"]
    A1, A2 = deltas["A1"], deltas["A2"]
    d1, d2, d3 = deltas["d1"], deltas["d2"], deltas["d3"]

    def run():
        X @ W1, A1 @ W2, A2 @ W3          # forward
        A2.T @ d3, A1.T @ d2, X.T @ d1    # weight gradients
        if which == 8:
            d3 @ W3.T, d2 @ W2.T          # deltas sent back
    return run


def torch_step(params, X, y):
    """The same step in PyTorch on the CPU (same weights, dtype and threads): forward, loss, autograd backward."""
    torch = torch_cpu()
    if torch is None:
        return None
    Ws = [torch.tensor(params[f"W{i}"], requires_grad=True) for i in (1, 2, 3)]
    bs = [torch.tensor(params[f"b{i}"], requires_grad=True) for i in (1, 2, 3)]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        for p in Ws + bs:
            p.grad = None
        A = Xt
        for i, (W, b) in enumerate(zip(Ws, bs)):
            A = A @ W + b
            if i < 2:
                A = torch.relu(A)
        loss = torch.nn.functional.cross_entropy(A, yt)
        loss.backward()
        return loss
    return step


def measure(dtype):
    rng = np.random.default_rng(0)
    params = mlp.mlp_init(SIZES, rng=rng, dtype=dtype)
    X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], BATCH)
    scores, cache = mlp.mlp_forward(params, X, return_cache=True)
    arrays = {"A1": cache["A1"], "A2": cache["A2"],
              "d1": np.ones((BATCH, 512), dtype), "d2": np.ones((BATCH, 512), dtype),
              "d3": np.ones((BATCH, 10), dtype)}
    fns = [lambda: mlp.mlp_loss_and_grads(params, X, y), products_only(params, X, arrays, 8),
           products_only(params, X, arrays, 6)]
    t_step_torch = torch_step(params, X, y)
    if t_step_torch is not None:
        fns.append(t_step_torch)
    times = best_of_interleaved(fns)
    t_step, t_8, t_6 = times[:3]
    t_torch = times[3] if len(times) > 3 else None
    tracemalloc.start()
    mlp.mlp_loss_and_grads(params, X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    macs = BATCH * sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))  # one pass of X W products
    flops = 2 * (3 * macs - BATCH * SIZES[0] * SIZES[1])  # forward + weight grads + deltas (not dX)
    return t_step, t_8, t_6, peak, flops, t_torch


def main():
    rows = []
    for dtype in (np.float64, np.float32):
        t_step, t_8, t_6, peak, flops, t_torch = measure(dtype)
        ratio = t_step / t_8
        rows.append((np.dtype(dtype).name, t_step, t_8, t_6, ratio, t_step / t_6, flops / t_step / 1e9,
                     peak / 2 ** 20, t_torch))
    print("## MLP: one training step against its matrix products (chapter 2)\n")
    print(f"A {'-'.join(map(str, SIZES))} ReLU MLP, softmax cross-entropy, batch {BATCH}; "
          f"`mlp.mlp_loss_and_grads` (input checks included) against the bare matrix products of the "
          f"same step, best of 40 runs taken in turn, measured in this run.\n")
    print("| dtype | step (ms) | 8 products (ms) | 6 products (ms) | step / 8 products | step / 6 products "
          "| GFLOP/s of the step | peak extra memory (MiB) | target ≤ 1.5× | | PyTorch CPU step (ms) "
          "| lalib / PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, t_step, t_8, t_6, ratio, ratio6, gflops, mem, t_torch in rows:
        verdict = "PASS" if ratio <= TARGET else "MISS"
        torch_cols = (f"{1e3 * t_torch:.2f} | {t_step / t_torch:.2f}×" if t_torch is not None
                      else f"{NOT_INSTALLED} | –")
        print(f"| {name} | {1e3 * t_step:.2f} | {1e3 * t_8:.2f} | {1e3 * t_6:.2f} | {ratio:.2f}× | "
              f"{ratio6:.2f}× | {gflops:.1f} | {mem:.1f} | {verdict} | | {torch_cols} |")
    print(f"\nPeer: {torch_version()} — the same weights, dtype and batch; forward, cross-entropy and autograd "
          "backward (`loss.backward()`), timed in turn with the lalib step. No target: the column shows what "
          "a practitioner's framework costs for the same step. (PyTorch's memory is not seen by tracemalloc.)")
    print("\nThe 8 products are the 3 of the forward pass, the 3 weight gradients "
          "`A_{l-1}^T δ_l` and the 2 deltas `δ_l W_l^T` sent back to the hidden layers (the input "
          "needs no gradient, so `δ_1 W_1^T` is skipped). The target is judged on those 8, "
          "since a backward pass cannot do without them; the 6-product column (forward + "
          "weight gradients only) shows how much the two extra products cost. What remains of the "
          "step — bias adds, ReLU and its mask, the stable softmax, the input checks — is "
          "element-wise work, O(n·d) against O(n·d²).")


if __name__ == "__main__":
    main()
