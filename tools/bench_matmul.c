// bench_matmul.c: matmul GFLOP/s. With no shape: 256, 512, 1024, 2048 square (NN) and
// the GPT-2 small linear layer (M=256, K=768, N=3072) in every transpose; with
// --m/--n/--k one product. tools/bench_numpy_sgemm.py times OpenBLAS on the same shapes.
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_elementwise.h"
#include "op_matmul.h"

typedef struct {
    vkt_matmul_path path;
    bool ta, tb;
    int m, n, k;
    vkt_view a, b, c, bias;
} matmul_arg;

static vkt_status run_matmul(vkt_ctx *ctx, void *p) {
    matmul_arg *a = p;
    return vkt_matmul_on_path(ctx, a->path, a->ta, a->tb, a->m, a->n, a->k, 1.0f, a->a, a->b, 0.0f, a->c, a->bias);
}

static int bench_one(vkt_ctx *ctx, const bench_opts *o, vkt_matmul_path path, bool ta, bool tb, int m, int n, int k,
                     bool bias) {
    uint64_t na = (uint64_t)m * k, nb = (uint64_t)k * n, nc = (uint64_t)m * n;
    vkt_buffer *ba = NULL, *bb = NULL, *bc = NULL, *bbias = NULL;
    int rc = CLI_OK;
    if (vkt_buffer_create(ctx, na * 4, &ba) != VKT_OK || vkt_buffer_create(ctx, nb * 4, &bb) != VKT_OK ||
        vkt_buffer_create(ctx, nc * 4, &bc) != VKT_OK || vkt_buffer_create(ctx, (uint64_t)n * 4, &bbias) != VKT_OK)
        rc = cli_fail("bench", "matmul: %s", vkt_ctx_message(ctx));
    matmul_arg a = {.path = path, .ta = ta, .tb = tb, .m = m, .n = n, .k = k};
    if (rc == CLI_OK) {
        a.a = vkt_view_all(ba), a.b = vkt_view_all(bb), a.c = vkt_view_all(bc);
        a.bias = bias ? vkt_view_all(bbias) : (vkt_view){0};
        if (vkt_fill(ctx, a.a, na, 0.5f) != VKT_OK || vkt_fill(ctx, a.b, nb, 0.25f) != VKT_OK ||
            vkt_fill(ctx, vkt_view_all(bbias), (uint64_t)n, 1.0f) != VKT_OK)
            rc = cli_fail("bench", "matmul: %s", vkt_ctx_message(ctx));
    }
    if (rc == CLI_OK) {
        double ms = bench_time(ctx, o, run_matmul, &a);
        if (ms < 0) {
            rc = cli_fail("bench", "matmul: %s", vkt_ctx_message(ctx));
        } else {
            char variant[64];
            snprintf(variant, sizeof variant, "%c%c %s%s", ta ? 'T' : 'N', tb ? 'T' : 'N',
                     path == VKT_MATMUL_TEXEL_REGBLOCK ? "texel-regblock" : "shared-tiled", bias ? " +bias" : "");
            bench_report(ctx, o, &(bench_result){"matmul", variant, m, n, k, ms, 2.0 * m * (double)n * k,
                                                 4.0 * (double)(na + nb + nc)});
        }
    }
    if (ba) vkt_buffer_destroy(ctx, ba);
    if (bb) vkt_buffer_destroy(ctx, bb);
    if (bc) vkt_buffer_destroy(ctx, bc);
    if (bbias) vkt_buffer_destroy(ctx, bbias);
    return rc;
}

int bench_matmul(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv) {
    long m = 0, n = 0, k = 0;
    bool ta = false, tb = false, bias = false;
    vkt_matmul_path path = vkt_ctx_profile(ctx)->matmul_path;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--ta")) ta = true;
        else if (!strcmp(argv[i], "--tb")) tb = true;
        else if (!strcmp(argv[i], "--bias")) bias = true;
        else if ((r = cli_value(argc, argv, &i, "--m", &v)) != 0) {
            if (r < 0 || !cli_int("bench matmul", "--m", v, 1, 1 << 30, &m)) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--n", &v)) != 0) {
            if (r < 0 || !cli_int("bench matmul", "--n", v, 1, 1 << 30, &n)) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--k", &v)) != 0) {
            if (r < 0 || !cli_int("bench matmul", "--k", v, 1, 1 << 30, &k)) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--path", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (!strcmp(v, "cpu") || !strcmp(v, "texel")) path = VKT_MATMUL_TEXEL_REGBLOCK;
            else if (!strcmp(v, "gpu") || !strcmp(v, "tiled")) path = VKT_MATMUL_SHARED_TILED;
            else return cli_usage_error("bench", "matmul: --path must be cpu or gpu, not '%s'", v);
        } else {
            return cli_usage_error("bench", "matmul: unknown option '%s' (--m M --n N --k K [--ta] [--tb] [--bias] "
                                            "[--path cpu|gpu])", argv[i]);
        }
    }
    if (m || n || k) {
        if (!m || !n || !k) return cli_usage_error("bench", "matmul: give all of --m, --n and --k");
        return bench_one(ctx, o, path, ta, tb, (int)m, (int)n, (int)k, bias);
    }
    static const int square[] = {256, 512, 1024, 2048};
    int rc = CLI_OK;
    for (int i = 0; i < 4 && rc == CLI_OK; i++) rc = bench_one(ctx, o, path, false, false, square[i], square[i], square[i], false);
    // GPT-2 small MLP up-projection shape, every transpose
    for (int t = 0; t < 4 && rc == CLI_OK; t++) rc = bench_one(ctx, o, path, t & 2, t & 1, 256, 3072, 768, false);
    return rc;
}
