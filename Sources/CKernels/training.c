// The MLP's element-wise passes: the SGD update, ReLU and its gradient, the bias gradient, the
// byte-to-float batch conversion. Compiled per x86-64 level like the other kernels; each computes
// every element with the same IEEE operations, in the same order, as the scalar definition (no
// fused multiply-adds, -ffp-contract=off), so weights are the same bits on every CPU.
#include "kernels.h"

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

VARIANTS void rw_bytes_to_floats(float *restrict dst, const uint8_t *restrict src, size_t n, const float *restrict table) {
    for (size_t i = 0; i < n; i++) dst[i] = table[src[i]];
}
