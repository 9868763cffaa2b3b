// bench_loss.c: the fused classifier (cross-entropy fwd+bwd in place), AdamW and the
// global gradient norm. GB/s counts the bytes each kernel must move: cross-entropy 12 per
// logit (two reads and one write of the row), AdamW 28 per parameter (param, grad, m, v
// read; param, m, v written), grad norm 4 per element. The entropy variant
// (cross_entropy_ent) is timed with every coefficient 0 (the plain path: should cost what
// the base kernel costs) and with every coefficient set (the entropy path on every row).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_elementwise.h"
#include "op_loss.h"
#include "op_optim.h"
#include "op_reduce.h"

typedef struct {
    int N, V;
    vkt_view x, tw, loss, coef, ent; // coef empty: the base kernel
} ce_arg;

static vkt_status run_ce(vkt_ctx *ctx, void *p) {
    ce_arg *a = p;
    // In place: later calls see dlogits as logits, which are as good for timing.
    if (a->coef.buf)
        return vkt_cross_entropy_ent(ctx, a->N, a->V, a->x, a->tw, a->coef, 1.0f, true, a->loss,
                                     (vkt_view){0}, a->ent);
    return vkt_cross_entropy(ctx, a->N, a->V, a->x, a->tw, 1.0f, true, a->loss, (vkt_view){0});
}

// Times one variant: coef_value NAN for the base kernel, else every row's coefficient.
static int time_ce(vkt_ctx *ctx, const bench_opts *o, ce_arg *a, vkt_buffer *cbuf, float coef_value,
                   const char *variant) {
    uint64_t nv = (uint64_t)a->N * (uint64_t)a->V;
    a->coef = a->ent = (vkt_view){0};
    if (!isnan(coef_value)) {
        float *c = malloc((size_t)a->N * 4);
        if (!c) return cli_fail("bench", "out of memory");
        for (int i = 0; i < a->N; i++) c[i] = coef_value;
        vkt_status s = vkt_cross_entropy_stage_ent(
            ctx, a->N, c, vkt_view_f32(vkt_view_all(cbuf), 0, (uint64_t)a->N));
        free(c);
        if (s != VKT_OK) return cli_fail("bench", "cross_entropy_ent: %s", vkt_ctx_message(ctx));
        a->coef = vkt_view_f32(vkt_view_all(cbuf), 0, (uint64_t)a->N);
        a->ent = vkt_view_f32(vkt_view_all(cbuf), (uint64_t)a->N, (uint64_t)a->N);
    }
    if (vkt_fill(ctx, a->x, nv, 0.5f) != VKT_OK)
        return cli_fail("bench", "cross_entropy: %s", vkt_ctx_message(ctx));
    double ms = bench_time(ctx, o, run_ce, a);
    if (ms < 0) return cli_fail("bench", "cross_entropy: %s", vkt_ctx_message(ctx));
    bench_report(ctx, o,
                 &(bench_result){isnan(coef_value) ? "cross_entropy" : "cross_entropy_ent", variant,
                                 a->N, a->V, -1, ms, 0, 12.0 * (double)nv});
    return CLI_OK;
}

static int bench_ce_shape(vkt_ctx *ctx, const bench_opts *o, int N, int V) {
    uint64_t nv = (uint64_t)N * (uint64_t)V;
    vkt_buffer *x = NULL, *tw = NULL, *loss = NULL, *cb = NULL;
    int rc = CLI_OK;
    int32_t *tg = malloc((size_t)N * 4);
    float *w = malloc((size_t)N * 4);
    if (!tg || !w) rc = cli_fail("bench", "out of memory");
    for (int i = 0; rc == CLI_OK && i < N; i++)
        tg[i] = (int32_t)((i * 7919u) % (unsigned)V), w[i] = 1.0f;
    if (rc == CLI_OK && (vkt_buffer_create(ctx, nv * 4, &x) != VKT_OK ||
                         vkt_buffer_create(ctx, 8ull * N, &tw) != VKT_OK ||
                         vkt_buffer_create(ctx, 4ull * N, &loss) != VKT_OK ||
                         vkt_buffer_create(ctx, 8ull * N, &cb) != VKT_OK))
        rc = cli_fail("bench", "%s", vkt_ctx_message(ctx));
    ce_arg a = {N,
                V,
                x ? vkt_view_all(x) : (vkt_view){0},
                tw ? vkt_view_all(tw) : (vkt_view){0},
                loss ? vkt_view_all(loss) : (vkt_view){0},
                {0},
                {0}};
    if (rc == CLI_OK && vkt_cross_entropy_stage(ctx, N, V, tg, w, a.tw) != VKT_OK)
        rc = cli_fail("bench", "cross_entropy: %s", vkt_ctx_message(ctx));
    if (rc == CLI_OK) rc = time_ce(ctx, o, &a, cb, NAN, "fwd+bwd in place");
    if (rc == CLI_OK) rc = time_ce(ctx, o, &a, cb, 0.0f, "fwd+bwd, coef 0");
    if (rc == CLI_OK) rc = time_ce(ctx, o, &a, cb, 0.01f, "fwd+bwd, entropy every row");
    if (cb) vkt_buffer_destroy(ctx, cb);
    if (x) vkt_buffer_destroy(ctx, x);
    if (tw) vkt_buffer_destroy(ctx, tw);
    if (loss) vkt_buffer_destroy(ctx, loss);
    free(tg), free(w);
    return rc;
}

static const cli_cmd LOSS = {
    .name = "bench loss",
    .usage = "usage: vkt bench loss [--N N --V V] [common options]\n",
    .about = "The fused cross-entropy (forward and backward in place, and its entropy variant) at\n"
             "GPT-2's head (N=256, V=50257) and a small-vocabulary batch (N=4096, V=512), or at\n"
             "the given shape.\n",
};

int bench_loss(bench_env *env, int argc, char **argv) {
    long N = 0, V = 0;
    const cli_opt table[] = {
        {"--N", CLI_OPT_LONG, &N, 1, 1l << 24, "N", .def = "", .help = "rows (with --V)"},
        {"--V", CLI_OPT_LONG, &V, 1, 1l << 24, "V", .def = "", .help = "vocabulary (with --N)"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&LOSS, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if ((N > 0) != (V > 0)) return cli_usage_error(LOSS.name, "give both --N and --V");
    vkt_ctx *ctx;
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    if (N > 0) return bench_ce_shape(ctx, o, (int)N, (int)V);
    rc = bench_ce_shape(ctx, o, 256, 50257);
    if (rc == CLI_OK) rc = bench_ce_shape(ctx, o, 4096, 512);
    return rc;
}

typedef struct {
    uint64_t n;
    vkt_view p, g, m, v, scratch, out;
    vkt_adamw_params hp;
} optim_arg;

static vkt_status run_adamw(vkt_ctx *ctx, void *p) {
    optim_arg *a = p;
    return vkt_adamw(ctx, a->p, a->g, a->m, a->v, a->n, &a->hp,
                     vkt_view_f32(a->out, VKT_REDUCE_CLIP, 1));
}

static vkt_status run_norm(vkt_ctx *ctx, void *p) {
    optim_arg *a = p;
    return vkt_grad_norm(ctx, a->g, a->n, 1.0f, a->scratch, a->out);
}

static const cli_cmd OPTIM = {
    .name = "bench optim",
    .usage = "usage: vkt bench optim [--n N] [common options]\n",
    .about = "AdamW and the global gradient norm over N parameters (default: GPT-2 small's), all\n"
             "in one buffer as the trainer keeps them.\n",
};

int bench_optim(bench_env *env, int argc, char **argv) {
    long n = 124439808; // GPT-2 small's parameter count
    const cli_opt table[] = {
        {"--n", CLI_OPT_LONG, &n, 1, 1l << 31, "N", .help = "parameters"},
        BENCH_COMMON_OPTS(env),
    };
    vkt_ctx *ctx;
    int rc = bench_start(env, &OPTIM, table, argc, argv, &ctx);
    if (rc != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    uint64_t un = (uint64_t)n, sb = vkt_reduce_scratch_bytes(ctx, un);
    vkt_buffer *b = NULL;
    if (vkt_buffer_create(ctx, 16 * un + sb + 16, &b) != VKT_OK)
        return cli_fail("bench", "%s", vkt_ctx_message(ctx));
    vkt_view all = vkt_view_all(b);
    optim_arg a = {.n = un,
                   .p = vkt_view_f32(all, 0, un),
                   .g = vkt_view_f32(all, un, un),
                   .m = vkt_view_f32(all, 2 * un, un),
                   .v = vkt_view_f32(all, 3 * un, un),
                   .scratch = vkt_view_f32(all, 4 * un, sb / 4),
                   .out = vkt_view_f32(all, 4 * un + sb / 4, 4),
                   .hp = {.lr = 1e-4f,
                          .beta1 = 0.9f,
                          .beta2 = 0.95f,
                          .eps = 1e-8f,
                          .weight_decay = 0.1f,
                          .t = 1,
                          .grad_scale = 1.0f}};
    if (vkt_fill(ctx, all, 4 * un, 0.01f) != VKT_OK)
        rc = cli_fail("bench", "%s", vkt_ctx_message(ctx));
    double ms = rc == CLI_OK ? bench_time(ctx, o, run_norm, &a) : -1;
    if (rc == CLI_OK && ms < 0) rc = cli_fail("bench", "grad_norm: %s", vkt_ctx_message(ctx));
    if (rc == CLI_OK)
        bench_report(
            ctx, o,
            &(bench_result){"grad_norm", "sum of squares + clip", n, -1, -1, ms, 0, 4.0 * n});
    ms = rc == CLI_OK ? bench_time(ctx, o, run_adamw, &a) : -1;
    if (rc == CLI_OK && ms < 0) rc = cli_fail("bench", "adamw: %s", vkt_ctx_message(ctx));
    if (rc == CLI_OK)
        bench_report(ctx, o,
                     &(bench_result){"adamw", "clip from device", n, -1, -1, ms, 0, 28.0 * n});
    vkt_buffer_destroy(ctx, b);
    return rc;
}
