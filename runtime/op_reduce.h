// op_reduce.h: deterministic sums over float views of any length: the global gradient
// norm with its clip factor (computed on the device, so AdamW can consume it without a
// host round trip) and the plain sum (the loss sum, for a mean loss without downloading
// N floats). Shader: shaders/sum_squares.comp.
//
// How: pass 1 splits the input into binding-sized ranges; each workgroup accumulates a
// fixed, strided subset of its range (fp32 TwoSum per thread, the exact error of every
// square kept) and combines its threads in a fixed tree into one (hi, lo) float-float
// pair in `scratch`; later passes reduce the pairs the same way until one group is left,
// which writes `out`. The plan depends only on n and the device profile, so a result is
// bit-identical across runs on one device. The sum's error is ~1e-12 relative (about
// what a double accumulator gives), not fp32's ~1e-7.
#ifndef VKT_OP_REDUCE_H
#define VKT_OP_REDUCE_H

#include "buffer.h"

// Result layout in `out` (floats): the sum as hi + lo (read both; hi alone is the sum
// rounded to float), then for sum-of-squares calls the norm and the clip factor.
enum { VKT_REDUCE_HI = 0, VKT_REDUCE_LO = 1, VKT_REDUCE_NORM = 2, VKT_REDUCE_CLIP = 3 };

// Bytes of scratch a reduction of n floats needs on this device (0 when one workgroup
// suffices; a scratch view may then be empty). Scratch is overwritten.
uint64_t vkt_reduce_scratch_bytes(const vkt_ctx *ctx, uint64_t n);

// out[0..1] = sum x[i] over n floats (hi, lo). out: >= 2 floats.
vkt_status vkt_sum(vkt_ctx *ctx, vkt_view x, uint64_t n, vkt_view scratch, vkt_view out);

// out[0..1] = sum g[i]^2; out[2] = sqrt of it (the global gradient norm, fp32);
// out[3] = min(1, max_norm / (norm + 1e-6)) as torch.nn.utils.clip_grad_norm_, or 1
// when max_norm <= 0 (no clipping). out: >= 4 floats. To clip, pass
// vkt_view_f32(out, VKT_REDUCE_CLIP, 1) to vkt_adamw as its device grad_scale.
// Several tensors: keep them in one buffer (the trainer does) and call once over it.
vkt_status vkt_grad_norm(vkt_ctx *ctx, vkt_view g, uint64_t n, float max_norm, vkt_view scratch,
                         vkt_view out);

// Downloads a result written by vkt_sum / vkt_grad_norm (waits for the device):
// *sum = hi + lo in double; norm and clip (either may be NULL) as written by
// vkt_grad_norm (pass NULL for both after vkt_sum).
vkt_status vkt_reduce_read(vkt_ctx *ctx, vkt_view out, double *sum, float *norm, float *clip);

#endif
