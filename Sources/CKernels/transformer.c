// The GPT's element-wise passes: softmax, GELU, LayerNorm, the AdamW update. Compiled per x86-64
// level like the collectives' kernels. Same bits on every variant: no fused multiply-adds
// (-ffp-contract=off for this target), no reassociation, and every sum over a row runs in 16
// fixed lanes (lane k adds elements k, k+16, …) combined in a fixed order, which a 4-, 8- or
// 16-wide vector unit computes identically.
#include "kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define VARIANTS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VARIANTS
#endif

#define LANES 16

// The helpers below are inlined into each x86-64 level's clone of their callers: a call out of a
// clone would run them at the baseline level (SSE2), one float lane at a time.
#define INLINE static inline __attribute__((always_inline))

/// e^x for x in [-87.3, 88.7] (0 below, +inf above): Cephes' expf, range reduction by ln 2 in two
/// parts, a degree-5 polynomial, the exponent placed by integer arithmetic. About 1 ulp.
INLINE float rw_exp(float x) {
    float below = x < -87.3f ? 0.0f : 1.0f;
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * (r * r) + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return y * scale * below;
}

/// tanh(u) = 1 − 2 / (e^{2u} + 1), with |u| clamped to 9 (where tanh is ±1 in float).
INLINE float rw_tanh(float u) {
    u = u > 9.0f ? 9.0f : (u < -9.0f ? -9.0f : u);
    return 1.0f - 2.0f / (rw_exp(2.0f * u) + 1.0f);
}

/// Σ x[0..<n] in 16 lanes, then the lanes pairwise: the same order for every vector width.
INLINE float rw_sum(const float *restrict x, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += x[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += x[i];
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int k = 0; k < width; k++) acc[k] += acc[k + width];
    return acc[0];
}

INLINE float rw_dot(const float *restrict x, const float *restrict y, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += x[i + k] * y[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += x[i] * y[i];
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int k = 0; k < width; k++) acc[k] += acc[k + width];
    return acc[0];
}

/// max(x[0..<n]) in 16 lanes (NaNs skipped, −∞ for none): max is exact, so the lanes give the
/// one-lane loop's value, and a compiler may vectorize them (it may not reorder the one-lane loop).
INLINE float rw_max(const float *restrict x, size_t n) {
    float acc[LANES];
    for (int k = 0; k < LANES; k++) acc[k] = -INFINITY;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] = x[i + k] > acc[k] ? x[i + k] : acc[k];
    for (int k = 0; i < n; i++, k++) acc[k] = x[i] > acc[k] ? x[i] : acc[k];
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int k = 0; k < width; k++) acc[k] = acc[k + width] > acc[k] ? acc[k + width] : acc[k];
    return acc[0];
}

VARIANTS void rw_softmax_row(float *restrict row, size_t visible, size_t width) {
    float m = rw_max(row, visible);
    for (size_t i = 0; i < visible; i++) row[i] = rw_exp(row[i] - m);
    float inv = 1.0f / rw_sum(row, visible);
    for (size_t i = 0; i < visible; i++) row[i] *= inv;
    for (size_t i = visible; i < width; i++) row[i] = 0.0f;
}

VARIANTS void rw_softmax_backward_row(float *restrict d, const float *restrict p, size_t visible, size_t width) {
    float dot = rw_dot(p, d, visible);
    for (size_t i = 0; i < visible; i++) d[i] = p[i] * (d[i] - dot);
    for (size_t i = visible; i < width; i++) d[i] = 0.0f;
}

#define GELU_SCALE 0.7978845608028654f  // √(2/π)

INLINE float rw_gelu_tanh(float x) { return rw_tanh(GELU_SCALE * (x + 0.044715f * x * x * x)); }

INLINE float rw_gelu_derivative(float x, float th) {
    return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
}

VARIANTS void rw_gelu_forward(float *restrict out, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = 0.5f * inp[i] * (1.0f + rw_gelu_tanh(inp[i]));
}

VARIANTS void rw_gelu_backward_rows(float *restrict d, float *restrict column_sums, const float *restrict inp, size_t N, size_t C) {
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++) {
            float x = inp[n * C + c], g = rw_gelu_derivative(x, rw_gelu_tanh(x)) * d[n * C + c];
            d[n * C + c] = g;
            column_sums[c] += g;
        }
}

VARIANTS void rw_layernorm_forward(float *restrict out, float *restrict mean, float *restrict rstd, const float *restrict inp,
                                   const float *restrict weight, const float *restrict bias, size_t N, size_t C) {
    float centred[C];
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float m = rw_sum(x, C) / (float)C;
        for (size_t i = 0; i < C; i++) centred[i] = x[i] - m;
        float s = 1.0f / sqrtf(rw_dot(centred, centred, C) / (float)C + 1e-5f);
        float *o = out + n * C;
        for (size_t i = 0; i < C; i++) o[i] = centred[i] * s * weight[i] + bias[i];
        mean[n] = m;
        rstd[n] = s;
    }
}

VARIANTS void rw_layernorm_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                                    const float *restrict dout, const float *restrict inp, const float *restrict weight,
                                    const float *restrict mean, const float *restrict rstd, size_t N, size_t C) {
    float norm[C], dnorm[C];
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C, *d = dout + n * C;
        float *di = dinp + n * C;
        for (size_t i = 0; i < C; i++) {
            norm[i] = (x[i] - mean[n]) * rstd[n];
            dnorm[i] = weight[i] * d[i];
        }
        float dnormMean = rw_sum(dnorm, C) / (float)C;
        float dnormNormMean = rw_dot(dnorm, norm, C) / (float)C;
        for (size_t i = 0; i < C; i++) {
            dbias[i] += d[i];
            dweight[i] += norm[i] * d[i];
            di[i] += (dnorm[i] - dnormMean - norm[i] * dnormNormMean) * rstd[n];
        }
    }
}

VARIANTS void rw_adamw(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                       float lr, float b1, float b2, float c1, float c2, float eps, float decay, float gscale) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gscale;
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        w[i] -= lr * (m[i] / c1 / (sqrtf(v[i] / c2) + eps) + decay * w[i]);
    }
}

VARIANTS double rw_sum_squares_f64(const float *restrict x, size_t n) {
    double acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += (double)x[i + k] * (double)x[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += (double)x[i] * (double)x[i];
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int k = 0; k < width; k++) acc[k] += acc[k + width];
    return acc[0];
}

VARIANTS void rw_rows_plus_bias(float *restrict out, const float *restrict rows, const float *restrict bias, size_t N, size_t C) {
    for (size_t n = 0; n < N; n++)
        for (size_t i = 0; i < C; i++) out[n * C + i] = rows[n * C + i] + bias[i];
}
