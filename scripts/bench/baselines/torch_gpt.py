"""The GPT Ringwatt trains, in PyTorch: the same architecture, initialisation scheme, optimizer
(AdamW β 0.9/0.95, decay 0.1 on matrices, clipping at norm 1), schedule (100 warm-up steps, cosine
to a tenth) and the very same batches (Ringwatt's corpus split and its SplitMix64 window offsets,
seeded by seed, rank and step), trained with DistributedDataParallel (gloo, CPU, one thread per
rank) under mpirun. Prints tokens/s over the training steps (evaluation excluded) and the
validation loss on Ringwatt's validation windows.

usage: mpirun -np N python3 torch_gpt.py [--steps S] [--batch B] [--corpus DIR|FILE] [--eval-windows W]
"""
import argparse
import math
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_int(self, bound):
        """Swift's RandomNumberGenerator.next(upperBound:) (Lemire's method), bit for bit."""
        m = self.next() * bound
        if (m & MASK) < bound:
            t = ((1 << 64) - bound) % bound
            while (m & MASK) < t:
                m = self.next() * bound
        return m >> 64


def corpus(path):
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.endswith(".dat"))
        files = [os.path.join(path, n) for n in names]
        files = [f for f in files if os.path.isfile(f) and not os.path.islink(f)]
    else:
        files = [path]
    data = b"".join(open(f, "rb").read() for f in files)
    blocks = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    train = b"".join(b for k, b in enumerate(blocks) if k % 10 != 9)
    val = b"".join(b for k, b in enumerate(blocks) if k % 10 == 9)
    return train, val


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln1, self.qkv, self.proj = nn.LayerNorm(C), nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.ln2, self.fc, self.fcproj = nn.LayerNorm(C), nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        s = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.H)
        s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
        y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, L, C, H, T):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(256, C), nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block(C, H) for _ in range(L))
        self.lnf = nn.LayerNorm(C)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0, std)
            elif "ln" in name and name.endswith("weight"):
                nn.init.ones_(p)
            else:
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.lnf(x) @ self.wte.weight.T  # the head tied to the token embedding
        return F.cross_entropy(logits.reshape(-1, 256), targets.reshape(-1))


def windows(text, offsets, T):
    rows = torch.tensor([list(text[o:o + T + 1]) for o in offsets], dtype=torch.long)
    return rows[:, :-1], rows[:, 1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-windows", type=int, default=256)
    ap.add_argument("--corpus", default="/usr/share/games/fortunes")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rank, size = int(os.environ.get("OMPI_COMM_WORLD_RANK", 0)), int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29531")
    dist.init_process_group("gloo", rank=rank, world_size=size)
    train, val = corpus(a.corpus)
    T = a.context
    torch.manual_seed(a.seed)
    model = GPT(a.layers, a.channels, a.heads, T)
    ddp = nn.parallel.DistributedDataParallel(model)
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=3e-3, betas=(0.9, 0.95), eps=1e-8)
    per_epoch = max(1, len(train) // (a.batch * T * size))
    warmup, total = 100, a.steps

    def rate(step):
        if step < warmup:
            return 3e-3 * (step + 1) / warmup
        progress = min(1, (step - warmup) / max(1, total - warmup))
        return 3e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    dist.barrier()
    start = time.perf_counter()
    for step in range(a.steps):
        epoch, index = divmod(step, per_epoch)
        g = epoch * per_epoch + index
        rng = SplitMix64(a.seed ^ ((rank * 0x9E3779B97F4A7C15) & MASK) ^ ((g * 0xC2B2AE3D27D4EB4F) & MASK))
        offsets = [rng.next_int(len(train) - T) for _ in range(a.batch)]
        x, y = windows(train, offsets, T)
        for group in opt.param_groups:
            group["lr"] = rate(step)
        opt.zero_grad(set_to_none=True)
        loss = ddp(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    dist.barrier()
    elapsed = time.perf_counter() - start
    count = min(a.eval_windows, (len(val) - 1) // T)
    stride = (len(val) - T - 1) // count
    mine = list(range(rank, count, size))
    total_loss = torch.zeros(2, dtype=torch.float64)
    with torch.no_grad():
        for lo in range(0, len(mine), a.batch):
            x, y = windows(val, [k * stride for k in mine[lo:lo + a.batch]], T)
            total_loss += torch.tensor([model(x, y).item() * y.numel(), y.numel()], dtype=torch.float64)
    dist.all_reduce(total_loss)
    if rank == 0:
        tokens = a.steps * a.batch * T * size
        val_loss = (total_loss[0] / total_loss[1]).item()
        print(f"torch-gpt ranks={size} steps={a.steps} tokens_per_s={tokens / elapsed:.0f} seconds={elapsed:.3f} "
              f"final_loss={loss.item():.4f} val_loss={val_loss:.4f} bits_per_byte={val_loss / math.log(2):.4f} "
              f"torch={torch.__version__}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
