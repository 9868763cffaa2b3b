// attention_gpu.glsl: what the GPU attention shaders (attention_*_gpu.comp) share.
// A head row of D floats is split across G lanes: lane l holds elements l, l + G, ...,
// l + G (DL - 1) (zero past D), so the G lanes of a row read G consecutive floats of a
// staged row at a time (one bank each) and nobody keeps an array of D floats. A
// workgroup of WG invocations works on WG / G rows. Dot products are reduced across the
// G lanes of a row in a fixed order (deterministic):
//   VKT_ROW_SUBGROUP: a butterfly of subgroupShuffleXor (the G lanes sit in one subgroup;
//                 every lane ends with bitwise the same sum, float addition commutes);
//   otherwise:    shared memory, two barriers per reduction.
// Either way every invocation of the workgroup must call the reductions the same number
// of times (uniform control flow): loops run to workgroup-wide bounds and mask per row.
#ifdef VKT_ROW_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_shuffle : enable
#endif

layout(constant_id = 4) const uint G = 8;   // lanes per row (power of two)
layout(constant_id = 5) const uint DL = 8;  // elements per lane: ceil(D / G)
const uint DP = G * DL + 1;                 // staged row stride: padded by one float
const uint WG = gl_WorkGroupSize.x;
const uint NR = WG / G;                     // rows per workgroup

// This invocation's index within the workgroup, numbered so that the G lanes of a row
// are consecutive lanes of one subgroup.
uint att_flat() {
#ifdef VKT_ROW_SUBGROUP
    return gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID;
#else
    return gl_LocalInvocationID.x;
#endif
}

#ifndef VKT_ROW_SUBGROUP
shared vec4 att_red[2 * WG];
#endif

// Sums a and b over the G lanes of this row (two independent sums at once).
void att_reduce2(uint me, inout vec4 a, inout vec4 b) {
#ifdef VKT_ROW_SUBGROUP
    for (uint m = G / 2; m >= 1; m /= 2) {
        a += subgroupShuffleXor(a, m);
        b += subgroupShuffleXor(b, m);
    }
#else
    barrier();  // the previous reduction's reads are done
    att_red[me] = a;
    att_red[WG + me] = b;
    barrier();
    uint r0 = me - me % G;
    a = vec4(0);
    b = vec4(0);
    for (uint l = 0; l < G; l++) {
        a += att_red[r0 + l];
        b += att_red[WG + r0 + l];
    }
#endif
}

vec4 att_reduce(uint me, vec4 a) {
    vec4 b = vec4(0);
    att_reduce2(me, a, b);
    return a;
}
