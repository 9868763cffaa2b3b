// model_config.h: a decoder-only transformer described by a config, its presets, and
// the parameter table: every tensor's Hugging Face name, shape and place in the single
// parameter buffer. Tensors keep Hugging Face layouts (GPT-2 Conv1D weights (in, out),
// Llama Linear weights (out, in)), so checkpoints are plain copies and the matmul
// transposes absorb the difference.
#ifndef VKT_MODEL_CONFIG_H
#define VKT_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum { VKT_FAMILY_GPT2 = 0, VKT_FAMILY_LLAMA } vkt_family;
typedef enum { VKT_NORM_LAYERNORM = 0, VKT_NORM_RMSNORM } vkt_norm_kind;
typedef enum { VKT_POS_LEARNED = 0, VKT_POS_ROPE } vkt_pos_kind;
typedef enum { VKT_MLP_GELU = 0, VKT_MLP_SWIGLU } vkt_mlp_kind;

typedef struct vkt_model_config {
    vkt_family family;   // decides tensor names: gpt2 -> GPT2LMHeadModel, llama -> LlamaForCausalLM
    int vocab;           // V
    int context;         // T max
    int layers;          // L
    int heads;           // H
    int kv_heads;        // KVH, divides H (== H for GPT-2)
    int width;           // C
    int ffn;             // F
    vkt_norm_kind norm;
    vkt_pos_kind pos;
    vkt_mlp_kind mlp;
    bool tied;           // lm_head shares the token embedding
    bool bias;           // linear layers and norms have biases (GPT-2)
    float eps;           // norm epsilon
    float rope_theta;
} vkt_model_config;

// Presets: gpt2-tiny, llama-tiny, gpt2-124M (and gpt2-small as an alias).
vkt_status vkt_model_preset(const char *name, vkt_model_config *cfg, vkt_error *err);
const char *vkt_model_preset_names(void); // "gpt2-tiny, llama-tiny, gpt2-124M"
// Checks sizes and combinations (kv_heads divides heads, width = heads * head_dim, ...).
vkt_status vkt_model_config_check(const vkt_model_config *cfg, vkt_error *err);
// Overrides a config's shape; 0 keeps a field. A new width sets the FFN to 4C (gpt2) or
// 8C/3 rounded up to 32 (llama, as the preset) unless ffn is given; new heads set kv_heads
// to heads for gpt2 and keep the preset's heads/kv_heads ratio for llama when it divides.
void vkt_model_config_reshape(vkt_model_config *cfg, int layers, int width, int heads, int ffn);
static inline int vkt_head_dim(const vkt_model_config *c) { return c->width / c->heads; }

// What each parameter tensor is, for the forward code.
typedef enum {
    VKT_P_WTE = 0, VKT_P_WPE, VKT_P_LNF_W, VKT_P_LNF_B, VKT_P_LM_HEAD,
    // per layer (layer index in vkt_param.layer)
    VKT_P_LN1_W, VKT_P_LN1_B, VKT_P_QKV_W, VKT_P_QKV_B, // gpt2: fused c_attn (C, 3C) Conv1D
    VKT_P_Q_W, VKT_P_K_W, VKT_P_V_W,                    // llama: separate (out, in)
    VKT_P_ATTN_OUT_W, VKT_P_ATTN_OUT_B,
    VKT_P_LN2_W, VKT_P_LN2_B,
    VKT_P_FC_W, VKT_P_FC_B,                              // gpt2 c_fc (C, F); llama gate_proj (F, C)
    VKT_P_UP_W,                                          // llama up_proj (F, C)
    VKT_P_PROJ_W, VKT_P_PROJ_B,                          // gpt2 mlp.c_proj (F, C); llama down_proj (C, F)
    VKT_P_KINDS
} vkt_param_kind;

typedef struct vkt_param {
    char name[96];        // Hugging Face name
    vkt_param_kind kind;
    int layer;            // -1 for non-layer tensors
    int ndim;
    int64_t shape[2];
    uint64_t offset;      // in floats, inside the parameter buffer
    uint64_t count;       // floats
    bool decay;           // weight decay applies (matrices, not biases/gains)
} vkt_param;

// Builds the list of parameters in a fixed order; *out is malloc'd (free(out->p)).
typedef struct vkt_params {
    vkt_param *p;
    int n;
    uint64_t total;       // floats in the parameter buffer
} vkt_params;
vkt_status vkt_params_build(const vkt_model_config *cfg, vkt_params *out, vkt_error *err);
void vkt_params_free(vkt_params *ps);
// The parameter of a kind (and layer), or NULL when the model has none (e.g. no biases).
const vkt_param *vkt_params_find(const vkt_params *ps, vkt_param_kind kind, int layer);
const vkt_param *vkt_params_by_name(const vkt_params *ps, const char *name);

// config.json as Hugging Face writes it for GPT2LMHeadModel / LlamaForCausalLM.
vkt_status vkt_model_config_to_json(const vkt_model_config *cfg, char **json_text, vkt_error *err);
vkt_status vkt_model_config_from_json(const char *json_text, const char *path, vkt_model_config *cfg,
                                      vkt_error *err);

#endif
