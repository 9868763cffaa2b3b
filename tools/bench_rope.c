// bench_rope.c: RoPE through a frequency table (Llama 3.1 scaling: theta 500000, factor 8,
// low 1, high 4, original 8192) on q and k of a fused (B, T, H + 2 KVH, D) qkv buffer,
// Llama 3.2 1B heads by default, forward and backward on the device next to the C
// reference (vkt_ref_rope_fwd_freq, one core) on the same shape in the same run.
// GB/s counts the bytes the op must move: every rotated float read and written once.
#include <stdlib.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_elementwise.h"
#include "op_rope.h"
#include "reference.h"
#include "rope_freq.h"

typedef struct {
    int B, T, H, KVH, D, C; // C: row stride (H + 2 KVH) D
    bool bwd;
    vkt_view qkv, pos, freq; // device
    float *hx;               // host (B*T, C) for the reference
    int32_t *hpos;
    double *inv;
} rope_arg;

static vkt_status run_gpu(vkt_ctx *ctx, void *p) {
    rope_arg *a = p;
    vkt_view k = vkt_view_f32(a->qkv, (uint64_t)a->H * a->D,
                              (uint64_t)a->B * a->T * a->C - (uint64_t)a->H * a->D);
    if (a->bwd) {
        VKT_TRY(vkt_rope_bwd_freq(ctx, a->B, a->T, a->H, a->D, a->C, a->pos, a->freq, a->qkv));
        return vkt_rope_bwd_freq(ctx, a->B, a->T, a->KVH, a->D, a->C, a->pos, a->freq, k);
    }
    VKT_TRY(vkt_rope_fwd_freq(ctx, a->B, a->T, a->H, a->D, a->C, a->pos, a->freq, a->qkv));
    return vkt_rope_fwd_freq(ctx, a->B, a->T, a->KVH, a->D, a->C, a->pos, a->freq, k);
}

static vkt_status run_ref(vkt_ctx *ctx, void *p) {
    rope_arg *a = p;
    (void)ctx;
    VKT_TRY(vkt_ref_rope_fwd_freq(a->B, a->T, a->H, a->D, a->C, a->hpos, a->inv, a->hx, NULL));
    return vkt_ref_rope_fwd_freq(a->B, a->T, a->KVH, a->D, a->C, a->hpos, a->inv,
                                 a->hx + (size_t)a->H * a->D, NULL);
}

static const cli_cmd CMD = {
    .name = "bench rope",
    .usage = "usage: vkt bench rope [--b B --t T --h H --kvh KVH --d D] [common options]\n",
    .about = "RoPE through a Llama 3.1 frequency table on q and k of a fused qkv buffer, forward\n"
             "and backward, next to the C reference on one core.\n",
};

int bench_rope(bench_env *env, int argc, char **argv) {
    long v[5] = {4, 256, 32, 8, 64}; // B, T, H, KVH, D
    const cli_opt table[] = {
        {"--b", CLI_OPT_LONG, &v[0], 1, 1 << 16, "B", .help = "sequences"},
        {"--t", CLI_OPT_LONG, &v[1], 1, 1 << 20, "T", .help = "positions"},
        {"--h", CLI_OPT_LONG, &v[2], 1, 1 << 10, "H", .help = "query heads"},
        {"--kvh", CLI_OPT_LONG, &v[3], 1, 1 << 10, "KVH", .help = "key/value heads"},
        {"--d", CLI_OPT_LONG, &v[4], 1, 256, "D", .help = "head dimension (even)"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (v[4] % 2 != 0) return cli_usage_error(CMD.name, "--d %ld must be even", v[4]);
    vkt_ctx *ctx;
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    rope_arg a = {.B = (int)v[0], .T = (int)v[1], .H = (int)v[2], .KVH = (int)v[3], .D = (int)v[4]};
    a.C = (a.H + 2 * a.KVH) * a.D;
    uint64_t rows = (uint64_t)a.B * a.T, n = rows * (uint64_t)a.C;
    const vkt_rope_freq_spec spec = {VKT_ROPE_FREQ_LLAMA3, 8.0, 1.0, 4.0, 8192};
    vkt_buffer *qkv = NULL, *pos = NULL, *freq = NULL;
    a.hx = malloc(n * 4), a.hpos = malloc(rows * 4);
    a.inv = malloc((size_t)a.D / 2 * sizeof *a.inv);
    float *hilo = malloc((size_t)a.D * 4);
    if (!a.hx || !a.hpos || !a.inv || !hilo)
        rc = cli_fail("bench", "rope: out of memory");
    else if (vkt_rope_inv_freq(500000.0, &spec, a.D, a.inv, vkt_ctx_err(ctx)) != VKT_OK)
        rc = cli_fail("bench", "rope: %s", vkt_ctx_message(ctx));
    if (rc == CLI_OK) {
        for (uint64_t r = 0; r < rows; r++) a.hpos[r] = (int32_t)(r % (uint64_t)a.T);
        for (uint64_t i = 0; i < n; i++) a.hx[i] = 0.5f;
        vkt_rope_freq_pack(a.inv, a.D / 2, hilo);
        if (vkt_buffer_create(ctx, n * 4, &qkv) || vkt_buffer_create(ctx, rows * 4, &pos) ||
            vkt_buffer_create(ctx, (uint64_t)a.D * 4, &freq) ||
            vkt_upload(ctx, vkt_view_all(pos), a.hpos, rows * 4) ||
            vkt_upload(ctx, vkt_view_all(freq), hilo, (uint64_t)a.D * 4) ||
            vkt_fill(ctx, vkt_view_all(qkv), n, 0.5f))
            rc = cli_fail("bench", "rope: %s", vkt_ctx_message(ctx));
    }
    double bytes = 8.0 * (double)rows * (a.H + a.KVH) * a.D; // q and k, read + write
    for (int k = 0; k < 3 && rc == CLI_OK; k++) {
        a.qkv = vkt_view_all(qkv), a.pos = vkt_view_all(pos), a.freq = vkt_view_all(freq);
        a.bwd = k == 1;
        double ms = bench_time(ctx, o, k < 2 ? run_gpu : run_ref, &a);
        if (ms < 0) {
            rc = cli_fail("bench", "rope: %s", vkt_ctx_message(ctx));
            break;
        }
        const char *variant[3] = {"table llama3 q+k", "table llama3 q+k", "C reference"};
        bench_result r = {k == 1 ? "rope_bwd" : "rope_fwd",
                          variant[k],
                          (int64_t)rows,
                          a.H + a.KVH,
                          a.D,
                          ms,
                          0,
                          bytes};
        bench_report(ctx, o, &r);
    }
    free(a.hx), free(a.hpos), free(a.inv), free(hilo);
    vkt_buffer_destroy(ctx, qkv), vkt_buffer_destroy(ctx, pos), vkt_buffer_destroy(ctx, freq);
    return rc;
}
