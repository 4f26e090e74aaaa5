// Element-wise kernels: the collectives' reduction and 16-bit wire conversions, and the GPT's passes.
// Each is compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2, F16C) and the baseline, and the
// loader picks one for the CPU it runs on (ifunc), so a binary built anywhere runs everywhere and
// uses the vector units that are there. Every variant computes each element alone, the same IEEE
// operation in the same order (one add; round-to-nearest-even conversions), so every variant gives
// the same bits and ranks on different CPUs stay bit-identical.
#ifndef RINGWATT_KERNELS_H
#define RINGWATT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// dst[i] += src[i]
void rw_add_f32(float *dst, const float *src, size_t n);
/// dst[i] *= scale
void rw_scale_f32(float *dst, size_t n, float scale);

/// IEEE binary16 (round to nearest, ties to even; beyond ±65504 to ±inf).
void rw_f16_encode(const float *src, uint16_t *dst, size_t n);
void rw_f16_decode(const uint16_t *src, float *dst, size_t n);
void rw_f16_decode_add(const uint16_t *src, float *dst, size_t n);
/// x[i] = decode(encode(x[i]))
void rw_f16_round(float *x, size_t n);

/// bfloat16: the top 16 bits of the float, rounded to nearest, ties to even; NaN stays NaN.
void rw_bf16_encode(const float *src, uint16_t *dst, size_t n);
void rw_bf16_decode(const uint16_t *src, float *dst, size_t n);
void rw_bf16_decode_add(const uint16_t *src, float *dst, size_t n);
void rw_bf16_round(float *x, size_t n);

// The GPT's element-wise passes (transformer.c). Row sums run in 16 fixed lanes and nothing is
// fused or reassociated, so these too give the same bits on every variant.

/// row[0..<visible] = softmax(row[0..<visible]); row[visible..<width] = 0.
void rw_softmax_row(float *row, size_t visible, size_t width);
/// d[i] = p[i]·(d[i] − Σ_j p[j]·d[j]) over the visible part (the softmax's Jacobian); the rest 0.
void rw_softmax_backward_row(float *d, const float *p, size_t visible, size_t width);
/// GELU, tanh approximation.
void rw_gelu_forward(float *out, const float *inp, size_t n);
/// Backward in place over N rows of C: d "=" d · gelu′(inp), and column_sums (C) += Σ_n d[n] row
/// after row (rw_bias_backward's order): the bias gradient of the layer that produced inp.
void rw_gelu_backward_rows(float *d, float *column_sums, const float *inp, size_t N, size_t C);
/// LayerNorm over rows of C, ε = 1e-5; backward accumulates (+=) into dinp, dweight, dbias.
void rw_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                          const float *bias, size_t N, size_t C);
void rw_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                           const float *weight, const float *mean, const float *rstd, size_t N, size_t C);
/// One AdamW step over n parameters on the gradient g·gscale (clipping folded in): bias corrections
/// c1, c2; decoupled decay (0 for none).
void rw_adamw(float *w, const float *g, float *m, float *v, size_t n, float lr, float b1, float b2,
              float c1, float c2, float eps, float decay, float gscale);
/// Σ x[i]² in double (16 fixed lanes): NaN or +∞ exactly when some element is (a float's square cannot overflow a double).
double rw_sum_squares_f64(const float *x, size_t n);
/// out (N,C) = rows (N,C) + bias (C) on every row.
void rw_rows_plus_bias(float *out, const float *rows, const float *bias, size_t N, size_t C);

/// This thread's SSE/AVX arithmetic treats subnormal inputs and results as zero until
/// rw_fp_mode_restore(the value returned) (x86-64: MXCSR's DAZ and FTZ; elsewhere nothing). For
/// timing products on data whose values carry no meaning (a replayed step), where subnormals
/// would cost microcode assists the real step never pays.
unsigned rw_flush_denormals_begin(void);
void rw_fp_mode_restore(unsigned old);

// The MLP's element-wise passes (training.c), the scalar definitions' operations element by element.

/// m = momentum·m + (g + decay·w); w −= lr·m (PyTorch's SGD with momentum and L2 decay).
void rw_sgd_momentum(float *w, const float *g, float *m, size_t n, float lr, float momentum, float decay);
/// Adam with L2 decay: grad = g + decay·w; m = b1·m + (1−b1)·grad; v = b2·v + (1−b2)·grad·grad;
/// w −= stepSize·m / (√v·invSqrtC2 + eps), stepSize = lr/c1, invSqrtC2 = 1/√c2 (bias corrections).
void rw_adam(float *w, const float *g, float *m, float *v, size_t n, float stepSize, float b1, float b2,
             float invSqrtC2, float eps, float decay);
/// Over rows of logits (B,C), in place: probabilities (max-shifted expf, sequential float sum,
/// times 1/sum); returns Σ_b −log max(p[label_b], FLT_MIN) in double.
double rw_softmax_xent_forward(float *logits, const uint8_t *labels, size_t B, size_t C);
/// dlogits (B,C) = probs·scale, then dlogits[b][label_b] −= scale.
void rw_softmax_xent_backward(float *dlogits, const float *probs, const uint8_t *labels, size_t B, size_t C, float scale);
/// In place over probs (N,V): p[n][target_n] −= 1, then every element ·= scale.
void rw_xent_backward_rows(float *probs, const int32_t *targets, size_t N, size_t V, float scale);
/// x = max(x, 0); dx = out > 0 ? dx : 0.
void rw_relu(float *x, size_t n);
void rw_relu_backward(float *dx, const float *out, size_t n);
/// dbias[c] += Σ over rows of dout[r][c], rows in order.
void rw_bias_backward(float *dbias, const float *dout, size_t rows, size_t columns);
/// The batch conversion: row r of dst (rows, features) = (float(byte)/255 − mean)/std over row
/// indices[r] of images (N, features), prefetching row r+1 while converting row r.
void rw_gather_normalise(float *dst, const uint8_t *images, const int32_t *indices, size_t rows, size_t features,
                         float mean, float std);
/// Requests the cache lines of rows indices[0..<rows] of images (N, row_bytes): issued a step ahead,
/// the next batch's scattered rows arrive while the current step computes. Changes no memory.
void rw_prefetch_rows(const uint8_t *images, const int32_t *indices, size_t rows, size_t row_bytes);

#endif
