#version 450
// attention_bwd_dkv.comp: dk += scale * sum_i ds[i][j] q[i], dv += sum_i p[i][j] dout[i],
// one invocation per key row j of one (batch, kv head).
// Reference: vkt_ref_attention_bwd (runtime/reference.h). Algorithm: the dK/dV half of
// the FlashAttention-2 backward (Dao 2023, arXiv 2307.08691, Algorithm 2): a workgroup
// owns a block of BK keys and walks, in a fixed order, every query head that reads its
// kv head (grouped-query attention) and every query block that can see it (causal:
// q0 + i >= j). Each gradient element is summed by one invocation: deterministic, no
// atomics. Scores are recomputed from q, k and lse; delta = dout . out per query row.
// Layout as attention_fwd.comp; dk and dv have k's and v's layouts.
#include "vkt_common.glsl"
#include "attention_common.glsl"

layout(constant_id = 3) const uint BQ = 16;  // queries per shared block
layout(constant_id = 4) const uint DV = 16;  // vec4s per head row: ceil(D / 4)

layout(push_constant) uniform Push {
    uint Tq, Tk, q0, H, KVH, D;
    uint q_stride, k_stride, v_stride;
    uint q_bstride, k_bstride, v_bstride;
    uint q_off, k_off, v_off, do_off, o_off, lse_off, dk_off, dv_off;
    float scale;
} p;

#ifdef KV_TEXEL
layout(binding = 0) uniform samplerBuffer qt;
layout(binding = 3) uniform samplerBuffer dot_;
#define QROW(r, c) (texel4(qt, p.q_off + b * p.q_bstride + min(i0 + (r), p.Tq - 1) * p.q_stride + h * p.D, c, p.D) * qscale)
#define DOROW(r, c) texel4(dot_, p.do_off + (b * p.Tq + min(i0 + (r), p.Tq - 1)) * p.H * p.D + h * p.D, c, p.D)
#else
layout(std430, binding = 0) readonly buffer Q { float q[]; };
#define QROW(r, c) qs[(r) * DV + (c)]
#define DOROW(r, c) dos[(r) * DV + (c)]
#endif
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
#ifndef KV_TEXEL
layout(std430, binding = 3) readonly buffer DO { float dout[]; };
#endif
layout(std430, binding = 4) readonly buffer O { float o[]; };
layout(std430, binding = 5) readonly buffer L { float lse[]; };
layout(std430, binding = 6) buffer DK { float dk[]; };
layout(std430, binding = 7) buffer DVb { float dv[]; };

#ifndef KV_TEXEL
shared vec4 qs[BQ * DV];   // (BQ, DV) queries, pre-scaled into the log2 domain
shared vec4 dos[BQ * DV];  // (BQ, DV) dout rows
#endif
shared float ls[BQ];       // lse * log2(e)
shared float dl[BQ];       // delta = dout . out

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;

void main() {
    const uint BK = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.z, kvh = gl_WorkGroupID.y;
    uint group = p.H / p.KVH;
    uint j0 = gl_WorkGroupID.x * BK;
    uint j = j0 + lid;
    bool live = j < p.Tk;
    uint jc = min(j, p.Tk - 1);

    vec4 kr[DV], vr[DV], dka[DV], dva[DV];
    uint kbase = b * p.k_bstride + jc * p.k_stride + kvh * p.D;
    uint vbase = b * p.v_bstride + jc * p.v_stride + kvh * p.D;
    [[unroll]] for (uint c = 0; c < DV; c++) {
        vec4 kk = vec4(0), vv = vec4(0);
        [[unroll]] for (uint x = 0; x < 4; x++) {
            uint d = 4 * c + x;
            if (d < p.D) {
                kk[x] = k[p.k_off + kbase + d];
                vv[x] = v[p.v_off + vbase + d];
            }
        }
        kr[c] = kk;
        vr[c] = vv;
        dka[c] = vec4(0);
        dva[c] = vec4(0);
    }
    float qscale = p.scale * LOG2E;
    // The first query that sees key j0 is at position j0, i.e. row j0 - q0.
    uint istart = j0 > p.q0 ? j0 - p.q0 : 0;
    for (uint g = 0; g < group; g++) {
        uint h = kvh * group + g;
        for (uint i0 = istart; i0 < p.Tq; i0 += BQ) {
            barrier();
#ifndef KV_TEXEL
            for (uint e = lid; e < BQ * DV; e += BK) {
                uint r = e / DV, c = e - r * DV, i = i0 + r;
                vec4 qq = vec4(0), dd = vec4(0);
                if (i < p.Tq) {
                    uint qb = p.q_off + b * p.q_bstride + i * p.q_stride + h * p.D;
                    uint ob = p.do_off + (b * p.Tq + i) * p.H * p.D + h * p.D;
                    [[unroll]] for (uint x = 0; x < 4; x++) {
                        uint d = 4 * c + x;
                        if (d < p.D) {
                            qq[x] = q[qb + d];
                            dd[x] = dout[ob + d];
                        }
                    }
                }
                qs[e] = qq * qscale;
                dos[e] = dd;
            }
#endif
            for (uint r = lid; r < BQ; r += BK) {
                uint i = min(i0 + r, p.Tq - 1);
                uint ob = (b * p.Tq + i) * p.H * p.D + h * p.D;
                float delta = 0.0;
#ifdef KV_TEXEL
                for (uint d = 0; d < p.D; d++) delta += texel1(dot_, p.do_off + ob + d) * o[p.o_off + ob + d];
#else
                for (uint d = 0; d < p.D; d++) delta += dout[p.do_off + ob + d] * o[p.o_off + ob + d];
#endif
                dl[r] = delta;
                ls[r] = lse[p.lse_off + (b * p.H + h) * p.Tq + i] * LOG2E;
            }
            barrier();
            if (!live) continue;
            // Rows of this block that see key j: q0 + i0 + r >= j.
            uint rfirst = j > p.q0 + i0 ? j - p.q0 - i0 : 0;
            uint rend = min(BQ, p.Tq - i0);
            for (uint r = rfirst; r < rend; r++) {
                float s = 0.0, dp = 0.0;
                [[unroll]] for (uint c = 0; c < DV; c++) {
                    s += dot(QROW(r, c), kr[c]);
                    dp += dot(DOROW(r, c), vr[c]);
                }
                float pr = exp2(s - ls[r]);
                float ds = pr * (dp - dl[r]);
                [[unroll]] for (uint c = 0; c < DV; c++) {
                    dva[c] += pr * DOROW(r, c);
                    dka[c] += ds * QROW(r, c);
                }
            }
        }
    }
    if (!live) return;
    // dk = scale * sum ds q = LN2 * sum ds (q * scale * log2e).
    [[unroll]] for (uint c = 0; c < DV; c++) {
        [[unroll]] for (uint x = 0; x < 4; x++) {
            uint d = 4 * c + x;
            if (d < p.D) {
                dk[p.dk_off + kbase + d] += LN2 * dka[c][x];
                dv[p.dv_off + vbase + d] += dva[c][x];
            }
        }
    }
}
