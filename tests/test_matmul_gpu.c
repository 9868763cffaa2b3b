// test_matmul_gpu.c: the GPU matmul path (shaders/matmul_gpu.comp through op_matmul_gpu.c)
// and its split-k (matmul_gpu_splitk_* + matmul_splitk_reduce.comp), forced on whatever
// device runs the tests, against vkt_ref_matmul: awkward shapes, every transpose, alpha,
// beta 0 / 1 / other, bias, odd view offsets (scalar loads) and aligned ones (vec4 loads),
// both tile sizes, binding splits; split-k the same bits on two runs; VKT_MATMUL choices.
//
// Tolerance as in test_matmul.c: |got - ref| <= atol + rtol |ref|, atol = 1e-4 sqrt(K)
// (|alpha| + 1), rtol = 1e-5: an fp32 sum of K products in any order (tiles, split layers)
// stays well inside it for inputs uniform in [-1, 1).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_matmul.h"
#include "op_matmul_gpu.h"
#include "reference.h"
#include "support_gpu.h"

typedef struct {
    int M, N, K;
} shape;

// 1, K = 1, primes, sides that are no multiple of 32, 64 or 128, aligned sides (vec4
// loads), shapes big enough for the 128x128 tile on a CPU device, and long K.
static const shape SHAPES[] = {
    {1, 1, 1},     {3, 257, 129},  {65, 33, 1},  {129, 130, 17}, {128, 128, 32}, {17, 3, 300},
    {200, 64, 40}, {257, 520, 33}, {64, 48, 96}, {1, 257, 17},   {36, 1, 44},    {5, 7, 1031},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof *SHAPES)

// splits -1: vkt_matmul_on_path(GPU); >= 0: vkt_matmul_splitk with that many.
typedef struct {
    int splits;
    bool ta, tb, bias;
    float alpha, beta;
    int off; // floats before every operand in its buffer
} mm_case;

// One product vs the reference; C has guard floats on both sides that must stay untouched,
// and beta == 0 fills C with NaN first (never read). Split-k runs twice from the same
// start and must give the same bits; its scratch starts as NaN (every layer is written).
static void check(vkt_ctx *ctx, mm_case c, shape s, uint64_t seed) {
    const uint64_t M = (uint64_t)s.M, N = (uint64_t)s.N, K = (uint64_t)s.K, G = 5,
                   off = (uint64_t)c.off;
    const uint64_t na = M * K, nb = K * N, nc = M * N;
    float *a = malloc((na + off) * 4), *b = malloc((nb + off) * 4), *bias = malloc((N + off) * 4);
    float *cc = malloc((nc + off + G) * 4), *want = malloc((nc + off + G) * 4);
    assert_true(a && b && bias && cc && want);
    test_fill_uniform(a, na + off, seed, -1, 1);
    test_fill_uniform(b, nb + off, seed + 1, -1, 1);
    test_fill_uniform(bias, N + off, seed + 2, -1, 1);
    test_fill_uniform(cc, nc + off + G, seed + 3, -1, 1);
    if (c.beta == 0)
        for (uint64_t i = 0; i < nc; i++) cc[off + i] = NAN;
    memcpy(want, cc, (nc + off + G) * 4);
    assert_int_equal(vkt_ref_matmul(c.ta, c.tb, s.M, s.N, s.K, c.alpha, a + off, b + off, c.beta,
                                    want + off, c.bias ? bias + off : NULL, NULL),
                     VKT_OK);
    vkt_buffer *ba = test_upload(ctx, a, na + off), *bb = test_upload(ctx, b, nb + off);
    vkt_buffer *bbias = test_upload(ctx, bias, N + off), *bc = test_upload(ctx, cc, nc + off + G);
    vkt_view va = vkt_view_f32(vkt_view_all(ba), off, na),
             vb = vkt_view_f32(vkt_view_all(bb), off, nb);
    vkt_view vc = vkt_view_f32(vkt_view_all(bc), off, nc);
    vkt_view vbias = c.bias ? vkt_view_f32(vkt_view_all(bbias), off, N) : (vkt_view){0};
    uint64_t ns =
        c.splits >= 0 ? vkt_matmul_splitk_scratch_floats(ctx, s.M, s.N, s.K, c.splits) : 0;
    float *nan = NULL;
    vkt_buffer *bs = NULL;
    vkt_view vs = {0};
    if (ns) {
        nan = malloc((ns + off) * 4);
        for (uint64_t i = 0; i < ns + off; i++) nan[i] = NAN;
        bs = test_upload(ctx, nan, ns + off);
        vs = vkt_view_f32(vkt_view_all(bs), off, ns);
    }
    if (c.splits < 0)
        TEST_OK(ctx, vkt_matmul_on_path(ctx, VKT_MATMUL_GPU_TILED, c.ta, c.tb, s.M, s.N, s.K,
                                        c.alpha, va, vb, c.beta, vc, vbias));
    else
        TEST_OK(ctx, vkt_matmul_splitk(ctx, c.splits, c.ta, c.tb, s.M, s.N, s.K, c.alpha, va, vb,
                                       c.beta, vc, vbias, vs));
    float *got = test_download(ctx, bc, nc + off + G);
    char label[200];
    snprintf(label, sizeof label,
             "matmul gpu splits=%d (scratch %llu) %c%c M=%d N=%d K=%d alpha=%g beta=%g bias=%d "
             "off=%d",
             c.splits, (unsigned long long)ns, c.ta ? 'T' : 'N', c.tb ? 'T' : 'N', s.M, s.N, s.K,
             c.alpha, c.beta, c.bias, c.off);
    double atol = 1e-4 * sqrt((double)s.K) * (fabs(c.alpha) + 1);
    if (!test_close(label, got, want, nc + off + G, atol, 1e-5)) fail_msg("%s", label);
    if (c.splits >= 0) {
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bc), cc, (nc + off + G) * 4));
        if (bs) TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bs), nan, (ns + off) * 4));
        TEST_OK(ctx, vkt_matmul_splitk(ctx, c.splits, c.ta, c.tb, s.M, s.N, s.K, c.alpha, va, vb,
                                       c.beta, vc, vbias, vs));
        float *again = test_download(ctx, bc, nc + off + G);
        if (memcmp(got, again, (nc + off + G) * 4))
            fail_msg("%s: a second run gave other bits", label);
        free(again);
    }
    free(got), free(nan);
    vkt_buffer_destroy(ctx, ba), vkt_buffer_destroy(ctx, bb), vkt_buffer_destroy(ctx, bbias);
    vkt_buffer_destroy(ctx, bc);
    if (bs) vkt_buffer_destroy(ctx, bs);
    free(a), free(b), free(bias), free(cc), free(want);
}

static const float ALPHAS[] = {1.0f, 0.5f, -2.0f, 1.0f};
static const float BETAS[] = {0.0f, 1.0f, -1.25f, 0.0f, 1.0f};
static const int OFFS[] = {0, 1, 3, 0, 4};

// Every shape x every transpose; alpha, beta, bias and offsets vary with the case so each
// combination meets aligned (vec4) and odd (scalar) operands.
static void run_shapes(int splits) {
    vkt_ctx *ctx = test_ctx();
    int n = 0;
    for (int i = 0; i < NSHAPES; i++)
        for (int t = 0; t < 4; t++, n++) {
            mm_case c = {splits,     t & 2,         t & 1,
                         n % 3 != 0, ALPHAS[n % 4], BETAS[(n / 4 + n) % 5],
                         OFFS[n % 5]};
            check(ctx, c, SHAPES[i], 300 + (uint64_t)n);
        }
    test_ctx_done(ctx);
}

static void test_gpu_shapes(void **state) { run_shapes(-1); }
static void test_splitk_shapes(void **state) { run_shapes(3); }

// Layer counts from 1 to more than K has slices, on long K (weight-gradient shapes: A^T B).
static void test_splitk_counts(void **state) {
    vkt_ctx *ctx = test_ctx();
    static const shape s[] = {{17, 33, 1000}, {64, 64, 4099}, {3, 5, 20}, {40, 24, 1}};
    static const int splits[] = {1, 2, 5, 16, 64};
    int n = 0;
    for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
        for (int j = 0; j < (int)(sizeof splits / sizeof *splits); j++, n++) {
            mm_case c = {splits[j],     n % 2 == 0,   n % 3 == 0, n % 2 == 1,
                         ALPHAS[n % 4], BETAS[n % 5], OFFS[n % 5]};
            check(ctx, c, s[i], 700 + (uint64_t)n);
        }
    test_ctx_done(ctx);
}

// A 4 KiB binding limit: the GPU path on M, N and K chunks (split-k then runs unsplit).
static void test_gpu_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    static const shape s[] = {{40, 30, 50}, {20, 300, 70}, {33, 17, 200}, {5, 7, 1100}};
    for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
        for (int t = 0; t < 4; t++) {
            mm_case c = {
                t == 3 ? 4 : -1,      t & 2,      t & 1, (i + t) % 2 == 0, t == 1 ? 0.75f : 1.0f,
                t == 2 ? 0.5f : 0.0f, (i + t) % 3};
            check(ctx, c, s[i], 900 + (uint64_t)(i * 4 + t));
        }
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// VKT_MATMUL picks the path on any device; unset, a CPU device keeps the texel path and
// split-k with splits 0 is plain vkt_matmul there (no scratch needed).
static void test_selection(void **state) {
    const char *was = getenv("VKT_MATMUL");
    char *saved = was ? strdup(was) : NULL;
    static const char *names[] = {"texel", "tiled", "gpu", "splitk"};
    static const vkt_matmul_path want[] = {VKT_MATMUL_TEXEL_REGBLOCK, VKT_MATMUL_SHARED_TILED,
                                           VKT_MATMUL_GPU_TILED, VKT_MATMUL_GPU_TILED};
    for (int i = 0; i < 4; i++) {
        setenv("VKT_MATMUL", names[i], 1);
        vkt_ctx *ctx = test_ctx();
        const vkt_profile *p = vkt_ctx_profile(ctx);
        assert_int_equal(p->matmul_path, want[i]);
        assert_int_equal(p->matmul_force_splitk, i == 3);
        // splitk: splits whenever K allows, so it needs scratch; the others need none here
        uint64_t ns = vkt_matmul_splitk_scratch_floats(ctx, 8, 8, 64, 0);
        if (i == 3)
            assert_true(ns >= 2 * 64);
        else if (p->type == VKT_DEVICE_CPU)
            assert_int_equal(ns, 0);
        // the default entry point on the forced path
        mm_case c = {0, false, true, true, 1.0f, 0.0f, 1};
        check(ctx, c, (shape){33, 65, 131}, 11 + (uint64_t)i);
        test_ctx_done(ctx);
    }
    unsetenv("VKT_MATMUL");
    vkt_ctx *ctx = test_ctx();
    const vkt_profile *p = vkt_ctx_profile(ctx);
    if (p->type == VKT_DEVICE_CPU)
        assert_int_equal(p->matmul_path, VKT_MATMUL_TEXEL_REGBLOCK);
    else
        assert_int_equal(p->matmul_path, VKT_MATMUL_GPU_TILED);
    // tiles by shape: the large one where it gives enough workgroups
    vkt_matmul_tile big = vkt_matmul_gpu_tile(p, 8192, 8192),
                    small = vkt_matmul_gpu_tile(p, 64, 64);
    assert_true(big.wgy * big.tm >= small.wgy * small.tm);
    assert_true((big.wgy * big.tm + big.wgx * big.tn) * big.bk * 4 <= p->shared_memory_bytes);
    assert_int_equal(vkt_matmul_gpu_splits(p, 8192, 8192, 8192, 0), 1);
    assert_int_equal(vkt_matmul_gpu_splits(p, 64, 64, 1, 8), 1);
    test_ctx_done(ctx);
    if (saved) setenv("VKT_MATMUL", saved, 1);
    free(saved);
}

// Bad calls: scratch too small for the layers asked for, bad shapes; nothing written.
static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[64];
    for (int i = 0; i < 64; i++) h[i] = (float)i;
    vkt_buffer *a = test_upload(ctx, h, 64), *c = test_upload(ctx, h, 64),
               *s = test_upload(ctx, NULL, 64);
    vkt_view va = vkt_view_all(a), vc = vkt_view_all(c), vs = vkt_view_all(s), none = {0};
    // 4x4 by K 256 in 8 layers needs 128 floats of scratch
    assert_int_equal(vkt_matmul_splitk(ctx, 8, false, false, 4, 4, 256, 1, va, va, 0, vc, none, vs),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "scratch"));
    assert_int_equal(vkt_matmul_splitk(ctx, 2, false, false, 0, 4, 4, 1, va, va, 0, vc, none, vs),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_matmul_splitk(ctx, 2, false, false, 4, 4, 32, 1, va, va, 0, vc, none, vs),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "A view"));
    float *got = test_download(ctx, c, 64);
    assert_memory_equal(got, h, sizeof h);
    free(got);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, c), vkt_buffer_destroy(ctx, s);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_shapes),    cmocka_unit_test(test_splitk_shapes),
        cmocka_unit_test(test_splitk_counts), cmocka_unit_test(test_gpu_binding_split),
        cmocka_unit_test(test_selection),     cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
