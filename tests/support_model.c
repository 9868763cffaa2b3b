// support_model.c: tiny models for tests (see support_model.h).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "support_gpu.h"
#include "support_model.h"

vkt_model_config test_config(const char *preset, test_shape s) {
    vkt_model_config c;
    vkt_error err = {0};
    if (vkt_model_preset(preset, &c, &err) != VKT_OK) fail_msg("%s", err.msg);
    if (s.vocab) c.vocab = s.vocab;
    if (s.context) c.context = s.context;
    if (s.layers) c.layers = s.layers;
    if (s.width) c.width = s.width;
    if (s.ffn) c.ffn = s.ffn;
    if (s.heads) c.heads = s.heads;
    if (s.kv_heads) c.kv_heads = s.kv_heads;
    return c;
}

const char *test_preset(vkt_family f) { return f == VKT_FAMILY_GPT2 ? "gpt2-tiny" : "llama-tiny"; }

vkt_model *test_model_new(vkt_ctx *ctx, const vkt_model_config *c, uint64_t seed) {
    vkt_model *m = NULL;
    TEST_OK(ctx, vkt_model_create(ctx, c, &m));
    TEST_OK(ctx, vkt_model_init(m, seed));
    return m;
}

vkt_model *test_gpt2(vkt_ctx *ctx, int layers, int context, uint64_t seed) {
    test_shape s = {
        .context = context, .layers = layers, .width = 32, .ffn = 64, .heads = 2, .kv_heads = 2};
    vkt_model_config c = test_config("gpt2-tiny", s);
    return test_model_new(ctx, &c, seed);
}

// The parameters times gain, not yet set (malloc'd).
static float *scaled(vkt_ctx *ctx, vkt_model *m, float gain) {
    const vkt_params *ps = vkt_model_params(m);
    float *p = malloc(ps->total * sizeof *p);
    assert_non_null(p);
    TEST_OK(ctx, vkt_model_get_params(m, p));
    for (uint64_t i = 0; i < ps->total; i++) p[i] *= gain;
    return p;
}

float *test_model_scale(vkt_ctx *ctx, vkt_model *m, float gain) {
    float *p = scaled(ctx, m, gain);
    TEST_OK(ctx, vkt_model_set_params(m, p));
    return p;
}

float *test_model_vivid(vkt_ctx *ctx, vkt_model *m, float gain) {
    const vkt_params *ps = vkt_model_params(m);
    float *p = scaled(ctx, m, gain);
    for (int i = 0; i < ps->n; i++) {
        const vkt_param *q = &ps->p[i];
        if (q->ndim != 1) continue;
        bool norm = q->kind == VKT_P_LN1_W || q->kind == VKT_P_LN2_W || q->kind == VKT_P_LNF_W ||
                    q->kind == VKT_P_Q_NORM || q->kind == VKT_P_K_NORM;
        for (uint64_t j = 0; j < q->count; j++)
            p[q->offset + j] =
                norm ? 1.0f + 0.1f * (float)((j * 7) % 5) : 0.05f * (float)((j * 3) % 7) - 0.1f;
    }
    TEST_OK(ctx, vkt_model_set_params(m, p));
    return p;
}
