"""Shared by the baseline trainers: Fashion-MNIST from Debian's package, same normalisation as
Ringwatt, same sampler scheme (permutation per epoch, rank r takes r, r+p, ...)."""
import gzip
import os
import sys

import numpy as np

DATA = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def load(kind):
    with gzip.open(f"{DATA}/{kind}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(f"{DATA}/{kind}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return ((images.astype(np.float32) / 255 - 0.2860) / 0.3530).astype(np.float32), labels.astype(np.int64)


def shard(n, ranks, rank, epoch, seed=1):
    perm = np.random.default_rng(seed + epoch).permutation(n)
    per = n // ranks
    return perm[: per * ranks][rank::ranks]


def blas_description():
    """The BLAS this interpreter's numpy (and torch, once imported) runs, as threadpoolctl sees it:
    library, version and the kernel set in use ("architecture")."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown (threadpoolctl not installed)"
    libs = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '?')} ({os.path.basename(i.get('filepath', ''))})"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(libs) or "no BLAS loaded"


def torch_blas(torch):
    """torch's own account of its BLAS build and vector level (from torch.__config__.show())."""
    import re
    text = torch.__config__.show()
    found = re.findall(r"(BLAS_INFO=[^,]*|CPU capability usage: \S+)", text)
    return ", ".join(found) or "not stated"


def ringwatt_throughput(summary_path):
    """Ringwatt's samples (or tokens) per second over its training loop, evaluation and checkpoints
    excluded, batch gathering included: how every baseline script reads a Ringwatt run (the
    baselines time the same span of their own loops)."""
    import json
    s = json.load(open(summary_path))
    p = s["seconds_by_phase"]
    return round(s["samples"] / (s["seconds"] - p.get("eval", 0) - p.get("checkpoint", 0)))


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "throughput":
    print(ringwatt_throughput(sys.argv[2]))
