// test_softmax.c: shaders/softmax.comp (forward, optional causal mask) and its backward
// variant against vkt_ref_softmax_fwd/bwd: shapes with 1, primes, rows longer than a
// workgroup (L = 4099, 50257), in place, binding splits (causal rows keep their
// position), bad calls.
// Tolerances (|got - ref| <= atol + rtol*|ref|): forward 1e-7 + 2e-5 (probabilities,
// fp32 exp and sums against the reference's double sums), backward 1e-6 + 1e-4.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_softmax.h"
#include "reference.h"
#include "support_gpu.h"

#define FWD_ATOL 1e-7
#define FWD_RTOL 2e-5
#define BWD_ATOL 1e-6
#define BWD_RTOL 1e-4

static void check(vkt_ctx *ctx, int R, int L, bool causal, bool in_place, uint64_t seed) {
    size_t n = (size_t)R * L;
    float *x = malloc(n * 4), *dout = malloc(n * 4), *din = malloc(n * 4), *ref = malloc(n * 4);
    test_fill_uniform(x, n, seed, -6, 6);
    for (int j = 0; j < L; j++) x[j] += 80.0f; // a row far from 0: needs the max shift
    test_fill_uniform(dout, n, seed + 1, -1, 1);
    test_fill_uniform(din, n, seed + 2, -1, 1); // backward accumulates
    vkt_buffer *bx = test_upload(ctx, x, n), *bo = in_place ? bx : test_upload(ctx, NULL, n);
    vkt_buffer *bd = test_upload(ctx, dout, n), *bdi = test_upload(ctx, din, n);
    TEST_OK(ctx, vkt_softmax_fwd(ctx, R, L, causal, vkt_view_all(bx), vkt_view_all(bo)));
    TEST_OK(ctx, vkt_softmax_bwd(ctx, R, L, vkt_view_all(bd), vkt_view_all(bo), vkt_view_all(bdi)));
    vkt_error err = {0};
    assert_int_equal(vkt_ref_softmax_fwd(R, L, causal, x, ref, &err), VKT_OK);
    assert_int_equal(vkt_ref_softmax_bwd(R, L, dout, ref, din, &err), VKT_OK);
    char label[96];
    snprintf(label, sizeof label, "softmax R=%d L=%d%s%s", R, L, causal ? " causal" : "",
             in_place ? " in place" : "");
    float *go = test_download(ctx, bo, n), *gd = test_download(ctx, bdi, n);
    bool ok = test_close(label, go, ref, n, FWD_ATOL, FWD_RTOL);
    ok &= test_close(label, gd, din, n, BWD_ATOL, BWD_RTOL);
    if (causal) // masked entries are exactly 0
        for (size_t r = 0; r < (size_t)R; r++)
            for (size_t j = r % L + 1; j < (size_t)L; j++) ok &= go[r * L + j] == 0.0f;
    if (!ok) fail_msg("%s differs from the reference", label);
    free(x), free(dout), free(din), free(ref), free(go), free(gd);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bd), vkt_buffer_destroy(ctx, bdi);
    if (!in_place) vkt_buffer_destroy(ctx, bo);
}

static void test_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int Ls[] = {1, 3, 17, 63, 129, 257, 1024};
    for (int i = 0; i < 7; i++) {
        check(ctx, 3, Ls[i], false, i % 2, 10 + i);
        check(ctx, 2 * Ls[i], Ls[i], true, i % 2 == 0, 20 + i); // two blocks of L queries
    }
    check(ctx, 257, 63, false, false, 30);
    check(ctx, 3, 4099, false, false, 31);   // longer than a workgroup's reach
    check(ctx, 2, 50257, false, true, 32);   // a GPT-2 vocabulary row
    check(ctx, 4099, 1, false, false, 33);   // many rows of one
    check(ctx, 2048, 1024, true, false, 34); // (4 x 2 heads, 1024 x 1024) causal
    test_ctx_done(ctx);
}

// Bindings limited to 4 KiB: rows are processed in ranges; causal rows keep their
// position in the block (r % L) across ranges.
static void test_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_MAX_BINDING_BYTES");
    check(ctx, 37, 100, false, false, 40);
    check(ctx, 3 * 47, 47, true, false, 41);
    check(ctx, 4, 1000, false, true, 42);
    vkt_buffer *b = test_upload(ctx, NULL, 2000);
    assert_int_equal(vkt_softmax_fwd(ctx, 1, 2000, false, vkt_view_all(b), vkt_view_all(b)),
                     VKT_ERR_UNSUPPORTED);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const size_t n = 64;
    float s[64];
    for (size_t i = 0; i < n; i++) s[i] = 7.0f;
    vkt_buffer *a = test_upload(ctx, s, n), *b = test_upload(ctx, s, n);
    vkt_view A = vkt_view_all(a), B = vkt_view_all(b), none = {0};
    assert_int_equal(vkt_softmax_fwd(ctx, 6, 4, true, A, B), VKT_ERR_ARG); // R % L != 0
    assert_non_null(strstr(vkt_ctx_message(ctx), "softmax"));
    assert_int_equal(vkt_softmax_fwd(ctx, 0, 4, false, A, B), VKT_ERR_ARG);
    assert_int_equal(vkt_softmax_fwd(ctx, 4, 0, false, A, B), VKT_ERR_ARG);
    assert_int_equal(vkt_softmax_fwd(ctx, 5, 13, false, A, B), VKT_ERR_ARG); // 65 > 64 floats
    assert_non_null(strstr(vkt_ctx_message(ctx), "in view"));
    assert_int_equal(vkt_softmax_fwd(ctx, 4, 4, false, A, none), VKT_ERR_ARG);
    assert_int_equal(vkt_softmax_bwd(ctx, 4, 16, A, A, vkt_view_f32(B, 0, 63)), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "din view"));
    assert_int_equal(vkt_softmax_bwd(ctx, -1, 16, A, A, B), VKT_ERR_ARG);
    float *g = test_download(ctx, b, n);
    assert_memory_equal(g, s, sizeof s);
    free(g);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
