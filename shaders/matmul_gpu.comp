#version 450
// matmul_gpu.comp: C (M, N) = alpha * op(A) * op(B) + beta * C + bias (N), the matmul for
// discrete and integrated GPUs. Reference: vkt_ref_matmul (runtime/reference.h); checked
// by tests/test_matmul_gpu.c (16-bit operands: test_matmul16.c). With SPLITK (alone or with
// A16 / B16): the same product over one k-range per gl_WorkGroupID.z, the raw sums (no
// alpha, beta or bias) written to a scratch P (S, M, N) of fp32, which
// matmul_splitk_reduce.comp adds up in a fixed order.
//
// A workgroup of WGX x WGY threads owns a BM x BN tile of C (BM = WGY*TM, BN = WGX*TN);
// each thread a TM x TN register block, in groups of 4 contiguous rows / columns (vec4
// shared reads) spaced WGY*4 / WGX*4 apart. Per BK-slice of k, op(A) and op(B) are staged
// k-major in shared memory, As[kk][i] and Bs[kk][j]. Register double-buffering: the next
// slice's global loads are issued before the current slice is multiplied and stored to
// shared memory after it.
//
// Staging: each thread moves chunks of 4 consecutive stored elements: one vec4 load where
// the host says rows and offset are 16-byte aligned (VEC_A, VEC_B) and the chunk lies
// inside the matrix, else 4 bounds-checked scalar loads (zeros outside, so edges need no
// case in the product loop). An operand stored along k (A (M, K), B (N, K)) is transposed
// as it is stored: a warp writes 8 (BK 16) or 16 (BK 8) rows x 4 k-chunks, and the XOR
// swizzle below puts those 32 words in 32 different banks. It moves column groups in
// multiples of 4, so the 4-wide groups stay contiguous and the reads stay vec4.
//
// Stored layouts: A (M, K) row stride lda [TRANS_A: (K, M)]; B (K, N) stride ldb
// [TRANS_B: (N, K)]; C (M, N) stride ldc; offsets in floats from each binding's start.
// A16, B16 (1: bf16, 2: fp16, one format for both): that operand holds 16-bit values two
// to a 32-bit word (vkt_half.glsl), widened to fp32 as the slice is loaded (shared memory
// and the product stay fp32); its ld and offset count 16-bit elements, and VEC_A / VEC_B
// then say both are multiples of 4, so a chunk of 4 is one uvec2 load.
#include "vkt_common.glsl"

#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#ifndef SPLITK
#define SPLITK 0
#endif
#ifndef A16
#define A16 0
#endif
#ifndef B16
#define B16 0
#endif
#include "vkt_half.glsl"

layout(constant_id = 3) const uint TM = 8;     // rows of C per thread (4 or 8)
layout(constant_id = 4) const uint TN = 8;     // columns of C per thread (4 or 8)
layout(constant_id = 5) const uint BK = 16;    // k-slice staged in shared memory (4, 8 or 16)
layout(constant_id = 6) const bool VEC_A = false; // A's rows and offset are 16-byte aligned
layout(constant_id = 7) const bool VEC_B = false;

const uint WGX = gl_WorkGroupSize.x, WGY = gl_WorkGroupSize.y, NT = WGX * WGY;
const uint BM = WGY * TM, BN = WGX * TN; // multiples of 32 (the host checks)
const uint CA = (BM * BK / 4 + NT - 1) / NT; // 4-element chunks of A per thread and slice
const uint CB = (BN * BK / 4 + NT - 1) / NT;

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint a_off, b_off, c_off, bias_off;
    uint has_bias;
    float alpha, beta;
    uint k_split; // SPLITK: the k-range of one workgroup layer (a multiple of BK)
} p;

// elemX(i): element i of an operand; vec4X(i): elements i..i+3 (i a multiple of 4).
#if A16
layout(std430, binding = 0) readonly buffer Abuf { uint Aw[]; };
layout(std430, binding = 0) readonly buffer Abuf4 { uvec2 Aw2[]; };
float elemA(uint i) { return widen2(Aw[i >> 1])[i & 1u]; }
vec4 vec4A(uint i) { uvec2 w = Aw2[i >> 2]; return vec4(widen2(w.x), widen2(w.y)); }
#else
layout(std430, binding = 0) readonly buffer Abuf { float A[]; };
layout(std430, binding = 0) readonly buffer Abuf4 { vec4 A4[]; };
float elemA(uint i) { return A[i]; }
vec4 vec4A(uint i) { return A4[i >> 2]; }
#endif
#if B16
layout(std430, binding = 1) readonly buffer Bbuf { uint Bw[]; };
layout(std430, binding = 1) readonly buffer Bbuf4 { uvec2 Bw2[]; };
float elemB(uint i) { return widen2(Bw[i >> 1])[i & 1u]; }
vec4 vec4B(uint i) { uvec2 w = Bw2[i >> 2]; return vec4(widen2(w.x), widen2(w.y)); }
#else
layout(std430, binding = 1) readonly buffer Bbuf { float B[]; };
layout(std430, binding = 1) readonly buffer Bbuf4 { vec4 B4[]; };
float elemB(uint i) { return B[i]; }
vec4 vec4B(uint i) { return B4[i >> 2]; }
#endif
layout(std430, binding = 2) buffer Cbuf { float C[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

shared vec4 As[BK * BM / 4];
shared vec4 Bs[BK * BN / 4];

// Column group (in vec4s) where column i of k-row kk lives: see the header.
uint swz(uint kk, uint i) { return (i ^ (((kk >> 2) * (128u / BK)) & 31u)) >> 2; }

// One chunk of an operand: 4 stored elements from index base on, of which the first
// n are inside the matrix (step: distance between them, 1 along a stored row).
vec4 load4(const bool isA, const bool vec, uint base, uint n) {
    if (vec && n >= 4) return isA ? vec4A(base) : vec4B(base);
    vec4 v = vec4(0.0);
    [[unroll]] for (uint c = 0; c < 4; c++)
        if (c < n) v[c] = isA ? elemA(base + c) : elemB(base + c);
    return v;
}

// Chunk e of a BX x BK slice at (x0, k0) of an operand stored (X, K) along k (ALONG_K)
// or (K, X) along x; dim: X. Returns the 4 values; *kk, *i where the first one goes.
vec4 fetch(const bool isA, const bool along_k, const bool vec, uint e, uint BX, uint x0, uint k0, uint dim, uint ld,
           uint off, out uint kk, out uint i) {
    uint x, k, n;
    if (along_k) {
        i = e / (BK / 4), kk = (e % (BK / 4)) * 4;
        x = x0 + i, k = k0 + kk;
        n = x < dim && k < p.K ? min(p.K - k, 4u) : 0u;
        return load4(isA, vec, off + x * ld + k, n);
    }
    kk = e / (BX / 4), i = (e % (BX / 4)) * 4;
    x = x0 + i, k = k0 + kk;
    n = x < dim && k < p.K ? min(dim - x, 4u) : 0u;
    return load4(isA, vec, off + k * ld + x, n);
}

void main() {
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, tid = ty * WGX + tx;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
#if SPLITK
    const uint kb = gl_WorkGroupID.z * p.k_split, ke = min(p.K, kb + p.k_split);
#else
    const uint kb = 0, ke = p.K;
#endif

    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    vec4 ra[CA], rb[CB];  // the slice in flight
    uint ka[CA], ia[CA], kbs[CB], jb[CB];
    const bool ea = CA * NT == BM * BK / 4, eb = CB * NT == BN * BK / 4; // every thread has a chunk

    // Loads slice k0 into ra/rb (elements past M, N or K as zeros).
#define LOAD_SLICE(k0)                                                                                       \
    [[unroll]] for (uint c = 0; c < CA; c++) {                                                               \
        uint e = tid + c * NT;                                                                               \
        ra[c] = vec4(0.0), ka[c] = 0, ia[c] = 0;                                                             \
        if (ea || e < BM * BK / 4)                                                                           \
            ra[c] = fetch(true, TRANS_A == 0, VEC_A, e, BM, m0, k0, p.M, p.lda, p.a_off, ka[c], ia[c]);      \
    }                                                                                                        \
    [[unroll]] for (uint c = 0; c < CB; c++) {                                                               \
        uint e = tid + c * NT;                                                                               \
        rb[c] = vec4(0.0), kbs[c] = 0, jb[c] = 0;                                                            \
        if (eb || e < BN * BK / 4)                                                                           \
            rb[c] = fetch(false, TRANS_B != 0, VEC_B, e, BN, n0, k0, p.N, p.ldb, p.b_off, kbs[c], jb[c]);   \
    }

    // Stores ra/rb: a chunk along k goes to 4 k-rows (one word each), one along x to one vec4.
#define STORE_SLICE()                                                                                        \
    [[unroll]] for (uint c = 0; c < CA; c++) {                                                               \
        if (!(ea || tid + c * NT < BM * BK / 4)) continue;                                                   \
        if (TRANS_A == 0) {                                                                                  \
            [[unroll]] for (uint q = 0; q < 4; q++) {                                                        \
                uint kk = ka[c] + q;                                                                         \
                As[kk * (BM / 4) + swz(kk, ia[c])][ia[c] & 3u] = ra[c][q];                                   \
            }                                                                                                \
        } else {                                                                                             \
            As[ka[c] * (BM / 4) + swz(ka[c], ia[c])] = ra[c];                                                \
        }                                                                                                    \
    }                                                                                                        \
    [[unroll]] for (uint c = 0; c < CB; c++) {                                                               \
        if (!(eb || tid + c * NT < BN * BK / 4)) continue;                                                   \
        if (TRANS_B != 0) {                                                                                  \
            [[unroll]] for (uint q = 0; q < 4; q++) {                                                        \
                uint kk = kbs[c] + q;                                                                        \
                Bs[kk * (BN / 4) + swz(kk, jb[c])][jb[c] & 3u] = rb[c][q];                                   \
            }                                                                                                \
        } else {                                                                                             \
            Bs[kbs[c] * (BN / 4) + swz(kbs[c], jb[c])] = rb[c];                                              \
        }                                                                                                    \
    }

    // A split's k-range is a multiple of BK, so slices never straddle two splits: the
    // fetch's k < K test is the only one needed.
    if (kb < ke) {
        LOAD_SLICE(kb)
        STORE_SLICE()
    }
    barrier();
    for (uint k0 = kb; k0 < ke; k0 += BK) {
        const bool more = k0 + BK < ke;
        if (more) {
            LOAD_SLICE(k0 + BK)
        }
        [[unroll]] for (uint kk = 0; kk < BK; kk++) {
            vec4 a[TM / 4], b[TN / 4];
            [[unroll]] for (uint g = 0; g < TM / 4; g++) a[g] = As[kk * (BM / 4) + swz(kk, (g * WGY + ty) * 4)];
            [[unroll]] for (uint g = 0; g < TN / 4; g++) b[g] = Bs[kk * (BN / 4) + swz(kk, (g * WGX + tx) * 4)];
            [[unroll]] for (uint i = 0; i < TM; i++)
                [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i / 4][i % 4], b[j / 4][j % 4], acc[i][j]);
        }
        barrier();
        if (more) {
            STORE_SLICE()
        }
        barrier();
    }

    // Epilogue. Plain: beta == 0 never reads C (it may hold NaN); bias is not scaled by
    // alpha. SPLITK: raw sums into P (C's binding) at layer z, rows of N floats.
    [[unroll]] for (uint i = 0; i < TM; i++) {
        uint m = m0 + ((i / 4) * WGY + ty) * 4 + i % 4;
        if (m >= p.M) continue;
        [[unroll]] for (uint j = 0; j < TN; j++) {
            uint n = n0 + ((j / 4) * WGX + tx) * 4 + j % 4;
            if (n >= p.N) continue;
#if SPLITK
            C[p.c_off + (gl_WorkGroupID.z * p.M + m) * p.N + n] = acc[i][j];
#else
            uint ci = p.c_off + m * p.ldc + n;
            float c = p.alpha * acc[i][j];
            if (p.beta != 0.0) c += p.beta * C[ci];
            if (p.has_bias != 0u) c += bias[p.bias_off + n];
            C[ci] = c;
#endif
        }
    }
}
