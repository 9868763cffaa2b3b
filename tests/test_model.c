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
    assert_int_equal(vkt_model_preset(f == VKT_FAMILY_GPT2 ? "gpt2-tiny" : "llama-tiny", &c, &err), VKT_OK);
    c.vocab = 37, c.context = 16, c.layers = 2, c.width = 16, c.ffn = 24;
    c.heads = 4, c.kv_heads = f == VKT_FAMILY_GPT2 ? 4 : 2;
    return c;
}

static void compare_family(vkt_family fam) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(fam);
    vkt_model *m = NULL;
    vkt_error err = {0};
    if (vkt_model_create(ctx, &c, &m, &err) != VKT_OK) fail_msg("%s", err.msg);
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
                pf[ps->p[i].offset + j] = (ps->p[i].kind == VKT_P_LN1_W || ps->p[i].kind == VKT_P_LN2_W ||
                                           ps->p[i].kind == VKT_P_LNF_W)
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
    TEST_OK(ctx, vkt_model_loss(m, 1.0f / N, true));
    double loss_sum, wsum;
    TEST_OK(ctx, vkt_model_read_loss(m, &loss_sum, &wsum));
    TEST_OK(ctx, vkt_model_get_grads(m, gf));

    double loss_ref;
    if (vkt_model_ref_forward_backward(&c, ps, pd, B, T, tok, tgt, wd, 1.0 / N, NULL, &loss_ref, logits_ref, gd,
                                       &err) != VKT_OK)
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
                fail_msg("%s[%llu]: gradient %.7g vs reference %.7g (tensor max %.3g)", p->name, (unsigned long long)j, a,
                         r, scale);
        }
        assert_true(scale > 0); // every tensor gets a gradient
    }
    free(pf), free(gf), free(pd), free(gd), free(logits), free(logits_ref);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_gpt2_matches_reference(void **s) { compare_family(VKT_FAMILY_GPT2); }
static void test_llama_matches_reference(void **s) { compare_family(VKT_FAMILY_LLAMA); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2_matches_reference),
        cmocka_unit_test(test_llama_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
