#version 450
// swiglu.comp: SwiGLU (Llama MLP), rows with their own strides so gate and up may be
// the two halves of one (N, 2F) buffer.
//   forward: out (rows, F) = silu(gate) * up, silu(g) = g * sigmoid(g).
//   -DBWD:   dgate += dout * up * s (1 + g (1 - s)), dup += dout * g * s, s = sigmoid(g).
// Element (n, f) of gate is gate[gate_off + n * gate_stride + f]; likewise the others.
// Reference: vkt_ref_swiglu_fwd / vkt_ref_swiglu_bwd (runtime/reference.h).
// Grid: x tiles the F columns, y the rows (both looped).
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint rows, F;
    uint g_off, g_stride, u_off, u_stride, o_off, o_stride; // dout for BACKWARD
    uint dg_off, du_off; // BACKWARD: dgate, dup use the strides of gate, up
} p;

layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
#ifdef BACKWARD
layout(std430, binding = 2) readonly buffer DO { float dout[]; };
layout(std430, binding = 3) buffer DG { float dgate[]; };
layout(std430, binding = 4) buffer DU { float dup[]; };
#else
layout(std430, binding = 2) writeonly buffer O { float outv[]; };
#endif

void main() {
    const uint fstride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint r = gl_WorkGroupID.y; r < p.rows; r += gl_NumWorkGroups.y) {
        for (uint f = gl_GlobalInvocationID.x; f < p.F; f += fstride) {
            const uint gi = p.g_off + r * p.g_stride + f, ui = p.u_off + r * p.u_stride + f;
            const float g = gate[gi], u = up[ui];
            const float s = 1.0 / (1.0 + exp(-g)); // exp overflow -> s = 0, the right limit
#ifdef BACKWARD
            const float d = dout[p.o_off + r * p.o_stride + f];
            dgate[p.dg_off + r * p.g_stride + f] += d * u * s * (1.0 + g * (1.0 - s));
            dup[p.du_off + r * p.u_stride + f] += d * g * s;
#else
            outv[p.o_off + r * p.o_stride + f] = g * s * u;
#endif
        }
    }
}
