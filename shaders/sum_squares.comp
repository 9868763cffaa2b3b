#version 450
// sum_squares.comp: one pass of a deterministic two-level (or more) reduction.
//   mode 0: partial sums of x^2 over n floats (global gradient norm);
//   mode 1: partial sums of x over n floats (the loss sum);
//   mode 2: partial sums of (hi, lo) pairs written by an earlier pass.
// Each workgroup writes one (hi, lo) pair, its sum as an unevaluated float-float
// (hi + lo), at out[out_off + 2 * group]. The last pass (one group) writes out[0..1] =
// hi, lo and, with flags & 1 (squares), out[2..3] = norm = sqrt(hi + lo) and clip =
// min(1, max_norm / (norm + 1e-6)) (torch.nn.utils.clip_grad_norm_; 1 when
// max_norm <= 0), which AdamW can read as its device grad_scale.
// Reference: vkt_ref_sum_squares / vkt_ref_grad_norm / vkt_ref_clip_factor.
// Accuracy: each thread accumulates with TwoSum (Knuth) and keeps the exact rounding
// error of every square (Dekker's product), the workgroup combines pairs in a fixed tree: the
// result carries ~44 bits, close to the reference's double sum. Determinism: the
// element -> thread -> group assignment depends only on n, the view's alignment and the
// launch shape. A 16-byte aligned input is read as vec4s (4x fewer loads: lavapipe
// scalarises storage loads), the tail and unaligned inputs as floats.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint n;        // elements (floats, or pairs in mode 2) in this dispatch
    uint in_off;   // float offset of the input inside its binding
    uint out_off;  // float offset of the output inside its binding
    uint mode;
    uint flags;    // bit 0: also write norm and clip (last pass of a sum of squares)
    float max_norm;
} p;

layout(std430, binding = 0) readonly buffer In { float xin[]; };
layout(std430, binding = 0) readonly buffer In4 { vec4 xin4[]; }; // the same binding as vec4s
layout(std430, binding = 1) buffer Out { float xout[]; };

shared float sh_hi[gl_WorkGroupSize.x];
shared float sh_lo[gl_WorkGroupSize.x];

// (hi, lo) += (b_hi, b_lo): TwoSum of the high parts, low parts added, renormalised.
void acc2(inout float hi, inout float lo, float b_hi, float b_lo) {
    precise float s = hi + b_hi;
    precise float bb = s - hi;
    precise float e = (hi - (s - bb)) + (b_hi - bb);
    precise float l = lo + b_lo + e;
    precise float h2 = s + l;
    precise float l2 = l - (h2 - s);
    lo = l2;
    hi = h2;
}

// v*v = sq + err exactly (Dekker 1971: Veltkamp split into 12-bit halves). Not fma:
// GLSL.std.450 Fma may round twice (lavapipe does), so it cannot give the exact error.
// |v| < 1e34 (4097 v must not overflow).
void square2(float v, out float sq, out float err) {
    precise float c = 4097.0 * v;
    precise float vh = c - (c - v);
    precise float vl = v - vh;
    precise float s = v * v;
    precise float e = ((vh * vh - s) + 2.0 * vh * vl) + vl * vl;
    sq = s;
    err = e;
}

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    uint stride = gl_NumWorkGroups.x * WG;
    float hi = 0.0, lo = 0.0;
    if (p.mode == 0u && (p.in_off & 3u) == 0u) {
        uint n4 = p.n / 4u;
        for (uint i = gl_GlobalInvocationID.x; i < n4; i += stride) {
            vec4 v = xin4[p.in_off / 4u + i];
            float sq, sq_err;
            square2(v.x, sq, sq_err); acc2(hi, lo, sq, sq_err);
            square2(v.y, sq, sq_err); acc2(hi, lo, sq, sq_err);
            square2(v.z, sq, sq_err); acc2(hi, lo, sq, sq_err);
            square2(v.w, sq, sq_err); acc2(hi, lo, sq, sq_err);
        }
        for (uint i = 4u * n4 + gl_GlobalInvocationID.x; i < p.n; i += stride) {
            float sq, sq_err;
            square2(xin[p.in_off + i], sq, sq_err); acc2(hi, lo, sq, sq_err);
        }
    } else if (p.mode == 0u) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
            float v = xin[p.in_off + i];
            float sq, sq_err;
            square2(v, sq, sq_err);
            acc2(hi, lo, sq, sq_err);
        }
    } else if (p.mode == 1u && (p.in_off & 3u) == 0u) {
        uint n4 = p.n / 4u;
        for (uint i = gl_GlobalInvocationID.x; i < n4; i += stride) {
            vec4 v = xin4[p.in_off / 4u + i];
            acc2(hi, lo, v.x, 0.0); acc2(hi, lo, v.y, 0.0); acc2(hi, lo, v.z, 0.0); acc2(hi, lo, v.w, 0.0);
        }
        for (uint i = 4u * n4 + gl_GlobalInvocationID.x; i < p.n; i += stride) acc2(hi, lo, xin[p.in_off + i], 0.0);
    } else if (p.mode == 1u) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) acc2(hi, lo, xin[p.in_off + i], 0.0);
    } else {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
            acc2(hi, lo, xin[p.in_off + 2u * i], xin[p.in_off + 2u * i + 1u]);
    }
    sh_hi[tid] = hi;
    sh_lo[tid] = lo;
    barrier();
    for (uint k = WG / 2u; k > 0u; k >>= 1u) {
        if (tid < k) {
            float h = sh_hi[tid], l = sh_lo[tid];
            acc2(h, l, sh_hi[tid + k], sh_lo[tid + k]);
            sh_hi[tid] = h;
            sh_lo[tid] = l;
        }
        barrier();
    }
    if (tid != 0u) return;
    uint o = p.out_off + 2u * gl_WorkGroupID.x;
    xout[o] = sh_hi[0];
    xout[o + 1u] = sh_lo[0];
    if ((p.flags & 1u) != 0u) {
        // A NaN or infinite gradient must show in the norm: max() would turn NaN into 0 and a
        // diverged step would pass for a tiny one.
        float ss = sh_hi[0] + sh_lo[0];
        float norm = (isnan(ss) || isinf(ss)) ? ss : sqrt(max(ss, 0.0));
        xout[o + 2u] = norm;
        xout[o + 3u] = p.max_norm > 0.0 ? min(1.0, p.max_norm / (norm + 1e-6)) : 1.0;
    }
}
