// Element-wise kernels of the collectives: the reduction and the 16-bit wire conversions.
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

#endif
