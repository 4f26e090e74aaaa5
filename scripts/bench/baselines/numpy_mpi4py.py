"""A hand-written numpy + mpi4py data-parallel MLP trainer (784-256-128-10, SGD with momentum),
the kind people write when they want MPI without a framework. Prints samples/s over one epoch,
data loading and evaluation excluded."""
import sys
import time

import numpy as np
from mpi4py import MPI

from common import load, shard
from numpy_mlp import NumpyMLP

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
x_train, y_train = load("train")
model = NumpyMLP()

idx = shard(len(x_train), size, rank, 0)
comm.Barrier()
start = time.perf_counter()
samples = 0
for lo in range(0, len(idx), batch):
    b = idx[lo:lo + batch]
    x, y = x_train[b], y_train[b]
    model.forward_backward(x, y)
    comm.Allreduce(MPI.IN_PLACE, model.grads, op=MPI.SUM)
    model.grads /= size
    model.sgd()
    samples += len(b) * size
comm.Barrier()
elapsed = time.perf_counter() - start
if rank == 0:
    print(f"numpy+mpi4py ranks={size} batch={batch} samples_per_s={samples / elapsed:.0f} seconds={elapsed:.3f}")
