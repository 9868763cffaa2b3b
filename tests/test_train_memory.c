// test_train_memory.c: the device-memory check of `vkt train --ckpt` through the binary named
// by VKT_BIN (skipped when it is not set), on a tiny Llama trained here: a budget
// (--device-memory, VKT_DEVICE_MEMORY) too small for 8 x 64 tokens a micro-batch is refused
// (exit 2) naming the budget and the --batch/--accum that fits; that setting runs and reports
// its peak; a budget nothing fits in, and a malformed one, are refused; eval honours the
// variable too. `train --adapter` continues an adapter.
#include <setjmp.h>
#include <math.h>
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
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "the quick brown fox jumps over the lazy dog. "[i % 45];
    test_write_bytes(data, text, sizeof text);
    snprintf(args, sizeof args,
             "train --preset llama-tiny --layers 1 --width 32 --heads 2 --data %s --out %s "
             "--steps 1 --batch 2 --seq 16",
             data, base);
    char *err = NULL;
    int rc = test_cli(args, NULL, NULL, &err);
    if (rc != 0) fprintf(stderr, "%s\n", err ? err : "");
    free(err);
    return rc == 0 ? 0 : -1;
}

static int train_lora(const char *out, const char *extra, char **err) {
    snprintf(args, sizeof args,
             "train --ckpt %s --data %s --out %s --overwrite --lora-rank 4 --steps 1 --seq 64 "
             "--eval-every 0 --json %s",
             base, data, test_path(out), extra);
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
    snprintf(args, sizeof args,
             "train --ckpt %s --data %s --out %s --overwrite --lora-rank 4 --steps 1 --seq 64 "
             "--eval-every 0 --json --batch 1 --accum 8",
             base, data, test_path("fit"));
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
    snprintf(args, sizeof args, "train --data %s --out %s --steps 1 --device-memory 4G", data,
             test_path("preset"));
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

// The held-out NLL of the base with an adapter (NULL: none).
static double eval_nll(const char *adapter) {
    char *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "eval --ckpt %s --data %s --ctx 32 --json%s%s", base, data,
             adapter ? " --adapter " : "", adapter ? adapter : "");
    int rc = test_cli(args, NULL, &out, &err);
    if (rc != 0) fail_msg("eval: exit %d: %s", rc, err ? err : "");
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("eval printed no JSON: %s", out);
    double nll = json_number_value(json_object_get(j, "nll"));
    json_decref(j);
    free(out), free(err);
    return nll;
}

// `train --ckpt BASE --adapter DIR` continues DIR's adapter (its rank and alpha): at a
// vanishing learning rate the continued adapter scores as DIR's does, not as the base.
static void test_adapter_continues(void **state) {
    (void)state;
    char *err = NULL;
    assert_int_equal(
        train_lora("a1", "--batch 2 --lora-alpha 16 --lr 1e-2 --warmup 0 --steps 3", &err), 0);
    free(err);
    char a1[4200], a2[4200];
    snprintf(a1, sizeof a1, "%s", test_path("a1"));
    snprintf(a2, sizeof a2, "%s", test_path("a2"));
    snprintf(args, sizeof args,
             "train --ckpt %s --adapter %s --data %s --out %s --steps 1 --batch 2 --seq 64 --lr "
             "1e-12 --warmup 0 --eval-every 0",
             base, a1, data, a2);
    int rc = test_cli(args, NULL, NULL, &err);
    if (rc != 0) fail_msg("exit %d: %s", rc, err ? err : "");
    free(err);
    size_t n;
    char p[4300];
    snprintf(p, sizeof p, "%s/adapter_config.json", a2);
    char *cfg = (char *)test_read_all(p, &n);
    assert_contains(cfg, "\"r\": 4");
    assert_contains(cfg, "\"lora_alpha\": 16");
    free(cfg);
    const double nb = eval_nll(NULL), n1 = eval_nll(a1), n2 = eval_nll(a2);
    print_message("NLL: base %.6f, adapter %.6f, continued %.6f\n", nb, n1, n2);
    assert_true(fabs(n1 - nb) > 1e-4);
    assert_true(fabs(n2 - n1) < fabs(n1 - nb) / 100);
    // Usage: the adapter has its own rank; it adapts a base.
    snprintf(args, sizeof args, "train --ckpt %s --adapter %s --lora-rank 2 --data %s --out %s",
             base, a1, data, test_path("bad"));
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    assert_contains(err, "the adapter has its own rank");
    free(err);
    snprintf(args, sizeof args, "train --adapter %s --data %s --out %s", a1, data,
             test_path("bad"));
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    assert_contains(err, "--adapter: give the base model with --ckpt");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_with_suggestion),
        cmocka_unit_test(test_fitting_setting_runs),
        cmocka_unit_test(test_nothing_fits),
        cmocka_unit_test(test_eval_honours_budget),
        cmocka_unit_test(test_adapter_continues),
    };
    return cmocka_run_group_tests(tests, setup, test_dir_teardown);
}
