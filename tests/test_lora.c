// test_lora.c: LoRA adapters (trainer/model/lora.h) against a plain double reference on awkward
// shapes (M 1/7/33, IN/OUT 12/24/40, r 1/4/8), the reference's gradient against central
// finite differences of sum(y * g), AdamW with clipping against a host step, PEFT files
// (round trip, adapter_config.json keys, refusals naming file and tensor) and the merge.
//
// Tolerances: fp32 products of length <= 40 against double: atol 2e-5 + rtol 1e-4.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lora.h"
#include "op_dropout.h"
#include "safetensors.h"
#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"

#define ATOL 2e-5
#define RTOL 1e-4

// llama-tiny reshaped: C 24, F 40, 4 heads of 6, 2 kv heads (KV 12), 2 layers.
static void tiny(vkt_model_config *c, vkt_params *ps) {
    vkt_error err = {0};
    *c = test_config("llama-tiny", (test_shape){.vocab = 32,
                                                .context = 16,
                                                .layers = 2,
                                                .width = 24,
                                                .ffn = 40,
                                                .heads = 4,
                                                .kv_heads = 2});
    if (vkt_params_build(c, ps, &err) != VKT_OK) fail_msg("%s", err.msg);
}

static vkt_lora *make(vkt_ctx *ctx, const vkt_model_config *c, const vkt_params *ps, int r,
                      unsigned targets) {
    vkt_lora_config lc = {r, 3.0f, 0.0f, targets, 11};
    vkt_lora *a = NULL;
    TEST_OK(ctx, vkt_lora_create(ctx, c, ps, &lc, &a));
    return a;
}

// Random A and B (B nonzero, unlike the init) so every product carries signal.
static float *randomize(vkt_ctx *ctx, vkt_lora *a, uint64_t seed) {
    float *h = malloc(vkt_lora_count(a) * 4);
    test_fill_uniform(h, vkt_lora_count(a), seed, -0.5f, 0.5f);
    TEST_OK(ctx, vkt_lora_set(a, h));
    return h;
}

// y (M, OUT) += scale * (x A^T) B^T in double.
static void ref_fwd(int M, int IN, int OUT, int r, double scale, const float *x, const float *A,
                    const float *B, double *y) {
    for (int m = 0; m < M; m++)
        for (int j = 0; j < r; j++) {
            double xa = 0;
            for (int i = 0; i < IN; i++) xa += (double)x[m * IN + i] * A[j * IN + i];
            for (int o = 0; o < OUT; o++) y[m * OUT + o] += scale * xa * B[o * r + j];
        }
}

// The exact gradients of sum(y * dy) through ref_fwd: dA, dB, dx (+=).
static void ref_bwd(int M, int IN, int OUT, int r, double scale, const float *x, const float *A,
                    const float *B, const double *dy, double *dA, double *dB, double *dx) {
    for (int m = 0; m < M; m++)
        for (int j = 0; j < r; j++) {
            double xa = 0, dyb = 0;
            for (int i = 0; i < IN; i++) xa += (double)x[m * IN + i] * A[j * IN + i];
            for (int o = 0; o < OUT; o++) dyb += dy[m * OUT + o] * B[o * r + j];
            for (int o = 0; o < OUT; o++) dB[o * r + j] += scale * dy[m * OUT + o] * xa;
            for (int i = 0; i < IN; i++) {
                dA[j * IN + i] += scale * dyb * x[m * IN + i];
                dx[m * IN + i] += scale * dyb * A[j * IN + i];
            }
        }
}

static void close_d(const char *label, const float *got, const double *want, uint64_t n,
                    double atol, double rtol) {
    float *w = malloc(n * 4);
    for (uint64_t i = 0; i < n; i++) w[i] = (float)want[i];
    assert_true(test_close(label, got, w, n, atol, rtol));
    free(w);
}

static void test_parse(void **state) {
    (void)state;
    unsigned t;
    vkt_error err = {0};
    assert_int_equal(vkt_lora_targets_parse("q_proj, v_proj", &t, &err), VKT_OK);
    assert_int_equal(t, VKT_LORA_Q | VKT_LORA_V);
    assert_int_equal(vkt_lora_targets_parse("all-linear", &t, &err), VKT_OK);
    assert_int_equal(t, VKT_LORA_ALL);
    assert_int_equal(vkt_lora_targets_parse("q_proj,lm_head", &t, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'lm_head'"));
    assert_int_equal(vkt_lora_targets_parse("q_proj,,v_proj", &t, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_lora_targets_parse("", &t, &err), VKT_ERR_ARG);
}

static void test_refusals(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    assert_int_equal(vkt_model_preset("gpt2-tiny", &c, vkt_ctx_err(ctx)), VKT_OK);
    assert_int_equal(vkt_params_build(&c, &ps, vkt_ctx_err(ctx)), VKT_OK);
    vkt_lora_config lc = {4, 8.0f, 0.0f, VKT_LORA_Q, 1};
    vkt_lora *a = NULL;
    assert_int_equal(vkt_lora_create(ctx, &c, &ps, &lc, &a), VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(vkt_ctx_message(ctx), "gpt2"));
    vkt_params_free(&ps);
    tiny(&c, &ps);
    lc.rank = 0;
    assert_int_equal(vkt_lora_create(ctx, &c, &ps, &lc, &a), VKT_ERR_ARG);
    lc.rank = 4, lc.dropout = 0.1f;
    assert_int_equal(vkt_lora_create(ctx, &c, &ps, &lc, &a), VKT_OK);
    assert_int_equal(vkt_lora_set_train(a, true, 0), VKT_OK);
    vkt_lora_destroy(a);
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

// The init: B = 0, A within PEFT's kaiming bound, deterministic for the seed.
static void test_init(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    vkt_lora *a = make(ctx, &c, &ps, 4, VKT_LORA_ALL), *b = make(ctx, &c, &ps, 4, VKT_LORA_ALL);
    assert_int_equal(vkt_lora_n_targets(a), 14);
    uint64_t n = vkt_lora_count(a);
    float *ha = malloc(n * 4), *hb = malloc(n * 4);
    TEST_OK(ctx, vkt_lora_get(a, ha));
    TEST_OK(ctx, vkt_lora_get(b, hb));
    assert_memory_equal(ha, hb, n * 4);
    for (int k = 0; k < vkt_lora_n_targets(a); k++) {
        const vkt_lora_target *t = vkt_lora_target_at(a, k);
        double bound = 1.0 / sqrt(t->in), amax = 0;
        for (int j = 0; j < 4 * t->in; j++) amax = fmax(amax, fabs(ha[t->a_offset + j]));
        assert_true(amax <= bound && amax > 0.5 * bound);
        for (int j = 0; j < t->out * 4; j++) assert_true(ha[t->b_offset + j] == 0.0f);
    }
    free(ha), free(hb);
    vkt_lora_destroy(a), vkt_lora_destroy(b);
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

// Forward and backward of several targets (shapes 24->24, 24->12, 24->40, 40->24) for
// M 1/7/33 and r 1/4/8, against the reference; a non-target is a no-op.
static void test_fwd_bwd(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    const int Ms[3] = {1, 7, 33}, rs[3] = {1, 4, 8};
    const vkt_param_kind kinds[4] = {VKT_P_Q_W, VKT_P_K_W, VKT_P_FC_W, VKT_P_PROJ_W};
    for (int cse = 0; cse < 3; cse++) {
        const int M = Ms[cse], r = rs[cse];
        vkt_lora *a = make(ctx, &c, &ps, r, VKT_LORA_ALL & ~VKT_LORA_V);
        float *h = randomize(ctx, a, 100 + cse);
        const double scale = vkt_lora_scale(a);
        assert_true(fabs(scale - 3.0 / r) < 1e-7);
        TEST_OK(ctx, vkt_lora_plan(a, 40));
        const uint64_t n = vkt_lora_count(a);
        double *gref = calloc(n, 8);
        for (int q = 0; q < 4; q++) {
            const int layer = q % 2;
            const vkt_param *p = vkt_params_find(&ps, kinds[q], layer);
            const int OUT = (int)p->shape[0], IN = (int)p->shape[1];
            const vkt_lora_target *t = NULL;
            for (int k = 0; k < vkt_lora_n_targets(a); k++)
                if (vkt_lora_target_at(a, k)->kind == kinds[q] &&
                    vkt_lora_target_at(a, k)->layer == layer)
                    t = vkt_lora_target_at(a, k);
            assert_non_null(t);
            assert_int_equal(t->in, IN), assert_int_equal(t->out, OUT);
            float *x = malloc((size_t)M * IN * 4), *y = malloc((size_t)M * OUT * 4);
            float *dy = malloc((size_t)M * OUT * 4), *dx = malloc((size_t)M * IN * 4);
            test_fill_uniform(x, (uint64_t)M * IN, 1 + q, -1, 1);
            test_fill_uniform(y, (uint64_t)M * OUT, 2 + q, -1, 1);
            test_fill_uniform(dy, (uint64_t)M * OUT, 3 + q, -1, 1);
            test_fill_uniform(dx, (uint64_t)M * IN, 4 + q, -1, 1);
            double *yr = malloc((size_t)M * OUT * 8), *dyd = malloc((size_t)M * OUT * 8);
            double *dxr = malloc((size_t)M * IN * 8);
            for (int i = 0; i < M * OUT; i++) yr[i] = y[i], dyd[i] = dy[i];
            for (int i = 0; i < M * IN; i++) dxr[i] = dx[i];
            vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * IN),
                       *by = test_upload(ctx, y, (uint64_t)M * OUT);
            vkt_buffer *bdy = test_upload(ctx, dy, (uint64_t)M * OUT),
                       *bdx = test_upload(ctx, dx, (uint64_t)M * IN);
            TEST_OK(ctx, vkt_lora_fwd(a, kinds[q], layer, M, vkt_view_all(bx), vkt_view_all(by)));
            // v_proj is not a target: nothing happens to y.
            TEST_OK(ctx, vkt_lora_fwd(a, VKT_P_V_W, layer, M, vkt_view_all(bx), vkt_view_all(by)));
            TEST_OK(ctx, vkt_lora_bwd(a, kinds[q], layer, M, vkt_view_all(bx), vkt_view_all(bdy),
                                      vkt_view_all(bdx)));
            ref_fwd(M, IN, OUT, r, scale, x, h + t->a_offset, h + t->b_offset, yr);
            ref_bwd(M, IN, OUT, r, scale, x, h + t->a_offset, h + t->b_offset, dyd,
                    gref + t->a_offset, gref + t->b_offset, dxr);
            float *yg = test_download(ctx, by, (uint64_t)M * OUT),
                  *dxg = test_download(ctx, bdx, (uint64_t)M * IN);
            char label[64];
            snprintf(label, sizeof label, "fwd M=%d r=%d target %d", M, r, q);
            close_d(label, yg, yr, (uint64_t)M * OUT, ATOL, RTOL);
            snprintf(label, sizeof label, "dx M=%d r=%d target %d", M, r, q);
            close_d(label, dxg, dxr, (uint64_t)M * IN, ATOL, RTOL);
            free(yg), free(dxg), free(x), free(y), free(dy), free(dx), free(yr), free(dyd),
                free(dxr);
            vkt_buffer *bs[4] = {bx, by, bdy, bdx};
            for (int i = 0; i < 4; i++) vkt_buffer_destroy(ctx, bs[i]);
        }
        float *g = malloc(n * 4);
        TEST_OK(ctx, vkt_lora_get_grads(a, g));
        char label[64];
        snprintf(label, sizeof label, "dA/dB M=%d r=%d", M, r);
        close_d(label, g, gref, n, ATOL, RTOL);
        TEST_OK(ctx, vkt_lora_zero_grads(a));
        TEST_OK(ctx, vkt_lora_get_grads(a, g));
        for (uint64_t i = 0; i < n; i++) assert_true(g[i] == 0.0f);
        // Rows beyond the plan are refused.
        assert_int_equal(vkt_lora_fwd(a, VKT_P_Q_W, 0, 41, (vkt_view){0}, (vkt_view){0}),
                         VKT_ERR_ARG);
        free(g), free(gref), free(h);
        vkt_lora_destroy(a);
    }
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

// L = sum(y * g) with y = y0 + scale x A^T B^T: central differences of L (double) match
// ref_bwd, and the device's dA, dB, dx match both.
static double loss(int M, int IN, int OUT, int r, double scale, const float *x, const float *A,
                   const float *B, const double *g) {
    double *y = calloc((size_t)M * OUT, 8), L = 0;
    ref_fwd(M, IN, OUT, r, scale, x, A, B, y);
    for (int i = 0; i < M * OUT; i++) L += y[i] * g[i];
    free(y);
    return L;
}

static void test_finite_differences(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    const int M = 7, r = 4;
    vkt_lora *a = make(ctx, &c, &ps, r, VKT_LORA_GATE);
    float *h = randomize(ctx, a, 7);
    const vkt_lora_target *t = vkt_lora_target_at(a, 1); // layer 1 gate (40, 24)
    const int IN = t->in, OUT = t->out;
    const double scale = vkt_lora_scale(a);
    float *x = malloc((size_t)M * IN * 4), *gf = malloc((size_t)M * OUT * 4);
    test_fill_uniform(x, (uint64_t)M * IN, 8, -1, 1);
    test_fill_uniform(gf, (uint64_t)M * OUT, 9, -1, 1);
    double *g = malloc((size_t)M * OUT * 8);
    for (int i = 0; i < M * OUT; i++) g[i] = gf[i];
    const uint64_t n = vkt_lora_count(a);
    double *gref = calloc(n, 8), *dxr = calloc((size_t)M * IN, 8);
    float *A = h + t->a_offset, *B = h + t->b_offset;
    ref_bwd(M, IN, OUT, r, scale, x, A, B, g, gref + t->a_offset, gref + t->b_offset, dxr);
    // Central differences (L is bilinear in A, B and in x: the difference is exact up to rounding).
    const float eps = 1.0f / 64;
    float *ps_[3] = {A, B, x};
    const int cnt[3] = {r * IN, OUT * r, M * IN};
    const double *an[3] = {gref + t->a_offset, gref + t->b_offset, dxr};
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < cnt[w]; i++) {
            float keep = ps_[w][i];
            ps_[w][i] = keep + eps;
            double lp = loss(M, IN, OUT, r, scale, x, A, B, g);
            ps_[w][i] = keep - eps;
            double lm = loss(M, IN, OUT, r, scale, x, A, B, g);
            ps_[w][i] = keep;
            double fd = (lp - lm) / (2 * eps);
            if (fabs(fd - an[w][i]) > 1e-9 + 1e-9 * fabs(fd))
                fail_msg("fd %d[%d]: %.12g vs %.12g", w, i, fd, an[w][i]);
        }
    TEST_OK(ctx, vkt_lora_plan(a, M));
    vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * IN),
               *by = test_upload(ctx, NULL, (uint64_t)M * OUT);
    vkt_buffer *bg = test_upload(ctx, gf, (uint64_t)M * OUT),
               *bdx = test_upload(ctx, NULL, (uint64_t)M * IN);
    TEST_OK(ctx, vkt_lora_fwd(a, VKT_P_FC_W, 1, M, vkt_view_all(bx), vkt_view_all(by)));
    TEST_OK(ctx, vkt_lora_bwd(a, VKT_P_FC_W, 1, M, vkt_view_all(bx), vkt_view_all(bg),
                              vkt_view_all(bdx)));
    float *gd = malloc(n * 4), *dxd = test_download(ctx, bdx, (uint64_t)M * IN);
    TEST_OK(ctx, vkt_lora_get_grads(a, gd));
    close_d("device dA/dB vs finite differences", gd, gref, n, ATOL, RTOL);
    close_d("device dx vs finite differences", dxd, dxr, (uint64_t)M * IN, ATOL, RTOL);
    vkt_buffer *bs[4] = {bx, by, bg, bdx};
    for (int i = 0; i < 4; i++) vkt_buffer_destroy(ctx, bs[i]);
    free(gd), free(dxd), free(x), free(gf), free(g), free(gref), free(dxr), free(h);
    vkt_lora_destroy(a);
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

// Dropout in training: the device's forward and backward use the mask vkt_dropout_keep
// gives for the target's key (the backward rebuilds it); evaluation mode drops nothing.
static void test_dropout(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    const int M = 33, r = 4;
    const float p = 0.3f;
    vkt_lora_config lc = {r, 3.0f, p, VKT_LORA_GATE | VKT_LORA_DOWN, 11};
    vkt_lora *a = NULL;
    TEST_OK(ctx, vkt_lora_create(ctx, &c, &ps, &lc, &a));
    float *h = randomize(ctx, a, 70);
    TEST_OK(ctx, vkt_lora_plan(a, M));
    const double scale = vkt_lora_scale(a);
    const uint64_t n = vkt_lora_count(a);
    for (int mode = 0; mode < 2; mode++) {
        TEST_OK(ctx, vkt_lora_set_train(a, mode == 0, 5));
        TEST_OK(ctx, vkt_lora_zero_grads(a));
        double *gref = calloc(n, 8);
        for (int k = 2; k < 4; k++) { // layer 1: gate (40, 24), down (24, 40)
            const vkt_lora_target *t = vkt_lora_target_at(a, k);
            const int IN = t->in, OUT = t->out;
            float *x = malloc((size_t)M * IN * 4), *xd = malloc((size_t)M * IN * 4),
                  *dy = malloc((size_t)M * OUT * 4);
            test_fill_uniform(x, (uint64_t)M * IN, 80 + k, -1, 1);
            test_fill_uniform(dy, (uint64_t)M * OUT, 90 + k, -1, 1);
            const uint64_t key = vkt_lora_dropout_key(a, k);
            int kept = 0;
            for (int i = 0; i < M * IN; i++) {
                bool keep = mode == 1 || vkt_dropout_keep(key, (uint32_t)i, p);
                kept += keep;
                xd[i] = keep ? (mode == 0 ? (1.0f / (1.0f - p)) * x[i] : x[i]) : 0.0f;
            }
            if (mode == 0) assert_true(kept > 0.6 * M * IN && kept < 0.8 * M * IN);
            double *yr = calloc((size_t)M * OUT, 8), *dyd = malloc((size_t)M * OUT * 8);
            double *dxr = calloc((size_t)M * IN, 8);
            for (int i = 0; i < M * OUT; i++) dyd[i] = dy[i];
            ref_fwd(M, IN, OUT, r, scale, xd, h + t->a_offset, h + t->b_offset, yr);
            ref_bwd(M, IN, OUT, r, scale, xd, h + t->a_offset, h + t->b_offset, dyd,
                    gref + t->a_offset, gref + t->b_offset, dxr);
            for (int i = 0; i < M * IN; i++)
                if (mode == 0)
                    dxr[i] = vkt_dropout_keep(key, (uint32_t)i, p) ? dxr[i] / (1.0 - p) : 0.0;
            vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * IN),
                       *by = test_upload(ctx, NULL, (uint64_t)M * OUT);
            vkt_buffer *bdy = test_upload(ctx, dy, (uint64_t)M * OUT),
                       *bdx = test_upload(ctx, NULL, (uint64_t)M * IN);
            TEST_OK(ctx, vkt_lora_fwd(a, t->kind, t->layer, M, vkt_view_all(bx), vkt_view_all(by)));
            TEST_OK(ctx, vkt_lora_bwd(a, t->kind, t->layer, M, vkt_view_all(bx), vkt_view_all(bdy),
                                      vkt_view_all(bdx)));
            float *yg = test_download(ctx, by, (uint64_t)M * OUT),
                  *dxg = test_download(ctx, bdx, (uint64_t)M * IN);
            close_d(mode == 0 ? "dropout fwd" : "eval fwd", yg, yr, (uint64_t)M * OUT, ATOL, RTOL);
            close_d(mode == 0 ? "dropout dx" : "eval dx", dxg, dxr, (uint64_t)M * IN, ATOL, RTOL);
            vkt_buffer *bs[4] = {bx, by, bdy, bdx};
            for (int i = 0; i < 4; i++) vkt_buffer_destroy(ctx, bs[i]);
            free(yg), free(dxg), free(x), free(xd), free(dy), free(yr), free(dyd), free(dxr);
        }
        float *g = malloc(n * 4);
        TEST_OK(ctx, vkt_lora_get_grads(a, g));
        close_d(mode == 0 ? "dropout dA/dB" : "eval dA/dB", g, gref, n, ATOL, RTOL);
        free(g), free(gref);
    }
    // Another step, another mask.
    TEST_OK(ctx, vkt_lora_set_train(a, true, 5));
    uint64_t k5 = vkt_lora_dropout_key(a, 2);
    TEST_OK(ctx, vkt_lora_set_train(a, true, 6));
    assert_true(vkt_lora_dropout_key(a, 2) != k5 &&
                vkt_lora_dropout_key(a, 3) != vkt_lora_dropout_key(a, 2));
    free(h);
    vkt_lora_destroy(a);
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

// One AdamW step from known gradients, with and without clipping, against the host rule.
static void test_adamw(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    const int M = 5;
    for (int clip = 0; clip < 2; clip++) {
        vkt_lora *a = make(ctx, &c, &ps, 2, VKT_LORA_Q | VKT_LORA_DOWN);
        float *p0 = randomize(ctx, a, 21);
        TEST_OK(ctx, vkt_lora_plan(a, M));
        const vkt_param *pq = vkt_params_find(&ps, VKT_P_Q_W, 0);
        float x[5 * 24], dy[5 * 24];
        test_fill_uniform(x, (uint64_t)M * pq->shape[1], 30, -1, 1);
        test_fill_uniform(dy, (uint64_t)M * pq->shape[0], 31, -1, 1);
        vkt_buffer *bx = test_upload(ctx, x, 5 * 24), *by = test_upload(ctx, NULL, 5 * 24);
        vkt_buffer *bdy = test_upload(ctx, dy, 5 * 24);
        TEST_OK(ctx, vkt_lora_fwd(a, VKT_P_Q_W, 0, M, vkt_view_all(bx), vkt_view_all(by)));
        TEST_OK(ctx, vkt_lora_bwd(a, VKT_P_Q_W, 0, M, vkt_view_all(bx), vkt_view_all(bdy),
                                  (vkt_view){0}));
        const uint64_t n = vkt_lora_count(a);
        float *g = malloc(n * 4), *p1 = malloc(n * 4);
        TEST_OK(ctx, vkt_lora_get_grads(a, g));
        double norm = 0;
        for (uint64_t i = 0; i < n; i++) norm += (double)g[i] * g[i];
        norm = sqrt(norm);
        assert_true(norm > 0);
        // eps large enough that the step depends on the gradient's size (clipping shows).
        vkt_optim o = {0.01f, 0.9f, 0.999f, 1e-2f, 0.1f, clip ? (float)(norm / 10) : 0.0f, 1.0f};
        float got_norm = 0;
        TEST_OK(ctx, vkt_lora_adamw(a, &o, 1, &got_norm));
        assert_true(fabs(got_norm - norm) <= 1e-5 * norm);
        TEST_OK(ctx, vkt_lora_get(a, p1));
        double cf = clip ? fmin(1.0, o.max_grad_norm / (norm + 1e-6)) : 1.0;
        double *want = malloc(n * 8);
        int changed = 0;
        for (uint64_t i = 0; i < n; i++) {
            double gc = g[i] * cf, m = (1 - o.beta1) * gc, v = (1 - o.beta2) * gc * gc;
            double p = p0[i] * (1 - (double)o.lr * o.weight_decay);
            want[i] = p - o.lr * (m / (1 - o.beta1)) / (sqrt(v / (1 - o.beta2)) + o.eps);
            changed += p1[i] != p0[i];
        }
        assert_int_equal(changed, (int)n); // weight decay moves even the zero-gradient targets
        close_d(clip ? "adamw clipped" : "adamw", p1, want, n, 1e-6, 1e-5);
        TEST_OK(ctx, vkt_lora_get_grads(a, g));
        for (uint64_t i = 0; i < n; i++) assert_true(g[i] == 0.0f);
        float *m1 = malloc(n * 4), *m2 = malloc(n * 4);
        TEST_OK(ctx, vkt_lora_get_optim(a, m1, m2));
        TEST_OK(ctx, vkt_lora_set_optim(a, m1, m2));
        free(m1), free(m2), free(want), free(g), free(p1), free(p0);
        vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, by), vkt_buffer_destroy(ctx, bdy);
        vkt_lora_destroy(a);
    }
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

static vkt_status load(vkt_ctx *ctx, const vkt_model_config *c, const vkt_params *ps,
                       const char *dir) {
    vkt_lora *b = NULL;
    vkt_status s = vkt_lora_load(ctx, c, ps, dir, &b);
    vkt_lora_destroy(b);
    return s;
}

static void write_config(const char *dir, json_t *o) {
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    assert_int_equal(json_dump_file(o, path, JSON_INDENT(2)), 0);
}

static void test_files(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    vkt_lora_config lc = {8, 16.0f, 0.05f, VKT_LORA_Q | VKT_LORA_V | VKT_LORA_UP, 3};
    vkt_lora *a = NULL;
    TEST_OK(ctx, vkt_lora_create(ctx, &c, &ps, &lc, &a));
    float *h = randomize(ctx, a, 40);
    const char *dir = test_path("adapter");
    char d[1024];
    snprintf(d, sizeof d, "%s", dir);
    TEST_OK(ctx, vkt_lora_save(a, d, "HuggingFaceTB/SmolLM2-135M"));

    // Round trip: same config, same bits.
    vkt_lora *b = NULL;
    TEST_OK(ctx, vkt_lora_load(ctx, &c, &ps, d, &b));
    const vkt_lora_config *bc = vkt_lora_cfg(b);
    assert_int_equal(bc->rank, 8), assert_true(bc->alpha == 16.0f),
        assert_true(bc->dropout == 0.05f);
    assert_int_equal(bc->targets, lc.targets);
    float *hb = malloc(vkt_lora_count(b) * 4);
    assert_int_equal(vkt_lora_count(b), vkt_lora_count(a));
    TEST_OK(ctx, vkt_lora_get(b, hb));
    assert_memory_equal(h, hb, vkt_lora_count(a) * 4);
    vkt_lora_destroy(b);

    // adapter_config.json: PEFT's keys and values.
    char path[4200], stp[4200];
    snprintf(path, sizeof path, "%s/adapter_config.json", d);
    snprintf(stp, sizeof stp, "%s/adapter_model.safetensors", d);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "peft_type")), "LORA");
    assert_string_equal(json_string_value(json_object_get(o, "task_type")), "CAUSAL_LM");
    assert_string_equal(json_string_value(json_object_get(o, "bias")), "none");
    assert_string_equal(json_string_value(json_object_get(o, "base_model_name_or_path")),
                        "HuggingFaceTB/SmolLM2-135M");
    assert_int_equal(json_integer_value(json_object_get(o, "r")), 8);
    assert_int_equal(json_integer_value(json_object_get(o, "lora_alpha")), 16);
    assert_true(json_real_value(json_object_get(o, "lora_dropout")) == 0.05);
    assert_true(json_is_false(json_object_get(o, "fan_in_fan_out")));
    assert_true(json_is_false(json_object_get(o, "use_rslora")));
    assert_true(json_is_true(json_object_get(o, "inference_mode")));
    json_t *tm = json_object_get(o, "target_modules");
    assert_int_equal(json_array_size(tm), 3);
    assert_string_equal(json_string_value(json_array_get(tm, 0)), "q_proj");
    assert_string_equal(json_string_value(json_array_get(tm, 2)), "up_proj");
    const char *keys[] = {"alpha_pattern",   "init_lora_weights", "layers_to_transform",
                          "modules_to_save", "rank_pattern",      "revision",
                          "use_dora",        "loftq_config",      "megatron_core"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_non_null(json_object_get(o, keys[i]));

    // The tensors PEFT names, with PEFT's shapes.
    vkt_safetensors st;
    assert_int_equal(vkt_safetensors_open(&st, stp, vkt_ctx_err(ctx)), VKT_OK);
    assert_int_equal(st.n_tensors, 2 * 3 * 2);
    const vkt_st_tensor *ta =
        vkt_safetensors_find(&st, "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight");
    const vkt_st_tensor *tb =
        vkt_safetensors_find(&st, "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight");
    assert_non_null(ta), assert_non_null(tb);
    assert_true(ta->dtype == VKT_ST_F32 && ta->shape[0] == 8 && ta->shape[1] == 24);
    assert_true(tb->shape[0] == 40 && tb->shape[1] == 8);
    assert_string_equal(vkt_safetensors_meta(&st, "format"), "pt");

    // Refusals. A wrong rank in the config: the first tensor's shape disagrees.
    json_object_set_new(o, "r", json_integer(4));
    write_config(d, o);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_FORMAT);
    assert_non_null(strstr(vkt_ctx_message(ctx), "adapter_model.safetensors"));
    assert_non_null(strstr(vkt_ctx_message(ctx), "layers.0.self_attn.q_proj.lora_A.weight"));
    assert_non_null(strstr(vkt_ctx_message(ctx), "r=4"));
    json_object_set_new(o, "r", json_integer(8));
    // An unknown target module.
    json_array_append_new(tm, json_string("lm_head"));
    write_config(d, o);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(vkt_ctx_message(ctx), "adapter_config.json")),
        assert_non_null(strstr(vkt_ctx_message(ctx), "lm_head"));
    json_array_remove(tm, 3);
    // rsLoRA and a missing key.
    json_object_set_new(o, "use_rslora", json_true());
    write_config(d, o);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(vkt_ctx_message(ctx), "use_rslora"));
    json_object_set_new(o, "use_rslora", json_false());
    json_object_del(o, "lora_alpha");
    write_config(d, o);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_FORMAT);
    assert_non_null(strstr(vkt_ctx_message(ctx), "lora_alpha"));
    json_object_set_new(o, "lora_alpha", json_integer(16));
    write_config(d, o);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_OK);

    // A missing tensor, a wrong shape, an extra tensor: rewrite the weights file.
    vkt_st_entry e[13];
    char nm[13][128];
    int64_t sh[13][2];
    float *zeros = calloc(64 * 64, 4);
    for (int i = 0; i < st.n_tensors; i++) {
        snprintf(nm[i], 128, "%s", st.tensors[i].name);
        sh[i][0] = st.tensors[i].shape[0], sh[i][1] = st.tensors[i].shape[1];
        e[i] = (vkt_st_entry){nm[i], 2, sh[i], zeros};
    }
    const int nt = st.n_tensors;
    vkt_safetensors_close(&st);
    const char *victim = "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight";
    int vi = -1;
    for (int i = 0; i < nt; i++)
        if (!strcmp(nm[i], victim)) vi = i;
    assert_true(vi >= 0);
    vkt_st_entry keep = e[vi];
    e[vi] = e[nt - 1];
    assert_int_equal(vkt_safetensors_write(stp, e, nt - 1, NULL, 0, vkt_ctx_err(ctx)), VKT_OK);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_FORMAT);
    assert_non_null(strstr(vkt_ctx_message(ctx), "adapter_model.safetensors")),
        assert_non_null(strstr(vkt_ctx_message(ctx), "missing"));
    assert_non_null(strstr(vkt_ctx_message(ctx), victim));
    e[vi] = keep;
    sh[vi][0] = 39;
    assert_int_equal(vkt_safetensors_write(stp, e, nt, NULL, 0, vkt_ctx_err(ctx)), VKT_OK);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_FORMAT);
    assert_non_null(strstr(vkt_ctx_message(ctx), victim)),
        assert_non_null(strstr(vkt_ctx_message(ctx), "[39, 8]"));
    sh[vi][0] = 40;
    e[nt] = (vkt_st_entry){"base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", 2,
                           sh[0], zeros};
    assert_int_equal(vkt_safetensors_write(stp, e, nt + 1, NULL, 0, vkt_ctx_err(ctx)), VKT_OK);
    assert_int_equal(load(ctx, &c, &ps, d), VKT_ERR_FORMAT);
    assert_non_null(strstr(vkt_ctx_message(ctx), "unexpected tensor")),
        assert_non_null(strstr(vkt_ctx_message(ctx), "k_proj"));
    free(zeros), free(hb), free(h);
    json_decref(o);
    vkt_lora_destroy(a);
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

// x (W + scale B A)^T from the merged parameters equals x W^T + the adapter's forward.
static void test_merge(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c;
    vkt_params ps;
    tiny(&c, &ps);
    vkt_lora *a = make(ctx, &c, &ps, 4, VKT_LORA_ALL);
    float *h = randomize(ctx, a, 50);
    float *w0 = malloc(ps.total * 4), *w1 = malloc(ps.total * 4);
    test_fill_uniform(w0, ps.total, 51, -0.3f, 0.3f);
    memcpy(w1, w0, ps.total * 4);
    TEST_OK(ctx, vkt_lora_merge(a, &ps, w1));
    const int M = 7;
    TEST_OK(ctx, vkt_lora_plan(a, M));
    for (int k = 0; k < vkt_lora_n_targets(a); k++) {
        const vkt_lora_target *t = vkt_lora_target_at(a, k);
        const vkt_param *p = vkt_params_find(&ps, t->kind, t->layer);
        const int IN = t->in, OUT = t->out;
        float *x = malloc((size_t)M * IN * 4), *y = malloc((size_t)M * OUT * 4),
              *ym = malloc((size_t)M * OUT * 4);
        test_fill_uniform(x, (uint64_t)M * IN, 60 + k, -1, 1);
        for (int m = 0; m < M; m++)
            for (int o = 0; o < OUT; o++) {
                double s0 = 0, s1 = 0;
                for (int i = 0; i < IN; i++) {
                    s0 += (double)x[m * IN + i] * w0[p->offset + (size_t)o * IN + i];
                    s1 += (double)x[m * IN + i] * w1[p->offset + (size_t)o * IN + i];
                }
                y[m * OUT + o] = (float)s0, ym[m * OUT + o] = (float)s1;
            }
        vkt_buffer *bx = test_upload(ctx, x, (uint64_t)M * IN),
                   *by = test_upload(ctx, y, (uint64_t)M * OUT);
        TEST_OK(ctx, vkt_lora_fwd(a, t->kind, t->layer, M, vkt_view_all(bx), vkt_view_all(by)));
        float *yg = test_download(ctx, by, (uint64_t)M * OUT);
        assert_true(test_close("merge", yg, ym, (uint64_t)M * OUT, 1e-4, 1e-4));
        free(yg), free(x), free(y), free(ym);
        vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, by);
    }
    // Non-targets are untouched.
    for (int i = 0; i < ps.n; i++)
        if (vkt_lora_module_of(ps.p[i].kind) < 0)
            assert_memory_equal(w0 + ps.p[i].offset, w1 + ps.p[i].offset, ps.p[i].count * 4);
    free(w0), free(w1), free(h);
    vkt_lora_destroy(a);
    vkt_params_free(&ps);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_fwd_bwd),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test_setup_teardown(test_files, test_dir_setup, test_dir_teardown),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
