#version 450
// softmax.comp: row softmax, forward (out = softmax(in), optional causal mask) and, with
// -DBACKWARD, its backward (din += out * (dout - sum_j dout[j] out[j])).
// Reference: vkt_ref_softmax_fwd / vkt_ref_softmax_bwd (runtime/reference.h).
// Shapes: rows (R, L) row-major, R counted in this dispatch; row r of the dispatch is row
// r0 + r of the whole tensor. Causal: rows come in blocks of L queries over L keys, row
// g = r0 + r sees columns j <= g % L, masked outputs are 0.
// One workgroup per row, so rows of any length work (L = 50257 vocab rows included):
// each invocation strides over the row keeping a running max and sum (the online
// softmax of Milakov & Gimelshein 2018, arXiv 1805.02867), the workgroup combines them
// in shared memory, then a second sweep writes. Workgroups loop over rows.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint R, L, r0, causal;
    uint a_off, b_off, c_off;  // fwd: in, out; bwd: dout, out, din
} p;

#ifdef BACKWARD
layout(std430, binding = 0) readonly buffer A { float dout[]; };
layout(std430, binding = 1) readonly buffer B { float outp[]; };
layout(std430, binding = 2) buffer C { float din[]; };
#else
layout(std430, binding = 0) readonly buffer A { float inp[]; };
layout(std430, binding = 1) writeonly buffer B { float outp[]; };
#endif

shared float red_a[gl_WorkGroupSize.x];
shared float red_b[gl_WorkGroupSize.x];

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    for (uint r = gl_WorkGroupID.x; r < p.R; r += gl_NumWorkGroups.x) {
        uint row = r * p.L;
#ifdef BACKWARD
        float acc = 0.0;
        for (uint j = lid; j < p.L; j += WG) acc += dout[p.a_off + row + j] * outp[p.b_off + row + j];
        red_a[lid] = acc;
        barrier();
        for (uint s = WG / 2; s > 0; s >>= 1) {
            if (lid < s) red_a[lid] += red_a[lid + s];
            barrier();
        }
        float dotv = red_a[0];
        barrier();  // red_a is reused by the next row
        for (uint j = lid; j < p.L; j += WG) {
            float y = outp[p.b_off + row + j];
            din[p.c_off + row + j] += y * (dout[p.a_off + row + j] - dotv);
        }
#else
        uint n = p.causal != 0u ? (p.r0 + r) % p.L + 1 : p.L;  // columns this row sees
        float m = -1.0 / 0.0, s = 0.0;
        for (uint j = lid; j < n; j += WG) {
            float x = inp[p.a_off + row + j];
            if (x > m) {
                s = s * exp(m - x) + 1.0;
                m = x;
            } else if (m > -1.0 / 0.0) {  // x = m = -inf adds exp(0) = 1 otherwise
                s += exp(x - m);
            }
        }
        red_a[lid] = m;
        red_b[lid] = s;
        barrier();
        for (uint h = WG / 2; h > 0; h >>= 1) {
            if (lid < h) {
                float m1 = red_a[lid], m2 = red_a[lid + h];
                float mm = max(m1, m2);
                // An empty partial (m = -inf, s = 0) contributes nothing.
                float s1 = m1 == mm ? red_b[lid] : red_b[lid] * exp(m1 - mm);
                float s2 = m2 == mm ? red_b[lid + h] : red_b[lid + h] * exp(m2 - mm);
                red_a[lid] = mm;
                red_b[lid] = s1 + s2;
            }
            barrier();
        }
        float mx = red_a[0], inv = 1.0 / red_b[0];
        barrier();
        for (uint j = lid; j < p.L; j += WG)
            outp[p.b_off + row + j] = j < n ? exp(inp[p.a_off + row + j] - mx) * inv : 0.0;
#endif
    }
}
