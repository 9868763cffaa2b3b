// vkt bench: time kernels (and, as they land, training and rollouts) on one device.
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "cli_device.h"
#include "commands.h"

typedef struct {
    const char *name;
    bench_fn fn;
    bool in_default; // run by a plain `vkt bench`
    const char *help;
} bench_entry;

static const bench_entry entries[] = {
    {"matmul", bench_matmul, true,
     "GFLOP/s [--m M --n N --k K] [--ta] [--tb] [--bias] [--path texel|tiled|gpu|splitk|all] "
     "[--splits N] [--dtype bf16|f16]"},
    {"attention", bench_attention, true,
     "causal GQA attention fwd/bwd [--path row|gpu|all] [--b B --t T --h H --kvh KVH --d D] "
     "[--decode] [--decode-lk L]"},
    {"softmax", bench_softmax, true, "row softmax fwd/bwd [--r R --l L], and RoPE"},
    {"norms", bench_norms, true,
     "embedding, layernorm, rmsnorm, gelu, swiglu GB/s [--n N --c C --v V --f F]"},
    {"loss", bench_loss, true, "fused cross-entropy fwd+bwd (+ entropy variant) [--N N --V V]"},
    {"optim", bench_optim, true, "AdamW and global grad norm [--n N] (default 124M)"},
    {"rope", bench_rope, true,
     "RoPE via a llama3 frequency table fwd/bwd and the C reference [--b B --t T --h H --kvh KVH "
     "--d D]"},
    {"elementwise", bench_elementwise, true, "axpby bandwidth [--n N]"},
    {"dispatch", bench_dispatch, false,
     "host time to record one tiny dispatch, dispatch caches on and off [--n N --batch B "
     "--pipelines P]"},
    {"offswitch", bench_offswitch, true, "off-switch Monte Carlo samples/s [--samples N]"},
    {"selfplay", bench_selfplay, false,
     "self-play rollout decisions/s, generated tokens/s, update time [--games-per-update N "
     "--layers L --width C --updates U]"},
    {"tokenize", bench_tokenize, false,
     "encoding MB/s of a tokenizer next to the JavaScript reference --model DIR [--mb MB] [--js "
     "on|off]"},
    {"generate", bench_generate, false,
     "prefill and decode tokens/s of a checkpoint next to PyTorch CPU --ckpt DIR [--prompt-tokens "
     "P] [--new-tokens K] [--batches 1,16] [--runs N] [--torch|--no-torch]"},
    {"train", bench_train, false,
     "one training step [--preset P --batch B --seq T --layers L --width C --heads H --vocab V]\n"
     "               [--precision fp32|bf16|fp16]"},
};
#define NENTRIES (int)(sizeof entries / sizeof entries[0])

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkt bench [ENTRY [entry options]] [--json] [--reps N] [--min-time S] [--device "
            "N]\n\n"
            "Times kernels on the chosen device and prints time and GFLOP/s or GB/s with the "
            "device name.\n"
            "With no ENTRY, runs every default entry on standard shapes. Timings are medians of\n"
            "repeated calls, each including submission and a wait for the device.\n\nentries:\n");
    for (int i = 0; i < NENTRIES; i++) fprintf(f, "  %-12s %s\n", entries[i].name, entries[i].help);
    fprintf(f, "\n  --json        one JSON object per result line (op, m, n, k, ms, gflops, gbps, "
               "device)\n"
               "  --reps N      timed repetitions after a warm-up (default 5)\n"
               "  --min-time S  keep repeating for at least S seconds (default 0.2)\n"
               "  --device N    device index (see vkt devices)\n");
}

int cmd_bench(int argc, char **argv) {
    bench_opts o = {.json = false, .reps = 5, .min_s = 0.2};
    long device = -1;
    const char *entry = NULL;
    // Common flags are taken out; the rest goes to the entry.
    char *rest[256];
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            o.json = true;
        } else if ((m = cli_value(argc, argv, &i, "--device", &v)) != 0) {
            if (m < 0 || !cli_int("bench", "--device", v, 0, 1000, &device)) return CLI_USAGE;
        } else if ((m = cli_value(argc, argv, &i, "--reps", &v)) != 0) {
            long r;
            if (m < 0 || !cli_int("bench", "--reps", v, 1, 100000, &r)) return CLI_USAGE;
            o.reps = (int)r;
        } else if ((m = cli_value(argc, argv, &i, "--min-time", &v)) != 0) {
            if (m < 0 || !cli_double("bench", "--min-time", v, 0, 3600, &o.min_s)) return CLI_USAGE;
        } else if (!entry && argv[i][0] != '-') {
            entry = argv[i];
        } else if (nrest < 255) {
            rest[nrest++] = argv[i];
        }
    }
    int which = -1;
    if (entry) {
        for (int i = 0; i < NENTRIES; i++)
            if (!strcmp(entries[i].name, entry)) which = i;
        if (which < 0) return cli_usage_error("bench", "unknown entry '%s'", entry);
    } else if (nrest > 0) {
        return cli_usage_error("bench", "option '%s' needs an entry name before it", rest[0]);
    }
    vkt_ctx *ctx;
    int rc = cli_open_device("bench", (int)device, &ctx);
    if (rc != CLI_OK) return rc;
    if (!o.json)
        printf("device: %s (%s)\n", vkt_ctx_profile(ctx)->name, vkt_ctx_profile(ctx)->driver);
    for (int i = 0; i < NENTRIES && rc == CLI_OK; i++) {
        if (which >= 0 ? i != which : !entries[i].in_default) continue;
        char *args[257];
        args[0] = (char *)entries[i].name;
        int n = 1;
        if (which >= 0)
            for (int j = 0; j < nrest; j++) args[n++] = rest[j];
        rc = entries[i].fn(ctx, &o, n, args);
    }
    vkt_ctx_destroy(ctx);
    return rc;
}
