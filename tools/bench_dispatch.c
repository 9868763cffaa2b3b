// bench_dispatch.c: host time to record one dispatch, with the dispatch caches (pipeline
// index, cached texel views) on and off in the same run. Tiny ops, so the device's work is
// negligible: axpby on 16 floats (storage buffers) and a 4x4x4 matmul on the texel path
// (two texel views per dispatch), with --pipelines other pipelines made first. Dispatches are
// recorded in batches, each then submitted and waited for; the recording thread's CPU time
// over the dispatches recorded is the figure.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "dispatch.h"
#include "op_elementwise.h"
#include "op_matmul.h"

typedef struct {
    vkt_view x, y, a, b, c;
} tiny_ops;

typedef struct {
    const char *name;
    vkt_status (*fn)(vkt_ctx *ctx, const tiny_ops *t);
} tiny_case;

static vkt_status run_axpby(vkt_ctx *ctx, const tiny_ops *t) {
    return vkt_axpby(ctx, 0.5f, t->x, 0.5f, t->y, 16);
}

static vkt_status run_matmul(vkt_ctx *ctx, const tiny_ops *t) {
    vkt_view none = {0};
    return vkt_matmul_on_path(ctx, VKT_MATMUL_TEXEL_REGBLOCK, false, false, 4, 4, 4, 1.0f, t->a,
                              t->b, 0.0f, t->c, none);
}

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// One rep: n dispatches in batches; adds recording CPU seconds and total wall seconds.
static vkt_status one_rep(vkt_ctx *ctx, const tiny_case *c, const tiny_ops *t, long n, long batch,
                          double *rec_s, double *wall_s) {
    double w0 = clock_s(CLOCK_MONOTONIC);
    *rec_s = 0;
    for (long done = 0; done < n; done += batch) {
        long k = n - done < batch ? n - done : batch;
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (long i = 0; i < k; i++) VKT_TRY(c->fn(ctx, t));
        *rec_s += clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        VKT_TRY(vkt_sync(ctx));
    }
    *wall_s = clock_s(CLOCK_MONOTONIC) - w0;
    return VKT_OK;
}

static void report(vkt_ctx *ctx, const bench_opts *o, const char *name, bool on, long n,
                   double rec_us, double wall_us, const vkt_dispatch_counts *dc) {
    if (o->json)
        printf("{\"op\": \"dispatch\", \"variant\": \"%s cache=%s\", \"dispatches\": %ld, "
               "\"record_us\": %.4f, "
               "\"wall_us\": %.4f, \"views_created\": %llu, \"device\": \"%s\"}\n",
               name, on ? "on" : "off", n, rec_us, wall_us, (unsigned long long)dc->views_created,
               vkt_ctx_profile(ctx)->name);
    else
        printf(
            "%-18s %-18s cache=%-3s %6ld x %7.3f us/dispatch recording (host CPU) %8.2f us wall\n",
            "dispatch", name, on ? "on" : "off", n, rec_us, wall_us);
    fflush(stdout);
}

// Median over reps (at least o->reps, and o->min_s seconds) of one case in one mode.
static vkt_status time_case(vkt_ctx *ctx, const bench_opts *o, const tiny_case *c,
                            const tiny_ops *t, bool on, long n, long batch) {
    VKT_TRY(vkt_dispatch_cache_set(ctx, on));
    double rec, wall, recs[256], walls[256];
    VKT_TRY(one_rep(ctx, c, t, batch, batch, &rec, &wall)); // warm-up: pipelines, views
    vkt_dispatch_counts before, after;
    vkt_dispatch_counts_get(ctx, &before);
    int reps = 0;
    double start = clock_s(CLOCK_MONOTONIC);
    while (reps < 256 && (reps < o->reps || clock_s(CLOCK_MONOTONIC) - start < o->min_s)) {
        VKT_TRY(one_rep(ctx, c, t, n, batch, &recs[reps], &walls[reps]));
        reps++;
    }
    vkt_dispatch_counts_get(ctx, &after);
    after.views_created -= before.views_created;
    qsort(recs, (size_t)reps, sizeof *recs, cmp_double);
    qsort(walls, (size_t)reps, sizeof *walls, cmp_double);
    report(ctx, o, c->name, on, n, recs[reps / 2] * 1e6 / (double)n,
           walls[reps / 2] * 1e6 / (double)n, &after);
    return VKT_OK;
}

// P other pipelines (elementwise at distinct workgroup sizes) ahead of the timed ones, as a
// training run has: the old lookup scans them.
static vkt_status prefill(vkt_ctx *ctx, long p, vkt_view v) {
    for (long i = 0; i < p; i++) {
        vkt_dispatch d = {.shader = "elementwise",
                          .spec = {(uint32_t)(1000 - i), 1, 1},
                          .nspec = 3,
                          .nbind = 2,
                          .push_bytes = 24};
        d.bind[0] = (vkt_binding){v, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){v, VKT_BIND_WRITE};
        int index;
        VKT_TRY(vkt_dispatch_pipeline(ctx, &d, &index));
    }
    return VKT_OK;
}

static const cli_cmd CMD = {
    .name = "bench dispatch",
    .usage = "usage: vkt bench dispatch [--n N] [--batch B] [--pipelines P] [common options]\n",
    .about = "Host time to record one tiny dispatch (axpby on 16 floats, a 4x4x4 texel matmul),\n"
             "dispatch caches on and off in the same run: the recording thread's CPU time.\n",
};

int bench_dispatch(bench_env *env, int argc, char **argv) {
    long n = 2000, batch = 200, pipes = 64;
    const cli_opt table[] = {
        {"--n", CLI_OPT_LONG, &n, 1, 1l << 24, "N", .help = "dispatches timed per repetition"},
        // under 256: a command buffer is submitted by itself at 256 dispatches
        {"--batch", CLI_OPT_LONG, &batch, 1, 255, "B",
         .help = "dispatches recorded between submissions"},
        {"--pipelines", CLI_OPT_LONG, &pipes, 0, 512, "P",
         .help = "other pipelines made first (the lookup scans them)"},
        BENCH_COMMON_OPTS(env),
    };
    vkt_ctx *ctx;
    int rc = bench_start(env, &CMD, table, argc, argv, &ctx);
    if (rc != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    vkt_dispatch_counts start;
    vkt_dispatch_counts_get(ctx, &start);
    vkt_buffer *buf = NULL;
    if (vkt_buffer_create(ctx, 4096, &buf) != VKT_OK)
        return cli_fail("bench", "%s", vkt_ctx_message(ctx));
    vkt_view all = vkt_view_all(buf);
    tiny_ops t = {vkt_view_f32(all, 0, 16), vkt_view_f32(all, 64, 16), vkt_view_f32(all, 128, 16),
                  vkt_view_f32(all, 192, 16), vkt_view_f32(all, 256, 16)};
    static const tiny_case cases[] = {{"axpby-16", run_axpby}, {"matmul-4x4x4 texel", run_matmul}};
    if (prefill(ctx, pipes, t.x) != VKT_OK || vkt_fill(ctx, all, 1024, 0.25f) != VKT_OK)
        rc = cli_fail("bench", "dispatch: %s", vkt_ctx_message(ctx));
    for (int c = 0; c < 2 && rc == CLI_OK; c++)
        for (int on = 0; on < 2 && rc == CLI_OK; on++)
            if (time_case(ctx, o, &cases[c], &t, on == 1, n, batch) != VKT_OK)
                rc = cli_fail("bench", "dispatch %s: %s", cases[c].name, vkt_ctx_message(ctx));
    vkt_dispatch_cache_set(ctx, start.cache_on);
    vkt_buffer_destroy(ctx, buf);
    return rc;
}
