#version 450
// dropout.comp: inverted dropout with a counter-based mask, so a backward pass rebuilds
// the forward's mask from (key, index) instead of storing it.
//   keep(i) = vkt_dropout_hash(key, base + i) >= threshold   (P(drop) = threshold / 2^32)
//   mode 0: y[i]  = keep(i) ? scale * x[i] : 0
//   mode 1: y[i] += keep(i) ? scale * x[i] : 0
// Reference: vkt_dropout_keep (runtime/op_dropout.h), the same hash on the host.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint n;      // floats in this dispatch
    uint x_off;  // offsets inside the bindings, in floats
    uint y_off;
    uint mode;
    uint base;   // index of this dispatch's first element in the whole tensor
    uint key_lo, key_hi;
    uint threshold;
    float scale;
} p;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

uint mix32(uint v) {
    v ^= v >> 16; v *= 0x7feb352du;
    v ^= v >> 15; v *= 0x846ca68bu;
    v ^= v >> 16;
    return v;
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        bool keep = mix32(mix32(p.base + i + p.key_lo) ^ p.key_hi) >= p.threshold;
        float v = keep ? p.scale * x[p.x_off + i] : 0.0;
        uint yi = p.y_off + i;
        if (p.mode == 0u) y[yi] = v;
        else y[yi] += v;
    }
}
