// test_runtime.c: context, device profile, memory blocks, transfers, the command
// stream (barriers, chunked submission), binding splits, pipeline cache, bad calls.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>

#include "op_elementwise.h"
#include "support_gpu.h"

static void test_profile(void **state) {
    vkt_ctx *ctx = test_ctx();
    const vkt_profile *p = vkt_ctx_profile(ctx);
    assert_true(p->name[0] != 0);
    assert_true(p->subgroup_size >= 1 && p->subgroup_min <= p->subgroup_size &&
                p->subgroup_size <= p->subgroup_max);
    assert_true(p->shared_memory_bytes >= 16384); // Vulkan's required minimum
    assert_true(p->max_binding_bytes <= p->max_storage_buffer_range);
    assert_true(p->max_workgroup_invocations >= 128);
    test_ctx_done(ctx);

    vkt_profile *all = NULL;
    int n = 0, chosen = -1;
    vkt_error err = {0};
    assert_int_equal(vkt_devices_query(&all, &n, &chosen, &err), VKT_OK);
    assert_true(n >= 1 && chosen >= 0 && chosen < n);
    free(all);
}

static void test_kill_switches(void **state) {
    setenv("VKT_DISABLE_FP16", "1", 1);
    setenv("VKT_DISABLE_SUBGROUP", "1", 1);
    setenv("VKT_DISABLE_COOPMAT", "1", 1);
    vkt_ctx *ctx = test_ctx();
    const vkt_profile *p = vkt_ctx_profile(ctx);
    assert_false(p->use_fp16);
    assert_false(p->use_subgroup);
    assert_false(p->use_coopmat);
    test_ctx_done(ctx);
    unsetenv("VKT_DISABLE_FP16");
    unsetenv("VKT_DISABLE_SUBGROUP");
    unsetenv("VKT_DISABLE_COOPMAT");
}

static void test_bad_device(void **state) {
    vkt_ctx_options o = vkt_ctx_default_options();
    o.device = 999;
    vkt_ctx *ctx = NULL;
    vkt_error err = {0};
    assert_int_equal(vkt_ctx_create(&o, &ctx, &err), VKT_ERR_ARG);
    assert_null(ctx);
    assert_non_null(strstr(err.msg, "device 999"));
}

// Many small buffers share a few blocks; freed space is reused.
static void test_suballocation(void **state) {
    vkt_ctx *ctx = test_ctx();
    enum { N = 300 };
    vkt_buffer *b[N];
    for (int i = 0; i < N; i++)
        TEST_OK(ctx, vkt_buffer_create(ctx, 1000 + 37 * (uint64_t)i, &b[i]));
    assert_int_equal(vkt_ctx_memory_blocks(ctx), 1);
    uint64_t held = vkt_ctx_bytes_allocated(ctx);
    for (int i = 0; i < N; i += 2) vkt_buffer_destroy(ctx, b[i]);
    for (int i = 0; i < N; i += 2) TEST_OK(ctx, vkt_buffer_create(ctx, 900, &b[i]));
    assert_int_equal(vkt_ctx_bytes_allocated(ctx), held);
    // Each buffer keeps its own contents.
    for (int i = 0; i < N; i++) {
        float v[4] = {(float)i, (float)i + 0.5f, -1, 2};
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b[i]), v, sizeof v));
    }
    for (int i = 0; i < N; i++) {
        float v[4];
        TEST_OK(ctx, vkt_download(ctx, vkt_view_all(b[i]), v, sizeof v));
        assert_true(v[0] == (float)i && v[1] == (float)i + 0.5f);
    }
    for (int i = 0; i < N; i++) vkt_buffer_destroy(ctx, b[i]);
    vkt_buffer *zero = NULL;
    assert_int_equal(vkt_buffer_create(ctx, 0, &zero), VKT_ERR_ARG);
    test_ctx_done(ctx);
}

static void test_transfer_offsets(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_buffer *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, 4096, &b));
    uint8_t src[4096], dst[4096];
    for (int i = 0; i < 4096; i++) src[i] = (uint8_t)(i * 7 + 3);
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), src, 4096));
    uint8_t patch[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    vkt_view v = {b, 1001, 13};
    TEST_OK(ctx, vkt_upload(ctx, v, patch, 13));
    memcpy(src + 1001, patch, 13);
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(b), dst, 4096));
    assert_memory_equal(src, dst, 4096);
    // Out of range: an error naming the sizes, nothing written.
    vkt_view past = {b, 4090, 13};
    assert_int_equal(vkt_upload(ctx, past, patch, 13), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "upload"));
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(b), dst, 4096));
    assert_memory_equal(src, dst, 4096);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

// A chain of dependent ops across several command buffers (more than one frame of
// dispatches) must see every earlier write: tests barriers and chunked submission.
static void test_dependency_chain(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 1000;
    vkt_buffer *a = test_upload(ctx, NULL, n), *b = test_upload(ctx, NULL, n);
    TEST_OK(ctx, vkt_fill(ctx, vkt_view_all(a), n, 1.0f));
    TEST_OK(ctx, vkt_fill(ctx, vkt_view_all(b), n, 0.0f));
    // b += a, then a = 2a, 700 times: b = sum 2^k ... keep numbers exact by using
    // b = b + a and a = a + 0*b: alternate reads and writes of both buffers.
    for (int i = 0; i < 700; i++) {
        TEST_OK(ctx, vkt_axpby(ctx, 1.0f, vkt_view_all(a), 1.0f, vkt_view_all(b), n)); // b = a + b
        TEST_OK(ctx,
                vkt_axpby(ctx, 0.0f, vkt_view_all(b), 1.0f, vkt_view_all(a), n)); // a = a (reads b)
    }
    float *h = test_download(ctx, b, n);
    for (uint64_t i = 0; i < n; i++) assert_true(h[i] == 700.0f);
    free(h);
    vkt_buffer_destroy(ctx, a);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

static void check_elementwise(vkt_ctx *ctx, uint64_t n, uint64_t off) {
    float *x = malloc((n + off) * 4), *y = malloc((n + off) * 4), *want = malloc((n + off) * 4);
    test_fill_uniform(x, n + off, 1, -2, 2);
    test_fill_uniform(y, n + off, 2, -2, 2);
    vkt_buffer *bx = test_upload(ctx, x, n + off), *by = test_upload(ctx, y, n + off);
    vkt_view vx = vkt_view_f32(vkt_view_all(bx), off, n),
             vy = vkt_view_f32(vkt_view_all(by), off, n);
    TEST_OK(ctx, vkt_axpby(ctx, 0.5f, vx, -1.5f, vy, n));
    memcpy(want, y, (n + off) * 4);
    for (uint64_t i = 0; i < n; i++) want[off + i] = 0.5f * x[off + i] + -1.5f * y[off + i];
    float *got = test_download(ctx, by, n + off);
    assert_true(test_close("axpby", got, want, n + off, 1e-6, 1e-6));
    free(got);
    TEST_OK(ctx, vkt_scale(ctx, vy, n, 3.0f));
    for (uint64_t i = 0; i < n; i++) want[off + i] *= 3.0f;
    got = test_download(ctx, by, n + off);
    assert_true(test_close("scale", got, want, n + off, 1e-6, 1e-6));
    free(got);
    TEST_OK(ctx, vkt_fill(ctx, vy, n, 7.25f));
    for (uint64_t i = 0; i < n; i++) want[off + i] = 7.25f;
    got = test_download(ctx, by, n + off);
    assert_true(test_close("fill", got, want, n + off, 0, 0));
    free(got);
    vkt_buffer_destroy(ctx, bx);
    vkt_buffer_destroy(ctx, by);
    free(x), free(y), free(want);
}

static void test_elementwise_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t sizes[] = {1, 3, 17, 63, 129, 257, 5003, 300007};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        check_elementwise(ctx, sizes[i], i % 3);
    test_ctx_done(ctx);
}

// Views larger than one binding: force a 4 KiB binding limit so splitting runs here.
static void test_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    check_elementwise(ctx, 10007, 1);
    check_elementwise(ctx, 1024, 3);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// axpby with b == 0 is a copy: NaN or Inf already in y must not leak through 0*y.
static void test_copy_ignores_nan(void **state) {
    vkt_ctx *ctx = test_ctx();
    float x[5] = {1, 2, 3, 4, 5}, y[5] = {NAN, INFINITY, -INFINITY, NAN, 0};
    vkt_buffer *bx = test_upload(ctx, x, 5), *by = test_upload(ctx, y, 5);
    TEST_OK(ctx, vkt_axpby(ctx, 2.0f, vkt_view_all(bx), 0.0f, vkt_view_all(by), 5));
    float *got = test_download(ctx, by, 5);
    for (int i = 0; i < 5; i++) assert_true(got[i] == 2 * x[i]);
    free(got);
    vkt_buffer_destroy(ctx, bx);
    vkt_buffer_destroy(ctx, by);
    test_ctx_done(ctx);
}

// The staging path (what discrete GPUs use), forced on a unified-memory device: uploads
// and downloads larger than the staging buffer, at odd offsets, around compute work.
static void test_staging_path(void **state) {
    setenv("VKT_DISABLE_UNIFIED", "1", 1);
    vkt_ctx *ctx = test_ctx();
    assert_false(vkt_ctx_profile(ctx)->unified_memory);
    const uint64_t n = (40ull << 20) / 4 + 3; // more than the 32 MiB staging buffer
    float *h = malloc(n * 4), *back = malloc(n * 4);
    test_fill_uniform(h, n, 9, -1, 1);
    vkt_buffer *b = test_upload(ctx, h, n);
    TEST_OK(ctx, vkt_scale(ctx, vkt_view_f32(vkt_view_all(b), 1, n - 1), n - 1, 2.0f));
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(b), back, n * 4));
    assert_true(back[0] == h[0]);
    for (uint64_t i = 1; i < n; i++) assert_true(back[i] == 2.0f * h[i]);
    vkt_buffer_destroy(ctx, b);
    free(h), free(back);
    test_ctx_done(ctx);
    unsetenv("VKT_DISABLE_UNIFIED");
}

static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    vkt_buffer *b = test_upload(ctx, h, 8);
    assert_int_equal(vkt_fill(ctx, vkt_view_all(b), 9, 0.0f), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "fill"));
    vkt_view none = {0};
    assert_int_equal(vkt_axpby(ctx, 1, none, 1, vkt_view_all(b), 8), VKT_ERR_ARG);
    float *got = test_download(ctx, b, 8);
    assert_memory_equal(got, h, sizeof h);
    free(got);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

// The pipeline cache: written on exit, reused, and a corrupt file is ignored.
static void test_pipeline_cache(void **state) {
    char dir[] = "/tmp/vkt-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("VKT_CACHE_DIR", dir, 1);
    for (int round = 0; round < 3; round++) {
        vkt_ctx *ctx = test_ctx();
        vkt_buffer *b = test_upload(ctx, NULL, 64);
        TEST_OK(ctx, vkt_fill(ctx, vkt_view_all(b), 64, 2.0f));
        float *g = test_download(ctx, b, 64);
        assert_true(g[63] == 2.0f);
        free(g);
        vkt_buffer_destroy(ctx, b);
        test_ctx_done(ctx);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "ls %s/pipelines-*.bin >/dev/null 2>&1", dir);
        assert_int_equal(system(cmd), 0);
        if (round == 1) { // corrupt it: the next run must still work
            snprintf(cmd, sizeof cmd,
                     "for f in %s/pipelines-*.bin; do head -c 100 /dev/urandom > $f; done", dir);
            assert_int_equal(system(cmd), 0);
        }
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    unsetenv("VKT_CACHE_DIR");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_kill_switches),
        cmocka_unit_test(test_bad_device),
        cmocka_unit_test(test_suballocation),
        cmocka_unit_test(test_transfer_offsets),
        cmocka_unit_test(test_dependency_chain),
        cmocka_unit_test(test_elementwise_shapes),
        cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_pipeline_cache),
        cmocka_unit_test(test_copy_ignores_nan),
        cmocka_unit_test(test_staging_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
