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

vkt_status vkt_train_open_init(vkt_ctx *ctx, vkt_train_opts *o, vkt_model **m, vkt_tok **tkz) {
    vkt_error *err = vkt_ctx_err(ctx);
    *m = NULL, *tkz = NULL;
    VKT_TRY(vkt_checkpoint_config(o->init, &o->cfg, err));
    VKT_TRY(vkt_checkpoint_tokenizer(o->init, &o->cfg, tkz, err));
    const bool lora = o->lora_rank > 0 || o->adapter;
    vkt_load_opts lo = {lora ? VKT_WEIGHTS_AUTO : VKT_W32, lora, false};
    vkt_status s = vkt_checkpoint_load_model_as(ctx, o->init, &lo, m);
    if (s == VKT_OK && o->adapter) {
        vkt_lora *a = NULL;
        s = vkt_lora_load(ctx, &o->cfg, vkt_model_params(*m), o->adapter, &a);
        if (s == VKT_OK) {
            vkt_lora_set_seed(a, vkt_rng_derive(o->seed, 2)); // dropout masks as a fresh run's
            const vkt_lora_config *lc = vkt_lora_cfg(a);
            o->lora_rank = lc->rank, o->lora_alpha = lc->alpha, o->lora_targets = lc->targets;
        }
        if (s == VKT_OK && (s = vkt_model_set_lora(*m, a)) != VKT_OK) vkt_lora_destroy(a);
    } else if (s == VKT_OK && lora) {
        vkt_lora_config lc = {o->lora_rank, o->lora_alpha, o->lora_dropout, o->lora_targets,
                              vkt_rng_derive(o->seed, 2)};
        vkt_lora *a = NULL;
        s = vkt_lora_create(ctx, &o->cfg, vkt_model_params(*m), &lc, &a);
        if (s == VKT_OK && (s = vkt_model_set_lora(*m, a)) != VKT_OK) vkt_lora_destroy(a);
    }
    if (s != VKT_OK) {
        vkt_model_destroy(*m), vkt_tok_free(*tkz);
        *m = NULL, *tkz = NULL;
    }
    return s;
}

// "2.73 GiB", or for a tiny model "812.0 KiB" / "3.4 MiB".
typedef struct {
    char s[32];
} size_str;
static size_str human(uint64_t b) {
    size_str r;
    if (b >= (1ull << 30))
        snprintf(r.s, sizeof r.s, "%.2f GiB", (double)b / (double)(1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(r.s, sizeof r.s, "%.1f MiB", (double)b / (double)(1ull << 20));
    else
        snprintf(r.s, sizeof r.s, "%.1f KiB", (double)b / 1024.0);
    return r;
}

void vkt_train_describe_init(const vkt_model *m, const char *init, char *out, size_t n) {
    const vkt_params *ps = vkt_model_params(m);
    const vkt_model_opts *mo = vkt_model_get_opts(m);
    uint64_t count = 0;
    for (int i = 0; i < ps->n; i++) count += ps->p[i].count;
    const char *w = mo->w16 == VKT_W16_BF16 ? "bf16" : mo->w16 == VKT_W16_F16 ? "fp16" : "fp32";
    int k = snprintf(out, n, "%s: %.4g M parameters, weights %s%s: %s on the device", init,
                     (double)count / 1e6, w,
                     mo->frozen ? " (frozen)" : " with gradients and AdamW moments",
                     human(vkt_model_weight_bytes(ps, mo)).s);
    const vkt_lora *a = vkt_model_lora(m);
    if (a && k > 0 && (size_t)k < n)
        snprintf(out + k, n - (size_t)k,
                 "; LoRA rank %d on %d modules: %.4g M parameters (with AdamW: %s)",
                 vkt_lora_cfg(a)->rank, vkt_lora_n_targets(a), (double)vkt_lora_count(a) / 1e6,
                 human(vkt_lora_count(a) * 16).s);
}

uint64_t vkt_train_run_bytes(vkt_model *m, int B, int T) {
    const vkt_model_config *c = vkt_model_cfg(m);
    const vkt_lora *a = vkt_model_lora(m);
    uint64_t need = vkt_model_weight_bytes(vkt_model_params(m), vkt_model_get_opts(m)) +
                    vkt_model_plan_bytes(m, B, T);
    if (a) {
        // AdamW state of the adapters, their x A rows per target (and dy B), and dropout's scratch.
        const uint64_t M = (uint64_t)B * T, r = (uint64_t)vkt_lora_cfg(a)->rank,
                       n = (uint64_t)vkt_lora_n_targets(a);
        uint64_t in = (uint64_t)(c->ffn > c->width ? c->ffn : c->width);
        if ((uint64_t)vkt_q_width(c) > in) in = (uint64_t)vkt_q_width(c);
        need += vkt_lora_count(a) * 16 + M * r * (n + 1) * 4 +
                (vkt_lora_cfg(a)->dropout > 0 ? 2 * M * in * 4 : 0);
    }
    return need;
}

// Whether a micro-batch of B x T tokens fits: the run in the budget, and the activations
// (one buffer) in the device's largest allocation.
static bool fits(vkt_model *m, int B, int T, uint64_t budget, uint64_t *need) {
    uint64_t max_alloc = vkt_ctx_profile(vkt_model_ctx(m))->max_allocation_bytes;
    *need = vkt_train_run_bytes(m, B, T);
    return (!budget || *need <= budget) &&
           (!max_alloc || vkt_model_plan_bytes(m, B, T) <= max_alloc);
}

// What fits the budget instead: the same step (B x accum rows) in smaller micro-batches, or
// else shorter rows at batch 1 (as many tokens a step); "" when nothing does.
static void suggest(vkt_model *m, const vkt_train_opts *o, int T, uint64_t budget, char *out,
                    size_t n) {
    const int B = o->batch, rows = o->batch * o->accum;
    *out = 0;
    for (int b = B - 1; b >= 1; b--) {
        if (B % b) continue;
        uint64_t need;
        if (!fits(m, b, T, budget, &need)) continue;
        snprintf(out, n, "--batch %d --accum %d keeps the step at %d x %d tokens and needs %s", b,
                 rows / b, rows, T, human(need).s);
        return;
    }
    for (int t = T / 2; t >= 1; t /= 2) {
        uint64_t need;
        if (!fits(m, 1, t, budget, &need)) continue;
        snprintf(out, n,
                 "even --batch 1 does not fit at --seq %d; --batch 1 --seq %d --accum %d keeps %d "
                 "tokens a "
                 "step and needs %s",
                 T, t, rows * (T / t), rows * T, human(need).s);
        return;
    }
}

vkt_status vkt_train_check_fits(vkt_model *m, const vkt_train_opts *o) {
    const vkt_profile *p = vkt_ctx_profile(vkt_model_ctx(m));
    const uint64_t budget = o->device_memory ? o->device_memory : p->device_heap_bytes;
    const char *what = o->device_memory
                           ? "the memory budget (--device-memory, VKT_DEVICE_MEMORY) is"
                           : "the device's heap has";
    const vkt_lora *a = vkt_model_lora(m);
    const int T = o->seq < vkt_model_cfg(m)->context ? o->seq : vkt_model_cfg(m)->context;
    uint64_t need;
    const bool ok = fits(m, o->batch, T, budget, &need);
    const uint64_t acts = need -
                          vkt_model_weight_bytes(vkt_model_params(m), vkt_model_get_opts(m)) -
                          (a ? vkt_lora_count(a) * 16 : 0);
    if (o->notice) {
        char msg[512];
        snprintf(
            msg, sizeof msg,
            "the activations of %d x %d tokens a micro-batch need %s, the run %s in all; %s %s",
            o->batch, T, human(acts).s, human(need).s, what, human(budget).s);
        o->notice(o->user, msg);
    }
    if (ok) return VKT_OK;
    char alt[256], why[160];
    suggest(m, o, T, budget, alt, sizeof alt);
    if (!*alt && !a)
        snprintf(alt, sizeof alt, "train LoRA adapters on the frozen base: --lora-rank R");
    if (!*alt)
        snprintf(alt, sizeof alt, "even --batch 1 --seq 1 needs %s",
                 human(vkt_train_run_bytes(m, 1, 1)).s);
    if (budget && need > budget)
        snprintf(why, sizeof why, "%s %s", what, human(budget).s);
    else
        snprintf(why, sizeof why,
                 "the activations are one buffer, and the device's largest allocation is %s",
                 human(p->max_allocation_bytes).s);
    return vkt_fail(
        vkt_ctx_err(vkt_model_ctx(m)), VKT_ERR_ARG,
        "%s: the model, its training state and the activations of %d x %d tokens need %s; %s (%s)",
        o->init, o->batch, T, human(need).s, why, alt);
}

void vkt_train_close_model(vkt_model *m) {
    if (!m) return;
    vkt_lora *a = vkt_model_lora(m);
    vkt_model_set_lora(m, NULL);
    vkt_lora_destroy(a);
    vkt_model_destroy(m);
}

vkt_status vkt_train_write_merged(vkt_model *m, const char *init, const char *dir) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    vkt_lora *a = vkt_model_lora(m);
    if (!a) return vkt_fail(err, VKT_ERR_ARG, "--merge: the run trains no LoRA adapter");
    const vkt_params *ps = vkt_model_params(m);
    float *h = malloc(ps->total * sizeof *h);
    if (!h)
        return vkt_fail(err, VKT_ERR_NOMEM, "--merge: %llu floats", (unsigned long long)ps->total);
    char tmp[4200], final[4200];
    snprintf(tmp, sizeof tmp, "%s/.merged-tmp", dir);
    snprintf(final, sizeof final, "%s/merged", dir);
    vkt_status s = vkt_model_get_params(m, h);
    if (s == VKT_OK) s = vkt_lora_merge(a, ps, h);
    if (s == VKT_OK) s = vkt_ckpt_remove_tree(tmp, err);
    if (s == VKT_OK) s = vkt_checkpoint_write_params(tmp, vkt_model_cfg(m), ps, h, err);
    char tj[4300];
    snprintf(tj, sizeof tj, "%s/tokenizer.json", init);
    if (s == VKT_OK && access(tj, F_OK) == 0) s = vkt_checkpoint_copy_tokenizer(init, tmp, err);
    // The previous merged model goes only once the new one is complete.
    if (s == VKT_OK) s = vkt_ckpt_remove_tree(final, err);
    if (s == VKT_OK && rename(tmp, final) != 0)
        s = vkt_fail(err, VKT_ERR_IO, "--merge: cannot rename %s to %s", tmp, final);
    free(h);
    return s;
}
