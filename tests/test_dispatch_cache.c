// test_dispatch_cache.c: the pipeline index (same key, same pipeline; each variant its own),
// cached texel views (made once, reused, retired when the table fills, released at the
// end with the validation layer silent), and identical results with the caches on and off
// (VKT_DISPATCH_CACHE=0 and the switch bench uses).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "op_attention.h"
#include "op_elementwise.h"
#include "op_matmul.h"
#include "op_softmax.h"
#include "support_gpu.h"

static vkt_dispatch elementwise(vkt_view v, uint32_t wg, vkt_bind_kind k0) {
    vkt_dispatch d = {
        .shader = "elementwise", .spec = {wg, 1, 1}, .nspec = 3, .nbind = 2, .push_bytes = 24};
    d.bind[0] = (vkt_binding){v, k0};
    d.bind[1] = (vkt_binding){v, VKT_BIND_WRITE};
    return d;
}

static void test_pipeline_keys(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_buffer *b = test_upload(ctx, NULL, 64);
    vkt_view v = vkt_view_all(b);
    vkt_dispatch_counts c0, c1;
    vkt_dispatch_counts_get(ctx, &c0);
    assert_true(c0.cache_on);
    int a, again, wg, kind, vec4, old;
    vkt_dispatch d = elementwise(v, 64, VKT_BIND_READ);
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &a));
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &again));
    assert_int_equal(a, again);
    d = elementwise(v, 32, VKT_BIND_READ);
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &wg));
    d = elementwise(v, 64, VKT_BIND_WRITE);
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &kind));
    d = elementwise(v, 64, VKT_BIND_READ);
    d.shader = "elementwise_vec4";
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &vec4));
    assert_true(wg != a && kind != a && vec4 != a && wg != kind && wg != vec4 && kind != vec4);
    // A name in a stack buffer (as matmul builds its own) finds the same pipeline.
    char name[32];
    snprintf(name, sizeof name, "%s", "elementwise");
    d = elementwise(v, 32, VKT_BIND_READ);
    d.shader = name;
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &again));
    assert_int_equal(again, wg);
    vkt_dispatch_counts_get(ctx, &c1);
    assert_int_equal(c1.pipelines - c0.pipelines, 4);

    // The old lookup finds the same pipelines, and one it makes is found by the index later.
    TEST_OK(ctx, vkt_dispatch_cache_set(ctx, false));
    d = elementwise(v, 64, VKT_BIND_READ);
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &again));
    assert_int_equal(again, a);
    d = elementwise(v, 16, VKT_BIND_READ);
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &old));
    TEST_OK(ctx, vkt_dispatch_cache_set(ctx, true));
    TEST_OK(ctx, vkt_dispatch_pipeline(ctx, &d, &again));
    assert_int_equal(again, old);
    vkt_dispatch_counts_get(ctx, &c1);
    assert_int_equal(c1.pipelines - c0.pipelines, 5);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

static vkt_status tiny_matmul(vkt_ctx *ctx, vkt_view a, vkt_view b, vkt_view c) {
    vkt_view none = {0};
    return vkt_matmul_on_path(ctx, VKT_MATMUL_TEXEL_REGBLOCK, false, false, 4, 4, 4, 1.0f, a, b,
                              0.0f, c, none);
}

static void test_views_reused(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_buffer *b = test_upload(ctx, NULL, 256);
    vkt_view all = vkt_view_all(b);
    vkt_view a = vkt_view_f32(all, 0, 16), w = vkt_view_f32(all, 64, 16),
             c = vkt_view_f32(all, 128, 16);
    vkt_dispatch_counts c0, c1;
    vkt_dispatch_counts_get(ctx, &c0);
    for (int i = 0; i < 50; i++) TEST_OK(ctx, tiny_matmul(ctx, a, w, c));
    TEST_OK(ctx, vkt_sync(ctx));
    vkt_dispatch_counts_get(ctx, &c1);
    assert_int_equal(c1.views_created - c0.views_created, 2); // A and B, once each
    assert_int_equal(c1.view_hits - c0.view_hits, 98);
    assert_int_equal(c1.views_live, c0.views_live + 2);

    // The old path: two views per dispatch, gone once the frame completes.
    TEST_OK(ctx, vkt_dispatch_cache_set(ctx, false));
    for (int i = 0; i < 10; i++) TEST_OK(ctx, tiny_matmul(ctx, a, w, c));
    TEST_OK(ctx, vkt_sync(ctx));
    vkt_dispatch_counts c2;
    vkt_dispatch_counts_get(ctx, &c2);
    assert_int_equal(c2.views_created - c1.views_created, 20);
    assert_int_equal(c2.views_live, c1.views_live);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

// More distinct views than the table keeps: the full table is handed to the frame being
// recorded and destroyed when it completes; results stay right throughout.
static void test_views_retired(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    const int n = 2100;
    float *host = malloc(sizeof(float) * (4 * (size_t)n + 16));
    assert_non_null(host);
    test_fill_uniform(host, 4 * (uint64_t)n + 16, 7, -1, 1);
    vkt_buffer *ab = test_upload(ctx, host, 4 * (uint64_t)n + 16),
               *bb = test_upload(ctx, host, 4 * (uint64_t)n + 16);
    vkt_buffer *cb = test_upload(ctx, NULL, 16 * (uint64_t)n);
    vkt_dispatch_counts c0, c1;
    vkt_dispatch_counts_get(ctx, &c0);
    for (int i = 0; i < n; i++)
        TEST_OK(ctx, tiny_matmul(ctx, vkt_view_f32(vkt_view_all(ab), 4 * (uint64_t)i, 16),
                                 vkt_view_f32(vkt_view_all(bb), 4 * (uint64_t)i, 16),
                                 vkt_view_f32(vkt_view_all(cb), 16 * (uint64_t)i, 16)));
    TEST_OK(ctx, vkt_sync(ctx));
    vkt_dispatch_counts_get(ctx, &c1);
    assert_true(c1.views_created - c0.views_created >= 2 * (uint64_t)n);
    assert_true(c1.views_destroyed - c0.views_destroyed >= 4096);
    assert_true(c1.views_live <= 4096);
    float *got = test_download(ctx, cb, 16 * (uint64_t)n);
    for (int i = 0; i < n; i += 699) {
        float want[16];
        const float *a = host + 4 * i, *w = host + 4 * i;
        for (int r = 0; r < 4; r++)
            for (int col = 0; col < 4; col++) {
                double s = 0;
                for (int k = 0; k < 4; k++) s += (double)a[r * 4 + k] * w[k * 4 + col];
                want[r * 4 + col] = (float)s;
            }
        assert_true(test_close("retired views matmul", got + 16 * i, want, 16, 1e-5, 1e-5));
    }
    free(got);
    free(host);
    vkt_buffer_destroy(ctx, ab);
    vkt_buffer_destroy(ctx, bb);
    vkt_buffer_destroy(ctx, cb);
    test_ctx_done(ctx);
}

// A few ops run once per mode on the same inputs; outputs must match bit for bit.
static void run_ops(vkt_ctx *ctx, vkt_buffer *in, vkt_buffer *out) {
    vkt_view x = vkt_view_all(in), y = vkt_view_all(out);
    enum { B = 1, T = 16, H = 2, D = 8 };
    // matmul, both paths, one with odd shapes at an unaligned offset (single-float texels)
    TEST_OK(ctx, vkt_matmul_on_path(ctx, VKT_MATMUL_TEXEL_REGBLOCK, false, true, 7, 5, 3, 1.0f,
                                    vkt_view_f32(x, 1, 21), vkt_view_f32(x, 40, 15), 0.0f,
                                    vkt_view_f32(y, 0, 35), vkt_view_f32(x, 80, 5)));
    TEST_OK(ctx, vkt_matmul_on_path(ctx, VKT_MATMUL_TEXEL_REGBLOCK, true, false, 32, 24, 16, 1.0f,
                                    vkt_view_f32(x, 0, 512), vkt_view_f32(x, 512, 384), 0.0f,
                                    vkt_view_f32(y, 64, 768), (vkt_view){0}));
    TEST_OK(ctx, vkt_matmul_on_path(ctx, VKT_MATMUL_SHARED_TILED, false, false, 33, 17, 9, 1.0f,
                                    vkt_view_f32(x, 3, 297), vkt_view_f32(x, 400, 153), 0.0f,
                                    vkt_view_f32(y, 900, 561), (vkt_view){0}));
    TEST_OK(ctx, vkt_softmax_fwd(ctx, 8, 37, false, vkt_view_f32(x, 1000, 296),
                                 vkt_view_f32(y, 1500, 296)));
    TEST_OK(ctx, vkt_attention_fwd(ctx, B, T, H, H, D, 0.35f, vkt_view_f32(x, 0, B * T * H * D),
                                   H * D, vkt_view_f32(x, 256, B * T * H * D), H * D,
                                   vkt_view_f32(x, 512, B * T * H * D), H * D,
                                   vkt_view_f32(y, 2000, B * T * H * D),
                                   vkt_view_f32(y, 2300, B * H * T)));
    TEST_OK(ctx,
            vkt_axpby(ctx, 0.5f, vkt_view_f32(x, 5, 100), 2.0f, vkt_view_f32(y, 2400, 100), 100));
}

static float *ops_result(bool env_off, bool switch_off) {
    if (env_off) setenv("VKT_DISPATCH_CACHE", "0", 1);
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_DISPATCH_CACHE");
    vkt_dispatch_counts c;
    vkt_dispatch_counts_get(ctx, &c); // the switch was read as the context was made
    assert_true(c.cache_on == !env_off);
    if (switch_off) TEST_OK(ctx, vkt_dispatch_cache_set(ctx, false));
    float host[2600];
    test_fill_uniform(host, 2600, 11, -1, 1);
    vkt_buffer *in = test_upload(ctx, host, 2600), *out = test_upload(ctx, NULL, 2600);
    run_ops(ctx, in, out);
    run_ops(ctx, in, out); // the second time through the caches
    float *got = test_download(ctx, out, 2600);
    vkt_dispatch_counts_get(ctx, &c);
    if (env_off || switch_off)
        assert_int_equal(c.view_hits, 0);
    else
        assert_true(c.view_hits > 0);
    vkt_buffer_destroy(ctx, in);
    vkt_buffer_destroy(ctx, out);
    test_ctx_done(ctx);
    return got;
}

static void test_same_results(void **state) {
    (void)state;
    float *on = ops_result(false, false), *env_off = ops_result(true, false),
          *switched = ops_result(false, true);
    assert_memory_equal(on, env_off, 2600 * sizeof(float));
    assert_memory_equal(on, switched, 2600 * sizeof(float));
    free(on);
    free(env_off);
    free(switched);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_keys),
        cmocka_unit_test(test_views_reused),
        cmocka_unit_test(test_views_retired),
        cmocka_unit_test(test_same_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
