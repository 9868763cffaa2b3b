// cmd_steer_efficiency_opts.c: the usage and options of `vkt steer efficiency`
// (cmd_steer_efficiency.h).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_model.h"
#include "cli_opt.h"
#include "cmd_steer_efficiency.h"

#define EFF_STR_(x) #x
#define EFF_STR(x) EFF_STR_(x)

#define CMD EFF_CMD
#define MAX_STRENGTHS EFF_MAX_STRENGTHS
#define MAX_SEEDS EFF_MAX_SEEDS
#define N_KINDS EFF_N_KINDS
#define KIND_NAMES eff_kind_names
typedef eff_opts opts;

const char *const eff_kind_names[EFF_N_KINDS] = {"trace", "pc1", "last", "decision"};

static const cli_cmd CMD_INFO = {
    .name = CMD,
    .usage = "usage: vkt steer efficiency --out DIR [--ckpt DIR] [options]\n",
    .about =
        "The efficiency-steering experiment on the synthetic task of docs/efficiency_steering.md:\n"
        "  1. without --ckpt, writes the task data to DIR/data and trains DIR/model (4 layers x "
        "64,\n"
        "     " EFF_STR(
            EFF_TRAIN_STEPS) " steps; ~50 min on lavapipe; an existing DIR/model is reused, an "
                             "interrupted one resumed)\n"
                             "  2. held-out check: accuracy and verbose fraction per tag (sampled "
                             "at T = 1)\n"
                             "  3. directions per layer from the same concise trace under every "
                             "tag: trace-averaged\n"
                             "     (verbose-tag minus concise-tag), last prompt token, PC1 of the "
                             "paired differences,\n"
                             "     and the mean difference at the decision rows (the newline where "
                             "a re-check line may start)\n"
                             "  4. sweep: layer x strength (a fraction of the mean residual norm "
                             "|h| at that layer),\n"
                             "     edit h <- h - s |h| v/|v| at every position, on held-out "
                             "verbose-tag prompts\n"
                             "  5. the best setting (fewest tokens with accuracy within 2 points "
                             "of the unedited model)\n"
                             "     on other held-out verbose-tag prompts, beside a random "
                             "direction of the same norm; the\n"
                             "     reverse edit (+s, the same direction and layer) on concise-tag "
                             "prompts, its strength\n"
                             "     chosen the same way on the sweep's problems (most tokens within "
                             "2 points)\n"
                             "Writes DIR/heldout_by_tag.csv, DIR/sweep.csv, DIR/final.csv, "
                             "DIR/directions.gguf (the\n"
                             "trace directions, verbose minus concise, every layer >= 1), "
                             "DIR/efficiency.gguf (the best\n"
                             "edit itself: `vkt generate --control-vector DIR/efficiency.gguf` "
                             "applies it), DIR/summary.json\n"
                             "and figures DIR/efficiency_sweep.png, DIR/efficiency_final.png "
                             "(python3-matplotlib).\n",
};

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
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return n;
}

static int opt_strengths(const cli_opt *opt, const char *cmd, const char *const *v) {
    opts *o = opt->dest;
    if ((o->n_strengths = parse_list(v[0], o->strengths, MAX_STRENGTHS)) < 1)
        return cli_usage_error(
            cmd, "--strengths '%s': want up to %d comma-separated numbers in [0, 100]", v[0],
            MAX_STRENGTHS);
    return CLI_OK;
}

static int opt_kinds(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (!(*(unsigned *)opt->dest = parse_kinds(v[0])))
        return cli_usage_error(
            cmd, "--kinds '%s': want a comma-separated list of trace, pc1, last, decision", v[0]);
    return CLI_OK;
}

static int opt_weights(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (cli_weights_check(cmd, v[0]) != CLI_OK) return CLI_USAGE;
    *(const char **)opt->dest = v[0];
    return CLI_OK;
}

static int opt_chat(const cli_opt *opt, const char *cmd, const char *const *v) {
    eff_chat *c = opt->dest;
    if (!strcmp(v[0], "on"))
        *c = EFF_CHAT_ON;
    else if (!strcmp(v[0], "off"))
        *c = EFF_CHAT_OFF;
    else if (!strcmp(v[0], "auto"))
        *c = EFF_CHAT_AUTO;
    else
        return cli_usage_error(cmd, "--chat: '%s' (on, off or auto)", v[0]);
    return CLI_OK;
}

static int opt_thinking(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (strcmp(v[0], "on") && strcmp(v[0], "off"))
        return cli_usage_error(cmd, "--thinking: '%s' (on or off)", v[0]);
    *(const char **)opt->dest = v[0];
    return CLI_OK;
}

int eff_opts_parse(int argc, char **argv, eff_opts *o) {
    char strengths[128] = "", *at = strengths; // the default list, for the help
    for (int i = 0; i < o->n_strengths && at < strengths + sizeof strengths - 16; i++)
        at += snprintf(at, 16, "%s%g", i ? "," : "", o->strengths[i]);
    const cli_opt table[] = {
        {"--out", CLI_OPT_STR, &o->out, .metavar = "DIR", .help = "output folder (created)"},
        {"--ckpt", CLI_OPT_STR, &o->ckpt, .metavar = "DIR", .def = "train one in DIR/model",
         .help = "a trained task model, or a Hugging Face checkpoint with its\n"
                 "tokenizer.json (Llama 3, Qwen2, Qwen3; see \"On a pretrained model\" in\n"
                 "docs/efficiency_steering.md): prompts in its tokens, answers decoded\n"
                 "and graded as text, token counts in its tokens"},
        {"--adapter", CLI_OPT_STR, &o->adapter, .metavar = "DIR",
         .help = "apply a PEFT LoRA adapter (e.g. one vkt train --lora-rank fitted to the task)"},
        {"--weights", CLI_OPT_CUSTOM, &o->weights, .metavar = "W", .parse = opt_weights,
         .def = "auto",
         .help = "auto|fp32|bf16|f16: how the weights sit on the device (auto: 16-bit\n"
                 "for a bf16/fp16 checkpoint of the llama family)"},
        {"--chat", CLI_OPT_CUSTOM, &o->chat, .metavar = "on|off|auto", .parse = opt_chat,
         .def = "off",
         .help = "a tokenizer.json model: the prompt as a user message of the chat\n"
                 "template, ending with the assistant's header (on), or as plain text\n"
                 "with the tokenizer's BOS, as vkt train --format jsonl encodes the task\n"
                 "data (off); auto: on when tokenizer_config.json has a chat template"},
        {"--system", CLI_OPT_STR, &o->system, .metavar = "TEXT",
         .help = "with the chat template: a system message first"},
        {"--thinking", CLI_OPT_CUSTOM, &o->thinking, .metavar = "on|off", .parse = opt_thinking,
         .help = "with the chat template: its enable_thinking (Qwen3); a leading\n"
                 "<think>...</think> block is never graded"},
        {"--max-new-tokens", CLI_OPT_LONG, &o->max_new, 1, 8192, "N",
         .help = "tokens per sample at most"},
        {"--layers", CLI_OPT_STR, &o->layers, .metavar = "A-B",
         .def = "all: those a GGUF control vector can hold", .help = "layers to sweep, 1..L-1"},
        {"--strengths", CLI_OPT_CUSTOM, o, .metavar = "LIST", .parse = opt_strengths,
         .def = strengths, .help = "fractions of |h|"},
        {"--kinds", CLI_OPT_CUSTOM, &o->kinds, .metavar = "LIST", .parse = opt_kinds,
         .given = &o->kinds_given, .def = "all",
         .help = "directions to sweep, of trace,pc1,last,decision"},
        {"--prompts", CLI_OPT_LONG, &o->prompts, 8, 4096, "N",
         .help = "held-out verbose-tag prompts in the sweep and in the final test"},
        {"--check-problems", CLI_OPT_LONG, &o->check_problems, 1, 827, "N",
         .help = "held-out problems x 16 tags in step 2"},
        {"--dir-problems", CLI_OPT_LONG, &o->dir_problems, 1, 1024, "N",
         .help = "training problems x 16 tags for the directions"},
        {"--temperature", CLI_OPT_DOUBLE, &o->temperature, 0, 10, "T",
         .help = "decoding of the sweep and the final test: 0 = greedy, or\n"
                 "sampling at T (the held-out check of step 2 always samples at T = 1)"},
        {"--seeds", CLI_OPT_LONG, &o->seeds, 1, MAX_SEEDS, "N",
         .help = "sampling seeds per setting when T > 0 (greedy uses one)"},
        {"--max-accuracy-drop", CLI_OPT_DOUBLE, &o->max_drop, 0, 100, "X",
         .help = "accuracy points the best setting may lose"},
        {"--seed", CLI_OPT_U64, &o->seed, .metavar = "S",
         .help = "seed for problem choice, sampling, the random direction"},
        {"--precision", CLI_OPT_CHOICE, &o->precision, .choices = "fp32|bf16|fp16",
         .help = "arithmetic of training the task model (not with --ckpt): 16-bit matmul\n"
                 "operands with fp32 sums and weights; fp16 scales the loss"},
        {"--no-plot", CLI_OPT_UNFLAG, &o->plot, .help = "skip the figures"},
        {"--device", CLI_OPT_LONG, &o->device, 0, 1000, "N",
         .help = "Vulkan device (see vkt devices)", .def = "VKT_DEVICE, else auto"},
        {"--json", CLI_OPT_FLAG, &o->json, .help = "end with one JSON summary object on stdout"},
        {0},
    };
    int rc = cli_parse(&CMD_INFO, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (!o->out) return cli_usage_error(CMD, "--out DIR is required");
    if (!o->ckpt &&
        (o->adapter || o->weights || o->chat != EFF_CHAT_OFF || o->system || o->thinking))
        return cli_usage_error(CMD,
                               "--adapter, --weights, --chat, --system and --thinking need --ckpt");
    if (o->ckpt && o->precision != 0)
        return cli_usage_error(CMD, "--precision is for training the task model (without --ckpt)");
    if (o->chat == EFF_CHAT_OFF && (o->system || o->thinking))
        return cli_usage_error(CMD, "--system and --thinking need --chat on (or auto)");
    if (o->temperature == 0) o->seeds = 1; // greedy decoding gives every seed the same tokens
    return CLI_OK;
}

void eff_opts_defaults(eff_opts *o) {
    *o = (eff_opts){.kinds = (1u << N_KINDS) - 1,
                    .prompts = 200,
                    .check_problems = 256,
                    .dir_problems = 64,
                    .seeds = 2,
                    .device = -1,
                    .max_new = 128,
                    .max_drop = 2,
                    .seed = 1,
                    .plot = true};
    o->n_strengths = parse_list("0.1,0.2,0.3,0.5,0.7", o->strengths, MAX_STRENGTHS);
}
