#version 450
// add_row_vector.comp: h (rows, C) += s * v (C): the steering edit at a block output.
// Reference: vkt_ref_add_row_vector (runtime/reference.h). Grid: x tiles C, y the rows.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint rows, C, v_off, h_off;
    float s;
} p;

layout(std430, binding = 0) readonly buffer V { float v[]; };
layout(std430, binding = 1) buffer H { float h[]; };

void main() {
    const uint cstride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint r = gl_WorkGroupID.y; r < p.rows; r += gl_NumWorkGroups.y)
        for (uint c = gl_GlobalInvocationID.x; c < p.C; c += cstride)
            h[p.h_off + r * p.C + c] += p.s * v[p.v_off + c];
}
