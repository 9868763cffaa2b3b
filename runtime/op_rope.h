// op_rope.h: rotary position embedding on the GPU (shaders/rope.comp), Hugging Face
// convention (rotate_half, NOT interleaved), in place. Same contract as
// vkt_ref_rope_fwd/bwd (reference.h): x (B, T, H, D) with row stride row_stride >= H*D
// (q or k inside a fused qkv buffer), D even, pos (B*T) int32 positions on the device,
// inv_freq[i] = theta^(-2i/D). The backward rotates dx by -a in place (it maps the
// gradient of the output to the gradient of the input; it does not accumulate).
// Angles are built in float-float arithmetic: ~1e-6 from the double reference at any
// position (D <= 256).
#ifndef VKT_OP_ROPE_H
#define VKT_OP_ROPE_H

#include "buffer.h"

vkt_status vkt_rope_fwd(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                        float theta, vkt_view x);
vkt_status vkt_rope_bwd(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                        float theta, vkt_view dx);

// The same with a frequency table instead of theta (scaled RoPE: rope_freq.h): freq holds
// D/2 (hi, lo) float pairs, (float)inv_freq[i] and the rest, from vkt_rope_freq_pack.
// Upload it once per model. Same contract as vkt_ref_rope_fwd_freq/bwd_freq.
vkt_status vkt_rope_fwd_freq(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                             vkt_view freq, vkt_view x);
vkt_status vkt_rope_bwd_freq(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                             vkt_view freq, vkt_view dx);

#endif
