// bench.h: what `vkt bench` entries share. Each op family has a tools/bench_<name>.c
// with one function that parses its flags from one option table (its own, then
// BENCH_COMMON_OPTS), opens the run's device (bench_device), times its kernels on standard
// shapes (or on the shape given by flags) and reports each result through bench_report().
#ifndef VKT_BENCH_H
#define VKT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cli_opt.h"
#include "context.h"

typedef struct bench_opts {
    bool json;    // one JSON object per line instead of a table
    int reps;     // timed repetitions (after one warm-up), --reps
    double min_s; // keep repeating until this much time has passed, --min-time
} bench_opts;

// One `vkt bench` run: the common flags, and the device every entry of the run shares.
typedef struct bench_env {
    bench_opts o;
    int device;   // --device; -1: not given (VKT_DEVICE, else auto)
    vkt_ctx *ctx; // opened by bench_device on first use; the dispatcher destroys it
} bench_env;

#define BENCH_REPS_HELP "timed repetitions after a warm-up"
#define BENCH_MIN_HELP "keep repeating for at least S seconds"
// The flags every entry takes, declared once, and the table's end: the last item of each
// entry's option table, so that `vkt bench ENTRY --help` lists them after the entry's own.
#define BENCH_COMMON_OPTS(env)                                                                     \
    {"--json", CLI_OPT_FLAG, &(env)->o.json, .group = "Common options:",                           \
     .help = "one JSON object per result line (op, m, n, k, ms, gflops, gbps, device)"},           \
        {"--reps", CLI_OPT_INT, &(env)->o.reps, 1, 100000, "N", .help = BENCH_REPS_HELP},          \
        {"--min-time", CLI_OPT_DOUBLE, &(env)->o.min_s, 0, 3600, "S", .help = BENCH_MIN_HELP},     \
        CLI_OPT_DEVICE(&(env)->device), {                                                          \
        0                                                                                          \
    }

// The run's device: opened (and named on stdout, without --json) by the first call.
// Returns CLI_OK with *ctx set, or the CLI code after printing why it could not open.
int bench_device(bench_env *env, vkt_ctx **ctx);
// cli_parse of the entry's table, then bench_device: for entries with no checks between.
int bench_start(bench_env *env, const cli_cmd *cmd, const cli_opt *table, int argc, char **argv,
                vkt_ctx **ctx);

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

// A bench entry: parses its flags from argv (argv[0] = its name; the common ones into env),
// gets the device from bench_device, runs; returns a CLI code, or CLI_HELP after its --help.
typedef int (*bench_fn)(bench_env *env, int argc, char **argv);

int bench_elementwise(bench_env *env, int argc, char **argv);
int bench_offswitch(bench_env *env, int argc, char **argv);
int bench_loss(bench_env *env, int argc, char **argv);
int bench_optim(bench_env *env, int argc, char **argv);
int bench_matmul(bench_env *env, int argc, char **argv);
int bench_train(bench_env *env, int argc, char **argv);
int bench_norms(bench_env *env, int argc, char **argv);
int bench_attention(bench_env *env, int argc, char **argv);
int bench_softmax(bench_env *env, int argc, char **argv);
int bench_selfplay(bench_env *env, int argc, char **argv);
int bench_tokenize(bench_env *env, int argc, char **argv);
int bench_rope(bench_env *env, int argc, char **argv);
int bench_dispatch(bench_env *env, int argc, char **argv);
// generate: prefill / decode tokens/s of a Hugging Face checkpoint (--ckpt DIR, required)
// next to PyTorch CPU (tools/bench_generate_torch.py); see tools/bench_generate.c.
int bench_generate(bench_env *env, int argc, char **argv);

#endif
