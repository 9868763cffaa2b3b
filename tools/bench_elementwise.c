// bench_elementwise.c: fill and axpby bandwidth.
#include <string.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_elementwise.h"

typedef struct {
    vkt_view x, y;
    uint64_t n;
} axpby_arg;

static vkt_status run_axpby(vkt_ctx *ctx, void *p) {
    axpby_arg *a = p;
    return vkt_axpby(ctx, 0.5f, a->x, 0.5f, a->y, a->n);
}

static const cli_cmd CMD = {
    .name = "bench elementwise",
    .usage = "usage: vkt bench elementwise [--n N] [common options]\n",
    .about = "axpby (y = a x + b y) bandwidth on two vectors of N floats.\n",
};

int bench_elementwise(bench_env *env, int argc, char **argv) {
    long n = 1 << 24;
    const cli_opt table[] = {
        {"--n", CLI_OPT_LONG, &n, 1, 1l << 30, "N", .help = "floats per vector"},
        BENCH_COMMON_OPTS(env),
    };
    vkt_ctx *ctx;
    int rc = bench_start(env, &CMD, table, argc, argv, &ctx);
    if (rc != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    vkt_buffer *x = NULL, *y = NULL;
    if (vkt_buffer_create(ctx, (uint64_t)n * 4, &x) != VKT_OK ||
        vkt_buffer_create(ctx, (uint64_t)n * 4, &y) != VKT_OK)
        return cli_fail("bench", "%s", vkt_ctx_message(ctx));
    axpby_arg a = {vkt_view_all(x), vkt_view_all(y), (uint64_t)n};
    if (vkt_fill(ctx, a.x, a.n, 1.0f) != VKT_OK || vkt_fill(ctx, a.y, a.n, 1.0f) != VKT_OK)
        rc = CLI_FAILED;
    double ms = rc == CLI_OK ? bench_time(ctx, o, run_axpby, &a) : -1;
    if (ms < 0)
        rc = cli_fail("bench", "axpby: %s", vkt_ctx_message(ctx));
    else
        bench_report(
            ctx, o,
            &(bench_result){"axpby", NULL, n, -1, -1, ms, 3.0 * (double)n, 12.0 * (double)n});
    vkt_buffer_destroy(ctx, x);
    vkt_buffer_destroy(ctx, y);
    return rc;
}
