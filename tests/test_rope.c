// test_rope.c: shaders/rope.comp against vkt_ref_rope_fwd/bwd (Hugging Face rotate-half
// convention), in place on q and k inside fused qkv buffers (row strides 3HD and
// (H + 2KVH)D), the rest of the buffer untouched, positions up to 8191, binding splits,
// bad calls; the frequency-table path (vkt_rope_fwd_freq/bwd_freq with plain, linear and
// llama3 tables from rope_freq.h) against vkt_ref_rope_fwd_freq/bwd_freq at positions up
// to 100k, vkt_rope_inv_freq against hand-computed Llama 3.1 and linear values.
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
#include "rope_freq.h"
#include "support_gpu.h"

static vkt_buffer *upload_ints(vkt_ctx *ctx, const int32_t *v, size_t n) {
    vkt_buffer *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, n * 4, &b));
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), v, n * 4));
    return b;
}

// q and k of a fused (B, T, H + 2 KVH, D) buffer rotated forward, then the backward
// applied to a gradient buffer of the same layout; max_pos bounds the positions.
static void check(vkt_ctx *ctx, int B, int T, int H, int KVH, int D, int max_pos, float theta,
                  uint64_t seed) {
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
    vkt_buffer *bx = test_upload(ctx, x, n), *bg = test_upload(ctx, g, n),
               *bp = upload_ints(ctx, pos, rows);
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
    snprintf(label, sizeof label, "rope B=%d T=%d H=%d KVH=%d D=%d max_pos=%d", B, T, H, KVH, D,
             max_pos);
    float *gx = test_download(ctx, bx, n), *gg = test_download(ctx, bg, n);
    bool ok = test_close(label, gx, x, n, tol, tol) && test_close(label, gg, g, n, tol, tol);
    // v columns are not touched at all (compare with the untouched reference bits).
    for (size_t r = 0; r < rows && ok; r++)
        ok =
            memcmp(gx + r * C + (H + KVH) * D, x + r * C + (H + KVH) * D, (size_t)KVH * D * 4) == 0;
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
    check(ctx, 2, 4099, 2, 1, 64, 8192, 10000.0f, 90); // long sequence, large positions
    check(ctx, 1, 40, 3, 3, 16, 200, 500000.0f, 91);   // Llama-3 theta
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
    TEST_OK(ctx,
            vkt_rope_fwd(ctx, B, T, H, D, H * D, vkt_view_all(bp), 10000.0f, vkt_view_all(bx)));
    TEST_OK(ctx,
            vkt_rope_bwd(ctx, B, T, H, D, H * D, vkt_view_all(bp), 10000.0f, vkt_view_all(bx)));
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
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 7, 7, P, 1e4f, X), VKT_ERR_ARG); // D odd
    assert_non_null(strstr(vkt_ctx_message(ctx), "rope"));
    assert_int_equal(vkt_rope_fwd(ctx, 1, 0, 1, 8, 8, P, 1e4f, X), VKT_ERR_ARG);
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 2, 4, 7, P, 1e4f, X), VKT_ERR_ARG); // stride < H*D
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 8, 8, P, -1.0f, X), VKT_ERR_ARG);
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 8, 8, P, NAN, X), VKT_ERR_ARG);
    assert_int_equal(vkt_rope_fwd(ctx, 1, 8, 1, 8, 9, P, 1e4f, X), VKT_ERR_ARG); // 71 > 64 floats
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

// ---------------------------------------------------------------------------------
// Frequency tables (scaled RoPE).

static const vkt_rope_freq_spec LLAMA31 = {VKT_ROPE_FREQ_LLAMA3, 8.0, 1.0, 4.0, 8192};
static const vkt_rope_freq_spec LINEAR4 = {VKT_ROPE_FREQ_LINEAR, 4.0, 0, 0, 0};

// The (D/2, 2) (hi, lo) table of inv on the device.
static vkt_buffer *upload_freq(vkt_ctx *ctx, const double *inv, int D) {
    float *hilo = malloc((size_t)D * 4);
    vkt_rope_freq_pack(inv, D / 2, hilo);
    vkt_buffer *b = test_upload(ctx, hilo, (uint64_t)D);
    free(hilo);
    return b;
}

// x (B, T, H, D) with row stride S > H*D, forward and backward through the table against
// the reference; the S - H*D floats after each row's heads stay bit for bit.
static void check_freq(vkt_ctx *ctx, int B, int T, int H, int D, int S, int max_pos, double theta,
                       const vkt_rope_freq_spec *spec, uint64_t seed) {
    size_t rows = (size_t)B * T, n = rows * S;
    double *inv = malloc((size_t)D / 2 * sizeof *inv);
    vkt_error err = {0};
    if (vkt_rope_inv_freq(theta, spec, D, inv, &err) != VKT_OK) fail_msg("%s", err.msg);
    int32_t *pos = malloc(rows * 4);
    uint64_t s = seed * 2654435761u + 7;
    for (size_t r = 0; r < rows; r++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        pos[r] = (int32_t)((s >> 33) % (uint64_t)max_pos);
    }
    pos[rows - 1] = max_pos - 1;
    float *x = malloc(n * 4), *g = malloc(n * 4), *x0 = malloc(n * 4);
    test_fill_uniform(x, n, seed, -2, 2);
    test_fill_uniform(g, n, seed + 1, -2, 2);
    memcpy(x0, x, n * 4);
    vkt_buffer *bx = test_upload(ctx, x, n), *bg = test_upload(ctx, g, n);
    vkt_buffer *bp = upload_ints(ctx, pos, rows), *bf = upload_freq(ctx, inv, D);
    vkt_view P = vkt_view_all(bp), F = vkt_view_all(bf);
    TEST_OK(ctx, vkt_rope_fwd_freq(ctx, B, T, H, D, S, P, F, vkt_view_all(bx)));
    TEST_OK(ctx, vkt_rope_bwd_freq(ctx, B, T, H, D, S, P, F, vkt_view_all(bg)));
    assert_int_equal(vkt_ref_rope_fwd_freq(B, T, H, D, S, pos, inv, x, &err), VKT_OK);
    assert_int_equal(vkt_ref_rope_bwd_freq(B, T, H, D, S, pos, inv, g, &err), VKT_OK);
    char label[128];
    snprintf(label, sizeof label, "rope_freq type=%d B=%d T=%d H=%d D=%d S=%d max_pos=%d",
             spec ? spec->type : 0, B, T, H, D, S, max_pos);
    float *gx = test_download(ctx, bx, n), *gg = test_download(ctx, bg, n);
    const double tol = 2e-6;
    bool ok = test_close(label, gx, x, n, tol, tol) && test_close(label, gg, g, n, tol, tol);
    for (size_t r = 0; r < rows && ok; r++)
        ok = memcmp(gx + r * S + H * D, x0 + r * S + H * D, (size_t)(S - H * D) * 4) == 0;
    if (!ok) fail_msg("%s differs from the reference", label);
    free(inv), free(pos), free(x), free(g), free(x0), free(gx), free(gg);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bg);
    vkt_buffer_destroy(ctx, bp), vkt_buffer_destroy(ctx, bf);
}

static void test_freq_table_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int Ds[] = {2, 6, 64, 128, 256}, Ts[] = {1, 3, 17, 33, 9};
    const vkt_rope_freq_spec *specs[] = {NULL, &LINEAR4, &LLAMA31};
    int k = 0;
    for (int di = 0; di < 5; di++)
        for (int si = 0; si < 3; si++, k++) {
            int D = Ds[di], H = 1 + k % 3, T = Ts[(di + si) % 5];
            int S = H * D + 1 + 2 * (k % 4); // odd extra: rows start misaligned
            double theta = si == 2 ? 500000.0 : 10000.0;
            int max_pos = k % 2 ? 100000 : 4096;
            check_freq(ctx, 1 + k % 2, T, H, D, S, max_pos, theta, specs[si], 200 + k);
        }
    test_ctx_done(ctx);
}

// A plain table gives what the theta path gives (r^i in float-float vs double pow).
static void test_freq_plain_matches_theta(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int B = 2, T = 31, H = 3, D = 128;
    size_t rows = (size_t)B * T, n = rows * H * D;
    int32_t pos[62];
    for (size_t r = 0; r < rows; r++) pos[r] = (int32_t)(r * 1613 % 100000);
    pos[rows - 1] = 99999;
    double inv[64];
    vkt_error err = {0};
    vkt_rope_freq_spec plain = {VKT_ROPE_FREQ_PLAIN, 0, 0, 0, 0};
    assert_int_equal(vkt_rope_inv_freq(500000.0, &plain, D, inv, &err), VKT_OK);
    float *x = malloc(n * 4);
    test_fill_uniform(x, n, 11, -2, 2);
    vkt_buffer *ba = test_upload(ctx, x, n), *bb = test_upload(ctx, x, n);
    vkt_buffer *bp = upload_ints(ctx, pos, rows), *bf = upload_freq(ctx, inv, D);
    TEST_OK(ctx,
            vkt_rope_fwd(ctx, B, T, H, D, H * D, vkt_view_all(bp), 500000.0f, vkt_view_all(ba)));
    TEST_OK(ctx, vkt_rope_fwd_freq(ctx, B, T, H, D, H * D, vkt_view_all(bp), vkt_view_all(bf),
                                   vkt_view_all(bb)));
    float *ga = test_download(ctx, ba, n), *gb = test_download(ctx, bb, n);
    assert_true(test_close("rope table vs theta", gb, ga, n, 1e-6, 1e-6));
    free(x), free(ga), free(gb);
    vkt_buffer_destroy(ctx, ba), vkt_buffer_destroy(ctx, bb);
    vkt_buffer_destroy(ctx, bp), vkt_buffer_destroy(ctx, bf);
    test_ctx_done(ctx);
}

static void assert_rel(double got, double want) {
    if (!(fabs(got - want) <= 1e-15 * fabs(want)))
        fail_msg("inv_freq %.17g, expected %.17g", got, want);
}

// Llama 3.1 (theta 500000, factor 8, low 1, high 4, original 8192, D 128), written out:
// wavelen = 2 pi / 500000^(-i/64); below 8192/4 = 2048 kept (i <= 28), above 8192
// divided by 8 (i >= 35), between: (1 - s) inv / 8 + s inv, s = (8192 / wavelen - 1) / 3.
static void test_inv_freq_llama31(void **state) {
    double inv[64];
    vkt_error err = {0};
    assert_int_equal(vkt_rope_inv_freq(500000.0, &LLAMA31, 128, inv, &err), VKT_OK);
    const double two_pi = 6.283185307179586;
    for (int i = 0; i < 64; i++) {
        double plain = pow(500000.0, -(double)i / 64.0), wavelen = two_pi / plain;
        double want = plain;
        if (i >= 35)
            want = plain / 8.0;
        else if (i >= 29) {
            double sm = (8192.0 / wavelen - 1.0) / 3.0;
            want = plain / 8.0 + sm * (plain - plain / 8.0);
        }
        if (!(fabs(inv[i] - want) <= 1e-14 * want))
            fail_msg("i=%d: %.17g, expected %.17g", i, inv[i], want);
    }
    // One of each band against numbers computed apart (Python, double).
    assert_rel(inv[0], 1.0);                    // high: kept
    assert_rel(inv[20], 0.016560440080994446);  // high: kept
    assert_rel(inv[63], 3.068925988914511e-07); // low: 500000^(-63/64) / 8
    assert_true(fabs(inv[32] - 0.0005248461609929547) <= 1e-14 * 0.0005248461609929547); // middle
}

static void test_inv_freq_linear(void **state) {
    double inv[32];
    vkt_error err = {0};
    assert_int_equal(vkt_rope_inv_freq(10000.0, &LINEAR4, 64, inv, &err), VKT_OK);
    for (int i = 0; i < 32; i++) assert_rel(inv[i], pow(10000.0, -2.0 * i / 64) / 4.0);
    assert_rel(inv[0], 0.25);
    assert_true(fabs(inv[1] - 0.18747355233311397) <= 1e-15);
    assert_true(fabs(inv[31] - 3.33380358040831e-05) <= 1e-18);
    // Plain (NULL spec) is theta^(-2i/D) itself.
    assert_int_equal(vkt_rope_inv_freq(10000.0, NULL, 64, inv, &err), VKT_OK);
    assert_rel(inv[31], 4.0 * 3.33380358040831e-05);
}

// Each bad spec is rejected with a message naming its field, and nothing is written.
static void test_inv_freq_bad_specs(void **state) {
    struct {
        vkt_rope_freq_spec s;
        const char *field;
    } bad[] = {
        {{VKT_ROPE_FREQ_LINEAR, 0.0, 0, 0, 0}, "rope_scaling.factor"},
        {{VKT_ROPE_FREQ_LINEAR, -2.0, 0, 0, 0}, "rope_scaling.factor"},
        {{VKT_ROPE_FREQ_LLAMA3, NAN, 1, 4, 8192}, "rope_scaling.factor"},
        {{VKT_ROPE_FREQ_LLAMA3, 8, 4, 4, 8192}, "rope_scaling.low_freq_factor"},
        {{VKT_ROPE_FREQ_LLAMA3, 8, 5, 4, 8192}, "rope_scaling.low_freq_factor"},
        {{VKT_ROPE_FREQ_LLAMA3, 8, 0, 4, 8192}, "rope_scaling.low_freq_factor"},
        {{VKT_ROPE_FREQ_LLAMA3, 8, 1, INFINITY, 8192}, "rope_scaling.high_freq_factor"},
        {{VKT_ROPE_FREQ_LLAMA3, 8, 1, 4, 0}, "rope_scaling.original_context"},
        {{VKT_ROPE_FREQ_LLAMA3, 8, 1, 4, -8192}, "rope_scaling.original_context"},
        {{7, 8, 1, 4, 8192}, "rope_scaling.type"},
    };
    double inv[4] = {-1, -1, -1, -1};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        vkt_error err = {0};
        assert_int_equal(vkt_rope_inv_freq(10000.0, &bad[k].s, 8, inv, &err), VKT_ERR_ARG);
        if (!strstr(err.msg, bad[k].field))
            fail_msg("case %zu: '%s' lacks %s", k, err.msg, bad[k].field);
        assert_true(inv[0] == -1 && inv[3] == -1);
    }
    vkt_error err = {0};
    assert_int_equal(vkt_rope_inv_freq(-1.0, &LLAMA31, 8, inv, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "theta"));
    assert_int_equal(vkt_rope_inv_freq(10000.0, &LLAMA31, 7, inv, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "D=7"));
    assert_int_equal(vkt_rope_inv_freq(10000.0, &LLAMA31, 8, NULL, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "inv_freq"));
    // The reference checks its table too.
    int32_t pos[2] = {0, 1};
    float x[8] = {0};
    double nan_inv[2] = {1.0, NAN};
    assert_int_equal(vkt_ref_rope_fwd_freq(1, 2, 1, 4, 4, pos, NULL, x, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "inv_freq"));
    assert_int_equal(vkt_ref_rope_bwd_freq(1, 2, 1, 4, 4, pos, nan_inv, x, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "inv_freq[1]"));
}

static void test_freq_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float s[64];
    for (int i = 0; i < 64; i++) s[i] = 5.0f;
    int32_t pos[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    vkt_buffer *bx = test_upload(ctx, s, 64), *bp = upload_ints(ctx, pos, 8);
    vkt_buffer *bf = test_upload(ctx, s, 8);
    vkt_view X = vkt_view_all(bx), P = vkt_view_all(bp), F = vkt_view_all(bf), none = {0};
    // D = 16 needs 16 floats of table; the buffer holds 8.
    assert_int_equal(vkt_rope_fwd_freq(ctx, 1, 4, 1, 16, 16, P, F, X), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "freq view"));
    assert_int_equal(vkt_rope_bwd_freq(ctx, 1, 8, 1, 8, 8, P, none, X), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "freq view"));
    assert_int_equal(vkt_rope_fwd_freq(ctx, 1, 8, 1, 7, 7, P, F, X), VKT_ERR_ARG); // D odd
    assert_int_equal(vkt_rope_fwd_freq(ctx, 1, 8, 1, 8, 9, P, F, X), VKT_ERR_ARG); // x too small
    assert_non_null(strstr(vkt_ctx_message(ctx), "x view"));
    float *g = test_download(ctx, bx, 64);
    assert_memory_equal(g, s, sizeof s);
    free(g);
    vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bp), vkt_buffer_destroy(ctx, bf);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_freq_table_shapes),
        cmocka_unit_test(test_freq_plain_matches_theta),
        cmocka_unit_test(test_inv_freq_llama31),
        cmocka_unit_test(test_inv_freq_linear),
        cmocka_unit_test(test_inv_freq_bad_specs),
        cmocka_unit_test(test_freq_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
