"""PyTorch DistributedDataParallel (gloo, CPU, one thread per rank) on the same MLP and data,
launched by mpirun (rank and size from Open MPI's environment). Prints samples/s over one epoch,
data loading and evaluation excluded."""
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn

from common import load, shard

torch.set_num_threads(1)
rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", 0))
size = int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))
os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
os.environ.setdefault("MASTER_PORT", "29517")
dist.init_process_group("gloo", rank=rank, world_size=size)
batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
x_np, y_np = load("train")
x_train, y_train = torch.from_numpy(x_np), torch.from_numpy(y_np)
torch.manual_seed(1)
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
ddp = nn.parallel.DistributedDataParallel(model)
opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
idx = torch.from_numpy(shard(len(x_np), size, rank, 0))
dist.barrier()
start = time.perf_counter()
samples = 0
for lo in range(0, len(idx), batch):
    b = idx[lo:lo + batch]
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(ddp(x_train[b]), y_train[b])
    loss.backward()
    opt.step()
    samples += len(b) * size
dist.barrier()
elapsed = time.perf_counter() - start
if rank == 0:
    print(f"torch-ddp ranks={size} batch={batch} samples_per_s={samples / elapsed:.0f} seconds={elapsed:.3f}")
dist.destroy_process_group()
