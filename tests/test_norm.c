// test_norm.c: layernorm and rmsnorm (forward, backward: shaders/layernorm_fwd.comp,
// layernorm_bwd.comp and the fixed-order dw/db pass layernorm_bwd_reduce.comp) against the C
// reference on awkward shapes, in place, at unaligned view offsets, with bindings forced small,
// bit-exact repeatability of the parameter gradients, and bad calls.
// Tolerances (|got - want| <= atol + rtol*|want|; the reference sums in double, the
// shaders in float over C or over row blocks):
//   forward out, mean, rstd:  atol 1e-5, rtol 1e-5 (rows of C=3 with a tiny variance
//                             amplify float rounding of x - mean: seen 2.3e-6)
//   backward din, dw, db:     atol 2e-5, rtol 2e-5 (all shapes pass at 1e-5 here)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_norm.h"
#include "reference.h"
#include "support_gpu.h"

#define FWD_ATOL 1e-5
#define FWD_RTOL 1e-5
#define BWD_ATOL 2e-5
#define BWD_RTOL 2e-5

// A device copy of host data placed `pad` floats into its buffer (unaligned views).
typedef struct {
    vkt_buffer *buf;
    vkt_view v;
    uint64_t n, pad;
} dev;

static dev dev_make(vkt_ctx *ctx, const float *host, uint64_t n, uint64_t pad) {
    float *h = calloc(n + pad, 4);
    assert_non_null(h);
    for (uint64_t i = 0; i < pad; i++) h[i] = 1234.5f; // sentinel: must survive
    if (host) memcpy(h + pad, host, n * 4);
    dev d = {test_upload(ctx, h, n + pad), {0}, n, pad};
    d.v = vkt_view_f32(vkt_view_all(d.buf), pad, n);
    free(h);
    return d;
}

static float *dev_get(vkt_ctx *ctx, dev d) {
    float *all = test_download(ctx, d.buf, d.n + d.pad);
    for (uint64_t i = 0; i < d.pad; i++) assert_true(all[i] == 1234.5f);
    float *h = malloc(d.n * 4 + 4);
    memcpy(h, all + d.pad, d.n * 4);
    free(all);
    return h;
}

static void dev_free(vkt_ctx *ctx, dev d) { vkt_buffer_destroy(ctx, d.buf); }

// One shape: forward and backward of layernorm (rms = false) or rmsnorm vs reference.
static void check_norm(vkt_ctx *ctx, bool rms, int N, int C, uint64_t pad, bool inplace) {
    const char *name = rms ? "rmsnorm" : "layernorm";
    uint64_t nc = (uint64_t)N * C;
    float *x = malloc(nc * 4), *w = malloc(C * 4), *b = malloc(C * 4), *dy = malloc(nc * 4);
    float *y = malloc(nc * 4), *mean = malloc(N * 4), *rstd = malloc(N * 4);
    float *dx = malloc(nc * 4), *dw = malloc(C * 4), *db = malloc(C * 4);
    test_fill_uniform(x, nc, 1 + N + C, -2, 3); // non-zero mean
    test_fill_uniform(w, C, 2, 0.5f, 1.5f);
    test_fill_uniform(b, C, 3, -1, 1);
    test_fill_uniform(dy, nc, 4, -1, 1);
    test_fill_uniform(dx, nc, 5, -1, 1); // backward accumulates into these
    test_fill_uniform(dw, C, 6, -1, 1);
    test_fill_uniform(db, C, 7, -1, 1);
    const float eps = 1e-5f;
    dev gx = dev_make(ctx, x, nc, pad), gw = dev_make(ctx, w, C, pad + 1),
        gb = dev_make(ctx, b, C, pad + 2);
    dev gy = inplace ? gx : dev_make(ctx, NULL, nc, pad + 3);
    dev gmean = dev_make(ctx, NULL, N, pad), grstd = dev_make(ctx, NULL, N, pad + 1);
    if (rms)
        TEST_OK(ctx, vkt_rmsnorm_fwd(ctx, N, C, eps, gx.v, gw.v, gy.v, grstd.v));
    else
        TEST_OK(ctx, vkt_layernorm_fwd(ctx, N, C, eps, gx.v, gw.v, gb.v, gy.v, gmean.v, grstd.v));
    vkt_error err = {0};
    if (rms)
        assert_int_equal(vkt_ref_rmsnorm_fwd(N, C, eps, x, w, y, rstd, &err), VKT_OK);
    else
        assert_int_equal(vkt_ref_layernorm_fwd(N, C, eps, x, w, b, y, mean, rstd, &err), VKT_OK);
    char label[128];
    float *got = dev_get(ctx, gy);
    snprintf(label, sizeof label, "%s_fwd out N=%d C=%d", name, N, C);
    assert_true(test_close(label, got, y, nc, FWD_ATOL, FWD_RTOL));
    free(got);
    got = dev_get(ctx, grstd);
    snprintf(label, sizeof label, "%s_fwd rstd N=%d C=%d", name, N, C);
    assert_true(test_close(label, got, rstd, N, FWD_ATOL, FWD_RTOL));
    free(got);
    if (!rms) {
        got = dev_get(ctx, gmean);
        snprintf(label, sizeof label, "%s_fwd mean N=%d C=%d", name, N, C);
        assert_true(test_close(label, got, mean, N, FWD_ATOL, FWD_RTOL));
        free(got);
    }
    if (inplace) { // the backward needs the input: put it back
        TEST_OK(ctx, vkt_upload(ctx, gx.v, x, nc * 4));
    }

    // Backward, from the reference's saved statistics (so only the backward is tested).
    TEST_OK(ctx, vkt_upload(ctx, grstd.v, rstd, N * 4));
    if (!rms) TEST_OK(ctx, vkt_upload(ctx, gmean.v, mean, N * 4));
    dev gdy = dev_make(ctx, dy, nc, pad + 1), gdx = dev_make(ctx, dx, nc, pad);
    dev gdw = dev_make(ctx, dw, C, pad + 2), gdb = dev_make(ctx, db, C, pad + 3);
    uint64_t sb = rms ? vkt_rmsnorm_bwd_scratch_bytes(N, C) : vkt_layernorm_bwd_scratch_bytes(N, C);
    assert_true(sb > 0);
    vkt_buffer *scratch = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, sb + 4, &scratch));
    vkt_view sv = {scratch, 4, sb};
    if (rms)
        TEST_OK(ctx, vkt_rmsnorm_bwd(ctx, N, C, gdy.v, gx.v, gw.v, grstd.v, gdx.v, gdw.v, sv));
    else
        TEST_OK(ctx, vkt_layernorm_bwd(ctx, N, C, gdy.v, gx.v, gw.v, gmean.v, grstd.v, gdx.v, gdw.v,
                                       gdb.v, sv));
    if (rms)
        assert_int_equal(vkt_ref_rmsnorm_bwd(N, C, dy, x, w, rstd, dx, dw, &err), VKT_OK);
    else
        assert_int_equal(vkt_ref_layernorm_bwd(N, C, dy, x, w, mean, rstd, dx, dw, db, &err),
                         VKT_OK);
    got = dev_get(ctx, gdx);
    snprintf(label, sizeof label, "%s_bwd din N=%d C=%d", name, N, C);
    assert_true(test_close(label, got, dx, nc, BWD_ATOL, BWD_RTOL));
    free(got);
    float *dw1 = dev_get(ctx, gdw);
    snprintf(label, sizeof label, "%s_bwd dw N=%d C=%d", name, N, C);
    assert_true(test_close(label, dw1, dw, C, BWD_ATOL, BWD_RTOL));
    float *db1 = NULL;
    if (!rms) {
        db1 = dev_get(ctx, gdb);
        snprintf(label, sizeof label, "%s_bwd db N=%d C=%d", name, N, C);
        assert_true(test_close(label, db1, db, C, BWD_ATOL, BWD_RTOL));
    }
    // Determinism: the same call from the same start gives the same bits.
    float *dwz = calloc(C, 4), *r1 = NULL, *r2 = NULL;
    for (int rep = 0; rep < 2; rep++) {
        TEST_OK(ctx, vkt_upload(ctx, gdw.v, dwz, C * 4));
        TEST_OK(ctx, vkt_upload(ctx, gdb.v, dwz, C * 4));
        if (rms)
            TEST_OK(ctx, vkt_rmsnorm_bwd(ctx, N, C, gdy.v, gx.v, gw.v, grstd.v, gdx.v, gdw.v, sv));
        else
            TEST_OK(ctx, vkt_layernorm_bwd(ctx, N, C, gdy.v, gx.v, gw.v, gmean.v, grstd.v, gdx.v,
                                           gdw.v, gdb.v, sv));
        float *g = dev_get(ctx, gdw);
        if (!rms) {
            float *g2 = dev_get(ctx, gdb);
            g = realloc(g, 2 * C * 4);
            memcpy(g + C, g2, C * 4);
            free(g2);
        }
        if (rep == 0)
            r1 = g;
        else
            r2 = g;
    }
    assert_memory_equal(r1, r2, (rms ? 1 : 2) * C * 4);
    free(r1), free(r2), free(dwz), free(dw1), free(db1);
    vkt_buffer_destroy(ctx, scratch);
    dev_free(ctx, gdy), dev_free(ctx, gdx), dev_free(ctx, gdw), dev_free(ctx, gdb);
    dev_free(ctx, gx), dev_free(ctx, gw), dev_free(ctx, gb), dev_free(ctx, gmean),
        dev_free(ctx, grstd);
    if (!inplace) dev_free(ctx, gy);
    free(x), free(w), free(b), free(dy), free(y), free(mean), free(rstd), free(dx), free(dw),
        free(db);
}

static const int NS[] = {1, 3, 17, 129};
static const int CS[] = {1, 3, 17, 63, 257, 4099};

static void test_layernorm_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) check_norm(ctx, false, NS[i], CS[j], (i + j) % 3, false);
    check_norm(ctx, false, 1000, 768, 1, false); // many rows per block
    test_ctx_done(ctx);
}

static void test_rmsnorm_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) check_norm(ctx, true, NS[i], CS[j], (i + j) % 3, false);
    check_norm(ctx, true, 1000, 768, 2, false);
    test_ctx_done(ctx);
}

static void test_norm_inplace(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_norm(ctx, false, 17, 257, 1, true);
    check_norm(ctx, true, 17, 257, 2, true);
    test_ctx_done(ctx);
}

// Bindings of 4 KiB: rows, statistics and partial blocks split over many dispatches,
// blocks straddling dispatches (N=3000: 12 rows a block).
static void test_norm_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    for (int rms = 0; rms < 2; rms++) {
        check_norm(ctx, rms, 129, 257, 1, false);
        check_norm(ctx, rms, 3000, 3, 2, false);
        check_norm(ctx, rms, 17, 1000, 0, true);
    }
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// The shared-memory tree reduction (devices without subgroup arithmetic).
static void test_norm_no_subgroup(void **state) {
    setenv("VKT_DISABLE_SUBGROUP", "1", 1);
    vkt_ctx *ctx = test_ctx();
    assert_false(vkt_ctx_profile(ctx)->use_subgroup);
    for (int rms = 0; rms < 2; rms++) {
        check_norm(ctx, rms, 17, 4099, 1, false);
        check_norm(ctx, rms, 129, 63, 0, false);
        check_norm(ctx, rms, 3, 1, 2, false);
    }
    test_ctx_done(ctx);
    unsetenv("VKT_DISABLE_SUBGROUP");
}

static void test_norm_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int N = 4, C = 8;
    float h[32];
    test_fill_uniform(h, 32, 9, -1, 1);
    vkt_buffer *x = test_upload(ctx, h, 32), *w = test_upload(ctx, h, 8),
               *b = test_upload(ctx, h, 8);
    vkt_buffer *y = test_upload(ctx, h, 32), *st = test_upload(ctx, h, 4),
               *st2 = test_upload(ctx, h, 4);
    vkt_buffer *dw = test_upload(ctx, h, 8), *db = test_upload(ctx, h, 8);
    vkt_buffer *scr = test_upload(ctx, NULL, vkt_layernorm_bwd_scratch_bytes(N, C) / 4);
    vkt_view X = vkt_view_all(x), W = vkt_view_all(w), B = vkt_view_all(b), Y = vkt_view_all(y);
    vkt_view S = vkt_view_all(st), S2 = vkt_view_all(st2), DW = vkt_view_all(dw),
             DB = vkt_view_all(db);
    vkt_view SCR = vkt_view_all(scr), none = {0};
    vkt_view small = vkt_view_f32(Y, 0, 31);
    assert_int_equal(vkt_layernorm_fwd(ctx, 0, C, 1e-5f, X, W, B, Y, S, S2), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "layernorm"));
    assert_int_equal(vkt_layernorm_fwd(ctx, N, 0, 1e-5f, X, W, B, Y, S, S2), VKT_ERR_ARG);
    assert_int_equal(vkt_layernorm_fwd(ctx, N, C, -1.0f, X, W, B, Y, S, S2), VKT_ERR_ARG);
    assert_int_equal(vkt_layernorm_fwd(ctx, N, C, 1e-5f, X, W, B, small, S, S2), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "out"));
    assert_int_equal(vkt_layernorm_fwd(ctx, N, C, 1e-5f, X, W, none, Y, S, S2), VKT_ERR_ARG);
    assert_int_equal(vkt_layernorm_fwd(ctx, N + 1, C, 1e-5f, X, W, B, Y, S, S2), VKT_ERR_ARG);
    assert_int_equal(vkt_rmsnorm_fwd(ctx, N, C, 1e-5f, X, vkt_view_f32(W, 0, 7), Y, S2),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_rmsnorm_fwd(ctx, N, C, 1e-5f, X, W, Y, vkt_view_f32(S2, 0, 3)),
                     VKT_ERR_ARG);
    assert_int_equal(
        vkt_layernorm_bwd(ctx, N, C, X, X, W, S, S2, Y, DW, DB, vkt_view_f32(SCR, 0, 1)),
        VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "scratch"));
    assert_int_equal(vkt_layernorm_bwd(ctx, N, -3, X, X, W, S, S2, Y, DW, DB, SCR), VKT_ERR_ARG);
    assert_int_equal(vkt_rmsnorm_bwd(ctx, N, C, X, X, W, S2, Y, none, SCR), VKT_ERR_ARG);
    assert_int_equal(vkt_layernorm_bwd_scratch_bytes(0, C), 0);
    // Nothing was written.
    vkt_buffer *outs[] = {y, st, st2, dw, db};
    uint64_t ns[] = {32, 4, 4, 8, 8};
    const float *want[] = {h, h, h, h, h};
    for (int i = 0; i < 5; i++) {
        float *g = test_download(ctx, outs[i], ns[i]);
        assert_memory_equal(g, want[i], ns[i] * 4);
        free(g);
    }
    vkt_buffer *all[] = {x, w, b, y, st, st2, dw, db, scr};
    for (int i = 0; i < 9; i++) vkt_buffer_destroy(ctx, all[i]);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layernorm_shapes), cmocka_unit_test(test_rmsnorm_shapes),
        cmocka_unit_test(test_norm_inplace),     cmocka_unit_test(test_norm_binding_split),
        cmocka_unit_test(test_norm_no_subgroup), cmocka_unit_test(test_norm_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
