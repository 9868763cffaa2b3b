// bench_matmul.c: matmul GFLOP/s. With no shape: 256, 512, 1024, 2048 square (NN) and
// the GPT-2 small linear layer (M=256, K=768, N=3072) in every transpose; with
// --m/--n/--k one product. tools/bench_numpy_sgemm.py times OpenBLAS on the same shapes.
// --dtype bf16|f16 times vkt_matmul16 beside fp32 on each shape and prints the speed ratio
// (table output; JSON has both rows, told apart by the variant): A and B in 16 bits (with
// --tb the forward product of mixed-precision training, y = x16 W16^T; with --ta its weight
// gradient dW = dy16^T x16); with --path splitk both through split-k (vkt_matmul16_splitk).
// --path picks the kernel family (default: the device's): texel, tiled, gpu, splitk (the
// gpu kernel through vkt_matmul_splitk, --splits N layers, 0: the profile's choice), or all:
// every family on each shape, each with its speed as a ratio to the device's own path
// measured in the same run (table output; JSON has one row per family).
#include <stdio.h>
#include <string.h>

#include "half.h"

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_elementwise.h"
#include "op_matmul.h"

// Kernel families: the three paths, then split-k on the gpu path.
enum {
    FAM_TEXEL = VKT_MATMUL_TEXEL_REGBLOCK,
    FAM_TILED = VKT_MATMUL_SHARED_TILED,
    FAM_GPU = VKT_MATMUL_GPU_TILED,
    FAM_SPLITK,
    FAM_N,
    FAM_ALL = FAM_N
};
// FAM_SPLITK with --splits 0 where the profile would not split (e.g. a CPU device without
// VKT_MATMUL=splitk): the gpu kernel in one layer, labelled x1.
static const char *const fam_names[FAM_N] = {"texel-regblock", "shared-tiled", "gpu-tiled",
                                             "gpu-splitk"};

typedef struct {
    vkt_matmul_path path;
    int splits; // >= 0: vkt_matmul_splitk with this many (0: the profile's choice)
    int dt;     // -1: fp32 B, else a vkt_dtype16
    bool ta, tb;
    int m, n, k;
    vkt_view a, b, c, bias, scratch;
} matmul_arg;

static vkt_status run_matmul(vkt_ctx *ctx, void *p) {
    matmul_arg *a = p;
    if (a->dt >= 0 && a->splits >= 0)
        return vkt_matmul16_splitk(ctx, a->splits, (vkt_dtype16)a->dt, true, true, a->ta, a->tb,
                                   a->m, a->n, a->k, 1.0f, a->a, a->b, 0.0f, a->c, a->bias,
                                   a->scratch);
    if (a->dt >= 0)
        return vkt_matmul16_on_path(ctx, a->path, (vkt_dtype16)a->dt, true, true, a->ta, a->tb,
                                    a->m, a->n, a->k, 1.0f, a->a, a->b, 0.0f, a->c, a->bias);
    if (a->splits >= 0)
        return vkt_matmul_splitk(ctx, a->splits, a->ta, a->tb, a->m, a->n, a->k, 1.0f, a->a, a->b,
                                 0.0f, a->c, a->bias, a->scratch);
    return vkt_matmul_on_path(ctx, a->path, a->ta, a->tb, a->m, a->n, a->k, 1.0f, a->a, a->b, 0.0f,
                              a->c, a->bias);
}

// One product of a family (splits: FAM_SPLITK's layer request) in fp32 (dt -1) or with
// 16-bit operands (a vkt_dtype16: A and B); *ms_out gets its time.
static int bench_one(vkt_ctx *ctx, const bench_opts *o, int fam, int splits, int dt, bool ta,
                     bool tb, int m, int n, int k, bool bias, double *ms_out) {
    uint64_t na = (uint64_t)m * k, nb = (uint64_t)k * n, nc = (uint64_t)m * n;
    uint64_t ns = fam == FAM_SPLITK ? vkt_matmul_splitk_scratch_floats(ctx, m, n, k, splits) : 0;
    // 16-bit operands: whole 32-bit words, filled with a pair of equal values.
    bool a16 = dt >= 0;
    uint64_t b_words = dt >= 0 ? (nb + 1) / 2 : nb, a_words = a16 ? (na + 1) / 2 : na;
    float b_fill = 0.25f;
    if (dt >= 0) {
        uint32_t h = vkt_f32_to_half((vkt_dtype16)dt, 0.25f), w = h | h << 16;
        memcpy(&b_fill, &w, 4);
    }
    vkt_buffer *ba = NULL, *bb = NULL, *bc = NULL, *bbias = NULL, *bs = NULL;
    int rc = CLI_OK;
    if (vkt_buffer_create(ctx, a_words * 4, &ba) != VKT_OK ||
        vkt_buffer_create(ctx, b_words * 4, &bb) != VKT_OK ||
        vkt_buffer_create(ctx, nc * 4, &bc) != VKT_OK ||
        vkt_buffer_create(ctx, (uint64_t)n * 4, &bbias) != VKT_OK ||
        (ns && vkt_buffer_create(ctx, ns * 4, &bs) != VKT_OK))
        rc = cli_fail("bench", "matmul: %s", vkt_ctx_message(ctx));
    matmul_arg a = {.path = fam == FAM_SPLITK ? VKT_MATMUL_GPU_TILED : (vkt_matmul_path)fam,
                    .splits = fam != FAM_SPLITK  ? -1
                              : splits > 0 || ns ? splits
                                                 : 1,
                    .dt = dt,
                    .ta = ta,
                    .tb = tb,
                    .m = m,
                    .n = n,
                    .k = k};
    if (rc == CLI_OK) {
        a.a = vkt_view_all(ba), a.b = vkt_view_all(bb), a.c = vkt_view_all(bc);
        a.scratch = bs ? vkt_view_all(bs) : (vkt_view){0};
        a.bias = bias ? vkt_view_all(bbias) : (vkt_view){0};
        if (vkt_fill(ctx, a.a, a_words, a16 ? b_fill : 0.5f) != VKT_OK ||
            vkt_fill(ctx, a.b, b_words, b_fill) != VKT_OK ||
            vkt_fill(ctx, vkt_view_all(bbias), (uint64_t)n, 1.0f) != VKT_OK)
            rc = cli_fail("bench", "matmul: %s", vkt_ctx_message(ctx));
    }
    if (rc == CLI_OK) {
        double ms = bench_time(ctx, o, run_matmul, &a);
        if (ms < 0) {
            rc = cli_fail("bench", "matmul: %s", vkt_ctx_message(ctx));
        } else {
            char variant[64], layers[16] = "";
            if (fam == FAM_SPLITK)
                snprintf(layers, sizeof layers, " x%llu", (unsigned long long)(ns ? ns / nc : 1));
            snprintf(variant, sizeof variant, "%c%c %s%s%s%s%s%s", ta ? 'T' : 'N', tb ? 'T' : 'N',
                     fam_names[fam], layers, bias ? " +bias" : "", dt >= 0 ? " " : "",
                     dt >= 0 ? vkt_dtype16_name((vkt_dtype16)dt) : "", a16 ? " A+B" : "");
            double bytes = (a16 ? 2.0 : 4.0) * (double)na + 4.0 * (double)nc +
                           (dt >= 0 ? 2.0 : 4.0) * (double)nb;
            bench_report(
                ctx, o,
                &(bench_result){"matmul", variant, m, n, k, ms, 2.0 * m * (double)n * k, bytes});
            if (ms_out) *ms_out = ms;
        }
    }
    if (ba) vkt_buffer_destroy(ctx, ba);
    if (bb) vkt_buffer_destroy(ctx, bb);
    if (bc) vkt_buffer_destroy(ctx, bc);
    if (bbias) vkt_buffer_destroy(ctx, bbias);
    if (bs) vkt_buffer_destroy(ctx, bs);
    return rc;
}

// One shape: fp32, and with a 16-bit dt also the 16-bit product and their speed ratio.
// FAM_ALL: every family in fp32, each against the device's own path (timed first).
static int bench_shape(vkt_ctx *ctx, const bench_opts *o, int fam, int splits, int dt, bool ta,
                       bool tb, int m, int n, int k, bool bias) {
    double ms32 = 0, ms16 = 0;
    if (fam == FAM_ALL) {
        int def = (int)vkt_ctx_profile(ctx)->matmul_path;
        int rc = bench_one(ctx, o, def, 0, -1, ta, tb, m, n, k, bias, &ms32);
        for (int f = 0; f < FAM_N && rc == CLI_OK; f++) {
            if (f == def) continue;
            double ms = 0;
            rc = bench_one(ctx, o, f, splits, -1, ta, tb, m, n, k, bias, &ms);
            if (rc == CLI_OK && !o->json && ms > 0)
                printf("%-18s %-22s %.2fx the speed of %s\n", "", fam_names[f], ms32 / ms,
                       fam_names[def]);
        }
        return rc;
    }
    int rc = bench_one(ctx, o, fam, splits, -1, ta, tb, m, n, k, bias, &ms32);
    if (rc != CLI_OK || dt < 0) return rc;
    rc = bench_one(ctx, o, fam, splits, dt, ta, tb, m, n, k, bias, &ms16);
    if (rc == CLI_OK && !o->json && ms16 > 0)
        printf("%-18s %-22s %.2fx the fp32 speed\n", "", vkt_dtype16_name((vkt_dtype16)dt),
               ms32 / ms16);
    return rc;
}

static const cli_cmd CMD = {
    .name = "bench matmul",
    .usage = "usage: vkt bench matmul [--m M --n N --k K] [--ta] [--tb] [--bias]\n"
             "                        [--path texel|tiled|gpu|splitk|all] [--splits N]\n"
             "                        [--dtype bf16|f16] [common options]\n",
    .about =
        "Matmul GFLOP/s: C (M, N) = A (M, K) B (K, N). With no shape, 256, 512, 1024 and 2048\n"
        "square and the GPT-2 small MLP shape (M=256, K=768, N=3072) in every transpose.\n",
};

// --path's choices, in the order of the families they pick (cpu: texel's old name).
static const int path_fam[] = {FAM_TEXEL, FAM_TEXEL, FAM_TILED, FAM_GPU, FAM_SPLITK, FAM_ALL};
// --dtype's choices: fp32, or 16-bit A and B.
static const int dtype_dt[] = {-1, VKT_BF16, VKT_F16};

int bench_matmul(bench_env *env, int argc, char **argv) {
    long m = 0, n = 0, k = 0, splits = 0;
    bool ta = false, tb = false, bias = false;
    int path = -1, dtype = 0;
    const cli_opt table[] = {
        {"--m", CLI_OPT_LONG, &m, 1, 1 << 30, "M", .def = "",
         .help = "rows of A and C (with --n and --k: that one product)"},
        {"--n", CLI_OPT_LONG, &n, 1, 1 << 30, "N", .def = "", .help = "columns of B and C"},
        {"--k", CLI_OPT_LONG, &k, 1, 1 << 30, "K", .def = "", .help = "the inner dimension"},
        {"--ta", CLI_OPT_FLAG, &ta, .help = "A transposed: stored (K, M)"},
        {"--tb", CLI_OPT_FLAG, &tb, .help = "B transposed: stored (N, K)"},
        {"--bias", CLI_OPT_FLAG, &bias, .help = "add a bias row to C"},
        {"--path", CLI_OPT_CHOICE, &path, .choices = "texel|cpu|tiled|gpu|splitk|all",
         .def = "the device's",
         .help = "kernel family (cpu: texel); all: every family, each as a ratio to the\n"
                 "device's own path"},
        {"--splits", CLI_OPT_LONG, &splits, 0, 256, "N",
         .help = "split-k layers of --path splitk (0: the profile's choice)"},
        {"--dtype", CLI_OPT_CHOICE, &dtype, .choices = "f32|bf16|f16",
         .help = "also time the product with A and B in 16 bits, and the speed ratio"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if ((m || n || k) && (!m || !n || !k))
        return cli_usage_error(CMD.name, "give all of --m, --n and --k");
    vkt_ctx *ctx;
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    const int dt = dtype_dt[dtype];
    const int fam = path < 0 ? (int)vkt_ctx_profile(ctx)->matmul_path : path_fam[path];
    if (m || n || k)
        return bench_shape(ctx, o, fam, (int)splits, dt, ta, tb, (int)m, (int)n, (int)k, bias);
    static const int square[] = {256, 512, 1024, 2048};
    for (int i = 0; i < 4 && rc == CLI_OK; i++)
        rc = bench_shape(ctx, o, fam, (int)splits, dt, false, false, square[i], square[i],
                         square[i], false);
    // GPT-2 small MLP up-projection shape, every transpose
    for (int t = 0; t < 4 && rc == CLI_OK; t++)
        rc = bench_shape(ctx, o, fam, (int)splits, dt, t & 2, t & 1, 256, 3072, 768, false);
    return rc;
}
