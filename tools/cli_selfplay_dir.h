// cli_selfplay_dir.h: `vkt selfplay --out DIR` as a run directory of
// trainer/formats/checkpoint_dir.h. Each save is one checkpoint, DIR/ckpt-<updates>/ (config.json,
// model.safetensors, optimizer.safetensors, rl_state.json, run_options.json and, with --kl-coef,
// ref/), hashed by its manifest (kind "selfplay") and published by one rename, so --resume reads
// either the old set or the new one, never a mix. --resume reads the newest checkpoint that matches
// its manifest (an older one kept by --keep-last when the newest is damaged), or the files at the
// top of a directory written by an older vkt (unverified, with a note).
#ifndef VKT_CLI_SELFPLAY_DIR_H
#define VKT_CLI_SELFPLAY_DIR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "rl_selfplay.h"

// Before the run: takes DIR's lock (*lock; vkt_run_unlock it at the end), removes what
// interrupted saves left (a note on stderr), and then either finds the checkpoint to resume
// (its directory into src, n bytes; a note on stderr when one was skipped or is unverified)
// or, for a new run, removes the checkpoints DIR held (--overwrite).
vkt_status cli_sp_open_dir(const char *out, bool resume, int *lock, char *src, size_t n,
                           vkt_error *err);

// One save: the model with its moments, s's state, its KL reference and run_options into a
// temporary directory, published as DIR/ckpt-<s->updates>; keeps keep_last checkpoints.
// tok_dir (may be NULL): the directory whose tokenizer files go with the model (a pretrained
// model's). A model with a LoRA adapter attached saves the adapter's PEFT files instead of
// its weights, naming `base` as the base model, with the adapters' moments and lora_base (the
// base's identity: trainer/model/lora_resume.h) for --resume. Reports into s's context.
vkt_status cli_sp_save(vkt_rl_sp *s, const char *out, const json_t *run_options, int keep_last,
                       const char *tok_dir, const char *base, const json_t *lora_base);

// A checkpoint's tokenizer.json as self-play's text format reads it (rl_fmt.h): *tok is the
// pretrained model's tokenizer, or NULL for a model of vkt's byte tokenizer.
// cfg: the model's configuration (NULL: DIR/config.json; a LoRA run's directory has none).
vkt_status cli_sp_tokenizer(const char *dir, const vkt_model_config *cfg, vkt_tok **tok,
                            vkt_error *err);

#endif
