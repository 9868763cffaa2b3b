#version 450
// rope.comp: rotary position embedding, Hugging Face convention (rotate_half, NOT
// interleaved), in place; forward rotates by +a, backward (sign = -1) by -a.
// Reference: vkt_ref_rope_fwd / vkt_ref_rope_bwd (runtime/reference.h);
// transformers' apply_rotary_pos_emb: x' = x cos + rotate_half(x) sin.
// x (N rows, H, D): element (n, h, d) is x[x_off + n*row_stride + h*D + d], so q or k
// inside a fused qkv buffer is rotated where it lies. pos (N) int32.
// For i < D/2: a = pos * theta^(-2i/D); (x[i], x[i+D/2]) -> (x1 c - x2 s, x2 c + x1 s).
// One invocation per (row, head, i) pair. Angles reach thousands of radians and every
// fp32 rounding in them is multiplied by the position, so the angle is built in
// float-float arithmetic (Dekker 1971 products, no fma needed): inv_freq[i] = r^i with
// r = theta^(-2/D) from the host in double, computed once per workgroup into shared
// memory; pos * inv_freq as an exact two-float product; Cody-Waite reduction modulo
// 2 pi; then cos/sin of an argument in [-pi, pi]. The result matches the double
// reference to ~1e-6 at any position (Hugging Face's fp32 angles are less exact).
// -DFREQ_TABLE (variant rope_freq): inv_freq[i] is read from a (D/2, 2) float table of
// (hi, lo) pairs (runtime/rope_freq.h: plain, linear or llama3 scaled) instead of r^i.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint N, H, D, row_stride;
    uint x_off, pos_off;
    float sign;        // +1 forward, -1 backward
    float r_hi, r_lo;  // theta^(-2/D) as a two-float sum (unused with FREQ_TABLE)
    uint f_off;        // FREQ_TABLE: first float of the table in binding 2
} p;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer P { int pos[]; };
#ifdef FREQ_TABLE
layout(std430, binding = 2) readonly buffer F { float freq[]; };  // (D/2, 2) (hi, lo)
#endif

const float TWO_PI_1 = 6.28318548202514648;  // float(2 pi)
const float TWO_PI_2 = -1.74845553e-07;       // 2 pi - TWO_PI_1, rounded
const float INV_TWO_PI = 0.159154943091895336;
#define MAX_HALF 128u                          // D <= 256

shared vec2 inv_freq[MAX_HALF];  // (hi, lo) of theta^(-2i/D)

// a * b = p + e exactly (Dekker's product with Veltkamp splits).
vec2 two_prod(float a, float b) {
    precise float p = a * b;
    precise float ta = 4097.0 * a, ah = ta - (ta - a), al = a - ah;
    precise float tb = 4097.0 * b, bh = tb - (tb - b), bl = b - bh;
    precise float e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    return vec2(p, e);
}

vec2 df_mul(vec2 a, vec2 b) {
    vec2 t = two_prod(a.x, b.x);
    precise float lo = t.y + (a.x * b.y + a.y * b.x);
    precise float hi = t.x + lo;
    precise float lo2 = lo - (hi - t.x);
    return vec2(hi, lo2);
}

void main() {
    uint half_d = p.D / 2;
    for (uint i = gl_LocalInvocationID.x; i < half_d; i += gl_WorkGroupSize.x) {
#ifdef FREQ_TABLE
        inv_freq[i] = vec2(freq[p.f_off + 2u * i], freq[p.f_off + 2u * i + 1u]);
#else
        // inv_freq[i] = r^i by binary powering, in float-float.
        vec2 acc = vec2(1.0, 0.0), base = vec2(p.r_hi, p.r_lo);
        for (uint e = i; e != 0u; e >>= 1) {
            if ((e & 1u) != 0u) acc = df_mul(acc, base);
            base = df_mul(base, base);
        }
        inv_freq[i] = acc;
#endif
    }
    barrier();
    uint total = p.N * p.H * half_d;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint t = gl_GlobalInvocationID.x; t < total; t += stride) {
        uint i = t % half_d, nh = t / half_d, h = nh % p.H, n = nh / p.H;
        vec2 f = inv_freq[i];
        float fp = float(pos[p.pos_off + n]);
        vec2 a = two_prod(fp, f.x);
        precise float a_lo = a.y + fp * f.y;
        float k = round(a.x * INV_TWO_PI);
        vec2 kc = two_prod(k, TWO_PI_1);
        precise float r = ((a.x - kc.x) - kc.y) - k * TWO_PI_2 + a_lo;
        float c = cos(r), s = p.sign * sin(r);
        uint base = p.x_off + n * p.row_stride + h * p.D + i;
        float x1 = x[base], x2 = x[base + half_d];
        x[base] = x1 * c - x2 * s;
        x[base + half_d] = x2 * c + x1 * s;
    }
}
