// test_gen_config.c: generation_config.json's sampling defaults (trainer/model/gen_config.h), no
// device: Qwen3's file sets temperature, top-k and top-p unless a flag did; do_sample false is
// greedy; a file without sampling keys, or no file, changes nothing; a bad value names its key.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gen_config.h"
#include "support_files.h"

static void write_cfg(const char *text) {
    char p[4200];
    snprintf(p, sizeof p, "%s/generation_config.json", test_dir());
    test_write_bytes(p, text, strlen(text));
}

static unsigned apply(unsigned given, vkt_gen_opts *o, vkt_status want, vkt_error *err) {
    vkt_gen_defaults(o);
    unsigned applied = 99;
    assert_int_equal(vkt_gen_config_apply(test_dir(), given, o, &applied, err), want);
    return applied;
}

static void qwen3_sampling(void **st) {
    (void)st;
    vkt_gen_opts o;
    vkt_error err = {0};
    assert_int_equal(apply(0, &o, VKT_OK, &err), 0); // no file yet
    assert_true(o.temperature == 1.0 && o.top_k == 0 && o.top_p == 1.0 && !o.greedy);
    write_cfg("{\"bos_token_id\": 151643, \"do_sample\": true, \"eos_token_id\": [151645, 151643],"
              " \"pad_token_id\": 151643, \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95}");
    assert_int_equal(apply(0, &o, VKT_OK, &err),
                     VKT_GENCFG_TEMPERATURE | VKT_GENCFG_TOP_K | VKT_GENCFG_TOP_P);
    assert_true(o.temperature == 0.6 && o.top_k == 20 && o.top_p == 0.95 && !o.greedy);
    // A flag keeps its value.
    assert_int_equal(apply(VKT_GENCFG_TOP_K, &o, VKT_OK, &err),
                     VKT_GENCFG_TEMPERATURE | VKT_GENCFG_TOP_P);
    assert_int_equal(o.top_k, 0);
}

static void greedy_and_silent_files(void **st) {
    (void)st;
    vkt_gen_opts o;
    vkt_error err = {0};
    write_cfg("{\"do_sample\": false, \"temperature\": 0.6}");
    assert_int_equal(apply(0, &o, VKT_OK, &err), VKT_GENCFG_GREEDY);
    assert_true(o.greedy && o.temperature == 1.0);
    assert_int_equal(apply(VKT_GENCFG_TEMPERATURE, &o, VKT_OK, &err),
                     0); // --temperature given: sampled
    assert_false(o.greedy);
    write_cfg("{\"bos_token_id\": 1, \"eos_token_id\": 2}"); // transformers would be greedy; vkt
                                                             // keeps its defaults
    assert_int_equal(apply(0, &o, VKT_OK, &err), 0);
    assert_true(o.temperature == 1.0 && !o.greedy);
}

static void bad_values(void **st) {
    (void)st;
    vkt_gen_opts o;
    vkt_error err = {0};
    static const char *bad[][2] = {{"{\"do_sample\": \"yes\"}", "do_sample"},
                                   {"{\"temperature\": -1}", "temperature"},
                                   {"{\"top_p\": 1.5}", "top_p"},
                                   {"{\"top_k\": 2.5}", "top_k"},
                                   {"[1, 2]", "generation_config.json"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_cfg(bad[i][0]);
        apply(0, &o, VKT_ERR_FORMAT, &err);
        assert_non_null(strstr(err.msg, bad[i][1]));
        assert_non_null(strstr(err.msg, "generation_config.json"));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(qwen3_sampling, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(greedy_and_silent_files, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(bad_values, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
