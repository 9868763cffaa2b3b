#version 450
// bias_grad.comp: dbias (N) += sum over m of dC (M, N), row stride ld.
// Reference: vkt_ref_bias_grad (runtime/reference.h).
// Deterministic (same bits every run): thread (tx, ty) of a workgroup sums the rows
// m = ty, ty + WGY, ... of column n in order, and thread ty == 0 then adds the WGY
// partial sums in a fixed order. No atomics; a column belongs to one workgroup.
#include "vkt_common.glsl"

const uint WGX = gl_WorkGroupSize.x, WGY = gl_WorkGroupSize.y;

layout(push_constant) uniform Push {
    uint M, N, ld;
    uint dc_off, db_off;
} p;

layout(std430, binding = 0) readonly buffer DC { float dC[]; };
layout(std430, binding = 1) buffer DB { float dbias[]; };

shared float part[WGY * WGX];

void main() {
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint n = gl_WorkGroupID.x * WGX + tx;
    float s = 0.0;
    if (n < p.N)
        for (uint m = ty; m < p.M; m += WGY) s += dC[p.dc_off + m * p.ld + n];
    part[ty * WGX + tx] = s;
    barrier();
    if (ty == 0u && n < p.N) {
        float t = 0.0;
        for (uint y = 0; y < WGY; y++) t += part[y * WGX + tx];
        dbias[p.db_off + n] += t;
    }
}
