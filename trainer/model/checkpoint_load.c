// checkpoint_load.c: a model created from a checkpoint directory for a use: fp32 and
// trainable, fp32 and frozen, or 16-bit (bf16/fp16) and frozen. Every tensor is validated
// first (checkpoint.c), then uploaded one at a time from the mapped files: the host holds at
// most one tensor's floats at once, and a 16-bit tensor going into a model of its own
// 16-bit type is uploaded as it lies in the file.
#include <stdlib.h>

#include "checkpoint.h"

vkt_status vkt_checkpoint_model_opts(const char *dir, const vkt_model_config *cfg,
                                     const vkt_load_opts *lo, vkt_model_opts *mo, vkt_error *err) {
    *mo = (vkt_model_opts){VKT_W32, lo->frozen, VKT_PREC_FP32};
    if (lo->weights == VKT_W16_BF16 || lo->weights == VKT_W16_F16) {
        if (cfg->family != VKT_FAMILY_LLAMA)
            return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                            "%s: 16-bit weights are for the llama family (this is gpt2)", dir);
        if (!lo->frozen)
            return vkt_fail(err, VKT_ERR_ARG,
                            "%s: 16-bit weights are frozen; training them needs fp32", dir);
        mo->w16 = lo->weights;
        return VKT_OK;
    }
    if (lo->weights != VKT_WEIGHTS_AUTO || !lo->frozen || cfg->family != VKT_FAMILY_LLAMA)
        return VKT_OK;
    // auto: the type of the embedding, the largest tensor of every model vkt reads.
    vkt_ckpt *h;
    VKT_TRY(vkt_checkpoint_open(dir, &h, err));
    vkt_ckpt_tensor t;
    vkt_status s = vkt_checkpoint_tensor(h, "model.embed_tokens.weight", &t, err);
    if (s == VKT_OK && t.dtype == VKT_ST_BF16) mo->w16 = VKT_W16_BF16;
    if (s == VKT_OK && t.dtype == VKT_ST_F16) mo->w16 = VKT_W16_F16;
    vkt_checkpoint_close(h);
    return s;
}

static vkt_status upload(vkt_model *m, int i, const vkt_ckpt_tensor *t) {
    const vkt_model_opts *mo = vkt_model_get_opts(m);
    const vkt_param *p = &vkt_model_params(m)->p[i];
    bool raw = p->ndim == 2 && ((mo->w16 == VKT_W16_BF16 && t->dtype == VKT_ST_BF16) ||
                                (mo->w16 == VKT_W16_F16 && t->dtype == VKT_ST_F16));
    if (raw) return vkt_model_set_tensor16(m, i, t->bytes);
    float *f = malloc(p->count * sizeof *f);
    if (!f)
        return vkt_fail(vkt_ctx_err(vkt_model_ctx(m)), VKT_ERR_NOMEM,
                        "%s: tensor '%s' (%llu floats)", t->file, t->name,
                        (unsigned long long)p->count);
    vkt_ckpt_tensor_to_f32(t, f);
    vkt_status s = vkt_model_set_tensor(m, i, f);
    free(f);
    return s;
}

vkt_status vkt_checkpoint_load_model_as(vkt_ctx *ctx, const char *dir, const vkt_load_opts *lo,
                                        vkt_model **out) {
    vkt_error *err = vkt_ctx_err(ctx);
    *out = NULL;
    vkt_model_config cfg;
    VKT_TRY(vkt_checkpoint_config(dir, &cfg, err));
    vkt_model_opts mo;
    VKT_TRY(vkt_checkpoint_model_opts(dir, &cfg, lo, &mo, err));
    vkt_ckpt *h;
    VKT_TRY(vkt_checkpoint_open(dir, &h, err));
    vkt_model *m = NULL;
    vkt_status s = vkt_model_create_opts(ctx, &cfg, &mo, &m);
    if (s == VKT_OK)
        s = vkt_checkpoint_validate(h, &cfg, vkt_model_params(m), lo->allow_nonfinite, err);
    const vkt_params *ps = m ? vkt_model_params(m) : NULL;
    for (int i = 0; s == VKT_OK && i < ps->n; i++) {
        vkt_ckpt_tensor t;
        s = vkt_checkpoint_param_tensor(h, &cfg, &ps->p[i], &t, err);
        if (s == VKT_OK) s = upload(m, i, &t);
    }
    vkt_checkpoint_close(h);
    if (s != VKT_OK) {
        vkt_model_destroy(m);
        return s;
    }
    *out = m;
    return VKT_OK;
}

vkt_status vkt_checkpoint_load_model_opt(vkt_ctx *ctx, const char *dir, bool allow_nonfinite,
                                         vkt_model **out) {
    vkt_load_opts lo = {VKT_W32, false, allow_nonfinite};
    return vkt_checkpoint_load_model_as(ctx, dir, &lo, out);
}
