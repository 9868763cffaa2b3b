// test_checkpoint_atomic.c: runs that never lose work. A save interrupted at every write,
// fsync and rename (VKT_FAULT_INJECT) resumes to the uninterrupted run's weights bit for bit;
// a checkpoint with a file of another save is refused (or skipped for an older intact one);
// trainer_state.json is validated key by key; metrics.jsonl is cut back on resume; leftovers
// of interrupted saves are removed; a directory of an older vkt still resumes; and the CLI
// refuses to overwrite a run, and saves and exits 1 on SIGTERM.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "checkpoint_dir.h"
#include "support_cli.h"
#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"
#include "train.h"
#include "train_state.h"

static vkt_model_config tiny(void) {
    return test_config(
        "gpt2-tiny",
        (test_shape){
            .context = 32, .layers = 1, .width = 16, .ffn = 32, .heads = 2, .kv_heads = 2});
}

static const char *data_file(void) {
    const char *p = test_path("data.txt");
    if (access(p, F_OK) != 0) {
        FILE *f = fopen(p, "w");
        for (int i = 0; i < 300; i++) fputs(i % 3 ? "abc def " : "ghi jkl ", f);
        fclose(f);
    }
    return p;
}

typedef struct {
    volatile sig_atomic_t flag;
    int stop_at;  // set the stop flag after this step (0: never)
    int fault_at; // set VKT_FAULT_INJECT after this step (0: never)
    const char *fault;
    char notes[4096];
} hooks;

static void on_step(void *user, const vkt_train_progress *p) {
    hooks *h = user;
    if (h->stop_at && p->step == h->stop_at) h->flag = 1;
    if (h->fault_at && p->step == h->fault_at) setenv("VKT_FAULT_INJECT", h->fault, 1);
}

static void on_notice(void *user, const char *msg) {
    hooks *h = user;
    size_t n = strlen(h->notes);
    snprintf(h->notes + n, sizeof h->notes - n, "%s\n", msg);
}

// A 4-step run of the tiny model into dir (resume: continue it); returns the status, its
// message in the context.
static vkt_status train(vkt_ctx *ctx, const char *dir, bool resume, int keep_last, hooks *h) {
    vkt_train_opts o;
    vkt_train_defaults(&o);
    o.data = data_file(), o.out = dir, o.cfg = tiny();
    o.steps = 4, o.batch = 2, o.seq = 8, o.warmup = 1, o.lr = 3e-3, o.eval_every = 0,
    o.save_every = 1;
    o.seed = 3, o.resume = resume, o.keep_last = keep_last;
    o.stop = &h->flag, o.progress = on_step, o.notice = on_notice, o.user = h;
    h->flag = 0, h->notes[0] = 0;
    vkt_train_result r;
    vkt_error_clear(vkt_ctx_err(ctx));
    return vkt_train_run(ctx, &o, &r);
}

static float *weights(vkt_ctx *ctx, const char *dir, size_t *n) {
    vkt_model *m;
    TEST_OK(ctx, vkt_checkpoint_load_model(ctx, dir, &m));
    *n = vkt_model_params(m)->total;
    float *p = malloc(*n * 4);
    TEST_OK(ctx, vkt_model_get_params(m, p));
    vkt_model_destroy(m);
    return p;
}

// Entries of dir that an interrupted save leaves behind.
static int leftovers(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, ".ckpt-", 6) || strstr(e->d_name, ".tmp.")) {
            print_message("leftover: %s/%s\n", dir, e->d_name);
            n++;
        }
    if (d) closedir(d);
    return n;
}

// The reference: 4 uninterrupted steps. The base: the same run stopped (saved) after step 2.
static float *reference(vkt_ctx *ctx, const char *ref, const char *base, size_t *n) {
    hooks h = {0};
    if (train(ctx, ref, false, 1, &h) != VKT_OK) fail_msg("%s", vkt_ctx_message(ctx));
    h.stop_at = 2;
    assert_int_equal(train(ctx, base, false, 1, &h), VKT_ERR_INTERRUPTED);
    return weights(ctx, ref, n);
}

// Every write, fsync and rename of the step-4 save fails in turn; resuming afterwards gives
// the reference weights bit for bit (from step 2 again, or from the published step 4).
static void test_fault_sweep(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    char ref[512], base[512], run[512];
    snprintf(ref, sizeof ref, "%s", test_path("ref"));
    snprintf(base, sizeof base, "%s", test_path("base"));
    snprintf(run, sizeof run, "%s", test_path("run"));
    size_t n;
    float *want = reference(ctx, ref, base, &n);
    const char *kinds[] = {"write", "fsync", "rename"};
    for (int k = 0; k < 3; k++) {
        int hits = 0;
        for (int i = 1; i < 1000; i++) {
            char spec[32];
            snprintf(spec, sizeof spec, "%s:%d", kinds[k], i);
            test_sh("rm -rf '%s' && cp -a '%s' '%s'", run, base, run);
            hooks h = {.fault_at = 4, .fault = spec};
            vkt_status s = train(ctx, run, true, 1, &h);
            unsetenv("VKT_FAULT_INJECT");
            if (s == VKT_OK) break; // past the save's last call of this kind
            hits++;
            if (!strstr(vkt_ctx_message(ctx), "injected fault"))
                fail_msg("%s: %s", spec, vkt_ctx_message(ctx));
            h.fault_at = 0;
            s = train(ctx, run, true, 1, &h); // step 2 again, or at step 4 already
            if (s != VKT_OK && !strstr(vkt_ctx_message(ctx), "at step 4 already"))
                fail_msg("%s, then: %s", spec, vkt_ctx_message(ctx));
            size_t m;
            float *got = weights(ctx, run, &m);
            assert_int_equal(m, n);
            if (memcmp(got, want, n * 4) != 0) fail_msg("%s: resumed weights differ", spec);
            free(got);
            if (s == VKT_OK) assert_int_equal(leftovers(run), 0);
        }
        print_message("%s: %d points of failure, each resumed bit for bit\n", kinds[k], hits);
        assert_true(hits > 0);
    }
    free(want);
    test_ctx_done(ctx);
}

// A file of another save in the newest checkpoint: refused, naming it; with --keep-last 2 the
// run falls back to the previous checkpoint and says so.
static void test_mixed_checkpoint(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", test_path("a"));
    snprintf(b, sizeof b, "%s", test_path("b"));
    hooks h = {.stop_at = 2};
    assert_int_equal(train(ctx, a, false, 2, &h), VKT_ERR_INTERRUPTED);
    h.stop_at = 3;
    assert_int_equal(train(ctx, b, false, 1, &h), VKT_ERR_INTERRUPTED);
    test_sh("cp '%s/ckpt-3/model.safetensors' '%s/ckpt-2/model.safetensors'", b, a);
    h.stop_at = 0;
    vkt_status s = train(ctx, a, true, 1, &h); // falls back to ckpt-1
    assert_int_equal(s, VKT_OK);
    if (!strstr(h.notes, "ckpt-2/model.safetensors") || !strstr(h.notes, "resuming from"))
        fail_msg("notes: %s", h.notes);
    // Only one checkpoint kept: the damaged one is refused outright.
    test_sh("cp '%s/ckpt-3/optimizer.safetensors' '%s/ckpt-4/optimizer.safetensors'", b, a);
    s = train(ctx, a, true, 1, &h);
    assert_int_equal(s, VKT_ERR_FORMAT);
    if (!strstr(vkt_ctx_message(ctx), "ckpt-4/optimizer.safetensors") ||
        !strstr(vkt_ctx_message(ctx), "manifest"))
        fail_msg("%s", vkt_ctx_message(ctx));
    test_ctx_done(ctx);
}

// metrics.jsonl: records past the checkpoint (and a torn last line) go before the append.
static void test_metrics_cut_back(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    char d[512], path[600];
    snprintf(d, sizeof d, "%s", test_path("m"));
    snprintf(path, sizeof path, "%s/metrics.jsonl", d);
    hooks h = {.stop_at = 2};
    assert_int_equal(train(ctx, d, false, 1, &h), VKT_ERR_INTERRUPTED);
    FILE *f = fopen(path, "a");
    fputs("{\"step\": 3, \"loss\": 1.0}\n{\"step\": 4, \"lo",
          f); // a run killed after its last save
    fclose(f);
    h.stop_at = 0;
    if (train(ctx, d, true, 1, &h) != VKT_OK) fail_msg("%s", vkt_ctx_message(ctx));
    assert_non_null(strstr(h.notes, "removed 2 records after step 2"));
    size_t n;
    char *text = (char *)test_read_all(path, &n);
    int count[6] = {0}, k;
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        assert_int_equal(sscanf(line, "{\"step\": %d", &k), 1);
        assert_true(k >= 1 && k <= 4);
        count[k]++;
    }
    for (k = 1; k <= 4; k++) assert_int_equal(count[k], 1);
    assert_null(strstr(text, "\"loss\": 1.0}"));
    free(text);
    test_ctx_done(ctx);
}

// Leftovers of an interrupted save are removed at the next start; a directory written by an
// older vkt (files at the top, no manifest) resumes, saying so.
static void test_leftovers_and_legacy(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    char d[512];
    snprintf(d, sizeof d, "%s", test_path("l"));
    hooks h = {.stop_at = 2};
    assert_int_equal(train(ctx, d, false, 1, &h), VKT_ERR_INTERRUPTED);
    test_sh("cd '%s' && rm -f checkpoint.json config.json model.safetensors optimizer.safetensors "
            "trainer_state.json && mv ckpt-2/* . && rmdir ckpt-2 && rm checkpoint.json",
            d);
    test_sh("cd '%s' && mkdir .ckpt-tmp-abc123 && touch .ckpt-tmp-abc123/model.safetensors "
            "model.safetensors.tmp.Xy12Ab",
            d);
    h.stop_at = 0;
    if (train(ctx, d, true, 1, &h) != VKT_OK) fail_msg("%s", vkt_ctx_message(ctx));
    if (!strstr(h.notes, "removed 2 leftovers") || !strstr(h.notes, "older vkt"))
        fail_msg("%s", h.notes);
    assert_int_equal(leftovers(d), 0);
    vkt_ckpt_found f;
    assert_int_equal(vkt_ckpt_find(d, &f, vkt_ctx_err(ctx)), VKT_OK);
    assert_false(f.legacy);
    assert_int_equal(f.step, 4);
    test_ctx_done(ctx);
}

static void expect_state_error(const char *body, const char *key) {
    const char *p = test_path("trainer_state.json");
    test_write_bytes(p, body, strlen(body));
    vkt_train_opts saved;
    vkt_train_state st;
    vkt_error err = {0};
    assert_int_equal(vkt_train_state_read(p, &saved, &st, &err), VKT_ERR_FORMAT);
    if (!strstr(err.msg, p) || !strstr(err.msg, key)) fail_msg("want %s named: %s", key, err.msg);
}

#define RNG "\"data_rng\": [\"1\", \"2\", \"3\", \"4\"]"
static void test_state_validation(void **state) {
    (void)state;
    expect_state_error("{\"step\": 1099511627776, " RNG "}", "\"step\"");
    expect_state_error("{\"step\": -1, " RNG "}", "\"step\"");
    expect_state_error("{\"step\": 1.5, " RNG "}", "\"step\"");
    expect_state_error("{" RNG "}", "\"step\"");
    expect_state_error("{\"step\": 1, " RNG ", \"lr\": -0.001}", "\"lr\"");
    expect_state_error("{\"step\": 1, " RNG ", \"lr\": \"big\"}", "\"lr\"");
    expect_state_error("{\"step\": 1, " RNG ", \"batch\": 0}", "\"batch\"");
    expect_state_error("{\"step\": 1, " RNG ", \"steps\": 4294967296}", "\"steps\"");
    expect_state_error("{\"step\": 1, " RNG ", \"format\": \"csv\"}", "\"format\"");
    expect_state_error("{\"step\": 1, \"data_rng\": [\"0\", \"0\", \"0\", \"00\"]}",
                       "\"data_rng\" is all zeros");
    expect_state_error("{\"step\": 1, \"data_rng\": [\"1\", \"2\", \"3\", \"12345678901234567\"]}",
                       "\"data_rng\"[3]");
    expect_state_error("{\"step\": 1, \"data_rng\": [\"1\", \"2\", \"3\", \"xyz\"]}",
                       "\"data_rng\"[3]");
    const char *ok = "{\"step\": 7, " RNG ", \"lr\": 0.002, \"seq\": 16}";
    test_write_bytes(test_path("trainer_state.json"), ok, strlen(ok));
    vkt_train_opts saved;
    vkt_train_state st;
    vkt_error err = {0};
    assert_int_equal(vkt_train_state_read(test_path("trainer_state.json"), &saved, &st, &err),
                     VKT_OK);
    assert_int_equal(st.step, 7);
    assert_true(saved.lr == 0.002 && saved.seq == 16 && saved.batch == 8);
    vkt_train_state_free(&st);
}

// The CLI: an existing run is not replaced without --overwrite, a self-play run not at all.
static void test_cli_overwrite(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    char args[2048], *err = NULL;
    const char *common =
        "--layers 1 --width 16 --heads 2 --seq 8 --batch 2 --steps 2 --eval-every 0";
    snprintf(args, sizeof args, "train --data %s --out %s %s", data_file(), test_path("o"), common);
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 0);
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    if (!strstr(err, test_path("o")) || !strstr(err, "--overwrite")) fail_msg("%s", err);
    free(err);
    snprintf(args, sizeof args, "train --data %s --out %s %s --overwrite", data_file(),
             test_path("o"), common);
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 0);
    test_sh("mkdir -p '%s' && echo '{}' > '%s/rl_state.json'", test_path("sp"), test_path("sp"));
    snprintf(args, sizeof args, "train --data %s --out %s %s --overwrite", data_file(),
             test_path("sp"), common);
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    if (!strstr(err, "self-play")) fail_msg("%s", err);
    free(err);
    // A refused change on resume: exit 2, the checkpoint untouched.
    snprintf(args, sizeof args, "train --out %s --resume --steps 3 --batch 4", test_path("o"));
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    if (!strstr(err, "--batch 4") || !strstr(err, "--allow-change")) fail_msg("%s", err);
    free(err);
    snprintf(args, sizeof args, "train --out %s --resume --steps 3 --seq 100000", test_path("o"));
    assert_int_equal(test_cli(args, NULL, NULL, &err), 2);
    if (!strstr(err, "context")) fail_msg("%s", err);
    free(err);
}

// Starts `vkt train` for many steps, waits for its first logged step, sends the signals.
static int signalled_run(const char *dir, const int *sigs, int n_sigs, char **stderr_text) {
    char log[600];
    snprintf(log, sizeof log, "%s.err", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen(log, "w", stderr);
        freopen("/dev/null", "w", stdout);
        unsetenv("VKT_DEVICE");
        execl(getenv("VKT_BIN"), "vkt", "train", "--data", data_file(), "--out", dir, "--layers",
              "1", "--width", "16", "--heads", "2", "--seq", "8", "--batch", "2", "--steps",
              "10000000", "--eval-every", "0", (char *)NULL);
        _exit(127);
    }
    char metrics[600];
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", dir);
    struct stat st;
    for (int i = 0; i < 1200 && !(stat(metrics, &st) == 0 && st.st_size > 0); i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n_sigs; i++) { // apart: a signal sent while one is pending is merged
        struct timespec ts = {0, 20 * 1000 * 1000};
        if (i) nanosleep(&ts, NULL);
        kill(pid, sigs[i]);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    size_t n;
    *stderr_text = (char *)test_read_all(log, &n);
    return status;
}

static void test_cli_signals(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    char *text;
    int one[] = {SIGTERM};
    int st = signalled_run(test_path("s1"), one, 1, &text);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1) fail_msg("status %d: %s", st, text);
    if (!strstr(text, "interrupted after step")) fail_msg("%s", text);
    free(text);
    vkt_ckpt_found f;
    vkt_error err = {0};
    if (vkt_ckpt_find(test_path("s1"), &f, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_true(f.step >= 1);
    // Two signals: the second waits for the save.
    int two[] = {SIGINT, SIGTERM};
    st = signalled_run(test_path("s2"), two, 2, &text);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1) fail_msg("status %d: %s", st, text);
    if (!strstr(text, "waiting for the save")) fail_msg("%s", text);
    free(text);
    if (vkt_ckpt_find(test_path("s2"), &f, &err) != VKT_OK) fail_msg("%s", err.msg);
    // Three: ends at once by the signal (unless the run saved and exited first: a tiny model
    // saves in milliseconds); either way a complete checkpoint (step 0 at least) stays.
    int three[] = {SIGINT, SIGTERM, SIGINT};
    st = signalled_run(test_path("s3"), three, 3, &text);
    if (WIFSIGNALED(st))
        assert_int_equal(WTERMSIG(st), SIGINT);
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("status %d: %s", st, text);
    print_message("three signals: %s\n",
                  WIFSIGNALED(st) ? "ended by the third" : "saved and exited first");
    free(text);
    if (vkt_ckpt_find(test_path("s3"), &f, &err) != VKT_OK) fail_msg("%s", err.msg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_validation, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_mixed_checkpoint, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_metrics_cut_back, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_leftovers_and_legacy, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_cli_overwrite, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_cli_signals, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_fault_sweep, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
