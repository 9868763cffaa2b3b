// test_selfplay_precision.c: `vkt selfplay --precision` through the binary ctest names in
// VKT_BIN (skipped when it is not set), with a 1-layer width-32 model: bad values and the
// tabular form refused as usage; LoRA adapters refused with the model's reason (exit 2); a
// bf16 run records "precision" in run_options.json and --resume keeps it unless given, while
// an fp32 run's options have no such field (so they read as they did before the option).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support_cli.h"
#include "support_files.h"

static int skip_without_bin(void **state) {
    (void)state;
    return test_cli_available() ? 0 : -1;
}

static const char *small = "--layers 1 --width 32 --heads 2 --warmup-steps 2 --warmup-rows 8 "
                           "--games-per-update 8 --eval-games 2";

// DIR/NAME/run_options.json's "precision", or NULL (a copy: free it).
static char *saved_precision(const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s/run_options.json", test_dir(), name);
    json_error_t je;
    json_t *j = json_load_file(p, 0, &je);
    if (!j) fail_msg("%s: %s", p, je.text);
    const char *s = json_string_value(json_object_get(j, "precision"));
    char *out = s ? strdup(s) : NULL;
    json_decref(j);
    return out;
}

static void test_refused(void **st) {
    (void)st;
    char *err = NULL;
    assert_int_equal(test_cli("selfplay --precision fp8 --games 0", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "'fp8' is not fp32, bf16 or fp16"));
    free(err);
    assert_int_equal(test_cli("selfplay --policy tabular --precision bf16", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "--precision is not an option here"));
    free(err);
    char *out = NULL;
    assert_int_equal(test_cli("selfplay --help", NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "--precision fp32|bf16|fp16"));
    assert_non_null(strstr(out, "(default fp32)"));
    free(out);
    // LoRA adapters train in fp32: the base of a llama-family run refuses bf16 adapters.
    char args[4096];
    snprintf(args, sizeof args,
             "selfplay --preset llama-tiny %s --warmup-steps 0 --games 0 --out %s/base", small,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 0);
    snprintf(args, sizeof args,
             "selfplay --init %s/base --lora-rank 2 --precision bf16 --games 0 --out %s/lora",
             test_dir(), test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "--precision bf16: model: precision bf16 for LoRA adapters"));
    free(err);
}

static void test_bf16_resume(void **st) {
    (void)st;
    char args[4096];
    snprintf(args, sizeof args, "selfplay %s --games 8 --out %s/fp32 --json", small, test_dir());
    json_t *j = test_cli_json(args);
    assert_non_null(j);
    json_decref(j);
    assert_null(saved_precision("fp32"));
    snprintf(args, sizeof args, "selfplay --precision bf16 %s --games 8 --out %s/bf16 --json",
             small, test_dir());
    j = test_cli_json(args);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "updates")), 1);
    json_decref(j);
    char *p = saved_precision("bf16");
    assert_non_null(p);
    assert_string_equal(p, "bf16");
    free(p);
    // --resume keeps the run's precision ...
    snprintf(args, sizeof args, "selfplay --resume --games 16 --out %s/bf16 --json", test_dir());
    j = test_cli_json(args);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "updates")), 2);
    json_decref(j);
    p = saved_precision("bf16");
    assert_non_null(p);
    assert_string_equal(p, "bf16");
    free(p);
    // ... unless given.
    snprintf(args, sizeof args,
             "selfplay --resume --precision fp32 --games 24 --out %s/bf16 --json", test_dir());
    j = test_cli_json(args);
    assert_non_null(j);
    json_decref(j);
    assert_null(saved_precision("bf16"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_bf16_resume, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, skip_without_bin, NULL);
}
