"""The numpy MLP (784-256-128-10, ReLU, softmax cross-entropy, SGD with momentum) that the
numpy + mpi4py baseline trains, written as a hand-written numpy trainer would be: weights (in, out)
in one flat buffer, the gradient in another of the same layout. Shared by numpy_mpi4py.py and
gemm_ceiling.py so both time the same step."""
import numpy as np

WIDTHS = [784, 256, 128, 10]


class NumpyMLP:
    def __init__(self, seed=1):
        rng = np.random.default_rng(seed)
        params = []
        for i, o in zip(WIDTHS[:-1], WIDTHS[1:]):
            params += [(rng.standard_normal((i, o)) * np.sqrt(2 / i)).astype(np.float32), np.zeros(o, np.float32)]
        self.flat = np.concatenate([p.ravel() for p in params])
        self.grads = np.zeros_like(self.flat)
        self.velocity = np.zeros_like(self.flat)
        self.views, offset = [], 0
        for p in params:
            self.views.append((self.flat[offset:offset + p.size].reshape(p.shape),
                               self.grads[offset:offset + p.size].reshape(p.shape)))
            offset += p.size

    def forward_backward(self, x, y):
        """Fills self.grads with the batch-mean gradient of the cross-entropy."""
        views = self.views
        acts = [x]
        for layer in range(3):
            w, _ = views[2 * layer]
            bias, _ = views[2 * layer + 1]
            z = acts[-1] @ w + bias
            acts.append(np.maximum(z, 0) if layer < 2 else z)
        logits = acts[-1]
        e = np.exp(logits - logits.max(1, keepdims=True))
        d = e / e.sum(1, keepdims=True)
        d[np.arange(len(y)), y] -= 1
        d /= len(y)
        for layer in (2, 1, 0):
            w, dw = views[2 * layer]
            _, db = views[2 * layer + 1]
            dw[...] = acts[layer].T @ d
            db[...] = d.sum(0)
            if layer:
                d = (d @ w.T) * (acts[layer] > 0)

    def sgd(self, lr=0.05, momentum=0.9):
        self.velocity *= momentum
        self.velocity += self.grads
        self.flat -= lr * self.velocity

    def products(self, x):
        """The step's eight matrix products alone (forward 3, weight gradients 3, input gradients 2),
        with numpy's operands and layouts, into preallocated outputs: what BLAS alone costs."""
        if not hasattr(self, "_out"):
            b = len(x)
            self._out = [np.empty((b, o), np.float32) for o in WIDTHS[1:]] + \
                        [np.empty((i, o), np.float32) for i, o in zip(WIDTHS[:-1], WIDTHS[1:])] + \
                        [np.empty((b, i), np.float32) for i in WIDTHS[1:3]]
        h1, h2, z, dw1, dw2, dw3, dh1, dh2 = self._out
        (w1, _), (w2, _), (w3, _) = self.views[0], self.views[2], self.views[4]
        np.matmul(x, w1, out=h1); np.matmul(h1, w2, out=h2); np.matmul(h2, w3, out=z)
        np.matmul(h2.T, z, out=dw3); np.matmul(z, w3.T, out=dh2)
        np.matmul(h1.T, dh2, out=dw2); np.matmul(dh2, w2.T, out=dh1)
        np.matmul(x.T, dh1, out=dw1)
