// test_train_memory.c: the device-memory check of `vkt train --ckpt` through the binary named
// by VKT_BIN (skipped when it is not set), on a tiny Llama trained here: a budget
// (--device-memory, VKT_DEVICE_MEMORY) too small for 8 x 64 tokens a micro-batch is refused
// (exit 2) naming the budget and the --batch/--accum that fits; that setting runs and reports
// its peak; a budget nothing fits in, and a malformed one, are refused; eval honours the
// variable too.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "support_cli.h"
#include "support_files.h"

// The tiny model's LoRA run needs ~0.5 MiB at 1 x 64 tokens and ~0.85 MiB at 2 x 64.
#define BUDGET "680K"

static char base[4200], data[4200], args[16384];

static void assert_contains(const char *msg, const char *want) {
    if (!msg || !strstr(msg, want)) fail_msg("'%s' not in: %s", want, msg ? msg : "(null)");
}

// A text and a one-step llama checkpoint (byte tokenizer) to start LoRA runs from.
static int setup(void **state) {
    if (!test_cli_available()) return -1;
    if (test_dir_setup(state) != 0) return -1;
    snprintf(base, sizeof base, "%s", test_path("base"));
    snprintf(data, sizeof data, "%s", test_path("text.txt"));
    char text[20000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "the quick brown fox jumps over the lazy dog. "[i % 45];
    test_write_bytes(data, text, sizeof text);
    snprintf(args, sizeof args, "train --preset llama-tiny --layers 1 --width 32 --heads 2 --data %s --out %s "
             "--steps 1 --batch 2 --seq 16", data, base);
    char *err = NULL;
    int rc = test_cli(args, NULL, NULL, &err);
    if (rc != 0) fprintf(stderr, "%s\n", err ? err : "");
    free(err);
    return rc == 0 ? 0 : -1;
}

static int train_lora(const char *out, const char *extra, char **err) {
    snprintf(args, sizeof args, "train --ckpt %s --data %s --out %s --overwrite --lora-rank 4 --steps 1 --seq 64 "
             "--eval-every 0 --json %s", base, data, test_path(out), extra);
    return test_cli(args, NULL, NULL, err);
}

static void test_refused_with_suggestion(void **state) {
    (void)state;
    char *err = NULL;
    assert_int_equal(train_lora("big", "--batch 8 --device-memory " BUDGET, &err), 2);
    assert_contains(err, "the activations of 8 x 64 tokens need");
    assert_contains(err, "the memory budget (--device-memory, VKT_DEVICE_MEMORY) is 680.0 KiB");
    assert_contains(err, "(--batch 1 --accum 8 keeps the step at 8 x 64 tokens and needs ");
    free(err);
    // A step of 4 x 2 rows keeps 4 x 2: --batch 1 --accum 8.
    assert_int_equal(train_lora("big", "--batch 4 --accum 2 --device-memory " BUDGET, &err), 2);
    assert_contains(err, "(--batch 1 --accum 8 keeps the step at 8 x 64 tokens");
    free(err);
}

static void test_fitting_setting_runs(void **state) {
    (void)state;
    setenv("VKT_DEVICE_MEMORY", BUDGET, 1);
    char *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "train --ckpt %s --data %s --out %s --overwrite --lora-rank 4 --steps 1 --seq 64 "
             "--eval-every 0 --json --batch 1 --accum 8", base, data, test_path("fit"));
    int rc = test_cli(args, NULL, &out, &err);
    unsetenv("VKT_DEVICE_MEMORY");
    if (rc != 0) fail_msg("exit %d: %s", rc, err ? err : "");
    assert_contains(err, "the memory budget (--device-memory, VKT_DEVICE_MEMORY) is 680.0 KiB");
    assert_contains(err, "vkt train: peak device memory ");
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "steps")), 1);
    assert_true(json_integer_value(json_object_get(j, "peak_device_bytes")) > 500 * 1024);
    json_decref(j);
    free(out), free(err);
}

static void test_nothing_fits(void **state) {
    (void)state;
    char *err = NULL;
    assert_int_equal(train_lora("none", "--batch 8 --device-memory 64K", &err), 2);
    assert_contains(err, "is 64.0 KiB (even --batch 1 --seq 1 needs ");
    free(err);
    assert_int_equal(train_lora("none", "--batch 8 --device-memory 4X", &err), 2);
    assert_contains(err, "--device-memory: '4X' is not a size");
    free(err);
    snprintf(args, sizeof args, "train --data %s --out %s --steps 1 --device-memory 4G", data, test_path("preset"));
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    assert_contains(err, "--device-memory: the fit check is for --ckpt runs");
    free(err);
}

static void test_eval_honours_budget(void **state) {
    (void)state;
    setenv("VKT_DEVICE_MEMORY", "1K", 1);
    char *err = NULL;
    snprintf(args, sizeof args, "eval --ckpt %s --data %s", base, data);
    int rc = test_cli(args, NULL, NULL, &err);
    unsetenv("VKT_DEVICE_MEMORY");
    assert_int_equal(rc, 1);
    assert_contains(err, "the budget VKT_DEVICE_MEMORY is");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_with_suggestion),
        cmocka_unit_test(test_fitting_setting_runs),
        cmocka_unit_test(test_nothing_fits),
        cmocka_unit_test(test_eval_honours_budget),
    };
    return cmocka_run_group_tests(tests, setup, test_dir_teardown);
}
