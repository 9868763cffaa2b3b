#version 450
// attention_bwd_dq_gpu.comp: dq += scale * sum_j ds[i][j] k[j], for GPUs.
// Same contract and layout as attention_bwd_dq.comp (see there); reference:
// vkt_ref_attention_bwd (runtime/reference.h). Algorithm: the dQ half of the
// FlashAttention-2 backward (Dao 2023, arXiv 2307.08691, Algorithm 2); scores recomputed
// from q, k and lse: p = exp(s - lse), dp = dout . v, delta = dout . out, ds = p (dp - delta).
// G lanes share a query row (attention_gpu.glsl): each holds DL elements of q, dout and
// the dq accumulator; s and dp are reduced across the lanes in a fixed order, and each
// dq element is summed by one lane over the keys in order: deterministic, no atomics.
// Blocks of BC keys and values are staged in shared memory, rows padded to DP.
#include "vkt_common.glsl"
#include "attention_gpu.glsl"

layout(constant_id = 3) const uint BC = 32;  // keys per shared block

layout(push_constant) uniform Push {
    uint Tq, Tk, q0, H, KVH, D;
    uint q_stride, k_stride, v_stride;
    uint q_bstride, k_bstride, v_bstride;
    uint q_off, k_off, v_off, do_off, o_off, lse_off, g_off, unused;
    float scale;
} p;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer DO { float dout[]; };
layout(std430, binding = 4) readonly buffer O { float o[]; };
layout(std430, binding = 5) readonly buffer L { float lse[]; };
layout(std430, binding = 6) buffer DQ { float dq[]; };

shared float ks[BC * DP];
shared float vs[BC * DP];

const float LOG2E = 1.4426950408889634;

// Element c of staged rows r0 .. r0+3 of the keys (key) or the values.
vec4 col4(uint r0, uint c, bool key) {
    uint a = r0 * DP + c;
    return key ? vec4(ks[a], ks[a + DP], ks[a + 2 * DP], ks[a + 3 * DP])
               : vec4(vs[a], vs[a + DP], vs[a + 2 * DP], vs[a + 3 * DP]);
}

void main() {
    uint me = att_flat();
    uint row = me / G, lane = me % G;
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint kvh = h / (p.H / p.KVH);
    uint i0 = gl_WorkGroupID.x * NR;
    uint i = i0 + row;
    bool live = i < p.Tq;
    uint ic = min(i, p.Tq - 1);
    uint qpos = p.q0 + ic;

    // This row's q (pre-scaled into the log2 domain), dout, and delta = dout . out.
    float qr[DL], dr[DL], acc[DL];
    uint qbase = p.q_off + b * p.q_bstride + ic * p.q_stride + h * p.D;
    uint obase = (b * p.Tq + ic) * p.H * p.D + h * p.D;
    float qscale = p.scale * LOG2E, dpart = 0.0;
    [[unroll]] for (uint e = 0; e < DL; e++) {
        uint d = lane + G * e;
        qr[e] = d < p.D ? q[qbase + d] * qscale : 0.0;
        dr[e] = d < p.D ? dout[p.do_off + obase + d] : 0.0;
        dpart += d < p.D ? dr[e] * o[p.o_off + obase + d] : 0.0;
        acc[e] = 0.0;
    }
    float delta = att_reduce(me, vec4(dpart, 0, 0, 0)).x;
    float lse2 = lse[p.lse_off + (b * p.H + h) * p.Tq + ic] * LOG2E;

    uint kend = min(p.q0 + min(i0 + NR, p.Tq), p.Tk);
    uint kb = p.k_off + b * p.k_bstride + kvh * p.D;
    uint vb = p.v_off + b * p.v_bstride + kvh * p.D;
    for (uint j0 = 0; j0 < kend; j0 += BC) {
        barrier();
        for (uint x = me; x < BC * G * DL; x += WG) {
            uint r = x / (G * DL), d = x - r * (G * DL), j = j0 + r;
            bool in_ = j < kend && d < p.D;
            ks[r * DP + d] = in_ ? k[kb + j * p.k_stride + d] : 0.0;
            vs[r * DP + d] = in_ ? v[vb + j * p.v_stride + d] : 0.0;
        }
        barrier();
        uint jn = min(BC, kend - j0);  // workgroup-wide; rows mask their own keys
        for (uint r0 = 0; r0 < jn; r0 += 4) {
            vec4 s = vec4(0), dp = vec4(0);
            [[unroll]] for (uint e = 0; e < DL; e++) {
                uint c = lane + G * e;
                s += qr[e] * col4(r0, c, true);
                dp += dr[e] * col4(r0, c, false);
            }
            att_reduce2(me, s, dp);
            vec4 ds;
            [[unroll]] for (uint x = 0; x < 4; x++) {
                bool vis = r0 + x < jn && j0 + r0 + x <= qpos;
                ds[x] = vis ? exp2(s[x] - lse2) * (dp[x] - delta) : 0.0;
            }
            [[unroll]] for (uint e = 0; e < DL; e++)
                acc[e] += dot(ds, col4(r0, lane + G * e, true));
        }
    }
    if (!live) return;
    [[unroll]] for (uint e = 0; e < DL; e++) {
        uint d = lane + G * e;
        uint at = p.g_off + b * p.q_bstride + i * p.q_stride + h * p.D + d;
        if (d < p.D) dq[at] += p.scale * acc[e];
    }
}
