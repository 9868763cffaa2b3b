// train.c: the training loop (see train.h).
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "checkpoint_dir.h"
#include "lora.h"
#include "lora_resume.h"
#include "tok.h"
#include "model.h"
#include "read_file.h"
#include "schedule.h"
#include "train.h"

#include "metrics_json.h"
#include "train_init.h"
#include "train_state.h"
#include "loss_scale.h"

void vkt_train_defaults(vkt_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = VKT_DATA_TEXT;
    o->steps = 1000, o->batch = 8, o->seq = 128, o->accum = 1, o->warmup = 100;
    o->lr = 1e-3, o->min_lr = -1, o->weight_decay = 0.1, o->max_grad_norm = 1.0,
    o->val_fraction = 0.1;
    o->eval_every = 100, o->val_batches = 20, o->save_every = 0;
    o->lora_alpha = 8.0f, o->lora_dropout = 0.0f, o->lora_targets = VKT_LORA_ALL;
    o->seed = 1, o->keep_last = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void tell(const vkt_train_opts *o, const char *msg) {
    if (o->notice && msg[0]) o->notice(o->user, msg);
}

// Where a run's checkpoints take their tokenizer's files from: --tokenizer for a fresh run,
// then the run's newest checkpoint (for a resumed run first the one it resumed from).
typedef struct tok_src {
    bool hf; // a tokenizer.json to carry (else the byte tokenizer: no files)
    char dir[4200];
    json_t
        *lora_base;  // a LoRA run: its base's identity (lora_resume.h), saved with each checkpoint
    char base[4200]; // ... and a resumed one's base directory (o->init points here)
} tok_src;

// One checkpoint, written into a temporary directory and published whole (checkpoint_dir.h).
static vkt_status save_all(vkt_model *m, const vkt_train_opts *o, const vkt_train_state *st,
                           tok_src *tk) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    vkt_ckpt_tx tx;
    VKT_TRY(vkt_ckpt_begin(o->out, &tx, err));
    char path[4200];
    snprintf(path, sizeof path, "%s/trainer_state.json", tx.tmp);
    vkt_lora *lora = vkt_model_lora(m);
    vkt_status s =
        lora ? vkt_lora_save(lora, tx.tmp, o->init) : vkt_checkpoint_save_model(m, tx.tmp, true);
    if (s == VKT_OK && lora) s = vkt_lora_save_resume(lora, tx.tmp, tk->lora_base);
    if (s == VKT_OK && tk->hf) s = vkt_checkpoint_copy_tokenizer(tk->dir, tx.tmp, err);
    if (s == VKT_OK) s = vkt_train_state_write(path, o, st, err);
    if (s != VKT_OK) {
        vkt_ckpt_abort(&tx);
        return s;
    }
    s = vkt_ckpt_commit(&tx, st->step, o->keep_last, err);
    if (s == VKT_OK) snprintf(tk->dir, sizeof tk->dir, "%s/ckpt-%d", o->out, st->step);
    return s;
}

// DIR/metrics.jsonl for this run: a fresh run starts it; a resumed one keeps the records up to
// its checkpoint's step (a run stopped after its last save logged steps the resumed run logs
// again) and appends. A torn last line goes too.
static vkt_status open_metrics(const vkt_train_opts *o, int step, FILE **out, vkt_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", o->out);
    *out = NULL;
    if (o->resume && access(path, F_OK) == 0) {
        char *text;
        size_t n, keep = 0;
        VKT_TRY(vkt_read_file(path, &text, &n, err));
        int dropped = 0, k;
        for (size_t at = 0; at < n;) {
            char *nl = memchr(text + at, '\n', n - at);
            bool ok = nl && sscanf(text + at, "{\"step\": %d", &k) == 1 && k <= step;
            if (!ok || dropped)
                dropped++;
            else
                keep = (size_t)(nl - text) + 1;
            at = nl ? (size_t)(nl - text) + 1 : n;
        }
        vkt_status s = VKT_OK;
        if (dropped) {
            vkt_atomic_file af;
            s = vkt_atomic_file_open(&af, path, err);
            if (s == VKT_OK) s = vkt_atomic_file_write(&af, text, keep, err);
            if (s == VKT_OK)
                s = vkt_atomic_file_commit(&af, err);
            else
                vkt_atomic_file_abort(&af);
            char msg[4400];
            snprintf(msg, sizeof msg,
                     "%s: removed %d record%s after step %d (logged after the checkpoint "
                     "was saved)",
                     path, dropped, dropped == 1 ? "" : "s", step);
            if (s == VKT_OK) tell(o, msg);
        }
        free(text);
        VKT_TRY(s);
    }
    if (!(*out = fopen(path, o->resume ? "a" : "w")))
        return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    return VKT_OK;
}

// The run's tokenizer: the checkpoint's when resuming, else --tokenizer's (which sets the
// new model's vocabulary), else the byte tokenizer.
static vkt_status open_tokenizer(vkt_train_opts *o, vkt_tok **tok, vkt_error *err) {
    if (!o->tokenizer) return vkt_tok_byte(tok, err);
    VKT_TRY(vkt_tok_load_dir(o->tokenizer, tok, err));
    if (vkt_tok_kind_of(*tok) != VKT_TOK_HF) {
        vkt_tok_free(*tok), *tok = NULL;
        return vkt_fail(err, VKT_ERR_ARG, "--tokenizer %s: no tokenizer.json there", o->tokenizer);
    }
    o->cfg.vocab = (vkt_tok_vocab_size(*tok) + 7) / 8 * 8;
    return VKT_OK;
}

// A resumed run: the newest complete checkpoint in DIR, its state checked and merged with o
// (train.h), its model, moments and tokenizer.
static vkt_status open_resumed(vkt_ctx *ctx, vkt_train_opts *o, vkt_train_state *st, tok_src *tk,
                               vkt_model **m, vkt_tok **tkz) {
    vkt_error *err = vkt_ctx_err(ctx);
    vkt_ckpt_found f;
    VKT_TRY(vkt_ckpt_find(o->out, &f, err));
    tell(o, f.note);
    if (!f.legacy) VKT_TRY(vkt_ckpt_publish_top(o->out, f.path, err));
    char path[4400];
    snprintf(path, sizeof path, "%s/adapter_config.json", f.path);
    const bool lora = access(path, F_OK) == 0;
    snprintf(path, sizeof path, "%s/adapter_optimizer.safetensors", f.path);
    if (lora && access(path, F_OK) != 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s holds a LoRA run saved without its adapters' moments (an older vkt): "
                        "its adapter in %s "
                        "continues with --ckpt BASE --adapter %s",
                        o->out, f.path, f.path);
    // A LoRA run resumes on the base it was trained on, checked file by file.
    if (lora) VKT_TRY(vkt_lora_resume_base(f.path, tk->base, sizeof tk->base, err));
    snprintf(path, sizeof path, "%s/trainer_state.json", f.path);
    vkt_train_opts saved;
    VKT_TRY(vkt_train_state_read(path, &saved, st, err));
    vkt_model_config cfg;
    VKT_TRY(vkt_checkpoint_config(lora ? tk->base : f.path, &cfg, err));
    if ((o->given & VKT_TRAIN_GIVEN_SEQ) && o->seq > cfg.context) // before any change is recorded
        return vkt_fail(err, VKT_ERR_ARG, "--seq %d is longer than the model's context (%d tokens)",
                        o->seq, cfg.context);
    if (!f.legacy && st->step != f.step)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"step\" is %d, the manifest's %lld (a file of another save)", path,
                        st->step, (long long)f.step);
    const char *data = o->data ? o->data : saved.data;
    uint64_t bytes = 0, hash = 0;
    if (data) VKT_TRY(vkt_ckpt_hash_file(data, &bytes, &hash, err));
    VKT_TRY(vkt_train_state_merge(o, &saved, st, bytes, hash, err));
    VKT_TRY(
        vkt_train_load_resumable(ctx, f.path, lora ? tk->base : NULL, o, m, tkz, &tk->lora_base));
    if (lora) {
        tk->hf = vkt_tok_kind_of(*tkz) == VKT_TOK_HF;
        snprintf(tk->dir, sizeof tk->dir, "%s", tk->base);
        char msg[4400];
        vkt_train_describe_init(*m, tk->base, msg, sizeof msg);
        tell(o, msg);
        return VKT_OK;
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", f.path);
    tk->hf = access(path, F_OK) == 0;
    snprintf(tk->dir, sizeof tk->dir, "%s", f.path);
    return VKT_OK;
}

// A fresh run: its tokenizer, a new model from the seed, the data file's identity.
static vkt_status open_fresh(vkt_ctx *ctx, vkt_train_opts *o, vkt_train_state *st, tok_src *tk,
                             vkt_model **m, vkt_tok **tkz) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!o->data) return vkt_fail(err, VKT_ERR_ARG, "train: no --data file");
    if (!o->init) VKT_TRY(open_tokenizer(o, tkz, err));
    VKT_TRY(vkt_ckpt_hash_file(o->data, &st->data_bytes, &st->data_hash, err));
    st->has_data_hash = true;
    if (!(st->changes = json_array())) return vkt_fail(err, VKT_ERR_NOMEM, "train state");
    tk->hf = o->tokenizer != NULL;
    snprintf(tk->dir, sizeof tk->dir, "%s", o->tokenizer ? o->tokenizer : "");
    vkt_rng_seed(&st->rng, vkt_rng_derive(o->seed, 1));
    if (o->init) {
        // A pretrained start: its tokenizer files go into every checkpoint.
        VKT_TRY(vkt_train_open_init(ctx, o, m, tkz));
        if (vkt_model_lora(*m)) VKT_TRY(vkt_lora_base_identity(o->init, &tk->lora_base, err));
        tk->hf = vkt_tok_kind_of(*tkz) == VKT_TOK_HF;
        snprintf(tk->dir, sizeof tk->dir, "%s", o->init);
        char msg[4400];
        vkt_train_describe_init(*m, o->init, msg, sizeof msg);
        tell(o, msg);
        return vkt_train_check_fits(*m, o);
    }
    VKT_TRY(vkt_model_create(ctx, &o->cfg, m));
    return vkt_model_init(*m, vkt_rng_derive(o->seed, 0));
}

static vkt_status validate(vkt_model *m, const vkt_dataset *d, const vkt_train_opts *o,
                           int32_t *tok, int32_t *tgt, float *w, double *out) {
    double loss = 0, weight = 0;
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    if (vkt_model_lora(m) &&
        vkt_lora_set_train(vkt_model_lora(m), false, 0) != VKT_OK) // no dropout
        return vkt_fail_wrap(err, "validation");
    for (size_t b = 0; b < (size_t)o->val_batches; b++) {
        if (!vkt_dataset_val_batch(d, b, o->batch, o->seq, tok, tgt, w)) break;
        double l, wsum;
        vkt_status s = vkt_model_set_batch(m, tok, tgt, w);
        if (s == VKT_OK) s = vkt_model_forward(m, NULL, NULL);
        if (s == VKT_OK) s = vkt_model_loss(m);
        if (s == VKT_OK) s = vkt_model_read_loss(m, &l, &wsum);
        if (s != VKT_OK) return vkt_fail_wrap(err, "validation");
        loss += l, weight += wsum;
    }
    *out = weight > 0 ? loss / weight : NAN;
    return VKT_OK;
}

// Test-only: VKT_FAULT_INJECT=loss:N makes the loss of (1-based) step N NaN, as a diverged
// run's would be, so the handling below is tested without a run long enough to diverge.
static int injected_nan_step(void) {
    const char *v = getenv("VKT_FAULT_INJECT");
    int n = 0;
    return v && sscanf(v, "loss:%d", &n) == 1 ? n : 0;
}

// A step whose loss is not finite: skipped (its gradients dropped, no update) while
// --skip-nonfinite allows, else the run fails naming the step; the weights are unchanged,
// and the last checkpoint stays the run's result.
static vkt_status skip_or_fail(vkt_model *m, const vkt_train_opts *o, const vkt_train_state *st,
                               vkt_train_result *res, double loss) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    if (res->skipped_nonfinite >= o->skip_nonfinite)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "step %d: the loss is %g, not finite: training diverged (%d step%s skipped before; "
            "nothing saved after step %d; lower --lr, or --skip-nonfinite N skips such steps)",
            st->step + 1, loss, res->skipped_nonfinite, res->skipped_nonfinite == 1 ? "" : "s",
            res->saved_step);
    res->skipped_nonfinite++;
    char msg[256];
    snprintf(msg, sizeof msg,
             "step %d: the loss is %g, not finite: skipped (%d of --skip-nonfinite %d)",
             st->step + 1, loss, res->skipped_nonfinite, o->skip_nonfinite);
    tell(o, msg);
    vkt_status s = vkt_model_zero_grads(m);
    if (s == VKT_OK && vkt_model_lora(m)) s = vkt_lora_zero_grads(vkt_model_lora(m));
    return s == VKT_OK ? VKT_OK : vkt_fail_wrap(err, "step %d", st->step + 1);
}

// fp16 gradients that overflowed at a loss scale above 1: the step is dropped and the next batch
// runs at half the scale (counted, told, never applied). At scale 1 the overflow is divergence.
static vkt_status overflow_skip(vkt_model *m, const vkt_train_opts *o, const vkt_train_state *st,
                                vkt_train_result *res, vkt_loss_scaler *ls) {
    double was = ls->scale;
    vkt_loss_scaler_update(ls, false);
    double now = ls->scale;
    res->skipped_overflow++;
    char msg[256];
    snprintf(msg, sizeof msg,
             "step %d: fp16 gradients overflowed at loss scale %.0f: skipped, scale now %.0f",
             st->step + 1, was, now);
    tell(o, msg);
    vkt_status s = vkt_model_zero_grads(m);
    return s == VKT_OK ? VKT_OK
                       : vkt_fail_wrap(vkt_ctx_err(vkt_model_ctx(m)), "step %d", st->step + 1);
}

// The run's precision on its model. A resumed run keeps what it is given (fp32 unless
// --precision says otherwise); a change from the checkpoint's is recorded and told.
static vkt_status set_precision(vkt_model *m, const vkt_train_opts *o, vkt_train_state *st) {
    if (o->precision != VKT_PREC_FP32 && vkt_model_lora(m))
        return vkt_fail(vkt_ctx_err(vkt_model_ctx(m)), VKT_ERR_UNSUPPORTED,
                        "--precision %s: LoRA adapters train in fp32 over the base's own "
                        "weights (drop --precision or --lora-rank)",
                        vkt_precision_name(o->precision));
    if (o->resume && st->precision != o->precision) {
        char msg[160];
        snprintf(msg, sizeof msg, "precision: the checkpoint trained in %s, this run trains in %s",
                 vkt_precision_name(st->precision), vkt_precision_name(o->precision));
        tell(o, msg);
        json_t *c = json_object();
        json_object_set_new(c, "step", json_integer(st->step));
        json_object_set_new(c, "option", json_string("precision"));
        json_object_set_new(c, "from", json_string(vkt_precision_name(st->precision)));
        json_object_set_new(c, "to", json_string(vkt_precision_name(o->precision)));
        if (st->changes)
            json_array_append_new(st->changes, c);
        else
            json_decref(c);
    }
    if (o->precision != VKT_PREC_FP16) st->loss_scale = 0, st->loss_scale_good = 0;
    st->precision = o->precision;
    if (vkt_model_lora(m)) return VKT_OK;
    return vkt_model_set_precision(m, o->precision);
}

// Everything before the first step: leftovers removed, the model, its state and tokenizer
// (fresh or resumed), the options checked against them, the data loaded and checked. On
// failure nothing is left open.
static vkt_status open_run(vkt_ctx *ctx, vkt_train_opts *o, vkt_train_state *st, tok_src *tk,
                           vkt_model **m, vkt_dataset *d, vkt_train_result *res) {
    vkt_error *err = vkt_ctx_err(ctx);
    vkt_tok *tkz = NULL;
    if (o->keep_last < 1) o->keep_last = 1;
    int removed = 0;
    char msg[4400];
    vkt_status s = vkt_ckpt_cleanup(o->out, &removed, err);
    if (s == VKT_OK && removed) {
        snprintf(msg, sizeof msg, "removed %d leftover%s of an interrupted save from %s", removed,
                 removed == 1 ? "" : "s", o->out);
        tell(o, msg);
    }
    if (s == VKT_OK)
        s = o->resume ? open_resumed(ctx, o, st, tk, m, &tkz) : open_fresh(ctx, o, st, tk, m, &tkz);
    if (s == VKT_OK && o->seq > o->cfg.context) {
        if (o->given & VKT_TRAIN_GIVEN_SEQ)
            s = vkt_fail(err, VKT_ERR_ARG,
                         "--seq %d is longer than the model's context (%d tokens)", o->seq,
                         o->cfg.context);
        o->seq = o->cfg.context; // the default: capped quietly
    }
    res->start_step = res->saved_step = st->step;
    if (o->steps <= 0) o->steps = 1000;
    if (o->min_lr < 0) o->min_lr = o->lr / 10;
    if (s == VKT_OK && o->resume && st->step >= o->steps)
        s = vkt_fail(
            err, VKT_ERR_ARG,
            "%s is at step %d already; --steps %d leaves nothing to do (pass a larger --steps)",
            o->out, st->step, o->steps);
    if (s == VKT_OK && (o->batch < 1 || o->seq < 1 || o->accum < 1 || o->steps < 1))
        s = vkt_fail(err, VKT_ERR_ARG,
                     "train: batch %d, seq %d, accum %d and steps %d must be >= 1", o->batch,
                     o->seq, o->accum, o->steps);
    if (s == VKT_OK) s = vkt_dataset_load_tok(o->data, o->format, o->val_fraction, tkz, d, err);
    vkt_tok_free(tkz);
    size_t masked_val = 0;
    if (s == VKT_OK)
        s = vkt_dataset_check_context(d, o->data, o->seq, &res->masked_train, &masked_val, err);
    if (s == VKT_OK && res->masked_train) {
        snprintf(msg, sizeof msg,
                 "%zu training example%s of %s train no token (the prompt fills --seq %d)",
                 res->masked_train, res->masked_train == 1 ? "" : "s", o->data, o->seq);
        tell(o, msg);
    }
    if (s != VKT_OK) {
        vkt_dataset_free(d);
        vkt_train_close_model(*m);
        *m = NULL;
        vkt_train_state_free(st);
    }
    return s;
}

// One metrics.jsonl line (non-finite numbers as null, see metrics_json.h).
static void write_metrics(FILE *f, const vkt_train_progress *p, const vkt_train_result *res) {
    vkt_jsonl l;
    vkt_jsonl_begin(&l, f);
    vkt_jsonl_int(&l, "step", p->step);
    vkt_jsonl_num(&l, "loss", "%.6f", p->loss);
    vkt_jsonl_num(&l, "lr", "%.6g", p->lr);
    vkt_jsonl_num(&l, "grad_norm", "%.5g", p->grad_norm);
    vkt_jsonl_num(&l, "tokens_per_s", "%.1f", p->tokens_per_s);
    vkt_jsonl_num(&l, "elapsed_s", "%.3f", p->elapsed_s);
    if (p->evaluated) vkt_jsonl_num(&l, "val_loss", "%.6f", p->val_loss);
    if (res->skipped_nonfinite) vkt_jsonl_int(&l, "skipped_nonfinite", res->skipped_nonfinite);
    if (p->loss_scale != 1) vkt_jsonl_num(&l, "loss_scale", "%.0f", p->loss_scale);
    if (res->skipped_overflow) vkt_jsonl_int(&l, "skipped_overflow", res->skipped_overflow);
    vkt_jsonl_end(&l);
    fflush(f);
}

// One step's gradients: o->accum micro-batches forward and backward (the loss scaled by S
// for fp16), their mean loss, and the gradient norm (unscaled), read with the last loss in one
// wait. tok, tgt, w: batch * seq each.
static vkt_status step_gradients(vkt_model *m, vkt_dataset *d, const vkt_train_opts *o,
                                 vkt_train_state *st, double S, int32_t *tok, int32_t *tgt,
                                 float *w, double *loss, float *gnorm) {
    const int N = o->batch * o->seq;
    vkt_lora *lora = vkt_model_lora(m);
    vkt_status s = VKT_OK;
    for (int a = 0; a < o->accum && s == VKT_OK; a++) {
        vkt_dataset_train_batch(d, o->batch, o->seq, &st->rng, tok, tgt, w);
        double wsum = 0, l = 0;
        for (int i = 0; i < N; i++) wsum += fabs(w[i]);
        float scale = (float)(S / (o->accum * (wsum > 0 ? wsum : 1)));
        s = vkt_model_set_batch(m, tok, tgt, w);
        // LoRA dropout masks: one key per micro-batch, the same for its backward.
        if (s == VKT_OK && lora)
            s = vkt_lora_set_train(lora, true, (uint64_t)st->step * o->accum + a);
        if (s == VKT_OK) s = vkt_model_forward(m, NULL, NULL);
        if (s == VKT_OK) s = vkt_model_backward(m, scale);
        // The last micro-batch's loss is read with the gradient norm: one wait a step.
        if (s == VKT_OK && (lora || a + 1 < o->accum)) {
            s = vkt_model_read_loss(m, &l, &wsum);
        } else if (s == VKT_OK) {
            s = vkt_model_grad_norm(m, (float)(o->max_grad_norm * S));
            if (s == VKT_OK) s = vkt_model_read_step(m, &l, &wsum, gnorm);
            *gnorm = (float)(*gnorm / S);
        }
        *loss += (wsum > 0 ? l / wsum : 0) / o->accum;
    }
    return s;
}

vkt_status vkt_train_run(vkt_ctx *ctx, const vkt_train_opts *opts, vkt_train_result *res) {
    vkt_error *err = vkt_ctx_err(ctx);
    vkt_train_opts o = *opts;
    memset(res, 0, sizeof *res);
    res->final_val_loss = NAN;
    vkt_train_state st = {0};
    tok_src tk = {0};
    vkt_model *m = NULL;
    vkt_dataset d = {0};
    vkt_status s = open_run(ctx, &o, &st, &tk, &m, &d, res);
    if (s != VKT_OK) {
        json_decref(tk.lora_base);
        return s;
    }
    vkt_lora *lora = vkt_model_lora(m);
    s = set_precision(m, &o, &st);
    vkt_loss_scaler ls;
    vkt_loss_scaler_init(&ls, o.precision == VKT_PREC_FP16, st.loss_scale, st.loss_scale_good);
    const int N = o.batch * o.seq;
    int32_t *tok = malloc((size_t)N * 4), *tgt = malloc((size_t)N * 4);
    float *w = malloc((size_t)N * 4);
    FILE *metrics = NULL;
    if (!tok || !tgt || !w) s = vkt_fail(err, VKT_ERR_NOMEM, "batch buffers");
    if (s == VKT_OK) s = vkt_model_plan(m, o.batch, o.seq);
    if (s == VKT_OK) {
        // A fresh run replaces what DIR held and writes its checkpoint first, so a bad path
        // fails early.
        if (!o.resume) s = vkt_ckpt_clear(o.out, err);
        if (s == VKT_OK && !o.resume) s = save_all(m, &o, &st, &tk);
        if (s == VKT_OK) s = open_metrics(&o, st.step, &metrics, err);
    }
    vkt_train_progress p = {.steps = o.steps, .val_loss = NAN, .loss_scale = 1};
    double t0 = now_s();
    int first = st.step, nan_step = injected_nan_step();
    while (s == VKT_OK && st.step < o.steps) {
        double lr = vkt_lr_at(st.step, o.steps, o.warmup, o.lr, o.min_lr), loss = 0;
        float gnorm = 0;
        s = step_gradients(m, &d, &o, &st, ls.scale, tok, tgt, w, &loss, &gnorm);
        if (st.step + 1 == nan_step) loss = NAN, nan_step = 0;
        if (s == VKT_OK && ls.on && !(isfinite(loss) && isfinite(gnorm)) && ls.scale > 1) {
            s = overflow_skip(m, &o, &st, res, &ls);
            continue; // skipped: no update, the next batch
        }
        if (s == VKT_OK && !isfinite(loss)) {
            s = skip_or_fail(m, &o, &st, res, loss);
            if (s == VKT_OK) continue; // skipped: no update, the next batch
            break;
        }
        vkt_optim opt = {
            (float)lr,      0.9f, 0.95f, 1e-8f, (float)o.weight_decay, (float)o.max_grad_norm,
            (float)ls.scale};
        if (s == VKT_OK)
            s = lora ? vkt_lora_adamw(lora, &opt, st.step + 1, &gnorm)
                     : vkt_model_adamw_apply(m, &opt, st.step + 1);
        if (s != VKT_OK) {
            vkt_fail_wrap(err, "step %d", st.step);
            break;
        }
        if (!isfinite(gnorm)) { // the update is applied: nothing of it may be saved
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "step %d: the gradient norm is %g, not finite: training diverged (nothing "
                         "saved after "
                         "step %d; lower --lr)",
                         st.step + 1, (double)gnorm, res->saved_step);
            break;
        }
        st.step++;
        vkt_loss_scaler_update(&ls, true);
        st.loss_scale = ls.on ? ls.scale : 0, st.loss_scale_good = ls.good;
        p.loss_scale = ls.scale;
        double el = now_s() - t0;
        p.step = st.step, p.loss = loss, p.lr = lr, p.grad_norm = gnorm, p.elapsed_s = el;
        p.tokens_per_s = (double)(st.step - first) * N * o.accum / (el > 0 ? el : 1e-9);
        p.eta_s = (o.steps - st.step) * el / (st.step - first);
        // --val-fraction 0 holds out nothing: no validation loss (not a NaN one) is reported.
        p.evaluated = o.eval_every > 0 && vkt_dataset_val_batches(&d, o.batch, o.seq) > 0 &&
                      (st.step % o.eval_every == 0 || st.step == o.steps);
        if (p.evaluated) {
            s = validate(m, &d, &o, tok, tgt, w, &p.val_loss);
            if (s != VKT_OK) break;
        }
        write_metrics(metrics, &p, res);
        if (o.progress) o.progress(o.user, &p);
        res->steps_done = st.step, res->final_loss = loss, res->final_val_loss = p.val_loss;
        bool stop = o.stop && *o.stop;
        if (stop || (o.save_every > 0 && st.step % o.save_every == 0) || st.step == o.steps) {
            s = save_all(m, &o, &st, &tk);
            if (s == VKT_OK) res->saved_step = st.step;
            if (stop && s == VKT_OK) {
                res->interrupted = true;
                s = vkt_fail(err, VKT_ERR_INTERRUPTED,
                             "interrupted after step %d of %d; checkpoint saved to %s (continue "
                             "with --resume)",
                             st.step, o.steps, o.out);
            }
            if (stop) break;
        }
    }
    if (s == VKT_OK && lora && o.merge) s = vkt_train_write_merged(m, o.init, o.out);
    if (metrics) fclose(metrics);
    free(tok), free(tgt), free(w);
    vkt_dataset_free(&d);
    vkt_train_close_model(m);
    vkt_train_state_free(&st);
    json_decref(tk.lora_base);
    return s;
}
