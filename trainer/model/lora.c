// lora.c: LoRA adapters on the device: layout, initialisation, forward and backward
// composed from matmuls, AdamW with global-norm clipping, host copies and the merge.
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lora.h"
#include "op_dropout.h"
#include "op_elementwise.h"
#include "op_matmul.h"
#include "op_optim.h"
#include "op_reduce.h"
#include "rng.h"

struct vkt_lora {
    vkt_ctx *ctx;
    vkt_error *err; // the context's error: device calls report there
    vkt_lora_config cfg;
    float scale;
    int layers;
    int n; // targets
    vkt_lora_target *t;
    int *slot;      // (layers, 7): target index or -1
    uint64_t total; // floats in the parameter layout
    vkt_buffer *params, *grads, *m1, *m2;
    vkt_buffer *fixed; // reduction scratch, then 64 floats of results
    vkt_view scratch, red;
    vkt_buffer *work; // per target x A^T (M, r), then dy B (M, r)
    int M;
    uint64_t *xa_off; // floats into work, per target
    uint64_t dyb_off;
    vkt_view xd, tmp; // with dropout: dropout(x) and dx before the mask, (M, max IN)
    int max_in;
    bool training;
    uint64_t step;
};

static const char *const names[VKT_LORA_MODULES] = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                    "gate_proj", "up_proj", "down_proj"};
static const vkt_param_kind kinds[VKT_LORA_MODULES] = {
    VKT_P_Q_W, VKT_P_K_W, VKT_P_V_W, VKT_P_ATTN_OUT_W, VKT_P_FC_W, VKT_P_UP_W, VKT_P_PROJ_W};

static vkt_view none(void) { return (vkt_view){0}; }
static uint64_t round64(uint64_t n) { return (n + 63) / 64 * 64; }

const char *vkt_lora_module_name(int i) { return i >= 0 && i < VKT_LORA_MODULES ? names[i] : NULL; }
const char *vkt_lora_module_parent(int i) { return i < 4 ? "self_attn" : "mlp"; }

int vkt_lora_module_of(vkt_param_kind kind) {
    for (int i = 0; i < VKT_LORA_MODULES; i++)
        if (kinds[i] == kind) return i;
    return -1;
}

vkt_status vkt_lora_targets_parse(const char *csv, unsigned *targets, vkt_error *err) {
    *targets = 0;
    if (!csv) return vkt_fail(err, VKT_ERR_ARG, "lora targets: none given");
    const char *p = csv;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        const char *end = p;
        while (*end && *end != ',') end++;
        size_t len = (size_t)(end - p);
        while (len && isspace((unsigned char)p[len - 1])) len--;
        if (len == 0)
            return vkt_fail(err, VKT_ERR_ARG, "lora targets '%s': an empty module name", csv);
        int found = -1;
        for (int i = 0; i < VKT_LORA_MODULES; i++)
            if (strlen(names[i]) == len && !strncmp(p, names[i], len)) found = i;
        if (found >= 0)
            *targets |= 1u << found;
        else if (len == 10 && !strncmp(p, "all-linear", 10))
            *targets |= VKT_LORA_ALL;
        else
            return vkt_fail(
                err, VKT_ERR_ARG,
                "lora targets: unknown module '%.*s' (expected q_proj, k_proj, v_proj, o_proj, "
                "gate_proj, up_proj, down_proj or all-linear)",
                (int)len, p);
        if (!*end) break;
        p = end + 1;
    }
    return VKT_OK;
}

static vkt_status check_config(const vkt_model_config *mc, const vkt_lora_config *lc,
                               vkt_error *err) {
    if (mc->family != VKT_FAMILY_LLAMA)
        return vkt_fail(
            err, VKT_ERR_UNSUPPORTED,
            "lora: the gpt2 family is not supported (its Conv1D layers are PEFT's fan_in_fan_out "
            "case); LoRA needs a llama-family model");
    if (lc->rank < 1) return vkt_fail(err, VKT_ERR_ARG, "lora: rank %d must be >= 1", lc->rank);
    if (!isfinite(lc->alpha)) return vkt_fail(err, VKT_ERR_ARG, "lora: alpha must be finite");
    if (!(lc->dropout >= 0.0f && lc->dropout < 1.0f))
        return vkt_fail(err, VKT_ERR_ARG, "lora: dropout %g must be in [0, 1)", lc->dropout);
    if (lc->targets == 0 || (lc->targets & ~VKT_LORA_ALL))
        return vkt_fail(err, VKT_ERR_ARG, "lora: targets 0x%x must select some of the 7 modules",
                        lc->targets);
    return VKT_OK;
}

// Counts targets, fills their shapes and offsets from the parameter table.
static vkt_status layout(vkt_lora *a, const vkt_params *ps, vkt_error *err) {
    const int r = a->cfg.rank;
    a->slot = malloc((size_t)a->layers * VKT_LORA_MODULES * sizeof *a->slot);
    a->t = calloc((size_t)a->layers * VKT_LORA_MODULES, sizeof *a->t);
    a->xa_off = calloc((size_t)a->layers * VKT_LORA_MODULES, sizeof *a->xa_off);
    if (!a->slot || !a->t || !a->xa_off) return vkt_fail(err, VKT_ERR_NOMEM, "lora layout");
    uint64_t off = 0;
    for (int l = 0; l < a->layers; l++)
        for (int i = 0; i < VKT_LORA_MODULES; i++) {
            a->slot[l * VKT_LORA_MODULES + i] = -1;
            if (!(a->cfg.targets & (1u << i))) continue;
            const vkt_param *p = vkt_params_find(ps, kinds[i], l);
            if (!p || p->ndim != 2)
                return vkt_fail(err, VKT_ERR_ARG,
                                "lora: the model has no 2-D %s weight in layer %d", names[i], l);
            vkt_lora_target *t = &a->t[a->n];
            t->module = i, t->layer = l, t->kind = kinds[i];
            t->out = (int)p->shape[0], t->in = (int)p->shape[1]; // Linear (OUT, IN)
            t->a_offset = off, off += (uint64_t)r * t->in;
            t->b_offset = off, off += (uint64_t)t->out * r;
            if (t->in > a->max_in) a->max_in = t->in;
            a->slot[l * VKT_LORA_MODULES + i] = a->n++;
        }
    a->total = off;
    return VKT_OK;
}

// PEFT's init: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(IN), 1/sqrt(IN)); B = 0.
static vkt_status init_params(vkt_lora *a) {
    float *h = calloc(a->total, sizeof *h);
    if (!h)
        return vkt_fail(a->err, VKT_ERR_NOMEM, "lora init: %llu floats",
                        (unsigned long long)a->total);
    for (int k = 0; k < a->n; k++) {
        const vkt_lora_target *t = &a->t[k];
        vkt_rng rng;
        vkt_rng_seed(&rng, vkt_rng_derive(a->cfg.seed, (uint64_t)k));
        double bound = 1.0 / sqrt((double)t->in);
        for (uint64_t j = 0; j < (uint64_t)a->cfg.rank * t->in; j++)
            h[t->a_offset + j] = (float)((2.0 * vkt_rng_uniform(&rng) - 1.0) * bound);
    }
    vkt_status s = vkt_lora_set(a, h);
    free(h);
    return s;
}

vkt_status vkt_lora_create(vkt_ctx *ctx, const vkt_model_config *mc, const vkt_params *ps,
                           const vkt_lora_config *lc, vkt_lora **out) {
    vkt_error *err = vkt_ctx_err(ctx);
    *out = NULL;
    VKT_TRY(check_config(mc, lc, err));
    vkt_lora *a = calloc(1, sizeof *a);
    if (!a) return vkt_fail(err, VKT_ERR_NOMEM, "lora");
    a->ctx = ctx, a->err = err, a->cfg = *lc, a->layers = mc->layers;
    a->scale = lc->alpha / (float)lc->rank;
    vkt_status s = layout(a, ps, err);
    if (s != VKT_OK) {
        vkt_lora_destroy(a);
        return s;
    }
    uint64_t sb = vkt_reduce_scratch_bytes(ctx, a->total) / 4 + 64;
    s = vkt_buffer_create(ctx, a->total * 4, &a->params);
    if (s == VKT_OK) s = vkt_buffer_create(ctx, a->total * 4, &a->grads);
    if (s == VKT_OK) s = vkt_buffer_create(ctx, (sb + 64) * 4, &a->fixed);
    if (s == VKT_OK) {
        a->scratch = vkt_view_f32(vkt_view_all(a->fixed), 0, sb);
        a->red = vkt_view_f32(vkt_view_all(a->fixed), sb, 64);
        s = vkt_fill(ctx, vkt_view_all(a->grads), a->total, 0.0f);
    }
    if (s == VKT_OK) s = init_params(a);
    if (s != VKT_OK) {
        vkt_lora_destroy(a);
        return s;
    }
    *out = a;
    return VKT_OK;
}

void vkt_lora_destroy(vkt_lora *a) {
    if (!a) return;
    vkt_buffer *b[] = {a->params, a->grads, a->m1, a->m2, a->fixed, a->work};
    for (int i = 0; i < 6; i++)
        if (b[i]) vkt_buffer_destroy(a->ctx, b[i]);
    free(a->t), free(a->slot), free(a->xa_off);
    free(a);
}

const vkt_lora_config *vkt_lora_cfg(const vkt_lora *a) { return &a->cfg; }
float vkt_lora_scale(const vkt_lora *a) { return a->scale; }
vkt_ctx *vkt_lora_ctx(vkt_lora *a) { return a->ctx; }
int vkt_lora_n_targets(const vkt_lora *a) { return a->n; }
const vkt_lora_target *vkt_lora_target_at(const vkt_lora *a, int i) {
    return i >= 0 && i < a->n ? &a->t[i] : NULL;
}
uint64_t vkt_lora_count(const vkt_lora *a) { return a->total; }

static const vkt_lora_target *find(const vkt_lora *a, vkt_param_kind kind, int layer) {
    int m = vkt_lora_module_of(kind);
    if (m < 0 || layer < 0 || layer >= a->layers) return NULL;
    int k = a->slot[layer * VKT_LORA_MODULES + m];
    return k < 0 ? NULL : &a->t[k];
}

bool vkt_lora_has(const vkt_lora *a, vkt_param_kind kind, int layer) {
    return find(a, kind, layer) != NULL;
}

vkt_status vkt_lora_set_train(vkt_lora *a, bool training, uint64_t step) {
    a->training = training, a->step = step;
    return VKT_OK;
}

static vkt_view pv(vkt_buffer *b, uint64_t off, uint64_t n) {
    return vkt_view_f32(vkt_view_all(b), off, n);
}

vkt_status vkt_lora_plan(vkt_lora *a, int M) {
    if (M < 1) return vkt_fail(a->err, VKT_ERR_ARG, "lora plan: M=%d rows must be >= 1", M);
    if (M <= a->M) return VKT_OK; // grow only: training and generation share one plan
    if (a->work) vkt_buffer_destroy(a->ctx, a->work);
    a->work = NULL, a->M = 0;
    const uint64_t per = round64((uint64_t)M * a->cfg.rank);
    for (int k = 0; k < a->n; k++) a->xa_off[k] = per * k;
    a->dyb_off = per * a->n;
    // Dropout rebuilds its mask from a hash: two (M, max IN) scratch rows, no stored mask.
    const uint64_t drop = a->cfg.dropout > 0.0f ? round64((uint64_t)M * a->max_in) : 0;
    VKT_TRY(vkt_buffer_create(a->ctx, (per * (a->n + 1) + 2 * drop) * 4, &a->work));
    if (drop) {
        a->xd = pv(a->work, per * (a->n + 1), drop);
        a->tmp = pv(a->work, per * (a->n + 1) + drop, drop);
    }
    a->M = M;
    return VKT_OK;
}

static vkt_status check_rows(vkt_lora *a, const char *op, int M) {
    if (!a->work) return vkt_fail(a->err, VKT_ERR_ARG, "lora %s before plan", op);
    if (M < 1 || M > a->M)
        return vkt_fail(a->err, VKT_ERR_ARG, "lora %s: M=%d rows (planned %d)", op, M, a->M);
    return VKT_OK;
}

static bool dropping(const vkt_lora *a) { return a->training && a->cfg.dropout > 0.0f; }

// The mask's key: one per (seed, step, target), so backward rebuilds forward's mask.
static uint64_t drop_key(const vkt_lora *a, const vkt_lora_target *t) {
    return vkt_rng_derive(vkt_rng_derive(a->cfg.seed ^ 0x6c6f7261ull, a->step),
                          (uint64_t)(t - a->t));
}

uint64_t vkt_lora_dropout_key(const vkt_lora *a, int i) { return drop_key(a, &a->t[i]); }

// With dropout in training, *x becomes dropout(x) (M, IN) in scratch.
static vkt_status drop_x(vkt_lora *a, const vkt_lora_target *t, int M, vkt_view *x) {
    if (!dropping(a)) return VKT_OK;
    vkt_view xd = vkt_view_f32(a->xd, 0, (uint64_t)M * t->in);
    VKT_TRY(
        vkt_dropout(a->ctx, *x, xd, (uint64_t)M * t->in, a->cfg.dropout, drop_key(a, t), false));
    *x = xd;
    return VKT_OK;
}

vkt_status vkt_lora_fwd(vkt_lora *a, vkt_param_kind kind, int layer, int M, vkt_view x,
                        vkt_view y) {
    const vkt_lora_target *t = find(a, kind, layer);
    if (!t) return VKT_OK;
    VKT_TRY(check_rows(a, "fwd", M));
    const int r = a->cfg.rank;
    vkt_view A = pv(a->params, t->a_offset, (uint64_t)r * t->in),
             B = pv(a->params, t->b_offset, (uint64_t)t->out * r);
    vkt_view xa = pv(a->work, a->xa_off[t - a->t], (uint64_t)M * r);
    VKT_TRY(drop_x(a, t, M, &x));
    // xa (M, r) = x (M, IN) A^T; y (M, OUT) += scale * xa B^T.
    VKT_TRY(vkt_matmul(a->ctx, false, true, M, r, t->in, 1.0f, x, A, 0.0f, xa, none()));
    return vkt_matmul(a->ctx, false, true, M, t->out, r, a->scale, xa, B, 1.0f, y, none());
}

vkt_status vkt_lora_bwd(vkt_lora *a, vkt_param_kind kind, int layer, int M, vkt_view x, vkt_view dy,
                        vkt_view dx) {
    const vkt_lora_target *t = find(a, kind, layer);
    if (!t) return VKT_OK;
    VKT_TRY(check_rows(a, "bwd", M));
    const int r = a->cfg.rank;
    vkt_view A = pv(a->params, t->a_offset, (uint64_t)r * t->in),
             B = pv(a->params, t->b_offset, (uint64_t)t->out * r);
    vkt_view dA = pv(a->grads, t->a_offset, (uint64_t)r * t->in),
             dB = pv(a->grads, t->b_offset, (uint64_t)t->out * r);
    vkt_view xa = pv(a->work, a->xa_off[t - a->t], (uint64_t)M * r),
             dyb = pv(a->work, a->dyb_off, (uint64_t)M * r);
    // dB (OUT, r) += scale * dy^T xa;  dyb (M, r) = dy B.
    VKT_TRY(vkt_matmul(a->ctx, true, false, t->out, r, M, a->scale, dy, xa, 1.0f, dB, none()));
    VKT_TRY(vkt_matmul(a->ctx, false, false, M, r, t->out, 1.0f, dy, B, 0.0f, dyb, none()));
    // dA (r, IN) += scale * dyb^T dropout(x);  dx (M, IN) += mask * scale * dyb A / (1 - p).
    vkt_view xin = x;
    VKT_TRY(drop_x(a, t, M, &xin));
    VKT_TRY(vkt_matmul(a->ctx, true, false, r, t->in, M, a->scale, dyb, xin, 1.0f, dA, none()));
    if (!dx.buf) return VKT_OK;
    if (!dropping(a))
        return vkt_matmul(a->ctx, false, false, M, t->in, r, a->scale, dyb, A, 1.0f, dx, none());
    vkt_view tmp = vkt_view_f32(a->tmp, 0, (uint64_t)M * t->in);
    VKT_TRY(vkt_matmul(a->ctx, false, false, M, t->in, r, a->scale, dyb, A, 0.0f, tmp, none()));
    return vkt_dropout(a->ctx, tmp, dx, (uint64_t)M * t->in, a->cfg.dropout, drop_key(a, t), true);
}

static vkt_status ensure_optim(vkt_lora *a) {
    if (a->m1) return VKT_OK;
    VKT_TRY(vkt_buffer_create(a->ctx, a->total * 4, &a->m1));
    VKT_TRY(vkt_buffer_create(a->ctx, a->total * 4, &a->m2));
    VKT_TRY(vkt_fill(a->ctx, vkt_view_all(a->m1), a->total, 0.0f));
    return vkt_fill(a->ctx, vkt_view_all(a->m2), a->total, 0.0f);
}

vkt_status vkt_lora_adamw(vkt_lora *a, const vkt_optim *o, int t, float *grad_norm) {
    VKT_TRY(ensure_optim(a));
    vkt_view red = vkt_view_f32(a->red, 0, 4);
    VKT_TRY(
        vkt_grad_norm(a->ctx, vkt_view_all(a->grads), a->total, o->max_grad_norm, a->scratch, red));
    vkt_view clip = o->max_grad_norm > 0 ? vkt_view_f32(red, VKT_REDUCE_CLIP, 1) : none();
    // Every A and B is a matrix: one call, decay on all; AdamW clears the gradients.
    vkt_adamw_params hp = {o->lr, o->beta1, o->beta2, o->eps, o->weight_decay, t, 1.0f, true};
    VKT_TRY(vkt_adamw(a->ctx, vkt_view_all(a->params), vkt_view_all(a->grads), vkt_view_all(a->m1),
                      vkt_view_all(a->m2), a->total, &hp, clip));
    if (grad_norm) VKT_TRY(vkt_reduce_read(a->ctx, red, NULL, grad_norm, NULL));
    return VKT_OK;
}

vkt_status vkt_lora_zero_grads(vkt_lora *a) {
    return vkt_fill(a->ctx, vkt_view_all(a->grads), a->total, 0.0f);
}

vkt_status vkt_lora_get(vkt_lora *a, float *params) {
    return vkt_download(a->ctx, vkt_view_all(a->params), params, a->total * 4);
}
vkt_status vkt_lora_set(vkt_lora *a, const float *params) {
    return vkt_upload(a->ctx, vkt_view_all(a->params), params, a->total * 4);
}
vkt_status vkt_lora_get_grads(vkt_lora *a, float *grads) {
    return vkt_download(a->ctx, vkt_view_all(a->grads), grads, a->total * 4);
}

vkt_status vkt_lora_get_optim(vkt_lora *a, float *m1, float *m2) {
    if (!a->m1) {
        memset(m1, 0, a->total * 4), memset(m2, 0, a->total * 4);
        return VKT_OK;
    }
    VKT_TRY(vkt_download(a->ctx, vkt_view_all(a->m1), m1, a->total * 4));
    return vkt_download(a->ctx, vkt_view_all(a->m2), m2, a->total * 4);
}

vkt_status vkt_lora_set_optim(vkt_lora *a, const float *m1, const float *m2) {
    VKT_TRY(ensure_optim(a));
    VKT_TRY(vkt_upload(a->ctx, vkt_view_all(a->m1), m1, a->total * 4));
    return vkt_upload(a->ctx, vkt_view_all(a->m2), m2, a->total * 4);
}

vkt_status vkt_lora_merge(vkt_lora *a, const vkt_params *ps, float *params) {
    vkt_error *err = a->err;
    float *h = malloc(a->total * sizeof *h);
    if (!h)
        return vkt_fail(err, VKT_ERR_NOMEM, "lora merge: %llu floats",
                        (unsigned long long)a->total);
    vkt_status s = vkt_lora_get(a, h);
    if (s != VKT_OK) {
        free(h);
        return s;
    }
    const int r = a->cfg.rank;
    for (int k = 0; k < a->n && s == VKT_OK; k++) {
        const vkt_lora_target *t = &a->t[k];
        const vkt_param *p = vkt_params_find(ps, t->kind, t->layer);
        if (!p || p->ndim != 2 || p->shape[0] != t->out || p->shape[1] != t->in) {
            s = vkt_fail(err, VKT_ERR_ARG,
                         "lora merge: the parameters have no (%d, %d) %s weight in layer %d",
                         t->out, t->in, names[t->module], t->layer);
            break;
        }
        const float *A = h + t->a_offset, *B = h + t->b_offset;
        float *W = params + p->offset;
        // W (OUT, IN) += scale * B (OUT, r) A (r, IN), summed in double.
        for (int o = 0; o < t->out; o++)
            for (int i = 0; i < t->in; i++) {
                double acc = 0;
                for (int j = 0; j < r; j++)
                    acc += (double)B[(size_t)o * r + j] * A[(size_t)j * t->in + i];
                W[(size_t)o * t->in + i] = (float)(W[(size_t)o * t->in + i] + a->scale * acc);
            }
    }
    free(h);
    return s;
}

void vkt_lora_set_seed(vkt_lora *a, uint64_t seed) { a->cfg.seed = seed; }
