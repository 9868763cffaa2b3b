// lora.h: LoRA adapters on the llama family's Linear layers, as PEFT defines them
// (fan_in_fan_out false, no rsLoRA, no DoRA). For a target whose frozen base weight is
// W (OUT, IN), y = x W^T becomes
//   y = x W^T + scale * (x A^T) B^T,   A (r, IN), B (OUT, r), scale = lora_alpha / r.
// A starts U(-1/sqrt(IN), 1/sqrt(IN)) (PEFT: kaiming_uniform_(a = sqrt(5))) and B at 0,
// so a new adapter changes nothing. Adapters keep their own fp32 parameter, gradient and
// AdamW moment buffers; the model calls vkt_lora_fwd after each target's base product
// and vkt_lora_bwd after its base backward.
//
// Parameter layout (vkt_lora_get / set, and every per-target offset): targets in layer
// order, inside a layer q, k, v, o, gate, up, down (those selected); each target's A
// (r * IN floats) then B (OUT * r floats).
//
// Files (lora_peft.c): DIR/adapter_model.safetensors and DIR/adapter_config.json as PEFT's
// save_pretrained writes them, so PeftModel.from_pretrained opens what vkt trains.
#ifndef VKT_LORA_H
#define VKT_LORA_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"
#include "model.h"
#include "model_config.h"

// Target modules, one bit each, in layout order.
enum {
    VKT_LORA_Q = 1u << 0,
    VKT_LORA_K = 1u << 1,
    VKT_LORA_V = 1u << 2,
    VKT_LORA_O = 1u << 3,
    VKT_LORA_GATE = 1u << 4,
    VKT_LORA_UP = 1u << 5,
    VKT_LORA_DOWN = 1u << 6,
    VKT_LORA_ALL = 0x7fu,
};
#define VKT_LORA_MODULES 7

typedef struct vkt_lora vkt_lora;

typedef struct vkt_lora_config {
    int rank;         // r >= 1
    float alpha;      // lora_alpha (finite); scale = alpha / r
    float dropout;    // lora_dropout in [0, 1): inverted dropout on x before A, in training only
    unsigned targets; // VKT_LORA_* bits, at least one
    uint64_t seed;    // A's initialisation
} vkt_lora_config;

// One target's place: module index (0 = q_proj .. 6 = down_proj), layer, base shapes,
// and the offsets (floats) of A and B in the adapter's parameter layout.
typedef struct vkt_lora_target {
    int module, layer;
    vkt_param_kind kind; // the base weight's parameter kind
    int in, out;
    uint64_t a_offset, b_offset;
} vkt_lora_target;

// "q_proj" .. "down_proj" for module i (0..6), NULL outside.
const char *vkt_lora_module_name(int i);
// "self_attn" for q/k/v/o, "mlp" for gate/up/down.
const char *vkt_lora_module_parent(int i);
// The module index whose base weight is `kind`, or -1.
int vkt_lora_module_of(vkt_param_kind kind);
// Parses "q_proj,k_proj,..." (spaces around names allowed; "all-linear" for all seven)
// into VKT_LORA_* bits. An unknown or empty name is VKT_ERR_ARG naming it.
vkt_status vkt_lora_targets_parse(const char *csv, unsigned *targets, vkt_error *err);

// A fresh adapter for the model described by mc / ps (ps: its parameter table). The gpt2
// family is VKT_ERR_UNSUPPORTED. Starts in evaluation mode (vkt_lora_set_train).
vkt_status vkt_lora_create(vkt_ctx *ctx, const vkt_model_config *mc, const vkt_params *ps,
                           const vkt_lora_config *lc, vkt_lora **out);
void vkt_lora_destroy(vkt_lora *a);
const vkt_lora_config *vkt_lora_cfg(const vkt_lora *a);
vkt_ctx *vkt_lora_ctx(vkt_lora *a);
float vkt_lora_scale(const vkt_lora *a);
int vkt_lora_n_targets(const vkt_lora *a);
const vkt_lora_target *vkt_lora_target_at(const vkt_lora *a, int i);
// Whether the base weight `kind` of `layer` carries an adapter.
bool vkt_lora_has(const vkt_lora *a, vkt_param_kind kind, int layer);
// Floats in the parameter layout.
uint64_t vkt_lora_count(const vkt_lora *a);

// Training mode (dropout active) or evaluation (the default). step keys the dropout
// masks: advance it for every forward (each micro-batch), and keep it unchanged between a
// forward and its backward, which rebuilds the same masks (a hash of seed, step, target
// and element: op_dropout.h). Without dropout, it does nothing.
vkt_status vkt_lora_set_train(vkt_lora *a, bool training, uint64_t step);
// The seed the dropout masks derive from (a loaded adapter's is 0 until a run sets its own).
void vkt_lora_set_seed(vkt_lora *a, uint64_t seed);
// The key of target i's dropout mask at the current step (vkt_dropout_keep(key, index, p)).
uint64_t vkt_lora_dropout_key(const vkt_lora *a, int i);

// Plans at least M rows per forward (B*T): scratch for x A^T (M, r) per target, kept for
// backward. Grows only: a smaller M keeps the larger plan (generation beside training).
vkt_status vkt_lora_plan(vkt_lora *a, int M);
// y (M, OUT) += scale * (x A^T) B^T for the target of base weight `kind` in `layer`;
// x (M, IN). A no-op for a module that is not a target. M <= the planned rows.
vkt_status vkt_lora_fwd(vkt_lora *a, vkt_param_kind kind, int layer, int M, vkt_view x, vkt_view y);
// With the x of the same target's last forward and dy (M, OUT) (x' = dropout(x), mask D):
//   dB += scale * dy^T (x' A^T);  dA += scale * (dy B)^T x';  dx += D * scale * (dy B) A / (1-p).
// dx (M, IN) already holds the base's contribution; an empty view skips it.
vkt_status vkt_lora_bwd(vkt_lora *a, vkt_param_kind kind, int layer, int M, vkt_view x, vkt_view dy,
                        vkt_view dx);
// Global-norm clipping over the adapter gradients, one AdamW step (t 1-based; weight
// decay o->weight_decay on every A and B, as torch's AdamW over PEFT's parameters), then
// zeroes the gradients. *grad_norm (may be NULL): the norm before clipping (waits).
vkt_status vkt_lora_adamw(vkt_lora *a, const vkt_optim *o, int t, float *grad_norm);
vkt_status vkt_lora_zero_grads(vkt_lora *a);

// Host copies (vkt_lora_count floats each, in the parameter layout).
vkt_status vkt_lora_get(vkt_lora *a, float *params);
vkt_status vkt_lora_set(vkt_lora *a, const float *params);
vkt_status vkt_lora_get_grads(vkt_lora *a, float *grads);
// AdamW moments, for resuming (zeros before the first step).
vkt_status vkt_lora_get_optim(vkt_lora *a, float *m1, float *m2);
vkt_status vkt_lora_set_optim(vkt_lora *a, const float *m1, const float *m2);

// Host merge into fp32 parameters laid out by ps: W += scale * B A for every target.
vkt_status vkt_lora_merge(vkt_lora *a, const vkt_params *ps, float *params);

// PEFT files. save: creates DIR if needed and writes DIR/adapter_model.safetensors (F32,
// "base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight" (r, IN) and
// "...lora_B.weight" (OUT, r), metadata format=pt) and DIR/adapter_config.json, each
// through a temporary file and a rename. base_model_path: base_model_name_or_path (may be
// NULL: null). load: validates the config's keys and every tensor's presence, dtype and
// shape; an error names the file and the key or tensor.
vkt_status vkt_lora_save(vkt_lora *a, const char *dir, const char *base_model_path);
vkt_status vkt_lora_load(vkt_ctx *ctx, const vkt_model_config *mc, const vkt_params *ps,
                         const char *dir, vkt_lora **out);
// The tensor name PEFT gives target t's A (which 'A') or B ('B'); buf >= 128 bytes.
void vkt_lora_tensor_name(const vkt_lora_target *t, char which, char *buf, int size);

#endif
