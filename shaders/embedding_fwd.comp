#version 450
// embedding_fwd.comp: out[i] (C) = wte[tok[i]] + wpe[pos[i]] (wpe optional), one
// workgroup per output row, invocations over C.
// Reference: vkt_ref_embedding_fwd (runtime/reference.h); llm.c encoder_forward.
// Tables larger than one binding (GPT-2's wte is 154 MB) are bound in row ranges: a
// dispatch sees wte rows [v0, v1) and wpe rows [p0, p1) and writes exactly the rows
// whose token and position fall in them, so every output row is written once over the
// (vocabulary chunk x position chunk) dispatches. Variant W16: a bf16/fp16 table, no wpe. Ids were validated on the host
// (vkt_embedding_ids_upload); the range test also keeps a stray id from reading outside.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint rows, C;
    uint tok_off, pos_off, wte_off, wpe_off, out_off;
    uint v0, v1, p0, p1;
    uint has_pos;
} p;

layout(std430, binding = 0) readonly buffer Tok { uint tok[]; };
layout(std430, binding = 1) readonly buffer Pos { uint pos[]; };
#ifdef W16
// A 16-bit table (W16 = 1: bf16, 2: fp16), two values a word, low half first; C even.
layout(std430, binding = 2) readonly buffer Wte { uint wte[]; };
vec2 widen(uint w) {
#if W16 == 1
    return vec2(uintBitsToFloat(w << 16), uintBitsToFloat(w & 0xFFFF0000u));
#else
    return unpackHalf2x16(w);
#endif
}
#else
layout(std430, binding = 2) readonly buffer Wte { float wte[]; };
#endif
layout(std430, binding = 3) readonly buffer Wpe { float wpe[]; };
layout(std430, binding = 4) writeonly buffer Out { float outv[]; };

void main() {
    const uint t = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x, C = p.C;
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
        const uint v = tok[p.tok_off + r]; // uint: a negative id compares as huge
        if (v < p.v0 || v >= p.v1) continue;
#ifdef W16
        const uint ob = p.out_off + r * C, tb = p.wte_off + (v - p.v0) * (C / 2u);
        for (uint c = t; c < C / 2u; c += WG) {
            const vec2 x = widen(wte[tb + c]);
            outv[ob + 2u * c] = x.x;
            outv[ob + 2u * c + 1u] = x.y;
        }
#else
        const uint ob = p.out_off + r * C, tb = p.wte_off + (v - p.v0) * C;
        if (p.has_pos != 0u) {
            const uint q = pos[p.pos_off + r];
            if (q < p.p0 || q >= p.p1) continue;
            const uint pb = p.wpe_off + (q - p.p0) * C;
            for (uint c = t; c < C; c += WG) outv[ob + c] = wte[tb + c] + wpe[pb + c];
        } else {
            for (uint c = t; c < C; c += WG) outv[ob + c] = wte[tb + c];
        }
#endif
    }
}
