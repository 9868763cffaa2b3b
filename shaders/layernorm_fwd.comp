#version 450
// layernorm_fwd.comp: row normalisation, a workgroup or subgroup per row of C (any C: each
// invocation strides over the row), rows looped when there are more than groups.
//   layernorm (default): out = (x - mean) * rstd * w + b, saves mean (N), rstd (N);
//     two passes over the row (mean, then centred variance: no E[x^2]-E[x]^2 cancellation).
//   -DRMSNORM (Hugging Face LlamaRMSNorm): out = x * rstd * w, rstd = 1/sqrt(mean(x^2)+eps).
// References: vkt_ref_layernorm_fwd / vkt_ref_rmsnorm_fwd (runtime/reference.h);
// llm.c layernorm_forward (train_gpt2.c, dev/cuda/layernorm_forward.cu). A row is one
// workgroup, or one subgroup with -DVKT_ROW_SUBGROUP (vkt_reduce.glsl).
// Shapes: in (rows, C), w (C), b (C), out (rows, C); out may alias in (every element is
// read by the invocation that writes it, after the reductions).
#include "vkt_common.glsl"
#include "vkt_reduce.glsl"

layout(push_constant) uniform Push {
    uint rows;   // rows in this dispatch
    uint C;
    float eps;
    uint x_off, w_off, b_off, y_off, mean_off, rstd_off; // float offsets in their bindings
} p;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
#ifdef RMSNORM
layout(std430, binding = 2) buffer Y { float y[]; };
layout(std430, binding = 3) writeonly buffer Rstd { float rstd[]; };
#else
layout(std430, binding = 2) readonly buffer Bb { float b[]; };
layout(std430, binding = 3) buffer Y { float y[]; };
layout(std430, binding = 4) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 5) writeonly buffer Rstd { float rstd[]; };
#endif

void main() {
    const uint t = ROW_LANE, WG = ROW_LANES, C = p.C;
    for (uint row = ROW_FIRST; row < p.rows; row += ROW_STEP) {
        const uint xb = p.x_off + row * C, yb = p.y_off + row * C;
#ifdef RMSNORM
        float ss = 0.0;
        for (uint c = t; c < C; c += WG) ss += x[xb + c] * x[xb + c];
        const float rs = 1.0 / sqrt(row_sum(ss) / float(C) + p.eps);
        for (uint c = t; c < C; c += WG) y[yb + c] = x[xb + c] * rs * w[p.w_off + c];
#else
        float s = 0.0;
        for (uint c = t; c < C; c += WG) s += x[xb + c];
        const float mu = row_sum(s) / float(C);
        float v = 0.0;
        for (uint c = t; c < C; c += WG) {
            float d = x[xb + c] - mu;
            v += d * d;
        }
        const float rs = 1.0 / sqrt(row_sum(v) / float(C) + p.eps);
        for (uint c = t; c < C; c += WG)
            y[yb + c] = (x[xb + c] - mu) * rs * w[p.w_off + c] + b[p.b_off + c];
        if (t == 0u) mean[p.mean_off + row] = mu;
#endif
        if (t == 0u) rstd[p.rstd_off + row] = rs;
    }
}
