// test_train_lora_resume.c: a LoRA run (trainer/model/lora_resume.h) interrupted and resumed ends
// with the adapters of the uninterrupted run bit for bit (moments, step, dropout keys and the
// data order restored), on the base it was trained on; a base whose weights changed since is
// refused, naming the file, and nothing is trained.
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"
#include "train.h"

static volatile sig_atomic_t stop_flag;
static int stop_at;

static void on_step(void *user, const vkt_train_progress *p) {
    (void)user;
    if (stop_at && p->step == stop_at) stop_flag = 1;
}

static const char *text_file(void) {
    static char path[4200];
    snprintf(path, sizeof path, "%s", test_path("text.txt"));
    char text[12000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "a lora adapter learns the quick brown fox. "[i % 43];
    test_write_bytes(path, text, sizeof text);
    return path;
}

// A LoRA run of `steps` on base into out (resume: continue out), stopped after step `at`.
static vkt_status lora_run(vkt_ctx *ctx, const char *base, const char *data, const char *out,
                           bool resume, int at) {
    vkt_train_opts o;
    vkt_train_defaults(&o);
    o.data = data, o.out = out, o.resume = resume;
    if (!resume) o.init = base, o.lora_rank = 4, o.lora_alpha = 8, o.lora_dropout = 0.1f;
    o.steps = 6, o.batch = 2, o.seq = 16, o.accum = 2, o.warmup = 2, o.lr = 1e-2, o.eval_every = 3,
    o.val_batches = 1;
    o.seed = 9;
    stop_flag = 0, stop_at = at;
    o.stop = &stop_flag, o.progress = on_step;
    vkt_train_result r;
    return vkt_train_run(ctx, &o, &r);
}

static void resumed_equals_uninterrupted(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    const char *data = text_file();
    char base[4200], full[4200], part[4200], moved[4200];
    snprintf(base, sizeof base, "%s", test_path("base"));
    snprintf(full, sizeof full, "%s", test_path("full"));
    snprintf(part, sizeof part, "%s", test_path("part"));
    snprintf(moved, sizeof moved, "%s", test_path("moved"));
    // The base: one step of a tiny llama (byte tokenizer).
    vkt_train_opts o;
    vkt_train_defaults(&o);
    o.cfg = test_config(
        "llama-tiny", (test_shape){.layers = 1, .width = 32, .heads = 2, .kv_heads = 2, .ffn = 64});
    o.data = data, o.out = base, o.steps = 1, o.batch = 2, o.seq = 16, o.eval_every = 0;
    vkt_train_result r;
    if (vkt_train_run(ctx, &o, &r) != VKT_OK) fail_msg("base: %s", vkt_ctx_message(ctx));

    if (lora_run(ctx, base, data, full, false, 0) != VKT_OK)
        fail_msg("full: %s", vkt_ctx_message(ctx));
    assert_int_equal(lora_run(ctx, base, data, part, false, 4), VKT_ERR_INTERRUPTED);
    if (lora_run(ctx, base, data, part, true, 0) != VKT_OK)
        fail_msg("resume: %s", vkt_ctx_message(ctx));
    char pa[4400], pb[4400];
    snprintf(pa, sizeof pa, "%s/adapter_model.safetensors", full);
    snprintf(pb, sizeof pb, "%s/adapter_model.safetensors", part);
    size_t na, nb;
    unsigned char *a = test_read_all(pa, &na), *b = test_read_all(pb, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a), free(b);

    // A base whose weights changed is refused, naming the file.
    assert_int_equal(lora_run(ctx, base, data, moved, false, 2), VKT_ERR_INTERRUPTED);
    snprintf(pa, sizeof pa, "%s/model.safetensors", base);
    unsigned char *w = test_read_all(pa, &na);
    w[na - 1] ^= 1;
    test_write_bytes(pa, w, na);
    free(w);
    assert_int_equal(lora_run(ctx, base, data, moved, true, 0), VKT_ERR_FORMAT);
    assert_non_null(strstr(vkt_ctx_message(ctx),
                           "model.safetensors: changed since the adapters were trained on it"));
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(resumed_equals_uninterrupted, test_dir_setup,
                                        test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
