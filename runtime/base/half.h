// half.h: the two 16-bit float formats vkt reads from checkpoints and feeds to kernels
// (bfloat16 and IEEE binary16), and their host conversions. Narrowing rounds to nearest
// even, as torch does; NaN stays NaN (made quiet), overflow becomes infinity.
#ifndef VKT_HALF_H
#define VKT_HALF_H

#include <stdint.h>

typedef enum vkt_dtype16 {
    VKT_BF16 = 0, // bfloat16: the top half of a float (8-bit exponent, 7-bit mantissa)
    VKT_F16 = 1,  // IEEE binary16 (5-bit exponent, 10-bit mantissa)
} vkt_dtype16;

// "bf16" or "f16" ("?" for anything else).
const char *vkt_dtype16_name(vkt_dtype16 dt);

// Widening is exact for both formats.
float vkt_bf16_to_f32(uint16_t b);
float vkt_f16_to_f32(uint16_t h);
uint16_t vkt_f32_to_bf16(float f);
uint16_t vkt_f32_to_f16(float f);

// Either format by tag.
float vkt_half_to_f32(vkt_dtype16 dt, uint16_t h);
uint16_t vkt_f32_to_half(vkt_dtype16 dt, float f);

#endif
