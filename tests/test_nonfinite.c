// test_nonfinite.c: a run never reports a non-finite number as a result (issue 22).
// Checkpoints and control vectors holding NaN are refused at load (naming file, tensor,
// index) unless allowed; eval refuses a non-finite NLL and an empty text; generate refuses
// non-finite logits (naming sample and step); a diverged Kuhn policy is named; metrics
// lines stay JSON (null + "nonfinite": true); jsonl data whose prompts fill the context is
// refused. The CLI cases run the binary named by VKT_BIN (skipped without it).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "checkpoint.h"
#include "dataset.h"
#include "finite.h"
#include "gguf.h"
#include "kuhn_policy.h"
#include "metrics_json.h"
#include "support_cli.h"
#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"

static void assert_contains(const char *msg, const char *want) {
    if (!msg || !strstr(msg, want)) fail_msg("'%s' not in: %s", want, msg ? msg : "(null)");
}

// DIR/ok: a tiny random GPT-2; DIR/nan: the same with one NaN weight in [transformer.]ln_f.bias;
// DIR/inf: finite weights whose logits are not finite.
static void make_checkpoints(void) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = test_config(
        "gpt2-tiny",
        (test_shape){
            .context = 16, .layers = 1, .width = 16, .ffn = 32, .heads = 2, .kv_heads = 2});
    vkt_error err = {0};
    vkt_model *m = test_model_new(ctx, &c, 3);
    TEST_OK(ctx, vkt_checkpoint_save_model(m, test_path("ok"), false));
    const vkt_params *ps = vkt_model_params(m);
    float *h = malloc(ps->total * sizeof *h);
    TEST_OK(ctx, vkt_model_get_params(m, h));
    const vkt_param *p = vkt_params_find(ps, VKT_P_LNF_B, -1);
    assert_non_null(p);
    h[p->offset + 7] = NAN;
    if (vkt_checkpoint_write_params(test_path("nan"), &c, ps, h, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    // Finite weights whose logits overflow float: a final-norm bias near FLT_MAX times the
    // tied embedding (its rows normalised by the first norm, so the blocks stay finite).
    const vkt_param *wte = vkt_params_find(ps, VKT_P_WTE, -1);
    for (uint64_t i = 0; i < p->count; i++) h[p->offset + i] = 3e38f;
    for (uint64_t i = 0; i < wte->count; i++) h[wte->offset + i] *= 1000.0f;
    if (vkt_checkpoint_write_params(test_path("inf"), &c, ps, h, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    free(h);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_checkpoint_refused(void **state) {
    make_checkpoints();
    vkt_model_config c;
    vkt_params ps;
    vkt_error err = {0};
    assert_int_equal(vkt_checkpoint_config(test_path("nan"), &c, &err), VKT_OK);
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    float *h = malloc(ps.total * sizeof *h);
    assert_int_equal(vkt_checkpoint_read_params(test_path("nan"), &c, &ps, h, &err),
                     VKT_ERR_FORMAT);
    assert_contains(err.msg, "model.safetensors");
    assert_contains(err.msg, "ln_f.bias'");
    assert_contains(err.msg, "index 7");
    assert_int_equal(vkt_checkpoint_read_params_opt(test_path("nan"), &c, &ps, h, true, &err),
                     VKT_OK);
    assert_true(isnan(h[vkt_params_find(&ps, VKT_P_LNF_B, -1)->offset + 7]));
    assert_int_equal(vkt_checkpoint_read_params(test_path("ok"), &c, &ps, h, &err), VKT_OK);
    assert_int_equal(vkt_first_nonfinite(h, ps.total), -1);
    free(h);
    vkt_params_free(&ps);
}

static void test_control_vector_refused(void **state) {
    float d[2 * 4] = {1, 2, 3, 4, 5, 6, 7, 8};
    int layers[2] = {1, 2};
    vkt_error err = {0};
    const char *path = test_path("cv.gguf");
    assert_int_equal(vkt_control_vector_write(path, "gpt2", 2, 4, 2, layers, d, &err), VKT_OK);
    // The writer refuses NaN: overwrite the data's last 8.0f (direction.2, index 3) in the file.
    size_t n;
    unsigned char *b = test_read_all(path, &n);
    float eight = 8.0f, nan = NAN;
    size_t at = n;
    for (size_t i = n - 4; at == n && i > 0; i--)
        if (!memcmp(b + i, &eight, 4)) at = i;
    assert_true(at < n);
    memcpy(b + at, &nan, 4);
    test_write_bytes(path, b, n);
    free(b);
    vkt_control_vector cv;
    vkt_status s = vkt_control_vector_load(&cv, path, &err);
    assert_int_equal(s, VKT_ERR_FORMAT);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "'direction.2'");
    assert_contains(err.msg, "index 3");
    assert_int_equal(vkt_control_vector_load_opt(&cv, path, true, &err), VKT_OK);
    assert_true(isnan(vkt_control_vector_layer(&cv, 2)[3]));
    vkt_control_vector_free(&cv);
}

static void test_kuhn_policy_named(void **state) {
    vkt_kuhn_policy pi;
    vkt_error err = {0};
    vkt_kuhn_policy_const(&pi, 0.5);
    assert_int_equal(vkt_kuhn_policy_check_finite(&pi, &err), VKT_OK);
    pi.bet[vkt_kuhn_infostate_index("1pb")] = NAN;
    assert_int_equal(vkt_kuhn_policy_check_finite(&pi, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "'1pb'");
}

static void test_metrics_line_is_json(void **state) {
    const char *path = test_path("m.jsonl");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    vkt_jsonl l;
    vkt_jsonl_begin(&l, f);
    vkt_jsonl_int(&l, "step", 3);
    vkt_jsonl_num(&l, "loss", "%.6f", NAN);
    vkt_jsonl_num(&l, "grad_norm", "%.5g", INFINITY);
    vkt_jsonl_num(&l, "lr", "%.6g", 0.5);
    vkt_jsonl_end(&l);
    vkt_jsonl_begin(&l, f);
    vkt_jsonl_num(&l, "loss", "%.6f", 1.25);
    vkt_jsonl_end(&l);
    fclose(f);
    json_error_t je;
    json_t *j = json_load_file(path, JSON_DISABLE_EOF_CHECK, &je);
    if (!j) fail_msg("not JSON: %s", je.text);
    assert_true(json_is_null(json_object_get(j, "loss")));
    assert_true(json_is_null(json_object_get(j, "grad_norm")));
    assert_true(json_is_true(json_object_get(j, "nonfinite")));
    assert_true(json_real_value(json_object_get(j, "lr")) == 0.5);
    json_decref(j);
    size_t n;
    char *text = (char *)test_read_all(path, &n);
    const char *second = strchr(text, '\n') + 1;
    j = json_loads(second, 0, &je);
    if (!j) fail_msg("line 2 not JSON: %s", second);
    assert_null(json_object_get(j, "nonfinite"));
    json_decref(j);
    free(text);
}

static void test_masked_jsonl(void **state) {
    const char *path = test_path("long.jsonl");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 4; i++)
        fprintf(
            f,
            "{\"prompt\": \"a prompt much longer than eight bytes %d\", \"completion\": \"ok\"}\n",
            i);
    fclose(f);
    vkt_dataset d;
    vkt_error err = {0};
    size_t mt, mv;
    assert_int_equal(vkt_dataset_load(path, VKT_DATA_JSONL, 0.25, &d, &err), VKT_OK);
    assert_int_equal(vkt_dataset_check_context(&d, path, 8, &mt, &mv, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "training examples");
    assert_int_equal(mt, 3), assert_int_equal(mv, 1);
    assert_int_equal(vkt_dataset_check_context(&d, path, 256, &mt, &mv, &err), VKT_OK);
    assert_int_equal(mt, 0), assert_int_equal(mv, 0);
    vkt_dataset_free(&d);
    // Some long, some short: a count to warn with, no error.
    f = fopen(path, "w");
    fprintf(f, "{\"prompt\": \"a prompt much longer than eight bytes\", \"completion\": \"ok\"}\n");
    for (int i = 0; i < 3; i++) fprintf(f, "{\"prompt\": \"q%d\", \"completion\": \"ok\"}\n", i);
    fclose(f);
    assert_int_equal(vkt_dataset_load(path, VKT_DATA_JSONL, 0.25, &d, &err), VKT_OK);
    assert_int_equal(vkt_dataset_check_context(&d, path, 8, &mt, &mv, &err), VKT_OK);
    assert_int_equal(mt, 1), assert_int_equal(mv, 0);
    vkt_dataset_free(&d);
    // The validation split alone fully masked: its loss would be 0/0.
    f = fopen(path, "w");
    for (int i = 0; i < 3; i++) fprintf(f, "{\"prompt\": \"q%d\", \"completion\": \"ok\"}\n", i);
    fprintf(f, "{\"prompt\": \"a prompt much longer than eight bytes\", \"completion\": \"ok\"}\n");
    fclose(f);
    assert_int_equal(vkt_dataset_load(path, VKT_DATA_JSONL, 0.25, &d, &err), VKT_OK);
    assert_int_equal(vkt_dataset_check_context(&d, path, 8, &mt, &mv, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "validation");
    vkt_dataset_free(&d);
}

// The CLI: exit 1 and a message naming what is not finite.
static void expect_cli(const char *args, int code, const char *want) {
    char *err = NULL;
    int rc = test_cli(args, NULL, NULL, &err);
    if (rc != code)
        fail_msg("vkt %s: exit %d, want %d; stderr: %s", args, rc, code, err ? err : "");
    if (want) assert_contains(err, want);
    free(err);
}

static void test_cli_refuses(void **state) {
    if (!test_cli_available()) skip();
    make_checkpoints();
    char args[8192], text[4096];
    snprintf(text, sizeof text, "%s", test_path("t.txt")); // test_path's buffers rotate
    test_write_bytes(text, "some text to score, long enough for a window", 44);
    test_write_bytes(test_path("empty.txt"), "", 0);
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s'", test_path("nan"), text);
    expect_cli(args, 1, "ln_f.bias");
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s' --allow-nonfinite", test_path("nan"),
             text);
    expect_cli(args, 1, "not finite");
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s'", test_path("inf"), text);
    expect_cli(args, 1, "not finite");
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s'", test_path("ok"),
             test_path("empty.txt"));
    expect_cli(args, 1, "nothing to score");
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s'", test_path("ok"), text);
    expect_cli(args, 0, NULL);
    snprintf(args, sizeof args, "generate --ckpt '%s' --prompt hi --max-new-tokens 2",
             test_path("nan"));
    expect_cli(args, 1, "ln_f.bias");
    snprintf(args, sizeof args, "generate --ckpt '%s' --prompt hi --max-new-tokens 2",
             test_path("inf"));
    expect_cli(args, 1, "sample 0, step 0");
    // Allowed: the user asked for the numbers whatever they are.
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt hi --max-new-tokens 2 --allow-nonfinite",
             test_path("inf"));
    expect_cli(args, 0, NULL);
    // A --control-vector-scaled name and a --gold mismatch on the error paths (LSan: no leak).
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt hi --control-vector-scaled '%s/none.gguf:2'",
             test_path("ok"), test_dir());
    expect_cli(args, 1, "none.gguf");
    test_write_bytes(test_path("gold.txt"), "a\nb\n", 4);
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt hi --best-of 2 --answer-regex x --gold '%s' "
             "--control-vector-scaled x:1",
             test_path("ok"), test_path("gold.txt"));
    expect_cli(args, 2, "2 answers for 1 prompts");
}

// Self-play at --lr 10 diverges within a few updates: exit 1 naming the update, never an
// exploitability computed from a NaN policy (it printed 0.0000, a perfect score).
static void test_selfplay_divergence(void **state) {
    if (!test_cli_available()) skip();
    char args[8192], *out = NULL, *err = NULL;
    snprintf(
        args, sizeof args,
        "selfplay --lr 10 --warmup-steps 2 --games 512 --games-per-update 64 --eval-every 1000 "
        "--eval-games 8 --layers 1 --width 16 --heads 2 --out '%s'",
        test_path("sp"));
    int rc = test_cli(args, NULL, &out, &err);
    if (rc != 1) fail_msg("exit %d, want 1; stdout: %s; stderr: %s", rc, out, err);
    assert_contains(err, "update ");
    assert_contains(err, "not finite");
    assert_null(strstr(out, "exploitability (0 = Nash"));
    free(out), free(err);
    // The metrics lines written before it are JSON.
    json_error_t je;
    size_t n;
    char *text = (char *)test_read_all(test_path("sp/metrics.jsonl"), &n);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, &je);
        if (!j) fail_msg("metrics line is not JSON: %s", line);
        json_decref(j);
    }
    free(text);
}

// A training step whose loss is not finite (VKT_FAULT_INJECT=loss:N stands in for a run
// that diverges there) fails the run naming the step, saves nothing after it and keeps
// metrics.jsonl JSON; --skip-nonfinite 1 skips it (no update) and counts it.
static void test_train_divergence(void **state) {
    if (!test_cli_available()) skip();
    char data[4096], args[8192], *out = NULL, *err = NULL;
    snprintf(data, sizeof data, "%s", test_path("d.txt"));
    char text[3000];
    for (int i = 0; i < 3000; i++) text[i] = "the cat sat on a mat "[i % 21];
    test_write_bytes(data, text, sizeof text);
    const char *common =
        "--steps 8 --batch 2 --seq 16 --eval-every 0 --layers 1 --width 16 --heads 2";
    snprintf(args, sizeof args, "train --data '%s' --out '%s' --save-every 2 %s", data,
             test_path("run"), common);
    setenv("VKT_FAULT_INJECT", "loss:5", 1);
    int rc = test_cli(args, NULL, &out, &err);
    if (rc != 1) fail_msg("exit %d, want 1; stderr: %s", rc, err);
    assert_contains(err, "step 5: the loss is nan, not finite");
    assert_contains(err, "nothing saved after step 4");
    free(out), free(err);
    size_t n;
    char *state_text = (char *)test_read_all(test_path("run/trainer_state.json"), &n);
    assert_contains(state_text, "\"step\": 4");
    free(state_text);
    snprintf(args, sizeof args, "train --data '%s' --out '%s' --skip-nonfinite 1 --json %s", data,
             test_path("skip"), common);
    json_t *j = test_cli_json(args);
    unsetenv("VKT_FAULT_INJECT");
    assert_int_equal(json_integer_value(json_object_get(j, "skipped_nonfinite")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "steps")), 8);
    json_decref(j);
    char *metrics = (char *)test_read_all(test_path("skip/metrics.jsonl"), &n);
    json_error_t je;
    for (char *line = strtok(metrics, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *l = json_loads(line, 0, &je);
        if (!l) fail_msg("metrics line is not JSON: %s", line);
        json_decref(l);
    }
    free(metrics);
    // A *.jsonl file without --format is read as prompt/completion JSONL, never as raw text.
    char jl[4096], line[] = "{\"prompt\": \"a b\", \"completion\": \" c\"}\n";
    snprintf(jl, sizeof jl, "%s", test_path("pc.jsonl"));
    FILE *f = fopen(jl, "w");
    assert_non_null(f);
    for (int i = 0; i < 40; i++) fputs(line, f);
    fclose(f);
    snprintf(args, sizeof args, "train --data '%s' --out '%s' %s", jl, test_path("jl"), common);
    expect_cli(args, 0, "read as prompt/completion JSONL");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoint_refused, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_control_vector_refused, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test(test_kuhn_policy_named),
        cmocka_unit_test_setup_teardown(test_metrics_line_is_json, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_masked_jsonl, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_cli_refuses, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_selfplay_divergence, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_train_divergence, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
