// The MLP's element-wise passes: the SGD and Adam updates, softmax cross-entropy, ReLU and its gradient, the bias gradient, the
// byte-to-float batch conversion. Compiled per x86-64 level like the other kernels; each computes
// every element with the same IEEE operations, in the same order, as the scalar definition (no
// fused multiply-adds, -ffp-contract=off), so weights are the same bits on every CPU.
#include "kernels.h"
#include <float.h>
#include <math.h>

#if defined(__x86_64__) && defined(__ELF__)
#define VARIANTS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VARIANTS
#endif

VARIANTS void rw_sgd_momentum(float *restrict w, const float *restrict g, float *restrict m, size_t n,
                              float lr, float momentum, float decay) {
    for (size_t i = 0; i < n; i++) {
        float grad = g[i] + decay * w[i];
        float v = momentum * m[i] + grad;
        m[i] = v;
        w[i] -= lr * v;
    }
}

VARIANTS void rw_adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      float stepSize, float b1, float b2, float invSqrtC2, float eps, float decay) {
    for (size_t i = 0; i < n; i++) {
        float grad = g[i] + decay * w[i];
        float mi = b1 * m[i] + (1 - b1) * grad;
        float vi = b2 * v[i] + (1 - b2) * grad * grad;
        m[i] = mi;
        v[i] = vi;
        w[i] -= stepSize * mi / (sqrtf(vi) * invSqrtC2 + eps);
    }
}

// The exponentials are glibc's expf, one call per element as in the scalar definition (a vector
// exp would change the bits); the max, the scaling and the gradient vectorise.
VARIANTS double rw_softmax_xent_forward(float *restrict logits, const uint8_t *restrict labels, size_t B, size_t C) {
    double loss = 0;
    for (size_t b = 0; b < B; b++) {
        float *row = logits + b * C;
        float maxLogit = row[0];
        for (size_t c = 1; c < C; c++) maxLogit = row[c] > maxLogit ? row[c] : maxLogit;
        float sum = 0;
        for (size_t c = 0; c < C; c++) {
            float e = expf(row[c] - maxLogit);
            row[c] = e;
            sum += e;
        }
        float inv = 1 / sum;
        for (size_t c = 0; c < C; c++) row[c] *= inv;
        float p = row[labels[b]];
        loss -= (double)logf(FLT_MIN >= p ? FLT_MIN : p);  // Swift's max(p, FLT_MIN): NaN stays NaN
    }
    return loss;
}

VARIANTS void rw_softmax_xent_backward(float *restrict dlogits, const float *restrict probs, const uint8_t *restrict labels,
                                       size_t B, size_t C, float scale) {
    for (size_t i = 0; i < B * C; i++) dlogits[i] = probs[i] * scale;
    for (size_t b = 0; b < B; b++) dlogits[b * C + labels[b]] -= scale;
}

VARIANTS void rw_xent_backward_rows(float *restrict probs, const int32_t *restrict targets, size_t N, size_t V, float scale) {
    for (size_t n = 0; n < N; n++) probs[n * V + (size_t)targets[n]] -= 1;
    for (size_t i = 0; i < N * V; i++) probs[i] *= scale;
}

VARIANTS void rw_relu(float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

VARIANTS void rw_relu_backward(float *restrict dx, const float *restrict out, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = out[i] > 0.0f ? dx[i] : 0.0f;
}

VARIANTS void rw_bias_backward(float *restrict dbias, const float *restrict dout, size_t rows, size_t columns) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = dout + r * columns;
        for (size_t c = 0; c < columns; c++) dbias[c] += row[c];
    }
}

// The rows are scattered over the data set (tens of MB): the next row's cache lines are requested
// while this one converts, which hides most of the memory latency (3x on this machine's 64 x 784).
VARIANTS void rw_gather_normalise(float *restrict dst, const uint8_t *restrict images, const int32_t *restrict indices,
                                  size_t rows, size_t features, float mean, float std) {
    for (size_t r = 0; r < rows; r++) {
        if (r + 1 < rows) {
            const uint8_t *next = images + (size_t)indices[r + 1] * features;
            for (size_t o = 0; o < features; o += 64) __builtin_prefetch(next + o);
        }
        const uint8_t *src = images + (size_t)indices[r] * features;
        float *out = dst + r * features;
        for (size_t i = 0; i < features; i++) out[i] = ((float)src[i] / 255.0f - mean) / std;
    }
}

// Into the outer caches (hint 1): the lines wait there through the step's matrix products, which
// keep their own working set in L1, and are pulled in by the next gather.
void rw_prefetch_rows(const uint8_t *images, const int32_t *indices, size_t rows, size_t row_bytes) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = images + (size_t)indices[r] * row_bytes;
        for (size_t o = 0; o < row_bytes; o += 64) __builtin_prefetch(row + o, 0, 1);
        __builtin_prefetch(row + row_bytes - 1, 0, 1);  // a row that starts mid-line ends in one more
    }
}
