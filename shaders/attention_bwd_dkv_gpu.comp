#version 450
// attention_bwd_dkv_gpu.comp: dk += scale * sum_i ds[i][j] q[i], dv += sum_i p[i][j] dout[i],
// for GPUs. Same contract and layout as attention_bwd_dkv.comp (see there); reference:
// vkt_ref_attention_bwd (runtime/reference.h). Algorithm: the dK/dV half of the
// FlashAttention-2 backward (Dao 2023, arXiv 2307.08691, Algorithm 2): a workgroup owns
// NR keys of one (batch, kv head) and walks, in a fixed order, every query head that reads
// it (grouped-query attention) and every block of NR queries that can see its keys.
// G lanes share a key row (attention_gpu.glsl): each holds DL elements of k, v and of the
// dk and dv accumulators (4 DL floats, not 4 D). q . k and dout . v are reduced across
// the lanes in a fixed order; each gradient element is summed by one lane: no atomics.
// Query blocks (q pre-scaled, dout) are staged in shared memory, rows padded to DP; the
// block's lse and delta = dout . out are computed lane-split too (a query block has as
// many rows as the key block).
#include "vkt_common.glsl"
#include "attention_gpu.glsl"

layout(push_constant) uniform Push {
    uint Tq, Tk, q0, H, KVH, D;
    uint q_stride, k_stride, v_stride;
    uint q_bstride, k_bstride, v_bstride;
    uint q_off, k_off, v_off, do_off, o_off, lse_off, dk_off, dv_off;
    float scale;
} p;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer DO { float dout[]; };
layout(std430, binding = 4) readonly buffer O { float o[]; };
layout(std430, binding = 5) readonly buffer L { float lse[]; };
layout(std430, binding = 6) buffer DK { float dk[]; };
layout(std430, binding = 7) buffer DVb { float dv[]; };

shared float qs[NR * DP];   // (NR, DP) queries, pre-scaled into the log2 domain
shared float dos[NR * DP];  // (NR, DP) dout rows
shared float ls[NR];        // lse * log2(e)
shared float dl[NR];        // delta = dout . out

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;

// Element c of staged rows r0 .. r0+3 of the queries (isq) or of dout.
vec4 col4(uint r0, uint c, bool isq) {
    uint a = r0 * DP + c;
    return isq ? vec4(qs[a], qs[a + DP], qs[a + 2 * DP], qs[a + 3 * DP])
               : vec4(dos[a], dos[a + DP], dos[a + 2 * DP], dos[a + 3 * DP]);
}

void main() {
    uint me = att_flat();
    uint row = me / G, lane = me % G;
    uint b = gl_WorkGroupID.z, kvh = gl_WorkGroupID.y;
    uint group = p.H / p.KVH;
    uint j0 = gl_WorkGroupID.x * NR;
    uint j = j0 + row;
    bool live = j < p.Tk;
    uint jc = min(j, p.Tk - 1);

    float kr[DL], vr[DL], dka[DL], dva[DL];
    uint kbase = b * p.k_bstride + jc * p.k_stride + kvh * p.D;
    uint vbase = b * p.v_bstride + jc * p.v_stride + kvh * p.D;
    [[unroll]] for (uint e = 0; e < DL; e++) {
        uint d = lane + G * e;
        kr[e] = d < p.D ? k[p.k_off + kbase + d] : 0.0;
        vr[e] = d < p.D ? v[p.v_off + vbase + d] : 0.0;
        dka[e] = 0.0;
        dva[e] = 0.0;
    }
    float qscale = p.scale * LOG2E;
    // The first query that sees key j0 is at position j0, i.e. row j0 - q0.
    uint istart = j0 > p.q0 ? j0 - p.q0 : 0;
    for (uint g = 0; g < group; g++) {
        uint h = kvh * group + g;
        for (uint i0 = istart; i0 < p.Tq; i0 += NR) {
            barrier();  // the previous block is no longer read
            for (uint x = me; x < NR * G * DL; x += WG) {
                uint r = x / (G * DL), d = x - r * (G * DL), i = i0 + r;
                bool in_ = i < p.Tq && d < p.D;
                uint qb = p.q_off + b * p.q_bstride + i * p.q_stride + h * p.D;
                uint ob = p.do_off + (b * p.Tq + i) * p.H * p.D + h * p.D;
                qs[r * DP + d] = in_ ? q[qb + d] * qscale : 0.0;
                dos[r * DP + d] = in_ ? dout[ob + d] : 0.0;
            }
            // delta and lse of query row i0 + row, lane-split like everything else.
            uint ir = min(i0 + row, p.Tq - 1);
            uint ob = (b * p.Tq + ir) * p.H * p.D + h * p.D;
            float dpart = 0.0;
            [[unroll]] for (uint e = 0; e < DL; e++) {
                uint d = lane + G * e;
                dpart += d < p.D ? dout[p.do_off + ob + d] * o[p.o_off + ob + d] : 0.0;
            }
            float delta = att_reduce(me, vec4(dpart, 0, 0, 0)).x;
            if (lane == 0) {
                dl[row] = delta;
                ls[row] = lse[p.lse_off + (b * p.H + h) * p.Tq + ir] * LOG2E;
            }
            barrier();
            // Workgroup-wide bound; each key masks the queries that do not see it.
            uint rend = min(NR, p.Tq - i0);
            for (uint r0 = 0; r0 < rend; r0 += 4) {
                vec4 s = vec4(0), dp = vec4(0);
                [[unroll]] for (uint e = 0; e < DL; e++) {
                    uint c = lane + G * e;
                    s += kr[e] * col4(r0, c, true);
                    dp += vr[e] * col4(r0, c, false);
                }
                att_reduce2(me, s, dp);
                vec4 pr, ds;
                [[unroll]] for (uint x = 0; x < 4; x++) {
                    uint r = r0 + x;
                    bool vis = r < rend && p.q0 + i0 + r >= j;
                    pr[x] = vis ? exp2(s[x] - ls[min(r, NR - 1)]) : 0.0;
                    ds[x] = vis ? pr[x] * (dp[x] - dl[min(r, NR - 1)]) : 0.0;
                }
                [[unroll]] for (uint e = 0; e < DL; e++) {
                    uint c = lane + G * e;
                    dva[e] += dot(pr, col4(r0, c, false));
                    dka[e] += dot(ds, col4(r0, c, true));
                }
            }
        }
    }
    if (!live) return;
    // dk = scale * sum ds q = LN2 * sum ds (q * scale * log2e).
    [[unroll]] for (uint e = 0; e < DL; e++) {
        uint d = lane + G * e;
        if (d < p.D) {
            dk[p.dk_off + kbase + d] += LN2 * dka[e];
            dv[p.dv_off + vbase + d] += dva[e];
        }
    }
}
