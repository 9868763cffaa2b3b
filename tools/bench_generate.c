// bench_generate.c: generation speed of a Hugging Face checkpoint, next to a PyTorch CPU
// baseline (tools/bench_generate_torch.py, fp32 weights, a plain KV-cached loop) run in
// the same process tree right after vkt's measurements.
//
// Figures, each in tokens/s:
//   prefill b1   one batch-1 prompt of P tokens, one forward, up to its first logits
//   decode bB    greedy, K new tokens per sequence after a P-token prompt at batch B:
//                B * (K - 1) tokens over the time from the last sequence's first logits
//                (end of prefill) to the last sequence's K-th (host sampling included)
// with the weights as loaded (16-bit for a 16-bit checkpoint), and device_bytes = the
// model's weights + vkt_gen_bytes of the plan (S = B, P + K positions, B * P rows, so the
// batch's prompts prefill in one forward). vkt allocates a plan whole when it is created
// (gen_forward.c), so that total is also the peak; the bench checks that the context's
// memory blocks (allocated_bytes: what the driver holds, sub-allocation slack included)
// did not grow during generation.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench.h"
#include "bytebuf.h"
#include "checkpoint.h"
#include "cli.h"
#include "generate.h"

#define MAX_BATCHES 8

typedef struct gen_args {
    const char *ckpt;
    int P, K, nb, batches[MAX_BATCHES];
    int runs;
    bool torch;
} gen_args;

// One batch size's measurement.
typedef struct gen_fig {
    int B;
    double prefill_s;      // B = 1 only: start to the first logits
    double decode_s;       // first logits of the last sequence to its K-th
    uint64_t device_bytes; // weights + vkt_gen_bytes
    uint64_t alloc_bytes;  // the context's memory blocks with the plan made (block slack included)
    double torch_prefill_tps, torch_decode_tps; // 0: not measured
} gen_fig;

// Prompt b, token t: the same ids in the PyTorch script.
static int32_t prompt_id(int b, int t, int V) {
    return (int32_t)(((int64_t)t * 7919 + (int64_t)b * 104729 + 11) % V);
}

// Times of the first and the K-th logits of every sample (the latest of each).
typedef struct stamp {
    int K;
    double first, last;
    int32_t *b0_tokens; // sample 0's greedy tokens (K), for the cross-check with PyTorch
} stamp;

static void on_logits(void *user, int sample, int step, float *logits, int V) {
    stamp *s = user;
    double t = cli_now_s();
    (void)sample, (void)logits, (void)V;
    if (step == 0 && t > s->first) s->first = t;
    if (step == s->K - 1 && t > s->last) s->last = t;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Generates K tokens for B prompts `runs` times after a two-token warm-up; medians.
static vkt_status time_batch(vkt_gen *g, const gen_args *a, int B, int V, double *prefill_s,
                             double *decode_s, int32_t *b0_tokens) {
    int32_t *ids = malloc((size_t)B * a->P * sizeof *ids);
    vkt_gen_prompt *pr = calloc((size_t)B, sizeof *pr);
    vkt_gen_result *res = calloc((size_t)B, sizeof *res);
    double *pf = calloc((size_t)a->runs, sizeof *pf), *dc = calloc((size_t)a->runs, sizeof *dc);
    vkt_status s = VKT_OK;
    if (!ids || !pr || !res || !pf || !dc) s = VKT_ERR_NOMEM;
    for (int b = 0; s == VKT_OK && b < B; b++) {
        for (int t = 0; t < a->P; t++) ids[(size_t)b * a->P + t] = prompt_id(b, t, V);
        pr[b] = (vkt_gen_prompt){ids + (size_t)b * a->P, a->P, (uint64_t)b};
    }
    stamp st = {0};
    vkt_gen_opts go;
    vkt_gen_defaults(&go);
    go.greedy = true, go.stop_at_eot = false, go.on_logits = on_logits, go.user = &st;
    for (int r = -1; s == VKT_OK && r < a->runs; r++) {
        st = (stamp){r < 0 ? 2 : a->K, 0, 0, NULL};
        go.max_new_tokens = st.K;
        double t0 = cli_now_s();
        s = vkt_generate(g, pr, B, &go, res);
        if (s == VKT_OK && r >= 0) pf[r] = st.first - t0, dc[r] = st.last - st.first;
        if (s == VKT_OK && r == a->runs - 1 && b0_tokens)
            for (int t = 0; t < a->K && t < res[0].n; t++) b0_tokens[t] = res[0].tokens[t];
        for (int b = 0; s == VKT_OK && b < B; b++) vkt_gen_result_free(&res[b]);
    }
    if (s == VKT_OK) {
        qsort(pf, (size_t)a->runs, sizeof *pf, cmp_double),
            qsort(dc, (size_t)a->runs, sizeof *dc, cmp_double);
        *prefill_s = pf[a->runs / 2], *decode_s = dc[a->runs / 2];
    }
    free(ids), free(pr), free(res), free(pf), free(dc);
    return s;
}

// Runs the PyTorch script; its one JSON object on stdout is parsed into *out.
static int run_torch(const gen_args *a, const char *batches, json_t **out) {
    char script[4096], P[16], K[16], R[16];
    snprintf(script, sizeof script, "%s/bench_generate_torch.py", cli_tools_dir());
    snprintf(P, sizeof P, "%d", a->P), snprintf(K, sizeof K, "%d", a->K);
    snprintf(R, sizeof R, "%d", a->runs);
    const char *py = getenv("VKT_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    const char *argv[] = {py, script,      a->ckpt, "--prompt-tokens", P, "--new-tokens",
                          K,  "--batches", batches, "--runs",          R, NULL};
    *out = bench_child_json(argv);
    if (!*out)
        return cli_fail(
            "bench",
            "generate: the PyTorch baseline failed (%s %s; needs python3-torch, or use --no-torch)",
            py, script);
    return CLI_OK;
}

static void print_fig(vkt_ctx *ctx, const bench_opts *o, const gen_args *a, const char *wname,
                      const char *what, const gen_fig *f, double tps, double torch_tps,
                      double wgbps, json_t *ref, int agree_n) {
    const int B = f->B;
    char variant[64];
    snprintf(variant, sizeof variant, "%s b%d %s", what, B, wname);
    bool has_torch = torch_tps > 0;
    if (o->json) {
        printf("{\"op\": \"generate\", \"variant\": \"%s\", \"batch\": %d, \"prompt_tokens\": %d, "
               "\"new_tokens\": %d, \"weights\": \"%s\", \"tokens_per_s\": %.3f, "
               "\"device_bytes\": %llu, \"allocated_bytes\": %llu",
               variant, B, a->P, a->K, wname, tps, (unsigned long long)f->device_bytes,
               (unsigned long long)f->alloc_bytes);
        if (wgbps > 0) printf(", \"weight_gbps\": %.3f", wgbps);
        if (has_torch)
            printf(", \"torch_tokens_per_s\": %.3f, \"ratio\": %.3f, \"torch_dtype\": \"float32\", "
                   "\"torch\": \"%s\", \"torch_threads\": %lld",
                   torch_tps, tps / torch_tps, json_string_value(json_object_get(ref, "torch")),
                   (long long)json_integer_value(json_object_get(ref, "threads")));
        if (agree_n >= 0) printf(", \"greedy_agree\": %d", agree_n);
        printf(", \"device\": \"%s\"}\n", vkt_ctx_profile(ctx)->name);
    } else {
        printf("%-10s %-20s P=%-4d K=%-4d %9.2f tokens/s", "generate", variant, a->P, a->K, tps);
        if (has_torch) printf("  torch fp32 %9.2f tokens/s  %5.2fx", torch_tps, tps / torch_tps);
        printf("  device %.3f GB (blocks %.3f)", (double)f->device_bytes / 1e9,
               (double)f->alloc_bytes / 1e9);
        if (wgbps > 0) printf("  weights %.2f GB/s", wgbps);
        printf("\n");
    }
    fflush(stdout);
}

static const cli_cmd CMD = {
    .name = "bench generate",
    .usage = "usage: vkt bench generate --ckpt DIR [--prompt-tokens P] [--new-tokens K]\n"
             "                          [--batches 1,16] [--runs N] [--torch|--no-torch]\n"
             "                          [common options]\n",
    .about = "Prefill and decode tokens/s of a Hugging Face checkpoint, next to a PyTorch CPU\n"
             "baseline (tools/bench_generate_torch.py, fp32 weights) run right after.\n",
};

// --batches: up to MAX_BATCHES sizes separated by commas.
static int parse_batches(const cli_opt *opt, const char *cmd, const char *const *v) {
    gen_args *a = opt->dest;
    int nb = 0;
    for (const char *p = v[0]; *p;) {
        char *end;
        errno = 0;
        long b = strtol(p, &end, 10);
        if (end == p || errno || b < 1 || b > 4096 || (*end && *end != ',') || nb == MAX_BATCHES)
            return cli_usage_error(
                cmd, "--batches takes up to %d sizes 1..4096 separated by commas, not '%s'",
                MAX_BATCHES, v[0]);
        a->batches[nb++] = (int)b;
        p = *end ? end + 1 : end;
    }
    if (nb == 0) return cli_usage_error(cmd, "--batches is empty");
    a->nb = nb;
    return CLI_OK;
}

// CLI_OK with *a filled, CLI_USAGE after printing, or CLI_HELP.
static int parse(bench_env *env, int argc, char **argv, gen_args *a) {
    *a = (gen_args){NULL, 128, 32, 2, {1, 16}, 1, true};
    const cli_opt table[] = {
        {"--ckpt", CLI_OPT_STR, &a->ckpt, .metavar = "DIR",
         .help = "a Hugging Face checkpoint (required)"},
        {"--prompt-tokens", CLI_OPT_INT, &a->P, 1, 1 << 20, "P", .help = "prompt length"},
        {"--new-tokens", CLI_OPT_INT, &a->K, 2, 1 << 20, "K",
         .help = "tokens generated per sequence"},
        {"--batches", CLI_OPT_CUSTOM, a, .metavar = "B,B,...", .parse = parse_batches,
         .def = "1,16", .help = "batch sizes of the decode figures"},
        {"--runs", CLI_OPT_INT, &a->runs, 1, 1000, "N", .help = "timed runs (the median)"},
        {"--torch", CLI_OPT_FLAG, &a->torch, .help = "run the PyTorch baseline (the default)"},
        {"--no-torch", CLI_OPT_UNFLAG, &a->torch, .help = "vkt only"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (!a->ckpt)
        return cli_usage_error(CMD.name, "--ckpt DIR (a Hugging Face checkpoint) is required");
    return CLI_OK;
}

// vkt's figures for every batch size (prefill from the batch-1 run, or its own one).
static int measure(vkt_ctx *ctx, const gen_args *a, vkt_model *m, gen_fig *f, int32_t *b0_tokens) {
    const int V = vkt_model_cfg(m)->vocab, L = a->P + a->K;
    const uint64_t wbytes = vkt_model_weight_bytes(vkt_model_params(m), vkt_model_get_opts(m));
    bool have_b1 = false;
    for (int i = 0; i < a->nb; i++) have_b1 |= a->batches[i] == 1;
    for (int i = 0; i <= a->nb; i++) {
        const int B = i < a->nb ? a->batches[i] : 1;
        if (i == a->nb && have_b1) break; // prefill came with the batch-1 decode
        gen_fig *x = &f[i];
        x->B = B;
        x->device_bytes = wbytes + vkt_gen_bytes(m, B, L, B * a->P);
        vkt_gen *g;
        if (vkt_gen_create(m, B, L, B * a->P, &g) != VKT_OK)
            return cli_fail("bench", "generate: batch %d: %s", B, vkt_ctx_message(ctx));
        uint64_t planned = vkt_ctx_bytes_allocated(ctx);
        x->alloc_bytes = planned;
        fprintf(stderr, "bench generate: batch %d: timing %d run(s) of %d new tokens...\n", B,
                a->runs, a->K);
        vkt_status s =
            time_batch(g, a, B, V, &x->prefill_s, &x->decode_s, B == 1 ? b0_tokens : NULL);
        uint64_t after = vkt_ctx_bytes_allocated(ctx);
        vkt_gen_destroy(g);
        if (s != VKT_OK)
            return cli_fail("bench", "generate: batch %d: %s", B, vkt_ctx_message(ctx));
        if (after != planned)
            fprintf(stderr,
                    "bench generate: batch %d: device allocations grew by %lld bytes "
                    "during generation\n",
                    B, (long long)(after - planned));
    }
    return CLI_OK;
}

// Fills the PyTorch figures from its JSON: {"prefill_tokens_per_s", "decode": {"B": tps},
// "b1_tokens"}.
static void take_torch(json_t *ref, gen_fig *f, int nf) {
    json_t *dec = json_object_get(ref, "decode");
    for (int i = 0; i < nf; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", f[i].B);
        f[i].torch_decode_tps = json_number_value(json_object_get(dec, key));
        if (f[i].B == 1)
            f[i].torch_prefill_tps =
                json_number_value(json_object_get(ref, "prefill_tokens_per_s"));
    }
}

// How many of sample 0's first greedy tokens the two agree on (random weights drift apart
// on float rounding after a while; a wrong forward disagrees from the first token).
static int agree(json_t *ref, const int32_t *b0, int K) {
    json_t *ids = json_object_get(ref, "b1_tokens");
    int n = 0;
    while (n < K && n < (int)json_array_size(ids) &&
           json_integer_value(json_array_get(ids, (size_t)n)) == b0[n])
        n++;
    return n;
}

int bench_generate(bench_env *env, int argc, char **argv) {
    gen_args a;
    int rc = parse(env, argc, argv, &a);
    vkt_ctx *ctx;
    if (rc != CLI_OK || (rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    vkt_model *m;
    if (vkt_checkpoint_load_model_as(ctx, a.ckpt, &(vkt_load_opts){VKT_WEIGHTS_AUTO, true, false},
                                     &m) != VKT_OK)
        return cli_fail("bench", "generate: %s", vkt_ctx_message(ctx));
    const int w16 = vkt_model_get_opts(m)->w16;
    const char *wname = w16 == VKT_W16_BF16 ? "bf16" : w16 == VKT_W16_F16 ? "f16" : "f32";
    const uint64_t wbytes = vkt_model_weight_bytes(vkt_model_params(m), vkt_model_get_opts(m));
    gen_fig f[MAX_BATCHES + 1] = {0};
    int32_t *b0 = calloc((size_t)a.K, sizeof *b0);
    rc = b0 ? measure(ctx, &a, m, f, b0) : cli_fail("bench", "generate: out of memory");
    vkt_model_destroy(m); // before PyTorch loads its fp32 copy
    const int nf = a.nb + (f[a.nb].B ? 1 : 0);
    json_t *ref = NULL;
    if (rc == CLI_OK && a.torch) {
        char batches[MAX_BATCHES * 8] = "", *p = batches;
        for (int i = 0; i < nf; i++) p += sprintf(p, "%s%d", i ? "," : "", f[i].B);
        rc = run_torch(&a, batches, &ref);
        if (rc == CLI_OK) take_torch(ref, f, nf);
    }
    int one = 0;
    while (one < nf && f[one].B != 1) one++;
    if (rc == CLI_OK)
        print_fig(ctx, o, &a, wname, "prefill", &f[one], a.P / f[one].prefill_s,
                  f[one].torch_prefill_tps, 0, ref, -1);
    for (int i = 0; rc == CLI_OK && i < a.nb; i++) {
        const double steps = a.K - 1;
        print_fig(ctx, o, &a, wname, "decode", &f[i], f[i].B * steps / f[i].decode_s,
                  f[i].torch_decode_tps, (double)wbytes * steps / f[i].decode_s / 1e9, ref,
                  ref && f[i].B == 1 ? agree(ref, b0, a.K) : -1);
    }
    if (rc == CLI_OK && !o->json) {
        printf("%-10s weights %s: %.3f GB; device = weights + generation plan, allocated up "
               "front (the peak)",
               "generate", wname, (double)wbytes / 1e9);
        if (ref)
            printf("; PyTorch %s CPU fp32 (bf16 matmul is slow on CPU in torch 1.x), %lld "
                   "threads; greedy tokens agree for %d of %d",
                   json_string_value(json_object_get(ref, "torch")),
                   (long long)json_integer_value(json_object_get(ref, "threads")),
                   agree(ref, b0, a.K), a.K);
        printf("\n");
    }
    json_decref(ref);
    free(b0);
    return rc;
}
