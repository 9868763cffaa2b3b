// test_model_ref.c: the double-precision reference model against central finite
// differences of its own loss, for a tiny config of each family (GPT-2 with tied
// embeddings, Llama with GQA and untied head), with per-token weights (0 and signed)
// and a steering edit on one block. Also the parameter table and config.json.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model_config.h"
#include "model_ref.h"
#include "support_model.h"

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static vkt_model_config tiny(vkt_family f) {
    return test_config(test_preset(f), (test_shape){.vocab = 11,
                                                    .context = 8,
                                                    .layers = 2,
                                                    .width = 8,
                                                    .ffn = 12,
                                                    .heads = 2,
                                                    .kv_heads = f == VKT_FAMILY_GPT2 ? 2 : 1});
}

// Qwen3: head_dim != width / heads, q/k norms, attention biases.
static vkt_model_config qwen3_features(void) {
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA);
    c.arch = VKT_ARCH_QWEN3, c.head_dim = 6, c.qk_norm = true, c.qkv_bias = c.o_bias = true;
    c.rope_theta = 1e6f;
    return c;
}

// Llama 3.1: attention and MLP biases, RoPE scaling "llama3".
static vkt_model_config llama3_features(void) {
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA);
    c.qkv_bias = c.o_bias = c.mlp_bias = true, c.rope_theta = 500000.0f;
    c.rope_scaling = (vkt_rope_scaling){VKT_ROPE_LLAMA3, 8.0f, 1.0f, 4.0f, 4};
    return c;
}

static void check_fd_config(vkt_model_config c) {
    vkt_params ps;
    vkt_error err = {0};
    if (vkt_params_build(&c, &ps, &err) != VKT_OK) fail_msg("%s", err.msg);
    double *p = malloc(ps.total * sizeof *p), *g = malloc(ps.total * sizeof *g);
    for (uint64_t i = 0; i < ps.total; i++) p[i] = 0.4 * (urand() - 0.5);
    for (int i = 0; i < ps.n; i++) // norm gains near 1, like a real init
        if (ps.p[i].ndim == 1 && strstr(ps.p[i].name, "norm") != NULL)
            for (uint64_t j = 0; j < ps.p[i].count; j++) p[ps.p[i].offset + j] += 1.0;
    const int B = 2, T = 5, N = B * T;
    int32_t tok[10], tgt[10];
    double w[10];
    for (int i = 0; i < N; i++)
        tok[i] = (int32_t)(urand() * c.vocab), tgt[i] = (int32_t)(urand() * c.vocab),
        w[i] = i == 3 ? 0.0 : (i == 7 ? -0.5 : 1.0);
    double edit_v[8];
    for (int i = 0; i < 8; i++) edit_v[i] = urand() - 0.5;
    const double *edit[2] = {edit_v, NULL};
    double loss;
    assert_int_equal(vkt_model_ref_forward_backward(&c, &ps, p, B, T, tok, tgt, w, 1.0 / N, edit,
                                                    &loss, NULL, g, &err),
                     VKT_OK);
    assert_true(isfinite(loss) && loss > 0);
    // Every tensor: its largest-gradient entry and a few random ones.
    const double h = 1e-5, atol = 1e-7, rtol = 1e-5;
    int checked = 0;
    for (int t = 0; t < ps.n; t++) {
        const vkt_param *q = &ps.p[t];
        for (int r = 0; r < 4; r++) {
            uint64_t j = q->offset + (uint64_t)(urand() * (double)q->count);
            double keep = p[j], lp, lm;
            p[j] = keep + h;
            assert_int_equal(vkt_model_ref_forward_backward(&c, &ps, p, B, T, tok, tgt, w, 1.0 / N,
                                                            edit, &lp, NULL, NULL, &err),
                             VKT_OK);
            p[j] = keep - h;
            assert_int_equal(vkt_model_ref_forward_backward(&c, &ps, p, B, T, tok, tgt, w, 1.0 / N,
                                                            edit, &lm, NULL, NULL, &err),
                             VKT_OK);
            p[j] = keep;
            double fd = (lp - lm) / (2 * h);
            // Central differences carry O(h^2) truncation and O(eps/h) rounding error.
            if (!(fabs(fd - g[j]) <= atol + rtol * fabs(fd)))
                fail_msg("%s[%llu]: analytic %.10g vs finite difference %.10g", q->name,
                         (unsigned long long)(j - q->offset), g[j], fd);
            checked++;
        }
    }
    assert_true(checked >= 4 * ps.n);
    // Token 3 has weight 0: changing its target changes nothing.
    double loss2;
    tgt[3] = (tgt[3] + 1) % c.vocab;
    assert_int_equal(vkt_model_ref_forward_backward(&c, &ps, p, B, T, tok, tgt, w, 1.0 / N, edit,
                                                    &loss2, NULL, NULL, &err),
                     VKT_OK);
    assert_true(loss2 == loss);
    free(p), free(g);
    vkt_params_free(&ps);
}

static void test_fd_gpt2(void **s) { check_fd_config(tiny(VKT_FAMILY_GPT2)); }
static void test_fd_llama(void **s) { check_fd_config(tiny(VKT_FAMILY_LLAMA)); }
static void test_fd_qwen3_features(void **s) { check_fd_config(qwen3_features()); }
static void test_fd_llama3_features(void **s) { check_fd_config(llama3_features()); }

// Causality: the logits at position t do not depend on tokens after t.
static void test_causal(void **s) {
    for (int f = 0; f < 2; f++) {
        vkt_model_config c = tiny((vkt_family)f);
        vkt_params ps;
        vkt_error err;
        assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
        double *p = malloc(ps.total * sizeof *p);
        for (uint64_t i = 0; i < ps.total; i++) p[i] = urand() - 0.5;
        int32_t tok[6] = {1, 2, 3, 4, 5, 6}, tgt[6] = {0};
        double *l1 = malloc(6 * (size_t)c.vocab * sizeof *l1),
               *l2 = malloc(6 * (size_t)c.vocab * sizeof *l2);
        assert_int_equal(vkt_model_ref_forward_backward(&c, &ps, p, 1, 6, tok, tgt, NULL, 1, NULL,
                                                        NULL, l1, NULL, &err),
                         VKT_OK);
        tok[4] = 9;
        assert_int_equal(vkt_model_ref_forward_backward(&c, &ps, p, 1, 6, tok, tgt, NULL, 1, NULL,
                                                        NULL, l2, NULL, &err),
                         VKT_OK);
        assert_memory_equal(l1, l2, 4 * (size_t)c.vocab * sizeof *l1);
        assert_memory_not_equal(l1 + 4 * c.vocab, l2 + 4 * c.vocab, (size_t)c.vocab * sizeof *l1);
        free(p), free(l1), free(l2);
        vkt_params_free(&ps);
    }
}

static void test_params_and_config(void **s) {
    vkt_model_config c;
    vkt_params ps;
    vkt_error err;
    assert_int_equal(vkt_model_preset("gpt2-124M", &c, &err), VKT_OK);
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    uint64_t n = 0;
    for (int i = 0; i < ps.n; i++) n += ps.p[i].count;
    assert_int_equal(n, 124439808ull); // GPT-2 small with tied head: 124,439,808 parameters
    const vkt_param *q = vkt_params_by_name(&ps, "transformer.h.11.attn.c_attn.weight");
    assert_non_null(q);
    assert_true(q->shape[0] == 768 && q->shape[1] == 2304); // Conv1D (in, out)
    vkt_params_free(&ps);

    assert_int_equal(vkt_model_preset("llama-tiny", &c, &err), VKT_OK);
    assert_true(c.kv_heads < c.heads);
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    q = vkt_params_by_name(&ps, "model.layers.0.self_attn.k_proj.weight");
    assert_non_null(q);
    assert_true(q->shape[0] == c.kv_heads * vkt_head_dim(&c) &&
                q->shape[1] == c.width); // Linear (out, in)
    assert_non_null(vkt_params_by_name(&ps, "lm_head.weight"));
    vkt_params_free(&ps);

    for (int f = 0; f < 2; f++) {
        assert_int_equal(vkt_model_preset(f ? "llama-tiny" : "gpt2-tiny", &c, &err), VKT_OK);
        char *js;
        assert_int_equal(vkt_model_config_to_json(&c, &js, &err), VKT_OK);
        vkt_model_config back;
        assert_int_equal(vkt_model_config_from_json(js, "config.json", &back, &err), VKT_OK);
        assert_memory_equal(&c, &back, sizeof c);
        free(js);
    }
    assert_int_equal(
        vkt_model_config_from_json("{\"model_type\": \"bert\"}", "x/config.json", &c, &err),
        VKT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "x/config.json"));
    assert_non_null(strstr(err.msg, "bert"));
    assert_int_equal(vkt_model_config_from_json("{\"model_type\": \"llama\", \"vocab_size\": 10",
                                                "c.json", &c, &err),
                     VKT_ERR_FORMAT);
    assert_int_equal(vkt_model_preset("gpt5", &c, &err), VKT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_config),  cmocka_unit_test(test_fd_gpt2),
        cmocka_unit_test(test_fd_llama),           cmocka_unit_test(test_fd_qwen3_features),
        cmocka_unit_test(test_fd_llama3_features), cmocka_unit_test(test_causal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
