#version 450
// attention_decode.comp: the KV-cached forward for a few queries (decoding: Tq small).
// Same contract, layouts and push constants as attention_fwd.comp (read it first), but
// one workgroup per query row (t, h, b) with the keys split across its invocations:
// invocation lid takes keys j = j0 + x*WG + lid (x = 0..3 per step), keeps its own
// online-softmax state (max m, sum l, accumulator acc over D), and the workgroup then
// combines the WG partial states in a fixed order through shared memory (the same bits
// every run). The old kernel walks every key on one live lane per workgroup.
// Groups: (Tq, H, batches of this dispatch).
#include "vkt_common.glsl"
#include "attention_common.glsl"

layout(constant_id = 4) const uint DV = 16;  // vec4s per head row: ceil(D / 4)
const uint CH = 64;                          // output columns combined per round

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
#define KEY(j, c) texel4(kt, kb + (j) * p.k_stride, c, p.D)
#define VAL(j, c) texel4(vt, vb + (j) * p.v_stride, c, p.D)
#else
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
#define KEY(j, c) load4_kv(true, kb + (j) * p.k_stride, c)
#define VAL(j, c) load4_kv(false, vb + (j) * p.v_stride, c)
#endif
layout(std430, binding = 3) writeonly buffer O { float o[]; };
layout(std430, binding = 4) writeonly buffer L { float lse[]; };

shared float red[gl_WorkGroupSize.x * CH];  // (WG, CH) partial outputs of one round
shared float sm[gl_WorkGroupSize.x];        // per-invocation max (log2 domain)
shared float sl[gl_WorkGroupSize.x];        // per-invocation sum of exp2

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;

vec4 load4_q(uint base, uint c) {
    vec4 r = vec4(0);
    [[unroll]] for (uint e = 0; e < 4; e++) {
        uint d = 4 * c + e;
        if (d < p.D) r[e] = q[base + d];
    }
    return r;
}

#ifndef KV_TEXEL
vec4 load4_kv(bool key, uint base, uint c) {
    vec4 r = vec4(0);
    [[unroll]] for (uint e = 0; e < 4; e++) {
        uint d = 4 * c + e;
        if (d < p.D) r[e] = key ? k[base + d] : v[base + d];
    }
    return r;
}
#endif

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint t = gl_WorkGroupID.x, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    uint kvh = h / (p.H / p.KVH);
    uint kend = min(p.q0 + t + 1, p.Tk);  // causal: keys 0 .. q0 + t

    vec4 qr[DV], acc[DV];
    uint qbase = p.q_off + b * p.q_bstride + t * p.q_stride + h * p.D;
    float qscale = p.scale * LOG2E;  // scores in the log2 domain (exp2)
    [[unroll]] for (uint c = 0; c < DV; c++) {
        qr[c] = load4_q(qbase, c) * qscale;
        acc[c] = vec4(0);
    }
    float m = -1.0 / 0.0, l = 0.0;
    uint kb = p.k_off + b * p.k_bstride + kvh * p.D;
    uint vb = p.v_off + b * p.v_bstride + kvh * p.D;
    // Four keys per step (one rescale per four); keys past kend are masked and read key
    // kend - 1 instead (in bounds).
    for (uint j0 = 0; j0 < kend; j0 += 4 * WG) {
        uvec4 jj = uvec4(j0 + lid) + uvec4(0, WG, 2 * WG, 3 * WG);
        bvec4 ok = lessThan(jj, uvec4(kend));
        jj = min(jj, uvec4(kend - 1));
        vec4 sv;
        [[unroll]] for (uint x = 0; x < 4; x++) {
            float d4 = 0.0;
            [[unroll]] for (uint c = 0; c < DV; c++) d4 += dot(qr[c], KEY(jj[x], c));
            sv[x] = ok[x] ? d4 : -1.0 / 0.0;
        }
        float mt = max(m, max(max(sv.x, sv.y), max(sv.z, sv.w)));
        if (mt == -1.0 / 0.0) continue;  // no live key in this step for this invocation
        float alpha = exp2(m - mt);
        vec4 pv;
        [[unroll]] for (uint x = 0; x < 4; x++) pv[x] = ok[x] ? exp2(sv[x] - mt) : 0.0;
        l = l * alpha + (pv.x + pv.y + pv.z + pv.w);
        [[unroll]] for (uint c = 0; c < DV; c++)
            acc[c] = acc[c] * alpha + pv.x * VAL(jj.x, c) + pv.y * VAL(jj.y, c) + pv.z * VAL(jj.z, c) +
                     pv.w * VAL(jj.w, c);
        m = mt;
    }

    // Combine: the workgroup max M, then each partial rescaled by exp2(m - M) and summed
    // over the invocations in index order (by every invocation for l, by column for acc).
    sm[lid] = m;
    barrier();
    float M = -1.0 / 0.0;
    for (uint i = 0; i < WG; i++) M = max(M, sm[i]);  // key 0 is always live: M finite
    float f = m == -1.0 / 0.0 ? 0.0 : exp2(m - M);
    sl[lid] = l * f;
    uint ob = p.o_off + (b * p.Tq + t) * p.H * p.D + h * p.D;
    [[unroll]] for (uint c0 = 0; c0 < DV; c0 += CH / 4) {
        [[unroll]] for (uint c = c0; c < min(c0 + CH / 4, DV); c++) {
            [[unroll]] for (uint x = 0; x < 4; x++) red[lid * CH + 4 * (c - c0) + x] = acc[c][x] * f;
        }
        barrier();
        float lt = 0.0;
        for (uint i = 0; i < WG; i++) lt += sl[i];
        for (uint col = lid; col < CH; col += WG) {
            uint d = 4 * c0 + col;
            if (d >= p.D) continue;
            float s = 0.0;
            for (uint i = 0; i < WG; i++) s += red[i * CH + col];
            o[ob + d] = s / lt;
        }
        if (c0 == 0 && lid == 0) lse[p.lse_off + (b * p.H + h) * p.Tq + t] = (M + log2(lt)) * LN2;
        barrier();  // red is rewritten by the next round
    }
}
