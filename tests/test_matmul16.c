// test_matmul16.c: vkt_matmul16 (16-bit operands, fp32 accumulation) on every path (texel,
// tiled, gpu) against vkt_ref_matmul16, in every combination the op accepts: B 16-bit in
// all four transposes (dx = dy W16, dW += dy^T x16) and A and B 16-bit in all four
// (y = x16 W16^T, dW += dy16^T x16), both bf16 and fp16; awkward shapes (1, 7, 33, 65, 130;
// odd K and odd M, so rows of a 16-bit matrix start mid-word), alpha, beta 0 / 1 / other,
// bias, fp32 views at odd float offsets and 16-bit views at word offsets (aligned and
// unaligned vector loads), forced binding splits; the linear layer end to end from
// vkt_cast16 (with dy in fp32 and in 16 bits); bad calls. Split-k (vkt_matmul16_splitk, the
// GPU kernel's SPLITK variants forced on any device by an explicit layer count, or by
// VKT_MATMUL=splitk): every form, both dtypes, long and odd K, layer counts from 1 to more
// than K has slices, the same bits on a second run, a scratch too small (an error for an
// explicit count, fewer layers for the profile's), binding splits.
//
// Inputs are 16-bit values with a spread (|x| = u 2^v, u in [-1, 1), v in [-4, 3]); the
// reference widens the same bits, so what is left is fp32 summation order (as in
// test_matmul_w16.c): atol = 1e-4 sqrt(K) (|alpha| + 1) 64, rtol = 1e-5.
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
#include "op_cast.h"
#include "op_matmul.h"
#include "reference.h"
#include "support_gpu.h"

typedef struct {
    int M, N, K;
} shape;

static const shape SHAPES[] = {
    {1, 1, 1},     {7, 33, 65},  {33, 7, 130}, {65, 130, 7},
    {130, 65, 33}, {1, 130, 65}, {33, 65, 1},  {64, 64, 64},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof *SHAPES)

// The accepted operand forms: a16, transA, transB (B is always 16-bit).
typedef struct {
    bool a16, ta, tb;
} form;
static const form FORMS[] = {
    {true, false, true},   {true, false, false}, // y = x16 W16^T, and nn
    {false, false, false}, {false, true, false}, {false, false, true},
    {false, true, true},   {true, true, false},  {true, true, true}, // dW += dy16^T x16, and tt
};
#define NFORMS (int)(sizeof FORMS / sizeof *FORMS)

static const char *const PATHS[3] = {"texel", "tiled", "gpu"};

// A 16-bit A stored (K, M): shapes whose M is a multiple of 8, so that with an element
// offset that is one too the texel path loads A 8 (or 4) rows of m at a time.
static const shape TN_SHAPES[] = {{8, 7, 33}, {64, 33, 7}, {16, 130, 65}, {72, 9, 130}, {32, 1, 1}};
#define NTN (int)(sizeof TN_SHAPES / sizeof *TN_SHAPES)

// n floats with a spread of magnitudes (see the header), rounded to dt.
static void fill_spread(vkt_dtype16 dt, float *x, uint64_t n, uint64_t seed) {
    float *e = malloc(n * sizeof *e);
    assert_non_null(e);
    test_fill_uniform(x, n, seed, -1, 1);
    test_fill_uniform(e, n, seed ^ 0x5eed, -4, 3.999f);
    for (uint64_t i = 0; i < n; i++)
        x[i] = vkt_half_to_f32(dt, vkt_f32_to_half(dt, x[i] * exp2f(floorf(e[i]))));
    free(e);
}

// One operand of n values at offset off (floats, or 16-bit elements when h16): the host
// copy (float or uint16_t, off elements in) and a device buffer holding the same.
typedef struct {
    void *host;
    vkt_buffer *buf;
    vkt_view view;
} operand;

static operand make_operand(vkt_ctx *ctx, vkt_dtype16 dt, bool h16, uint64_t n, uint64_t off,
                            uint64_t seed) {
    operand o = {0};
    float *f = malloc((n + off + 1) * 4);
    assert_non_null(f);
    fill_spread(dt, f, n + off + 1, seed);
    if (h16) {
        uint16_t *h = malloc((n + off + 2) * 2);
        assert_non_null(h);
        for (uint64_t i = 0; i < n + off + 2; i++)
            h[i] = vkt_f32_to_half(dt, f[i < n + off + 1 ? i : 0]);
        uint64_t words = (n + off + 2) / 2;
        o.buf = test_upload(ctx, (const float *)h, words);
        o.view = (vkt_view){o.buf, 2 * off, 2 * n};
        o.host = h;
        free(f);
    } else {
        o.buf = test_upload(ctx, f, n + off + 1);
        o.view = vkt_view_f32(vkt_view_all(o.buf), off, n);
        o.host = f;
    }
    return o;
}

static const void *at(const operand *o, bool h16, uint64_t off) {
    return h16 ? (const void *)((const uint16_t *)o->host + off)
               : (const void *)((const float *)o->host + off);
}

// One product vs the reference. C (and the bias) at float offset off with guard floats
// after C; 16-bit operands at element offset hoff (even), fp32 ones at off; beta == 0
// fills C with NaN first. splits >= 0: vkt_matmul16_splitk with that many layers (path
// ignored) into a scratch of vkt_matmul_splitk_scratch_floats, or of `layers` M x N layers
// when that is > 0; it starts as NaN, and a second run from the same start gives the same bits.
static void check16_splitk(vkt_ctx *ctx, int path, int splits, uint64_t layers, vkt_dtype16 dt,
                           form f, shape s, float alpha, float beta, bool with_bias, int off,
                           int hoff, uint64_t seed) {
    const uint64_t M = (uint64_t)s.M, N = (uint64_t)s.N, K = (uint64_t)s.K, G = 5, nc = M * N;
    const uint64_t aoff = (uint64_t)(f.a16 ? hoff : off);
    operand A = make_operand(ctx, dt, f.a16, M * K, aoff, seed);
    operand B = make_operand(ctx, dt, true, K * N, (uint64_t)hoff, seed + 1);
    float *bias = malloc((N + off) * 4), *c = malloc((nc + off + G) * 4),
          *want = malloc((nc + off + G) * 4);
    assert_true(bias && c && want);
    test_fill_uniform(bias, N + off, seed + 2, -1, 1);
    test_fill_uniform(c, nc + off + G, seed + 3, -1, 1);
    if (beta == 0)
        for (uint64_t i = 0; i < nc; i++) c[off + i] = NAN;
    memcpy(want, c, (nc + off + G) * 4);
    assert_int_equal(vkt_ref_matmul16(dt, f.a16, true, f.ta, f.tb, s.M, s.N, s.K, alpha,
                                      at(&A, f.a16, aoff), at(&B, true, (uint64_t)hoff), beta,
                                      want + off, with_bias ? bias + off : NULL, NULL),
                     VKT_OK);
    vkt_buffer *bbias = test_upload(ctx, bias, N + off), *bc = test_upload(ctx, c, nc + off + G);
    vkt_view vc = vkt_view_f32(vkt_view_all(bc), off, nc);
    vkt_view vbias = with_bias ? vkt_view_f32(vkt_view_all(bbias), off, N) : (vkt_view){0};
    uint64_t ns = splits < 0 ? 0
                  : layers   ? layers * nc
                             : vkt_matmul_splitk_scratch_floats(ctx, s.M, s.N, s.K, splits);
    float *nan = NULL;
    vkt_buffer *bs = NULL;
    vkt_view vs = {0};
    if (ns) {
        nan = malloc((ns + off) * 4);
        assert_non_null(nan);
        for (uint64_t i = 0; i < ns + off; i++) nan[i] = NAN;
        bs = test_upload(ctx, nan, ns + off);
        vs = vkt_view_f32(vkt_view_all(bs), (uint64_t)off, ns);
    }
    if (splits < 0)
        TEST_OK(ctx, vkt_matmul16_on_path(ctx, (vkt_matmul_path)path, dt, f.a16, true, f.ta, f.tb,
                                          s.M, s.N, s.K, alpha, A.view, B.view, beta, vc, vbias));
    else
        TEST_OK(ctx, vkt_matmul16_splitk(ctx, splits, dt, f.a16, true, f.ta, f.tb, s.M, s.N, s.K,
                                         alpha, A.view, B.view, beta, vc, vbias, vs));
    float *got = test_download(ctx, bc, nc + off + G);
    char label[240];
    snprintf(label, sizeof label,
             "matmul16 %s splits=%d (scratch %llu) %s a16=%d %c%c M=%d N=%d K=%d alpha=%g beta=%g "
             "bias=%d off=%d hoff=%d",
             splits < 0 ? PATHS[path] : "splitk", splits, (unsigned long long)ns,
             vkt_dtype16_name(dt), f.a16, f.ta ? 'T' : 'N', f.tb ? 'T' : 'N', s.M, s.N, s.K, alpha,
             beta, with_bias, off, hoff);
    double atol = 1e-4 * sqrt((double)s.K) * (fabs(alpha) + 1) * 64;
    if (!test_close(label, got, want, nc + off + G, atol, 1e-5)) fail_msg("%s", label);
    if (splits >= 0) {
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bc), c, (nc + off + G) * 4));
        if (bs) TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bs), nan, (ns + off) * 4));
        TEST_OK(ctx, vkt_matmul16_splitk(ctx, splits, dt, f.a16, true, f.ta, f.tb, s.M, s.N, s.K,
                                         alpha, A.view, B.view, beta, vc, vbias, vs));
        float *again = test_download(ctx, bc, nc + off + G);
        if (memcmp(got, again, (nc + off + G) * 4))
            fail_msg("%s: a second run gave other bits", label);
        free(again);
    }
    free(got), free(nan);
    if (bs) vkt_buffer_destroy(ctx, bs);
    vkt_buffer_destroy(ctx, A.buf), vkt_buffer_destroy(ctx, B.buf), vkt_buffer_destroy(ctx, bbias);
    vkt_buffer_destroy(ctx, bc);
    free(A.host), free(B.host), free(bias), free(c), free(want);
}

static void check16(vkt_ctx *ctx, int path, vkt_dtype16 dt, form f, shape s, float alpha,
                    float beta, bool with_bias, int off, int hoff, uint64_t seed) {
    check16_splitk(ctx, path, -1, 0, dt, f, s, alpha, beta, with_bias, off, hoff, seed);
}

// Every shape x every accepted form on one path, each form in both dtypes on half the
// shapes; alpha, beta, bias and offsets vary with the case so each kernel variant meets
// aligned and unaligned operands.
static void run_shapes(int path) {
    vkt_ctx *ctx = test_ctx();
    static const float alphas[] = {1.0f, 0.5f, -2.0f, 1.0f};
    static const float betas[] = {0.0f, 1.0f, -1.25f, 0.0f, 1.0f};
    static const int offs[] = {0, 1, 3, 0, 4}, hoffs[] = {0, 2, 8, 6, 0, 16, 4};
    int c = 0;
    for (int i = 0; i < NSHAPES; i++)
        for (int fi = 0; fi < NFORMS; fi++, c++)
            check16(ctx, path, (i + fi) % 2 ? VKT_F16 : VKT_BF16, FORMS[fi], SHAPES[i],
                    alphas[c % 4], betas[(c / 4 + c) % 5], c % 3 != 0, offs[c % 5], hoffs[c % 7],
                    500 + (uint64_t)c);
    test_ctx_done(ctx);
}

// The transposed 16-bit A on aligned shapes (vector loads along m) and, with hoff 2 or 6,
// the same shapes unaligned; TN and TT, both dtypes.
static void run_tn(int path) {
    vkt_ctx *ctx = test_ctx();
    static const int hoffs[] = {0, 8, 2, 16, 6};
    int c = 0;
    for (int i = 0; i < NTN; i++)
        for (int t = 0; t < 2; t++, c++)
            check16(ctx, path, c % 2 ? VKT_F16 : VKT_BF16, (form){true, true, c % 3 == 2},
                    TN_SHAPES[i], c % 4 ? 1.0f : -0.75f, (float)(c % 3) * 0.5f, c % 2 == 0, c % 3,
                    hoffs[c % 5], 700 + (uint64_t)c);
    test_ctx_done(ctx);
}

static void test_texel(void **state) { run_shapes(VKT_MATMUL_TEXEL_REGBLOCK); }
static void test_tn(void **state) {
    for (int p = 0; p < 3; p++) run_tn(p);
}
static void test_tiled(void **state) { run_shapes(VKT_MATMUL_SHARED_TILED); }
static void test_gpu(void **state) { run_shapes(VKT_MATMUL_GPU_TILED); }

// A 4 KiB binding limit (about 2000 16-bit values per binding): every operand cut into
// chunks whose windows start mid-word (odd K, odd N), k-chunks accumulated with beta = 1.
static void test_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    static const shape s[] = {{3, 1501, 5}, {20, 301, 71}, {5, 7, 1101}, {33, 17, 201}};
    int c = 0;
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
            for (int fi = 0; fi < NFORMS - 2; fi += 1 + (c % 2), c++)
                check16(ctx, p, c % 2 ? VKT_F16 : VKT_BF16, FORMS[fi], s[i], c % 3 ? 1.0f : 0.75f,
                        c % 4 == 1 ? 0.5f : 0.0f, c % 2 == 0, c % 3, 2 * (c % 3),
                        900 + (uint64_t)c);
    // A 16-bit A stored (K, M), cut along k and along m (windows that start mid-row; M 64:
    // chunks that stay aligned for vector loads), TN in both dtypes, TT once a path.
    static const shape st[] = {{1501, 3, 5}, {64, 40, 50}, {33, 17, 201}, {7, 130, 1101}};
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < (int)(sizeof st / sizeof *st); i++, c++)
            check16(ctx, p, c % 2 ? VKT_F16 : VKT_BF16, (form){true, true, i == 3}, st[i],
                    c % 3 ? 1.0f : 0.75f, i % 2 ? 1.0f : 0.0f, i != 1, 0, i % 2 ? 8 : 2,
                    950 + (uint64_t)c);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// Split-k on awkward shapes (odd M, N and K; K no multiple of the layers' k-range; long K as
// in weight gradients), every form in both dtypes, with explicit layer counts from 1 to more
// than K has slices; alpha, beta, bias and offsets vary with the case.
static void test_splitk(void **state) {
    vkt_ctx *ctx = test_ctx();
    static const shape s[] = {{7, 33, 300},  {33, 7, 1031}, {1, 130, 65},  {65, 1, 257},
                              {130, 65, 33}, {3, 5, 20},    {17, 33, 1000}};
    static const int splits[] = {1, 2, 3, 5, 16, 64};
    static const float alphas[] = {1.0f, 0.5f, -2.0f, 1.0f};
    static const float betas[] = {0.0f, 1.0f, -1.25f, 0.0f, 1.0f};
    static const int offs[] = {0, 1, 3, 0, 4}, hoffs[] = {0, 2, 8, 6, 0, 16, 4};
    int c = 0;
    for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
        for (int fi = 0; fi < NFORMS; fi++, c++)
            for (int d = 0; d < 2; d++)
                check16_splitk(ctx, 0, splits[(c + d) % 6], 0, d ? VKT_F16 : VKT_BF16, FORMS[fi],
                               s[i], alphas[c % 4], betas[(c / 4 + c) % 5], c % 3 != 0, offs[c % 5],
                               hoffs[(c + d) % 7], 1100 + (uint64_t)(2 * c + d));
    test_ctx_done(ctx);
}

// The profile's choice (splits 0): on a CPU device's own path it does not split and needs
// no scratch; under VKT_MATMUL=splitk it splits, into fewer layers where the scratch holds
// fewer (the same bits as asking for that many), and with no scratch it is vkt_matmul16.
// The model's weight-gradient forms (dy16^T x16, x16^T dy16) and B alone.
static void test_splitk_profile(void **state) {
    const char *was = getenv("VKT_MATMUL");
    char *saved = was ? strdup(was) : NULL;
    unsetenv("VKT_MATMUL");
    vkt_ctx *ctx = test_ctx();
    if (vkt_ctx_profile(ctx)->type == VKT_DEVICE_CPU) {
        assert_int_equal(vkt_matmul_splitk_scratch_floats(ctx, 20, 33, 300, 0), 0);
        check16_splitk(ctx, 0, 0, 0, VKT_BF16, (form){true, true, false}, (shape){20, 33, 300},
                       1.0f, 1.0f, false, 0, 0, 1200);
    }
    test_ctx_done(ctx);
    setenv("VKT_MATMUL", "splitk", 1);
    ctx = test_ctx();
    const form fs[] = {{true, true, false}, {false, true, false}, {true, false, true}};
    const shape sh[] = {{20, 33, 300}, {33, 20, 1031}, {9, 7, 65}};
    for (int i = 0; i < 3; i++) {
        vkt_dtype16 dt = i % 2 ? VKT_F16 : VKT_BF16;
        shape z = sh[i];
        assert_true(vkt_matmul_splitk_scratch_floats(ctx, z.M, z.N, z.K, 0) >=
                    2 * (uint64_t)z.M * z.N);
        // the scratch the size function gives, two layers' worth, none
        check16_splitk(ctx, 0, 0, 0, dt, fs[i], z, 1.0f, 1.0f, i != 1, i, 2 * i, 1210 + i);
        check16_splitk(ctx, 0, 0, 2, dt, fs[i], z, 0.5f, 0.0f, i == 1, 1, 2, 1220 + i);
        check16_splitk(ctx, 0, 0, 1, dt, fs[i], z, 1.0f, 1.0f, false, 0, 0, 1230 + i);
    }
    // two layers of scratch with splits 0 are exactly two layers asked for
    const uint64_t M = 33, N = 20, K = 1031, nw = (M * K + 1) / 2 + (K * N + 1) / 2;
    uint16_t *h = malloc(nw * 4);
    assert_non_null(h);
    for (uint64_t i = 0; i < 2 * nw; i++)
        h[i] = vkt_f32_to_half(VKT_BF16, (float)((i * 37) % 101) / 50.0f - 1.0f);
    vkt_buffer *bh = test_upload(ctx, (const float *)h, nw), *bc = test_upload(ctx, NULL, M * N),
               *bs = test_upload(ctx, NULL, 2 * M * N);
    vkt_view va = {bh, 0, 2 * M * K}, vb = {bh, 4 * ((M * K + 1) / 2), 2 * K * N},
             vc = vkt_view_all(bc), vs = vkt_view_all(bs), none = {0};
    float *got[2];
    for (int r = 0; r < 2; r++) {
        TEST_OK(ctx, vkt_matmul16_splitk(ctx, r ? 2 : 0, VKT_BF16, true, true, true, false, (int)M,
                                         (int)N, (int)K, 1, va, vb, 0, vc, none, vs));
        got[r] = test_download(ctx, bc, M * N);
    }
    assert_memory_equal(got[0], got[1], M * N * 4);
    free(got[0]), free(got[1]), free(h);
    vkt_buffer_destroy(ctx, bh), vkt_buffer_destroy(ctx, bc), vkt_buffer_destroy(ctx, bs);
    test_ctx_done(ctx);
    if (saved)
        setenv("VKT_MATMUL", saved, 1);
    else
        unsetenv("VKT_MATMUL");
    free(saved);
}

// A 4 KiB binding limit: split-k products cut into chunks (which then run unsplit).
static void test_splitk_binding(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    static const shape s[] = {{20, 301, 71}, {5, 7, 1101}, {33, 17, 201}};
    int c = 0;
    for (int i = 0; i < (int)(sizeof s / sizeof *s); i++)
        for (int fi = 2; fi < NFORMS; fi += 2, c++)
            check16_splitk(ctx, 0, 4, 0, c % 2 ? VKT_F16 : VKT_BF16, FORMS[fi], s[i], 1.0f,
                           c % 3 ? 0.0f : 0.5f, c % 2 == 0, c % 3, 2 * (c % 3), 1300 + (uint64_t)c);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// The mixed-precision linear layer on the device's own path: x and W cast to 16 bits by
// vkt_cast16, then the forward, dx and dW products, each against the reference on the
// same 16-bit values. IN = 33 is odd, so x16's and W16's rows start mid-word.
static void test_linear(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int M = 9, IN = 33, OUT = 20;
    float *x = malloc((size_t)M * IN * 4), *w = malloc((size_t)OUT * IN * 4),
          *dy = malloc((size_t)M * OUT * 4);
    float *b = malloc(OUT * 4), *y = malloc((size_t)M * OUT * 4), *dx = malloc((size_t)M * IN * 4);
    float *dw = malloc((size_t)OUT * IN * 4);
    uint16_t *x16 = malloc((size_t)M * IN * 2), *w16 = malloc((size_t)OUT * IN * 2);
    test_fill_uniform(x, (uint64_t)M * IN, 1, -2, 2);
    test_fill_uniform(w, (uint64_t)OUT * IN, 2, -1, 1);
    test_fill_uniform(dy, (uint64_t)M * OUT, 3, -1, 1);
    test_fill_uniform(b, OUT, 4, -1, 1);
    test_fill_uniform(dw, (uint64_t)OUT * IN, 5, -1, 1);
    vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * IN),
               *bw = test_upload(ctx, w, (uint64_t)OUT * IN);
    vkt_buffer *bdy = test_upload(ctx, dy, (uint64_t)M * OUT), *bb = test_upload(ctx, b, OUT);
    vkt_buffer *bx16 = test_upload(ctx, NULL, ((uint64_t)M * IN + 1) / 2);
    vkt_buffer *bw16 = test_upload(ctx, NULL, ((uint64_t)OUT * IN + 1) / 2);
    vkt_buffer *by = test_upload(ctx, NULL, (uint64_t)M * OUT),
               *bdx = test_upload(ctx, NULL, (uint64_t)M * IN);
    vkt_buffer *bdw = test_upload(ctx, dw, (uint64_t)OUT * IN);
    vkt_view none = {0};
    for (int d = 0; d < 2; d++) {
        vkt_dtype16 dt = d ? VKT_F16 : VKT_BF16;
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bdw), dw, (uint64_t)OUT * IN * 4));
        TEST_OK(ctx, vkt_cast16(ctx, dt, vkt_view_all(bx), vkt_view_all(bx16), (uint64_t)M * IN));
        TEST_OK(ctx, vkt_cast16(ctx, dt, vkt_view_all(bw), vkt_view_all(bw16), (uint64_t)OUT * IN));
        TEST_OK(ctx,
                vkt_matmul16(ctx, dt, true, true, false, true, M, OUT, IN, 1, vkt_view_all(bx16),
                             vkt_view_all(bw16), 0, vkt_view_all(by), vkt_view_all(bb)));
        TEST_OK(ctx,
                vkt_matmul16(ctx, dt, false, true, false, false, M, IN, OUT, 1, vkt_view_all(bdy),
                             vkt_view_all(bw16), 0, vkt_view_all(bdx), none));
        TEST_OK(ctx,
                vkt_matmul16(ctx, dt, false, true, true, false, OUT, IN, M, 1, vkt_view_all(bdy),
                             vkt_view_all(bx16), 1, vkt_view_all(bdw), none));
        assert_int_equal(vkt_ref_cast16(dt, (size_t)M * IN, x, x16, NULL), VKT_OK);
        assert_int_equal(vkt_ref_cast16(dt, (size_t)OUT * IN, w, w16, NULL), VKT_OK);
        float *gy = test_download(ctx, by, (uint64_t)M * OUT),
              *gdx = test_download(ctx, bdx, (uint64_t)M * IN);
        float *gdw = test_download(ctx, bdw, (uint64_t)OUT * IN),
              *wdw = malloc((size_t)OUT * IN * 4);
        memcpy(wdw, dw, (size_t)OUT * IN * 4);
        assert_int_equal(
            vkt_ref_matmul16(dt, true, true, false, true, M, OUT, IN, 1, x16, w16, 0, y, b, NULL),
            VKT_OK);
        assert_int_equal(vkt_ref_matmul16(dt, false, true, false, false, M, IN, OUT, 1, dy, w16, 0,
                                          dx, NULL, NULL),
                         VKT_OK);
        assert_int_equal(vkt_ref_matmul16(dt, false, true, true, false, OUT, IN, M, 1, dy, x16, 1,
                                          wdw, NULL, NULL),
                         VKT_OK);
        assert_true(test_close("linear16 y", gy, y, (uint64_t)M * OUT, 1e-4 * 6 * 4, 1e-5));
        assert_true(test_close("linear16 dx", gdx, dx, (uint64_t)M * IN, 1e-4 * 5 * 2, 1e-5));
        assert_true(test_close("linear16 dW", gdw, wdw, (uint64_t)OUT * IN, 1e-4 * 3 * 4, 1e-5));
        free(gy), free(gdx), free(gdw), free(wdw);
    }
    vkt_buffer *bufs[] = {bx, bw, bdy, bb, bx16, bw16, by, bdx, bdw};
    for (int i = 0; i < 9; i++) vkt_buffer_destroy(ctx, bufs[i]);
    free(x), free(w), free(dy), free(b), free(y), free(dx), free(dw), free(x16), free(w16);
    test_ctx_done(ctx);
}

// The weight gradients with dy in 16 bits too, on the device's own path: x and dy cast by
// vkt_cast16, then Linear dW (OUT, IN) += dy16^T x16 and Conv1D dW (IN, OUT) += x16^T dy16
// against the reference on the same 16-bit values. M = 9 tokens and IN = 33 are odd.
static void test_linear_dw16(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int M = 9, IN = 33, OUT = 20;
    const uint64_t nx = (uint64_t)M * IN, ndy = (uint64_t)M * OUT, nw = (uint64_t)OUT * IN;
    float *x = malloc(nx * 4), *dy = malloc(ndy * 4), *dw = malloc(nw * 4), *want = malloc(nw * 4);
    uint16_t *x16 = malloc(nx * 2), *dy16 = malloc(ndy * 2);
    test_fill_uniform(x, nx, 11, -2, 2);
    test_fill_uniform(dy, ndy, 12, -1, 1);
    test_fill_uniform(dw, nw, 13, -1, 1);
    vkt_buffer *bx = test_upload(ctx, x, nx), *bdy = test_upload(ctx, dy, ndy);
    vkt_buffer *bx16 = test_upload(ctx, NULL, (nx + 1) / 2),
               *bdy16 = test_upload(ctx, NULL, (ndy + 1) / 2), *bdw = test_upload(ctx, dw, nw);
    vkt_view vx16 = vkt_view_all(bx16), vdy16 = vkt_view_all(bdy16), none = {0};
    for (int c = 0; c < 4; c++) {
        vkt_dtype16 dt = c % 2 ? VKT_F16 : VKT_BF16;
        bool conv = c >= 2;
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bdw), dw, nw * 4));
        TEST_OK(ctx, vkt_cast16(ctx, dt, vkt_view_all(bx), vx16, nx));
        TEST_OK(ctx, vkt_cast16(ctx, dt, vkt_view_all(bdy), vdy16, ndy));
        assert_int_equal(vkt_ref_cast16(dt, nx, x, x16, NULL), VKT_OK);
        assert_int_equal(vkt_ref_cast16(dt, ndy, dy, dy16, NULL), VKT_OK);
        memcpy(want, dw, nw * 4);
        if (conv) {
            TEST_OK(ctx, vkt_matmul16(ctx, dt, true, true, true, false, IN, OUT, M, 1, vx16, vdy16,
                                      1, vkt_view_all(bdw), none));
            assert_int_equal(vkt_ref_matmul16(dt, true, true, true, false, IN, OUT, M, 1, x16, dy16,
                                              1, want, NULL, NULL),
                             VKT_OK);
        } else {
            TEST_OK(ctx, vkt_matmul16(ctx, dt, true, true, true, false, OUT, IN, M, 1, vdy16, vx16,
                                      1, vkt_view_all(bdw), none));
            assert_int_equal(vkt_ref_matmul16(dt, true, true, true, false, OUT, IN, M, 1, dy16, x16,
                                              1, want, NULL, NULL),
                             VKT_OK);
        }
        float *got = test_download(ctx, bdw, nw);
        assert_true(test_close(conv ? "conv1d16 dW" : "linear16 dW (dy16)", got, want, nw,
                               1e-4 * 3 * 4, 1e-5));
        free(got);
    }
    vkt_buffer *bufs[] = {bx, bdy, bx16, bdy16, bdw};
    for (int i = 0; i < 5; i++) vkt_buffer_destroy(ctx, bufs[i]);
    free(x), free(dy), free(dw), free(want), free(x16), free(dy16);
    test_ctx_done(ctx);
}

// Bad calls fail with a message that names the input at fault, and write nothing; no
// 16-bit operand at all is the plain fp32 product.
static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[64];
    for (int i = 0; i < 64; i++) h[i] = (float)i;
    vkt_buffer *a = test_upload(ctx, h, 64), *b = test_upload(ctx, h, 64),
               *c = test_upload(ctx, h, 64);
    vkt_view va = vkt_view_all(a), vb = vkt_view_all(b), vc = vkt_view_all(c), none = {0};
    for (int p = 0; p < 3; p++) {
        vkt_matmul_path path = (vkt_matmul_path)p;
        assert_int_equal(vkt_matmul16_on_path(ctx, path, VKT_BF16, true, false, false, true, 2, 2,
                                              4, 1, va, vb, 0, vc, none),
                         VKT_ERR_UNSUPPORTED);
        assert_non_null(strstr(vkt_ctx_message(ctx),
                               "matmul16: a16=1 with b16=0 (A 16-bit, B fp32) is not supported"));
        // A (4, 2) of 16-bit values stored transposed needs 16 bytes
        assert_int_equal(vkt_matmul16_on_path(ctx, path, VKT_F16, true, true, true, false, 2, 2, 4,
                                              1, (vkt_view){a, 0, 12}, vb, 0, vc, none),
                         VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx),
                               "matmul16: A view of 12 bytes is too small for 8 f16 values"));
        assert_int_equal(vkt_matmul16_on_path(ctx, path, VKT_F16, true, true, false, true, 2, 2, 4,
                                              1, (vkt_view){a, 2, 60}, vb, 0, vc, none),
                         VKT_ERR_ARG);
        assert_non_null(
            strstr(vkt_ctx_message(ctx), "A's offset of 2 bytes is not a multiple of 4"));
        // A (9, 16) of 16-bit values needs 288 bytes; the view has 256
        assert_int_equal(vkt_matmul16_on_path(ctx, path, VKT_BF16, true, true, false, true, 9, 2,
                                              16, 1, va, vb, 0, vc, none),
                         VKT_ERR_ARG);
        assert_non_null(
            strstr(vkt_ctx_message(ctx), "A view of 256 bytes is too small for 144 bf16 values"));
        assert_int_equal(vkt_matmul16_on_path(ctx, path, (vkt_dtype16)4, false, true, true, false,
                                              2, 2, 4, 1, va, vb, 0, vc, none),
                         VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "dtype 4"));
        assert_int_equal(vkt_matmul16_on_path(ctx, path, VKT_BF16, false, true, true, false, 8, 8,
                                              9, 1, va, vb, 0, vc, none),
                         VKT_ERR_ARG); // A (9, 8) fp32 too small
        assert_non_null(strstr(vkt_ctx_message(ctx), "A view"));
    }
    // split-k: the same forms, and a scratch too small for the layers asked for (2 x 2 by K 64
    // in 4 layers needs 16 floats)
    assert_int_equal(vkt_matmul16_splitk(ctx, 2, VKT_BF16, true, false, false, true, 2, 2, 4, 1, va,
                                         vb, 0, vc, none, vc),
                     VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(vkt_ctx_message(ctx), "matmul16_splitk: a16=1 with b16=0"));
    assert_int_equal(vkt_matmul16_splitk(ctx, 2, (vkt_dtype16)4, true, true, false, true, 2, 2, 4,
                                         1, va, vb, 0, vc, none, vc),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "matmul16_splitk: dtype 4"));
    assert_int_equal(vkt_matmul16_splitk(ctx, 4, VKT_F16, true, true, true, false, 2, 2, 64, 1, va,
                                         vb, 0, vc, none, (vkt_view){c, 0, 60}),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "matmul16_splitk: scratch of 60 bytes"));
    assert_int_equal(vkt_matmul16_splitk(ctx, 2, VKT_F16, true, true, false, true, 2, 2, 4, 1,
                                         (vkt_view){a, 2, 60}, vb, 0, vc, none, vc),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "matmul16_splitk: A's offset of 2 bytes"));
    float *got = test_download(ctx, c, 64);
    assert_memory_equal(got, h, sizeof h);
    free(got);
    // neither operand 16-bit: the fp32 product
    float want[4];
    TEST_OK(ctx, vkt_matmul16(ctx, VKT_BF16, false, false, false, false, 2, 2, 3, 1, va, vb, 0, vc,
                              none));
    assert_int_equal(vkt_ref_matmul(false, false, 2, 2, 3, 1, h, h, 0, want, NULL, NULL), VKT_OK);
    got = test_download(ctx, c, 4);
    assert_memory_equal(got, want, sizeof want);
    free(got);
    uint16_t hb[4] = {0};
    assert_int_equal(vkt_ref_matmul16((vkt_dtype16)3, false, true, false, false, 1, 1, 1, 1, h, hb,
                                      0, want, NULL, NULL),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_ref_matmul16(VKT_BF16, true, true, false, false, 1, 1, 1, 1, NULL, hb, 0,
                                      want, NULL, NULL),
                     VKT_ERR_ARG);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, b), vkt_buffer_destroy(ctx, c);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_texel),
        cmocka_unit_test(test_tiled),
        cmocka_unit_test(test_gpu),
        cmocka_unit_test(test_tn),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_linear_dw16),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_splitk),
        cmocka_unit_test(test_splitk_profile),
        cmocka_unit_test(test_splitk_binding),
        cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
