"""How far any trainer that calls this BLAS can get ahead of the numpy trainer: one process times,
interleaved round by round, numpy's whole step (batch gather, forward, backward, SGD: the loop of
numpy_mpi4py.py at one rank) and the same step's eight matrix products alone (numpy_mlp.products).
A trainer whose step were those products and nothing else (no batch to gather, no optimizer, no
activations) would run step / products times faster than numpy: the ceiling for "×numpy" at one rank. Prints figures; asserts nothing.
    python3 gemm_ceiling.py [BATCH] [ROUNDS] [STEPS]"""
import statistics
import sys
import time

from common import load, shard
from numpy_mlp import NumpyMLP

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 200
x_train, y_train = load("train")
model = NumpyMLP()
idx = shard(len(x_train), 1, 0, 0)
starts = [lo for lo in range(0, len(idx) - batch + 1, batch)]


def whole(k):
    b = idx[starts[k % len(starts)]:starts[k % len(starts)] + batch]
    x, y = x_train[b], y_train[b]
    model.forward_backward(x, y)
    model.sgd()


fixed = x_train[idx[:batch]]


def products(_):
    model.products(fixed)


def timed(body, first):
    t0 = time.perf_counter()
    for k in range(first, first + steps):
        body(k)
    return (time.perf_counter() - t0) / steps


timed(whole, 0); timed(products, 0)  # warm-up: allocations, BLAS buffers
step_s, gemm_s, ratios = [], [], []
for r in range(rounds):
    s = timed(whole, r * steps)
    g = timed(products, r * steps)
    step_s.append(s); gemm_s.append(g); ratios.append(s / g)
print(f"numpy step, batch {batch}: {statistics.median(step_s) * 1e3:.3f} ms; its eight matrix products alone "
      f"(on one fixed batch): {statistics.median(gemm_s) * 1e3:.3f} ms; ceiling step/products: median "
      f"{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}] over {rounds} interleaved rounds of {steps} steps")
