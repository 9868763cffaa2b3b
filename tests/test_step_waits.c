// test_step_waits.c: a training step as vkt train runs it (batch upload, forward, loss and
// backward, the gradient norm, one read of loss and norm, AdamW) makes at most one host wait
// on the staging path (VKT_DISABLE_UNIFIED=1, as on a discrete GPU) and on the rebar path
// (VKT_FORCE_REBAR=1: uploads written into the mapping, only the read staged), and computes
// bit for bit what the step with separate reads computes, on every memory path.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support_gpu.h"
#include "support_model.h"

enum { B = 2, T = 8, STEPS = 3 };

typedef enum mode { UNIFIED, STAGING, REBAR } mode; // the device's own path on lavapipe: unified

typedef struct run_out {
    double loss[STEPS];
    float norm[STEPS];
    vkt_transfers moved[STEPS]; // each step's transfers
    float *params;
    uint64_t nparams;
} run_out;

// STEPS steps of a tiny model; `split`: the one-wait step, else read_loss + adamw(&norm).
static void run(mode md, bool split, run_out *out) {
    unsetenv("VKT_DISABLE_REBAR");
    if (md == STAGING)
        setenv("VKT_DISABLE_UNIFIED", "1", 1);
    else
        unsetenv("VKT_DISABLE_UNIFIED");
    if (md == REBAR)
        setenv("VKT_FORCE_REBAR", "1", 1);
    else
        unsetenv("VKT_FORCE_REBAR");
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_FORCE_REBAR");
    if (md == REBAR && vkt_ctx_profile(ctx)->memory_mode != VKT_MEMORY_REBAR) {
        test_ctx_done(ctx); // no host-visible device-local type to force it onto
        skip();
    }
    vkt_model_config c = test_config("gpt2-tiny", (test_shape){.vocab = 64,
                                                               .context = T,
                                                               .layers = 1,
                                                               .width = 32,
                                                               .ffn = 64,
                                                               .heads = 2,
                                                               .kv_heads = 2});
    vkt_model *m = test_model_new(ctx, &c, 7);
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    int32_t tok[B * T], tgt[B * T];
    vkt_optim o = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, 1.0f};
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < B * T; i++)
            tok[i] = (i * 13 + 5 * s + 1) % 64, tgt[i] = (i * 7 + 3 * s + 2) % 64;
        vkt_transfers t0, t1;
        vkt_ctx_transfers(ctx, &t0);
        double wsum;
        TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, NULL));
        TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
        TEST_OK(ctx, vkt_model_backward(m, 1.0f / (B * T)));
        if (split) {
            TEST_OK(ctx, vkt_model_grad_norm(m, o.max_grad_norm));
            TEST_OK(ctx, vkt_model_read_step(m, &out->loss[s], &wsum, &out->norm[s]));
            TEST_OK(ctx, vkt_model_adamw_apply(m, &o, s + 1));
        } else {
            TEST_OK(ctx, vkt_model_read_loss(m, &out->loss[s], &wsum));
            TEST_OK(ctx, vkt_model_adamw(m, &o, s + 1, &out->norm[s]));
        }
        vkt_ctx_transfers(ctx, &t1);
        out->moved[s] = (vkt_transfers){
            t1.host_waits - t0.host_waits, t1.bytes_up - t0.bytes_up, t1.bytes_down - t0.bytes_down,
            t1.bytes_staged - t0.bytes_staged, t1.bytes_inline - t0.bytes_inline};
        assert_true(wsum == B * T);
    }
    out->nparams = vkt_model_params(m)->total;
    out->params = malloc(out->nparams * sizeof *out->params);
    assert_non_null(out->params);
    TEST_OK(ctx, vkt_model_get_params(m, out->params));
    vkt_model_destroy(m);
    test_ctx_done(ctx);
    unsetenv("VKT_DISABLE_UNIFIED");
}

static void same(const run_out *a, const run_out *b) {
    assert_memory_equal(a->loss, b->loss, sizeof a->loss);
    assert_memory_equal(a->norm, b->norm, sizeof a->norm);
    assert_int_equal(a->nparams, b->nparams);
    assert_memory_equal(a->params, b->params, a->nparams * sizeof *a->params);
}

// Every step after the first (whose AdamW allocates the moments) waits once: for the read.
static void test_staging_step_waits_once(void **state) {
    (void)state;
    run_out r = {0};
    run(STAGING, true, &r);
    for (int s = 1; s < STEPS; s++) {
        print_message("step %d: %llu host waits\n", s + 1,
                      (unsigned long long)r.moved[s].host_waits);
        assert_true(r.moved[s].host_waits <= 1);
    }
    free(r.params);
}

// The same on the rebar path; only the read goes through staging, the same bytes move as on
// the device's own path, and the numbers are its numbers bit for bit.
static void test_rebar_step_waits_once(void **state) {
    (void)state;
    run_out r = {0}, u = {0};
    run(REBAR, true, &r);
    run(UNIFIED, true, &u);
    for (int s = 1; s < STEPS; s++) {
        const vkt_transfers *t = &r.moved[s];
        print_message("rebar step %d: %llu host waits, %llu bytes up (%llu inline), %llu down, "
                      "%llu staged\n",
                      s + 1, (unsigned long long)t->host_waits, (unsigned long long)t->bytes_up,
                      (unsigned long long)t->bytes_inline, (unsigned long long)t->bytes_down,
                      (unsigned long long)t->bytes_staged);
        assert_true(t->host_waits <= 1);
        assert_int_equal(t->bytes_staged, t->bytes_down);
        assert_int_equal(t->bytes_up, u.moved[s].bytes_up);
        assert_int_equal(t->bytes_down, u.moved[s].bytes_down);
    }
    same(&r, &u);
    free(r.params), free(u.params);
}

static void test_one_wait_step_matches_separate_reads(void **state) {
    (void)state;
    run_out a = {0}, b = {0}, c = {0};
    run(STAGING, true, &a);
    run(STAGING, false, &b);
    run(UNIFIED, false, &c); // the mapped path, as before: the reference
    same(&a, &b);
    same(&a, &c);
    free(a.params), free(b.params), free(c.params);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staging_step_waits_once),
        cmocka_unit_test(test_rebar_step_waits_once),
        cmocka_unit_test(test_one_wait_step_matches_separate_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
