// test_cross_entropy.c: the fused classifier (vkt_cross_entropy) against
// vkt_ref_cross_entropy on awkward shapes, masked / negative / fractional weights,
// large logits, in-place dlogits, forward only, the loss sum, determinism, binding
// splits and bad calls; the entropy-bonus variant (vkt_cross_entropy_ent) against
// vkt_ref_cross_entropy_ent on the same shapes, splits and both reduction paths.
//
// Tolerances (atol + rtol*|ref|), from fp32 exp/log against the reference's double:
//   lse: 3e-5 + 1e-6|ref| (|logits| <= 80: lse is ~90 at most, a few float ulps of it)
//   loss: 3e-5 + 1e-5|ref|  (w (lse - x_t): the lse error times |w| <= 2)
//   dlogits: 1e-7 + 1e-4|ref| (p = exp(x - lse) carries the relative error of x - lse,
//     a few ulps of 90 ~ 2e-5; times |grad_scale * w| <= 2)
//   loss sum: 1e-4 + 1e-6|ref| vs the double sum of the reference losses.
// Entropy variant (|c| <= 0.5):
//   H: 3e-5 + 1e-5|ref| (log s - t/s: t/s is a mean of |x - m| <= 2 mag, summed in fp32)
//   loss: 3e-5 + 1e-5|ref| plus |c| times the H tolerance
//   dlogits: the CE tolerance plus |gs c| p (3e-5 + 1e-5 H): p (log p + H) carries the
//     absolute error of log p + H (a few ulps of lse, plus H's) times p, which the relative
//     bound misses where log p ~ -H and the term cancels.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_loss.h"
#include "op_reduce.h"
#include "reference.h"
#include "support_gpu.h"

#define LSE_ATOL 3e-5
#define LSE_RTOL 1e-6
#define LOSS_ATOL 3e-5
#define LOSS_RTOL 1e-5
#define DL_ATOL 1e-7
#define DL_RTOL 1e-4

// Row i's weight: 0 (masked), negative, fractional and plain values in turn.
static float weight_of(int i) {
    static const float w[] = {1.0f, 0.0f, -0.5f, 0.25f, 2.0f, -1.0f, 0.0f, 0.75f};
    return w[i % 8];
}

typedef struct {
    int N, V;
    float *logits, *w;
    int32_t *tgt;
} ce_case;

static ce_case make_case(int N, int V, uint64_t seed, float mag) {
    ce_case c = {N, V, malloc((size_t)N * V * 4), malloc((size_t)N * 4), malloc((size_t)N * 4)};
    test_fill_uniform(c.logits, (uint64_t)N * V, seed, -mag, mag);
    for (int i = 0; i < N; i++) {
        c.w[i] = weight_of(i);
        uint64_t h = (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        c.tgt[i] = (int32_t)((h >> 17) % (uint64_t)V);
        if (c.w[i] == 0) c.tgt[i] = i % 2 ? -1 : V + 7; // masked rows: any target
    }
    // A row whose target holds the row's largest logit, as in a trained model.
    if (N > 3 && c.w[3] != 0) c.logits[(size_t)3 * V + c.tgt[3]] = mag + 1.0f;
    return c;
}

static void free_case(ce_case *c) { free(c->logits), free(c->w), free(c->tgt); }

// Row i's entropy coefficient: 0 (the plain path), both signs, and on masked rows
// (weight 0, rows 1 and 6 mod 8) both 0 and not 0. Period 5 against the weights' 8.
static float coef_of(int i) {
    static const float c[] = {0.25f, 0.0f, -0.5f, 0.125f, 0.5f};
    return c[i % 5];
}

typedef struct {
    vkt_buffer *x, *tw, *loss, *lse, *coef, *ent;
    vkt_view xv; // logits at a float offset inside x, so bindings are not aligned
} ce_dev;

static ce_dev upload_case(vkt_ctx *ctx, const ce_case *c, uint64_t off) {
    uint64_t nv = (uint64_t)c->N * c->V;
    ce_dev d = {0};
    float *pad = calloc(nv + off + 1, 4);
    memcpy(pad + off, c->logits, nv * 4);
    d.x = test_upload(ctx, pad, nv + off + 1);
    free(pad);
    d.xv = vkt_view_f32(vkt_view_all(d.x), off, nv);
    d.tw = test_upload(ctx, NULL, 2 * (uint64_t)c->N);
    d.loss = test_upload(ctx, NULL, c->N);
    d.lse = test_upload(ctx, NULL, c->N);
    d.coef = test_upload(ctx, NULL, c->N);
    d.ent = test_upload(ctx, NULL, c->N);
    TEST_OK(ctx, vkt_cross_entropy_stage(ctx, c->N, c->V, c->tgt, c->w, vkt_view_all(d.tw)));
    return d;
}

static void free_dev(vkt_ctx *ctx, ce_dev *d) {
    vkt_buffer_destroy(ctx, d->x), vkt_buffer_destroy(ctx, d->tw);
    vkt_buffer_destroy(ctx, d->loss), vkt_buffer_destroy(ctx, d->lse);
    vkt_buffer_destroy(ctx, d->coef), vkt_buffer_destroy(ctx, d->ent);
}

// Runs forward-only then forward+backward in place and compares all outputs.
static void check_case(vkt_ctx *ctx, int N, int V, uint64_t seed, float mag, float gs,
                       uint64_t off) {
    ce_case c = make_case(N, V, seed, mag);
    uint64_t nv = (uint64_t)N * V;
    float *loss = malloc((size_t)N * 4), *lse = malloc((size_t)N * 4), *dl = malloc(nv * 4);
    vkt_error e = {0};
    assert_int_equal(vkt_ref_cross_entropy(N, V, c.logits, c.tgt, c.w, gs, loss, dl, lse, &e),
                     VKT_OK);
    ce_dev d = upload_case(ctx, &c, off);
    char label[96];

    // Forward only: logits untouched, no lse requested.
    vkt_view none = {0};
    TEST_OK(ctx, vkt_cross_entropy(ctx, N, V, d.xv, vkt_view_all(d.tw), gs, false,
                                   vkt_view_all(d.loss), none));
    float *got = test_download(ctx, d.loss, N);
    snprintf(label, sizeof label, "loss fwd N=%d V=%d mag=%g", N, V, mag);
    assert_true(test_close(label, got, loss, N, LOSS_ATOL, LOSS_RTOL));
    free(got);
    float *x = test_download(ctx, d.x, nv + off + 1);
    assert_memory_equal(x + off, c.logits, nv * 4);
    free(x);

    // Forward + backward, dlogits in place, with lse.
    TEST_OK(ctx, vkt_cross_entropy(ctx, N, V, d.xv, vkt_view_all(d.tw), gs, true,
                                   vkt_view_all(d.loss), vkt_view_all(d.lse)));
    got = test_download(ctx, d.loss, N);
    snprintf(label, sizeof label, "loss N=%d V=%d mag=%g", N, V, mag);
    assert_true(test_close(label, got, loss, N, LOSS_ATOL, LOSS_RTOL));
    free(got);
    got = test_download(ctx, d.lse, N);
    snprintf(label, sizeof label, "lse N=%d V=%d mag=%g", N, V, mag);
    assert_true(test_close(label, got, lse, N, LSE_ATOL, LSE_RTOL));
    free(got);
    x = test_download(ctx, d.x, nv + off + 1);
    snprintf(label, sizeof label, "dlogits N=%d V=%d mag=%g", N, V, mag);
    assert_true(test_close(label, x + off, dl, nv, DL_ATOL, DL_RTOL));
    for (uint64_t i = 0; i < off; i++) assert_true(x[i] == 0.0f); // neighbours untouched
    assert_true(x[off + nv] == 0.0f);
    free(x);

    free_dev(ctx, &d);
    free(loss), free(lse), free(dl);
    free_case(&c);
}

static void test_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int Ns[] = {1, 3, 17, 129};
    const int Vs[] = {1, 2, 3, 63, 257, 4099};
    for (size_t a = 0; a < sizeof Ns / sizeof *Ns; a++)
        for (size_t b = 0; b < sizeof Vs / sizeof *Vs; b++)
            check_case(ctx, Ns[a], Vs[b], 11 + a * 7 + b, 4.0f, 0.37f, (a + b) % 3);
    test_ctx_done(ctx);
}

// GPT-2's vocabulary: a row is ~200 loop steps of a 256-thread workgroup.
static void test_large_vocab(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_case(ctx, 1, 50257, 5, 4.0f, 1.0f, 0);
    check_case(ctx, 3, 50257, 6, 80.0f, -2.0f, 1);
    test_ctx_done(ctx);
}

// |logits| up to 80: exp(80) overflows nothing only because of the running max.
static void test_large_magnitude(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_case(ctx, 17, 63, 21, 80.0f, 1.0f, 2);
    check_case(ctx, 129, 257, 22, 80.0f, 0.5f, 0);
    check_case(ctx, 3, 4099, 23, 80.0f, 1.0f, 1);
    test_ctx_done(ctx);
}

// The loss sum on the device (for a mean loss without downloading N floats).
static void test_loss_sum(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int N = 4099, V = 63;
    ce_case c = make_case(N, V, 31, 4.0f);
    float *loss = malloc((size_t)N * 4);
    vkt_error e = {0};
    assert_int_equal(vkt_ref_cross_entropy(N, V, c.logits, c.tgt, c.w, 1.0f, loss, NULL, NULL, &e),
                     VKT_OK);
    double want = 0;
    for (int i = 0; i < N; i++) want += loss[i];
    ce_dev d = upload_case(ctx, &c, 0);
    vkt_buffer *scratch = NULL, *out = test_upload(ctx, NULL, 4);
    uint64_t sb = vkt_reduce_scratch_bytes(ctx, N);
    TEST_OK(ctx, vkt_buffer_create(ctx, sb ? sb : 4, &scratch));
    TEST_OK(ctx, vkt_cross_entropy(ctx, N, V, d.xv, vkt_view_all(d.tw), 1.0f, true,
                                   vkt_view_all(d.loss), (vkt_view){0}));
    TEST_OK(ctx, vkt_sum(ctx, vkt_view_all(d.loss), N, vkt_view_all(scratch), vkt_view_all(out)));
    double got = 0;
    TEST_OK(ctx, vkt_reduce_read(ctx, vkt_view_all(out), &got, NULL, NULL));
    if (!(fabs(got - want) <= 1e-4 + 1e-6 * fabs(want)))
        fail_msg("loss sum %.9g, want %.9g", got, want);
    vkt_buffer_destroy(ctx, scratch), vkt_buffer_destroy(ctx, out);
    free_dev(ctx, &d);
    free(loss);
    free_case(&c);
    test_ctx_done(ctx);
}

// Same inputs, same bits: the reduction order is fixed.
static void test_deterministic(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int N = 17, V = 50257;
    ce_case c = make_case(N, V, 41, 6.0f);
    uint64_t nv = (uint64_t)N * V;
    float *first[3] = {0};
    for (int run = 0; run < 3; run++) {
        ce_dev d = upload_case(ctx, &c, 1);
        TEST_OK(ctx, vkt_cross_entropy(ctx, N, V, d.xv, vkt_view_all(d.tw), 1.0f, true,
                                       vkt_view_all(d.loss), vkt_view_all(d.lse)));
        float *x = test_download(ctx, d.x, nv + 2), *l = test_download(ctx, d.loss, N),
              *s = test_download(ctx, d.lse, N);
        if (run == 0) {
            first[0] = x, first[1] = l, first[2] = s;
        } else {
            assert_memory_equal(x, first[0], (nv + 2) * 4);
            assert_memory_equal(l, first[1], (size_t)N * 4);
            assert_memory_equal(s, first[2], (size_t)N * 4);
            free(x), free(l), free(s);
        }
        free_dev(ctx, &d);
    }
    free(first[0]), free(first[1]), free(first[2]);
    free_case(&c);
    test_ctx_done(ctx);
}

// Logits larger than one binding: row ranges. 4 KiB bindings hold 3 rows of V=257;
// 1 MiB bindings hold 5 rows of V=50257.
static void test_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    check_case(ctx, 129, 257, 51, 4.0f, 1.0f, 1);
    check_case(ctx, 1000, 1, 52, 4.0f, 1.0f, 3);
    check_case(ctx, 17, 900, 53, 80.0f, 1.0f, 0);
    // A row that does not fit one binding: an error, nothing written.
    ce_case c = make_case(3, 4099, 54, 1.0f);
    ce_dev d = upload_case(ctx, &c, 0);
    assert_int_equal(vkt_cross_entropy(ctx, 3, 4099, d.xv, vkt_view_all(d.tw), 1.0f, true,
                                       vkt_view_all(d.loss), (vkt_view){0}),
                     VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(vkt_ctx_message(ctx), "V=4099"));
    float *x = test_download(ctx, d.x, 3 * 4099);
    assert_memory_equal(x, c.logits, 3 * 4099 * 4);
    free(x);
    free_dev(ctx, &d);
    free_case(&c);
    test_ctx_done(ctx);
    setenv("VKT_MAX_BINDING_BYTES", "1048576", 1);
    ctx = test_ctx();
    check_case(ctx, 17, 50257, 55, 4.0f, 1.0f, 2);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// The shared-memory tree (devices without subgroup arithmetic, or VKT_DISABLE_SUBGROUP).
static void test_no_subgroup(void **state) {
    setenv("VKT_DISABLE_SUBGROUP", "1", 1);
    vkt_ctx *ctx = test_ctx();
    check_case(ctx, 17, 257, 71, 4.0f, 1.0f, 1);
    check_case(ctx, 3, 50257, 72, 80.0f, 0.5f, 0);
    check_case(ctx, 129, 3, 73, 4.0f, 1.0f, 2);
    test_ctx_done(ctx);
    unsetenv("VKT_DISABLE_SUBGROUP");
}

// The entropy variant: forward only, then forward + backward in place with lse and H.
static void check_case_ent(vkt_ctx *ctx, int N, int V, uint64_t seed, float mag, float gs,
                           uint64_t off) {
    ce_case c = make_case(N, V, seed, mag);
    uint64_t nv = (uint64_t)N * V;
    float *coef = malloc((size_t)N * 4), *loss = malloc((size_t)N * 4),
          *lse = malloc((size_t)N * 4);
    float *H = malloc((size_t)N * 4), *dl = malloc(nv * 4);
    for (int i = 0; i < N; i++) coef[i] = coef_of(i);
    vkt_error e = {0};
    assert_int_equal(
        vkt_ref_cross_entropy_ent(N, V, c.logits, c.tgt, c.w, coef, gs, loss, dl, lse, H, &e),
        VKT_OK);
    ce_dev d = upload_case(ctx, &c, off);
    TEST_OK(ctx, vkt_cross_entropy_stage_ent(ctx, N, coef, vkt_view_all(d.coef)));
    vkt_view tw = vkt_view_all(d.tw), cv = vkt_view_all(d.coef), none = {0};
    // Tolerances widened by each row's entropy term (see the top of the file).
    double *lt = malloc((size_t)N * sizeof *lt);
    for (int i = 0; i < N; i++) lt[i] = fabs(coef[i]) * (3e-5 + 1e-5 * H[i]);
    char label[96];

    TEST_OK(ctx, vkt_cross_entropy_ent(ctx, N, V, d.xv, tw, cv, gs, false, vkt_view_all(d.loss),
                                       none, none));
    float *got = test_download(ctx, d.loss, N);
    for (int i = 0; i < N; i++)
        if (!(fabs(got[i] - loss[i]) <= LOSS_ATOL + lt[i] + LOSS_RTOL * fabs(loss[i])))
            fail_msg("ent loss fwd N=%d V=%d row %d: %.9g, want %.9g", N, V, i, got[i], loss[i]);
    free(got);
    float *x = test_download(ctx, d.x, nv + off + 1);
    assert_memory_equal(x + off, c.logits, nv * 4);
    free(x);

    TEST_OK(ctx, vkt_cross_entropy_ent(ctx, N, V, d.xv, tw, cv, gs, true, vkt_view_all(d.loss),
                                       vkt_view_all(d.lse), vkt_view_all(d.ent)));
    got = test_download(ctx, d.loss, N);
    for (int i = 0; i < N; i++)
        if (!(fabs(got[i] - loss[i]) <= LOSS_ATOL + lt[i] + LOSS_RTOL * fabs(loss[i])))
            fail_msg("ent loss N=%d V=%d row %d: %.9g, want %.9g", N, V, i, got[i], loss[i]);
    free(got);
    got = test_download(ctx, d.lse, N);
    snprintf(label, sizeof label, "ent lse N=%d V=%d mag=%g", N, V, mag);
    assert_true(test_close(label, got, lse, N, LSE_ATOL, LSE_RTOL));
    free(got);
    got = test_download(ctx, d.ent, N);
    snprintf(label, sizeof label, "H N=%d V=%d mag=%g", N, V, mag);
    assert_true(test_close(label, got, H, N, 3e-5, 1e-5));
    for (int i = 0; i < N; i++)
        assert_true(coef[i] != 0 || got[i] == 0.0f); // skipped rows report 0
    free(got);
    x = test_download(ctx, d.x, nv + off + 1);
    double worst = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < V; j++) {
            size_t k = (size_t)i * V + j;
            double p = exp((double)c.logits[k] - lse[i]);
            double tol =
                DL_ATOL + DL_RTOL * fabs(dl[k]) + fabs(gs * coef[i]) * p * (3e-5 + 1e-5 * H[i]);
            double err = fabs(x[off + k] - dl[k]);
            if (err / tol > worst) worst = err / tol;
            if (!(err <= tol))
                fail_msg("ent dlogits N=%d V=%d [%d][%d]: %.9g, want %.9g", N, V, i, j, x[off + k],
                         dl[k]);
        }
    for (uint64_t i = 0; i < off; i++) assert_true(x[i] == 0.0f);
    assert_true(x[off + nv] == 0.0f);
    free(x);
    print_message("entropy N=%d V=%d mag=%g: worst dlogits error %.2f of tolerance\n", N, V, mag,
                  worst);
    free_dev(ctx, &d);
    free(coef), free(loss), free(lse), free(H), free(dl), free(lt);
    free_case(&c);
}

static void test_entropy_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int Ns[] = {1, 3, 17, 264};
    const int Vs[] = {1, 3, 17, 264, 4099};
    for (size_t a = 0; a < sizeof Ns / sizeof *Ns; a++)
        for (size_t b = 0; b < sizeof Vs / sizeof *Vs; b++)
            check_case_ent(ctx, Ns[a], Vs[b], 211 + a * 7 + b, 4.0f, 0.37f, (a + b) % 3);
    check_case_ent(ctx, 3, 50257, 231, 4.0f, 1.0f, 1);
    check_case_ent(ctx, 17, 63, 232, 80.0f, -2.0f, 2);
    check_case_ent(ctx, 3, 50257, 233, 80.0f, 1.0f, 0);
    test_ctx_done(ctx);
}

// Splits, the shared-memory tree, and rows of coefficient 0 equal the base kernel bit for bit.
static void test_entropy_split_tree_plain(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    check_case_ent(ctx, 129, 257, 241, 4.0f, 1.0f, 1);
    check_case_ent(ctx, 1000, 1, 242, 4.0f, 1.0f, 3);
    check_case_ent(ctx, 17, 900, 243, 80.0f, 1.0f, 0);
    test_ctx_done(ctx);
    setenv("VKT_MAX_BINDING_BYTES", "1048576", 1);
    ctx = test_ctx();
    check_case_ent(ctx, 17, 50257, 244, 4.0f, 1.0f, 2);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
    setenv("VKT_DISABLE_SUBGROUP", "1", 1);
    ctx = test_ctx();
    check_case_ent(ctx, 17, 264, 251, 4.0f, 1.0f, 1);
    check_case_ent(ctx, 3, 50257, 252, 80.0f, 0.5f, 0);
    check_case_ent(ctx, 129, 3, 253, 4.0f, 1.0f, 2);
    test_ctx_done(ctx);
    unsetenv("VKT_DISABLE_SUBGROUP");

    ctx = test_ctx();
    const int N = 17, V = 264;
    ce_case c = make_case(N, V, 261, 6.0f);
    float *zero = calloc(N, 4);
    ce_dev a = upload_case(ctx, &c, 0), b = upload_case(ctx, &c, 0);
    TEST_OK(ctx, vkt_cross_entropy_stage_ent(ctx, N, zero, vkt_view_all(b.coef)));
    TEST_OK(ctx, vkt_cross_entropy(ctx, N, V, a.xv, vkt_view_all(a.tw), 0.5f, true,
                                   vkt_view_all(a.loss), vkt_view_all(a.lse)));
    TEST_OK(ctx, vkt_cross_entropy_ent(ctx, N, V, b.xv, vkt_view_all(b.tw), vkt_view_all(b.coef),
                                       0.5f, true, vkt_view_all(b.loss), vkt_view_all(b.lse),
                                       vkt_view_all(b.ent)));
    float *xa = test_download(ctx, a.x, (uint64_t)N * V),
          *xb = test_download(ctx, b.x, (uint64_t)N * V);
    float *la = test_download(ctx, a.loss, N), *lb = test_download(ctx, b.loss, N);
    assert_memory_equal(xa, xb, (size_t)N * V * 4);
    assert_memory_equal(la, lb, (size_t)N * 4);
    free(xa), free(xb), free(la), free(lb), free(zero);
    free_dev(ctx, &a), free_dev(ctx, &b);
    free_case(&c);
    test_ctx_done(ctx);
}

// Bad calls return an error naming the op and write nothing.
static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int N = 5, V = 7;
    ce_case c = make_case(N, V, 61, 1.0f);
    ce_dev d = upload_case(ctx, &c, 0);
    float *tw0 = test_download(ctx, d.tw, 2 * N), *loss0 = test_download(ctx, d.loss, N);
    vkt_view tw = vkt_view_all(d.tw), loss = vkt_view_all(d.loss), none = {0};

    // A target out of range in a row with weight != 0 (row 0 has weight 1).
    int32_t bad[5];
    memcpy(bad, c.tgt, sizeof bad);
    bad[0] = V;
    assert_int_equal(vkt_cross_entropy_stage(ctx, N, V, bad, c.w, tw), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "targets[0]=7"));
    bad[0] = -1;
    assert_int_equal(vkt_cross_entropy_stage(ctx, N, V, bad, c.w, tw), VKT_ERR_ARG);
    // ... while masked rows (weight 0, rows 1 and 6 mod 8) may hold anything.
    assert_int_equal(c.w[1], 0.0f);
    assert_true(c.tgt[1] < 0 || c.tgt[1] >= V);
    // Sizes.
    assert_int_equal(vkt_cross_entropy_stage(ctx, 0, V, c.tgt, c.w, tw), VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy_stage(ctx, N, V, c.tgt, c.w, vkt_view_f32(tw, 0, 2 * N - 1)),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy_stage(ctx, N, V, NULL, c.w, tw), VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy(ctx, 0, V, d.xv, tw, 1.0f, true, loss, none), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "cross_entropy"));
    assert_int_equal(vkt_cross_entropy(ctx, N, 0, d.xv, tw, 1.0f, true, loss, none), VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy(ctx, N, V + 1, d.xv, tw, 1.0f, true, loss, none),
                     VKT_ERR_ARG); // logits too small
    assert_int_equal(
        vkt_cross_entropy(ctx, N, V, d.xv, vkt_view_f32(tw, 0, 2 * N - 1), 1.0f, true, loss, none),
        VKT_ERR_ARG);
    assert_int_equal(
        vkt_cross_entropy(ctx, N, V, d.xv, tw, 1.0f, true, vkt_view_f32(loss, 0, N - 1), none),
        VKT_ERR_ARG);
    assert_int_equal(
        vkt_cross_entropy(ctx, N, V, d.xv, tw, 1.0f, true, loss, vkt_view_f32(loss, 0, N - 1)),
        VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy(ctx, N, V, d.xv, tw, NAN, true, loss, none), VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy(ctx, N, V, none, tw, 1.0f, true, loss, none), VKT_ERR_ARG);
    // Entropy variant: coefficients must be finite, views large enough, ent needs coef.
    float cf[5] = {0.1f, 0, 0, NAN, 0};
    vkt_view cv = vkt_view_all(d.coef);
    assert_int_equal(vkt_cross_entropy_stage_ent(ctx, N, cf, cv), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "coef[3]"));
    assert_int_equal(vkt_cross_entropy_stage_ent(ctx, N, cf, vkt_view_f32(cv, 0, N - 1)),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy_ent(ctx, N, V, d.xv, tw, vkt_view_f32(cv, 0, N - 1), 1.0f,
                                           true, loss, none, none),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy_ent(ctx, N, V, d.xv, tw, cv, 1.0f, true, loss, none,
                                           vkt_view_f32(vkt_view_all(d.ent), 0, N - 1)),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_cross_entropy_ent(ctx, N, V, d.xv, tw, none, 1.0f, true, loss, none,
                                           vkt_view_all(d.ent)),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "ent"));

    float *x = test_download(ctx, d.x, (uint64_t)N * V + 1), *tw1 = test_download(ctx, d.tw, 2 * N),
          *loss1 = test_download(ctx, d.loss, N);
    assert_memory_equal(x, c.logits, (size_t)N * V * 4);
    assert_memory_equal(tw1, tw0, (size_t)2 * N * 4);
    assert_memory_equal(loss1, loss0, (size_t)N * 4);
    free(x), free(tw1), free(loss1), free(tw0), free(loss0);
    free_dev(ctx, &d);
    free_case(&c);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),          cmocka_unit_test(test_large_vocab),
        cmocka_unit_test(test_large_magnitude), cmocka_unit_test(test_loss_sum),
        cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_no_subgroup),     cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_entropy_shapes),  cmocka_unit_test(test_entropy_split_tree_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
