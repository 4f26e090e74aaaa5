#!/usr/bin/env python3
"""An independent reference for Ringwatt's GPT: forward and backward in float64 numpy, written
from the architecture's definition (not from the Swift code), for GPTTests to compare against.

usage: reference_gpt.py IN OUT
IN  (little-endian): int32 L, C, H, T, B; float32 params[P] in Ringwatt's flat layout;
    int32 inputs[B*T]; int32 targets[B*T]
OUT: float64 loss, float64 grads[P] (of the mean cross-entropy over the B*T tokens)

Layout: wte (256,C), wpe (T,C), per block [ln1w, ln1b (C), qkvw (3C,C), qkvb (3C), attprojw (C,C),
attprojb (C), ln2w, ln2b (C), fcw (4C,C), fcb (4C), fcprojw (C,4C), fcprojb (C)], lnfw, lnfb (C).
"""
import struct
import sys

import numpy as np

V = 256


def split(params, L, C, T):
    shapes = [("wte", (V, C)), ("wpe", (T, C))]
    for l in range(L):
        shapes += [(f"{l}.ln1w", (C,)), (f"{l}.ln1b", (C,)), (f"{l}.qkvw", (3 * C, C)), (f"{l}.qkvb", (3 * C,)),
                   (f"{l}.attprojw", (C, C)), (f"{l}.attprojb", (C,)), (f"{l}.ln2w", (C,)), (f"{l}.ln2b", (C,)),
                   (f"{l}.fcw", (4 * C, C)), (f"{l}.fcb", (4 * C,)), (f"{l}.fcprojw", (C, 4 * C)), (f"{l}.fcprojb", (C,))]
    shapes += [("lnfw", (C,)), ("lnfb", (C,))]
    out, offset = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        out[name] = params[offset:offset + n].reshape(shape)
        offset += n
    assert offset == params.size, (offset, params.size)
    return out, [name for name, _ in shapes]


def layernorm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(var + 1e-5)
    norm = (x - mean) * rstd
    return norm * w + b, (norm, rstd)


def layernorm_back(dout, w, cache):
    norm, rstd = cache
    dnorm = dout * w
    dx = (dnorm - dnorm.mean(-1, keepdims=True) - norm * (dnorm * norm).mean(-1, keepdims=True)) * rstd
    return dx, (dout * norm).sum((0, 1)), dout.sum((0, 1))


K = np.sqrt(2 / np.pi)


def gelu(x):
    return 0.5 * x * (1 + np.tanh(K * (x + 0.044715 * x ** 3)))


def gelu_back(dout, x):
    u = K * (x + 0.044715 * x ** 3)
    th = np.tanh(u)
    return dout * (0.5 * (1 + th) + 0.5 * x * (1 - th ** 2) * K * (1 + 3 * 0.044715 * x ** 2))


def attention(qkv, H):
    B, T, C3 = qkv.shape
    C = C3 // 3
    hs = C // H
    q, k, v = (qkv[..., i * C:(i + 1) * C].reshape(B, T, H, hs).transpose(0, 2, 1, 3) for i in range(3))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hs)
    mask = np.tril(np.ones((T, T), dtype=bool))
    s = np.where(mask, s, -np.inf)
    s = s - s.max(-1, keepdims=True)
    a = np.exp(s)
    a = a / a.sum(-1, keepdims=True)
    y = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
    return y, (q, k, v, a, hs)


def attention_back(dy, cache):
    q, k, v, a, hs = cache
    B, H, T, _ = q.shape
    dy = dy.reshape(B, T, H, hs).transpose(0, 2, 1, 3)
    dv = a.transpose(0, 1, 3, 2) @ dy
    da = dy @ v.transpose(0, 1, 3, 2)
    ds = a * (da - (a * da).sum(-1, keepdims=True)) / np.sqrt(hs)
    dq = ds @ k
    dk = ds.transpose(0, 1, 3, 2) @ q
    merge = lambda t: t.transpose(0, 2, 1, 3).reshape(B, T, H * hs)
    return np.concatenate([merge(dq), merge(dk), merge(dv)], -1)


def run(p, L, H, inputs, targets):
    B, T = inputs.shape
    caches = []
    x = p["wte"][inputs] + p["wpe"][np.arange(T)]
    for l in range(L):
        g = lambda n: p[f"{l}.{n}"]
        h1, c1 = layernorm(x, g("ln1w"), g("ln1b"))
        qkv = h1 @ g("qkvw").T + g("qkvb")
        y, ca = attention(qkv, H)
        x2 = x + y @ g("attprojw").T + g("attprojb")
        h2, c2 = layernorm(x2, g("ln2w"), g("ln2b"))
        f = h2 @ g("fcw").T + g("fcb")
        fg = gelu(f)
        x3 = x2 + fg @ g("fcprojw").T + g("fcprojb")
        caches.append((x, h1, c1, y, ca, x2, h2, c2, f, fg))
        x = x3
    hf, cf = layernorm(x, p["lnfw"], p["lnfb"])
    logits = hf @ p["wte"].T
    logits = logits - logits.max(-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(-1, keepdims=True)
    n = B * T
    rows = np.arange(B)[:, None], np.arange(T)[None, :]
    loss = -np.log(probs[rows[0], rows[1], targets]).mean()

    d = {name: np.zeros_like(value) for name, value in p.items()}
    dlogits = probs.copy()
    dlogits[rows[0], rows[1], targets] -= 1
    dlogits /= n
    d["wte"] += np.einsum("btv,btc->vc", dlogits, hf)
    dx, d["lnfw"], d["lnfb"] = layernorm_back(dlogits @ p["wte"], p["lnfw"], cf)
    for l in reversed(range(L)):
        g = lambda name: p[f"{l}.{name}"]
        xin, h1, c1, y, ca, x2, h2, c2, f, fg = caches[l]
        d[f"{l}.fcprojw"] = np.einsum("btc,btk->ck", dx, fg)
        d[f"{l}.fcprojb"] = dx.sum((0, 1))
        df = gelu_back(dx @ g("fcprojw"), f)
        d[f"{l}.fcw"] = np.einsum("btk,btc->kc", df, h2)
        d[f"{l}.fcb"] = df.sum((0, 1))
        dh2, d[f"{l}.ln2w"], d[f"{l}.ln2b"] = layernorm_back(df @ g("fcw"), g("ln2w"), c2)
        dx2 = dx + dh2
        d[f"{l}.attprojw"] = np.einsum("btc,btk->ck", dx2, y)
        d[f"{l}.attprojb"] = dx2.sum((0, 1))
        dqkv = attention_back(dx2 @ g("attprojw"), ca)
        qkv_in = h1
        d[f"{l}.qkvw"] = np.einsum("btk,btc->kc", dqkv, qkv_in)
        d[f"{l}.qkvb"] = dqkv.sum((0, 1))
        dh1, d[f"{l}.ln1w"], d[f"{l}.ln1b"] = layernorm_back(dqkv @ g("qkvw"), g("ln1w"), c1)
        dx = dx2 + dh1
    np.add.at(d["wte"], inputs, dx)
    d["wpe"] += dx.sum(0)
    return loss, d


def main():
    data = open(sys.argv[1], "rb").read()
    L, C, H, T, B = struct.unpack_from("<5i", data, 0)
    P = (V + T) * C + L * (12 * C * C + 13 * C) + 2 * C
    params = np.frombuffer(data, "<f4", P, 20).astype(np.float64)
    tokens = np.frombuffer(data, "<i4", 2 * B * T, 20 + 4 * P)
    inputs, targets = tokens[:B * T].reshape(B, T), tokens[B * T:].reshape(B, T)
    p, order = split(params, L, C, T)
    loss, grads = run(p, L, H, inputs, targets)
    flat = np.concatenate([grads[name].reshape(-1) for name in order])
    with open(sys.argv[2], "wb") as out:
        out.write(struct.pack("<d", loss))
        out.write(flat.astype("<f8").tobytes())


if __name__ == "__main__":
    main()
