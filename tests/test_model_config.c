// test_model_config.c: config.json is read strictly (issue 22): a duplicate key, a wrongly
// typed field and a size whose derived sizes overflow are errors naming the key, never a
// silent default.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model_config.h"

#define GPT2 "\"model_type\": \"gpt2\", \"vocab_size\": 300, \"n_positions\": 32, \"n_layer\": 1, \"n_head\": 2"
#define LLAMA                                                                                                   \
    "\"model_type\": \"llama\", \"vocab_size\": 300, \"max_position_embeddings\": 32, \"hidden_size\": 16, " \
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
    assert_int_equal(vkt_model_config_from_json("{" GPT2 ", \"n_embd\": 16}", "c", &c, &err), VKT_OK);
    assert_true(c.tied);
    assert_int_equal(c.ffn, 64);
    assert_int_equal(vkt_model_config_from_json("{" GPT2 ", \"n_embd\": 16, \"tie_word_embeddings\": false, "
                                                "\"n_inner\": null}", "c", &c, &err), VKT_OK);
    assert_false(c.tied);
    assert_int_equal(vkt_model_config_from_json("{" LLAMA ", \"tie_word_embeddings\": true}", "c", &c, &err), VKT_OK);
    assert_true(c.tied);
}

static void test_duplicate_keys(void **state) {
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"n_embd\": 32}", "n_embd");
    expect_bad("{" LLAMA ", \"hidden_size\": 16}", "hidden_size");
}

static void test_wrong_types(void **state) {
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"tie_word_embeddings\": \"yes\"}", "tie_word_embeddings");
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"tie_word_embeddings\": 1}", "tie_word_embeddings");
    expect_bad("{" GPT2 ", \"n_embd\": 16, \"layer_norm_epsilon\": \"1e-5\"}", "layer_norm_epsilon");
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
    assert_int_not_equal(vkt_model_config_from_json("{\"model_type\": \"gpt2\", \"vocab_size\": 300, "
                                                    "\"n_positions\": 32, \"n_layer\": 1111842, \"n_head\": 2, "
                                                    "\"n_embd\": 16}",
                                                    "c", &big, &e2),
                         VKT_OK);
    assert_non_null(strstr(e2.msg, "1111842 layers"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_size_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
