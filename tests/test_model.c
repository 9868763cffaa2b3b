// test_model.c: the GPU model against the double-precision reference model (itself
// checked against finite differences in test_model_ref.c): same parameters, same batch,
// same loss, logits and gradients, for a tiny config of each family; and a short
// training run that must learn.
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
#include "model_ref.h"
#include "support_gpu.h"

static vkt_model_config tiny(vkt_family f) {
    vkt_model_config c;
    vkt_error err;
    assert_int_equal(vkt_model_preset(f == VKT_FAMILY_GPT2 ? "gpt2-tiny" : "llama-tiny", &c, &err),
                     VKT_OK);
    c.vocab = 37, c.context = 16, c.layers = 2, c.width = 16, c.ffn = 24;
    c.heads = 4, c.kv_heads = f == VKT_FAMILY_GPT2 ? 4 : 2;
    return c;
}

static void compare_config(vkt_model_config c) {
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = NULL;
    vkt_error err = {0};
    TEST_OK(ctx, vkt_model_create(ctx, &c, &m));
    TEST_OK(ctx, vkt_model_init(m, 5));
    const vkt_params *ps = vkt_model_params(m);
    float *pf = malloc(ps->total * 4), *gf = malloc(ps->total * 4);
    double *pd = malloc(ps->total * 8), *gd = malloc(ps->total * 8);
    TEST_OK(ctx, vkt_model_get_params(m, pf));
    // Larger weights than the init, so every path carries signal.
    for (uint64_t i = 0; i < ps->total; i++) pf[i] *= 8.0f;
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].ndim == 1)
            for (uint64_t j = 0; j < ps->p[i].count; j++)
                pf[ps->p[i].offset + j] =
                    (ps->p[i].kind == VKT_P_LN1_W || ps->p[i].kind == VKT_P_LN2_W ||
                     ps->p[i].kind == VKT_P_LNF_W || ps->p[i].kind == VKT_P_Q_NORM ||
                     ps->p[i].kind == VKT_P_K_NORM)
                        ? 1.0f + 0.1f * (float)((j * 7) % 5)
                        : 0.05f * (float)((j * 3) % 7) - 0.1f;
    TEST_OK(ctx, vkt_model_set_params(m, pf));
    for (uint64_t i = 0; i < ps->total; i++) pd[i] = pf[i];

    const int B = 3, T = 11, N = B * T;
    int32_t tok[33], tgt[33];
    float w[33];
    double wd[33];
    for (int i = 0; i < N; i++) {
        tok[i] = (i * 7 + 3) % c.vocab, tgt[i] = (i * 5 + 1) % c.vocab;
        w[i] = i % 9 == 4 ? 0.0f : (i % 7 == 2 ? -0.5f : 1.0f);
        wd[i] = w[i];
    }
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, w));
    TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
    float *logits = malloc((size_t)N * c.vocab * 4);
    double *logits_ref = malloc((size_t)N * c.vocab * 8);
    TEST_OK(ctx, vkt_download(ctx, vkt_model_logits(m), logits, (uint64_t)N * c.vocab * 4));
    TEST_OK(ctx, vkt_model_backward(m, 1.0f / N));
    double loss_sum, wsum;
    TEST_OK(ctx, vkt_model_read_loss(m, &loss_sum, &wsum));
    TEST_OK(ctx, vkt_model_get_grads(m, gf));

    double loss_ref;
    if (vkt_model_ref_forward_backward(&c, ps, pd, B, T, tok, tgt, wd, 1.0 / N, NULL, &loss_ref,
                                       logits_ref, gd, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    // Logits: fp32 through two layers.
    for (int i = 0; i < N * c.vocab; i++)
        if (fabs(logits[i] - logits_ref[i]) > 2e-4 + 2e-4 * fabs(logits_ref[i]))
            fail_msg("logit %d: %.7g vs reference %.7g", i, logits[i], logits_ref[i]);
    if (fabs(loss_sum / N - loss_ref) > 1e-5 + 1e-5 * fabs(loss_ref))
        fail_msg("loss %.9g vs reference %.9g", loss_sum / N, loss_ref);
    // Gradients, per tensor, relative to the tensor's largest gradient.
    for (int t = 0; t < ps->n; t++) {
        const vkt_param *p = &ps->p[t];
        double scale = 0;
        for (uint64_t j = 0; j < p->count; j++) scale = fmax(scale, fabs(gd[p->offset + j]));
        for (uint64_t j = 0; j < p->count; j++) {
            double a = gf[p->offset + j], r = gd[p->offset + j];
            if (fabs(a - r) > 1e-6 + 2e-3 * scale)
                fail_msg("%s[%llu]: gradient %.7g vs reference %.7g (tensor max %.3g)", p->name,
                         (unsigned long long)j, a, r, scale);
        }
        assert_true(scale > 0); // every tensor gets a gradient
    }
    free(pf), free(gf), free(pd), free(gd), free(logits), free(logits_ref);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_gpt2_matches_reference(void **s) { compare_config(tiny(VKT_FAMILY_GPT2)); }
static void test_llama_matches_reference(void **s) { compare_config(tiny(VKT_FAMILY_LLAMA)); }

// Qwen3's shape (head_dim 8 with width 16 and 4 heads: H*D = 32 != C; q/k norms; tied)
// with attention biases (attention_bias) on.
static void test_qwen3_shape_matches_reference(void **s) {
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA);
    c.arch = VKT_ARCH_QWEN3, c.head_dim = 8, c.qk_norm = true, c.qkv_bias = c.o_bias = true;
    c.tied = true, c.rope_theta = 1e6f;
    compare_config(c);
}

// Llama 3.1/3.2: RoPE scaling "llama3", attention_bias and mlp_bias on, tied.
static void test_llama3_features_match_reference(void **s) {
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA);
    c.qkv_bias = c.o_bias = c.mlp_bias = true, c.tied = true, c.rope_theta = 500000.0f;
    c.rope_scaling = (vkt_rope_scaling){VKT_ROPE_LLAMA3, 8.0f, 1.0f, 4.0f, 4};
    compare_config(c);
}

// Qwen2: q/k/v biases only, untied, linear RoPE scaling.
static void test_qwen2_shape_matches_reference(void **s) {
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA);
    c.arch = VKT_ARCH_QWEN2, c.qkv_bias = true, c.rope_theta = 1e6f;
    c.rope_scaling = (vkt_rope_scaling){VKT_ROPE_LINEAR, 2.0f, 0, 0, 0};
    compare_config(c);
}

// 16-bit weights (bf16, fp16): the forward of a model that keeps its matrices in 16 bits
// equals the fp32 model's forward on the same weights rounded to 16 bits (the kernels
// widen exactly and accumulate in fp32), and the frozen backward gives the same input
// gradient path (loss and logits only here: a frozen model has no parameter gradients).
static void check_w16(int w16) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA);
    c.arch = VKT_ARCH_QWEN3, c.head_dim = 8, c.qk_norm = true, c.qkv_bias = c.o_bias = true,
    c.tied = true;
    c.vocab = 41;
    vkt_model *m32 = NULL, *m16 = NULL;
    vkt_model_opts o = {w16, true, VKT_PREC_FP32};
    TEST_OK(ctx, vkt_model_create(ctx, &c, &m32));
    TEST_OK(ctx, vkt_model_create_opts(ctx, &c, &o, &m16));
    TEST_OK(ctx, vkt_model_init(m32, 9));
    const vkt_params *ps = vkt_model_params(m32);
    float *pf = malloc(ps->total * 4), *back = malloc(ps->total * 4);
    TEST_OK(ctx, vkt_model_get_params(m32, pf));
    for (uint64_t i = 0; i < ps->total; i++) pf[i] *= 6.0f;
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].ndim == 1)
            for (uint64_t j = 0; j < ps->p[i].count; j++)
                pf[ps->p[i].offset + j] += 0.01f * (float)(j % 5) + 0.3f;
    TEST_OK(ctx, vkt_model_set_params(m16, pf));
    TEST_OK(ctx, vkt_model_get_params(m16, back)); // the 16-bit values, widened
    int rounded = 0;
    for (int i = 0; i < ps->n; i++)
        for (uint64_t j = 0; j < ps->p[i].count; j++) {
            float a = pf[ps->p[i].offset + j], b = back[ps->p[i].offset + j];
            if (ps->p[i].ndim == 1)
                assert_true(a == b); // norms and biases stay fp32
            else if (fabsf(a - b) > fabsf(a) * (w16 == VKT_W16_BF16 ? 4e-3f : 5e-4f) + 1e-7f)
                fail_msg("%s[%llu]: %g stored as %g", ps->p[i].name, (unsigned long long)j, a, b);
            rounded += a != b;
        }
    assert_true(rounded > 0);
    TEST_OK(ctx, vkt_model_set_params(m32, back));
    const int B = 2, T = 9, N = B * T;
    int32_t tok[18], tgt[18];
    for (int i = 0; i < N; i++) tok[i] = (i * 11 + 2) % c.vocab, tgt[i] = (i * 3 + 5) % c.vocab;
    float *l32 = malloc((size_t)N * c.vocab * 4), *l16 = malloc((size_t)N * c.vocab * 4);
    vkt_model *ms[2] = {m32, m16};
    float *ls[2] = {l32, l16};
    double loss[2], wsum;
    for (int k = 0; k < 2; k++) {
        TEST_OK(ctx, vkt_model_plan(ms[k], B, T));
        TEST_OK(ctx, vkt_model_set_batch(ms[k], tok, tgt, NULL));
        TEST_OK(ctx, vkt_model_forward(ms[k], NULL, NULL));
        TEST_OK(ctx, vkt_download(ctx, vkt_model_logits(ms[k]), ls[k], (uint64_t)N * c.vocab * 4));
        TEST_OK(ctx, k == 1
                         ? vkt_model_backward(ms[k], 1.0f)
                         : vkt_model_loss(ms[k])); // the frozen backward runs (no gradients kept)
        TEST_OK(ctx, vkt_model_read_loss(ms[k], &loss[k], &wsum));
    }
    for (int i = 0; i < N * c.vocab; i++)
        if (fabsf(l32[i] - l16[i]) > 1e-4f + 1e-4f * fabsf(l32[i]))
            fail_msg("logit %d: fp32 %.7g vs 16-bit weights %.7g", i, l32[i], l16[i]);
    assert_true(fabs(loss[0] - loss[1]) <= 1e-5 * fabs(loss[0]));
    float g;
    assert_int_equal(vkt_model_get_grads(m16, &g), VKT_ERR_ARG);
    free(pf), free(back), free(l32), free(l16);
    vkt_model_destroy(m16);
    vkt_model_destroy(m32);
    test_ctx_done(ctx);
}
static void test_bf16_weights(void **s) { check_w16(VKT_W16_BF16); }
static void test_f16_weights(void **s) { check_w16(VKT_W16_F16); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2_matches_reference),
        cmocka_unit_test(test_llama_matches_reference),
        cmocka_unit_test(test_qwen3_shape_matches_reference),
        cmocka_unit_test(test_llama3_features_match_reference),
        cmocka_unit_test(test_qwen2_shape_matches_reference),
        cmocka_unit_test(test_bf16_weights),
        cmocka_unit_test(test_f16_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
