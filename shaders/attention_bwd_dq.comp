#version 450
// attention_bwd_dq.comp: dq += scale * sum_j ds[i][j] k[j], one invocation per query row.
// Reference: vkt_ref_attention_bwd (runtime/reference.h). Algorithm: the dQ half of the
// FlashAttention-2 backward (Dao 2023, arXiv 2307.08691, Algorithm 2), split out so
// that every gradient element is summed by one invocation in a fixed order: no atomics,
// the same bits every run. attention_bwd_dkv.comp computes dk and dv the same way.
// Scores are recomputed from q, k and the forward's lse:
//   p = exp(s - lse), dp = dout . v, delta = dout . out (per row), ds = p (dp - delta).
// Layout as attention_fwd.comp; dq has q's layout (strides), dout and out (B, Tq, H, D).
#include "vkt_common.glsl"
#include "attention_common.glsl"

layout(constant_id = 3) const uint BC = 32;  // keys per shared block
layout(constant_id = 4) const uint DV = 16;  // vec4s per head row: ceil(D / 4)

layout(push_constant) uniform Push {
    uint Tq, Tk, q0, H, KVH, D;
    uint q_stride, k_stride, v_stride;
    uint q_bstride, k_bstride, v_bstride;
    uint q_off, k_off, v_off, do_off, o_off, lse_off, g_off, unused;
    float scale;
} p;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
#ifdef KV_TEXEL
layout(binding = 1) uniform samplerBuffer kt;
layout(binding = 2) uniform samplerBuffer vt;
#define KEY(r, c) texel4(kt, kb + min(j0 + (r), kend - 1) * p.k_stride, c, p.D)
#define VAL(r, c) texel4(vt, vb + min(j0 + (r), kend - 1) * p.v_stride, c, p.D)
#else
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
#define KEY(r, c) ks[(r) * DV + (c)]
#define VAL(r, c) vs[(r) * DV + (c)]
#endif
layout(std430, binding = 3) readonly buffer DO { float dout[]; };
layout(std430, binding = 4) readonly buffer O { float o[]; };
layout(std430, binding = 5) readonly buffer L { float lse[]; };
layout(std430, binding = 6) buffer DQ { float dq[]; };

#ifndef KV_TEXEL
shared vec4 ks[BC * DV];
shared vec4 vs[BC * DV];
#endif

const float LOG2E = 1.4426950408889634;

void main() {
    const uint BR = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint kvh = h / (p.H / p.KVH);
    uint i0 = gl_WorkGroupID.x * BR;
    uint i = i0 + lid;
    bool live = i < p.Tq;
    uint ic = min(i, p.Tq - 1);
    uint qpos = p.q0 + ic;

    // This row's q (pre-scaled into the log2 domain), dout, and delta = dout . out.
    vec4 qr[DV], dr[DV], acc[DV];
    uint qbase = p.q_off + b * p.q_bstride + ic * p.q_stride + h * p.D;
    uint obase = (b * p.Tq + ic) * p.H * p.D + h * p.D;
    float qscale = p.scale * LOG2E, delta = 0.0;
    [[unroll]] for (uint c = 0; c < DV; c++) {
        vec4 qq = vec4(0), dd = vec4(0);
        [[unroll]] for (uint x = 0; x < 4; x++) {
            uint d = 4 * c + x;
            if (d < p.D) {
                qq[x] = q[qbase + d];
                dd[x] = dout[p.do_off + obase + d];
                delta += dd[x] * o[p.o_off + obase + d];
            }
        }
        qr[c] = qq * qscale;
        dr[c] = dd;
        acc[c] = vec4(0);
    }
    float lse2 = lse[p.lse_off + (b * p.H + h) * p.Tq + ic] * LOG2E;

    uint kend = min(p.q0 + min(i0 + BR, p.Tq), p.Tk);
    uint kb = p.k_off + b * p.k_bstride + kvh * p.D;
    uint vb = p.v_off + b * p.v_bstride + kvh * p.D;
    for (uint j0 = 0; j0 < kend; j0 += BC) {
#ifndef KV_TEXEL
        barrier();
        for (uint e = lid; e < BC * DV; e += BR) {
            uint r = e / DV, c = e - r * DV, j = j0 + r;
            vec4 kk = vec4(0), vv = vec4(0);
            if (j < kend) {
                [[unroll]] for (uint x = 0; x < 4; x++) {
                    uint d = 4 * c + x;
                    if (d < p.D) {
                        kk[x] = k[kb + j * p.k_stride + d];
                        vv[x] = v[vb + j * p.v_stride + d];
                    }
                }
            }
            ks[e] = kk;
            vs[e] = vv;
        }
        barrier();
#endif
        if (!live || j0 > qpos) continue;
        uint jn = min(min(BC, kend - j0), qpos - j0 + 1);
        for (uint r = 0; r < jn; r++) {
            float s = 0.0, dp = 0.0;
            [[unroll]] for (uint c = 0; c < DV; c++) {
                vec4 kk = KEY(r, c);
                s += dot(qr[c], kk);
                dp += dot(dr[c], VAL(r, c));
            }
            float ds = exp2(s - lse2) * (dp - delta);
            [[unroll]] for (uint c = 0; c < DV; c++) acc[c] += ds * KEY(r, c);
        }
    }
    if (!live) return;
    [[unroll]] for (uint c = 0; c < DV; c++) {
        [[unroll]] for (uint x = 0; x < 4; x++) {
            uint d = 4 * c + x;
            if (d < p.D) dq[p.g_off + b * p.q_bstride + i * p.q_stride + h * p.D + d] += p.scale * acc[c][x];
        }
    }
}
