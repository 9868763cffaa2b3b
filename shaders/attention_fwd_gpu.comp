#version 450
// attention_fwd_gpu.comp: causal multi-head attention with grouped-query heads, forward,
// for GPUs. Same contract, layout and outputs as attention_fwd.comp (see there):
//   out = softmax(scale q k^T, causal) v per (batch, head), lse = log sum exp(s).
// Reference: vkt_ref_attention_fwd (runtime/reference.h). Algorithm: FlashAttention-2
// (Dao 2023, arXiv 2307.08691, Algorithm 1): one workgroup per block of NR query rows of
// one (batch, head); it walks the key blocks in order with a running max and sum
// (online softmax, log2 domain: q pre-multiplied by scale*log2(e), exp2).
//
// Unlike attention_fwd.comp (one row per invocation, D floats of q and of the output in
// registers, which spills at D = 64), G lanes share a row (attention_gpu.glsl): each
// holds DL = D / G elements of q and of the accumulator; q . k is reduced across the
// lanes. Blocks of BC keys and values are staged in shared memory, rows padded to DP.
#include "vkt_common.glsl"
#include "attention_gpu.glsl"

layout(constant_id = 3) const uint BC = 32;  // keys per shared block

layout(push_constant) uniform Push {
    uint Tq, Tk, q0, H, KVH, D;
    uint q_stride, k_stride, v_stride;
    uint q_bstride, k_bstride, v_bstride;
    uint q_off, k_off, v_off, o_off, lse_off;
    float scale;
} p;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) writeonly buffer O { float o[]; };
layout(std430, binding = 4) writeonly buffer L { float lse[]; };

shared float ks[BC * DP];  // (BC, DP) keys of this block, zero past D and past kend
shared float vs[BC * DP];  // (BC, DP) values

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;

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

    float qr[DL], acc[DL];
    uint qbase = p.q_off + b * p.q_bstride + ic * p.q_stride + h * p.D;
    float qscale = p.scale * LOG2E;
    [[unroll]] for (uint e = 0; e < DL; e++) {
        uint d = lane + G * e;
        qr[e] = d < p.D ? q[qbase + d] * qscale : 0.0;
        acc[e] = 0.0;
    }
    float m = -1.0 / 0.0, l = 0.0;

    uint kend = min(p.q0 + min(i0 + NR, p.Tq), p.Tk);
    uint kb = p.k_off + b * p.k_bstride + kvh * p.D;
    uint vb = p.v_off + b * p.v_bstride + kvh * p.D;
    for (uint j0 = 0; j0 < kend; j0 += BC) {
        barrier();  // the previous block is no longer read
        for (uint x = me; x < BC * G * DL; x += WG) {
            uint r = x / (G * DL), d = x - r * (G * DL), j = j0 + r;
            bool in_ = j < kend && d < p.D;
            ks[r * DP + d] = in_ ? k[kb + j * p.k_stride + d] : 0.0;
            vs[r * DP + d] = in_ ? v[vb + j * p.v_stride + d] : 0.0;
        }
        barrier();
        // Workgroup-wide bound (the reductions need uniform control flow); each row masks
        // keys past its own position.
        uint jn = min(BC, kend - j0);
        for (uint r0 = 0; r0 < jn; r0 += 4) {
            vec4 sv = vec4(0);
            [[unroll]] for (uint e = 0; e < DL; e++) {
                uint c = lane + G * e;
                sv += qr[e] * vec4(ks[r0 * DP + c], ks[(r0 + 1) * DP + c], ks[(r0 + 2) * DP + c],
                                   ks[(r0 + 3) * DP + c]);
            }
            sv = att_reduce(me, sv);
            [[unroll]] for (uint x = 0; x < 4; x++)
                if (r0 + x >= jn || j0 + r0 + x > qpos) sv[x] = -1.0 / 0.0;
            float mt = max(m, max(max(sv.x, sv.y), max(sv.z, sv.w)));
            if (mt == -1.0 / 0.0) continue;  // nothing visible yet (this row starts later)
            float alpha = exp2(m - mt);      // m = -inf on the first keys: alpha = 0
            vec4 pv = exp2(sv - mt);         // masked keys: exp2(-inf) = 0
            l = l * alpha + (pv.x + pv.y + pv.z + pv.w);
            [[unroll]] for (uint e = 0; e < DL; e++) {
                uint c = lane + G * e;
                acc[e] = acc[e] * alpha + pv.x * vs[r0 * DP + c] + pv.y * vs[(r0 + 1) * DP + c] +
                         pv.z * vs[(r0 + 2) * DP + c] + pv.w * vs[(r0 + 3) * DP + c];
            }
            m = mt;
        }
    }
    if (!live) return;
    float inv = 1.0 / l;
    uint ob = p.o_off + (b * p.Tq + i) * p.H * p.D + h * p.D;
    [[unroll]] for (uint e = 0; e < DL; e++) {
        uint d = lane + G * e;
        if (d < p.D) o[ob + d] = acc[e] * inv;
    }
    if (lane == 0) lse[p.lse_off + (b * p.H + h) * p.Tq + i] = (m + log2(l)) * LN2;
}
