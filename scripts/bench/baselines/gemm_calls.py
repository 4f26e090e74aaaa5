"""The same cblas_sgemm calls `ringwatt bench-gemm` times, through the OpenBLAS that this
interpreter's numpy runs (PyPI's wheels bundle their own, scipy-openblas, with 64-bit integers;
Debian's numpy uses the system library). Called through ctypes with Ringwatt's arguments
(row-major, transposes, leading dimensions, beta) on scratch buffers; the ctypes call's own cost,
measured on a 1x1x1 product, is subtracted, so both sides are BLAS time.
    python3 gemm_calls.py CALLS.jsonl [MILLISECONDS]   (prints the same JSON lines, timed)"""
import ctypes
import glob
import json
import os
import sys
import time

import numpy as np

from common import blas_description


def numpy_openblas():
    """(library, prefix, suffix, integer type) of the OpenBLAS numpy calls."""
    base = os.path.dirname(np.__file__)
    for path in glob.glob(os.path.join(base, "..", "numpy.libs", "libscipy_openblas64_*.so")):
        return ctypes.CDLL(path), "scipy_", "64_", ctypes.c_int64
    for path in glob.glob(os.path.join(base, "..", "numpy.libs", "libscipy_openblas*.so")) + \
            glob.glob(os.path.join(base, "..", "numpy.libs", "libopenblas*.so")):
        return ctypes.CDLL(path), "", "", ctypes.c_int
    return ctypes.CDLL("libopenblas.so.0"), "", "", ctypes.c_int


lib, prefix, suffix, Int = numpy_openblas()
sgemm = getattr(lib, f"{prefix}cblas_sgemm{suffix}")
sgemm.restype = None
F = ctypes.c_float
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def main():
    calls = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    budget = float(sys.argv[2]) * 1e-3 if len(sys.argv) > 2 else 0.02
    size = max(max((c["k"] if c["trans_a"] else c["m"]) * c["lda"], (c["n"] if c["trans_b"] else c["k"]) * c["ldb"],
                   c["m"] * c["ldc"]) for c in calls)
    a = (np.arange(size) % 7 * 0.01).astype(np.float32)
    b = (np.arange(size) % 5 * 0.01).astype(np.float32)
    c_ = np.zeros(size, np.float32)
    pa, pb, pc = (x.ctypes.data_as(ctypes.POINTER(F)) for x in (a, b, c_))

    def runner(c):
        args = (ROW_MAJOR, TRANS if c["trans_a"] else NO_TRANS, TRANS if c["trans_b"] else NO_TRANS,
                Int(c["m"]), Int(c["n"]), Int(c["k"]), F(1), pa, Int(c["lda"]), pb, Int(c["ldb"]), F(c["beta"]), pc, Int(c["ldc"]))

        def run(times):
            t0 = time.perf_counter()
            for _ in range(times):
                sgemm(*args)
            return (time.perf_counter() - t0) / times
        return run

    unit = dict(trans_a=False, trans_b=False, m=1, n=1, k=1, lda=1, ldb=1, ldc=1, beta=0.0)
    overhead = min(runner(unit)(20000) for _ in range(3))
    for c in calls:
        run = runner(c)
        once = run(3)
        times = max(3, int(budget / max(once, 1e-7)))
        c["seconds"] = max(0.0, min(run(times) for _ in range(3)) - overhead)
        print(json.dumps(c))
    print(f"# {blas_description()}; ctypes overhead {overhead * 1e6:.2f} us per call subtracted", file=sys.stderr)


main()
