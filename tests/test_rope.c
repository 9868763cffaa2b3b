// test_rope.c: shaders/rope.comp against vkt_ref_rope_fwd/bwd (Hugging Face rotate-half
// convention), in place on q and k inside fused qkv buffers (row strides 3HD and
// (H + 2KVH)D), the rest of the buffer untouched, positions up to 8191, binding splits,
// bad calls.
// Tolerance (|got - ref| <= atol + rtol*|ref|): 2e-6 + 2e-6 at every position up to
// 8191: the shader builds angles in float-float arithmetic, so the error does not grow
// with the position (plain fp32 angles would be off by ~1e-3 radians at 8191).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_rope.h"
#include "reference.h"
#include "support_gpu.h"

static vkt_buffer *upload_ints(vkt_ctx *ctx, const int32_t *v, size_t n) {
    vkt_buffer *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, n * 4, &b));
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), v, n * 4));
    return b;
}

// q and k of a fused (B, T, H + 2 KVH, D) buffer rotated forward, then the backward
// applied to a gradient buffer of the same layout; max_pos bounds the positions.
static void check(vkt_ctx *ctx, int B, int T, int H, int KVH, int D, int max_pos, float theta, uint64_t seed) {
    int C = (H + 2 * KVH) * D;
    size_t rows = (size_t)B * T, n = rows * C;
    int32_t *pos = malloc(rows * 4);
    uint64_t s = seed * 2654435761u + 1;
    for (size_t r = 0; r < rows; r++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        pos[r] = r % 3 == 0 ? (int32_t)(r % T) : (int32_t)((s >> 33) % (uint64_t)max_pos);
    }
    pos[rows - 1] = max_pos - 1;
    float *x = malloc(n * 4), *g = malloc(n * 4);
    test_fill_uniform(x, n, seed, -2, 2);
    test_fill_uniform(g, n, seed + 1, -2, 2);
    vkt_buffer *bx = test_upload(ctx, x, n), *bg = test_upload(ctx, g, n), *bp = upload_ints(ctx, pos, rows);
    vkt_view X = vkt_view_all(bx), G = vkt_view_all(bg), P = vkt_view_all(bp);
    vkt_view Xk = vkt_view_f32(X, (uint64_t)H * D, n - (uint64_t)H * D);
    vkt_view Gk = vkt_view_f32(G, (uint64_t)H * D, n - (uint64_t)H * D);
    TEST_OK(ctx, vkt_rope_fwd(ctx, B, T, H, D, C, P, theta, X));
    TEST_OK(ctx, vkt_rope_fwd(ctx, B, T, KVH, D, C, P, theta, Xk));
    TEST_OK(ctx, vkt_rope_bwd(ctx, B, T, H, D, C, P, theta, G));
    TEST_OK(ctx, vkt_rope_bwd(ctx, B, T, KVH, D, C, P, theta, Gk));
    vkt_error err = {0};
    assert_int_equal(vkt_ref_rope_fwd(B, T, H, D, C, pos, theta, x, &err), VKT_OK);
    assert_int_equal(vkt_ref_rope_fwd(B, T, KVH, D, C, pos, theta, x + H * D, &err), VKT_OK);
    assert_int_equal(vkt_ref_rope_bwd(B, T, H, D, C, pos, theta, g, &err), VKT_OK);
    assert_int_equal(vkt_ref_rope_bwd(B, T, KVH, D, C, pos, theta, g + H * D, &err), VKT_OK);
    const double tol = 2e-6;
    char label[96];
    snprintf(label, sizeof label, "rope B=%d T=%d H=%d KVH=%d D=%d max_pos=%d", B, T, H, KVH, D, max_pos);
    float *gx = test_download(ctx, bx, n), *gg = test_download(ctx, bg, n);
    bool ok = test_close(label, gx, x, n, tol, tol) && test_close(label, gg, g, n, tol, tol);
    // v columns are not touched at all (compare with the untouched reference bits).
    for (size_t r = 0; r < rows && ok; r++)
        ok = memcmp(gx + r * C + (H + KVH) * D, x + r * C + (H + KVH) * D, (size_t)KVH * D * 4) == 0;
    if (!ok) fail_msg("%s differs from the reference", label);
    free(pos), free(x), free(g), free(gx), free(gg);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bg), vkt_buffer_destroy(ctx, bp);
}

static void test_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int Ts[] = {1, 3, 17, 63, 129}, Ds[] = {2, 4, 6, 32, 64, 128};
    int k = 0;
    for (int ti = 0; ti < 5; ti++)
        for (int di = 0; di < 6; di++, k++) {
            int H = 4, KVH = (int[]){4, 2, 1}[k % 3];
            check(ctx, 1 + k % 2, Ts[ti], H, KVH, Ds[di], k % 2 ? 256 : Ts[ti], 10000.0f, 50 + k);
        }
    check(ctx, 2, 4099, 2, 1, 64, 8192, 10000.0f, 90);  // long sequence, large positions
    check(ctx, 1, 40, 3, 3, 16, 200, 500000.0f, 91);    // Llama-3 theta
    test_ctx_done(ctx);
}

// Rotating forward then backward gives the input back.
static void test_round_trip(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int B = 2, T = 33, H = 3, D = 10;
    size_t n = (size_t)B * T * H * D;
    float *x = malloc(n * 4);
    test_fill_uniform(x, n, 3, -1, 1);
    int32_t pos[66];
    for (int i = 0; i < B * T; i++) pos[i] = 17 * i;
    vkt_buffer *bx = test_upload(ctx, x, n), *bp = upload_ints(ctx, pos, (size_t)B * T);
    TEST_OK(ctx, vkt_rope_fwd(ctx, B, T, H, D, H * D, vkt_view_all(bp), 10000.0f, vkt_view_all(bx)));
    TEST_OK(ctx, vkt_rope_bwd(ctx, B, T, H, D, H * D, vkt_view_all(bp), 10000.0f, vkt_view_all(bx)));
    float *g = test_download(ctx, bx, n);
    assert_true(test_close("rope round trip", g, x, n, 1e-6, 1e-6));
    free(g), free(x);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bp);
    test_ctx_done(ctx);
}

static void test_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_MAX_BINDING_BYTES");
    check(ctx, 3, 20, 2, 1, 8, 100, 10000.0f, 70);   // 128-byte rows: 31 rows a binding
    check(ctx, 2, 100, 4, 2, 32, 300, 10000.0f, 71); // 1024-byte rows: 3 rows a binding
    test_ctx_done(ctx);
}

static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const size_t n = 64;
    float s[64];
    for (size_t i = 0; i < n; i++) s[i] = 5.0f;
    int32_t pos[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    vkt_buffer *bx = test_upload(ctx, s, n), *bp = upload_ints(ctx, pos, 8);
    vkt_view X = vkt_view_all(bx), P = vkt_view_all(bp), none = {0};
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 7, 7, P, 1e4f, X), VKT_ERR_ARG);  // D odd
    assert_non_null(strstr(vkt_ctx_message(ctx), "rope"));
    assert_int_equal(vkt_rope_fwd(ctx, 1, 0, 1, 8, 8, P, 1e4f, X), VKT_ERR_ARG);
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 2, 4, 7, P, 1e4f, X), VKT_ERR_ARG);  // stride < H*D
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 8, 8, P, -1.0f, X), VKT_ERR_ARG);
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 8, 8, P, NAN, X), VKT_ERR_ARG);
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 8, 9, P, 1e4f, X), VKT_ERR_ARG);  // 71 > 64 floats
    assert_non_null(strstr(vkt_ctx_message(ctx), "x view"));
    assert_int_equal(vkt_rope_bwd(ctx, 2, 4, 1, 8, 8, vkt_view_f32(P, 0, 7), 1e4f, X), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "pos view"));
    assert_int_equal(vkt_rope_bwd(ctx, 2, 4, 1, 8, 8, none, 1e4f, X), VKT_ERR_ARG);
    float *g = test_download(ctx, bx, n);
    assert_memory_equal(g, s, sizeof s);
    free(g);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bp);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
