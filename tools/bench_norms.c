// bench_norms.c: bandwidth of the embedding, norm and activation kernels on GPT-2 small
// shapes (B*T = 4096 tokens, C = 768, V = 50257, MLP width 3072), reported in GB/s of
// the bytes each kernel must move at least (every input read once, outputs written
// once, read-modify-write counted twice).
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "buffer.h"
#include "cli.h"
#include "op_activation.h"
#include "op_elementwise.h"
#include "op_embedding.h"
#include "op_norm.h"

typedef enum {
    EMB_FWD,
    EMB_BWD,
    LN_FWD,
    LN_BWD,
    RMS_FWD,
    RMS_BWD,
    GELU_FWD,
    GELU_BWD,
    SWIGLU_FWD,
    SWIGLU_BWD
} kind;

typedef struct {
    kind k;
    int N, C;
    vkt_embedding_ids *ids;
    vkt_view a, b, c, d, e, f, g, h, s; // operands, by kernel
} arg;

static vkt_status run(vkt_ctx *ctx, void *p) {
    arg *x = p;
    switch (x->k) {
    case EMB_FWD: return vkt_embedding_fwd(ctx, x->ids, x->C, x->a, x->b, x->c);
    case EMB_BWD: return vkt_embedding_bwd(ctx, x->ids, x->C, x->c, x->d, x->e);
    case LN_FWD:
        return vkt_layernorm_fwd(ctx, x->N, x->C, 1e-5f, x->a, x->b, x->c, x->d, x->e, x->f);
    case LN_BWD:
        return vkt_layernorm_bwd(ctx, x->N, x->C, x->g, x->a, x->b, x->e, x->f, x->h, x->b, x->c,
                                 x->s);
    case RMS_FWD: return vkt_rmsnorm_fwd(ctx, x->N, x->C, 1e-5f, x->a, x->b, x->d, x->f);
    case RMS_BWD: return vkt_rmsnorm_bwd(ctx, x->N, x->C, x->g, x->a, x->b, x->f, x->h, x->c, x->s);
    case GELU_FWD: return vkt_gelu_fwd(ctx, (uint64_t)x->N * x->C, x->a, x->d);
    case GELU_BWD: return vkt_gelu_bwd(ctx, (uint64_t)x->N * x->C, x->a, x->g, x->h);
    case SWIGLU_FWD: {
        vkt_view up = vkt_view_f32(x->a, x->C, (uint64_t)x->N * 2 * x->C - x->C);
        return vkt_swiglu_fwd(ctx, x->N, x->C, x->a, 2 * x->C, up, 2 * x->C, x->d, x->C);
    }
    case SWIGLU_BWD: {
        vkt_view up = vkt_view_f32(x->a, x->C, (uint64_t)x->N * 2 * x->C - x->C);
        vkt_view dup = vkt_view_f32(x->h, x->C, (uint64_t)x->N * 2 * x->C - x->C);
        return vkt_swiglu_bwd(ctx, x->N, x->C, x->g, x->C, x->a, 2 * x->C, up, 2 * x->C, x->h, dup);
    }
    }
    return VKT_ERR_ARG;
}

static int time_one(vkt_ctx *ctx, const bench_opts *o, const char *op, arg *a, double bytes,
                    int64_t m, int64_t n, int64_t k) {
    double ms = bench_time(ctx, o, run, a);
    if (ms < 0) return cli_fail("bench", "%s: %s", op, vkt_ctx_message(ctx));
    bench_report(ctx, o, &(bench_result){op, NULL, m, n, k, ms, 0, bytes});
    return CLI_OK;
}

static const cli_cmd CMD = {
    .name = "bench norms",
    .usage = "usage: vkt bench norms [--n N --c C --v V --f F] [common options]\n",
    .about = "Embedding, layernorm, rmsnorm, GELU and SwiGLU forward and backward, in GB/s of the\n"
             "bytes each kernel must move at least.\n",
};

int bench_norms(bench_env *env, int argc, char **argv) {
    long N = 4096, C = 768, V = 50257, F = 3072, T = 1024;
    const cli_opt table[] = {
        {"--n", CLI_OPT_LONG, &N, 1, 1 << 24, "N", .help = "tokens (B*T)"},
        {"--c", CLI_OPT_LONG, &C, 1, 1 << 16, "C", .help = "channels"},
        {"--v", CLI_OPT_LONG, &V, 1, 1 << 22, "V", .help = "vocabulary (embedding)"},
        {"--f", CLI_OPT_LONG, &F, 1, 1 << 16, "F", .help = "MLP width (GELU, SwiGLU)"},
        BENCH_COMMON_OPTS(env),
    };
    vkt_ctx *ctx;
    int rc = bench_start(env, &CMD, table, argc, argv, &ctx);
    if (rc != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    // One buffer set sized for the largest operand: (N, 2F) for swiglu, (V, C) for wte.
    uint64_t big = (uint64_t)N * 2 * (uint64_t)(F > C ? F : C), tab = (uint64_t)V * C;
    uint64_t sizes[10] = {big, tab, tab,         big,        (uint64_t)T * C, (uint64_t)T * C,
                          big, big, (uint64_t)N, (uint64_t)N};
    vkt_buffer *b[10] = {0}, *ids_buf = NULL, *scr = NULL;
    uint64_t scr_bytes = vkt_layernorm_bwd_scratch_bytes((int)N, (int)C);
    for (int i = 0; i < 10 && rc == CLI_OK; i++)
        if (vkt_buffer_create(ctx, sizes[i] * 4, &b[i]) != VKT_OK ||
            vkt_fill(ctx, vkt_view_all(b[i]), sizes[i], 0.5f) != VKT_OK)
            rc = cli_fail("bench", "norms: %s", vkt_ctx_message(ctx));
    if (rc == CLI_OK &&
        (vkt_buffer_create(ctx, vkt_embedding_ids_bytes((int)N, true), &ids_buf) != VKT_OK ||
         vkt_buffer_create(ctx, scr_bytes, &scr) != VKT_OK))
        rc = cli_fail("bench", "norms: %s", vkt_ctx_message(ctx));
    // GPT-2-like tokens: spread over the vocabulary with repeats; positions i % T.
    int32_t *tok = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4);
    uint64_t s = 88172645463325252ull;
    for (long i = 0; i < N && tok && pos; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        tok[i] = (int32_t)(s % (uint64_t)(i % 4 ? V : 500)); // a quarter from 500 frequent tokens
        pos[i] = (int32_t)(i % T);
    }
    vkt_embedding_ids ids;
    if (rc == CLI_OK && (!tok || !pos ||
                         vkt_embedding_ids_upload(ctx, (int)N, (int)V, (int)T, tok, pos,
                                                  vkt_view_all(ids_buf), &ids) != VKT_OK))
        rc = cli_fail("bench", "norms: %s", tok ? vkt_ctx_message(ctx) : "out of memory");
    free(tok), free(pos);
    if (rc == CLI_OK) {
        // a: x (N, C) or (N, 2F); b: wte / w; c: wpe-or-b / dwte-shaped; d: out; e, f: wpe-sized or
        // stats; g: dout; h: din; s: scratch.
        arg a = {.N = (int)N, .C = (int)C, .ids = &ids};
        vkt_view v[10];
        for (int i = 0; i < 10; i++) v[i] = vkt_view_all(b[i]);
        double nc4 = 4.0 * (double)N * (double)C, nf4 = 4.0 * (double)N * (double)F;
        double rows_hit = 2.0 * 4.0 * (double)(ids.ntok_rows + ids.npos_rows) * (double)C;
        struct {
            kind k;
            const char *op;
            double bytes;
        } runs[] = {
            {EMB_FWD, "embedding_fwd", 3 * nc4}, {EMB_BWD, "embedding_bwd", 2 * nc4 + rows_hit},
            {LN_FWD, "layernorm_fwd", 2 * nc4},  {LN_BWD, "layernorm_bwd", 4 * nc4},
            {RMS_FWD, "rmsnorm_fwd", 2 * nc4},   {RMS_BWD, "rmsnorm_bwd", 4 * nc4},
            {GELU_FWD, "gelu_fwd", 2 * nf4},     {GELU_BWD, "gelu_bwd", 4 * nf4},
            {SWIGLU_FWD, "swiglu_fwd", 3 * nf4}, {SWIGLU_BWD, "swiglu_bwd", 7 * nf4},
        };
        for (size_t i = 0; i < sizeof runs / sizeof runs[0] && rc == CLI_OK; i++) {
            a.k = runs[i].k;
            bool emb = a.k == EMB_FWD || a.k == EMB_BWD, act = a.k >= GELU_FWD;
            a.C = act ? (int)F : (int)C;
            if (emb) {
                a.a = v[1], a.b = v[4], a.c = v[0], a.d = v[2],
                a.e = v[5]; // wte, wpe, out/dout, dwte, dwpe
            } else {
                a.a = v[0], a.b = v[1], a.c = v[2], a.d = v[3], a.e = v[8], a.f = v[9], a.g = v[6],
                a.h = v[7];
                a.s = vkt_view_all(scr);
            }
            rc = time_one(ctx, o, runs[i].op, &a, runs[i].bytes, N, a.C, emb ? V : -1);
        }
    }
    for (int i = 0; i < 10; i++) vkt_buffer_destroy(ctx, b[i]);
    vkt_buffer_destroy(ctx, ids_buf);
    vkt_buffer_destroy(ctx, scr);
    return rc;
}
