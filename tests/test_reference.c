// test_reference.c: every reference backward against central finite differences of the
// double-precision forward.
//
// Method: pick a random upstream gradient dy, define L(x) = sum(dy * forward(x)), and
// compare the backward's gradient with (L(x + h e_i) - L(x - h e_i)) / 2h for every
// input element i, h = 1e-6. Gradient buffers start from random values, not zero, and
// the test subtracts them again: that also checks backward ACCUMULATES (+=).
// Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |fd|. (Truncation error is O(h^2) ~ 1e-12,
// rounding error ~ 1e-16 |L| / h ~ 1e-9 for these sizes; the bound has 1000x headroom.)
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "rng.h"

#define FD_H 1e-6
#define FD_ATOL 1e-6
#define FD_RTOL 1e-5

// ---------------------------------------------------------------------------------
// helpers

static double *randv(vkt_rng *r, size_t n, double lo, double hi) {
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * vkt_rng_uniform(r);
    return x;
}

static double *copyv(const double *x, size_t n) {
    double *y = malloc(n * sizeof *y);
    assert_non_null(y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static double dotv(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

// Compares (acc - start) with the central difference of f along each x[i]; x is
// perturbed in place and restored.
static void fd_check(const char *what, double *x, size_t n, const double *acc, const double *start,
                     loss_fn f, void *ctx) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double save = x[i];
        x[i] = save + FD_H;
        double lp = f(ctx);
        x[i] = save - FD_H;
        double lm = f(ctx);
        x[i] = save;
        double fd = (lp - lm) / (2 * FD_H);
        double an = acc[i] - (start ? start[i] : 0);
        double e = fabs(fd - an);
        if (e > worst) worst = e;
        if (e > FD_ATOL + FD_RTOL * fabs(fd)) {
            print_error("%s[%zu]: finite difference %.10g, backward %.10g\n", what, i, fd, an);
            fail();
        }
    }
}

static void ok(vkt_status s, const vkt_error *e) {
    if (s != VKT_OK) print_error("unexpected error: %s\n", e->msg);
    assert_int_equal(s, VKT_OK);
}

// ---------------------------------------------------------------------------------
// matmul: C = alpha op(A) op(B) + beta C0 + bias; the backward is matmuls with transposes.

typedef struct {
    bool ta, tb;
    int M, N, K;
    double alpha, beta;
    double *A, *B, *C0, *bias, *dy, *C;
} mm_ctx;

static double mm_loss(void *p) {
    mm_ctx *c = p;
    vkt_error e;
    memcpy(c->C, c->C0, (size_t)c->M * c->N * sizeof(double));
    ok(vkt_ref_matmul_f64(c->ta, c->tb, c->M, c->N, c->K, c->alpha, c->A, c->B, c->beta, c->C,
                          c->bias, &e),
       &e);
    return dotv(c->dy, c->C, (size_t)c->M * c->N);
}

static void check_matmul(bool ta, bool tb, int M, int N, int K, uint64_t seed) {
    vkt_rng r;
    vkt_rng_seed(&r, seed);
    vkt_error e;
    size_t nA = (size_t)M * K, nB = (size_t)K * N, nC = (size_t)M * N;
    mm_ctx c = {ta,
                tb,
                M,
                N,
                K,
                0.7,
                0.3,
                randv(&r, nA, -1, 1),
                randv(&r, nB, -1, 1),
                randv(&r, nC, -1, 1),
                randv(&r, N, -1, 1),
                randv(&r, nC, -1, 1),
                randv(&r, nC, -1, 1)};
    double *dA0 = randv(&r, nA, -1, 1), *dB0 = randv(&r, nB, -1, 1);
    double *db0 = randv(&r, N, -1, 1);
    double *dA = copyv(dA0, nA), *dB = copyv(dB0, nB), *db = copyv(db0, N);
    // dop(A) = alpha dC op(B)^T, dop(B) = alpha op(A)^T dC, stored as A and B are.
    if (!ta)
        ok(vkt_ref_matmul_f64(false, !tb, M, K, N, c.alpha, c.dy, c.B, 1, dA, NULL, &e), &e);
    else
        ok(vkt_ref_matmul_f64(tb, true, K, M, N, c.alpha, c.B, c.dy, 1, dA, NULL, &e), &e);
    if (!tb)
        ok(vkt_ref_matmul_f64(!ta, false, K, N, M, c.alpha, c.A, c.dy, 1, dB, NULL, &e), &e);
    else
        ok(vkt_ref_matmul_f64(true, ta, N, K, M, c.alpha, c.dy, c.A, 1, dB, NULL, &e), &e);
    ok(vkt_ref_bias_grad_f64(M, N, c.dy, db, &e), &e);
    double *dC0 = malloc(nC * sizeof *dC0);
    for (size_t i = 0; i < nC; i++) dC0[i] = c.beta * c.dy[i];

    fd_check("matmul dA", c.A, nA, dA, dA0, mm_loss, &c);
    fd_check("matmul dB", c.B, nB, dB, dB0, mm_loss, &c);
    fd_check("matmul dC0", c.C0, nC, dC0, NULL, mm_loss, &c);
    fd_check("matmul dbias", c.bias, N, db, db0, mm_loss, &c);
    free(c.A), free(c.B), free(c.C0), free(c.bias), free(c.dy), free(c.C);
    free(dA0), free(dB0), free(db0), free(dA), free(dB), free(db), free(dC0);
}

static void test_matmul_grad(void **state) {
    (void)state;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_matmul(ta, tb, 3, 5, 7, 1 + 2 * ta + tb);
            check_matmul(ta, tb, 1, 17, 3, 11 + 2 * ta + tb);
            check_matmul(ta, tb, 5, 1, 1, 21 + 2 * ta + tb);
        }
}

typedef struct {
    int M, IN, OUT;
    double *x, *W, *b, *dy, *y;
} lin_ctx;

static double lin_loss(void *p) {
    lin_ctx *c = p;
    vkt_error e;
    ok(vkt_ref_linear_fwd_f64(c->M, c->IN, c->OUT, c->x, c->W, c->b, c->y, &e), &e);
    return dotv(c->dy, c->y, (size_t)c->M * c->OUT);
}

static void test_linear_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 5);
    vkt_error e;
    int M = 5, IN = 7, OUT = 3;
    size_t nx = (size_t)M * IN, nW = (size_t)OUT * IN, ny = (size_t)M * OUT;
    lin_ctx c = {M,
                 IN,
                 OUT,
                 randv(&r, nx, -1, 1),
                 randv(&r, nW, -1, 1),
                 randv(&r, OUT, -1, 1),
                 randv(&r, ny, -1, 1),
                 randv(&r, ny, -1, 1)};
    double *dx0 = randv(&r, nx, -1, 1), *dW0 = randv(&r, nW, -1, 1), *db0 = randv(&r, OUT, -1, 1);
    double *dx = copyv(dx0, nx), *dW = copyv(dW0, nW), *db = copyv(db0, OUT);
    ok(vkt_ref_linear_bwd_f64(M, IN, OUT, c.dy, c.x, c.W, dx, dW, db, &e), &e);
    fd_check("linear dx", c.x, nx, dx, dx0, lin_loss, &c);
    fd_check("linear dW", c.W, nW, dW, dW0, lin_loss, &c);
    fd_check("linear db", c.b, OUT, db, db0, lin_loss, &c);
    free(c.x), free(c.W), free(c.b), free(c.dy), free(c.y);
    free(dx0), free(dW0), free(db0), free(dx), free(dW), free(db);
}

// ---------------------------------------------------------------------------------
// embedding

typedef struct {
    int N, C, V, Tmax;
    const int32_t *tok, *pos;
    double *wte, *wpe, *dy, *out;
} emb_ctx;

static double emb_loss(void *p) {
    emb_ctx *c = p;
    vkt_error e;
    ok(vkt_ref_embedding_fwd_f64(c->N, c->C, c->V, c->Tmax, c->tok, c->pos, c->wte, c->wpe, c->out,
                                 &e),
       &e);
    return dotv(c->dy, c->out, (size_t)c->N * c->C);
}

static void test_embedding_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 7);
    vkt_error e;
    // Repeated tokens and positions: the scatter-add must sum them.
    static const int32_t tok[7] = {3, 0, 3, 1, 3, 2, 0};
    static const int32_t pos[7] = {0, 1, 2, 0, 1, 8, 8};
    int N = 7, C = 5, V = 4, Tmax = 9;
    for (int with_wpe = 0; with_wpe < 2; with_wpe++) {
        emb_ctx c = {N,
                     C,
                     V,
                     Tmax,
                     tok,
                     with_wpe ? pos : NULL,
                     randv(&r, (size_t)V * C, -1, 1),
                     with_wpe ? randv(&r, (size_t)Tmax * C, -1, 1) : NULL,
                     randv(&r, (size_t)N * C, -1, 1),
                     randv(&r, (size_t)N * C, -1, 1)};
        double *dte0 = randv(&r, (size_t)V * C, -1, 1), *dte = copyv(dte0, (size_t)V * C);
        double *dpe0 = randv(&r, (size_t)Tmax * C, -1, 1), *dpe = copyv(dpe0, (size_t)Tmax * C);
        ok(vkt_ref_embedding_bwd_f64(N, C, V, Tmax, tok, c.pos, c.dy, dte, with_wpe ? dpe : NULL,
                                     &e),
           &e);
        fd_check("embedding dwte", c.wte, (size_t)V * C, dte, dte0, emb_loss, &c);
        if (with_wpe)
            fd_check("embedding dwpe", c.wpe, (size_t)Tmax * C, dpe, dpe0, emb_loss, &c);
        else
            assert_memory_equal(dpe, dpe0, (size_t)Tmax * C * sizeof *dpe);
        free(c.wte), free(c.wpe), free(c.dy), free(c.out);
        free(dte0), free(dte), free(dpe0), free(dpe);
    }
}

// ---------------------------------------------------------------------------------
// layernorm, rmsnorm

typedef struct {
    bool rms;
    int N, C;
    double eps;
    double *x, *w, *b, *dy, *out, *mean, *rstd;
} norm_ctx;

static double norm_loss(void *p) {
    norm_ctx *c = p;
    vkt_error e;
    if (c->rms)
        ok(vkt_ref_rmsnorm_fwd_f64(c->N, c->C, c->eps, c->x, c->w, c->out, c->rstd, &e), &e);
    else
        ok(vkt_ref_layernorm_fwd_f64(c->N, c->C, c->eps, c->x, c->w, c->b, c->out, c->mean, c->rstd,
                                     &e),
           &e);
    return dotv(c->dy, c->out, (size_t)c->N * c->C);
}

static void check_norm(bool rms, int N, int C, uint64_t seed) {
    vkt_rng r;
    vkt_rng_seed(&r, seed);
    vkt_error e;
    size_t n = (size_t)N * C;
    norm_ctx c = {rms,
                  N,
                  C,
                  1e-5,
                  randv(&r, n, -2, 2),
                  randv(&r, C, 0.5, 1.5),
                  randv(&r, C, -1, 1),
                  randv(&r, n, -1, 1),
                  randv(&r, n, 0, 0),
                  randv(&r, N, 0, 0),
                  randv(&r, N, 0, 0)};
    norm_loss(&c); // saves mean and rstd at the unperturbed point
    double *mean = copyv(c.mean, N), *rstd = copyv(c.rstd, N);
    double *dx0 = randv(&r, n, -1, 1), *dw0 = randv(&r, C, -1, 1), *db0 = randv(&r, C, -1, 1);
    double *dx = copyv(dx0, n), *dw = copyv(dw0, C), *db = copyv(db0, C);
    if (rms) {
        ok(vkt_ref_rmsnorm_bwd_f64(N, C, c.dy, c.x, c.w, rstd, dx, dw, &e), &e);
    } else {
        ok(vkt_ref_layernorm_bwd_f64(N, C, c.dy, c.x, c.w, mean, rstd, dx, dw, db, &e), &e);
    }
    fd_check(rms ? "rmsnorm dx" : "layernorm dx", c.x, n, dx, dx0, norm_loss, &c);
    fd_check(rms ? "rmsnorm dw" : "layernorm dw", c.w, C, dw, dw0, norm_loss, &c);
    if (!rms) fd_check("layernorm db", c.b, C, db, db0, norm_loss, &c);
    free(c.x), free(c.w), free(c.b), free(c.dy), free(c.out), free(c.mean), free(c.rstd);
    free(mean), free(rstd), free(dx0), free(dw0), free(db0), free(dx), free(dw), free(db);
}

static void test_layernorm_grad(void **state) {
    (void)state;
    check_norm(false, 3, 7, 31);
    check_norm(false, 1, 17, 32);
    check_norm(false, 5, 2, 33);
}

static void test_rmsnorm_grad(void **state) {
    (void)state;
    check_norm(true, 3, 7, 41);
    check_norm(true, 1, 17, 42);
    check_norm(true, 5, 1, 43);
}

// ---------------------------------------------------------------------------------
// GELU, SwiGLU

typedef struct {
    size_t n;
    double *x, *dy, *out;
} gelu_ctx;

static double gelu_loss(void *p) {
    gelu_ctx *c = p;
    vkt_error e;
    ok(vkt_ref_gelu_fwd_f64(c->n, c->x, c->out, &e), &e);
    return dotv(c->dy, c->out, c->n);
}

static void test_gelu_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 51);
    vkt_error e;
    size_t n = 17;
    gelu_ctx c = {n, randv(&r, n, -5, 5), randv(&r, n, -1, 1), randv(&r, n, 0, 0)};
    c.x[0] = 0; // the kink-free centre
    double *dx0 = randv(&r, n, -1, 1), *dx = copyv(dx0, n);
    ok(vkt_ref_gelu_bwd_f64(n, c.x, c.dy, dx, &e), &e);
    fd_check("gelu dx", c.x, n, dx, dx0, gelu_loss, &c);
    free(c.x), free(c.dy), free(c.out), free(dx0), free(dx);
}

typedef struct {
    int N, F, gs, us, os;
    double *gu, *dy, *out; // gate = gu, up = gu + F: one fused (N, gs) buffer
} swiglu_ctx;

static double swiglu_loss(void *p) {
    swiglu_ctx *c = p;
    vkt_error e;
    ok(vkt_ref_swiglu_fwd_f64(c->N, c->F, c->gu, c->gs, c->gu + c->F, c->us, c->out, c->os, &e),
       &e);
    double s = 0;
    for (int i = 0; i < c->N; i++)
        for (int f = 0; f < c->F; f++) s += c->dy[i * c->os + f] * c->out[i * c->os + f];
    return s;
}

static void test_swiglu_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 61);
    vkt_error e;
    int N = 3, F = 5, gs = 2 * F + 1, os = F + 2; // padded rows: strides are honoured
    size_t ngu = (size_t)N * gs, no = (size_t)N * os;
    swiglu_ctx c = {
        N, F, gs, gs, os, randv(&r, ngu, -4, 4), randv(&r, no, -1, 1), randv(&r, no, 0, 0)};
    double *d0 = randv(&r, ngu, -1, 1), *d = copyv(d0, ngu);
    ok(vkt_ref_swiglu_bwd_f64(N, F, c.dy, os, c.gu, gs, c.gu + F, gs, d, d + F, &e), &e);
    // The padding column of each row is no input: FD gives 0 there, and the backward
    // must leave it alone.
    fd_check("swiglu d(gate|up)", c.gu, ngu, d, d0, swiglu_loss, &c);
    free(c.gu), free(c.dy), free(c.out), free(d0), free(d);
}

// ---------------------------------------------------------------------------------
// RoPE: in place, so the loss copies x first; the backward rotates dy in place.

typedef struct {
    int B, T, H, D, stride;
    const int32_t *pos;
    double theta;
    double *x, *dy, *work;
    size_t n;
} rope_ctx;

static double rope_loss(void *p) {
    rope_ctx *c = p;
    vkt_error e;
    memcpy(c->work, c->x, c->n * sizeof(double));
    ok(vkt_ref_rope_fwd_f64(c->B, c->T, c->H, c->D, c->stride, c->pos, c->theta, c->work, &e), &e);
    return dotv(c->dy, c->work, c->n);
}

static void test_rope_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 71);
    vkt_error e;
    static const int32_t pos[6] = {0, 1, 2, 7, 100, 1000};
    int B = 2, T = 3, H = 2, D = 6, stride = 3 * H * D + 1; // q inside a padded fused row
    size_t n = (size_t)B * T * stride;
    rope_ctx c = {B,
                  T,
                  H,
                  D,
                  stride,
                  pos,
                  10000.0,
                  randv(&r, n, -1, 1),
                  randv(&r, n, -1, 1),
                  randv(&r, n, 0, 0),
                  n};
    double *dx = copyv(c.dy, n);
    ok(vkt_ref_rope_bwd_f64(B, T, H, D, stride, pos, c.theta, dx, &e), &e);
    // Outside the H*D rope'd columns, the op is the identity: dx = dy there; FD agrees.
    fd_check("rope dx", c.x, n, dx, NULL, rope_loss, &c);
    free(c.x), free(c.dy), free(c.work), free(dx);
}

// ---------------------------------------------------------------------------------
// attention: q, k, v in one fused row (B, T, (H + 2 KVH) D + pad), Llama style.

typedef struct {
    int B, T, H, KVH, D, stride;
    double scale;
    double *qkv, *dy, *out, *lse;
} att_ctx;

static double att_loss(void *p) {
    att_ctx *c = p;
    vkt_error e;
    double *q = c->qkv, *k = q + c->H * c->D, *v = k + c->KVH * c->D;
    ok(vkt_ref_attention_fwd_f64(c->B, c->T, c->H, c->KVH, c->D, c->scale, q, c->stride, k,
                                 c->stride, v, c->stride, c->out, c->lse, &e),
       &e);
    return dotv(c->dy, c->out, (size_t)c->B * c->T * c->H * c->D);
}

static void check_attention(int B, int T, int H, int KVH, int D, uint64_t seed) {
    vkt_rng r;
    vkt_rng_seed(&r, seed);
    vkt_error e;
    int stride = (H + 2 * KVH) * D + 3;
    size_t n = (size_t)B * T * stride, no = (size_t)B * T * H * D;
    att_ctx c = {B,
                 T,
                 H,
                 KVH,
                 D,
                 stride,
                 1.0 / sqrt(D),
                 randv(&r, n, -1.5, 1.5),
                 randv(&r, no, -1, 1),
                 randv(&r, no, 0, 0),
                 randv(&r, (size_t)B * H * T, 0, 0)};
    att_loss(&c);
    double *out = copyv(c.out, no), *lse = copyv(c.lse, (size_t)B * H * T);
    double *d0 = randv(&r, n, -1, 1), *d = copyv(d0, n);
    double *q = c.qkv, *k = q + H * D, *v = k + KVH * D;
    ok(vkt_ref_attention_bwd_f64(B, T, H, KVH, D, c.scale, c.dy, q, stride, k, stride, v, stride,
                                 out, lse, d, d + H * D, d + (H + KVH) * D, &e),
       &e);
    char what[96];
    snprintf(what, sizeof what, "attention B=%d T=%d H=%d KVH=%d D=%d d(qkv)", B, T, H, KVH, D);
    fd_check(what, c.qkv, n, d, d0, att_loss, &c);
    free(c.qkv), free(c.dy), free(c.out), free(c.lse), free(out), free(lse), free(d0), free(d);
}

static void test_attention_grad(void **state) {
    (void)state;
    check_attention(2, 7, 4, 2, 4, 81); // GQA, 2 query heads per kv head
    check_attention(1, 7, 4, 1, 6, 82); // multi-query
    check_attention(2, 1, 4, 2, 6, 83); // T = 1
    check_attention(1, 5, 3, 3, 4, 84); // plain multi-head
    check_attention(1, 1, 4, 1, 4, 85);
}

// ---------------------------------------------------------------------------------
// softmax

typedef struct {
    int R, L;
    bool causal;
    double *x, *dy, *out;
} sm_ctx;

static double sm_loss(void *p) {
    sm_ctx *c = p;
    vkt_error e;
    ok(vkt_ref_softmax_fwd_f64(c->R, c->L, c->causal, c->x, c->out, &e), &e);
    return dotv(c->dy, c->out, (size_t)c->R * c->L);
}

static void check_softmax(int R, int L, bool causal, uint64_t seed) {
    vkt_rng r;
    vkt_rng_seed(&r, seed);
    vkt_error e;
    size_t n = (size_t)R * L;
    sm_ctx c = {R, L, causal, randv(&r, n, -3, 3), randv(&r, n, -1, 1), randv(&r, n, 0, 0)};
    sm_loss(&c);
    double *out = copyv(c.out, n), *d0 = randv(&r, n, -1, 1), *d = copyv(d0, n);
    ok(vkt_ref_softmax_bwd_f64(R, L, c.dy, out, d, &e), &e);
    fd_check(causal ? "softmax causal dx" : "softmax dx", c.x, n, d, d0, sm_loss, &c);
    free(c.x), free(c.dy), free(c.out), free(out), free(d0), free(d);
}

static void test_softmax_grad(void **state) {
    (void)state;
    check_softmax(5, 7, false, 91);
    check_softmax(1, 1, false, 92);
    check_softmax(6, 3, true, 93);
    check_softmax(7, 7, true, 94);
}

// ---------------------------------------------------------------------------------
// cross-entropy: dlogits is the gradient of grad_scale * sum_i loss[i].

typedef struct {
    int N, V;
    const int32_t *tgt;
    double *logits, *w, *loss;
    double gs;
    const double *coef; // entropy coefficients, or NULL
} ce_ctx;

static double ce_loss(void *p) {
    ce_ctx *c = p;
    vkt_error e;
    ok(vkt_ref_cross_entropy_ent_f64(c->N, c->V, c->logits, c->tgt, c->w, c->coef, c->gs, c->loss,
                                     NULL, NULL, NULL, &e),
       &e);
    double s = 0;
    for (int i = 0; i < c->N; i++) s += c->gs * c->loss[i];
    return s;
}

static void test_cross_entropy_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 101);
    vkt_error e;
    int N = 5, V = 7;
    static const int32_t tgt[5] = {2, -1, 6, 0, 3}; // row 1 masked: its target is ignored
    double w[5] = {1.0, 0.0, -0.5, 2.0, 0.3};
    size_t n = (size_t)N * V;
    ce_ctx c = {N, V, tgt, randv(&r, n, -3, 3), w, randv(&r, N, 0, 0), 0.7, NULL};
    double *dl = randv(&r, n, -1, 1); // dlogits is written, so garbage before is fine
    ok(vkt_ref_cross_entropy_f64(N, V, c.logits, tgt, w, c.gs, c.loss, dl, NULL, &e), &e);
    fd_check("cross_entropy dlogits", c.logits, n, dl, NULL, ce_loss, &c);
    free(c.logits), free(c.loss), free(dl);
}

// With the entropy bonus: rows with weight and coefficient (both signs), weight only,
// coefficient only (masked target), neither, and V = 1 (H = 0, zero gradient).
static void test_cross_entropy_ent_grad(void **state) {
    (void)state;
    vkt_rng r;
    vkt_rng_seed(&r, 102);
    vkt_error e;
    for (int k = 0; k < 2; k++) {
        int N = 6, V = k ? 1 : 7;
        static const int32_t tgt[6] = {2, -1, 6, 0, 3, 9}; // rows 1 and 5: weight 0, any target
        double w[6] = {1.0, 0.0, -0.5, 2.0, 0.3, 0.0};
        double coef[6] = {0.4, -0.3, 0.0, 0.25, -1.0, 0.0};
        int32_t t[6];
        for (int i = 0; i < N; i++) t[i] = w[i] != 0 ? tgt[i] % V : tgt[i];
        size_t n = (size_t)N * V;
        ce_ctx c = {N, V, t, randv(&r, n, -3, 3), w, randv(&r, N, 0, 0), 0.7, coef};
        double *dl = randv(&r, n, -1, 1), H[6];
        ok(vkt_ref_cross_entropy_ent_f64(N, V, c.logits, t, w, coef, c.gs, c.loss, dl, NULL, H, &e),
           &e);
        fd_check("cross_entropy_ent dlogits", c.logits, n, dl, NULL, ce_loss, &c);
        // H of a row is -sum p log p (and 0 where the coefficient is 0 or V = 1).
        for (int i = 0; i < N; i++) {
            const double *x = c.logits + (size_t)i * V;
            double s = 0, h = 0;
            for (int j = 0; j < V; j++) s += exp(x[j]);
            for (int j = 0; j < V; j++) h -= exp(x[j]) / s * log(exp(x[j]) / s);
            if (coef[i] == 0) h = 0;
            assert_true(fabs(H[i] - h) < 1e-12);
            if (V > 1 && coef[i] != 0) assert_true(H[i] > 0.1);
        }
        free(c.logits), free(c.loss), free(dl);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_grad),        cmocka_unit_test(test_linear_grad),
        cmocka_unit_test(test_embedding_grad),     cmocka_unit_test(test_layernorm_grad),
        cmocka_unit_test(test_rmsnorm_grad),       cmocka_unit_test(test_gelu_grad),
        cmocka_unit_test(test_swiglu_grad),        cmocka_unit_test(test_rope_grad),
        cmocka_unit_test(test_attention_grad),     cmocka_unit_test(test_softmax_grad),
        cmocka_unit_test(test_cross_entropy_grad), cmocka_unit_test(test_cross_entropy_ent_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
