// model_config.c: presets, checks and the parameter table (config.json: model_config_json.c).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_config.h"

const char *vkt_model_preset_names(void) { return "gpt2-tiny, llama-tiny, gpt2-124M"; }

vkt_status vkt_model_preset(const char *name, vkt_model_config *c, vkt_error *err) {
    memset(c, 0, sizeof *c);
    // Static, so that every other field and the padding are zero (tests compare configs bytewise).
    static const vkt_model_config gpt2 = {.family = VKT_FAMILY_GPT2,
                                          .norm = VKT_NORM_LAYERNORM,
                                          .pos = VKT_POS_LEARNED,
                                          .mlp = VKT_MLP_GELU,
                                          .tied = true,
                                          .bias = true,
                                          .eps = 1e-5f,
                                          .arch = VKT_ARCH_GPT2};
    if (!strcmp(name, "gpt2-tiny")) {
        // Byte vocabulary (256 + special tokens, see trainer/text/tokenizer.h) rounded up to 8.
        *c = gpt2;
        c->vocab = 264, c->context = 256, c->layers = 4, c->heads = c->kv_heads = 4, c->width = 128,
        c->ffn = 512;
    } else if (!strcmp(name, "llama-tiny")) {
        // Grouped-query attention (2 kv heads for 4 heads); SwiGLU width ~ 8/3 C rounded to 32.
        static const vkt_model_config llama = {.family = VKT_FAMILY_LLAMA,
                                               .vocab = 264,
                                               .context = 256,
                                               .layers = 4,
                                               .heads = 4,
                                               .kv_heads = 2,
                                               .width = 128,
                                               .ffn = 352,
                                               .norm = VKT_NORM_RMSNORM,
                                               .pos = VKT_POS_ROPE,
                                               .mlp = VKT_MLP_SWIGLU,
                                               .eps = 1e-5f,
                                               .rope_theta = 10000.0f,
                                               .arch = VKT_ARCH_LLAMA};
        *c = llama;
    } else if (!strcmp(name, "gpt2-124M") || !strcmp(name, "gpt2-small")) {
        *c = gpt2;
        c->vocab = 50257, c->context = 1024, c->layers = 12, c->heads = c->kv_heads = 12,
        c->width = 768;
        c->ffn = 3072;
    } else {
        return vkt_fail(err, VKT_ERR_ARG, "unknown preset '%s' (known: %s)", name,
                        vkt_model_preset_names());
    }
    return VKT_OK;
}

void vkt_model_config_reshape(vkt_model_config *c, int layers, int width, int heads, int ffn) {
    if (layers > 0) c->layers = layers;
    if (width > 0) {
        c->width = width;
        c->ffn = c->mlp == VKT_MLP_SWIGLU ? (8 * width / 3 + 31) / 32 * 32 : 4 * width;
    }
    if (heads > 0) {
        int ratio = c->heads / c->kv_heads;
        c->heads = heads;
        c->kv_heads = c->family == VKT_FAMILY_GPT2 || heads % ratio ? heads : heads / ratio;
    }
    if (ffn > 0) c->ffn = ffn;
}

// Fields an architecture fixes (transformers' config classes): a config that breaks them could
// not be written back as config.json and read as itself. NULL when c follows its arch.
static const char *arch_rule(const vkt_model_config *c) {
    if (c->family == VKT_FAMILY_GPT2)
        return c->arch != VKT_ARCH_GPT2 || c->head_dim || c->qkv_bias || c->o_bias || c->mlp_bias ||
                       c->qk_norm || c->sliding_window || c->rope_scaling.type != VKT_ROPE_PLAIN
                   ? "the gpt2 family has arch gpt2 and none of head_dim, separate biases, "
                     "qk_norm, sliding_window, "
                     "rope_scaling"
                   : NULL;
    switch (c->arch) {
    case VKT_ARCH_LLAMA:
        return c->qkv_bias != c->o_bias || c->qk_norm || c->sliding_window
                   ? "llama has q/k/v and o_proj biases together (attention_bias), no qk_norm, no "
                     "sliding_window"
                   : NULL;
    case VKT_ARCH_MISTRAL:
        return c->qkv_bias || c->o_bias || c->mlp_bias || c->qk_norm
                   ? "mistral has no biases and no qk_norm"
                   : NULL;
    case VKT_ARCH_QWEN2:
        return !c->qkv_bias || c->o_bias || c->mlp_bias || c->qk_norm
                   ? "qwen2 has q/k/v biases, no o_proj or mlp biases, no qk_norm"
                   : NULL;
    case VKT_ARCH_QWEN3:
        return !c->qk_norm || c->qkv_bias != c->o_bias || c->mlp_bias
                   ? "qwen3 has qk_norm, q/k/v and o_proj biases together (attention_bias), no mlp "
                     "biases"
                   : NULL;
    default: return "the llama family's arch is llama, mistral, qwen2 or qwen3";
    }
}

static vkt_status check_rope_scaling(const vkt_rope_scaling *r, vkt_error *err) {
    bool ok = r->type == VKT_ROPE_PLAIN || (r->type == VKT_ROPE_LINEAR && r->factor > 0) ||
              (r->type == VKT_ROPE_LLAMA3 && r->factor > 0 && r->low_freq_factor > 0 &&
               r->high_freq_factor > r->low_freq_factor && r->original_context > 0);
    return ok ? VKT_OK
              : vkt_fail(err, VKT_ERR_ARG,
                         "model config: rope_scaling type %d with factor %g, low/high_freq_factor "
                         "%g/%g, original "
                         "context %d (factors must be > 0, high > low, context > 0)",
                         (int)r->type, r->factor, r->low_freq_factor, r->high_freq_factor,
                         r->original_context);
}

vkt_status vkt_model_config_check(const vkt_model_config *c, vkt_error *err) {
    if (c->vocab < 1 || c->context < 1 || c->layers < 1 || c->heads < 1 || c->kv_heads < 1 ||
        c->width < 1 || c->ffn < 1 || c->head_dim < 0 || c->sliding_window < 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: sizes must be >= 1 (vocab %d, context %d, layers %d, heads "
                        "%d, kv_heads %d, "
                        "width %d, ffn %d; head_dim %d and sliding_window %d >= 0)",
                        c->vocab, c->context, c->layers, c->heads, c->kv_heads, c->width, c->ffn,
                        c->head_dim, c->sliding_window);
    // Sizes past any model vkt can hold are refused before a parameter table is built
    // (a fuzzed config.json with a million layers took seconds to reject later).
    double D = c->head_dim ? c->head_dim : (double)c->width / c->heads, HD = c->heads * D,
           KV = c->kv_heads * D;
    double params = (double)c->layers * (c->width * (2 * HD + 2 * KV) + 3.0 * c->width * c->ffn) +
                    2.0 * c->vocab * c->width + (double)c->context * c->width;
    if (c->layers > 4096 || params > 1e11 || HD > (1 << 30))
        return vkt_fail(
            err, VKT_ERR_ARG,
            "model config: %d layers of width %d, %d heads of %g, ffn %d, vocab %d make about %.3g "
            "parameters: past what vkt can hold (4096 layers, 1e11 parameters, 2^30 query width)",
            c->layers, c->width, c->heads, D, c->ffn, c->vocab, params);
    if (!c->head_dim && c->width % c->heads)
        return vkt_fail(err, VKT_ERR_ARG, "model config: width %d is not a multiple of heads %d",
                        c->width, c->heads);
    if (c->heads % c->kv_heads)
        return vkt_fail(err, VKT_ERR_ARG, "model config: kv_heads %d does not divide heads %d",
                        c->kv_heads, c->heads);
    if (c->pos == VKT_POS_ROPE && (vkt_head_dim(c) % 2 || !(c->rope_theta > 0)))
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: RoPE needs an even head dim (%d) and theta > 0 (%g)",
                        vkt_head_dim(c), c->rope_theta);
    if (!(c->eps > 0))
        return vkt_fail(err, VKT_ERR_ARG, "model config: eps %g must be > 0", c->eps);
    if (c->family == VKT_FAMILY_GPT2 &&
        (c->norm != VKT_NORM_LAYERNORM || c->pos != VKT_POS_LEARNED || c->kv_heads != c->heads ||
         !c->bias))
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: the gpt2 family (GPT2LMHeadModel) has layernorm, learned "
                        "positions, biases "
                        "and kv_heads == heads");
    if (c->family == VKT_FAMILY_LLAMA && (c->norm != VKT_NORM_RMSNORM || c->pos != VKT_POS_ROPE ||
                                          c->mlp != VKT_MLP_SWIGLU || c->bias))
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: the llama family (LlamaForCausalLM) has rmsnorm, RoPE, "
                        "SwiGLU and no GPT-2 "
                        "biases (its q/k/v, o_proj and mlp biases are flags of their own)");
    const char *rule = arch_rule(c);
    if (rule) return vkt_fail(err, VKT_ERR_ARG, "model config: %s", rule);
    return check_rope_scaling(&c->rope_scaling, err);
}

typedef struct {
    vkt_params *ps;
    int cap;
    vkt_error *err;
} builder;

static vkt_status add(builder *b, vkt_param_kind kind, int layer, const char *name, int64_t d0,
                      int64_t d1, bool decay) {
    vkt_params *ps = b->ps;
    if (ps->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        vkt_param *p = realloc(ps->p, (size_t)cap * sizeof *p);
        if (!p) return vkt_fail(b->err, VKT_ERR_NOMEM, "parameter table");
        ps->p = p;
        b->cap = cap;
    }
    vkt_param *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->kind = kind;
    p->layer = layer;
    p->ndim = d1 > 0 ? 2 : 1;
    p->shape[0] = d0;
    p->shape[1] = d1 > 0 ? d1 : 0;
    p->count = (uint64_t)d0 * (uint64_t)(d1 > 0 ? d1 : 1);
    // 64-float alignment keeps every tensor's start aligned for any binding rule.
    p->offset = ps->total;
    ps->total += (p->count + 63) / 64 * 64;
    p->decay = decay;
    return VKT_OK;
}

vkt_status vkt_params_build(const vkt_model_config *c, vkt_params *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    VKT_TRY(vkt_model_config_check(c, err));
    builder b = {out, 0, err};
    const int64_t C = c->width, F = c->ffn, V = c->vocab, D = vkt_head_dim(c);
    const int64_t KV = (int64_t)c->kv_heads * D;
    char n[96];
    vkt_status s = VKT_OK;
#define ADD(kind, layer, d0, d1, decay, ...)                                                       \
    do {                                                                                           \
        snprintf(n, sizeof n, __VA_ARGS__);                                                        \
        if (s == VKT_OK) s = add(&b, kind, layer, n, d0, d1, decay);                               \
    } while (0)
    if (c->family == VKT_FAMILY_GPT2) {
        ADD(VKT_P_WTE, -1, V, C, true, "transformer.wte.weight");
        ADD(VKT_P_WPE, -1, c->context, C, true, "transformer.wpe.weight");
        for (int l = 0; l < c->layers; l++) {
            ADD(VKT_P_LN1_W, l, C, 0, false, "transformer.h.%d.ln_1.weight", l);
            ADD(VKT_P_LN1_B, l, C, 0, false, "transformer.h.%d.ln_1.bias", l);
            ADD(VKT_P_QKV_W, l, C, 3 * C, true, "transformer.h.%d.attn.c_attn.weight", l);
            ADD(VKT_P_QKV_B, l, 3 * C, 0, false, "transformer.h.%d.attn.c_attn.bias", l);
            ADD(VKT_P_ATTN_OUT_W, l, C, C, true, "transformer.h.%d.attn.c_proj.weight", l);
            ADD(VKT_P_ATTN_OUT_B, l, C, 0, false, "transformer.h.%d.attn.c_proj.bias", l);
            ADD(VKT_P_LN2_W, l, C, 0, false, "transformer.h.%d.ln_2.weight", l);
            ADD(VKT_P_LN2_B, l, C, 0, false, "transformer.h.%d.ln_2.bias", l);
            ADD(VKT_P_FC_W, l, C, F, true, "transformer.h.%d.mlp.c_fc.weight", l);
            ADD(VKT_P_FC_B, l, F, 0, false, "transformer.h.%d.mlp.c_fc.bias", l);
            ADD(VKT_P_PROJ_W, l, F, C, true, "transformer.h.%d.mlp.c_proj.weight", l);
            ADD(VKT_P_PROJ_B, l, C, 0, false, "transformer.h.%d.mlp.c_proj.bias", l);
        }
        ADD(VKT_P_LNF_W, -1, C, 0, false, "transformer.ln_f.weight");
        ADD(VKT_P_LNF_B, -1, C, 0, false, "transformer.ln_f.bias");
        if (!c->tied) ADD(VKT_P_LM_HEAD, -1, V, C, true, "lm_head.weight");
    } else {
        ADD(VKT_P_WTE, -1, V, C, true, "model.embed_tokens.weight");
        // Optional tensors follow the one they belong to, in transformers' module order, and
        // only when the config has them: the presets' tables stay as they were.
        const int64_t HD = vkt_q_width(c);
        for (int l = 0; l < c->layers; l++) {
            ADD(VKT_P_LN1_W, l, C, 0, false, "model.layers.%d.input_layernorm.weight", l);
            ADD(VKT_P_Q_W, l, HD, C, true, "model.layers.%d.self_attn.q_proj.weight", l);
            if (c->qkv_bias)
                ADD(VKT_P_Q_B, l, HD, 0, false, "model.layers.%d.self_attn.q_proj.bias", l);
            ADD(VKT_P_K_W, l, KV, C, true, "model.layers.%d.self_attn.k_proj.weight", l);
            if (c->qkv_bias)
                ADD(VKT_P_K_B, l, KV, 0, false, "model.layers.%d.self_attn.k_proj.bias", l);
            ADD(VKT_P_V_W, l, KV, C, true, "model.layers.%d.self_attn.v_proj.weight", l);
            if (c->qkv_bias)
                ADD(VKT_P_V_B, l, KV, 0, false, "model.layers.%d.self_attn.v_proj.bias", l);
            ADD(VKT_P_ATTN_OUT_W, l, C, HD, true, "model.layers.%d.self_attn.o_proj.weight", l);
            if (c->o_bias)
                ADD(VKT_P_ATTN_OUT_B, l, C, 0, false, "model.layers.%d.self_attn.o_proj.bias", l);
            if (c->qk_norm) {
                ADD(VKT_P_Q_NORM, l, D, 0, false, "model.layers.%d.self_attn.q_norm.weight", l);
                ADD(VKT_P_K_NORM, l, D, 0, false, "model.layers.%d.self_attn.k_norm.weight", l);
            }
            ADD(VKT_P_LN2_W, l, C, 0, false, "model.layers.%d.post_attention_layernorm.weight", l);
            ADD(VKT_P_FC_W, l, F, C, true, "model.layers.%d.mlp.gate_proj.weight", l);
            if (c->mlp_bias)
                ADD(VKT_P_FC_B, l, F, 0, false, "model.layers.%d.mlp.gate_proj.bias", l);
            ADD(VKT_P_UP_W, l, F, C, true, "model.layers.%d.mlp.up_proj.weight", l);
            if (c->mlp_bias) ADD(VKT_P_UP_B, l, F, 0, false, "model.layers.%d.mlp.up_proj.bias", l);
            ADD(VKT_P_PROJ_W, l, C, F, true, "model.layers.%d.mlp.down_proj.weight", l);
            if (c->mlp_bias)
                ADD(VKT_P_PROJ_B, l, C, 0, false, "model.layers.%d.mlp.down_proj.bias", l);
        }
        ADD(VKT_P_LNF_W, -1, C, 0, false, "model.norm.weight");
        if (!c->tied) ADD(VKT_P_LM_HEAD, -1, V, C, true, "lm_head.weight");
    }
#undef ADD
    if (s != VKT_OK) vkt_params_free(out);
    return s;
}

void vkt_params_free(vkt_params *ps) {
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

const vkt_param *vkt_params_find(const vkt_params *ps, vkt_param_kind kind, int layer) {
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].kind == kind && ps->p[i].layer == layer) return &ps->p[i];
    return NULL;
}

const vkt_param *vkt_params_by_name(const vkt_params *ps, const char *name) {
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].name, name)) return &ps->p[i];
    return NULL;
}
