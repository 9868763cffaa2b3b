// test_matmul.c: vkt_matmul (both kernel paths, every transpose) and vkt_bias_grad
// against the C references, on awkward shapes, odd view offsets, forced binding splits,
// one real tensor over the 128 MiB binding limit, and bad calls.
//
// Tolerance for matmul: |got - ref| <= atol + rtol |ref| with
//   atol = 1e-4 * sqrt(K) * (|alpha| + 1),  rtol = 1e-5.
// Inputs are uniform in [-1, 1); an fp32 sum of K products of size ~1/3 has a rounding
// error that grows like eps * K / sqrt(2) in the worst random-walk case (about 6e-5 at
// K = 4099), under 1e-4 * sqrt(K) (6.4e-3) with room to spare; the reference sums in
// double. bias_grad: atol = 1e-5 * sqrt(M) + 1e-6, rtol = 1e-5.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_elementwise.h"
#include "op_matmul.h"
#include "reference.h"
#include "support_gpu.h"

typedef struct {
    int M, N, K;
} shape;

// 1, primes, sizes that are no multiple of any tile, multiples of 4 (RGBA32F rows), and
// one dimension of several thousand.
static const shape SHAPES[] = {
    {1, 1, 1},    {3, 17, 63},  {17, 3, 129},  {63, 129, 17}, {129, 257, 3}, {257, 63, 129},
    {3, 5, 4099}, {64, 48, 96}, {17, 20, 128}, {1, 257, 17},  {36, 1, 44},   {4, 260, 768},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof *SHAPES)

// One product on the device vs the reference. Each operand sits at a float offset
// (off) inside a larger buffer; C's buffer has guard floats on both sides that must
// stay untouched. beta == 0 fills C with NaN first (C must then be write-only).
static void check_matmul(vkt_ctx *ctx, vkt_matmul_path path, bool ta, bool tb, shape s, float alpha,
                         float beta, bool with_bias, int off, uint64_t seed) {
    const uint64_t M = (uint64_t)s.M, N = (uint64_t)s.N, K = (uint64_t)s.K, G = 5;
    const uint64_t na = M * K, nb = K * N, nc = M * N;
    float *a = malloc((na + off) * 4), *b = malloc((nb + off) * 4), *bias = malloc((N + off) * 4);
    float *c = malloc((nc + off + G) * 4), *want = malloc((nc + off + G) * 4);
    assert_true(a && b && bias && c && want);
    test_fill_uniform(a, na + off, seed, -1, 1);
    test_fill_uniform(b, nb + off, seed + 1, -1, 1);
    test_fill_uniform(bias, N + off, seed + 2, -1, 1);
    test_fill_uniform(c, nc + off + G, seed + 3, -1, 1);
    if (beta == 0)
        for (uint64_t i = 0; i < nc; i++) c[off + i] = NAN;
    memcpy(want, c, (nc + off + G) * 4);
    assert_int_equal(vkt_ref_matmul(ta, tb, s.M, s.N, s.K, alpha, a + off, b + off, beta,
                                    want + off, with_bias ? bias + off : NULL, NULL),
                     VKT_OK);

    vkt_buffer *ba = test_upload(ctx, a, na + off), *bb = test_upload(ctx, b, nb + off);
    vkt_buffer *bbias = test_upload(ctx, bias, N + off), *bc = test_upload(ctx, c, nc + off + G);
    vkt_view va = vkt_view_f32(vkt_view_all(ba), off, na),
             vb = vkt_view_f32(vkt_view_all(bb), off, nb);
    vkt_view vc = vkt_view_f32(vkt_view_all(bc), off, nc);
    vkt_view vbias = with_bias ? vkt_view_f32(vkt_view_all(bbias), off, N) : (vkt_view){0};
    TEST_OK(ctx,
            vkt_matmul_on_path(ctx, path, ta, tb, s.M, s.N, s.K, alpha, va, vb, beta, vc, vbias));
    float *got = test_download(ctx, bc, nc + off + G);
    char label[160];
    snprintf(label, sizeof label, "matmul %s %c%c M=%d N=%d K=%d alpha=%g beta=%g bias=%d off=%d",
             path == VKT_MATMUL_TEXEL_REGBLOCK ? "texel" : "tiled", ta ? 'T' : 'N', tb ? 'T' : 'N',
             s.M, s.N, s.K, alpha, beta, with_bias, off);
    double atol = 1e-4 * sqrt((double)s.K) * (fabs(alpha) + 1);
    if (!test_close(label, got, want, nc + off + G, atol, 1e-5)) fail_msg("%s", label);
    free(got);
    vkt_buffer_destroy(ctx, ba);
    vkt_buffer_destroy(ctx, bb);
    vkt_buffer_destroy(ctx, bbias);
    vkt_buffer_destroy(ctx, bc);
    free(a), free(b), free(bias), free(c), free(want);
}

// Every shape x every transpose; alpha, beta, bias and offsets vary with the case so
// each combination meets aligned (RGBA32F) and odd (R32F) views.
static void run_shapes(vkt_matmul_path path) {
    vkt_ctx *ctx = test_ctx();
    static const float alphas[] = {1.0f, 0.5f, -2.0f, 1.0f};
    static const float betas[] = {0.0f, -1.25f, 1.0f, 0.0f};
    static const int offs[] = {0, 1, 3, 0, 4};
    int c = 0;
    for (int i = 0; i < NSHAPES; i++)
        for (int t = 0; t < 4; t++, c++)
            check_matmul(ctx, path, t & 2, t & 1, SHAPES[i], alphas[c % 4], betas[(c / 4 + c) % 4],
                         c % 3 != 0, offs[c % 5], 100 + (uint64_t)c);
    test_ctx_done(ctx);
}

static void test_matmul_texel_shapes(void **state) { run_shapes(VKT_MATMUL_TEXEL_REGBLOCK); }
static void test_matmul_tiled_shapes(void **state) { run_shapes(VKT_MATMUL_SHARED_TILED); }

// The default entry point follows the profile (and agrees with the reference).
static void test_matmul_default_path(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_matmul_path path = vkt_ctx_profile(ctx)->matmul_path;
    check_matmul(ctx, path, false, true, (shape){33, 65, 31}, 1.0f, 0.0f, true, 0, 7);
    // and vkt_matmul itself, on the linear layer's shape
    float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, 0, 1, 1, 1}, bias[2] = {0.5f, -1}, y[4];
    vkt_buffer *bx = test_upload(ctx, x, 6), *bw = test_upload(ctx, w, 6),
               *bb = test_upload(ctx, bias, 2);
    vkt_buffer *by = test_upload(ctx, NULL, 4);
    // y (2, 2) = x (2, 3) W^T (3, 2) + bias
    TEST_OK(ctx, vkt_matmul(ctx, false, true, 2, 2, 3, 1.0f, vkt_view_all(bx), vkt_view_all(bw),
                            0.0f, vkt_view_all(by), vkt_view_all(bb)));
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(by), y, sizeof y));
    float want[4] = {1 + 0.5f, 1 + 2 + 3 - 1, 4 + 0.5f, 4 + 5 + 6 - 1};
    assert_true(test_close("linear", y, want, 4, 0, 0));
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bw), vkt_buffer_destroy(ctx, bb),
        vkt_buffer_destroy(ctx, by);
    test_ctx_done(ctx);
}

// A 4 KiB binding limit (1016 floats per binding): shapes that need M chunks, N chunks
// (B stored (N, K)), K chunks accumulated with beta = 1 (A stored (K, M) and B stored
// (K, N)), and C rows wider than a binding (column windows with a row stride).
static void test_matmul_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    static const shape s[] = {{40, 30, 50}, {20, 300, 70}, {33, 17, 200},
                              {3, 1500, 5}, {64, 48, 96},  {5, 7, 1100}};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
            for (int t = 0; t < 4; t++)
                check_matmul(ctx, p ? VKT_MATMUL_SHARED_TILED : VKT_MATMUL_TEXEL_REGBLOCK, t & 2,
                             t & 1, s[i], t == 1 ? 0.75f : 1.0f, t == 2 ? 0.5f : 0.0f,
                             (i + t) % 2 == 0, (i + t) % 3, 900 + (uint64_t)(i * 4 + t));
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// The GPT-2 tied classifier: logits (2, 50257) = x (2, 768) wte^T, wte (50257, 768) is
// 154 MB, more than lavapipe's 128 MiB binding. A sample of outputs vs a double sum.
static void test_matmul_over_binding(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int M = 2, K = 768, N = 50257;
    const uint64_t nw = (uint64_t)N * K;
    float *x = malloc((size_t)M * K * 4), *w = malloc(nw * 4), *bias = malloc((size_t)N * 4);
    assert_true(x && w && bias);
    test_fill_uniform(x, (uint64_t)M * K, 11, -1, 1);
    test_fill_uniform(w, nw, 12, -1, 1);
    test_fill_uniform(bias, (uint64_t)N, 13, -1, 1);
    assert_true(nw * 4 > vkt_ctx_profile(ctx)->max_binding_bytes ||
                vkt_ctx_profile(ctx)->max_binding_bytes > (1ull << 28));
    vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * K), *bw = test_upload(ctx, w, nw);
    vkt_buffer *bb = test_upload(ctx, bias, (uint64_t)N),
               *by = test_upload(ctx, NULL, (uint64_t)M * N);
    // The device's own path; the tiled path's splitting is covered by test_matmul_split
    // (on lavapipe it would take ~8 s here: 64-row tiles for 2 rows).
    {
        double t0 = test_now_s();
        vkt_matmul_path path = vkt_ctx_profile(ctx)->matmul_path;
        TEST_OK(ctx, vkt_matmul(ctx, false, true, M, N, K, 1.0f, vkt_view_all(bx), vkt_view_all(bw),
                                0.0f, vkt_view_all(by), vkt_view_all(bb)));
        float *y = test_download(ctx, by, (uint64_t)M * N);
        fprintf(stderr, "over-binding logits (%s): %.2f s\n", vkt_matmul_path_name(path),
                test_now_s() - t0);
        // every column near the chunk boundaries and a spread of others
        int bad = 0;
        for (int i = 0; i < 4000; i++) {
            int m = i % M, n = i < 2000 ? (int)(((uint64_t)i * 7919u) % (uint64_t)N)
                                        : (N - 1 - (i - 2000) * 25 % N);
            double acc = 0;
            for (int k = 0; k < K; k++) acc += (double)x[m * K + k] * (double)w[(size_t)n * K + k];
            acc += bias[n];
            double tol = 1e-4 * sqrt((double)K) * 2 + 1e-5 * fabs(acc);
            if (!(fabs(y[(size_t)m * N + n] - acc) <= tol)) {
                if (bad++ < 5)
                    fprintf(stderr, "logits[%d][%d] = %.7g, want %.7g\n", m, n,
                            y[(size_t)m * N + n], acc);
            }
        }
        // and the last column of both rows (the end of the last chunk)
        for (int m = 0; m < M; m++) {
            double acc = bias[N - 1];
            for (int k = 0; k < K; k++)
                acc += (double)x[m * K + k] * (double)w[(size_t)(N - 1) * K + k];
            if (!(fabs(y[(size_t)m * N + N - 1] - acc) <= 1e-2)) bad++;
        }
        free(y);
        assert_int_equal(bad, 0);
    }
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bw), vkt_buffer_destroy(ctx, bb),
        vkt_buffer_destroy(ctx, by);
    free(x), free(w), free(bias);
    test_ctx_done(ctx);
}

static void check_bias_grad(vkt_ctx *ctx, int M, int N, int off, uint64_t seed) {
    const uint64_t n = (uint64_t)M * N;
    float *dc = malloc((n + off) * 4), *db = malloc((N + off + 3) * 4),
          *want = malloc((N + off + 3) * 4);
    test_fill_uniform(dc, n + off, seed, -1, 1);
    test_fill_uniform(db, (uint64_t)N + off + 3, seed + 1, -1, 1);
    memcpy(want, db, ((size_t)N + off + 3) * 4);
    assert_int_equal(vkt_ref_bias_grad(M, N, dc + off, want + off, NULL), VKT_OK);
    vkt_buffer *bdc = test_upload(ctx, dc, n + off),
               *bdb = test_upload(ctx, db, (uint64_t)N + off + 3);
    vkt_view vdc = vkt_view_f32(vkt_view_all(bdc), off, n),
             vdb = vkt_view_f32(vkt_view_all(bdb), off, N);
    TEST_OK(ctx, vkt_bias_grad(ctx, M, N, vdc, vdb));
    float *got = test_download(ctx, bdb, (uint64_t)N + off + 3);
    char label[64];
    snprintf(label, sizeof label, "bias_grad M=%d N=%d off=%d", M, N, off);
    if (!test_close(label, got, want, (uint64_t)N + off + 3, 1e-5 * sqrt((double)M) + 1e-6, 1e-5))
        fail_msg("%s", label);
    // Deterministic: a second run from the same start gives the same bits.
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bdb), db, ((uint64_t)N + off + 3) * 4));
    TEST_OK(ctx, vkt_bias_grad(ctx, M, N, vdc, vdb));
    float *again = test_download(ctx, bdb, (uint64_t)N + off + 3);
    assert_memory_equal(got, again, ((size_t)N + off + 3) * 4);
    free(got), free(again);
    vkt_buffer_destroy(ctx, bdc), vkt_buffer_destroy(ctx, bdb);
    free(dc), free(db), free(want);
}

static void test_bias_grad_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    static const int s[][2] = {{1, 1},    {3, 17},   {17, 3},   {257, 63},
                               {63, 129}, {4099, 5}, {5, 4099}, {129, 257}};
    for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
        check_bias_grad(ctx, s[i][0], s[i][1], i % 3, 50 + (uint64_t)i);
    test_ctx_done(ctx);
}

static void test_bias_grad_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    check_bias_grad(ctx, 100, 37, 1, 60); // row chunks
    check_bias_grad(ctx, 7, 1500, 2, 61); // rows wider than a binding: column windows
    check_bias_grad(ctx, 1, 3000, 0, 62);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// Bad calls return VKT_ERR_ARG with a message naming the op, and write nothing.
static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[64];
    for (int i = 0; i < 64; i++) h[i] = (float)i;
    vkt_buffer *a = test_upload(ctx, h, 64), *b = test_upload(ctx, h, 64),
               *c = test_upload(ctx, h, 64);
    vkt_view va = vkt_view_all(a), vb = vkt_view_all(b), vc = vkt_view_all(c), none = {0};
    vkt_view small = vkt_view_f32(vc, 0, 15);
    for (int p = 0; p < 2; p++) {
        vkt_matmul_path path = p ? VKT_MATMUL_SHARED_TILED : VKT_MATMUL_TEXEL_REGBLOCK;
        // M = 0, negative K
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 0, 4, 4, 1, va, vb, 0, vc, none),
            VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "matmul"));
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 4, 4, -1, 1, va, vb, 0, vc, none),
            VKT_ERR_ARG);
        // C too small for (4, 4); A too small for (8, 9); B too small with transB
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 4, 4, 4, 1, va, vb, 0, small, none),
            VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "C view"));
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 8, 2, 9, 1, va, vb, 0, vc, none),
            VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "A view"));
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, true, 2, 9, 8, 1, va, vb, 0, vc, none),
            VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "B view"));
        // bias too small, NULL operands
        assert_int_equal(vkt_matmul_on_path(ctx, path, false, false, 2, 8, 2, 1, va, vb, 0, vc,
                                            vkt_view_f32(vb, 0, 7)),
                         VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "bias"));
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 2, 2, 2, 1, none, vb, 0, vc, none),
            VKT_ERR_ARG);
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 2, 2, 2, 1, va, none, 0, vc, none),
            VKT_ERR_ARG);
        assert_int_equal(
            vkt_matmul_on_path(ctx, path, false, false, 2, 2, 2, 1, va, vb, 0, none, none),
            VKT_ERR_ARG);
    }
    assert_int_equal(
        vkt_matmul_on_path(ctx, (vkt_matmul_path)7, false, false, 2, 2, 2, 1, va, vb, 0, vc, none),
        VKT_ERR_ARG);
    assert_int_equal(vkt_bias_grad(ctx, 0, 4, va, vc), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "bias_grad"));
    assert_int_equal(vkt_bias_grad(ctx, 8, 9, va, vc), VKT_ERR_ARG);     // dC too small
    assert_int_equal(vkt_bias_grad(ctx, 2, 16, va, small), VKT_ERR_ARG); // dbias too small
    assert_int_equal(vkt_bias_grad(ctx, 2, 2, none, vc), VKT_ERR_ARG);
    // nothing was written
    float *got = test_download(ctx, c, 64);
    assert_memory_equal(got, h, sizeof h);
    free(got);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, b), vkt_buffer_destroy(ctx, c);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_texel_shapes), cmocka_unit_test(test_matmul_tiled_shapes),
        cmocka_unit_test(test_matmul_default_path), cmocka_unit_test(test_matmul_split),
        cmocka_unit_test(test_matmul_over_binding), cmocka_unit_test(test_bias_grad_shapes),
        cmocka_unit_test(test_bias_grad_split),     cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
