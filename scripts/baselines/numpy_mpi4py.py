"""A hand-written numpy + mpi4py data-parallel MLP trainer (784-256-128-10, SGD with momentum),
the kind people write when they want MPI without a framework. Prints samples/s over one epoch,
data loading and evaluation excluded."""
import sys
import time

import numpy as np
from mpi4py import MPI

from common import load, shard

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
x_train, y_train = load("train")
rng = np.random.default_rng(1)
widths = [784, 256, 128, 10]
params = []
for i, o in zip(widths[:-1], widths[1:]):
    params += [(rng.standard_normal((i, o)) * np.sqrt(2 / i)).astype(np.float32), np.zeros(o, np.float32)]
flat = np.concatenate([p.ravel() for p in params])
grads = np.zeros_like(flat)
velocity = np.zeros_like(flat)
views, offset = [], 0
for p in params:
    views.append((flat[offset:offset + p.size].reshape(p.shape), grads[offset:offset + p.size].reshape(p.shape)))
    offset += p.size

idx = shard(len(x_train), size, rank, 0)
comm.Barrier()
start = time.perf_counter()
samples = 0
for lo in range(0, len(idx), batch):
    b = idx[lo:lo + batch]
    x, y = x_train[b], y_train[b]
    acts = [x]
    for layer in range(3):
        w, _ = views[2 * layer]
        bias, _ = views[2 * layer + 1]
        z = acts[-1] @ w + bias
        acts.append(np.maximum(z, 0) if layer < 2 else z)
    logits = acts[-1]
    e = np.exp(logits - logits.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    d = p
    d[np.arange(len(y)), y] -= 1
    d /= len(y)
    for layer in (2, 1, 0):
        w, dw = views[2 * layer]
        _, db = views[2 * layer + 1]
        dw[...] = acts[layer].T @ d
        db[...] = d.sum(0)
        if layer:
            d = (d @ w.T) * (acts[layer] > 0)
    comm.Allreduce(MPI.IN_PLACE, grads, op=MPI.SUM)
    grads /= size
    velocity *= 0.9
    velocity += grads
    flat -= 0.05 * velocity
    samples += len(b) * size
comm.Barrier()
elapsed = time.perf_counter() - start
if rank == 0:
    print(f"numpy+mpi4py ranks={size} batch={batch} samples_per_s={samples / elapsed:.0f} seconds={elapsed:.3f}")
