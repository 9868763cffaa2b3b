// test_optim.c: AdamW (vkt_adamw) over several steps against vkt_ref_adamw, the global
// gradient norm and clip factor (vkt_grad_norm) against vkt_ref_sum_squares /
// vkt_ref_clip_factor, the plain sum (vkt_sum), clipping fed to AdamW from the device,
// determinism, binding splits and bad calls.
//
// Tolerances (atol + rtol*|ref|):
//   AdamW state after 1..10 steps, fp32 arithmetic vs the reference's double rounded to
//   float each step: param 1e-6 + 1e-6|ref| (updates are ~lr = 1e-2; a few ulps each),
//   m 1e-6 + 1e-5|ref| (b1 m + (1-b1) g may cancel), v 1e-9 + 1e-5|ref|.
//   sum of squares / sum: 1e-9 + 1e-11|ref| (float-float accumulation, ~44 bits);
//   norm and clip factor: rtol 1e-6 (computed in fp32 from the float-float sum).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_optim.h"
#include "op_reduce.h"
#include "reference.h"
#include "support_gpu.h"

#define P_ATOL 1e-6
#define P_RTOL 1e-6
#define M_ATOL 1e-6
#define M_RTOL 1e-5
#define V_ATOL 1e-9
#define V_RTOL 1e-5
#define SUM_ATOL 1e-9
#define SUM_RTOL 1e-11
#define NORM_RTOL 1e-6

static float *vec(uint64_t n, uint64_t seed, float lo, float hi) {
    float *x = malloc(n * 4);
    test_fill_uniform(x, n, seed, lo, hi);
    return x;
}

static void check_view(vkt_ctx *ctx, const char *what, vkt_view v, const float *want, uint64_t n,
                       double atol, double rtol, int t) {
    float *got = malloc(n * 4);
    TEST_OK(ctx, vkt_download(ctx, v, got, n * 4));
    char label[96];
    snprintf(label, sizeof label, "adamw %s n=%llu t=%d", what, (unsigned long long)n, t);
    assert_true(test_close(label, got, want, n, atol, rtol));
    free(got);
}

// Runs 10 AdamW steps with fresh gradients each step and compares param, m, v after
// t = 1, 2 and 10. dev_scale: the grad_scale comes half from the host, half from a
// device float (as the clip factor would).
// zero_grad: the gradient must read back as zeros after each step (else unchanged).
static void check_adamw(vkt_ctx *ctx, uint64_t n, float wd, bool dev_scale, uint64_t off,
                        bool zero_grad) {
    float *p = vec(n, 1, -1, 1), *m = calloc(n, 4), *v = calloc(n, 4);
    // One buffer holds param, grad, m, v back to back at an unaligned offset, as the
    // trainer's single parameter buffer does.
    vkt_buffer *b = test_upload(ctx, NULL, 4 * n + off);
    vkt_view all = vkt_view_all(b);
    vkt_view pv = vkt_view_f32(all, off, n), gv = vkt_view_f32(all, off + n, n);
    vkt_view mv = vkt_view_f32(all, off + 2 * n, n), vv = vkt_view_f32(all, off + 3 * n, n);
    TEST_OK(ctx, vkt_upload(ctx, pv, p, n * 4));
    float s4[4] = {9, 9, 9, 0.25f};
    vkt_buffer *sb = test_upload(ctx, s4, 4);
    vkt_view sv = dev_scale ? vkt_view_f32(vkt_view_all(sb), 3, 1) : (vkt_view){0};
    vkt_adamw_params hp = {.lr = 1e-2f,
                           .beta1 = 0.9f,
                           .beta2 = 0.999f,
                           .eps = 1e-8f,
                           .weight_decay = wd,
                           .grad_scale = dev_scale ? 2.0f : 0.5f,
                           .zero_grad = zero_grad};
    vkt_error e = {0};
    for (int t = 1; t <= 10; t++) {
        float *g = vec(n, 100 + (uint64_t)t, -1, 1);
        TEST_OK(ctx, vkt_upload(ctx, gv, g, n * 4));
        hp.t = t;
        TEST_OK(ctx, vkt_adamw(ctx, pv, gv, mv, vv, n, &hp, sv));
        assert_int_equal(vkt_ref_adamw(n, p, g, m, v, hp.lr, hp.beta1, hp.beta2, hp.eps,
                                       hp.weight_decay, 0.5f, t, &e),
                         VKT_OK);
        if (t == 1 || t == 2 || t == 10) {
            float *gback = malloc(n * 4), *zeros = calloc(n, 4);
            TEST_OK(ctx, vkt_download(ctx, gv, gback, n * 4));
            assert_memory_equal(gback, zero_grad ? zeros : g, n * 4);
            free(gback), free(zeros);
            check_view(ctx, "param", pv, p, n, P_ATOL, P_RTOL, t);
            check_view(ctx, "m", mv, m, n, M_ATOL, M_RTOL, t);
            check_view(ctx, "v", vv, v, n, V_ATOL, V_RTOL, t);
        }
        free(g);
    }
    float *got = test_download(ctx, b, 4 * n + off); // nothing outside the four views moved
    for (uint64_t i = 0; i < off; i++) assert_true(got[i] == 0.0f);
    free(got);
    vkt_buffer_destroy(ctx, b), vkt_buffer_destroy(ctx, sb);
    free(p), free(m), free(v);
}

static void test_adamw(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t sizes[] = {1, 3, 17, 4096, 4099, 1000003}; // 4096 at offset 0: the vec4 path
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        check_adamw(ctx, sizes[i], 0.0f, false, i % 3, false);
        check_adamw(ctx, sizes[i], 0.1f, true, (i + 1) % 3, true);
    }
    test_ctx_done(ctx);
}

static vkt_buffer *scratch_for(vkt_ctx *ctx, uint64_t n) {
    uint64_t sb = vkt_reduce_scratch_bytes(ctx, n);
    vkt_buffer *s = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, sb ? sb : 4, &s));
    return s;
}

// Sum of squares, norm and clip factor (clipping and not), and the plain sum.
static void check_norm(vkt_ctx *ctx, uint64_t n, uint64_t off) {
    float *g = vec(n + off, 7 + n, -1, 1);
    vkt_buffer *gb = test_upload(ctx, g, n + off), *out = test_upload(ctx, NULL, 5),
               *s = scratch_for(ctx, n);
    vkt_view gv = vkt_view_f32(vkt_view_all(gb), off, n),
             ov = vkt_view_f32(vkt_view_all(out), 1, 4);
    double ss = 0, norm = 0, want_clip = 0;
    vkt_error e = {0};
    assert_int_equal(vkt_ref_sum_squares(n, g + off, &ss, &e), VKT_OK);
    assert_int_equal(vkt_ref_grad_norm(n, g + off, &norm, &e), VKT_OK);
    const double max_norms[] = {norm / 3, 10 * norm + 1, 0};
    for (int k = 0; k < 3; k++) {
        TEST_OK(ctx, vkt_grad_norm(ctx, gv, n, (float)max_norms[k], vkt_view_all(s), ov));
        double got = 0;
        float gnorm = 0, clip = 0;
        TEST_OK(ctx, vkt_reduce_read(ctx, ov, &got, &gnorm, &clip));
        if (!(fabs(got - ss) <= SUM_ATOL + SUM_RTOL * ss))
            fail_msg("sum of squares n=%llu: %.17g, want %.17g", (unsigned long long)n, got, ss);
        if (!(fabs(gnorm - norm) <= NORM_RTOL * norm))
            fail_msg("norm n=%llu: %.9g, want %.9g", (unsigned long long)n, gnorm, norm);
        if (max_norms[k] > 0)
            assert_int_equal(vkt_ref_clip_factor(norm, max_norms[k], &want_clip, &e), VKT_OK);
        else
            want_clip = 1;
        if (!(fabs(clip - want_clip) <= NORM_RTOL * want_clip))
            fail_msg("clip n=%llu max_norm=%g: %.9g, want %.9g", (unsigned long long)n,
                     max_norms[k], clip, want_clip);
    }
    double sum = 0;
    for (uint64_t i = 0; i < n; i++) sum += g[off + i];
    TEST_OK(ctx, vkt_sum(ctx, gv, n, vkt_view_all(s), ov));
    double got = 0;
    TEST_OK(ctx, vkt_reduce_read(ctx, ov, &got, NULL, NULL));
    double abs_sum = ss; // the error scales with sum |x| ~ the size, not the (cancelling) sum
    if (!(fabs(got - sum) <= SUM_ATOL + SUM_RTOL * abs_sum))
        fail_msg("sum n=%llu: %.17g, want %.17g", (unsigned long long)n, got, sum);
    float first;
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(out), &first, 4));
    assert_true(first == 0.0f); // the float before the out view is untouched
    vkt_buffer_destroy(ctx, gb), vkt_buffer_destroy(ctx, out), vkt_buffer_destroy(ctx, s);
    free(g);
}

static void test_grad_norm(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t sizes[] = {1, 3, 17, 2048, 2049, 4099, 1000003};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) check_norm(ctx, sizes[i], i % 3);
    test_ctx_done(ctx);
}

// Large magnitudes and one huge element among tiny ones: float-float keeps the small ones.
static void test_grad_norm_dynamic_range(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 300007;
    float *g = vec(n, 3, -1e-3f, 1e-3f);
    g[12345] = 3e3f;
    vkt_buffer *gb = test_upload(ctx, g, n), *out = test_upload(ctx, NULL, 4),
               *s = scratch_for(ctx, n);
    TEST_OK(ctx, vkt_grad_norm(ctx, vkt_view_all(gb), n, 1.0f, vkt_view_all(s), vkt_view_all(out)));
    double got = 0, ss = 0;
    vkt_error e = {0};
    assert_int_equal(vkt_ref_sum_squares(n, g, &ss, &e), VKT_OK);
    TEST_OK(ctx, vkt_reduce_read(ctx, vkt_view_all(out), &got, NULL, NULL));
    // fp32 alone would lose the 0.1 the small elements add to 9e6; float-float keeps it.
    if (!(fabs(got - ss) <= 1e-9 * ss)) fail_msg("sum of squares %.17g, want %.17g", got, ss);
    vkt_buffer_destroy(ctx, gb), vkt_buffer_destroy(ctx, out), vkt_buffer_destroy(ctx, s);
    free(g);
    test_ctx_done(ctx);
}

// One infinite or NaN gradient makes the norm non-finite (the trainer's divergence check and
// fp16 loss scaling read it): it must never come out as 0 or as a finite number.
static void test_grad_norm_nonfinite(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 70001;
    const float bad[3] = {INFINITY, -INFINITY, NAN};
    for (int k = 0; k < 3; k++) {
        float *g = vec(n, 5, -1e-3f, 1e-3f);
        g[(uint64_t)(k + 1) * 20011] = bad[k];
        vkt_buffer *gb = test_upload(ctx, g, n), *out = test_upload(ctx, NULL, 4),
                   *s = scratch_for(ctx, n);
        TEST_OK(ctx,
                vkt_grad_norm(ctx, vkt_view_all(gb), n, 1.0f, vkt_view_all(s), vkt_view_all(out)));
        float norm = 0;
        TEST_OK(ctx, vkt_reduce_read(ctx, vkt_view_all(out), NULL, &norm, NULL));
        if (isfinite(norm))
            fail_msg("gradient %g among small ones: norm %g", (double)bad[k], (double)norm);
        vkt_buffer_destroy(ctx, gb), vkt_buffer_destroy(ctx, out), vkt_buffer_destroy(ctx, s);
        free(g);
    }
    test_ctx_done(ctx);
}

// Clipping without a host round trip: grad_norm's clip factor is AdamW's grad_scale.
static void test_clip_into_adamw(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 100003;
    float *p = vec(n, 1, -1, 1), *g = vec(n, 2, -1, 1), *m = calloc(n, 4), *v = calloc(n, 4);
    vkt_buffer *pb = test_upload(ctx, p, n), *gb = test_upload(ctx, g, n),
               *mb = test_upload(ctx, NULL, n), *vb = test_upload(ctx, NULL, n),
               *out = test_upload(ctx, NULL, 4), *s = scratch_for(ctx, n);
    double norm, clip;
    vkt_error e = {0};
    assert_int_equal(vkt_ref_grad_norm(n, g, &norm, &e), VKT_OK);
    assert_int_equal(vkt_ref_clip_factor(norm, 1.0, &clip, &e), VKT_OK);
    vkt_adamw_params hp = {.lr = 1e-3f,
                           .beta1 = 0.9f,
                           .beta2 = 0.95f,
                           .eps = 1e-8f,
                           .weight_decay = 0.1f,
                           .t = 3,
                           .grad_scale = 1.0f};
    TEST_OK(ctx, vkt_grad_norm(ctx, vkt_view_all(gb), n, 1.0f, vkt_view_all(s), vkt_view_all(out)));
    TEST_OK(ctx,
            vkt_adamw(ctx, vkt_view_all(pb), vkt_view_all(gb), vkt_view_all(mb), vkt_view_all(vb),
                      n, &hp, vkt_view_f32(vkt_view_all(out), VKT_REDUCE_CLIP, 1)));
    assert_int_equal(vkt_ref_adamw(n, p, g, m, v, hp.lr, hp.beta1, hp.beta2, hp.eps,
                                   hp.weight_decay, (float)clip, 3, &e),
                     VKT_OK);
    check_view(ctx, "param (clipped)", vkt_view_all(pb), p, n, P_ATOL, P_RTOL, 3);
    check_view(ctx, "m (clipped)", vkt_view_all(mb), m, n, M_ATOL, M_RTOL, 3);
    check_view(ctx, "v (clipped)", vkt_view_all(vb), v, n, V_ATOL, V_RTOL, 3);
    vkt_buffer *bs[] = {pb, gb, mb, vb, out, s};
    for (int i = 0; i < 6; i++) vkt_buffer_destroy(ctx, bs[i]);
    free(p), free(g), free(m), free(v);
    test_ctx_done(ctx);
}

// Same input, same bits, run after run.
static void test_deterministic(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 1000003;
    float *g = vec(n, 9, -3, 3);
    vkt_buffer *gb = test_upload(ctx, g, n), *out = test_upload(ctx, NULL, 4),
               *s = scratch_for(ctx, n);
    float first[4], again[4];
    for (int run = 0; run < 3; run++) {
        TEST_OK(ctx,
                vkt_grad_norm(ctx, vkt_view_all(gb), n, 1.0f, vkt_view_all(s), vkt_view_all(out)));
        TEST_OK(ctx, vkt_download(ctx, vkt_view_all(out), run ? again : first, 16));
        if (run) assert_memory_equal(first, again, 16);
    }
    vkt_buffer_destroy(ctx, gb), vkt_buffer_destroy(ctx, out), vkt_buffer_destroy(ctx, s);
    free(g);
    test_ctx_done(ctx);
}

// Views larger than one binding: 4 KiB bindings (956 floats) force range splits and a
// multi-pass reduction.
static void test_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    check_adamw(ctx, 10007, 0.1f, true, 1, true);
    check_norm(ctx, 100003, 2);
    check_norm(ctx, 957, 0);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 64;
    float *h = vec(4 * n, 5, -1, 1);
    vkt_buffer *b = test_upload(ctx, h, 4 * n), *out = test_upload(ctx, NULL, 4),
               *s = scratch_for(ctx, n);
    vkt_view all = vkt_view_all(b), none = {0};
    vkt_view pv = vkt_view_f32(all, 0, n), gv = vkt_view_f32(all, n, n),
             mv = vkt_view_f32(all, 2 * n, n), vv = vkt_view_f32(all, 3 * n, n);
    vkt_adamw_params ok = {
        .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .t = 1, .grad_scale = 1};
    vkt_adamw_params hp = ok;
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, 0, &hp, none), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "adamw"));
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n + 1, &hp, none),
                     VKT_ERR_ARG);                                               // views too small
    assert_int_equal(vkt_adamw(ctx, pv, gv, pv, vv, n, &hp, none), VKT_ERR_ARG); // m is param
    assert_int_equal(vkt_adamw(ctx, pv, gv, vkt_view_f32(all, n / 2, n), vv, n, &hp, none),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n, NULL, none), VKT_ERR_ARG);
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n, &hp, (vkt_view){b, 0, 2}), VKT_ERR_ARG);
    assert_int_equal(vkt_adamw(ctx, none, gv, mv, vv, n, &hp, none), VKT_ERR_ARG);
    hp = ok, hp.t = 0;
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n, &hp, none), VKT_ERR_ARG);
    hp = ok, hp.beta1 = 1;
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n, &hp, none), VKT_ERR_ARG);
    hp = ok, hp.lr = NAN;
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n, &hp, none), VKT_ERR_ARG);
    hp = ok, hp.grad_scale = INFINITY;
    assert_int_equal(vkt_adamw(ctx, pv, gv, mv, vv, n, &hp, none), VKT_ERR_ARG);

    vkt_view ov = vkt_view_all(out);
    assert_int_equal(vkt_grad_norm(ctx, gv, 0, 1.0f, vkt_view_all(s), ov), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "grad_norm"));
    assert_int_equal(vkt_grad_norm(ctx, gv, 5 * n, 1.0f, vkt_view_all(s), ov), VKT_ERR_ARG);
    assert_int_equal(vkt_grad_norm(ctx, gv, n, 1.0f, vkt_view_all(s), vkt_view_f32(ov, 0, 3)),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_grad_norm(ctx, gv, n, NAN, vkt_view_all(s), ov), VKT_ERR_ARG);
    assert_int_equal(vkt_sum(ctx, gv, n, vkt_view_all(s), vkt_view_f32(ov, 0, 1)), VKT_ERR_ARG);
    assert_int_equal(vkt_sum(ctx, none, n, vkt_view_all(s), ov), VKT_ERR_ARG);
    // Scratch too small for a multi-pass reduction.
    const uint64_t big = 100000;
    uint64_t need = vkt_reduce_scratch_bytes(ctx, big);
    assert_true(need > 0);
    vkt_buffer *gbig = test_upload(ctx, NULL, big), *sbig = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, need, &sbig));
    assert_int_equal(
        vkt_grad_norm(ctx, vkt_view_all(gbig), big, 1.0f, (vkt_view){sbig, 0, need - 4}, ov),
        VKT_ERR_ARG);
    assert_int_equal(vkt_grad_norm(ctx, vkt_view_all(gbig), big, 1.0f, none, ov), VKT_ERR_ARG);

    float *got = test_download(ctx, b, 4 * n), *o = test_download(ctx, out, 4);
    assert_memory_equal(got, h, 4 * n * 4);
    for (int i = 0; i < 4; i++) assert_true(o[i] == 0.0f);
    free(got), free(o), free(h);
    vkt_buffer_destroy(ctx, b), vkt_buffer_destroy(ctx, out), vkt_buffer_destroy(ctx, s);
    vkt_buffer_destroy(ctx, gbig), vkt_buffer_destroy(ctx, sbig);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_grad_norm),
        cmocka_unit_test(test_grad_norm_dynamic_range),
        cmocka_unit_test(test_clip_into_adamw),
        cmocka_unit_test(test_grad_norm_nonfinite),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
