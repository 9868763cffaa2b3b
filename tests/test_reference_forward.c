// test_reference_forward.c: the reference forwards against independent formulas and
// known values (attention at T=1 returns v, softmax rows sum to 1, layernorm output has
// mean 0 and variance 1, RoPE preserves pair norms, uniform logits cost log V, a
// hand-computed AdamW example...), and the float versions against the double ones.
// Each check states its tolerance.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "rng.h"

static double *randv(vkt_rng *r, size_t n, double lo, double hi) {
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * vkt_rng_uniform(r);
    return x;
}

static float *to_f32(const double *x, size_t n) {
    float *y = malloc(n * sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++) y[i] = (float)x[i];
    return y;
}

static float *randf(vkt_rng *r, size_t n, double lo, double hi) {
    double *x = randv(r, n, lo, hi);
    float *y = to_f32(x, n);
    free(x);
    return y;
}

static double *to_f64(const float *x, size_t n) {
    double *y = malloc(n * sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

static void ok(vkt_status s, const vkt_error *e) {
    if (s != VKT_OK) print_error("unexpected error: %s\n", e->msg);
    assert_int_equal(s, VKT_OK);
}

// |got - want| <= atol + rtol |want|, element by element.
static void near(const char *what, const double *got, const double *want, size_t n, double atol,
                 double rtol) {
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(got[i] - want[i]) <= atol + rtol * fabs(want[i]))) {
            print_error("%s[%zu]: got %.12g, want %.12g (atol %g, rtol %g)\n", what, i, got[i],
                        want[i], atol, rtol);
            fail();
        }
    }
}

static void nearf(const char *what, const float *got, const double *want, size_t n, double atol,
                  double rtol) {
    double *g = to_f64(got, n);
    near(what, g, want, n, atol, rtol);
    free(g);
}

static void near1(const char *what, double got, double want, double atol) {
    near(what, &got, &want, 1, atol, 0);
}

// ---------------------------------------------------------------------------------
// matmul against explicit transposition and a triple loop written here.

static void test_matmul_forward(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 1);
    vkt_error e;
    int M = 3, N = 5, K = 17;
    double *a = randv(&r, (size_t)M * K, -1, 1), *b = randv(&r, (size_t)K * N, -1, 1);
    double *at = malloc(sizeof(double) * M * K), *bt = malloc(sizeof(double) * K * N);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) at[k * M + m] = a[m * K + k];
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) bt[n * K + k] = b[k * N + n];
    double *c0 = randv(&r, (size_t)M * N, -1, 1), *bias = randv(&r, N, -1, 1);
    double want[15];
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += a[m * K + k] * b[k * N + n];
            want[m * N + n] = 0.5 * s - 2.0 * c0[m * N + n] + bias[n];
        }
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            double c[15];
            memcpy(c, c0, sizeof c);
            ok(vkt_ref_matmul_f64(ta, tb, M, N, K, 0.5, ta ? at : a, tb ? bt : b, -2.0, c, bias,
                                  &e),
               &e);
            near("matmul_f64", c, want, 15, 1e-13, 1e-13);
            // float: inputs rounded to float, so compare with a float-sized tolerance
            float *fa = to_f32(ta ? at : a, (size_t)M * K),
                  *fb = to_f32(tb ? bt : b, (size_t)K * N);
            float *fc = to_f32(c0, 15), *fbias = to_f32(bias, N);
            ok(vkt_ref_matmul(ta, tb, M, N, K, 0.5f, fa, fb, -2.0f, fc, fbias, &e), &e);
            nearf("matmul", fc, want, 15, 1e-5, 1e-5);
            free(fa), free(fb), free(fc), free(fbias);
        }
    // beta == 0 never reads C: NaN there must not leak into the result.
    double c[15];
    for (int i = 0; i < 15; i++) c[i] = NAN;
    ok(vkt_ref_matmul_f64(false, false, M, N, K, 1.0, a, b, 0.0, c, NULL, &e), &e);
    for (int i = 0; i < 15; i++) assert_true(isfinite(c[i]));
    free(a), free(b), free(at), free(bt), free(c0), free(bias);
}

// A long K: the float version accumulates in double, so it stays within a few float
// ulps of the double version (rtol 1e-6) where a float accumulator would drift.
static void test_matmul_long_k(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 2);
    vkt_error e;
    int M = 2, N = 3, K = 4099;
    double *a = randv(&r, (size_t)M * K, 0, 1), *b = randv(&r, (size_t)K * N, 0, 1);
    float *fa = to_f32(a, (size_t)M * K), *fb = to_f32(b, (size_t)K * N);
    double *a2 = to_f64(fa, (size_t)M * K), *b2 = to_f64(fb, (size_t)K * N);
    double c[6];
    float fc[6];
    ok(vkt_ref_matmul_f64(false, false, M, N, K, 1, a2, b2, 0, c, NULL, &e), &e);
    ok(vkt_ref_matmul(false, false, M, N, K, 1, fa, fb, 0, fc, NULL, &e), &e);
    nearf("matmul K=4099", fc, c, 6, 0, 1e-6);
    free(a), free(b), free(fa), free(fb), free(a2), free(b2);
}

// ---------------------------------------------------------------------------------
// embedding

static void test_embedding_forward(void **state) {
    (void)state;
    vkt_error e;
    double wte[3 * 2] = {1, 2, 3, 4, 5, 6}, wpe[4 * 2] = {10, 20, 30, 40, 50, 60, 70, 80};
    int32_t tok[3] = {2, 0, 2}, pos[3] = {3, 0, 1};
    double out[6];
    ok(vkt_ref_embedding_fwd_f64(3, 2, 3, 4, tok, pos, wte, wpe, out, &e), &e);
    double want[6] = {75, 86, 11, 22, 35, 46};
    near("embedding", out, want, 6, 0, 0);
    ok(vkt_ref_embedding_fwd_f64(3, 2, 3, 4, tok, NULL, wte, NULL, out, &e), &e);
    double want2[6] = {5, 6, 1, 2, 5, 6};
    near("embedding without wpe", out, want2, 6, 0, 0);
}

// ---------------------------------------------------------------------------------
// norms

static void test_layernorm_forward(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 3);
    vkt_error e;
    int N = 4, C = 17;
    double *x = randv(&r, (size_t)N * C, -3, 5), w[17], b[17], out[68], mean[4], rstd[4];
    for (int c = 0; c < C; c++) w[c] = 1, b[c] = 0;
    ok(vkt_ref_layernorm_fwd_f64(N, C, 0.0, x, w, b, out, mean, rstd, &e), &e);
    for (int i = 0; i < N; i++) {
        double mu = 0, var = 0, xm = 0, xv = 0;
        for (int c = 0; c < C; c++) mu += out[i * C + c], xm += x[i * C + c];
        mu /= C, xm /= C;
        for (int c = 0; c < C; c++)
            var += (out[i * C + c] - mu) * (out[i * C + c] - mu),
                xv += (x[i * C + c] - xm) * (x[i * C + c] - xm);
        var /= C, xv /= C; // biased, as torch
        near1("layernorm mean(out)", mu, 0, 1e-12);
        near1("layernorm var(out)", var, 1, 1e-12);
        near1("layernorm saved mean", mean[i], xm, 1e-12);
        near1("layernorm saved rstd", rstd[i], 1 / sqrt(xv), 1e-12);
    }
    // float, in place (out aliases in), with w and b: out = xhat w + b.
    for (int c = 0; c < C; c++) w[c] = 0.5 + c, b[c] = c - 3.0;
    ok(vkt_ref_layernorm_fwd_f64(N, C, 1e-5, x, w, b, out, mean, rstd, &e), &e);
    float *fx = to_f32(x, (size_t)N * C), *fw = to_f32(w, C), *fb = to_f32(b, C);
    float fmean[4], frstd[4];
    ok(vkt_ref_layernorm_fwd(N, C, 1e-5f, fx, fw, fb, fx, fmean, frstd, &e), &e);
    nearf("layernorm float in place", fx, out, (size_t)N * C, 1e-4, 1e-5);
    nearf("layernorm float rstd", frstd, rstd, N, 0, 1e-5);
    free(x), free(fx), free(fw), free(fb);
}

static void test_rmsnorm_forward(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 4);
    vkt_error e;
    int N = 3, C = 7;
    double *x = randv(&r, (size_t)N * C, -2, 2), w[7], out[21], rstd[3];
    for (int c = 0; c < C; c++) w[c] = 1;
    ok(vkt_ref_rmsnorm_fwd_f64(N, C, 0.0, x, w, out, rstd, &e), &e);
    for (int i = 0; i < N; i++) {
        double ms = 0, xs = 0;
        for (int c = 0; c < C; c++)
            ms += out[i * C + c] * out[i * C + c], xs += x[i * C + c] * x[i * C + c];
        near1("rmsnorm mean(out^2)", ms / C, 1, 1e-12);
        near1("rmsnorm rstd", rstd[i], 1 / sqrt(xs / C), 1e-12);
        for (int c = 0; c < C; c++) // direction kept: out is a positive multiple of x
            assert_true(out[i * C + c] * x[i * C + c] >= 0);
    }
    free(x);
}

// ---------------------------------------------------------------------------------
// activations

static void test_gelu_forward(void **state) {
    (void)state;
    vkt_error e;
    // gelu(1) = 0.5 (1 + tanh(sqrt(2/pi) * 1.044715)) = 0.8411919906082768 (evaluated
    // independently in Python); gelu(0) = 0; gelu(x) -> x for large x, -> 0 for very negative.
    double x[4] = {0, 1, 10, -10}, out[4];
    ok(vkt_ref_gelu_fwd_f64(4, x, out, &e), &e);
    double want[4] = {0, 0.8411919906082768, 10, 0};
    near("gelu", out, want, 4, 1e-15, 1e-15);
    float fx[4] = {0, 1, 10, -10};
    ok(vkt_ref_gelu_fwd(4, fx, fx, &e), &e); // in place
    nearf("gelu float", fx, want, 4, 1e-7, 1e-7);
}

static void test_swiglu_forward(void **state) {
    (void)state;
    vkt_error e;
    // one fused row (gate | up), F = 2: silu(1) * 2 = 2 / (1 + e^-1), silu(0) * 5 = 0.
    double gu[2 * 4] = {1, 0, 2, 5, -1, 3, 1, 1}, out[2 * 2];
    ok(vkt_ref_swiglu_fwd_f64(2, 2, gu, 4, gu + 2, 4, out, 2, &e), &e);
    double want[4] = {2 / (1 + exp(-1.0)), 0, -1 / (1 + exp(1.0)), 3 / (1 + exp(-3.0))};
    near("swiglu", out, want, 4, 1e-15, 1e-15);
}

// ---------------------------------------------------------------------------------
// RoPE

static void test_rope_forward(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 5);
    vkt_error e;
    // Explicit rotate_half example: D = 4, theta = 10000 -> inv_freq = {1, 0.01}; pos = 1.
    // Pair (x0, x2) turns by 1 rad, pair (x1, x3) by 0.01 rad.
    double x[4] = {1, 1, 0, 0};
    int32_t p1 = 1;
    ok(vkt_ref_rope_fwd_f64(1, 1, 1, 4, 4, &p1, 10000.0, x, &e), &e);
    double want[4] = {cos(1.0), cos(0.01), sin(1.0), sin(0.01)};
    near("rope rotate_half", x, want, 4, 1e-15, 0);

    int B = 2, T = 3, H = 2, D = 6, stride = 2 * H * D + 1;
    int32_t pos[6] = {0, 5, 9, 0, 1000, 3};
    size_t n = (size_t)B * T * stride;
    double *x0 = randv(&r, n, -1, 1), *y = malloc(n * sizeof *y);
    memcpy(y, x0, n * sizeof *y);
    ok(vkt_ref_rope_fwd_f64(B, T, H, D, stride, pos, 10000.0, y, &e), &e);
    for (int row = 0; row < B * T; row++) {
        for (int c = H * D; c < stride; c++) // columns past H*D are not touched
            assert_true(y[row * stride + c] == x0[row * stride + c]);
        for (int h = 0; h < H; h++)
            for (int i = 0; i < D / 2; i++) {
                const double *a = x0 + row * stride + h * D, *b = y + row * stride + h * D;
                double na = a[i] * a[i] + a[i + D / 2] * a[i + D / 2];
                double nb = b[i] * b[i] + b[i + D / 2] * b[i + D / 2];
                near1("rope pair norm", nb, na, 1e-14);
                if (pos[row] == 0) {
                    near1("rope pos 0", b[i], a[i], 0);
                    near1("rope pos 0", b[i + D / 2], a[i + D / 2], 0);
                }
            }
    }
    // Backward (rotation by -angle) undoes the forward.
    ok(vkt_ref_rope_bwd_f64(B, T, H, D, stride, pos, 10000.0, y, &e), &e);
    near("rope bwd(fwd(x))", y, x0, n, 1e-14, 0);
    // Relative position: <R(m) q, R(n) k> depends only on m - n.
    double q[6], k[6], q2[6], k2[6];
    for (int i = 0; i < 6; i++) q[i] = q2[i] = x0[i], k[i] = k2[i] = x0[6 + i];
    int32_t m = 7, nn = 3, m2 = 107, n2 = 103;
    ok(vkt_ref_rope_fwd_f64(1, 1, 1, 6, 6, &m, 500000.0, q, &e), &e);
    ok(vkt_ref_rope_fwd_f64(1, 1, 1, 6, 6, &nn, 500000.0, k, &e), &e);
    ok(vkt_ref_rope_fwd_f64(1, 1, 1, 6, 6, &m2, 500000.0, q2, &e), &e);
    ok(vkt_ref_rope_fwd_f64(1, 1, 1, 6, 6, &n2, 500000.0, k2, &e), &e);
    double d1 = 0, d2 = 0;
    for (int i = 0; i < 6; i++) d1 += q[i] * k[i], d2 += q2[i] * k2[i];
    near1("rope relative position", d2, d1, 1e-13);
    // float against double, positions up to 1000 (angles in double in both).
    float *fx = to_f32(x0, n);
    double *xr = to_f64(fx, n);
    ok(vkt_ref_rope_fwd(B, T, H, D, stride, pos, 10000.0f, fx, &e), &e);
    ok(vkt_ref_rope_fwd_f64(B, T, H, D, stride, pos, 10000.0, xr, &e), &e);
    nearf("rope float", fx, xr, n, 1e-7, 1e-6);
    free(x0), free(y), free(fx), free(xr);
}

// ---------------------------------------------------------------------------------
// attention

static void test_attention_t1_returns_v(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 6);
    vkt_error e;
    int B = 3, H = 4, KVH = 2, D = 5;
    double *q = randv(&r, (size_t)B * H * D, -1, 1), *k = randv(&r, (size_t)B * KVH * D, -1, 1);
    double *v = randv(&r, (size_t)B * KVH * D, -1, 1);
    double out[3 * 4 * 5], lse[3 * 4];
    ok(vkt_ref_attention_fwd_f64(B, 1, H, KVH, D, 0.3, q, H * D, k, KVH * D, v, KVH * D, out, lse,
                                 &e),
       &e);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int g = h / (H / KVH);
            near("attention T=1 out = v", out + (b * H + h) * D, v + (b * KVH + g) * D, D, 0, 0);
            double s = 0;
            for (int d = 0; d < D; d++) s += q[(b * H + h) * D + d] * k[(b * KVH + g) * D + d];
            near1("attention T=1 lse = score", lse[b * H + h], 0.3 * s, 1e-15);
        }
    free(q), free(k), free(v);
}

// Fused-layout GQA attention against a composition written from separate ops: per (b, h),
// S = scale Q K^T (matmul), P = causal softmax(S), O = P V (matmul), lse from S directly.
static void test_attention_composed(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 7);
    vkt_error e;
    int B = 2, T = 7, H = 4, KVH = 2, D = 6, rep = H / KVH;
    int stride = (H + 2 * KVH) * D + 1;
    size_t n = (size_t)B * T * stride;
    double *qkv = randv(&r, n, -2, 2);
    double *out = malloc(sizeof(double) * B * T * H * D), *lse = malloc(sizeof(double) * B * H * T);
    ok(vkt_ref_attention_fwd_f64(B, T, H, KVH, D, 0.4, qkv, stride, qkv + H * D, stride,
                                 qkv + (H + KVH) * D, stride, out, lse, &e),
       &e);
    double Q[7 * 6], K[7 * 6], V[7 * 6], S[7 * 7], P[7 * 7], O[7 * 6];
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int g = h / rep;
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) {
                    const double *row = qkv + (size_t)(b * T + t) * stride;
                    Q[t * D + d] = row[h * D + d];
                    K[t * D + d] = row[H * D + g * D + d];
                    V[t * D + d] = row[(H + KVH) * D + g * D + d];
                }
            ok(vkt_ref_matmul_f64(false, true, T, T, D, 0.4, Q, K, 0, S, NULL, &e), &e);
            ok(vkt_ref_softmax_fwd_f64(T, T, true, S, P, &e), &e);
            ok(vkt_ref_matmul_f64(false, false, T, D, T, 1, P, V, 0, O, NULL, &e), &e);
            for (int t = 0; t < T; t++) {
                near("attention vs composed", out + ((size_t)(b * T + t) * H + h) * D, O + t * D, D,
                     1e-14, 1e-13);
                double sum = 0;
                for (int j = 0; j <= t; j++) sum += exp(S[t * T + j]);
                near1("attention lse", lse[((size_t)b * H + h) * T + t], log(sum), 1e-13);
            }
        }
    // The float version agrees with the double one to float precision.
    float *fqkv = to_f32(qkv, n), *fout = malloc(sizeof(float) * B * T * H * D);
    float *flse = malloc(sizeof(float) * B * H * T);
    double *qkv2 = to_f64(fqkv, n);
    ok(vkt_ref_attention_fwd(B, T, H, KVH, D, 0.4f, fqkv, stride, fqkv + H * D, stride,
                             fqkv + (H + KVH) * D, stride, fout, flse, &e),
       &e);
    ok(vkt_ref_attention_fwd_f64(B, T, H, KVH, D, (double)0.4f, qkv2, stride, qkv2 + H * D, stride,
                                 qkv2 + (H + KVH) * D, stride, out, lse, &e),
       &e);
    nearf("attention float out", fout, out, (size_t)B * T * H * D, 1e-6, 1e-6);
    nearf("attention float lse", flse, lse, (size_t)B * H * T, 1e-6, 1e-6);
    free(qkv), free(out), free(lse), free(fqkv), free(fout), free(flse), free(qkv2);
}

// ---------------------------------------------------------------------------------
// softmax

static void test_softmax_forward(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 8);
    vkt_error e;
    int R = 10, L = 5;
    double *x = randv(&r, (size_t)R * L, -3, 3), out[50];
    x[0] = 1000; // a large logit must not overflow
    for (int causal = 0; causal < 2; causal++) {
        ok(vkt_ref_softmax_fwd_f64(R, L, causal, x, out, &e), &e);
        for (int i = 0; i < R; i++) {
            int vis = causal ? i % L + 1 : L;
            double s = 0;
            for (int j = 0; j < L; j++) {
                assert_true(out[i * L + j] >= 0);
                if (j >= vis) assert_true(out[i * L + j] == 0);
                s += out[i * L + j];
            }
            near1("softmax row sum", s, 1, 1e-14);
        }
        near1("softmax with a 1000 logit", out[0], 1, 1e-14);
    }
    // in place, float
    float *fx = to_f32(x, (size_t)R * L);
    ok(vkt_ref_softmax_fwd(R, L, false, fx, fx, &e), &e);
    ok(vkt_ref_softmax_fwd_f64(R, L, false, x, out, &e), &e);
    nearf("softmax float in place", fx, out, (size_t)R * L, 1e-7, 1e-6);
    free(x), free(fx);
}

// ---------------------------------------------------------------------------------
// cross-entropy

static void test_cross_entropy_forward(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 9);
    vkt_error e;
    // Uniform logits (any constant c): loss = w log V, lse = c + log V. V = 5003 is wider
    // than any workgroup.
    int N = 3, V = 5003;
    double *lg = malloc(sizeof(double) * N * V), *dl = malloc(sizeof(double) * N * V);
    for (size_t i = 0; i < (size_t)N * V; i++) lg[i] = 2.5;
    int32_t tgt[3] = {0, 5002, -7};
    double w[3] = {1, 2, 0}, loss[3], lse[3];
    ok(vkt_ref_cross_entropy_f64(N, V, lg, tgt, w, 1.0, loss, dl, lse, &e), &e);
    double want[3] = {log(V), 2 * log(V), 0};
    near("cross_entropy uniform loss", loss, want, 3, 1e-12, 0);
    for (int i = 0; i < N; i++) near1("cross_entropy lse", lse[i], 2.5 + log(V), 1e-12);
    // dlogits rows: softmax - onehot sums to 0 (times weight), masked row is all 0,
    // target entry is w (1/V - 1).
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < V; j++) s += dl[(size_t)i * V + j];
        near1("cross_entropy dlogits row sum", s, 0, 1e-12);
    }
    near1("cross_entropy dlogits target", dl[(size_t)1 * V + 5002], 2 * (1.0 / V - 1), 1e-12);
    for (int j = 0; j < V; j++) assert_true(dl[(size_t)2 * V + j] == 0);
    // Random logits: float in place (dlogits aliases logits) equals out of place.
    int N2 = 4, V2 = 17;
    double *x = randv(&r, (size_t)N2 * V2, -4, 4);
    float *f1 = to_f32(x, (size_t)N2 * V2), *f2 = to_f32(x, (size_t)N2 * V2);
    float *fd = malloc(sizeof(float) * N2 * V2);
    int32_t t2[4] = {16, 0, 3, 100};
    float w2[4] = {1.5f, -1.0f, 0.25f, 0.0f}, l1[4], l2[4];
    ok(vkt_ref_cross_entropy(N2, V2, f1, t2, w2, 0.5f, l1, fd, NULL, &e), &e);
    ok(vkt_ref_cross_entropy(N2, V2, f2, t2, w2, 0.5f, l2, f2, NULL, &e), &e);
    assert_memory_equal(fd, f2, sizeof(float) * N2 * V2);
    assert_memory_equal(l1, l2, sizeof l1);
    // loss = w (logsumexp - logit[target]) computed here directly
    for (int i = 0; i < N2; i++) {
        double s = 0;
        for (int j = 0; j < V2; j++) s += exp((double)f1[i * V2 + j]);
        double want_i = w2[i] == 0 ? 0 : w2[i] * (log(s) - f1[i * V2 + t2[i]]);
        near1("cross_entropy loss", l1[i], want_i, 1e-6);
    }
    free(lg), free(dl), free(x), free(f1), free(f2), free(fd);
}

// ---------------------------------------------------------------------------------
// AdamW, norms, helpers

// Two steps by hand, p0 = 1, lr = 0.1, betas (0.9, 0.999), eps = 1e-8, wd = 0.01,
// grad_scale = 2, raw grads 0.5 then 0.25 (so g = 1 then 0.5):
// step 1: m = 0.1, v = 0.001, mhat = vhat = 1, p = 1 (1 - 0.001) - 0.1 / (1 + 1e-8).
// step 2: m = 0.09 + 0.05 = 0.14, v = 0.000999 + 0.00025 = 0.001249,
//   p = p1 (1 - 0.001) - 0.1 (0.14 / 0.19) / (sqrt(0.001249 / 0.001999) + 1e-8).
static void test_adamw_two_steps(void **state) {
    (void)state;
    vkt_error e;
    double p1 = 0.999 - 0.1 / (1 + 1e-8);
    double p2 = p1 * 0.999 - 0.1 * (0.14 / 0.19) / (sqrt(0.001249 / 0.001999) + 1e-8);
    double p = 1, m = 0, v = 0, g = 0.5;
    ok(vkt_ref_adamw_f64(1, &p, &g, &m, &v, 0.1, 0.9, 0.999, 1e-8, 0.01, 2.0, 1, &e), &e);
    near1("adamw step 1 p", p, p1, 1e-15);
    near1("adamw step 1 m", m, 0.1, 1e-15);
    near1("adamw step 1 v", v, 0.001, 1e-15);
    g = 0.25;
    ok(vkt_ref_adamw_f64(1, &p, &g, &m, &v, 0.1, 0.9, 0.999, 1e-8, 0.01, 2.0, 2, &e), &e);
    near1("adamw step 2 p", p, p2, 1e-14);
    near1("adamw step 2 m", m, 0.14, 1e-15);
    near1("adamw step 2 v", v, 0.001249, 1e-15);
    assert_true(fabs(p2 - 0.8048830382971611) < 1e-12); // same, evaluated in Python

    float fp[2] = {1, -3}, fm[2] = {0, 0}, fv[2] = {0, 0}, fg[2] = {0.5f, 0};
    ok(vkt_ref_adamw(2, fp, fg, fm, fv, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 2.0f, 1, &e), &e);
    fg[0] = 0.25f;
    ok(vkt_ref_adamw(2, fp, fg, fm, fv, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 2.0f, 2, &e), &e);
    near1("adamw float p", fp[0], p2, 1e-6);
    // zero gradient: only the decay acts, p = -3 (1 - 0.001)^2
    near1("adamw decay only", fp[1], -3 * 0.999 * 0.999, 1e-6);
}

static void test_grad_norm_and_clip(void **state) {
    (void)state;
    vkt_error e;
    float g[2] = {3, 4};
    double norm, f, ss1, ss2;
    ok(vkt_ref_grad_norm(2, g, &norm, &e), &e);
    near1("grad_norm", norm, 5, 0);
    ok(vkt_ref_clip_factor(norm, 1.0, &f, &e), &e);
    near1("clip factor", f, 1.0 / (5 + 1e-6), 1e-16);
    ok(vkt_ref_clip_factor(norm, 10.0, &f, &e), &e);
    near1("clip factor clamped to 1", f, 1, 0);
    ok(vkt_ref_clip_factor(0.0, 1.0, &f, &e), &e);
    near1("clip factor at norm 0", f, 1, 0);
    // two tensors: norms combine through sums of squares
    float h[1] = {12};
    ok(vkt_ref_sum_squares(2, g, &ss1, &e), &e);
    ok(vkt_ref_sum_squares(1, h, &ss2, &e), &e);
    near1("global norm of two tensors", sqrt(ss1 + ss2), 13, 0);
}

static void test_elementwise(void **state) {
    (void)state;
    vkt_error e;
    float x[3] = {1, 2, 3}, y[3] = {NAN, NAN, NAN};
    ok(vkt_ref_axpby(3, 2.0f, x, 0.0f, y, &e), &e); // b == 0: NaN in y is not read
    double want[3] = {2, 4, 6};
    nearf("axpby b=0", y, want, 3, 0, 0);
    ok(vkt_ref_axpby(3, 1.0f, x, -0.5f, y, &e), &e);
    double want2[3] = {0, 0, 0};
    nearf("axpby", y, want2, 3, 0, 0);
    ok(vkt_ref_axpby(3, 1.0f, x, 1.0f, x, &e), &e); // x aliases y: add to itself
    double want3[3] = {2, 4, 6};
    nearf("axpby aliased", x, want3, 3, 0, 0);
    ok(vkt_ref_scale(3, -0.5f, x, &e), &e);
    double want4[3] = {-1, -2, -3};
    nearf("scale", x, want4, 3, 0, 0);
    ok(vkt_ref_fill(3, 7.5f, x, &e), &e);
    double want5[3] = {7.5, 7.5, 7.5};
    nearf("fill", x, want5, 3, 0, 0);
    float h[2 * 3] = {0, 1, 2, 3, 4, 5}, vv[3] = {1, -1, 2};
    ok(vkt_ref_add_row_vector(2, 3, 0.5f, vv, h, &e), &e);
    double want6[6] = {0.5, 0.5, 3, 3.5, 3.5, 6};
    nearf("add_row_vector", h, want6, 6, 0, 0);
}

// The float backward passes agree with the double ones (they share one source; this
// catches a precision-specific slip such as a float accumulator).
static void test_float_backward_matches_double(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 10);
    vkt_error e;
    int N = 3, C = 65;
    size_t n = (size_t)N * C;
    float *x = randf(&r, n, -2, 2), *dy = randf(&r, n, -1, 1);
    float *w = randf(&r, C, 0.5, 1.5), *b = randf(&r, C, -1, 1);
    double *xd = to_f64(x, n), *dyd = to_f64(dy, n), *wd = to_f64(w, C), *bd = to_f64(b, C);
    float out[195], mean[3], rstd[3], dx[195] = {0}, dw[65] = {0}, db[65] = {0};
    double outd[195], meand[3], rstdd[3], dxd[195] = {0}, dwd[65] = {0}, dbd[65] = {0};
    ok(vkt_ref_layernorm_fwd(N, C, 1e-5f, x, w, b, out, mean, rstd, &e), &e);
    ok(vkt_ref_layernorm_fwd_f64(N, C, (double)1e-5f, xd, wd, bd, outd, meand, rstdd, &e), &e);
    ok(vkt_ref_layernorm_bwd(N, C, dy, x, w, mean, rstd, dx, dw, db, &e), &e);
    ok(vkt_ref_layernorm_bwd_f64(N, C, dyd, xd, wd, meand, rstdd, dxd, dwd, dbd, &e), &e);
    nearf("layernorm float dx", dx, dxd, n, 1e-6, 1e-5);
    nearf("layernorm float dw", dw, dwd, C, 1e-6, 1e-5);
    nearf("layernorm float db", db, dbd, C, 1e-6, 1e-6);

    int B = 1, T = 5, H = 2, KVH = 1, D = 4;
    size_t nq = (size_t)T * H * D, nk = (size_t)T * KVH * D;
    float *q = randf(&r, nq, -1, 1), *k = randf(&r, nk, -1, 1);
    float *v = randf(&r, nk, -1, 1), *go = randf(&r, nq, -1, 1);
    double *qd = to_f64(q, nq), *kd = to_f64(k, nk), *vd = to_f64(v, nk), *god = to_f64(go, nq);
    float o[40], l[10], dq[40] = {0}, dk[20] = {0}, dv[20] = {0};
    double od[40], ld[10], dqd[40] = {0}, dkd[20] = {0}, dvd[20] = {0};
    ok(vkt_ref_attention_fwd(B, T, H, KVH, D, 0.5f, q, H * D, k, D, v, D, o, l, &e), &e);
    ok(vkt_ref_attention_fwd_f64(B, T, H, KVH, D, 0.5, qd, H * D, kd, D, vd, D, od, ld, &e), &e);
    ok(vkt_ref_attention_bwd(B, T, H, KVH, D, 0.5f, go, q, H * D, k, D, v, D, o, l, dq, dk, dv, &e),
       &e);
    ok(vkt_ref_attention_bwd_f64(B, T, H, KVH, D, 0.5, god, qd, H * D, kd, D, vd, D, od, ld, dqd,
                                 dkd, dvd, &e),
       &e);
    nearf("attention float dq", dq, dqd, nq, 1e-6, 1e-5);
    nearf("attention float dk", dk, dkd, nk, 1e-6, 1e-5);
    nearf("attention float dv", dv, dvd, nk, 1e-6, 1e-5);
    free(x), free(dy), free(w), free(b), free(xd), free(dyd), free(wd), free(bd);
    free(q), free(k), free(v), free(go), free(qd), free(kd), free(vd), free(god);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_forward),
        cmocka_unit_test(test_matmul_long_k),
        cmocka_unit_test(test_embedding_forward),
        cmocka_unit_test(test_layernorm_forward),
        cmocka_unit_test(test_rmsnorm_forward),
        cmocka_unit_test(test_gelu_forward),
        cmocka_unit_test(test_swiglu_forward),
        cmocka_unit_test(test_rope_forward),
        cmocka_unit_test(test_attention_t1_returns_v),
        cmocka_unit_test(test_attention_composed),
        cmocka_unit_test(test_softmax_forward),
        cmocka_unit_test(test_cross_entropy_forward),
        cmocka_unit_test(test_adamw_two_steps),
        cmocka_unit_test(test_grad_norm_and_clip),
        cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_float_backward_matches_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
