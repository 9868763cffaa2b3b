#version 450
// matmul_texel.comp: C (M, N) = alpha * op(A) * op(B) + beta * C + bias (N), the path for
// CPU devices (lavapipe). Reference: vkt_ref_matmul (runtime/reference.h).
//
// Why it looks like this: llvmpipe runs 8 invocations as the 8 lanes of one SIMD
// register. Storage-buffer loads are scalarised (a loop over the lanes) while texel
// fetches become vector gathers, and shared memory plus barriers cost more than they
// save. So A and B are read through texel buffers (RGBA32F: 4 consecutive floats per
// fetch, or R32F when a row is not 16-byte aligned), each invocation keeps a TM x TN
// block of C in registers (register blocking, as in the classic GotoBLAS micro-kernel),
// and the k loop is unrolled by 4 so each RGBA fetch feeds 4 k-steps.
//
// Defines (variants.cmake): TRANS_A, TRANS_B (op = transpose), A_VEC4, B_VEC4 (operand
// bound as RGBA32F; else R32F). Stored layouts:
//   A (M, K) row stride lda  [TRANS_A: (K, M)];  B (K, N) row stride ldb  [TRANS_B: (N, K)];
//   C (M, N) row stride ldc.  Offsets are in floats from the start of each binding.
// RGBA32F needs lda (ldb) and a_off (b_off) to be multiples of 4; the host checks.
//
// B16 (1: bf16, 2: fp16): B holds 16-bit values, two to a 32-bit word (vkt_half.glsl),
// bound as RGBA32UI (B_VEC4: 8 values per fetch) or R32UI; ldb and b_off count 16-bit
// elements, and RGBA32UI needs both to be multiples of 8. With TRANS_B the k loop is
// unrolled by 8 so one fetch feeds 8 k-steps; without, TN must be a multiple of 8.
// A16 (the same format as B16): A holds 16-bit values likewise, bound as RGBA32UI (A_VEC4:
// lda and a_off multiples of 8) or R32UI; lda and a_off count 16-bit elements. One
// RGBA32UI fetch of A feeds 8 k-steps, or 4 when KU is 4; with TRANS_A half a fetch is 4
// rows of m (TM is a multiple of 4).
#include "vkt_common.glsl"

#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#ifndef A_VEC4
#define A_VEC4 0
#endif
#ifndef B_VEC4
#define B_VEC4 0
#endif
#ifndef B16
#define B16 0
#endif
#ifndef A16
#define A16 0
#endif
#define F16_BY_BITS 1 // see vkt_half.glsl
#include "vkt_half.glsl"

#if B16 && TRANS_B && B_VEC4
#define KU8 1
const uint KU = 8u; // k-steps per iteration of the main loop
#else
#define KU8 0
const uint KU = 4u;
#endif

layout(constant_id = 3) const uint TM = 8; // rows of C per invocation (multiple of 4)
layout(constant_id = 4) const uint TN = 8; // columns of C per invocation (multiple of 4)

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint a_off, b_off, c_off, bias_off;
    uint has_bias;
    float alpha, beta;
} p;

#if A16
layout(binding = 0) uniform usamplerBuffer A;
#else
layout(binding = 0) uniform samplerBuffer A;
#endif
#if B16
layout(binding = 1) uniform usamplerBuffer B;
#else
layout(binding = 1) uniform samplerBuffer B;
#endif
layout(std430, binding = 2) buffer Cbuf { float C[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

// One element, any variant (used by the k tail only).
float elemA(uint m, uint k) {
#if TRANS_A
    uint i = p.a_off + k * p.lda + m;
#else
    uint i = p.a_off + m * p.lda + k;
#endif
#if A16 && A_VEC4
    return widen2(texelFetch(A, int(i >> 3))[(i >> 1) & 3u])[i & 1u];
#elif A16
    return widen2(texelFetch(A, int(i >> 1)).x)[i & 1u];
#elif A_VEC4
    return texelFetch(A, int(i >> 2))[i & 3u];
#else
    return texelFetch(A, int(i)).x;
#endif
}
float elemB(uint k, uint n) {
#if TRANS_B
    uint i = p.b_off + n * p.ldb + k;
#else
    uint i = p.b_off + k * p.ldb + n;
#endif
#if B16 && B_VEC4
    return widen2(texelFetch(B, int(i >> 3))[(i >> 1) & 3u])[i & 1u];
#elif B16
    return widen2(texelFetch(B, int(i >> 1)).x)[i & 1u];
#elif B_VEC4
    return texelFetch(B, int(i >> 2))[i & 3u];
#else
    return texelFetch(B, int(i)).x;
#endif
}

void main() {
    const uint m0 = gl_GlobalInvocationID.y * TM, n0 = gl_GlobalInvocationID.x * TN;
    if (m0 >= p.M || n0 >= p.N) return;
    // Rows and columns past the edge read the last valid one (clamped, so every fetch
    // stays inside the binding); their results are never stored.
    const uint mlast = p.M - 1u, nlast = p.N - 1u;

    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    uint k = 0;
    for (; k + KU <= p.K; k += KU) {
        float a[KU][TM], b[KU][TN];
        // ---- A: a[kk][i] = op(A)[m0 + i][k + kk]
#if A16 && TRANS_A && A_VEC4
        // 4 rows of m are half a texel (m0 + i and the row start are multiples of 4 and 8);
        // past the edge, the group of the last row (in the binding, its results unused).
        [[unroll]] for (uint kk = 0; kk < KU; kk++)
            [[unroll]] for (uint i = 0; i < TM; i += 4u) {
                uint e = p.a_off + (k + kk) * p.lda + min(m0 + i, mlast & ~3u);
                uvec4 w = texelFetch(A, int(e >> 3));
                uvec2 ww = (e & 4u) != 0u ? w.zw : w.xy;
                vec2 lo = widen2(ww.x), hi = widen2(ww.y);
                a[kk][i] = lo.x; a[kk][i + 1u] = lo.y; a[kk][i + 2u] = hi.x; a[kk][i + 3u] = hi.y;
            }
#elif A16 && A_VEC4 && KU8
        [[unroll]] for (uint i = 0; i < TM; i++) {
            uvec4 w = texelFetch(A, int((p.a_off + min(m0 + i, mlast) * p.lda + k) >> 3));
            [[unroll]] for (uint q = 0; q < 4u; q++) {
                vec2 h = widen2(w[q]);
                a[2u * q][i] = h.x; a[2u * q + 1u][i] = h.y;
            }
        }
#elif A16 && A_VEC4
        // 4 k-steps are half a texel: its first or second pair of words.
        [[unroll]] for (uint i = 0; i < TM; i++) {
            uint e = p.a_off + min(m0 + i, mlast) * p.lda + k;
            uvec4 w = texelFetch(A, int(e >> 3));
            uvec2 ww = (e & 4u) != 0u ? w.zw : w.xy;
            vec2 lo = widen2(ww.x), hi = widen2(ww.y);
            a[0][i] = lo.x; a[1][i] = lo.y; a[2][i] = hi.x; a[3][i] = hi.y;
        }
#elif A16
        [[unroll]] for (uint kk = 0; kk < KU; kk++)
            [[unroll]] for (uint i = 0; i < TM; i++) a[kk][i] = elemA(min(m0 + i, mlast), k + kk);
#elif !TRANS_A && A_VEC4
        [[unroll]] for (uint i = 0; i < TM; i++)
            [[unroll]] for (uint q = 0; q < KU; q += 4u) {
                vec4 v = texelFetch(A, int((p.a_off + min(m0 + i, mlast) * p.lda + k + q) >> 2));
                a[q][i] = v.x; a[q + 1u][i] = v.y; a[q + 2u][i] = v.z; a[q + 3u][i] = v.w;
            }
#elif TRANS_A && A_VEC4
        [[unroll]] for (uint kk = 0; kk < KU; kk++)
            [[unroll]] for (uint i = 0; i < TM; i += 4u) {
                vec4 v = texelFetch(A, int(((p.a_off + (k + kk) * p.lda) >> 2) + min((m0 + i) >> 2, mlast >> 2)));
                a[kk][i] = v.x; a[kk][i + 1u] = v.y; a[kk][i + 2u] = v.z; a[kk][i + 3u] = v.w;
            }
#else
        [[unroll]] for (uint kk = 0; kk < KU; kk++)
            [[unroll]] for (uint i = 0; i < TM; i++) {
                uint m = min(m0 + i, mlast);
#if TRANS_A
                a[kk][i] = texelFetch(A, int(p.a_off + (k + kk) * p.lda + m)).x;
#else
                a[kk][i] = texelFetch(A, int(p.a_off + m * p.lda + k + kk)).x;
#endif
            }
#endif
        // ---- B: b[kk][j] = op(B)[k + kk][n0 + j]
#if B16 && TRANS_B && B_VEC4
        [[unroll]] for (uint j = 0; j < TN; j++) {
            uvec4 w = texelFetch(B, int((p.b_off + min(n0 + j, nlast) * p.ldb + k) >> 3));
            [[unroll]] for (uint q = 0; q < 4u; q++) {
                vec2 h = widen2(w[q]);
                b[2u * q][j] = h.x; b[2u * q + 1u][j] = h.y;
            }
        }
#elif B16 && B_VEC4
        [[unroll]] for (uint kk = 0; kk < 4u; kk++)
            [[unroll]] for (uint j = 0; j < TN; j += 8u) {
                uvec4 w = texelFetch(B, int(((p.b_off + (k + kk) * p.ldb) >> 3) + min((n0 + j) >> 3, nlast >> 3)));
                [[unroll]] for (uint q = 0; q < 4u; q++) {
                    vec2 h = widen2(w[q]);
                    b[kk][j + 2u * q] = h.x; b[kk][j + 2u * q + 1u] = h.y;
                }
            }
#elif B16
        [[unroll]] for (uint kk = 0; kk < KU; kk++)
            [[unroll]] for (uint j = 0; j < TN; j++) b[kk][j] = elemB(k + kk, min(n0 + j, nlast));
#elif TRANS_B && B_VEC4
        [[unroll]] for (uint j = 0; j < TN; j++) {
            vec4 v = texelFetch(B, int((p.b_off + min(n0 + j, nlast) * p.ldb + k) >> 2));
            b[0][j] = v.x; b[1][j] = v.y; b[2][j] = v.z; b[3][j] = v.w;
        }
#elif !TRANS_B && B_VEC4
        [[unroll]] for (uint kk = 0; kk < 4u; kk++)
            [[unroll]] for (uint j = 0; j < TN; j += 4u) {
                vec4 v = texelFetch(B, int(((p.b_off + (k + kk) * p.ldb) >> 2) + min((n0 + j) >> 2, nlast >> 2)));
                b[kk][j] = v.x; b[kk][j + 1u] = v.y; b[kk][j + 2u] = v.z; b[kk][j + 3u] = v.w;
            }
#else
        [[unroll]] for (uint kk = 0; kk < 4u; kk++)
            [[unroll]] for (uint j = 0; j < TN; j++) {
                uint n = min(n0 + j, nlast);
#if TRANS_B
                b[kk][j] = texelFetch(B, int(p.b_off + n * p.ldb + k + kk)).x;
#else
                b[kk][j] = texelFetch(B, int(p.b_off + (k + kk) * p.ldb + n)).x;
#endif
            }
#endif
        // kk innermost: each accumulator is touched once per KU k-steps, which matters
        // when the block spills out of the 16 vector registers.
        [[unroll]] for (uint i = 0; i < TM; i++)
            [[unroll]] for (uint j = 0; j < TN; j++) {
                float c = acc[i][j];
                [[unroll]] for (uint kk = 0; kk < KU; kk++) c = fma(a[kk][i], b[kk][j], c);
                acc[i][j] = c;
            }
    }
    // k tail (K % KU != 0): one step at a time.
    for (; k < p.K; k++) {
        float a[TM], b[TN];
        [[unroll]] for (uint i = 0; i < TM; i++) a[i] = elemA(min(m0 + i, mlast), k);
        [[unroll]] for (uint j = 0; j < TN; j++) b[j] = elemB(k, min(n0 + j, nlast));
        [[unroll]] for (uint i = 0; i < TM; i++)
            [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }

    // Epilogue: beta == 0 never reads C (it may hold NaN); bias is not scaled by alpha.
    [[unroll]] for (uint i = 0; i < TM; i++) {
        uint m = m0 + i;
        if (m >= p.M) break;
        [[unroll]] for (uint j = 0; j < TN; j++) {
            uint n = n0 + j;
            if (n >= p.N) break;
            uint ci = p.c_off + m * p.ldc + n;
            float c = p.alpha * acc[i][j];
            if (p.beta != 0.0) c += p.beta * C[ci];
            if (p.has_bias != 0u) c += bias[p.bias_off + n];
            C[ci] = c;
        }
    }
}
