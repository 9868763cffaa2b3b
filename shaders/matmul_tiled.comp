#version 450
// matmul_tiled.comp: C (M, N) = alpha * op(A) * op(B) + beta * C + bias (N), the path for
// GPUs. Reference: vkt_ref_matmul (runtime/reference.h).
//
// The classic shared-memory SGEMM (as in llm.c's dev/cuda/matmul_forward.cu and
// ggml-vulkan's mul_mm.comp, written here from scratch): a workgroup of WGX x WGY
// threads owns a BM x BN tile of C (BM = WGY*TM, BN = WGX*TN); per BK-slice of k it
// stages op(A) (BM x BK) and op(B) (BK x BN) in shared memory with coalesced loads, then
// every thread accumulates a TM x TN register block. A thread's rows/columns are strided
// by WGY/WGX so neighbouring threads read neighbouring shared words (no bank conflicts).
//
// Defines: TRANS_A, TRANS_B. Stored layouts as in matmul_texel.comp:
//   A (M, K) row stride lda [TRANS_A: (K, M)]; B (K, N) stride ldb [TRANS_B: (N, K)];
//   C (M, N) stride ldc; offsets in floats from the start of each binding.
// B16 (1: bf16, 2: fp16): B holds 16-bit values two to a word (vkt_half.glsl), widened
// as they are staged; ldb and b_off then count 16-bit elements. A16 likewise for A (the
// same format as B16 when both are set; lda and a_off count 16-bit elements).
#include "vkt_common.glsl"

#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#ifndef B16
#define B16 0
#endif
#ifndef A16
#define A16 0
#endif
#include "vkt_half.glsl"

layout(constant_id = 3) const uint TM = 4;  // rows of C per thread
layout(constant_id = 4) const uint TN = 4;  // columns of C per thread
layout(constant_id = 5) const uint BK = 16; // k-slice staged in shared memory

const uint WGX = gl_WorkGroupSize.x, WGY = gl_WorkGroupSize.y;
const uint BM = WGY * TM, BN = WGX * TN, NT = WGX * WGY;

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint a_off, b_off, c_off, bias_off;
    uint has_bias;
    float alpha, beta;
} p;

#if A16
layout(std430, binding = 0) readonly buffer Abuf { uint Aw[]; };
float loadA(uint i) { return widen2(Aw[i >> 1])[i & 1u]; }
#else
layout(std430, binding = 0) readonly buffer Abuf { float A[]; };
float loadA(uint i) { return A[i]; }
#endif
#if B16
layout(std430, binding = 1) readonly buffer Bbuf { uint Bw[]; };
float loadB(uint i) { return widen2(Bw[i >> 1])[i & 1u]; }
#else
layout(std430, binding = 1) readonly buffer Bbuf { float B[]; };
float loadB(uint i) { return B[i]; }
#endif
layout(std430, binding = 2) buffer Cbuf { float C[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

shared float As[BK * BM]; // As[kk * BM + i] = op(A)[m0 + i][k0 + kk]
shared float Bs[BK * BN]; // Bs[kk * BN + j] = op(B)[k0 + kk][n0 + j]

void main() {
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, tid = ty * WGX + tx;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;

    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        // Stage the slices; consecutive threads walk the stored rows (coalesced).
        // Out-of-range elements are zeros, so edges need no special case below.
        for (uint e = tid; e < BM * BK; e += NT) {
#if TRANS_A
            uint i = e % BM, kk = e / BM; // A stored (K, M): contiguous along m
            uint m = m0 + i, k = k0 + kk;
            As[kk * BM + i] = (m < p.M && k < p.K) ? loadA(p.a_off + k * p.lda + m) : 0.0;
#else
            uint kk = e % BK, i = e / BK; // A stored (M, K): contiguous along k
            uint m = m0 + i, k = k0 + kk;
            As[kk * BM + i] = (m < p.M && k < p.K) ? loadA(p.a_off + m * p.lda + k) : 0.0;
#endif
        }
        for (uint e = tid; e < BN * BK; e += NT) {
#if TRANS_B
            uint kk = e % BK, j = e / BK; // B stored (N, K): contiguous along k
            uint n = n0 + j, k = k0 + kk;
            Bs[kk * BN + j] = (n < p.N && k < p.K) ? loadB(p.b_off + n * p.ldb + k) : 0.0;
#else
            uint j = e % BN, kk = e / BN; // B stored (K, N): contiguous along n
            uint n = n0 + j, k = k0 + kk;
            Bs[kk * BN + j] = (n < p.N && k < p.K) ? loadB(p.b_off + k * p.ldb + n) : 0.0;
#endif
        }
        barrier();
        [[unroll]] for (uint kk = 0; kk < BK; kk++) {
            float a[TM], b[TN];
            [[unroll]] for (uint i = 0; i < TM; i++) a[i] = As[kk * BM + ty + i * WGY];
            [[unroll]] for (uint j = 0; j < TN; j++) b[j] = Bs[kk * BN + tx + j * WGX];
            [[unroll]] for (uint i = 0; i < TM; i++)
                [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }

    // Epilogue: beta == 0 never reads C (it may hold NaN); bias is not scaled by alpha.
    [[unroll]] for (uint i = 0; i < TM; i++) {
        uint m = m0 + ty + i * WGY;
        if (m >= p.M) break;
        [[unroll]] for (uint j = 0; j < TN; j++) {
            uint n = n0 + tx + j * WGX;
            if (n >= p.N) continue;
            uint ci = p.c_off + m * p.ldc + n;
            float c = p.alpha * acc[i][j];
            if (p.beta != 0.0) c += p.beta * C[ci];
            if (p.has_bias != 0u) c += bias[p.bias_off + n];
            C[ci] = c;
        }
    }
}
