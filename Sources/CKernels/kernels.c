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

// The four loops of a 16-bit wire format, from its two element conversions.
#define WIRE_FORMAT(name, to_bits, to_float)                                                    \
    VARIANTS void rw_##name##_encode(const float *restrict src, uint16_t *restrict dst, size_t n) { \
        for (size_t i = 0; i < n; i++) dst[i] = to_bits(src[i]);                                 \
    }                                                                                           \
    VARIANTS void rw_##name##_decode(const uint16_t *restrict src, float *restrict dst, size_t n) { \
        for (size_t i = 0; i < n; i++) dst[i] = to_float(src[i]);                                \
    }                                                                                           \
    VARIANTS void rw_##name##_decode_add(const uint16_t *restrict src, float *restrict dst, size_t n) { \
        for (size_t i = 0; i < n; i++) dst[i] += to_float(src[i]);                               \
    }                                                                                           \
    VARIANTS void rw_##name##_round(float *restrict x, size_t n) {                              \
        for (size_t i = 0; i < n; i++) x[i] = to_float(to_bits(x[i]));                           \
    }

WIRE_FORMAT(f16, f16_bits, f16_value)
WIRE_FORMAT(bf16, bf16_bits, bf16_value)

#if defined(__x86_64__)
#include <xmmintrin.h>
unsigned rw_flush_denormals_begin(void) {
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040);  // FTZ (bit 15) and DAZ (bit 6)
    return old;
}
void rw_fp_mode_restore(unsigned old) { _mm_setcsr(old); }
#else
unsigned rw_flush_denormals_begin(void) { return 0; }
void rw_fp_mode_restore(unsigned old) { (void)old; }
#endif
