// cmd_steer_efficiency_opts.c: the usage and options of `vkt steer efficiency`
// (cmd_steer_efficiency.h).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_model.h"
#include "cmd_steer_efficiency.h"

#define CMD EFF_CMD
#define MAX_STRENGTHS EFF_MAX_STRENGTHS
#define MAX_SEEDS EFF_MAX_SEEDS
#define N_KINDS EFF_N_KINDS
#define KIND_NAMES eff_kind_names
typedef eff_opts opts;

const char *const eff_kind_names[EFF_N_KINDS] = {"trace", "pc1", "last", "decision"};

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkt steer efficiency --out DIR [--ckpt DIR] [options]\n\n"
            "The efficiency-steering experiment on the synthetic task of docs/efficiency_steering.md:\n"
            "  1. without --ckpt, writes the task data to DIR/data and trains DIR/model (4 layers x 64,\n"
            "     %d steps; ~50 min on lavapipe; an existing DIR/model is reused, an interrupted one resumed)\n"
            "  2. held-out check: accuracy and verbose fraction per tag (sampled at T = 1)\n"
            "  3. directions per layer from the same concise trace under every tag: trace-averaged\n"
            "     (verbose-tag minus concise-tag), last prompt token, PC1 of the paired differences,\n"
            "     and the mean difference at the decision rows (the newline where a re-check line may start)\n"
            "  4. sweep: layer x strength (a fraction of the mean residual norm |h| at that layer),\n"
            "     edit h <- h - s |h| v/|v| at every position, on held-out verbose-tag prompts\n"
            "  5. the best setting (fewest tokens with accuracy within 2 points of the unedited model)\n"
            "     on other held-out verbose-tag prompts, beside a random direction of the same norm; the\n"
            "     reverse edit (+s, the same direction and layer) on concise-tag prompts, its strength\n"
            "     chosen the same way on the sweep's problems (most tokens within 2 points)\n"
            "Writes DIR/heldout_by_tag.csv, DIR/sweep.csv, DIR/final.csv, DIR/directions.gguf (the\n"
            "trace directions, verbose minus concise, every layer >= 1), DIR/efficiency.gguf (the best\n"
            "edit itself: `vkt generate --control-vector DIR/efficiency.gguf` applies it), DIR/summary.json\n"
            "and figures DIR/efficiency_sweep.png, DIR/efficiency_final.png (python3-matplotlib).\n\n"
            "  --out DIR            output folder (created)\n"
            "  --ckpt DIR           a trained task model (default: train one in DIR/model), or a Hugging Face\n"
            "                       checkpoint with its tokenizer.json (Llama 3, Qwen2, Qwen3; see \"On a pretrained\n"
            "                       model\" in docs/efficiency_steering.md): prompts in its tokens, answers decoded\n"
            "                       and graded as text, token counts in its tokens\n"
            "  --adapter DIR        apply a PEFT LoRA adapter (e.g. one vkt train --lora-rank fitted to the task)\n"
            "  --weights W          auto|fp32|bf16|f16: how the weights sit on the device (auto: 16-bit for a\n"
            "                       bf16/fp16 checkpoint of the llama family)\n"
            "  --chat on|off|auto   a tokenizer.json model: the prompt as a user message of the chat template,\n"
            "                       ending with the assistant's header (on), or as plain text with the tokenizer's\n"
            "                       BOS, as vkt train --format jsonl encodes the task data (off, the default);\n"
            "                       auto: on when tokenizer_config.json has a chat template\n"
            "  --system TEXT        with the chat template: a system message first\n"
            "  --thinking on|off    with the chat template: its enable_thinking (Qwen3); a leading\n"
            "                       <think>...</think> block is never graded\n"
            "  --max-new-tokens N   tokens per sample at most (default 128)\n"
            "  --layers A-B         layers to sweep, 1..L-1 (default all: those a GGUF control vector can hold)\n"
            "  --strengths LIST     fractions of |h| (default 0.1,0.2,0.3,0.5,0.7)\n"
            "  --kinds LIST         directions to sweep, of trace,pc1,last,decision (default all)\n"
            "  --prompts N          held-out verbose-tag prompts in the sweep and in the final test (default 200)\n"
            "  --check-problems N   held-out problems x 16 tags in step 2 (default 256)\n"
            "  --dir-problems N     training problems x 16 tags for the directions (default 64)\n"
            "  --temperature T      decoding of the sweep and the final test: 0 = greedy (default), or\n"
            "                       sampling at T (the held-out check of step 2 always samples at T = 1)\n"
            "  --seeds N            sampling seeds per setting when T > 0 (default 2; greedy uses one)\n"
            "  --max-accuracy-drop X  accuracy points the best setting may lose (default 2)\n"
            "  --seed S             seed for problem choice, sampling, the random direction (default 1)\n"
            "  --no-plot            skip the figures\n"
            "  --device N           Vulkan device\n"
            "  --json               end with one JSON summary object on stdout\n",
            EFF_TRAIN_STEPS);
}

// "trace,decision" -> a bit mask over KIND_NAMES; 0 on an unknown name.
static unsigned parse_kinds(const char *s) {
    unsigned m = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        int k = 0;
        while (k < N_KINDS && !(strlen(KIND_NAMES[k]) == n && !strncmp(s, KIND_NAMES[k], n))) k++;
        if (k == N_KINDS) return 0;
        m |= 1u << k;
        s += n + (s[n] == ',');
    }
    return m;
}

static int parse_list(const char *s, double *v, int cap) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno || !(x >= 0) || x > 100 || n == cap) return -1;
        v[n++] = x;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return n;
}

int eff_opts_parse(int argc, char **argv, eff_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *v;
        int mm;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(argv[i], "--json")) o->json = true;
        else if (!strcmp(argv[i], "--no-plot")) o->plot = false;
#define STR(name, field) else if ((mm = cli_value(argc, argv, &i, name, &v))) { if (mm < 0) return CLI_USAGE; o->field = v; }
#define INT(name, field, lo, hi) \
        else if ((mm = cli_value(argc, argv, &i, name, &v))) { if (mm < 0 || !cli_int(CMD, name, v, lo, hi, &o->field)) return CLI_USAGE; }
        STR("--out", out)
        STR("--ckpt", ckpt)
        STR("--layers", layers)
        STR("--adapter", adapter)
        STR("--system", system)
        INT("--max-new-tokens", max_new, 1, 8192)
        INT("--prompts", prompts, 8, 4096)
        INT("--check-problems", check_problems, 1, 827)
        INT("--dir-problems", dir_problems, 1, 1024)
        INT("--seeds", seeds, 1, MAX_SEEDS)
        INT("--device", device, 0, 1000)
#undef STR
#undef INT
        else if ((mm = cli_value(argc, argv, &i, "--strengths", &v))) {
            if (mm < 0) return CLI_USAGE;
            if ((o->n_strengths = parse_list(v, o->strengths, MAX_STRENGTHS)) < 1)
                return cli_usage_error(CMD, "--strengths '%s': want up to %d comma-separated numbers in [0, 100]", v,
                                       MAX_STRENGTHS);
        } else if ((mm = cli_value(argc, argv, &i, "--kinds", &v))) {
            if (mm < 0) return CLI_USAGE;
            o->kinds_given = true;
            if (!(o->kinds = parse_kinds(v)))
                return cli_usage_error(CMD, "--kinds '%s': want a comma-separated list of trace, pc1, last, decision", v);
        } else if ((mm = cli_value(argc, argv, &i, "--max-accuracy-drop", &v))) {
            if (mm < 0 || !cli_double(CMD, "--max-accuracy-drop", v, 0, 100, &o->max_drop)) return CLI_USAGE;
        } else if ((mm = cli_value(argc, argv, &i, "--temperature", &v))) {
            if (mm < 0 || !cli_double(CMD, "--temperature", v, 0, 10, &o->temperature)) return CLI_USAGE;
        } else if ((mm = cli_value(argc, argv, &i, "--weights", &v))) {
            if (mm < 0 || cli_weights_check(CMD, v) != CLI_OK) return CLI_USAGE;
            o->weights = v;
        } else if ((mm = cli_value(argc, argv, &i, "--chat", &v))) {
            if (mm < 0) return CLI_USAGE;
            if (!strcmp(v, "on")) o->chat = EFF_CHAT_ON;
            else if (!strcmp(v, "off")) o->chat = EFF_CHAT_OFF;
            else if (!strcmp(v, "auto")) o->chat = EFF_CHAT_AUTO;
            else return cli_usage_error(CMD, "--chat: '%s' (on, off or auto)", v);
        } else if ((mm = cli_value(argc, argv, &i, "--thinking", &v))) {
            if (mm < 0) return CLI_USAGE;
            if (strcmp(v, "on") && strcmp(v, "off")) return cli_usage_error(CMD, "--thinking: '%s' (on or off)", v);
            o->thinking = v;
        } else if ((mm = cli_value(argc, argv, &i, "--seed", &v))) {
            if (mm < 0 || !cli_u64(CMD, "--seed", v, &o->seed)) return CLI_USAGE;
        } else return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
    }
    if (!o->out) return cli_usage_error(CMD, "--out DIR is required");
    if (!o->ckpt && (o->adapter || o->weights || o->chat != EFF_CHAT_OFF || o->system || o->thinking))
        return cli_usage_error(CMD, "--adapter, --weights, --chat, --system and --thinking need --ckpt");
    if (o->chat == EFF_CHAT_OFF && (o->system || o->thinking))
        return cli_usage_error(CMD, "--system and --thinking need --chat on (or auto)");
    if (o->temperature == 0) o->seeds = 1;  // greedy decoding gives every seed the same tokens
    return CLI_OK;
}


void eff_opts_defaults(eff_opts *o) {
    *o = (eff_opts){.kinds = (1u << N_KINDS) - 1, .prompts = 200, .check_problems = 256, .dir_problems = 64, .seeds = 2,
                    .device = -1, .max_new = 128, .max_drop = 2, .seed = 1, .plot = true};
    o->n_strengths = parse_list("0.1,0.2,0.3,0.5,0.7", o->strengths, MAX_STRENGTHS);
}
