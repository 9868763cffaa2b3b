// attention_common.glsl: what the attention shaders share.
// KV_TEXEL (CPU devices): the rows every invocation of a workgroup reads (keys and values
// in the forward and dq passes, queries and dout in the dkv pass) are fetched straight
// from R32F texel buffers instead of being staged in shared memory. On lavapipe texel
// fetches are vectorised gathers while shared-memory and storage loads are a loop over
// the lanes, and barriers are costly; on GPUs shared-memory staging is the right tool.

// Elements 4c .. 4c+3 of a row starting at element base, zero past D.
#ifdef KV_VEC4
// RGBA32F texels: one vectorised fetch per vec4. The wrapper picks this variant only when
// D, every row stride and every binding shift are multiples of 4 (so base is too).
vec4 texel4(samplerBuffer t, uint base, uint c, uint D) { return texelFetch(t, int((base >> 2) + c)); }
// Element i of the buffer.
float texel1(samplerBuffer t, uint i) { return texelFetch(t, int(i >> 2))[i & 3u]; }
#else
float texel1(samplerBuffer t, uint i) { return texelFetch(t, int(i)).r; }
vec4 texel4(samplerBuffer t, uint base, uint c, uint D) {
    vec4 r;
    [[unroll]] for (uint x = 0; x < 4; x++) {
        uint d = 4 * c + x;
        r[x] = d < D ? texelFetch(t, int(base + d)).r : 0.0;
    }
    return r;
}
#endif
