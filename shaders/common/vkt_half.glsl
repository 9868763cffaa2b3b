// vkt_half.glsl: widening packed 16-bit floats to fp32 in core GLSL, no 16-bit extension:
// a 32-bit word holds elements 2i (low half) and 2i + 1 (high half), little-endian as in
// a safetensors file. Both widenings are exact. The format comes from the matmul defines
// A16 / B16 (1: bfloat16, 2: IEEE fp16; an operand with 0 is fp32); when both are set
// they name the same format.
#if B16 == 1 || A16 == 1
#define VKT_H16 1
#elif B16 == 2 || A16 == 2
#define VKT_H16 2
#else
#define VKT_H16 0
#endif
#if VKT_H16 == 1
// bf16 is the top half of a float: shift into place.
vec2 widen2(uint w) { return vec2(uintBitsToFloat(w << 16), uintBitsToFloat(w & 0xffff0000u)); }
#elif VKT_H16 == 2 && defined(F16_BY_BITS)
// fp16 from integer and float ops that vectorise (llvmpipe scalarises unpackHalf2x16):
// (1024 + m) * 2^(e - 25), or m * 2^-24 for subnormals; both exact and normal in fp32,
// so a denormals-are-zero CPU mode cannot flush them. e == 31: infinity or NaN.
vec2 widen2(uint w) {
    uvec2 h = uvec2(w & 0xffffu, w >> 16), e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uvec2 implicit_one = uvec2(notEqual(e, uvec2(0u))) << 10;
    vec2 scale = uintBitsToFloat((max(e, uvec2(1u)) + 102u) << 23);
    uvec2 bits = floatBitsToUint(vec2(m | implicit_one) * scale);
    bits = mix(bits, 0x7f800000u | (m << 13), equal(e, uvec2(31u)));
    return uintBitsToFloat(bits | ((h & 0x8000u) << 16));
}
#elif VKT_H16 == 2
vec2 widen2(uint w) { return unpackHalf2x16(w); }
#endif
