// op_cast.h: fp32 <-> 16-bit floats on the device (shaders/cast16.comp), for mixed
// precision: the 16-bit copy of the weights refreshed after each step, the 16-bit
// activations a matmul reads (vkt_matmul16, op_matmul.h). What they compute is
// vkt_ref_cast16 / vkt_ref_widen16 (reference.h); rounding as in half.h.
#ifndef VKT_OP_CAST_H
#define VKT_OP_CAST_H

#include <stdint.h>

#include "buffer.h"
#include "half.h"

// dst (n 16-bit values of type dt) = src (n floats), rounded to nearest even; NaN stays
// NaN (quiet), overflow becomes infinity, fp16 keeps subnormals. Values are packed two to
// a 32-bit word, element e the low half of word e/2 when e is even; dst's offset must be
// a multiple of 4 bytes and the op writes whole words ((n + 1) / 2 of them): with an odd n
// the last word's high half is written as zero. src may sit at any float offset. Views may
// be larger than one binding. n == 0 records nothing.
vkt_status vkt_cast16(vkt_ctx *ctx, vkt_dtype16 dt, vkt_view src, vkt_view dst, uint64_t n);

// dst (n floats) = src (n 16-bit values of type dt, packed as above, offset a multiple of
// 4 bytes), widened exactly. Writes exactly n floats.
vkt_status vkt_widen16(vkt_ctx *ctx, vkt_dtype16 dt, vkt_view src, vkt_view dst, uint64_t n);

#endif
