#version 450
// embedding_bwd.comp: deterministic scatter-add dtab[row] += dout[i] for every i with
// id[i] == row, without float atomics. The host bucketed the ids (a stable counting
// sort, vkt_embedding_ids_upload): rows[u] is the u-th distinct id, its token indices
// are idx[start[u] .. start[u+1]) in increasing i. Workgroup u owns table row rows[u];
// invocation (u, c) adds the dout column c of its tokens in that order, so the sum is
// rounded exactly as the reference's sequential loop (bit-identical, every run).
// Used for dwte (token buckets) and dwpe (position buckets).
// Reference: vkt_ref_embedding_bwd (runtime/reference.h). llm.c's deterministic
// encoder_backward (bucket sort by token) is the same idea with different work split.
// Binding splits: a dispatch sees dout rows [n0, n1) and table rows [v0, v1); dout
// chunks are recorded in increasing order, so the additions per row stay in i order.
// Grid: x = buckets (looped), y = column tiles of WG.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint nbuckets, C;
    uint rows_off, start_off, idx_off, dout_off, dtab_off;
    uint n0, n1, v0, v1;
} p;

layout(std430, binding = 0) readonly buffer Lists { uint lists[]; }; // rows (U), start (U+1)
layout(std430, binding = 1) readonly buffer Idx { uint idx[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) buffer DTab { float dtab[]; };

void main() {
    const uint c = gl_WorkGroupID.y * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (c >= p.C) return;
    for (uint u = gl_WorkGroupID.x; u < p.nbuckets; u += gl_NumWorkGroups.x) {
        const uint row = lists[p.rows_off + u];
        if (row < p.v0 || row >= p.v1) continue;
        const uint j0 = lists[p.start_off + u], j1 = lists[p.start_off + u + 1u];
        const uint ti = p.dtab_off + (row - p.v0) * p.C + c;
        float acc = dtab[ti];
        for (uint j = j0; j < j1; j++) {
            const uint i = idx[p.idx_off + j];
            if (i >= p.n0 && i < p.n1) acc += dout[p.dout_off + (i - p.n0) * p.C + c];
        }
        dtab[ti] = acc;
    }
}
