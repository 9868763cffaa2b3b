// half.c: bf16 and fp16 conversions on the host; see half.h.
#include "half.h"

#include <string.h>

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

const char *vkt_dtype16_name(vkt_dtype16 dt) {
    return dt == VKT_BF16 ? "bf16" : dt == VKT_F16 ? "f16" : "?";
}

float vkt_bf16_to_f32(uint16_t b) { return float_of((uint32_t)b << 16); }

float vkt_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13); // inf or NaN (payload kept)
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13); // rebias 15 -> 127
    } else if (mant == 0) {
        bits = sign; // signed zero
    } else {
        // subnormal: value = mant * 2^-24; normalise into a float
        int e = -1;
        do {
            mant <<= 1;
            e++;
        } while (!(mant & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ff) << 13);
    }
    return float_of(bits);
}

uint16_t vkt_f32_to_bf16(float f) {
    uint32_t x = bits_of(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x0040u); // quiet NaN
    // Round to nearest even on the 16 dropped bits; a carry walks into the exponent
    // (and up to infinity), which is what rounding should do.
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

uint16_t vkt_f32_to_f16(float f) {
    uint32_t x = bits_of(f), sign = (x >> 16) & 0x8000u;
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x3ffu)); // quiet NaN
    if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); // >= 65520 rounds to infinity
    if (x >= 0x38800000u) {                                  // normal: rebias 127 -> 15
        x -= 0x38000000u;
        return (uint16_t)(sign | ((x + 0xfffu + ((x >> 13) & 1u)) >> 13));
    }
    if (x <= 0x33000000u) return (uint16_t)sign; // <= 2^-25: ties to even at zero
    // Subnormal: round mant * 2^(e-150) to a multiple of 2^-24.
    uint32_t e = x >> 23, mant = (x & 0x7fffffu) | 0x800000u, shift = 126 - e;
    uint32_t r = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

float vkt_half_to_f32(vkt_dtype16 dt, uint16_t h) {
    return dt == VKT_BF16 ? vkt_bf16_to_f32(h) : vkt_f16_to_f32(h);
}

uint16_t vkt_f32_to_half(vkt_dtype16 dt, float f) {
    return dt == VKT_BF16 ? vkt_f32_to_bf16(f) : vkt_f32_to_f16(f);
}
