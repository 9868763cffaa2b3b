// bench_attention.c: attention forward/backward (GPT-2 small and a grouped-query shape,
// q/k/v in one fused buffer as the model lays them out), row softmax (4096 x 1024) and
// RoPE throughput; the KV-cached decode step (Tq = 1) on the decode path and on the
// row-per-query kernel (VKT_ATTN_DECODE=1 / 0, set per timed call). --path row|gpu|all
// times the row family, the GPU family or both (default: the device's own), each followed
// by the driver's statistics of its pipelines (registers, spills: whatever
// VK_KHR_pipeline_executable_properties names them; "unavailable" without it).
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_attention.h"
#include "op_elementwise.h"
#include "op_rope.h"
#include "op_softmax.h"
#include "pipeline_stats.h"

typedef struct {
    int B, T, H, KVH, D, C; // C: fused row stride (H + 2 KVH) D
    vkt_view q, k, v, out, lse, dout, dq, dk, dv, pos;
    int R, L;
    vkt_attention_path path;
} att_arg;

static vkt_status run_fwd(vkt_ctx *ctx, void *p) {
    att_arg *a = p;
    return vkt_attention_fwd_on_path(ctx, a->path, a->B, a->T, a->H, a->KVH, a->D,
                                     1.0f / sqrtf((float)a->D), a->q, a->C, a->k, a->C, a->v, a->C,
                                     a->out, a->lse);
}
static vkt_status run_bwd(vkt_ctx *ctx, void *p) {
    att_arg *a = p;
    return vkt_attention_bwd_on_path(ctx, a->path, a->B, a->T, a->H, a->KVH, a->D,
                                     1.0f / sqrtf((float)a->D), a->dout, a->q, a->C, a->k, a->C,
                                     a->v, a->C, a->out, a->lse, a->dq, a->dk, a->dv);
}

// The statistics of every attention pipeline of one family made so far: a JSON line per
// pipeline ({"op": "attention_pipeline", "variant", "shader", "stats": {name: value}} or
// "stats": "unavailable" with "why"), or a line of text each.
static void report_stats(vkt_ctx *ctx, const bench_opts *o, const char *variant,
                         vkt_attention_path path) {
    static const char *row[] = {
        "attention_fwd",     "attention_fwd_texel",     "attention_fwd_texel4",
        "attention_bwd_dq",  "attention_bwd_dq_texel",  "attention_bwd_dq_texel4",
        "attention_bwd_dkv", "attention_bwd_dkv_texel", "attention_bwd_dkv_texel4"};
    static const char *gpu[] = {"attention_fwd_gpu",     "attention_fwd_gpu_sg",
                                "attention_bwd_dq_gpu",  "attention_bwd_dq_gpu_sg",
                                "attention_bwd_dkv_gpu", "attention_bwd_dkv_gpu_sg"};
    const char **names = path == VKT_ATTENTION_GPU ? gpu : row;
    int count = path == VKT_ATTENTION_GPU ? 6 : 9;
    for (int i = 0; i < count; i++) {
        vkt_pipeline_stat st[VKT_PIPELINE_STATS_MAX];
        int n = 0;
        vkt_status s = vkt_pipeline_stats(ctx, names[i], st, &n);
        if (s == VKT_ERR_ARG) continue; // this family did not use that variant here
        if (o->json) {
            json_t *j = json_pack("{s:s, s:s, s:s}", "op", "attention_pipeline", "variant", variant,
                                  "shader", names[i]);
            json_t *stats = s == VKT_OK ? json_object() : json_string("unavailable");
            for (int k = 0; k < n; k++) {
                char key[132];
                snprintf(key, sizeof key, "%s: %s", st[k].executable, st[k].name);
                json_object_set_new(stats, key, json_real(st[k].value));
            }
            json_object_set_new(j, "stats", stats);
            if (s != VKT_OK) json_object_set_new(j, "why", json_string(vkt_ctx_message(ctx)));
            char *line = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
            if (line) printf("%s\n", line);
            free(line);
            json_decref(j);
        } else {
            printf("  %-28s", names[i]);
            if (s != VKT_OK) printf(" statistics unavailable (%s)", vkt_ctx_message(ctx));
            for (int k = 0; k < n; k++) printf("%s %s=%g", k ? "," : "", st[k].name, st[k].value);
            printf("\n");
        }
    }
}

static vkt_status run_cached(vkt_ctx *ctx, void *p) {
    att_arg *a = p;
    return vkt_attention_fwd_cached(ctx, a->B, 1, a->T - 1, a->T, a->T, a->H, a->KVH, a->D,
                                    1.0f / sqrtf((float)a->D), a->q, a->H * a->D, a->k, a->C, a->v,
                                    a->C, a->out, a->lse);
}

static vkt_view sub(vkt_buffer *b, uint64_t first) {
    vkt_view all = vkt_view_all(b);
    return vkt_view_f32(all, first, all.bytes / 4 - first);
}

// paths: bit 0 the row family, bit 1 the GPU family.
static int one_shape(vkt_ctx *ctx, const bench_opts *o, int paths, const char *name, int B, int T,
                     int H, int KVH, int D) {
    att_arg a = {.B = B, .T = T, .H = H, .KVH = KVH, .D = D, .C = (H + 2 * KVH) * D};
    uint64_t nqkv = (uint64_t)B * T * a.C, nout = (uint64_t)B * T * H * D;
    vkt_buffer *qkv = NULL, *dqkv = NULL, *out = NULL, *lse = NULL, *dout = NULL;
    int rc = CLI_OK;
    if (vkt_buffer_create(ctx, nqkv * 4, &qkv) || vkt_buffer_create(ctx, nqkv * 4, &dqkv) ||
        vkt_buffer_create(ctx, nout * 4, &out) ||
        vkt_buffer_create(ctx, (uint64_t)B * H * T * 4, &lse) ||
        vkt_buffer_create(ctx, nout * 4, &dout))
        rc = cli_fail("bench", "attention: %s", vkt_ctx_message(ctx));
    if (rc == CLI_OK) {
        a.q = sub(qkv, 0), a.k = sub(qkv, (uint64_t)H * D), a.v = sub(qkv, (uint64_t)(H + KVH) * D);
        a.dq = sub(dqkv, 0), a.dk = sub(dqkv, (uint64_t)H * D),
        a.dv = sub(dqkv, (uint64_t)(H + KVH) * D);
        a.out = vkt_view_all(out), a.lse = vkt_view_all(lse), a.dout = vkt_view_all(dout);
        // Small values keep the softmax away from one-hot rows (and every path busy).
        if (vkt_fill(ctx, vkt_view_all(qkv), nqkv, 0.01f) || vkt_fill(ctx, a.dout, nout, 0.1f) ||
            vkt_fill(ctx, vkt_view_all(dqkv), nqkv, 0.0f))
            rc = cli_fail("bench", "attention: %s", vkt_ctx_message(ctx));
    }
    // Causal: half of the T x T scores; forward 2 products of 2 B H T^2 D / 2 flops each,
    // backward counted as 2.5x the forward (FlashAttention-2's convention).
    double fwd_flops = 2.0 * B * H * (double)T * T * D;
    double bytes = 4.0 * (2.0 * nout + (double)B * T * 2 * KVH * D + (double)B * H * T);
    for (int path = 0; path < 2 && rc == CLI_OK; path++) {
        if (!(paths & (1 << path))) continue;
        a.path = path ? VKT_ATTENTION_GPU : VKT_ATTENTION_ROW;
        char variant[96];
        snprintf(variant, sizeof variant, "%s %s", name, path ? "gpu" : "row");
        for (int pass = 0; pass < 2 && rc == CLI_OK; pass++) {
            double ms = bench_time(ctx, o, pass == 0 ? run_fwd : run_bwd, &a);
            if (ms < 0) {
                rc = cli_fail("bench", "attention: %s", vkt_ctx_message(ctx));
                break;
            }
            bench_report(ctx, o,
                         &(bench_result){pass == 0 ? "attention_fwd" : "attention_bwd", variant,
                                         (int64_t)B * H, T, D, ms,
                                         pass == 0 ? fwd_flops : 2.5 * fwd_flops,
                                         pass == 0 ? bytes : 2.5 * bytes});
        }
        if (rc == CLI_OK) report_stats(ctx, o, variant, a.path);
    }
    vkt_buffer_destroy(ctx, qkv), vkt_buffer_destroy(ctx, dqkv), vkt_buffer_destroy(ctx, out);
    vkt_buffer_destroy(ctx, lse), vkt_buffer_destroy(ctx, dout);
    return rc;
}

// One decode step: B sequences, one new query each after Lk - 1 cached keys, k and v
// interleaved in one cache of rows 2 KVH D (as trainer/gen_forward.c keeps them), timed
// on both paths. Reads the whole cache once: bytes = 4 (2 B Lk KVH D + 2 B H D).
static int one_decode(vkt_ctx *ctx, const bench_opts *o, int B, int Lk, int H, int KVH, int D) {
    att_arg a = {.B = B, .T = Lk, .H = H, .KVH = KVH, .D = D, .C = 2 * KVH * D};
    uint64_t nc = (uint64_t)B * Lk * a.C, nq = (uint64_t)B * H * D;
    vkt_buffer *cache = NULL, *q = NULL, *out = NULL, *lse = NULL;
    int rc = CLI_OK;
    if (vkt_buffer_create(ctx, nc * 4, &cache) || vkt_buffer_create(ctx, nq * 4, &q) ||
        vkt_buffer_create(ctx, nq * 4, &out) || vkt_buffer_create(ctx, (uint64_t)B * H * 4, &lse) ||
        vkt_fill(ctx, vkt_view_all(cache), nc, 0.01f) || vkt_fill(ctx, vkt_view_all(q), nq, 0.01f))
        rc = cli_fail("bench", "attention decode: %s", vkt_ctx_message(ctx));
    a.q = vkt_view_all(q), a.k = sub(cache, 0), a.v = sub(cache, (uint64_t)KVH * D);
    a.out = vkt_view_all(out), a.lse = vkt_view_all(lse);
    const char *prev = getenv("VKT_ATTN_DECODE");
    char *saved = prev ? strdup(prev) : NULL;
    for (int path = 0; path < 2 && rc == CLI_OK; path++) {
        setenv("VKT_ATTN_DECODE", path == 0 ? "1" : "0", 1);
        double ms = bench_time(ctx, o, run_cached, &a);
        if (ms < 0) {
            rc = cli_fail("bench", "attention decode: %s", vkt_ctx_message(ctx));
            break;
        }
        char name[64];
        snprintf(name, sizeof name, "%s B=%d KVH=%d", path == 0 ? "decode" : "rows (old)", B, KVH);
        bench_report(ctx, o,
                     &(bench_result){"attention_cached", name, (int64_t)B * H, Lk, D, ms,
                                     4.0 * B * H * (double)Lk * D,
                                     4.0 * (2.0 * B * Lk * KVH * D + 2.0 * nq)});
    }
    if (saved)
        setenv("VKT_ATTN_DECODE", saved, 1);
    else
        unsetenv("VKT_ATTN_DECODE");
    free(saved);
    vkt_buffer_destroy(ctx, cache), vkt_buffer_destroy(ctx, q), vkt_buffer_destroy(ctx, out);
    vkt_buffer_destroy(ctx, lse);
    return rc;
}

// The decode entries: B 1 and 16, H 16, KVH 8, D 128, Lk 128 and 1024 (a 0.6B model's
// heads), or the one shape --decode-lk (with --b/--h/--kvh/--d) names.
static int decode_entries(vkt_ctx *ctx, const bench_opts *o, long lk, long B, long H, long KVH,
                          long D) {
    if (lk > 0) return one_decode(ctx, o, B > 0 ? (int)B : 1, (int)lk, (int)H, (int)KVH, (int)D);
    int rc = CLI_OK;
    for (int i = 0; i < 4 && rc == CLI_OK; i++)
        rc = one_decode(ctx, o, i % 2 ? 16 : 1, i < 2 ? 128 : 1024, 16, 8, 128);
    return rc;
}

static const cli_cmd ATTENTION = {
    .name = "bench attention",
    .usage = "usage: vkt bench attention [--path row|gpu|all] [--b B --t T --h H --kvh KVH --d D]\n"
             "                           [--decode] [--decode-lk L] [common options]\n",
    .about = "Causal attention forward and backward, GPT-2 small (4, 256, 12 heads of 64) and a\n"
             "grouped-query shape (8 query heads over 2), or the one shape --b names; then the\n"
             "KV-cached decode step on the decode path and on the row-per-query kernel.\n",
};

int bench_attention(bench_env *env, int argc, char **argv) {
    long B = -1, T = 256, H = 12, KVH = -1, D = 64, lk = -1;
    bool decode_only = false;
    int path = -1; // --path's choice: row, gpu, all
    const cli_opt table[] = {
        {"--path", CLI_OPT_CHOICE, &path, .choices = "row|gpu|all", .def = "the device's",
         .help = "kernel family, or both"},
        {"--b", CLI_OPT_LONG, &B, 1, 1 << 20, "B", .def = "",
         .help = "sequences: one custom shape instead of the standard ones"},
        {"--t", CLI_OPT_LONG, &T, 1, 1 << 20, "T", .help = "positions"},
        {"--h", CLI_OPT_LONG, &H, 1, 1 << 20, "H", .help = "query heads"},
        {"--kvh", CLI_OPT_LONG, &KVH, 1, 1 << 20, "KVH", .def = "--h", .help = "key/value heads"},
        {"--d", CLI_OPT_LONG, &D, 1, 1 << 20, "D", .help = "head dimension"},
        {"--decode", CLI_OPT_FLAG, &decode_only,
         .help = "only the decode step (B 1 and 16, H 16, KVH 8, D 128, Lk 128 and 1024)"},
        {"--decode-lk", CLI_OPT_LONG, &lk, 1, 1 << 20, "L", .def = "",
         .help = "only one decode step after L - 1 cached keys, of --b, --h, --kvh, --d"},
        BENCH_COMMON_OPTS(env),
    };
    vkt_ctx *ctx;
    int rc = bench_start(env, &ATTENTION, table, argc, argv, &ctx);
    if (rc != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    // bit 0 the row family, bit 1 the GPU family (--path row, gpu, all: 1, 2, 3)
    int paths = vkt_ctx_profile(ctx)->attention_path == VKT_ATTENTION_GPU ? 2 : 1;
    if (path >= 0) paths = path + 1;
    if (decode_only || lk > 0) {
        bool dflt = lk <= 0;
        return decode_entries(ctx, o, lk, B, dflt ? 16 : H,
                              dflt      ? 8
                              : KVH > 0 ? KVH
                                        : H,
                              dflt ? 128 : D);
    }
    if (B > 0)
        return one_shape(ctx, o, paths, "custom", (int)B, (int)T, (int)H,
                         KVH > 0 ? (int)KVH : (int)H, (int)D);
    rc = one_shape(ctx, o, paths, "gpt2-small", 4, 256, 12, 12, 64);
    if (rc == CLI_OK) rc = one_shape(ctx, o, paths, "gqa 8/2", 4, 256, 8, 2, 64);
    if (rc == CLI_OK) rc = decode_entries(ctx, o, -1, -1, 16, 8, 128);
    return rc;
}

static vkt_status run_softmax_fwd(vkt_ctx *ctx, void *p) {
    att_arg *a = p;
    return vkt_softmax_fwd(ctx, a->R, a->L, a->B != 0, a->q, a->out);
}
static vkt_status run_softmax_bwd(vkt_ctx *ctx, void *p) {
    att_arg *a = p;
    return vkt_softmax_bwd(ctx, a->R, a->L, a->dout, a->out, a->dq);
}
static vkt_status run_rope(vkt_ctx *ctx, void *p) {
    att_arg *a = p;
    VKT_TRY(vkt_rope_fwd(ctx, a->B, a->T, a->H, a->D, a->C, a->pos, 10000.0f, a->q));
    return vkt_rope_fwd(ctx, a->B, a->T, a->KVH, a->D, a->C, a->pos, 10000.0f, a->k);
}

// Row softmax on (4096, 1024), plain and causal, and its backward; RoPE on q and k of a
// (4, 256) GPT-2-small-sized fused qkv buffer.
static const cli_cmd SOFTMAX = {
    .name = "bench softmax",
    .usage = "usage: vkt bench softmax [--r R --l L] [common options]\n",
    .about = "Row softmax on (R, L), plain and causal, and its backward; RoPE on q and k of a\n"
             "(4, 256) GPT-2-small-sized fused qkv buffer.\n",
};

int bench_softmax(bench_env *env, int argc, char **argv) {
    long R = 4096, L = 1024;
    const cli_opt table[] = {
        {"--r", CLI_OPT_LONG, &R, 1, 1 << 24, "R", .help = "rows"},
        {"--l", CLI_OPT_LONG, &L, 1, 1 << 24, "L", .help = "row length"},
        BENCH_COMMON_OPTS(env),
    };
    vkt_ctx *ctx;
    int rc = bench_start(env, &SOFTMAX, table, argc, argv, &ctx);
    if (rc != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    uint64_t n = (uint64_t)R * L;
    vkt_buffer *x = NULL, *y = NULL, *dy = NULL, *dx = NULL;
    if (vkt_buffer_create(ctx, n * 4, &x) || vkt_buffer_create(ctx, n * 4, &y) ||
        vkt_buffer_create(ctx, n * 4, &dy) || vkt_buffer_create(ctx, n * 4, &dx) ||
        vkt_fill(ctx, vkt_view_all(x), n, 0.5f) || vkt_fill(ctx, vkt_view_all(dy), n, 0.5f) ||
        vkt_fill(ctx, vkt_view_all(dx), n, 0.0f))
        rc = cli_fail("bench", "softmax: %s", vkt_ctx_message(ctx));
    att_arg a = {0};
    a.R = (int)R, a.L = (int)L, a.q = vkt_view_all(x), a.out = vkt_view_all(y),
    a.dout = vkt_view_all(dy);
    a.dq = vkt_view_all(dx);
    for (int k = 0; k < 3 && rc == CLI_OK; k++) {
        a.B = k == 1; // causal flag
        if (k == 1 && R % L != 0) continue;
        double ms = bench_time(ctx, o, k < 2 ? run_softmax_fwd : run_softmax_bwd, &a);
        if (ms < 0) {
            rc = cli_fail("bench", "softmax: %s", vkt_ctx_message(ctx));
            break;
        }
        // Minimal traffic: forward reads and writes each element once (8 B), backward
        // reads dout and out and updates din (16 B).
        bench_report(ctx, o,
                     &(bench_result){
                         k < 2 ? "softmax_fwd" : "softmax_bwd", k == 1 ? "causal" : NULL, R, L, -1,
                         ms, (k < 2 ? 4.0 : 4.0) * (double)n, (k < 2 ? 8.0 : 16.0) * (double)n});
    }
    vkt_buffer_destroy(ctx, x), vkt_buffer_destroy(ctx, y), vkt_buffer_destroy(ctx, dy),
        vkt_buffer_destroy(ctx, dx);
    if (rc != CLI_OK) return rc;

    // RoPE on q and k of a fused (4, 256, 12 + 2*12, 64) buffer.
    a = (att_arg){.B = 4, .T = 256, .H = 12, .KVH = 12, .D = 64, .C = 36 * 64};
    uint64_t nq = (uint64_t)a.B * a.T * a.C;
    vkt_buffer *qkv = NULL, *pos = NULL;
    int32_t *hp = malloc((size_t)a.B * a.T * 4);
    for (int i = 0; i < a.B * a.T; i++) hp[i] = i % a.T;
    if (!hp || vkt_buffer_create(ctx, nq * 4, &qkv) ||
        vkt_buffer_create(ctx, (uint64_t)a.B * a.T * 4, &pos) ||
        vkt_upload(ctx, vkt_view_all(pos), hp, (uint64_t)a.B * a.T * 4) ||
        vkt_fill(ctx, vkt_view_all(qkv), nq, 0.5f))
        rc = cli_fail("bench", "rope: %s", vkt_ctx_message(ctx));
    free(hp);
    if (rc == CLI_OK) {
        a.q = sub(qkv, 0), a.k = sub(qkv, 12 * 64), a.pos = vkt_view_all(pos);
        double ms = bench_time(ctx, o, run_rope, &a);
        double elems = 2.0 * a.B * a.T * a.H * a.D; // q and k
        if (ms < 0)
            rc = cli_fail("bench", "rope: %s", vkt_ctx_message(ctx));
        else
            bench_report(ctx, o,
                         &(bench_result){"rope_fwd", "q+k fused", (int64_t)a.B * a.T, a.H, a.D, ms,
                                         3.0 * elems, 8.0 * elems});
    }
    vkt_buffer_destroy(ctx, qkv), vkt_buffer_destroy(ctx, pos);
    return rc;
}
