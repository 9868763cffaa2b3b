#version 450
// offswitch_mc.comp: Monte Carlo of the off-switch game (Hadfield-Menell et al., IJCAI
// 2017): for configuration c (a prior over U and a human policy pi_H), samples
// x = pi_H(U) U (V(wait)) and y = 1 - pi_H(U) (P(off | wait)). Workgroup (block, c)
// covers block_samples consecutive sample indices and writes (count, mean, M2) of x and
// y; the host merges blocks in double (Chan et al.). Samples follow games/offswitch_mc.h
// exactly: Philox4x32-10 (Salmon et al., SC'11) keyed by the seed, counter (i, c).
// C reference: vkt_offswitch_mc_cpu (games/offswitch_mc_cpu.c).
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint n_configs;
    uint samples_lo, samples_hi;  // samples per configuration (64-bit)
    uint seed_lo, seed_hi;
    uint per_thread;              // samples per invocation in one block
    uint cfg_off, data_off, out_off;
    uint c0;                      // global index of this dispatch's first configuration
    uint b0, nblocks;             // this dispatch's first block, and the blocks of a configuration
} p;

// Per configuration, 16 floats of header then MAXP cumulative weights, values, spreads:
// [0] family (0 normal, 1 uniform, 2 discrete, 3 mixture, 4 samples) [1] human (0
// rational, 1 boltzmann, 2 noisy) [2] parts or n_samples [3] data offset (samples)
// [4] mu [5] sigma [6] lo [7] hi [8] beta [9] eps.
#define MAXP 32
#define CFG_FLOATS (16 + 3 * MAXP)
layout(std430, binding = 0) readonly buffer Cfg { float cfg[]; };
layout(std430, binding = 1) readonly buffer Data { float data[]; };   // samples-file priors
layout(std430, binding = 2) writeonly buffer Out { float res[]; };    // 6 floats per (c, block)

shared float s_n[256], s_mx[256], s_qx[256], s_my[256], s_qy[256];

uvec4 philox(uvec4 c, uvec2 k) {
    [[unroll]] for (int r = 0; r < 10; r++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
        c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

float u01(uint w) { return (float(w) + 0.5) * (1.0 / 4294967296.0); }

uint pick(uint base, uint n, float u) {
    for (uint k = 0u; k + 1u < n; k++)
        if (u < cfg[base + 16u + k]) return k;
    return n - 1u;
}

// Chan et al.'s merge of (n, mean, M2) pairs.
void merge(inout float n, inout float m, inout float q, float n2, float m2, float q2) {
    if (n2 == 0.0) return;
    float t = n + n2, d = m2 - m;
    m += d * (n2 / t);
    q += q2 + d * d * (n * n2 / t);
    n = t;
}

void main() {
    uint cl = gl_WorkGroupID.y, c = p.c0 + cl, lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint base = p.cfg_off + cl * CFG_FLOATS;
    uint family = uint(cfg[base]), human = uint(cfg[base + 1u]), n = uint(cfg[base + 2u]);
    uint doff = uint(cfg[base + 3u]);
    float mu = cfg[base + 4u], sigma = cfg[base + 5u], lo = cfg[base + 6u], hi = cfg[base + 7u];
    float beta = cfg[base + 8u], eps = cfg[base + 9u];
    // Sample indices of this invocation: block * (wg * per_thread) + lid * per_thread + j.
    // 64-bit index as (lo, hi) words; samples < 2^32 * 2^32.
    uint block_samples = wg * p.per_thread;
    uint first_lo, first_hi;
    uint block = p.b0 + gl_WorkGroupID.x;  // a long run is dispatched in block ranges
    umulExtended(block, block_samples, first_hi, first_lo);
    uint carry;
    first_lo = uaddCarry(first_lo, lid * p.per_thread, carry);
    first_hi += carry;

    float cn = 0.0, mx = 0.0, qx = 0.0, my = 0.0, qy = 0.0;
    for (uint j = 0u; j < p.per_thread; j++) {
        uint ilo = uaddCarry(first_lo, j, carry), ihi = first_hi + carry;
        if (ihi > p.samples_hi || (ihi == p.samples_hi && ilo >= p.samples_lo)) break;
        uvec4 w = philox(uvec4(ilo, ihi, c, 0u), uvec2(p.seed_lo, p.seed_hi));
        float u0 = u01(w.x), u1 = u01(w.y), u2 = u01(w.z);
        float z = sqrt(-2.0 * log(u0)) * cos(6.28318530718 * u1);
        float U;
        if (family == 0u) U = mu + sigma * z;
        else if (family == 1u) U = lo + (hi - lo) * u0;
        else if (family == 2u) U = cfg[base + 16u + MAXP + pick(base, n, u2)];
        else if (family == 3u) { uint k = pick(base, n, u2); U = cfg[base + 16u + MAXP + k] + cfg[base + 16u + 2u * MAXP + k] * z; }
        else { uint hw, lw; umulExtended(w.z, n, hw, lw); U = data[p.data_off + doff + hw]; }
        float pi, off;
        if (human == 0u) { pi = U >= 0.0 ? 1.0 : 0.0; off = 1.0 - pi; }
        else if (human == 1u) { pi = 1.0 / (1.0 + exp(-U / beta)); off = 1.0 / (1.0 + exp(U / beta)); }
        else { pi = U >= 0.0 ? 1.0 - eps : eps; off = 1.0 - pi; }
        float x = pi * U;
        cn += 1.0;
        float dx = x - mx; mx += dx / cn; qx += dx * (x - mx);
        float dy = off - my; my += dy / cn; qy += dy * (off - my);
    }
    s_n[lid] = cn; s_mx[lid] = mx; s_qx[lid] = qx; s_my[lid] = my; s_qy[lid] = qy;
    barrier();
    // Pairwise tree merge inside the workgroup.
    for (uint s = wg / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            float a = s_n[lid], b = s_n[lid], m1 = s_mx[lid], q1 = s_qx[lid];
            merge(a, m1, q1, s_n[lid + s], s_mx[lid + s], s_qx[lid + s]);
            float m2 = s_my[lid], q2 = s_qy[lid];
            merge(b, m2, q2, s_n[lid + s], s_my[lid + s], s_qy[lid + s]);
            s_n[lid] = a; s_mx[lid] = m1; s_qx[lid] = q1; s_my[lid] = m2; s_qy[lid] = q2;
        }
        barrier();
    }
    if (lid == 0u) {
        uint o = p.out_off + (cl * p.nblocks + block) * 6u;
        res[o] = s_n[0]; res[o + 1u] = s_mx[0]; res[o + 2u] = s_qx[0];
        res[o + 3u] = s_my[0]; res[o + 4u] = s_qy[0]; res[o + 5u] = 0.0;
    }
}
