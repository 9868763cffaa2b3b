// cli_model.h: opening a checkpoint for a command. --weights says how the model holds its
// weights on the device (auto: a pretrained bf16/fp16 checkpoint stays 16-bit when the
// command does not train the base), --adapter applies a PEFT LoRA adapter on top, and the
// memory the model takes is printed (stderr) before anything is allocated and refused
// when the device's heap cannot hold it.
#ifndef VKT_CLI_MODEL_H
#define VKT_CLI_MODEL_H

#include <stdbool.h>

#include "checkpoint.h"
#include "lora.h"

typedef struct cli_model_args {
    const char *ckpt;     // --ckpt DIR
    const char *adapter;  // --adapter DIR, or NULL
    const char *weights;  // --weights auto|fp32|bf16|f16, or NULL (auto)
    bool allow_nonfinite; // --allow-nonfinite
    bool trainable;       // the command updates the base weights (fp32 with gradients)
} cli_model_args;

typedef struct cli_model {
    vkt_model *m;
    vkt_lora *lora; // the --adapter, or NULL
    uint64_t bytes; // device bytes taken so far (weights, adapter, reservations)
} cli_model;

// The --weights help line, shared by the commands that take it.
#define CLI_WEIGHTS_HELP                                                                           \
    "  --weights W      auto|fp32|bf16|f16: how the weights sit on the device (auto: 16-bit for "  \
    "a\n"                                                                                          \
    "                   bf16/fp16 checkpoint of the llama family, else fp32)\n"                    \
    "  --adapter DIR    apply a PEFT LoRA adapter (adapter_config.json, "                          \
    "adapter_model.safetensors)\n"

// A usage error (CLI_USAGE) for a --weights value other than the four.
int cli_weights_check(const char *cmd, const char *v);
// Loads a->ckpt (and a->adapter) on ctx into *out, printing what it takes; CLI_OK or the
// error printed (CLI_FAILED).
int cli_model_open(const char *cmd, vkt_ctx *ctx, const cli_model_args *a, cli_model *out);
// Says (stderr) and checks that `bytes` more device memory for `what` fit beside the model.
int cli_model_reserve(const char *cmd, vkt_ctx *ctx, cli_model *cm, uint64_t bytes,
                      const char *what);
void cli_model_close(cli_model *cm);

#endif
