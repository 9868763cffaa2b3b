// test_matmul_w16.c: vkt_matmul_w16 (B in bf16 or fp16, both kernel paths, both transB)
// against vkt_ref_matmul_w16 on awkward shapes, views at odd offsets, forced binding
// splits, one B over lavapipe's 128 MiB binding, and bad calls; and the host conversions
// of half.h.
//
// Inputs have a spread: |x| = u * 2^v with u uniform in [-1, 1) and v in [-4, 3], so up to
// 8 and down to fp16 subnormals. B is rounded to 16 bits on the host; the reference
// widens the same bits, so the only difference left is fp32 summation order, bounded as
// in test_matmul.c scaled by the operands' largest magnitudes (8 x 8):
//   atol = 1e-4 * sqrt(K) * (|alpha| + 1) * 64,  rtol = 1e-5.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "op_matmul.h"
#include "reference.h"
#include "support_gpu.h"

typedef struct {
    int M, N, K;
} shape;

// Every size of {1, 3, 17, 64, 129, 1000} in every position, mixed.
static const shape SHAPES[] = {
    {1, 1, 1},       {1, 1000, 64},   {3, 17, 1000},  {17, 129, 3},   {64, 64, 64},
    {129, 3, 17},    {1000, 17, 129}, {3, 1000, 129}, {17, 1000, 17}, {64, 129, 1000},
    {1000, 1, 1000}, {1, 129, 1000},  {1000, 64, 3},  {129, 64, 1},   {16, 3072, 64},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof *SHAPES)

// n floats with a spread of magnitudes (see the header).
static void fill_spread(float *x, uint64_t n, uint64_t seed) {
    float *e = malloc(n * sizeof *e);
    assert_non_null(e);
    test_fill_uniform(x, n, seed, -1, 1);
    test_fill_uniform(e, n, seed ^ 0x5eed, -4, 3.999f);
    for (uint64_t i = 0; i < n; i++) x[i] *= exp2f(floorf(e[i]));
    free(e);
}

// n 16-bit values from a spread, rounded to dt.
static uint16_t *make_b16(vkt_dtype16 dt, uint64_t n, uint64_t seed) {
    float *f = malloc(n * sizeof *f);
    uint16_t *h = malloc(n * sizeof *h);
    assert_true(f && h);
    fill_spread(f, n, seed);
    for (uint64_t i = 0; i < n; i++) h[i] = vkt_f32_to_half(dt, f[i]);
    free(f);
    return h;
}

static vkt_buffer *upload_bytes(vkt_ctx *ctx, const void *host, uint64_t bytes) {
    vkt_buffer *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, bytes, &b));
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), host, bytes));
    return b;
}

// One product on the device vs the reference. A, C and bias sit at float offset off,
// B at 16-bit element offset boff (even); C has guard floats after it that must stay
// untouched; beta == 0 fills C with NaN first (C must then be write-only).
static void check_w16(vkt_ctx *ctx, vkt_matmul_path path, vkt_dtype16 dt, bool tb, shape s,
                      float alpha, float beta, bool with_bias, int off, int boff, uint64_t seed) {
    const uint64_t M = (uint64_t)s.M, N = (uint64_t)s.N, K = (uint64_t)s.K, G = 5;
    const uint64_t na = M * K, nb = K * N, nc = M * N;
    float *a = malloc((na + off) * 4), *bias = malloc((N + off) * 4);
    float *c = malloc((nc + off + G) * 4), *want = malloc((nc + off + G) * 4);
    assert_true(a && bias && c && want);
    uint16_t *b = make_b16(dt, nb + (uint64_t)boff + 1, seed + 1);
    fill_spread(a, na + off, seed);
    test_fill_uniform(bias, N + off, seed + 2, -1, 1);
    test_fill_uniform(c, nc + off + G, seed + 3, -1, 1);
    if (beta == 0)
        for (uint64_t i = 0; i < nc; i++) c[off + i] = NAN;
    memcpy(want, c, (nc + off + G) * 4);
    assert_int_equal(vkt_ref_matmul_w16(dt, false, tb, s.M, s.N, s.K, alpha, a + off, b + boff,
                                        beta, want + off, with_bias ? bias + off : NULL, NULL),
                     VKT_OK);

    vkt_buffer *ba = test_upload(ctx, a, na + off),
               *bb = upload_bytes(ctx, b, (nb + (uint64_t)boff + 1) * 2);
    vkt_buffer *bbias = test_upload(ctx, bias, N + off), *bc = test_upload(ctx, c, nc + off + G);
    vkt_view va = vkt_view_f32(vkt_view_all(ba), off, na),
             vc = vkt_view_f32(vkt_view_all(bc), off, nc);
    vkt_view vb = {bb, 2 * (uint64_t)boff, 2 * nb};
    vkt_view vbias = with_bias ? vkt_view_f32(vkt_view_all(bbias), off, N) : (vkt_view){0};
    TEST_OK(ctx, vkt_matmul_w16_on_path(ctx, path, dt, false, tb, s.M, s.N, s.K, alpha, va, vb,
                                        beta, vc, vbias));
    float *got = test_download(ctx, bc, nc + off + G);
    char label[160];
    snprintf(label, sizeof label,
             "matmul_w16 %s %s N%c M=%d N=%d K=%d alpha=%g beta=%g bias=%d off=%d boff=%d",
             path == VKT_MATMUL_TEXEL_REGBLOCK ? "texel" : "tiled", vkt_dtype16_name(dt),
             tb ? 'T' : 'N', s.M, s.N, s.K, alpha, beta, with_bias, off, boff);
    double atol = 1e-4 * sqrt((double)s.K) * (fabs(alpha) + 1) * 64;
    if (!test_close(label, got, want, nc + off + G, atol, 1e-5)) fail_msg("%s", label);
    free(got);
    vkt_buffer_destroy(ctx, ba), vkt_buffer_destroy(ctx, bb), vkt_buffer_destroy(ctx, bbias);
    vkt_buffer_destroy(ctx, bc);
    free(a), free(b), free(bias), free(c), free(want);
}

// Every shape x both transB x both dtypes; alpha, beta, bias and offsets vary with the
// case so each kernel variant meets aligned (RGBA32UI) and unaligned (R32UI) views.
static void run_shapes(vkt_matmul_path path) {
    vkt_ctx *ctx = test_ctx();
    static const float alphas[] = {1.0f, 0.5f, -2.0f, 1.0f};
    static const float betas[] = {0.0f, 1.0f, -1.25f, 0.0f};
    static const int offs[] = {0, 1, 3, 0, 4}, boffs[] = {0, 2, 8, 6, 0, 16};
    int c = 0;
    for (int i = 0; i < NSHAPES; i++)
        for (int t = 0; t < 4; t++, c++)
            check_w16(ctx, path, t & 2 ? VKT_F16 : VKT_BF16, t & 1, SHAPES[i], alphas[c % 4],
                      betas[(c / 4 + c) % 4], c % 3 != 0, offs[c % 5], boffs[c % 6],
                      300 + (uint64_t)c);
    test_ctx_done(ctx);
}

static void test_w16_texel_shapes(void **state) { run_shapes(VKT_MATMUL_TEXEL_REGBLOCK); }
static void test_w16_tiled_shapes(void **state) { run_shapes(VKT_MATMUL_SHARED_TILED); }

// The default entry point: the linear layer y = x W^T + b with W in bf16, by hand.
static void test_w16_linear(void **state) {
    vkt_ctx *ctx = test_ctx();
    float x[6] = {1, 2, 3, 4, 5, 6}, wf[6] = {1, 0.5f, 0, 1, -8, 0.25f}, bias[2] = {0.5f, -1}, y[4];
    for (int d = 0; d < 2; d++) {
        vkt_dtype16 dt = d ? VKT_F16 : VKT_BF16;
        uint16_t w[6];
        for (int i = 0; i < 6; i++) w[i] = vkt_f32_to_half(dt, wf[i]);
        vkt_buffer *bx = test_upload(ctx, x, 6), *bw = upload_bytes(ctx, w, sizeof w);
        vkt_buffer *bb = test_upload(ctx, bias, 2), *by = test_upload(ctx, NULL, 4);
        // y (2, 2) = x (2, 3) W^T (3, 2) + bias
        TEST_OK(ctx, vkt_matmul_w16(ctx, dt, false, true, 2, 2, 3, 1.0f, vkt_view_all(bx),
                                    vkt_view_all(bw), 0.0f, vkt_view_all(by), vkt_view_all(bb)));
        TEST_OK(ctx, vkt_download(ctx, vkt_view_all(by), y, sizeof y));
        float want[4] = {1 + 1 + 0.5f, 1 - 8 * 2 + 0.75f - 1, 4 + 2.5f + 0.5f,
                         4 - 8 * 5 + 1.5f - 1};
        assert_true(test_close("linear w16", y, want, 4, 0, 0));
        vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bw), vkt_buffer_destroy(ctx, bb);
        vkt_buffer_destroy(ctx, by);
    }
    test_ctx_done(ctx);
}

// A 4 KiB binding limit (about 2000 16-bit values per binding): B split by rows, by
// k-chunks accumulated with beta = 1, and rows of B wider than a binding (K = 3001: the
// windows start at odd elements).
static void test_w16_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    static const shape s[] = {
        {3, 1500, 5}, {20, 300, 70}, {5, 7, 1100}, {2, 40, 3001}, {33, 17, 200}};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
            for (int t = 0; t < 2; t++)
                check_w16(ctx, p ? VKT_MATMUL_SHARED_TILED : VKT_MATMUL_TEXEL_REGBLOCK,
                          (i + t) % 2 ? VKT_F16 : VKT_BF16, t, s[i], t ? 0.75f : 1.0f,
                          i % 2 ? 0.5f : 0.0f, (i + t) % 2 == 0, (i + t) % 3, 2 * (i % 3),
                          900 + (uint64_t)(i * 4 + t));
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// logits (1, 70000) = x (1, 1024) W^T with W (70000, 1024) bf16: 143 MB, more than
// lavapipe's 128 MiB binding. A sample of outputs (and every chunk edge nearby) vs a
// double sum.
static void test_w16_over_binding(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int M = 1, K = 1024, N = 70000;
    const uint64_t nw = (uint64_t)N * K;
    float *x = malloc((size_t)M * K * 4);
    assert_non_null(x);
    fill_spread(x, (uint64_t)M * K, 21);
    uint16_t *w = make_b16(VKT_BF16, nw, 22);
    const vkt_profile *p = vkt_ctx_profile(ctx);
    assert_true(nw * 2 > p->max_binding_bytes || p->max_binding_bytes > (1ull << 28));
    vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * K), *bw = upload_bytes(ctx, w, nw * 2);
    vkt_buffer *by = test_upload(ctx, NULL, (uint64_t)M * N);
    double t0 = test_now_s();
    TEST_OK(ctx, vkt_matmul_w16(ctx, VKT_BF16, false, true, M, N, K, 1.0f, vkt_view_all(bx),
                                vkt_view_all(bw), 0.0f, vkt_view_all(by), (vkt_view){0}));
    float *y = test_download(ctx, by, (uint64_t)M * N);
    fprintf(stderr, "over-binding bf16 logits (%s): %.2f s\n", vkt_matmul_path_name(p->matmul_path),
            test_now_s() - t0);
    int bad = 0;
    for (int i = 0; i < 6000; i++) {
        int n = i < 3000 ? (int)(((uint64_t)i * 7919u) % (uint64_t)N) : N - 1 - (i - 3000);
        if (i >= 4500)
            n = 65536 - 1500 + (i - 4500); // around the first chunk edge (< 65536 rows fit)
        double acc = 0;
        for (int k = 0; k < K; k++)
            acc += (double)x[k] * (double)vkt_bf16_to_f32(w[(size_t)n * K + k]);
        double tol = 1e-4 * sqrt((double)K) * 64 + 1e-5 * fabs(acc);
        if (!(fabs(y[n] - acc) <= tol) && bad++ < 5)
            fprintf(stderr, "y[%d] = %.7g, want %.7g\n", n, y[n], acc);
    }
    assert_int_equal(bad, 0);
    free(y);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bw), vkt_buffer_destroy(ctx, by);
    free(x), free(w);
    test_ctx_done(ctx);
}

// Bad calls fail with a message that names the input at fault, and write nothing.
static void test_w16_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[64];
    for (int i = 0; i < 64; i++) h[i] = (float)i;
    vkt_buffer *a = test_upload(ctx, h, 64), *b = test_upload(ctx, h, 64),
               *c = test_upload(ctx, h, 64);
    vkt_view va = vkt_view_all(a), vb = vkt_view_all(b), vc = vkt_view_all(c), none = {0};
    for (int p = 0; p < 2; p++) {
        vkt_matmul_path path = p ? VKT_MATMUL_SHARED_TILED : VKT_MATMUL_TEXEL_REGBLOCK;
        // B at an odd 16-bit element (2 bytes in)
        vkt_view odd = {b, 2, 64};
        assert_int_equal(vkt_matmul_w16_on_path(ctx, path, VKT_BF16, false, true, 2, 2, 4, 1, va,
                                                odd, 0, vc, none),
                         VKT_ERR_ARG);
        assert_non_null(
            strstr(vkt_ctx_message(ctx), "B's offset of 2 bytes is not a multiple of 4"));
        assert_int_equal(vkt_matmul_w16_on_path(ctx, path, VKT_F16, true, false, 2, 2, 4, 1, va, vb,
                                                0, vc, none),
                         VKT_ERR_UNSUPPORTED);
        assert_non_null(strstr(vkt_ctx_message(ctx), "transA"));
        vkt_dtype16 bad_dt = (vkt_dtype16)5;
        assert_int_equal(
            vkt_matmul_w16_on_path(ctx, path, bad_dt, false, true, 2, 2, 4, 1, va, vb, 0, vc, none),
            VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "dtype"));
        // B (9, 16) of 16-bit values needs 288 bytes; the view has 256
        assert_int_equal(vkt_matmul_w16_on_path(ctx, path, VKT_BF16, false, true, 2, 9, 16, 1, va,
                                                vb, 0, vc, none),
                         VKT_ERR_ARG);
        assert_non_null(
            strstr(vkt_ctx_message(ctx), "B view of 256 bytes is too small for 144 bf16 values"));
        assert_int_equal(vkt_matmul_w16_on_path(ctx, path, VKT_BF16, false, true, 0, 2, 4, 1, va,
                                                vb, 0, vc, none),
                         VKT_ERR_ARG);
        assert_int_equal(vkt_matmul_w16_on_path(ctx, path, VKT_BF16, false, true, 2, 2, 4, 1, va,
                                                none, 0, vc, none),
                         VKT_ERR_ARG);
        assert_int_equal(vkt_matmul_w16_on_path(ctx, path, VKT_BF16, false, true, 8, 8, 9, 1, va,
                                                vb, 0, vc, none),
                         VKT_ERR_ARG); // A (8, 9) too small
        assert_non_null(strstr(vkt_ctx_message(ctx), "A view"));
    }
    float *got = test_download(ctx, c, 64);
    assert_memory_equal(got, h, sizeof h);
    free(got);
    // the reference validates the same way
    uint16_t hb[4] = {0};
    float ha[4] = {0}, hc[4];
    assert_int_equal(
        vkt_ref_matmul_w16((vkt_dtype16)3, false, false, 1, 1, 1, 1, ha, hb, 0, hc, NULL, NULL),
        VKT_ERR_ARG);
    assert_int_equal(
        vkt_ref_matmul_w16(VKT_BF16, false, false, 1, 1, 1, 1, ha, NULL, 0, hc, NULL, NULL),
        VKT_ERR_ARG);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, b), vkt_buffer_destroy(ctx, c);
    test_ctx_done(ctx);
}

// Host conversions: round to nearest even, NaN kept (quiet), overflow to infinity,
// fp16 subnormals; widening is exact.
static void test_half_host(void **state) {
    assert_int_equal(vkt_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(vkt_f32_to_bf16(-2.0f), 0xc000);
    assert_int_equal(vkt_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);            // tie: to even (down)
    assert_int_equal(vkt_f32_to_bf16(1.0f + 0x1p-7f + 0x1p-8f), 0x3f82);  // tie: to even (up)
    assert_int_equal(vkt_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81); // above the tie
    assert_int_equal(vkt_f32_to_bf16(3.4e38f), 0x7f80);                   // rounds up to infinity
    uint16_t qn = vkt_f32_to_bf16(NAN);
    assert_true((qn & 0x7f80) == 0x7f80 && (qn & 0x7f) != 0);
    uint32_t snan_bits = 0x7f800001u; // a signalling NaN whose payload sits in the dropped bits
    float snan;
    memcpy(&snan, &snan_bits, 4);
    assert_true(isnan(vkt_bf16_to_f32(vkt_f32_to_bf16(snan))));
    assert_true(vkt_bf16_to_f32(0x3f80) == 1.0f && vkt_bf16_to_f32(0xc120) == -10.0f);

    assert_int_equal(vkt_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(vkt_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(vkt_f32_to_f16(65519.0f), 0x7bff);
    assert_int_equal(vkt_f32_to_f16(65520.0f), 0x7c00);        // tie to even: infinity
    assert_int_equal(vkt_f32_to_f16(1.0f + 0x1p-11f), 0x3c00); // tie: to even
    assert_int_equal(vkt_f32_to_f16(0x1p-24f), 0x0001);        // smallest subnormal
    assert_int_equal(vkt_f32_to_f16(0x1p-25f), 0x0000);        // its half: ties to zero
    assert_int_equal(vkt_f32_to_f16(0x1.8p-24f), 0x0002);      // 1.5 ulp: ties to even (2)
    assert_int_equal(vkt_f32_to_f16(-0x1p-14f), 0x8400);       // smallest normal
    assert_true(isnan(vkt_f16_to_f32(vkt_f32_to_f16(NAN))));
    // every finite fp16 survives a round trip through fp32
    for (uint32_t h = 0; h < 0x10000; h++)
        if ((h & 0x7c00) != 0x7c00)
            assert_int_equal(vkt_f32_to_f16(vkt_f16_to_f32((uint16_t)h)), h);
    for (uint32_t h = 0; h < 0x10000; h++)
        if ((h & 0x7f80) != 0x7f80)
            assert_int_equal(vkt_f32_to_bf16(vkt_bf16_to_f32((uint16_t)h)), h);
    assert_string_equal(vkt_dtype16_name(VKT_BF16), "bf16");
    assert_string_equal(vkt_dtype16_name(VKT_F16), "f16");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_host),        cmocka_unit_test(test_w16_linear),
        cmocka_unit_test(test_w16_texel_shapes), cmocka_unit_test(test_w16_tiled_shapes),
        cmocka_unit_test(test_w16_split),        cmocka_unit_test(test_w16_over_binding),
        cmocka_unit_test(test_w16_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
