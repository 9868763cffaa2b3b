// test_model_config.c: config.json is read strictly: a duplicate key, a wrongly typed field
// and a size whose derived sizes overflow are errors naming the key, never a silent default.
// Each pretrained architecture (llama, mistral, qwen2, qwen3) reads as transformers reads it,
// round-trips through to_json, and builds its parameter table in transformers' names.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model_config.h"

#define GPT2                                                                                       \
    "\"model_type\": \"gpt2\", \"vocab_size\": 300, \"n_positions\": 32, \"n_layer\": 1, "         \
    "\"n_head\": 2"
#define LLAMA                                                                                      \
    "\"model_type\": \"llama\", \"vocab_size\": 300, \"max_position_embeddings\": 32, "            \
    "\"hidden_size\": 16, "                                                                        \
    "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 32"

static void expect_bad(const char *json, const char *want) {
    vkt_model_config c;
    vkt_error err = {0};
    vkt_status s = vkt_model_config_from_json(json, "d/config.json", &c, &err);
    if (s == VKT_OK) fail_msg("accepted: %s", json);
    if (!strstr(err.msg, want) || !strstr(err.msg, "d/config.json"))
        fail_msg("'%s' not in: %s (for %s)", want, err.msg, json);
}

static void test_good(void **state) {
    vkt_model_config c;
    vkt_error err = {0};
    assert_int_equal(vkt_model_config_from_json("{" GPT2 ", \"n_embd\": 16}", "c", &c, &err),
                     VKT_OK);
    assert_true(c.tied);
    assert_int_equal(c.ffn, 64);
    assert_int_equal(vkt_model_config_from_json("{" GPT2
                                                ", \"n_embd\": 16, \"tie_word_embeddings\": false, "
                                                "\"n_inner\": null}",
                                                "c", &c, &err),
                     VKT_OK);
    assert_false(c.tied);
    assert_int_equal(
        vkt_model_config_from_json("{" LLAMA ", \"tie_word_embeddings\": true}", "c", &c, &err),
        VKT_OK);
    assert_true(c.tied);
}

static void test_duplicate_keys(void **state) {
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"n_embd\": 32}", "n_embd");
    expect_bad("{" LLAMA ", \"hidden_size\": 16}", "hidden_size");
}

static void test_wrong_types(void **state) {
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"tie_word_embeddings\": \"yes\"}",
               "tie_word_embeddings");
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"tie_word_embeddings\": 1}", "tie_word_embeddings");
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"layer_norm_epsilon\": \"1e-5\"}",
               "layer_norm_epsilon");
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"layer_norm_epsilon\": -1}", "layer_norm_epsilon");
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"activation_function\": 3}", "activation_function");
    expect_bad("{" GPT2 ", \"n_embd\": \"16\"}", "n_embd");
    expect_bad("{\"model_type\": 2}", "model_type");
    expect_bad("{" LLAMA ", \"rope_theta\": \"1e4\"}", "rope_theta");
    expect_bad("{" LLAMA ", \"rms_norm_eps\": [1]}", "rms_norm_eps");
    expect_bad("{" LLAMA ", \"attention_bias\": \"no\"}", "attention_bias");
    expect_bad("{" LLAMA ", \"hidden_act\": false}", "hidden_act");
}

// n_embd = 2^30 made 4 * n_embd (the default n_inner) overflow int (UBSan).
static void test_size_overflow(void **state) {
    expect_bad("{" GPT2 ", \"n_embd\": 1073741824}", "n_embd");
    expect_bad("{" GPT2 ", \"n_embd\": 1073741825}", "n_embd");
    // Sizes past what vkt can hold: refused before any table is built.
    vkt_model_config big;
    vkt_error e2 = {0};
    assert_int_not_equal(
        vkt_model_config_from_json("{\"model_type\": \"gpt2\", \"vocab_size\": 300, "
                                   "\"n_positions\": 32, \"n_layer\": 1111842, \"n_head\": 2, "
                                   "\"n_embd\": 16}",
                                   "c", &big, &e2),
        VKT_OK);
    assert_non_null(strstr(e2.msg, "1111842 layers"));
}

// Tiny configs of each pretrained architecture, as their config.json spells them.
#define SHAPE                                                                                      \
    "\"vocab_size\": 300, \"max_position_embeddings\": 64, \"hidden_size\": 32, "                  \
    "\"num_hidden_layers\": 2, "                                                                   \
    "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 48"
static const char *LLAMA32 =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", " SHAPE
    ", \"head_dim\": 8, "
    "\"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, "
    "\"low_freq_factor\": 1.0, \"original_max_position_embeddings\": 8192, \"rope_type\": "
    "\"llama3\"}, "
    "\"attention_bias\": true, \"mlp_bias\": true, \"tie_word_embeddings\": true, \"hidden_act\": "
    "\"silu\", "
    "\"rms_norm_eps\": 1e-05, \"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008, "
    "128009]}";
static const char *MISTRAL =
    "{\"architectures\": [\"MistralForCausalLM\"], \"model_type\": \"mistral\", " SHAPE
    ", \"sliding_window\": 16, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}";
static const char *QWEN25 =
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", " SHAPE
    ", \"use_sliding_window\": false, \"sliding_window\": 32768, \"max_window_layers\": 21, "
    "\"tie_word_embeddings\": true, \"rope_scaling\": null, \"rope_theta\": 1000000.0}";
// Qwen3: head_dim absent means 128 (Qwen3Config), so H * D = 512 != C = 32.
static const char *QWEN3 =
    "{\"architectures\": [\"Qwen3ForCausalLM\"], \"model_type\": \"qwen3\", " SHAPE
    ", \"tie_word_embeddings\": true, \"rope_scaling\": {\"rope_type\": \"default\"}}";

static vkt_model_config read_ok(const char *json) {
    vkt_model_config c;
    vkt_error err = {0};
    if (vkt_model_config_from_json(json, "c", &c, &err) != VKT_OK)
        fail_msg("%s (for %s)", err.msg, json);
    return c;
}

static void test_archs(void **state) {
    vkt_model_config c = read_ok(LLAMA32);
    assert_int_equal(c.arch, VKT_ARCH_LLAMA);
    assert_true(c.qkv_bias && c.o_bias && c.mlp_bias && c.tied && !c.qk_norm && !c.bias);
    assert_int_equal(c.head_dim, 8);
    assert_int_equal(c.rope_scaling.type, VKT_ROPE_LLAMA3);
    assert_true(c.rope_scaling.factor == 32.0f && c.rope_scaling.low_freq_factor == 1.0f);
    assert_true(c.rope_scaling.high_freq_factor == 4.0f && c.rope_scaling.original_context == 8192);
    assert_true(c.rope_theta == 500000.0f && c.eps == 1e-5f);

    c = read_ok(MISTRAL);
    assert_int_equal(c.arch, VKT_ARCH_MISTRAL);
    assert_int_equal(c.sliding_window, 16);
    assert_true(!c.qkv_bias && !c.o_bias && !c.mlp_bias && !c.tied);
    assert_int_equal(c.rope_scaling.type, VKT_ROPE_LINEAR);
    assert_true(c.rope_scaling.factor == 2.0f);
    assert_int_equal(read_ok("{\"model_type\": \"mistral\", " SHAPE ", \"sliding_window\": null}")
                         .sliding_window,
                     0);
    assert_int_equal(read_ok("{\"model_type\": \"mistral\", " SHAPE "}").sliding_window,
                     4096); // MistralConfig

    c = read_ok(QWEN25);
    assert_int_equal(c.arch, VKT_ARCH_QWEN2);
    assert_true(c.qkv_bias && !c.o_bias && !c.mlp_bias && c.tied);
    assert_int_equal(c.sliding_window, 0); // use_sliding_window false
    assert_int_equal(read_ok("{\"model_type\": \"qwen2\", " SHAPE ", \"use_sliding_window\": true, "
                             "\"sliding_window\": 16, \"max_window_layers\": 0}")
                         .sliding_window,
                     16);
    assert_int_equal(read_ok("{\"model_type\": \"qwen2\", " SHAPE ", \"use_sliding_window\": true, "
                             "\"sliding_window\": 16}")
                         .sliding_window,
                     0); // max_window_layers 28 >= 2 layers: no layer slides

    c = read_ok(QWEN3);
    assert_int_equal(c.arch, VKT_ARCH_QWEN3);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(vkt_q_width(&c), 512);
    assert_true(c.qk_norm && !c.qkv_bias && !c.o_bias && c.tied);
    assert_int_equal(c.rope_scaling.type, VKT_ROPE_PLAIN);
}

// from_json(to_json(c)) == c, bytewise, for every architecture; to_json_ids leaves ids out.
static void test_roundtrip(void **state) {
    const char *all[] = {LLAMA32,
                         MISTRAL,
                         QWEN25,
                         QWEN3,
                         "{\"model_type\": \"qwen2\", " SHAPE ", \"use_sliding_window\": true, "
                         "\"sliding_window\": 16, \"max_window_layers\": 0}",
                         "{\"model_type\": \"qwen3\", " SHAPE
                         ", \"head_dim\": 16, \"attention_bias\": true}",
                         "{" GPT2 ", \"n_embd\": 16}",
                         "{" LLAMA "}"};
    for (int i = 0; i < 8; i++) {
        vkt_model_config c = read_ok(all[i]), back;
        vkt_error err = {0};
        char *js;
        assert_int_equal(vkt_model_config_to_json(&c, &js, &err), VKT_OK);
        assert_non_null(strstr(js, "\"bos_token_id\": 256"));
        back = read_ok(js);
        assert_memory_equal(&c, &back, sizeof c);
        free(js);
        assert_int_equal(vkt_model_config_to_json_ids(&c, -1, -1, &js, &err), VKT_OK);
        assert_null(strstr(js, "bos_token_id"));
        assert_null(strstr(js, "eos_token_id"));
        back = read_ok(js);
        assert_memory_equal(&c, &back, sizeof c);
        free(js);
    }
}

static void expect_status(const char *json, vkt_status want_status, const char *want) {
    vkt_model_config c;
    vkt_error err = {0};
    vkt_status s = vkt_model_config_from_json(json, "d/config.json", &c, &err);
    if (s != want_status)
        fail_msg("status %d, not %d, for %s: %s", (int)s, (int)want_status, json, err.msg);
    if (!strstr(err.msg, want) || !strstr(err.msg, "d/config.json"))
        fail_msg("'%s' not in: %s (for %s)", want, err.msg, json);
}

static void test_arch_errors(void **state) {
    expect_status("{\"model_type\": \"gemma\", " SHAPE "}", VKT_ERR_UNSUPPORTED, "gemma");
    expect_status("{\"model_type\": \"llama\", " SHAPE
                  ", \"rope_scaling\": {\"rope_type\": \"dynamic\", "
                  "\"factor\": 2.0}}",
                  VKT_ERR_UNSUPPORTED, "dynamic");
    expect_status("{\"model_type\": \"llama\", " SHAPE ", \"hidden_act\": \"gelu\"}",
                  VKT_ERR_UNSUPPORTED, "hidden_act");
    expect_status("{\"model_type\": \"llama\", " SHAPE
                  ", \"architectures\": [\"LlamaForSequenceClassification\"]}",
                  VKT_ERR_UNSUPPORTED, "LlamaForSequenceClassification");
    expect_status("{\"model_type\": \"qwen2\", " SHAPE
                  ", \"architectures\": [\"LlamaForCausalLM\"]}",
                  VKT_ERR_UNSUPPORTED, "LlamaForCausalLM");
    expect_status("{\"model_type\": \"qwen2\", " SHAPE
                  ", \"use_sliding_window\": true, \"sliding_window\": 8, "
                  "\"max_window_layers\": 1}",
                  VKT_ERR_UNSUPPORTED, "max_window_layers");
    expect_status("{\"model_type\": \"llama\", " SHAPE ", \"architectures\": \"LlamaForCausalLM\"}",
                  VKT_ERR_FORMAT, "architectures");
    // contradictory or malformed fields name the field
    expect_status(
        "{\"model_type\": \"llama\", \"vocab_size\": 300, \"max_position_embeddings\": 64, "
        "\"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 3, \"intermediate_size\": 48}",
        VKT_ERR_FORMAT, "num_key_value_heads");
    expect_status("{\"model_type\": \"llama\", " SHAPE ", \"head_dim\": 7}", VKT_ERR_FORMAT,
                  "head_dim");
    expect_status(
        "{\"model_type\": \"llama\", \"vocab_size\": 300, \"max_position_embeddings\": 64, "
        "\"hidden_size\": 30, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
        "\"intermediate_size\": 48}",
        VKT_ERR_FORMAT, "hidden_size");
    expect_status(
        "{\"model_type\": \"llama\", " SHAPE ", \"rope_scaling\": {\"rope_type\": \"llama3\", "
        "\"factor\": 8.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}}",
        VKT_ERR_FORMAT, "low_freq_factor");
    expect_status("{\"model_type\": \"llama\", " SHAPE
                  ", \"rope_scaling\": {\"rope_type\": \"llama3\", "
                  "\"factor\": 8.0, \"low_freq_factor\": 4.0, \"high_freq_factor\": 1.0, "
                  "\"original_max_position_embeddings\": 8192}}",
                  VKT_ERR_FORMAT, "high_freq_factor");
    expect_status("{\"model_type\": \"llama\", " SHAPE
                  ", \"rope_scaling\": {\"rope_type\": \"linear\"}}",
                  VKT_ERR_FORMAT, "factor");
    expect_status("{\"model_type\": \"llama\", " SHAPE ", \"rope_scaling\": 2}", VKT_ERR_FORMAT,
                  "rope_scaling");
    expect_status("{\"model_type\": \"llama\", " SHAPE ", \"rope_scaling\": {\"factor\": 2}}",
                  VKT_ERR_FORMAT, "rope_type");
    expect_status("{\"model_type\": \"mistral\", " SHAPE ", \"sliding_window\": \"4096\"}",
                  VKT_ERR_FORMAT, "sliding_window");
    expect_status("{\"model_type\": \"qwen3\", " SHAPE ", \"mlp_bias\": false, \"head_dim\": 1.5}",
                  VKT_ERR_FORMAT, "head_dim");
}

// Names and shapes in transformers' order; the presets' tables are as before.
static void test_param_tables(void **state) {
    vkt_model_config c = read_ok(LLAMA32);
    vkt_params ps;
    vkt_error err = {0};
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    const char *l0[] = {"input_layernorm.weight", "self_attn.q_proj.weight",
                        "self_attn.q_proj.bias",  "self_attn.k_proj.weight",
                        "self_attn.k_proj.bias",  "self_attn.v_proj.weight",
                        "self_attn.v_proj.bias",  "self_attn.o_proj.weight",
                        "self_attn.o_proj.bias",  "post_attention_layernorm.weight",
                        "mlp.gate_proj.weight",   "mlp.gate_proj.bias",
                        "mlp.up_proj.weight",     "mlp.up_proj.bias",
                        "mlp.down_proj.weight",   "mlp.down_proj.bias"};
    assert_int_equal(ps.n, 1 + 2 * 16 + 1); // tied: no lm_head
    for (int i = 0; i < 16; i++) {
        char want[96];
        snprintf(want, sizeof want, "model.layers.0.%s", l0[i]);
        assert_string_equal(ps.p[1 + i].name, want);
        assert_int_equal(ps.p[1 + i].layer, 0);
        assert_int_equal(ps.p[1 + i].decay, ps.p[1 + i].ndim == 2);
    }
    const vkt_param *p = vkt_params_find(&ps, VKT_P_K_B, 1);
    assert_true(p && p->ndim == 1 && p->shape[0] == 16); // KV = 2 * 8
    p = vkt_params_find(&ps, VKT_P_UP_B, 1);
    assert_true(p && p->shape[0] == 48);
    p = vkt_params_find(&ps, VKT_P_PROJ_B, 0);
    assert_true(p && p->shape[0] == 32);
    vkt_params_free(&ps);

    c = read_ok(QWEN3);
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    assert_int_equal(ps.n, 1 + 2 * 11 + 1);
    p = vkt_params_by_name(&ps, "model.layers.1.self_attn.q_proj.weight");
    assert_true(p && p->shape[0] == 512 && p->shape[1] == 32); // (H * D, C)
    p = vkt_params_by_name(&ps, "model.layers.1.self_attn.o_proj.weight");
    assert_true(p && p->shape[0] == 32 && p->shape[1] == 512); // (C, H * D)
    p = vkt_params_by_name(&ps, "model.layers.1.self_attn.k_proj.weight");
    assert_true(p && p->shape[0] == 256 && p->shape[1] == 32); // (KV, C)
    p = vkt_params_by_name(&ps, "model.layers.1.self_attn.q_norm.weight");
    assert_true(p && p->kind == VKT_P_Q_NORM && p->shape[0] == 128 && !p->decay);
    assert_string_equal(ps.p[6].name, "model.layers.0.self_attn.q_norm.weight"); // after o_proj
    assert_string_equal(ps.p[7].name, "model.layers.0.self_attn.k_norm.weight");
    vkt_params_free(&ps);

    c = read_ok(QWEN25);
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    assert_int_equal(ps.n, 1 + 2 * 12 + 1);
    assert_non_null(vkt_params_by_name(&ps, "model.layers.0.self_attn.v_proj.bias"));
    assert_null(vkt_params_by_name(&ps, "model.layers.0.self_attn.o_proj.bias"));
    vkt_params_free(&ps);

    // llama-tiny: as it always was (9 tensors a layer, offsets 64-float aligned).
    assert_int_equal(vkt_model_preset("llama-tiny", &c, &err), VKT_OK);
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    assert_int_equal(ps.n, 1 + 4 * 9 + 2);
    assert_string_equal(ps.p[2].name, "model.layers.0.self_attn.q_proj.weight");
    assert_int_equal(ps.total, 264 * 128 * 2 +
                                   4 * (128 * 2 + 128 * 128 * 2 + 64 * 128 * 2 + 352 * 128 * 3) +
                                   128);
    vkt_params_free(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_wrong_types), cmocka_unit_test(test_size_overflow),
        cmocka_unit_test(test_archs),       cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_arch_errors), cmocka_unit_test(test_param_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
