// test_selfplay_ckpt.c: `vkt selfplay --out DIR` as a run directory of checkpoint_dir.h.
// A manifest lists a subdirectory's files (self-play's ref/) and catches a change in one;
// a run's saves are whole checkpoints (model, moments, rl_state.json, run_options.json,
// ref/) with the kind "selfplay"; a second run needs --resume or --overwrite; vkt train and
// vkt selfplay refuse each other's directories; --resume skips a checkpoint whose
// rl_state.json changed for the older one --keep-last kept, and refuses it when none is
// left, naming the file; a directory of an older vkt (files at the top) still resumes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint_dir.h"
#include "support_cli.h"
#include "support_files.h"

static void put(const char *path, const char *text) { test_write_bytes(path, text, strlen(text)); }

// Flips the first byte of path (same size: only the hash can tell).
static void flip(const char *path) {
    size_t n;
    unsigned char *b = test_read_all(path, &n);
    assert_true(n > 0);
    b[0] ^= 1;
    test_write_bytes(path, b, n);
    free(b);
}

static void test_manifest_subdir(void **state) {
    (void)state;
    vkt_ckpt_tx tx;
    vkt_error err = {0};
    char p[4400];
    assert_int_equal(vkt_ckpt_begin(test_dir(), &tx, &err), VKT_OK);
    tx.kind = VKT_RUNDIR_SELFPLAY;
    snprintf(p, sizeof p, "%s/rl_state.json", tx.tmp), put(p, "{}");
    snprintf(p, sizeof p, "%s/ref", tx.tmp);
    test_sh("mkdir '%s'", p);
    snprintf(p, sizeof p, "%s/ref/model.safetensors", tx.tmp), put(p, "weights");
    assert_int_equal(vkt_ckpt_commit(&tx, 3, 1, &err), VKT_OK);
    char gen[600];
    snprintf(gen, sizeof gen, "%s/ckpt-3", test_dir());
    int64_t step = -1;
    assert_int_equal(vkt_ckpt_manifest_verify(gen, &step, &err), VKT_OK);
    assert_int_equal(step, 3);
    assert_int_equal(vkt_ckpt_dir_kind(test_dir()), VKT_RUNDIR_SELFPLAY);
    snprintf(p, sizeof p, "%s/ref/model.safetensors", gen);
    flip(p);
    assert_int_not_equal(vkt_ckpt_manifest_verify(gen, &step, &err), VKT_OK);
    if (!strstr(err.msg, "ref/model.safetensors") || !strstr(err.msg, "hash"))
        fail_msg("%s", err.msg);
    flip(p); // restored
    assert_int_equal(vkt_ckpt_manifest_verify(gen, &step, &err), VKT_OK);
    snprintf(p, sizeof p, "%s/ref/extra.json", gen), put(p, "{}"); // a file beside the listed ones
    assert_int_not_equal(vkt_ckpt_manifest_verify(gen, &step, &err), VKT_OK);
    if (!strstr(err.msg, "ref/extra.json") || !strstr(err.msg, "not in the manifest"))
        fail_msg("%s", err.msg);
    // Removing the run removes the subdirectory with it.
    assert_int_equal(vkt_ckpt_clear(test_dir(), &err), VKT_OK);
    assert_int_not_equal(access(gen, F_OK), 0);
}

// What each command makes of the other's directory, before opening a device.
static void test_kinds_refused(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    char args[2048], *e = NULL;
    const char *sp = test_path("sp");
    test_sh("mkdir -p '%s/ckpt-1'", sp);
    put(test_path("sp/checkpoint.json"),
        "{\"format\": \"vkt checkpoint\", \"kind\": \"selfplay\", \"step\": 1}");
    put(test_path("data.txt"),
        "abc def ghi jkl mno pqr stu vwx yz abc def ghi jkl mno pqr stu vwx yz");
    snprintf(args, sizeof args, "train --data %s --out %s --overwrite --steps 1",
             test_path("data.txt"), sp);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 2);
    if (!strstr(e, "self-play run") || !strstr(e, "training run") || !strstr(e, sp))
        fail_msg("%s", e);
    free(e);
    snprintf(args, sizeof args, "selfplay --out %s --games 0", sp);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 2);
    if (!strstr(e, "--resume") || !strstr(e, "--overwrite") || !strstr(e, sp)) fail_msg("%s", e);
    free(e);
    const char *tr = test_path("tr");
    test_sh("mkdir -p '%s' && echo '{}' > '%s/trainer_state.json'", tr, tr);
    snprintf(args, sizeof args, "selfplay --out %s --overwrite --games 0", tr);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 2);
    if (!strstr(e, "self-play run") || !strstr(e, "training run") || !strstr(e, tr))
        fail_msg("%s", e);
    free(e);
    snprintf(args, sizeof args, "selfplay --out %s --resume", test_path("none"));
    assert_int_equal(test_cli(args, NULL, NULL, &e), 2);
    if (!strstr(e, "no self-play run to resume")) fail_msg("%s", e);
    free(e);
}

static const char *small =
    "--game kuhn --layers 1 --width 32 --heads 2 --warmup-steps 3 --warmup-rows 16 "
    "--games-per-update 24 --eval-every 100 --eval-games 4 --kl-coef 0.1 --json";

static json_t *run(const char *dir, const char *extra, char **err_text) {
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "selfplay %s --out %s %s", small, dir, extra);
    int rc = test_cli(args, NULL, &out, err_text);
    if (rc != 0) fail_msg("exit %d: %s", rc, err_text && *err_text ? *err_text : "");
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    free(out);
    return j;
}

static long long jint(json_t *j, const char *k) {
    json_t *v = json_object_get(j, k);
    if (!json_is_integer(v)) fail_msg("%s missing", k);
    return json_integer_value(v);
}

static void test_run_resume(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    const char *dir = test_path("run");
    char p[1024], args[2048], *e = NULL;
    json_t *j = run(dir, "--games 48 --save-every 1 --keep-last 2", NULL);
    assert_int_equal(jint(j, "updates"), 2);
    json_decref(j);
    // Two whole checkpoints, each with the self-play state and the KL reference.
    const char *files[] = {"config.json",           "model.safetensors", "optimizer.safetensors",
                           "rl_state.json",         "run_options.json",  "ref/config.json",
                           "ref/model.safetensors", "checkpoint.json"};
    for (int g = 1; g <= 2; g++)
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
            snprintf(p, sizeof p, "%s/ckpt-%d/%s", dir, g, files[i]);
            if (access(p, F_OK) != 0) fail_msg("%s missing", p);
        }
    snprintf(p, sizeof p, "%s/ckpt-2/checkpoint.json", dir);
    json_error_t je;
    json_t *m = json_load_file(p, 0, &je);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "kind")), "selfplay");
    assert_non_null(json_object_get(json_object_get(m, "files"), "ref/model.safetensors"));
    json_decref(m);
    // The top: the newest model and the files other commands read (run_options.json).
    snprintf(p, sizeof p, "%s/run_options.json", dir);
    assert_int_equal(access(p, F_OK), 0);
    // No silent replacement.
    snprintf(args, sizeof args, "selfplay %s --out %s --games 24", small, dir);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 2);
    if (!strstr(e, "--resume") || !strstr(e, "--overwrite")) fail_msg("%s", e);
    free(e);
    // A changed rl_state.json in the newest: named, skipped for ckpt-1 (24 games).
    snprintf(p, sizeof p, "%s/ckpt-2/rl_state.json", dir);
    flip(p);
    e = NULL;
    j = run(dir, "--resume --games 72", &e);
    if (!strstr(e, "ckpt-2/rl_state.json") || !strstr(e, "ckpt-1") || !strstr(e, "skipping"))
        fail_msg("%s", e);
    free(e);
    assert_int_equal(jint(j, "updates"), 3); // 1 + 2
    assert_int_equal(jint(j, "games"), 72);
    json_decref(j);
    // The only one left (--keep-last 1) changed: refused, naming the file.
    snprintf(p, sizeof p, "%s/ckpt-3/rl_state.json", dir);
    flip(p);
    snprintf(args, sizeof args, "selfplay %s --out %s --resume --games 96", small, dir);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 1);
    if (!strstr(e, "ckpt-3/rl_state.json") || !strstr(e, "no complete checkpoint"))
        fail_msg("%s", e);
    free(e);
    flip(p); // restored
    // The layout of an older vkt: the checkpoint's files at the top, no manifest.
    test_sh("cd '%s' && rm -f checkpoint.json config.json model.safetensors optimizer.safetensors "
            "rl_state.json "
            "run_options.json && mv ckpt-3/* . && rm -rf ckpt-3 checkpoint.json",
            dir);
    e = NULL;
    j = run(dir, "--resume --games 96", &e);
    if (!strstr(e, "without verifying")) fail_msg("%s", e);
    free(e);
    assert_int_equal(jint(j, "updates"), 4);
    json_decref(j);
    snprintf(p, sizeof p, "%s/ckpt-4/ref/model.safetensors", dir);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/ref", dir); // the old top-level reference is gone
    assert_int_not_equal(access(p, F_OK), 0);
    // --overwrite replaces the run.
    j = run(dir, "--overwrite --games 24", NULL);
    assert_int_equal(jint(j, "updates"), 1);
    json_decref(j);
    snprintf(p, sizeof p, "%s/ckpt-4", dir);
    assert_int_not_equal(access(p, F_OK), 0);
}

// Removes what legitimately differs between two runs' reports: times and the run directory.
static void drop_run_fields(json_t *j) {
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(j, tmp, k, v) {
        size_t n = strlen(k);
        if (!strcmp(k, "out") || strstr(k, "time") || (n > 2 && !strcmp(k + n - 2, "_s")))
            json_object_del(j, k);
        else if (json_is_object(v))
            drop_run_fields(v);
    }
}

// A resumed run is the run it continues: without --seed it takes the run's seed from
// run_options.json for training and for evaluation alike, so it reports what an uninterrupted
// run reports.
static void test_resume_reports_as_straight(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    json_t *a = run(test_path("straight"), "--seed 7 --games 48 --eval-every 24", NULL);
    json_decref(run(test_path("split"), "--seed 7 --games 24 --eval-every 24", NULL));
    json_t *b = run(test_path("split"), "--resume --games 48", NULL);
    drop_run_fields(a), drop_run_fields(b);
    char *ta = json_dumps(a, JSON_SORT_KEYS), *tb = json_dumps(b, JSON_SORT_KEYS);
    if (strcmp(ta, tb)) fail_msg("straight: %s\nresumed: %s", ta, tb);
    free(ta), free(tb);
    json_decref(a), json_decref(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_manifest_subdir, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_kinds_refused, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_run_resume, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_resume_reports_as_straight, test_dir_setup,
                                        test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
