#version 450
// gelu.comp: GELU, tanh approximation (GPT-2; torch approximate="tanh"), over n floats.
//   forward:      out = 0.5 x (1 + tanh(k (x + 0.044715 x^3))), k = sqrt(2/pi); out may alias in.
//   -DBWD:        din += dout * (0.5 (1 + th) + 0.5 x (1 - th^2) k (1 + 3*0.044715 x^2)),
//                 th = tanh(k (x + 0.044715 x^3)).
// Reference: vkt_ref_gelu_fwd / vkt_ref_gelu_bwd (runtime/reference.h); llm.c gelu_forward.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint n;
    uint x_off, dy_off, y_off;
} p;

layout(std430, binding = 0) readonly buffer X { float x[]; };
#ifdef BACKWARD
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };
#else
layout(std430, binding = 1) buffer Y { float y[]; };
#endif

const float K = 0.7978845608028654; // sqrt(2/pi)

// From e = exp(2u), u clamped to +-15 (tanh is +-1 in float there; no inf/inf NaN):
// 1 + tanh u = 2e / (e + 1) and 1 - tanh^2 u = 4e / (e + 1)^2: no cancellation where
// tanh saturates (x << 0 in the forward, |x| large in the backward).

void main() {
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        const float v = x[p.x_off + i];
        const float e = exp(2.0 * clamp(K * (v + 0.044715 * v * v * v), -15.0, 15.0));
        const float half1pth = e / (e + 1.0); // (1 + tanh) / 2
#ifdef BACKWARD
        const float sech2 = 4.0 * e / ((e + 1.0) * (e + 1.0));
        const float g = half1pth + 0.5 * v * sech2 * K * (1.0 + 3.0 * 0.044715 * v * v);
        dx[p.y_off + i] += g * dy[p.dy_off + i];
#else
        y[p.y_off + i] = v * half1pth;
#endif
    }
}
