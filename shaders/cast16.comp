#version 450
// cast16.comp: fp32 <-> 16-bit floats (bf16 or IEEE fp16) packed two to a 32-bit word,
// element e in word e / 2, the low half first (as matmul's 16-bit operands are read).
// Reference: vkt_ref_cast16 / vkt_ref_widen16 (runtime/reference.h), the same rounding as
// runtime/base/half.c.
//
// Narrowing (WIDEN false): invocation w reads floats 2w and 2w + 1 and writes word w
// whole, so no two invocations share a word; past n the high half is zero. Rounding is
// done on the integer bits (no float op sees the input, so a flush-to-zero device cannot
// lose fp16 subnormals, and packHalf2x16's rounding is left to the implementation):
// round to nearest even, NaN stays NaN (made quiet), overflow to infinity.
// Widening (WIDEN true): invocation w reads word w and writes floats 2w and 2w + 1 (< n).
#include "vkt_common.glsl"

layout(constant_id = 3) const uint DT = 0;         // 0: bf16, 1: fp16 (vkt_dtype16)
layout(constant_id = 4) const bool WIDEN = false;

layout(push_constant) uniform Push {
    uint n;       // 16-bit values in this dispatch
    uint src_off; // words (floats or pairs) to skip in each binding
    uint dst_off;
} p;

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };

uint to_bf16(uint x) {
    if ((x & 0x7fffffffu) > 0x7f800000u) return (x >> 16) | 0x40u; // quiet NaN
    return (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;                 // a carry may reach infinity
}

uint to_f16(uint x) {
    uint sign = (x >> 16) & 0x8000u;
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return sign | 0x7e00u | ((x >> 13) & 0x3ffu); // quiet NaN
    if (x >= 0x477ff000u) return sign | 0x7c00u;                       // >= 65520: infinity
    if (x >= 0x38800000u) {                                            // normal: rebias 127 -> 15
        x -= 0x38000000u;
        return sign | ((x + 0xfffu + ((x >> 13) & 1u)) >> 13);
    }
    if (x <= 0x33000000u) return sign; // <= 2^-25: ties to even at zero
    // Subnormal: the mantissa with its implicit one, shifted to a multiple of 2^-24.
    uint shift = 126u - (x >> 23), mant = (x & 0x7fffffu) | 0x800000u;
    uint r = mant >> shift, rem = mant & ((1u << shift) - 1u), half_ulp = 1u << (shift - 1u);
    if (rem > half_ulp || (rem == half_ulp && (r & 1u) != 0u)) r++;
    return sign | r;
}

uint narrow(uint x) { return DT == 0u ? to_bf16(x) : to_f16(x); }

float widen(uint h) {
    if (DT == 0u) return uintBitsToFloat(h << 16);
    // fp16 by bits, exact: (1024 + m) 2^(e - 25), or m 2^-24 for subnormals; e == 31 is inf or NaN.
    uint e = (h >> 10) & 0x1fu, m = h & 0x3ffu, sign = (h & 0x8000u) << 16;
    if (e == 31u) return uintBitsToFloat(sign | 0x7f800000u | (m << 13));
    float v = float(e != 0u ? m | 0x400u : m) * uintBitsToFloat((max(e, 1u) + 102u) << 23);
    return uintBitsToFloat(sign | floatBitsToUint(v));
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x, words = (p.n + 1u) / 2u;
    for (uint w = gl_GlobalInvocationID.x; w < words; w += stride) {
        uint e = 2u * w;
        if (WIDEN) {
            uint h = src[p.src_off + w];
            dst[p.dst_off + e] = floatBitsToUint(widen(h & 0xffffu));
            if (e + 1u < p.n) dst[p.dst_off + e + 1u] = floatBitsToUint(widen(h >> 16));
        } else {
            uint lo = narrow(src[p.src_off + e]);
            uint hi = e + 1u < p.n ? narrow(src[p.src_off + e + 1u]) : 0u;
            dst[p.dst_off + w] = lo | (hi << 16);
        }
    }
}
