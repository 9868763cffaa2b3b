// test_activation.c: GELU (tanh), SwiGLU (separate and fused (N, 2F) operands) and the
// steering edit add_row_vector against the C reference, on awkward shapes, with
// bindings forced small, and bad calls.
// Tolerances (|got - want| <= atol + rtol*|want|; the reference computes in double):
//   gelu fwd/bwd:        atol 5e-7, rtol 1e-6 (seen: 1e-7 fwd, 2e-7 bwd; inputs up to |x| = 30)
//   swiglu fwd/bwd:      atol 1e-6, rtol 1e-5
//   add_row_vector:      atol 1e-6, rtol 1e-6 (one multiply-add per element)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_activation.h"
#include "reference.h"
#include "support_gpu.h"

static float *copyf(const float *x, uint64_t n) {
    float *y = malloc(n * 4 + 4);
    memcpy(y, x, n * 4);
    return y;
}

static void check_gelu(vkt_ctx *ctx, uint64_t n, uint64_t off, bool inplace) {
    uint64_t tot = n + off;
    float *x = malloc(tot * 4), *dy = malloc(tot * 4), *dx = malloc(tot * 4);
    test_fill_uniform(x, tot, 11 + n, -6, 6);
    test_fill_uniform(dy, tot, 12, -1, 1);
    test_fill_uniform(dx, tot, 13, -1, 1);
    if (n > 8)
        x[off + 0] = 30, x[off + 1] = -30, x[off + 2] = 0, x[off + 3] = 1e-20f; // saturated tanh
    vkt_buffer *bx = test_upload(ctx, x, tot), *by = inplace ? bx : test_upload(ctx, NULL, tot);
    vkt_view vx = vkt_view_f32(vkt_view_all(bx), off, n),
             vy = vkt_view_f32(vkt_view_all(by), off, n);
    TEST_OK(ctx, vkt_gelu_fwd(ctx, n, vx, vy));
    float *want = inplace ? copyf(x, tot) : calloc(tot, 4);
    vkt_error err = {0};
    assert_int_equal(vkt_ref_gelu_fwd(n, x + off, want + off, &err), VKT_OK);
    float *got = test_download(ctx, by, tot);
    char label[96];
    snprintf(label, sizeof label, "gelu_fwd n=%llu", (unsigned long long)n);
    assert_true(test_close(label, got, want, tot, 5e-7, 1e-6));
    free(got);
    // Backward: din += dout * gelu'(in).
    if (inplace) TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bx), x, tot * 4));
    vkt_buffer *bdy = test_upload(ctx, dy, tot), *bdx = test_upload(ctx, dx, tot);
    TEST_OK(ctx, vkt_gelu_bwd(ctx, n, vx, vkt_view_f32(vkt_view_all(bdy), off, n),
                              vkt_view_f32(vkt_view_all(bdx), off, n)));
    assert_int_equal(vkt_ref_gelu_bwd(n, x + off, dy + off, dx + off, &err), VKT_OK);
    got = test_download(ctx, bdx, tot);
    snprintf(label, sizeof label, "gelu_bwd n=%llu", (unsigned long long)n);
    assert_true(test_close(label, got, dx, tot, 5e-7, 1e-6));
    free(got), free(want);
    vkt_buffer_destroy(ctx, bx);
    if (!inplace) vkt_buffer_destroy(ctx, by);
    vkt_buffer_destroy(ctx, bdy), vkt_buffer_destroy(ctx, bdx);
    free(x), free(dy), free(dx);
}

static void test_gelu(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t ns[] = {1, 3, 17, 63, 257, 4099, 300007};
    for (int i = 0; i < 7; i++) check_gelu(ctx, ns[i], i % 3, false);
    check_gelu(ctx, 1000, 1, true);
    test_ctx_done(ctx);
}

// fused: gate and up are halves of one (N, 2F) buffer, and so are dgate and dup;
// else separate buffers with strides F + 5, F + 2 (out F + 1).
static void check_swiglu(vkt_ctx *ctx, int N, int F, bool fused) {
    int gs = fused ? 2 * F : F + 5, us = fused ? 2 * F : F + 2, os = fused ? F : F + 1;
    uint64_t gn = (uint64_t)N * gs, un = (uint64_t)N * us, on = (uint64_t)N * os;
    float *g = malloc(gn * 4), *u = malloc(un * 4), *dy = malloc(on * 4), *out = malloc(on * 4);
    float *dg = malloc(gn * 4), *du = malloc(un * 4);
    test_fill_uniform(g, gn, 21 + N, -8, 8);
    test_fill_uniform(u, un, 22 + F, -2, 2);
    test_fill_uniform(dy, on, 23, -1, 1);
    test_fill_uniform(out, on, 24, -1, 1); // untouched between rows (strides)
    test_fill_uniform(dg, gn, 25, -1, 1);
    test_fill_uniform(du, un, 26, -1, 1);
    if (fused) { // one buffer: up lives in the second half of each row of g
        for (int i = 0; i < N; i++) memcpy(g + (size_t)i * gs + F, u + (size_t)i * us + F, F * 4);
        free(u), u = g;
        for (int i = 0; i < N; i++) memcpy(dg + (size_t)i * gs + F, du + (size_t)i * us + F, F * 4);
        free(du), du = dg;
    }
    vkt_buffer *bg = test_upload(ctx, g, gn), *bu = fused ? bg : test_upload(ctx, u, un);
    vkt_buffer *bo = test_upload(ctx, out, on), *bdy = test_upload(ctx, dy, on);
    vkt_buffer *bdg = test_upload(ctx, dg, gn), *bdu = fused ? bdg : test_upload(ctx, du, un);
    uint64_t uoff = fused ? (uint64_t)F : 0;
    vkt_view vg = vkt_view_all(bg), vu = vkt_view_f32(vkt_view_all(bu), uoff, un - uoff);
    vkt_view vdg = vkt_view_all(bdg), vdu = vkt_view_f32(vkt_view_all(bdu), uoff, un - uoff);
    vkt_error err = {0};
    TEST_OK(ctx, vkt_swiglu_fwd(ctx, N, F, vg, gs, vu, us, vkt_view_all(bo), os));
    assert_int_equal(vkt_ref_swiglu_fwd(N, F, g, gs, u + uoff, us, out, os, &err), VKT_OK);
    float *got = test_download(ctx, bo, on);
    char label[96];
    snprintf(label, sizeof label, "swiglu_fwd N=%d F=%d%s", N, F, fused ? " fused" : "");
    assert_true(test_close(label, got, out, on, 1e-6, 1e-5));
    free(got);
    TEST_OK(ctx, vkt_swiglu_bwd(ctx, N, F, vkt_view_all(bdy), os, vg, gs, vu, us, vdg, vdu));
    assert_int_equal(vkt_ref_swiglu_bwd(N, F, dy, os, g, gs, u + uoff, us, dg, du + uoff, &err),
                     VKT_OK);
    got = test_download(ctx, bdg, gn);
    snprintf(label, sizeof label, "swiglu_bwd dgate N=%d F=%d%s", N, F, fused ? " fused" : "");
    assert_true(test_close(label, got, dg, gn, 1e-6, 1e-5));
    free(got);
    if (!fused) {
        got = test_download(ctx, bdu, un);
        snprintf(label, sizeof label, "swiglu_bwd dup N=%d F=%d", N, F);
        assert_true(test_close(label, got, du, un, 1e-6, 1e-5));
        free(got);
    }
    vkt_buffer_destroy(ctx, bg), vkt_buffer_destroy(ctx, bo), vkt_buffer_destroy(ctx, bdy),
        vkt_buffer_destroy(ctx, bdg);
    if (!fused) vkt_buffer_destroy(ctx, bu), vkt_buffer_destroy(ctx, bdu), free(u), free(du);
    free(g), free(dy), free(out), free(dg);
}

static const int NS[] = {1, 3, 17, 129};
static const int FS[] = {1, 3, 17, 63, 257, 4099};

static void test_swiglu(void **state) {
    vkt_ctx *ctx = test_ctx();
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) check_swiglu(ctx, NS[i], FS[j], (i + j) % 2 == 0);
    check_swiglu(ctx, 129, 4099, false);
    check_swiglu(ctx, 17, 257, true);
    test_ctx_done(ctx);
}

static void check_rowvec(vkt_ctx *ctx, int N, int C, uint64_t off) {
    uint64_t n = (uint64_t)N * C;
    float *h = malloc((n + off) * 4), *v = malloc(C * 4);
    test_fill_uniform(h, n + off, 31 + N, -3, 3);
    test_fill_uniform(v, C, 32 + C, -1, 1);
    vkt_buffer *bh = test_upload(ctx, h, n + off), *bv = test_upload(ctx, v, C);
    TEST_OK(ctx, vkt_add_row_vector(ctx, N, C, -2.5f, vkt_view_all(bv),
                                    vkt_view_f32(vkt_view_all(bh), off, n)));
    vkt_error err = {0};
    assert_int_equal(vkt_ref_add_row_vector(N, C, -2.5f, v, h + off, &err), VKT_OK);
    float *got = test_download(ctx, bh, n + off);
    char label[96];
    snprintf(label, sizeof label, "add_row_vector N=%d C=%d", N, C);
    assert_true(test_close(label, got, h, n + off, 1e-6, 1e-6));
    free(got), free(h), free(v);
    vkt_buffer_destroy(ctx, bh), vkt_buffer_destroy(ctx, bv);
}

static void test_add_row_vector(void **state) {
    vkt_ctx *ctx = test_ctx();
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) check_rowvec(ctx, NS[i], FS[j], (i + j) % 3);
    test_ctx_done(ctx);
}

static void test_activation_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    check_gelu(ctx, 10007, 1, false);
    check_gelu(ctx, 3001, 2, true);
    check_swiglu(ctx, 129, 63, true);
    check_swiglu(ctx, 17, 257, false);
    check_rowvec(ctx, 129, 257, 1);
    check_rowvec(ctx, 3000, 3, 2);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

static void test_activation_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[64];
    test_fill_uniform(h, 64, 41, -1, 1);
    vkt_buffer *a = test_upload(ctx, h, 64), *b = test_upload(ctx, h, 64),
               *c = test_upload(ctx, h, 64);
    vkt_view A = vkt_view_all(a), B = vkt_view_all(b), Cv = vkt_view_all(c), none = {0};
    assert_int_equal(vkt_gelu_fwd(ctx, 0, A, B), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "gelu"));
    assert_int_equal(vkt_gelu_fwd(ctx, 65, A, B), VKT_ERR_ARG);
    assert_int_equal(vkt_gelu_fwd(ctx, 64, A, none), VKT_ERR_ARG);
    assert_int_equal(vkt_gelu_bwd(ctx, 64, A, vkt_view_f32(A, 0, 63), B), VKT_ERR_ARG);
    assert_int_equal(vkt_swiglu_fwd(ctx, 4, 8, A, 7, A, 8, B, 8), VKT_ERR_ARG); // stride < F
    assert_non_null(strstr(vkt_ctx_message(ctx), "swiglu"));
    assert_int_equal(vkt_swiglu_fwd(ctx, 0, 8, A, 8, A, 8, B, 8), VKT_ERR_ARG);
    assert_int_equal(vkt_swiglu_fwd(ctx, 5, 16, A, 16, A, 16, B, 16),
                     VKT_ERR_ARG); // needs 80 floats
    assert_int_equal(vkt_swiglu_bwd(ctx, 4, 8, A, 8, A, 16, A, 16, B, vkt_view_f32(Cv, 8, 50)),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_add_row_vector(ctx, 4, 16, 1.0f, A, vkt_view_f32(B, 0, 63)), VKT_ERR_ARG);
    assert_int_equal(vkt_add_row_vector(ctx, 4, 0, 1.0f, A, B), VKT_ERR_ARG);
    assert_int_equal(vkt_add_row_vector(ctx, 4, 16, 1.0f, none, B), VKT_ERR_ARG);
    float *g = test_download(ctx, b, 64), *g2 = test_download(ctx, c, 64);
    assert_memory_equal(g, h, sizeof h);
    assert_memory_equal(g2, h, sizeof h);
    free(g), free(g2);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, b), vkt_buffer_destroy(ctx, c);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu),
        cmocka_unit_test(test_swiglu),
        cmocka_unit_test(test_add_row_vector),
        cmocka_unit_test(test_activation_binding_split),
        cmocka_unit_test(test_activation_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
