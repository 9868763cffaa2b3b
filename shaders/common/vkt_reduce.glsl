// vkt_reduce.glsl: sums over the invocations that share a row, for row kernels.
// Include after vkt_common.glsl. Two ways to map rows, chosen by a define:
//   default: one row per workgroup, summed by a shared-memory tree (log2(WG) barriers;
//     the workgroup size must be a power of two, the C wrapper picks one);
//   -DVKT_ROW_SUBGROUP: one row per subgroup, summed by subgroupAdd: no shared memory,
//     no barriers (llm.c's layernorm kernels give a warp a row the same way). On lavapipe
//     barriers dominate a row kernel, so this is several times faster there.
// A kernel walks rows r = ROW_FIRST, += ROW_STEP, and columns c = ROW_LANE, += ROW_LANES.
#ifdef VKT_ROW_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#define ROW_LANE gl_SubgroupInvocationID
#define ROW_LANES gl_SubgroupSize
#define ROW_FIRST (gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID)
#define ROW_STEP (gl_NumWorkGroups.x * gl_NumSubgroups)
vec2 row_sum2(vec2 v) { return subgroupAdd(v); }
float row_sum(float v) { return subgroupAdd(v); }
#else
#define ROW_LANE gl_LocalInvocationID.x
#define ROW_LANES gl_WorkGroupSize.x
#define ROW_FIRST gl_WorkGroupID.x
#define ROW_STEP gl_NumWorkGroups.x
#define row_sum2 wg_sum2
#define row_sum wg_sum
#endif

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
