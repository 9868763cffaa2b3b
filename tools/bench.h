// bench.h: what `vkt bench` entries share. Each op family has a tools/bench_<name>.c
// with one function that times its kernels on standard shapes (or on the shape given
// by flags) and reports each result through bench_report().
#ifndef VKT_BENCH_H
#define VKT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"

typedef struct bench_opts {
    bool json;    // one JSON object per line instead of a table
    int reps;     // timed repetitions (after one warm-up), --reps
    double min_s; // keep repeating until this much time has passed, --min-time
} bench_opts;

typedef struct bench_result {
    const char *op;      // e.g. "matmul", "layernorm_fwd"
    const char *variant; // kernel path or transposes, e.g. "NT texel-regblock"; may be NULL
    int64_t m, n, k;     // shape (-1 when not meaningful)
    double ms;           // median wall time per call, including submission
    double flops;        // floating point operations per call (0: not reported)
    double bytes;        // bytes moved per call (0: not reported)
} bench_result;

// Prints one result: a table row, or a JSON line with op, variant, m, n, k, ms, gflops,
// gbps and device.
void bench_report(vkt_ctx *ctx, const bench_opts *o, const bench_result *r);

// Times fn(arg) (which records work) until reps calls and min_s seconds have passed,
// syncing after each call; returns the median ms, or a negative value on failure.
double bench_time(vkt_ctx *ctx, const bench_opts *o, vkt_status (*fn)(vkt_ctx *, void *),
                  void *arg);

// Runs argv[0] (a path, or a name looked up in PATH) with argv (NULL-terminated), its stdout
// read whole and parsed as JSON: the baseline scripts beside some entries. NULL when it cannot
// run, fails or prints something else (its stderr passes through).
struct json_t;
struct json_t *bench_child_json(const char *const *argv);

// A bench entry: parses its own flags from argv (argv[0] = its name), runs, returns a CLI code.
typedef int (*bench_fn)(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);

int bench_elementwise(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_offswitch(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_loss(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_optim(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_matmul(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_train(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_norms(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_attention(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_softmax(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_selfplay(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_tokenize(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_rope(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
int bench_dispatch(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);
// generate: prefill / decode tokens/s of a Hugging Face checkpoint (--ckpt DIR, required)
// next to PyTorch CPU (tools/bench_generate_torch.py); see tools/bench_generate.c.
int bench_generate(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv);

#endif
