// vkt: the command-line front end. Dispatches to one cmd_* function per subcommand.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const vkt_command commands[] = {
    {"devices", cmd_devices, "list Vulkan devices, their limits and the paths vkt uses"},
    {"bench", cmd_bench, "time kernels (and more) on the chosen device"},
    {"play", cmd_play, "play a game in the terminal against an opponent"},
    {"arena", cmd_arena, "pit two agents against each other for many games"},
    {"kuhn", cmd_kuhn, "Kuhn poker analysis: exploitability of a tabular policy"},
    {"train", cmd_train, "train a transformer on a text or JSONL file (Hugging Face checkpoints)"},
    {"eval", cmd_eval, "mean next-token NLL of a text under a checkpoint"},
    {"tokenize", cmd_tokenize,
     "the ids of a text under a model's tokenizer (tokenizer.json or bytes)"},
    {"detokenize", cmd_detokenize, "the text of ids under a model's tokenizer"},
    {"generate", cmd_generate, "sample from a checkpoint (KV-cached, batched; control vectors)"},
    {"steer", cmd_steer,
     "steering vectors: capture residual activations, extract GGUF control vectors"},
    {"selfplay", cmd_selfplay,
     "self-play RL on text games (SPIRAL): Kuhn, TicTacToe, negotiation, off-switch"},
    {"offswitch", cmd_offswitch, "off-switch game: exact values, Monte Carlo, sweeps, figures"},
};

static void usage(FILE *f) {
    fprintf(f,
            "vkt %s: train and study small transformer language models on any Vulkan device\n\n"
            "usage: vkt COMMAND [options]   (vkt COMMAND --help for its options)\n\ncommands:\n",
            VKT_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\ncommon options: --device N (or VKT_DEVICE=N), --seed S, --json\n"
            "environment: VKT_PROFILE=1 per-op GPU timings, VKT_VALIDATION=1 Khronos validation,\n"
            "  VKT_DISABLE_FP16 / VKT_DISABLE_COOPMAT / VKT_DISABLE_SUBGROUP kill switches\n"
            "exit status: 0 ok, 1 the run failed, 2 bad usage\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vkt %s\n", VKT_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vkt: unknown command '%s' (see vkt --help)\n", argv[1]);
    return CLI_USAGE;
}
