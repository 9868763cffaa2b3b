// vkt_reduce.glsl: sums over the whole workgroup (every invocation gets the total).
// Include after vkt_common.glsl. The workgroup size must be a power of two (the C
// wrapper checks it). With -DVKT_SUBGROUP the sum uses subgroup arithmetic (one
// add per subgroup, then a fixed-order pass over the partial sums: deterministic);
// without it a shared-memory tree. Both cost two barriers or log2(WG) barriers per
// call; callers reduce two values at once (vec2) where they can.
#ifdef VKT_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#endif

shared vec2 vkt_red[gl_WorkGroupSize.x];

vec2 wg_sum2(vec2 v) {
    uint t = gl_LocalInvocationID.x;
    barrier(); // the previous call's readers are done with vkt_red
#ifdef VKT_SUBGROUP
    v = subgroupAdd(v);
    if (subgroupElect()) vkt_red[gl_SubgroupID] = v;
    barrier();
    vec2 r = vec2(0.0);
    for (uint i = 0u; i < gl_NumSubgroups; i++) r += vkt_red[i];
    return r;
#else
    vkt_red[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (t < s) vkt_red[t] += vkt_red[t + s];
        barrier();
    }
    return vkt_red[0];
#endif
}

float wg_sum(float v) { return wg_sum2(vec2(v, 0.0)).x; }
