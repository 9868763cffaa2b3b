// train_init.c: a training run that starts from a pretrained checkpoint (vkt train --ckpt
// DIR): its config, tokenizer and weights, trained in full (fp32 weights with gradients and
// AdamW moments) or frozen (16-bit when the checkpoint is) under LoRA adapters that train in
// fp32; and the merged model a LoRA run can leave beside its checkpoints.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "checkpoint_dir.h"
#include "lora.h"
#include "profile.h"
#include "rng.h"
#include "train_init.h"

vkt_status vkt_train_open_init(vkt_ctx *ctx, vkt_train_opts *o, vkt_model **m, vkt_tok **tkz, vkt_error *err) {
    *m = NULL, *tkz = NULL;
    VKT_TRY(vkt_checkpoint_config(o->init, &o->cfg, err));
    VKT_TRY(vkt_checkpoint_tokenizer(o->init, &o->cfg, tkz, err));
    const bool lora = o->lora_rank > 0;
    vkt_load_opts lo = {lora ? VKT_WEIGHTS_AUTO : VKT_W32, lora, false};
    vkt_status s = vkt_checkpoint_load_model_as(ctx, o->init, &lo, m, err);
    if (s == VKT_OK && lora) {
        vkt_lora_config lc = {o->lora_rank, o->lora_alpha, o->lora_dropout, o->lora_targets,
                              vkt_rng_derive(o->seed, 2)};
        vkt_lora *a = NULL;
        s = vkt_lora_create(ctx, &o->cfg, vkt_model_params(*m), &lc, &a, err);
        if (s == VKT_OK && (s = vkt_model_set_lora(*m, a)) != VKT_OK) {
            if (err) *err = *vkt_ctx_err(ctx);
            vkt_lora_destroy(a);
        }
    }
    if (s != VKT_OK) {
        vkt_model_destroy(*m), vkt_tok_free(*tkz);
        *m = NULL, *tkz = NULL;
    }
    return s;
}

void vkt_train_describe_init(const vkt_model *m, const char *init, char *out, size_t n) {
    const vkt_params *ps = vkt_model_params(m);
    const vkt_model_opts *mo = vkt_model_get_opts(m);
    uint64_t count = 0;
    for (int i = 0; i < ps->n; i++) count += ps->p[i].count;
    const char *w = mo->w16 == VKT_W16_BF16 ? "bf16" : mo->w16 == VKT_W16_F16 ? "fp16" : "fp32";
    int k = snprintf(out, n, "%s: %.4g M parameters, weights %s%s: %.2f GiB on the device", init, (double)count / 1e6,
                     w, mo->frozen ? " (frozen)" : " with gradients and AdamW moments",
                     (double)vkt_model_weight_bytes(ps, mo) / (1u << 30));
    const vkt_lora *a = vkt_model_lora(m);
    if (a && k > 0 && (size_t)k < n)
        snprintf(out + k, n - (size_t)k, "; LoRA rank %d on %d modules: %.4g M parameters (with AdamW: %.2f GiB)",
                 vkt_lora_cfg(a)->rank, vkt_lora_n_targets(a), (double)vkt_lora_count(a) / 1e6,
                 (double)vkt_lora_count(a) * 16 / (1u << 30));
}

vkt_status vkt_train_check_fits(vkt_model *m, const vkt_train_opts *o, vkt_error *err) {
    uint64_t heap = vkt_ctx_profile(vkt_model_ctx(m))->device_heap_bytes;
    const vkt_lora *a = vkt_model_lora(m);
    int T = o->seq < vkt_model_cfg(m)->context ? o->seq : vkt_model_cfg(m)->context;
    uint64_t need = vkt_model_weight_bytes(vkt_model_params(m), vkt_model_get_opts(m)) +
                    (a ? vkt_lora_count(a) * 16 : 0) + vkt_model_plan_bytes(m, o->batch, T);
    if (heap && need > heap)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: the model, its training state and the activations of %d x %d tokens need %.2f GiB; the "
                        "device's heap has %.2f GiB (lower --batch or --seq, or use --lora-rank)",
                        o->init, o->batch, T, (double)need / (1u << 30), (double)heap / (1u << 30));
    return VKT_OK;
}

void vkt_train_close_model(vkt_model *m) {
    if (!m) return;
    vkt_lora *a = vkt_model_lora(m);
    vkt_model_set_lora(m, NULL);
    vkt_lora_destroy(a);
    vkt_model_destroy(m);
}

vkt_status vkt_train_write_merged(vkt_model *m, const char *init, const char *dir, vkt_error *err) {
    vkt_lora *a = vkt_model_lora(m);
    if (!a) return vkt_fail(err, VKT_ERR_ARG, "--merge: the run trains no LoRA adapter");
    const vkt_params *ps = vkt_model_params(m);
    float *h = malloc(ps->total * sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "--merge: %llu floats", (unsigned long long)ps->total);
    char tmp[4200], final[4200];
    snprintf(tmp, sizeof tmp, "%s/.merged-tmp", dir);
    snprintf(final, sizeof final, "%s/merged", dir);
    vkt_status s = vkt_model_get_params(m, h);
    if (s != VKT_OK && err) *err = *vkt_ctx_err(vkt_model_ctx(m));
    if (s == VKT_OK) s = vkt_lora_merge(a, ps, h, err);
    if (s == VKT_OK) s = vkt_ckpt_remove_tree(tmp, err);
    if (s == VKT_OK) s = vkt_checkpoint_write_params(tmp, vkt_model_cfg(m), ps, h, err);
    char tj[4300];
    snprintf(tj, sizeof tj, "%s/tokenizer.json", init);
    if (s == VKT_OK && access(tj, F_OK) == 0) s = vkt_checkpoint_copy_tokenizer(init, tmp, err);
    // The previous merged model goes only once the new one is complete.
    if (s == VKT_OK) s = vkt_ckpt_remove_tree(final, err);
    if (s == VKT_OK && rename(tmp, final) != 0) s = vkt_fail(err, VKT_ERR_IO, "--merge: cannot rename %s to %s", tmp, final);
    free(h);
    return s;
}
