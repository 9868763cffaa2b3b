// op_norm.h: layernorm and rmsnorm over rows of C (any C: rows longer than one
// workgroup's reach are strided over), forward and backward. Shapes and conventions are
// those of vkt_ref_layernorm_* / vkt_ref_rmsnorm_* in reference.h: row-major, backward
// ACCUMULATES (+=) into din, dw, db.
//
// The parameter gradients are deterministic (same bits every run, no float atomics):
// the backward writes per-row-block partial sums into a caller-provided scratch view
// and reduces them in a fixed order. Blocks depend only on N, so the scratch size is a
// pure function of the shape.
#ifndef VKT_OP_NORM_H
#define VKT_OP_NORM_H

#include "buffer.h"

// in (N, C), w (C), b (C) -> out (N, C), mean (N), rstd (N). out may alias in.
vkt_status vkt_layernorm_fwd(vkt_ctx *ctx, int N, int C, float eps, vkt_view in, vkt_view w,
                             vkt_view b, vkt_view out, vkt_view mean, vkt_view rstd);
// Bytes of scratch vkt_layernorm_bwd needs (0 for a bad shape).
uint64_t vkt_layernorm_bwd_scratch_bytes(int N, int C);
// din (N, C) +=, dw (C) +=, db (C) +=; scratch >= vkt_layernorm_bwd_scratch_bytes(N, C),
// contents ignored and overwritten. din must not alias the inputs.
vkt_status vkt_layernorm_bwd(vkt_ctx *ctx, int N, int C, vkt_view dout, vkt_view in, vkt_view w,
                             vkt_view mean, vkt_view rstd, vkt_view din, vkt_view dw, vkt_view db,
                             vkt_view scratch);

// rmsnorm (Hugging Face LlamaRMSNorm): in (N, C), w (C) -> out (N, C), rstd (N).
// out may alias in.
vkt_status vkt_rmsnorm_fwd(vkt_ctx *ctx, int N, int C, float eps, vkt_view in, vkt_view w,
                           vkt_view out, vkt_view rstd);
uint64_t vkt_rmsnorm_bwd_scratch_bytes(int N, int C);
// din (N, C) +=, dw (C) +=.
vkt_status vkt_rmsnorm_bwd(vkt_ctx *ctx, int N, int C, vkt_view dout, vkt_view in, vkt_view w,
                           vkt_view rstd, vkt_view din, vkt_view dw, vkt_view scratch);

#endif
