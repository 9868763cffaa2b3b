#version 450
// matmul_splitk_reduce.comp: the second half of the split-k matmul (matmul_gpu.comp with
// SPLITK): C[m][n] = alpha * (P[0][m][n] + P[1][m][n] + ... + P[S-1][m][n]) + beta * C[m][n]
// + bias[n], the layers added in that fixed order so the result is the same bits on every
// run. P: (S, M, N) floats, rows of N. Reference: vkt_ref_matmul (runtime/reference.h);
// checked by tests/test_matmul_gpu.c. beta == 0 never reads C; bias is not scaled by alpha.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint M, N, S;
    uint ldc, p_off, c_off, bias_off;
    uint has_bias;
    float alpha, beta;
} p;

layout(std430, binding = 0) readonly buffer Pbuf { float P[]; };
layout(std430, binding = 1) buffer Cbuf { float C[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };

void main() {
    const uint n = gl_GlobalInvocationID.x, m = gl_GlobalInvocationID.y;
    if (n >= p.N || m >= p.M) return;
    const uint layer = p.M * p.N;
    float s = 0.0;
    for (uint z = 0; z < p.S; z++) s += P[p.p_off + z * layer + m * p.N + n];
    const uint ci = p.c_off + m * p.ldc + n;
    float c = p.alpha * s;
    if (p.beta != 0.0) c += p.beta * C[ci];
    if (p.has_bias != 0u) c += bias[p.bias_off + n];
    C[ci] = c;
}
