#include "kernels.h"
#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define VARIANTS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VARIANTS
#endif

VARIANTS void rw_add_f32(float *restrict dst, const float *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

VARIANTS void rw_scale_f32(float *restrict dst, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) dst[i] *= scale;
}

static inline uint16_t f16_bits(float x) {
    _Float16 h = (_Float16)x;
    uint16_t b;
    memcpy(&b, &h, 2);
    return b;
}

static inline float f16_value(uint16_t b) {
    _Float16 h;
    memcpy(&h, &b, 2);
    return (float)h;
}

VARIANTS void rw_f16_encode(const float *restrict src, uint16_t *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = f16_bits(src[i]);
}

VARIANTS void rw_f16_decode(const uint16_t *restrict src, float *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = f16_value(src[i]);
}

VARIANTS void rw_f16_decode_add(const uint16_t *restrict src, float *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += f16_value(src[i]);
}

VARIANTS void rw_f16_round(float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(_Float16)x[i];
}

static inline uint16_t bf16_bits(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    if (x != x) return (uint16_t)(b >> 16) | 0x40;          // NaN: keep it a (quiet) NaN
    uint32_t rounding = 0x7FFF + ((b >> 16) & 1);            // to nearest, ties to even
    return (uint16_t)((b + rounding) >> 16);
}

static inline float bf16_value(uint16_t h) {
    uint32_t b = (uint32_t)h << 16;
    float x;
    memcpy(&x, &b, 4);
    return x;
}

VARIANTS void rw_bf16_encode(const float *restrict src, uint16_t *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_bits(src[i]);
}

VARIANTS void rw_bf16_decode(const uint16_t *restrict src, float *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_value(src[i]);
}

VARIANTS void rw_bf16_decode_add(const uint16_t *restrict src, float *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += bf16_value(src[i]);
}

VARIANTS void rw_bf16_round(float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = bf16_value(bf16_bits(x[i]));
}
