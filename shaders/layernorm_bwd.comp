#version 450
// layernorm_bwd.comp: din += for each row, and deterministic per-block partial sums of
// the parameter gradients (reduced by layernorm_bwd_reduce.comp in a fixed order).
//   layernorm: xhat = (x - mean) rstd, g = dout w,
//     din += rstd (g - mean_c(g) - xhat mean_c(g xhat)); dw partial += dout xhat; db += dout.
//   -DRMSNORM: din += rstd (dout w - x rstd^2 mean_c(dout w x)); dw partial += dout x rstd.
// References: vkt_ref_layernorm_bwd / vkt_ref_rmsnorm_bwd (runtime/reference.h); llm.c
// layernorm_backward (train_gpt2.c). Unlike llm.c's CUDA kernel there are no float
// atomics: row group g (a workgroup, or a subgroup with -DVKT_ROW_SUBGROUP) owns row
// block g (rows [g*rpb, (g+1)*rpb)) and writes its own partial row pw[g] (C), pb[g] (C).
// Lane t always handles columns t, t+lanes, ..., so each partial element is
// read-modified-written by one invocation, in row order.
// A dispatch covers rows [row0, row0+rows) of the whole tensor (binding splits); a block
// may straddle two dispatches, so a block's partial row is initialised at its first row
// and accumulated after.
#include "vkt_common.glsl"
#include "vkt_reduce.glsl"

layout(push_constant) uniform Push {
    uint rows;   // rows in this dispatch
    uint row0;   // global index of its first row
    uint C;
    uint rpb;    // rows per block
    uint blk0;   // first block of this dispatch (its partial row 0 in the pw/pb bindings)
    uint nblk;   // blocks in this dispatch
    uint dy_off, x_off, w_off, mean_off, rstd_off, dx_off, pw_off, pb_off;
} p;

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer Rstd { float rstd[]; };
layout(std430, binding = 4) buffer DX { float dx[]; };
layout(std430, binding = 5) buffer PW { float pw[]; };
#ifndef RMSNORM
layout(std430, binding = 6) readonly buffer Mean { float mean[]; };
layout(std430, binding = 7) buffer PB { float pb[]; };
#endif

void main() {
    const uint t = ROW_LANE, WG = ROW_LANES, C = p.C;
    for (uint g = ROW_FIRST; g < p.nblk; g += ROW_STEP) {
        const uint blk = p.blk0 + g;
        const uint lo = max(p.row0, blk * p.rpb), hi = min(p.row0 + p.rows, (blk + 1u) * p.rpb);
        const uint pbase = g * C;
        for (uint gr = lo; gr < hi; gr++) {
            const uint r = gr - p.row0, xb = p.x_off + r * C, yb = p.dy_off + r * C, db = p.dx_off + r * C;
            const bool first = gr == blk * p.rpb;
            const float rs = rstd[p.rstd_off + r];
#ifdef RMSNORM
            float s = 0.0;
            for (uint c = t; c < C; c += WG) s += dy[yb + c] * w[p.w_off + c] * x[xb + c];
            const float gxm = row_sum(s) / float(C);
            for (uint c = t; c < C; c += WG) {
                const float d = dy[yb + c], xv = x[xb + c];
                dx[db + c] += rs * (d * w[p.w_off + c] - xv * rs * rs * gxm);
                const float pwv = d * xv * rs;
                pw[p.pw_off + pbase + c] = first ? pwv : pw[p.pw_off + pbase + c] + pwv;
            }
#else
            const float mu = mean[p.mean_off + r];
            vec2 s = vec2(0.0);
            for (uint c = t; c < C; c += WG) {
                const float gv = dy[yb + c] * w[p.w_off + c];
                s += vec2(gv, gv * ((x[xb + c] - mu) * rs));
            }
            const vec2 m = row_sum2(s) / float(C);
            for (uint c = t; c < C; c += WG) {
                const float d = dy[yb + c], xhat = (x[xb + c] - mu) * rs, gv = d * w[p.w_off + c];
                dx[db + c] += rs * (gv - m.x - xhat * m.y);
                const uint pi = pbase + c;
                pw[p.pw_off + pi] = first ? d * xhat : pw[p.pw_off + pi] + d * xhat;
                pb[p.pb_off + pi] = first ? d : pb[p.pb_off + pi] + d;
            }
#endif
        }
    }
}
