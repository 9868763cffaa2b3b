// vkt bench: time kernels (and, as they land, training and rollouts) on one device.
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "cli_opt.h"
#include "commands.h"

typedef struct {
    const char *name;
    bench_fn fn;
    bool in_default; // run by a plain `vkt bench`
    const char *help;
} bench_entry;

// help: one line for the overview; `vkt bench ENTRY --help` lists the entry's options.
static const bench_entry entries[] = {
    {"matmul", bench_matmul, true, "matmul GFLOP/s by kernel path, fp32 or 16-bit operands"},
    {"attention", bench_attention, true, "causal GQA attention fwd/bwd and the decode step"},
    {"softmax", bench_softmax, true, "row softmax fwd/bwd, and RoPE"},
    {"norms", bench_norms, true, "embedding, layernorm, rmsnorm, gelu, swiglu GB/s"},
    {"loss", bench_loss, true, "fused cross-entropy fwd+bwd (+ entropy variant)"},
    {"optim", bench_optim, true, "AdamW and global grad norm (default 124M parameters)"},
    {"rope", bench_rope, true, "RoPE via a llama3 frequency table fwd/bwd and the C reference"},
    {"elementwise", bench_elementwise, true, "axpby bandwidth"},
    {"dispatch", bench_dispatch, false,
     "host time to record one tiny dispatch, dispatch caches on and off"},
    {"offswitch", bench_offswitch, true, "off-switch Monte Carlo samples/s"},
    {"selfplay", bench_selfplay, false,
     "self-play rollout decisions/s, generated tokens/s, update time"},
    {"tokenize", bench_tokenize, false,
     "encoding MB/s of a tokenizer next to the JavaScript reference (--model DIR)"},
    {"generate", bench_generate, false,
     "prefill and decode tokens/s of a checkpoint next to PyTorch CPU (--ckpt DIR)"},
    {"train", bench_train, false, "one training step, ms and tokens/s"},
};
#define NENTRIES (int)(sizeof entries / sizeof entries[0])

static const cli_cmd BENCH = {
    .name = "bench",
    .usage = "usage: vkt bench [ENTRY [entry options]] [--json] [--reps N] [--min-time S] "
             "[--device N]\n",
    .epilog = "vkt bench ENTRY --help lists an entry's own options.\n",
};

// The overview, then the common options (an entry's --help lists its own too).
static void overview(const cli_opt *common) {
    char about[4096];
    size_t k = (size_t)snprintf(
        about, sizeof about,
        "Times kernels on the chosen device and prints time and GFLOP/s or GB/s with the device "
        "name.\n"
        "With no ENTRY, runs every default entry on standard shapes. Timings are medians of\n"
        "repeated calls, each including submission and a wait for the device.\n\nentries:\n");
    for (int i = 0; i < NENTRIES && k < sizeof about; i++)
        k += (size_t)snprintf(about + k, sizeof about - k, "  %-12s %s\n", entries[i].name,
                              entries[i].help);
    cli_cmd cmd = BENCH;
    cmd.about = about;
    cli_print_help(stdout, &cmd, common);
}

// The first option that is not a common one (common values skipped), or NULL.
static const char *stray_option(const cli_opt *common, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const cli_opt *o = common;
        size_t n = 0;
        for (; o->type != CLI_OPT_END; o++) {
            n = strlen(o->name);
            if (!strncmp(argv[i], o->name, n) && (argv[i][n] == 0 || argv[i][n] == '=')) break;
        }
        if (o->type == CLI_OPT_END && argv[i][0] == '-') return argv[i];
        if (o->type != CLI_OPT_END && o->type != CLI_OPT_FLAG && argv[i][n] == 0) i++;
    }
    return NULL;
}

int cmd_bench(int argc, char **argv) {
    bench_env env = {.o = {.json = false, .reps = 5, .min_s = 0.2}, .device = -1};
    const cli_opt common[] = {BENCH_COMMON_OPTS(&env)};
    // The entry: the first word that is not a common option's value. It parses every other
    // word, the common options (before or after its name) included.
    const int at = cli_first_word(common, argc, argv);
    int which = -1;
    for (int i = 0; at < argc && i < NENTRIES; i++)
        if (!strcmp(entries[i].name, argv[at])) which = i;
    if (which >= 0) {
        char *args[256];
        int n = 0;
        args[n++] = (char *)entries[which].name;
        for (int i = 1; i < argc && n < 256; i++)
            if (i != at) args[n++] = argv[i];
        int rc = entries[which].fn(&env, n, args);
        if (env.ctx) vkt_ctx_destroy(env.ctx);
        return rc == CLI_HELP ? CLI_OK : rc;
    }
    // No entry (or an unknown one): --help anywhere shows the overview.
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return overview(common), CLI_OK;
    if (at < argc) return cli_usage_error("bench", "unknown entry '%s'", argv[at]);
    const char *stray = stray_option(common, argc, argv);
    if (stray) return cli_usage_error("bench", "option '%s' needs an entry name before it", stray);
    int rc = cli_parse(&BENCH, common, argc, argv);
    if (rc != CLI_OK) return rc;
    // Every default entry with its defaults, on one device.
    vkt_ctx *ctx;
    rc = bench_device(&env, &ctx);
    for (int i = 0; i < NENTRIES && rc == CLI_OK; i++) {
        char *name[] = {(char *)entries[i].name};
        if (entries[i].in_default) rc = entries[i].fn(&env, 1, name);
    }
    if (env.ctx) vkt_ctx_destroy(env.ctx);
    return rc;
}
