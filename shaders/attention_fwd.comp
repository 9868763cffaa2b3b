#version 450
// attention_fwd.comp: causal multi-head attention with grouped-query heads, forward.
// Reference: vkt_ref_attention_fwd (runtime/reference.h). Algorithm: FlashAttention-2
// (Dao 2023, arXiv 2307.08691, Algorithm 1): one workgroup per block of BR queries of
// one (batch, head); it walks the key blocks in order, keeping a running max and sum
// (online softmax), so no T x T score matrix ever exists. Saves lse = log sum exp(s).
//
// Layout (element offsets, all in floats):
//   q   (B, Tq, H, D):   q[q_off + b*q_bstride + t*q_stride + h*D + d]
//   k,v (B, Tk, KVH, D): k[k_off + b*k_bstride + j*k_stride + kvh*D + d]
//   out (B, Tq, H, D) rows H*D; lse (B, H, Tq) natural log.
// Query t sits at position q0 + t of the key sequence and sees keys j <= q0 + t
// (training: q0 = 0, Tq = Tk; KV-cached generation: Tq new queries after q0 cached keys).
// Query head h reads kv head h / (H / KVH).
//
// One invocation per query row: its q row and output accumulator live in registers
// (DV vec4s, D padded to a multiple of 4 with zeros); the key/value block is staged in
// shared memory once per workgroup and read by every row. Scores are kept in the log2
// domain (q pre-multiplied by scale*log2(e), exp2), the usual FlashAttention trick.
#include "vkt_common.glsl"
#include "attention_common.glsl"

layout(constant_id = 3) const uint BC = 32;  // keys per shared block
layout(constant_id = 4) const uint DV = 16;  // vec4s per head row: ceil(D / 4)

layout(push_constant) uniform Push {
    uint Tq, Tk, q0, H, KVH, D;
    uint q_stride, k_stride, v_stride;
    uint q_bstride, k_bstride, v_bstride;
    uint q_off, k_off, v_off, o_off, lse_off;
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
layout(std430, binding = 3) writeonly buffer O { float o[]; };
layout(std430, binding = 4) writeonly buffer L { float lse[]; };

#ifndef KV_TEXEL
shared vec4 ks[BC * DV];  // (BC, DV) keys of this block
shared vec4 vs[BC * DV];  // (BC, DV) values
#endif

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;

// Element d of a row starting at base, zero past D (so padded lanes add nothing).
vec4 load4_q(uint base, uint c) {
    vec4 r = vec4(0);
    [[unroll]] for (uint e = 0; e < 4; e++) {
        uint d = 4 * c + e;
        if (d < p.D) r[e] = q[base + d];
    }
    return r;
}

void main() {
    const uint BR = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint kvh = h / (p.H / p.KVH);
    uint i0 = gl_WorkGroupID.x * BR;
    uint i = i0 + lid;                 // query row in [0, Tq)
    bool live = i < p.Tq;
    uint qpos = p.q0 + min(i, p.Tq - 1);  // its position among the keys

    vec4 qr[DV], acc[DV];
    uint qbase = p.q_off + b * p.q_bstride + min(i, p.Tq - 1) * p.q_stride + h * p.D;
    float qscale = p.scale * LOG2E;
    [[unroll]] for (uint c = 0; c < DV; c++) {
        qr[c] = load4_q(qbase, c) * qscale;
        acc[c] = vec4(0);
    }
    float m = -1.0 / 0.0, l = 0.0;

    // Keys any row of this block can see: j < q0 + (last row of the block) + 1.
    uint kend = min(p.q0 + min(i0 + BR, p.Tq), p.Tk);
    uint kb = p.k_off + b * p.k_bstride + kvh * p.D;
    uint vb = p.v_off + b * p.v_bstride + kvh * p.D;
    for (uint j0 = 0; j0 < kend; j0 += BC) {
#ifndef KV_TEXEL
        barrier();  // the previous block is no longer read
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
        // Scores of this block; keys past qpos (causal) or past kend are masked.
        uint jn = min(min(BC, kend - j0), qpos - j0 + 1);
        // Four keys at a time: their scores in a vec4, one rescale of the accumulator
        // per four keys (a short unrolled body keeps pipeline compiles quick on CPUs).
        for (uint r0 = 0; r0 < jn; r0 += 4) {
            vec4 sv;
            [[unroll]] for (uint x = 0; x < 4; x++) {
                float d4 = 0.0;
                [[unroll]] for (uint c = 0; c < DV; c++) d4 += dot(qr[c], KEY(r0 + x, c));
                sv[x] = r0 + x < jn ? d4 : -1.0 / 0.0;
            }
            float mt = max(m, max(max(sv.x, sv.y), max(sv.z, sv.w)));
            float alpha = exp2(m - mt);  // m = -inf on the first keys: alpha = 0
            vec4 pv;
            [[unroll]] for (uint x = 0; x < 4; x++) pv[x] = r0 + x < jn ? exp2(sv[x] - mt) : 0.0;
            l = l * alpha + (pv.x + pv.y + pv.z + pv.w);
            [[unroll]] for (uint c = 0; c < DV; c++)
                acc[c] = acc[c] * alpha + pv.x * VAL(r0, c) + pv.y * VAL(r0 + 1, c) + pv.z * VAL(r0 + 2, c) +
                         pv.w * VAL(r0 + 3, c);
            m = mt;
        }
    }
    if (!live) return;
    float inv = 1.0 / l;
    uint ob = p.o_off + (b * p.Tq + i) * p.H * p.D + h * p.D;
    [[unroll]] for (uint c = 0; c < DV; c++) {
        [[unroll]] for (uint x = 0; x < 4; x++) {
            uint d = 4 * c + x;
            if (d < p.D) o[ob + d] = acc[c][x] * inv;
        }
    }
    lse[p.lse_off + (b * p.H + h) * p.Tq + i] = (m + log2(l)) * LN2;
}
