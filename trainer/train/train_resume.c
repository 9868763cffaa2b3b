// train_resume.c: the model of a run saved in a checkpoint, with its optimizer state, as a
// resumed run continues it: `vkt train --resume` and `vkt selfplay --resume` (train_init.h).
#include <stdlib.h>

#include "checkpoint.h"
#include "lora.h"
#include "lora_resume.h"
#include "train_init.h"

// The base frozen under DIR's adapters (o->init = base while they load), their moments, and
// the base's identity, saved again with every checkpoint of the resumed run.
static vkt_status load_lora(vkt_ctx *ctx, const char *dir, const char *base, vkt_train_opts *o,
                            vkt_model **m, vkt_tok **tkz, json_t **base_id) {
    const char *adapter = o->adapter;
    o->init = base, o->adapter = dir;
    vkt_status s = vkt_train_open_init(ctx, o, m, tkz);
    o->adapter = adapter; // dir may not outlive o
    VKT_TRY(s);
    VKT_TRY(vkt_lora_load_optim(vkt_model_lora(*m), dir));
    return vkt_lora_base_identity(base, base_id, vkt_ctx_err(ctx));
}

// DIR's fp32 weights with their AdamW moments, and (tkz not NULL) DIR's tokenizer.
static vkt_status load_full(vkt_ctx *ctx, const char *dir, vkt_train_opts *o, vkt_model **m,
                            vkt_tok **tkz) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_checkpoint_load_model(ctx, dir, m));
    const vkt_params *ps = vkt_model_params(*m);
    float *m1 = malloc(ps->total * 4), *m2 = malloc(ps->total * 4);
    vkt_status s = (m1 && m2)
                       ? vkt_checkpoint_read_optim(dir, ps, m1, m2, err)
                       : vkt_fail(err, VKT_ERR_NOMEM, "moments: out of memory for 2 x %llu floats",
                                  (unsigned long long)ps->total);
    if (s == VKT_OK) s = vkt_model_set_optim(*m, m1, m2);
    free(m1), free(m2);
    VKT_TRY(s);
    o->cfg = *vkt_model_cfg(*m);
    return tkz ? vkt_checkpoint_tokenizer(dir, &o->cfg, tkz, err) : VKT_OK;
}

vkt_status vkt_train_load_resumable(vkt_ctx *ctx, const char *dir, const char *base,
                                    vkt_train_opts *o, vkt_model **m, vkt_tok **tkz,
                                    json_t **base_id) {
    *m = NULL, *base_id = NULL;
    if (tkz) *tkz = NULL;
    vkt_tok *t = NULL;
    vkt_status s = base && base[0] ? load_lora(ctx, dir, base, o, m, &t, base_id)
                                   : load_full(ctx, dir, o, m, tkz ? &t : NULL);
    if (s != VKT_OK) {
        vkt_train_close_model(*m);
        vkt_tok_free(t);
        *m = NULL;
        return s;
    }
    if (tkz)
        *tkz = t;
    else
        vkt_tok_free(t);
    return VKT_OK;
}
