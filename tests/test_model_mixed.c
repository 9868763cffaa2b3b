// test_model_mixed.c: mixed-precision training (model.h VKT_PREC_BF16 / FP16) against the fp32
// model on the same weights and batch: logits, loss and every gradient tensor agree within
// what 16-bit matmul operands allow (bf16 keeps 8 bits of mantissa, fp16 11), for a tiny model
// of each family; the 16-bit weight copy follows every change of the fp32 weights (set_params,
// an AdamW step); fp16 gradients that overflow show as a non-finite gradient norm, and the
// next step at a sane scale is finite again; frozen and LoRA models refuse 16-bit training.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "support_gpu.h"
#include "support_model.h"

enum { B = 3, T = 11, N = B * T };

typedef struct run {
    float *logits, *grads;
    double loss;
} run;

static void batch(int vocab, int32_t *tok, int32_t *tgt, float *w) {
    for (int i = 0; i < N; i++) {
        tok[i] = (i * 7 + 3) % vocab, tgt[i] = (i * 5 + 1) % vocab;
        w[i] = i % 9 == 4 ? 0.0f : 1.0f;
    }
}

// One forward and backward of c at precision prec with parameters params.
static run forward_backward(vkt_ctx *ctx, const vkt_model_config *c, int prec, const float *params,
                            float loss_scale) {
    vkt_model *m = test_model_new(ctx, c, 5);
    TEST_OK(ctx, vkt_model_set_precision(m, prec));
    TEST_OK(ctx, vkt_model_set_params(m, params));
    int32_t tok[N], tgt[N];
    float w[N];
    batch(c->vocab, tok, tgt, w);
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, w));
    TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
    run r = {malloc((size_t)N * c->vocab * 4), malloc(vkt_model_params(m)->total * 4), 0};
    TEST_OK(ctx, vkt_download(ctx, vkt_model_logits(m), r.logits, (uint64_t)N * c->vocab * 4));
    TEST_OK(ctx, vkt_model_backward(m, loss_scale / N));
    double sum, wsum;
    TEST_OK(ctx, vkt_model_read_loss(m, &sum, &wsum));
    r.loss = sum / wsum;
    TEST_OK(ctx, vkt_model_get_grads(m, r.grads));
    vkt_model_destroy(m);
    return r;
}

// Mixed precision against fp32 on the same weights: tol is the relative error allowed for
// logits (of the largest logit), loss, and each gradient tensor (of its norm).
static void compare(const char *preset, int prec, double tol) {
    vkt_ctx *ctx = test_ctx();
    const bool gpt2 = strcmp(preset, "gpt2-tiny") == 0;
    vkt_model_config c = test_config(preset, (test_shape){.vocab = 37,
                                                          .context = 16,
                                                          .layers = 2,
                                                          .width = 16,
                                                          .ffn = 24,
                                                          .heads = 4,
                                                          .kv_heads = gpt2 ? 4 : 2});
    vkt_model *m = test_model_new(ctx, &c, 5);
    float *params = test_model_vivid(ctx, m, 4.0f);
    const vkt_params *ps = vkt_model_params(m);
    run a = forward_backward(ctx, &c, VKT_PREC_FP32, params, 1.0f);
    run b = forward_backward(ctx, &c, prec, params, 1.0f);
    double lmax = 0, ldiff = 0;
    for (int i = 0; i < N * c.vocab; i++) {
        lmax = fmax(lmax, fabs(a.logits[i]));
        ldiff = fmax(ldiff, fabs(a.logits[i] - b.logits[i]));
    }
    if (ldiff > tol * lmax)
        fail_msg("%s %s: logits differ by %.3g (largest %.3g)", preset, vkt_precision_name(prec),
                 ldiff, lmax);
    assert_true(ldiff > 0); // 16-bit operands do change the result: the path was taken
    if (fabs(a.loss - b.loss) > tol * fabs(a.loss))
        fail_msg("%s %s: loss %.6f vs fp32 %.6f", preset, vkt_precision_name(prec), b.loss, a.loss);
    for (int t = 0; t < ps->n; t++) {
        const vkt_param *p = &ps->p[t];
        double d2 = 0, n2 = 0;
        for (uint64_t j = 0; j < p->count; j++) {
            double x = a.grads[p->offset + j], y = b.grads[p->offset + j];
            d2 += (x - y) * (x - y), n2 += x * x;
        }
        if (sqrt(d2) > 4 * tol * sqrt(n2) + 1e-7)
            fail_msg("%s %s: gradient of %s off by %.3g of its norm %.3g", preset,
                     vkt_precision_name(prec), p->name, sqrt(d2 / (n2 > 0 ? n2 : 1)), sqrt(n2));
    }
    free(a.logits), free(a.grads), free(b.logits), free(b.grads), free(params);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_gpt2_bf16(void **s) { compare("gpt2-tiny", VKT_PREC_BF16, 0.03); }
static void test_gpt2_fp16(void **s) { compare("gpt2-tiny", VKT_PREC_FP16, 0.004); }
static void test_llama_bf16(void **s) { compare("llama-tiny", VKT_PREC_BF16, 0.03); }
static void test_llama_fp16(void **s) { compare("llama-tiny", VKT_PREC_FP16, 0.004); }

// The 16-bit copy follows the fp32 weights: after set_params and after an AdamW step, the
// mixed model's loss is the fp32 model's within bf16 error (a stale copy would keep the old).
static void test_copy_follows_weights(void **s) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = test_config("gpt2-tiny", (test_shape){.vocab = 37,
                                                               .context = 16,
                                                               .layers = 1,
                                                               .width = 16,
                                                               .ffn = 24,
                                                               .heads = 2,
                                                               .kv_heads = 2});
    vkt_model *m32 = test_model_new(ctx, &c, 9), *m16 = test_model_new(ctx, &c, 9);
    TEST_OK(ctx, vkt_model_set_precision(m16, VKT_PREC_BF16));
    int32_t tok[N], tgt[N];
    float w[N];
    batch(c.vocab, tok, tgt, w);
    double before[2] = {0}, after[2] = {0}, wsum;
    vkt_model *ms[2] = {m32, m16};
    vkt_optim opt = {0.05f, 0.9f, 0.95f, 1e-8f, 0.0f, 0.0f, 0.0f};
    for (int k = 0; k < 2; k++) {
        float *p = test_model_scale(ctx, ms[k], 6.0f); // set_params: the copy must follow
        free(p);
        TEST_OK(ctx, vkt_model_plan(ms[k], B, T));
        TEST_OK(ctx, vkt_model_set_batch(ms[k], tok, tgt, w));
        TEST_OK(ctx, vkt_model_forward(ms[k], NULL, NULL));
        TEST_OK(ctx, vkt_model_backward(ms[k], 1.0f / N));
        TEST_OK(ctx, vkt_model_read_loss(ms[k], &before[k], &wsum));
        before[k] /= wsum;
        TEST_OK(ctx, vkt_model_adamw(ms[k], &opt, 1, NULL));
        TEST_OK(ctx, vkt_model_forward(ms[k], NULL, NULL));
        TEST_OK(ctx, vkt_model_loss(ms[k]));
        TEST_OK(ctx, vkt_model_read_loss(ms[k], &after[k], &wsum));
        after[k] /= wsum;
    }
    assert_true(fabs(after[0] - before[0]) > 0.05); // the step moved the loss
    if (fabs(before[1] - before[0]) > 0.03 * before[0] ||
        fabs(after[1] - after[0]) > 0.03 * after[0])
        fail_msg("bf16 losses %.5f -> %.5f, fp32 %.5f -> %.5f", before[1], after[1], before[0],
                 after[0]);
    vkt_model_destroy(m32), vkt_model_destroy(m16);
    test_ctx_done(ctx);
}

// The one-layer Llama the single-model cases use.
static vkt_model_config one_layer_llama(void) {
    return test_config("llama-tiny", (test_shape){.vocab = 37,
                                                  .context = 16,
                                                  .layers = 1,
                                                  .width = 16,
                                                  .ffn = 24,
                                                  .heads = 2,
                                                  .kv_heads = 1});
}

// fp16 gradients past 65504 become infinite: the norm says so; at scale 1 they are finite.
static void test_fp16_overflow_shows(void **s) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = one_layer_llama();
    vkt_model *m = test_model_new(ctx, &c, 3);
    TEST_OK(ctx, vkt_model_set_precision(m, VKT_PREC_FP16));
    int32_t tok[N], tgt[N];
    float w[N];
    batch(c.vocab, tok, tgt, w);
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, w));
    float scales[2] = {1e9f, 1.0f}, norm[2];
    for (int k = 0; k < 2; k++) {
        TEST_OK(ctx, vkt_model_zero_grads(m));
        TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
        TEST_OK(ctx, vkt_model_backward(m, scales[k] / N));
        TEST_OK(ctx, vkt_model_grad_norm(m, 1.0f));
        TEST_OK(ctx, vkt_model_read_step(m, NULL, NULL, &norm[k]));
    }
    if (isfinite(norm[0])) fail_msg("gradient norm %g at loss scale 1e9 in fp16", (double)norm[0]);
    if (!isfinite(norm[1]) || norm[1] <= 0)
        fail_msg("gradient norm %g at loss scale 1", (double)norm[1]);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_frozen_refuses(void **s) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = one_layer_llama();
    vkt_model_opts o = {.frozen = true};
    vkt_model *m = NULL;
    TEST_OK(ctx, vkt_model_create_opts(ctx, &c, &o, &m));
    assert_int_equal(vkt_model_set_precision(m, VKT_PREC_BF16), VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(vkt_ctx_message(ctx), "frozen"));
    assert_int_equal(vkt_model_set_precision(m, VKT_PREC_FP32), VKT_OK);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2_bf16),
        cmocka_unit_test(test_gpt2_fp16),
        cmocka_unit_test(test_llama_bf16),
        cmocka_unit_test(test_llama_fp16),
        cmocka_unit_test(test_copy_follows_weights),
        cmocka_unit_test(test_fp16_overflow_shows),
        cmocka_unit_test(test_frozen_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
