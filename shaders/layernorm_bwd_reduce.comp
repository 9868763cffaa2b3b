#version 450
// layernorm_bwd_reduce.comp: dst (C) += column sums of partial rows part (nblk, C), in
// block order (fixed, so dw/db are the same every run). Used for layernorm dw, db and
// rmsnorm dw after layernorm_bwd.comp.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint C, nblk, part_off, dst_off;
} p;

layout(std430, binding = 0) readonly buffer Part { float part[]; };
layout(std430, binding = 1) buffer Dst { float dst[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint c = gl_GlobalInvocationID.x; c < p.C; c += stride) {
        float s = 0.0;
        for (uint b = 0u; b < p.nblk; b++) s += part[p.part_off + b * p.C + c];
        dst[p.dst_off + c] += s;
    }
}
