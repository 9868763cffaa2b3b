// train.c: the training loop (see train.h).
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "tok.h"
#include "json_file.h"
#include "model.h"
#include "schedule.h"
#include "train.h"

void vkt_train_defaults(vkt_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = VKT_DATA_TEXT;
    o->steps = 1000, o->batch = 8, o->seq = 128, o->accum = 1, o->warmup = 100;
    o->lr = 1e-3, o->min_lr = -1, o->weight_decay = 0.1, o->max_grad_norm = 1.0, o->val_fraction = 0.1;
    o->eval_every = 100, o->val_batches = 20, o->save_every = 0;
    o->seed = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Everything a resumed run needs besides weights and moments.
typedef struct state {
    int step;
    vkt_rng rng;
} state;

static vkt_status save_state(const char *dir, const vkt_train_opts *o, const state *st, vkt_error *err) {
    json_t *j = json_object();
    char buf[4][24];
    json_t *rng = json_array();
    for (int i = 0; i < 4; i++) {
        snprintf(buf[i], sizeof buf[i], "%016" PRIx64, st->rng.s[i]);
        json_array_append_new(rng, json_string(buf[i]));
    }
    json_object_set_new(j, "step", json_integer(st->step));
    json_object_set_new(j, "steps", json_integer(o->steps));
    json_object_set_new(j, "data_rng", rng);
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "data", json_string(o->data));
    json_object_set_new(j, "format", json_string(o->format == VKT_DATA_TEXT ? "text" : "jsonl"));
    json_object_set_new(j, "batch", json_integer(o->batch));
    json_object_set_new(j, "seq", json_integer(o->seq));
    json_object_set_new(j, "accum", json_integer(o->accum));
    json_object_set_new(j, "warmup", json_integer(o->warmup));
    json_object_set_new(j, "lr", json_real(o->lr));
    json_object_set_new(j, "min_lr", json_real(o->min_lr));
    json_object_set_new(j, "weight_decay", json_real(o->weight_decay));
    json_object_set_new(j, "max_grad_norm", json_real(o->max_grad_norm));
    json_object_set_new(j, "val_fraction", json_real(o->val_fraction));
    char path[4096];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    vkt_status s = vkt_json_file_write(path, j, err);
    json_decref(j);
    return s;
}

// Reads trainer_state.json into *o (hyperparameters) and *st (step, RNG).
static vkt_status load_state(const char *dir, vkt_train_opts *o, state *st, vkt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    json_t *j;
    VKT_TRY(vkt_json_file_read(path, 1, &j, err));
    vkt_status s = VKT_OK;
    json_t *rng = json_object_get(j, "data_rng");
    if (!json_is_integer(json_object_get(j, "step")) || !json_is_array(rng) || json_array_size(rng) != 4)
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: missing \"step\" or \"data_rng\"", path);
    for (int i = 0; i < 4 && s == VKT_OK; i++) {
        const char *h = json_string_value(json_array_get(rng, (size_t)i));
        char *end;
        if (!h) s = vkt_fail(err, VKT_ERR_FORMAT, "%s: data_rng[%d] is not a string", path, i);
        else {
            st->rng.s[i] = strtoull(h, &end, 16);
            if (*end || !*h) s = vkt_fail(err, VKT_ERR_FORMAT, "%s: data_rng[%d] '%s' is not hex", path, i, h);
        }
    }
    if (s == VKT_OK) {
        st->step = (int)json_integer_value(json_object_get(j, "step"));
        const char *fmt = json_string_value(json_object_get(j, "format"));
        if (fmt) s = vkt_data_format_parse(fmt, &o->format, err);
#define GETI(k, f) if (json_is_integer(json_object_get(j, k))) o->f = (int)json_integer_value(json_object_get(j, k))
#define GETD(k, f) if (json_is_number(json_object_get(j, k))) o->f = json_number_value(json_object_get(j, k))
        if (o->steps <= 0) GETI("steps", steps); // --steps on the command line extends or shortens the run
        GETI("batch", batch);
        GETI("seq", seq);
        GETI("accum", accum);
        GETI("warmup", warmup);
        GETD("lr", lr);
        GETD("min_lr", min_lr);
        GETD("weight_decay", weight_decay);
        GETD("max_grad_norm", max_grad_norm);
        GETD("val_fraction", val_fraction);
#undef GETI
#undef GETD
        if (json_is_integer(json_object_get(j, "seed"))) o->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    }
    json_decref(j);
    return s;
}

// A fresh run also writes its tokenizer's files (or removes a stale tokenizer.json a byte
// model must not be read with); a resumed run's are in the checkpoint already.
static vkt_status save_all(vkt_model *m, const vkt_train_opts *o, const state *st, vkt_error *err) {
    VKT_TRY(vkt_checkpoint_save_model(m, o->out, true, err));
    if (!o->resume && o->tokenizer) VKT_TRY(vkt_checkpoint_copy_tokenizer(o->tokenizer, o->out, err));
    else if (!o->resume) VKT_TRY(vkt_checkpoint_remove_tokenizer(o->out, err));
    return save_state(o->out, o, st, err);
}

// The run's tokenizer: the checkpoint's when resuming, else --tokenizer's (which sets the
// new model's vocabulary), else the byte tokenizer.
static vkt_status open_tokenizer(vkt_train_opts *o, vkt_tok **tok, vkt_error *err) {
    if (o->resume) return vkt_checkpoint_tokenizer(o->out, &o->cfg, tok, err);
    if (!o->tokenizer) return vkt_tok_byte(tok, err);
    VKT_TRY(vkt_tok_load_dir(o->tokenizer, tok, err));
    if (vkt_tok_kind_of(*tok) != VKT_TOK_HF) {
        vkt_tok_free(*tok), *tok = NULL;
        return vkt_fail(err, VKT_ERR_ARG, "--tokenizer %s: no tokenizer.json there", o->tokenizer);
    }
    o->cfg.vocab = (vkt_tok_vocab_size(*tok) + 7) / 8 * 8;
    return VKT_OK;
}

static vkt_status validate(vkt_model *m, const vkt_dataset *d, const vkt_train_opts *o, int32_t *tok, int32_t *tgt,
                           float *w, double *out, vkt_error *err) {
    double loss = 0, weight = 0;
    vkt_ctx *ctx = vkt_model_ctx(m);
    for (size_t b = 0; b < (size_t)o->val_batches; b++) {
        if (!vkt_dataset_val_batch(d, b, o->batch, o->seq, tok, tgt, w)) break;
        double l, wsum;
        vkt_status s = vkt_model_set_batch(m, tok, tgt, w);
        if (s == VKT_OK) s = vkt_model_forward(m, NULL, NULL);
        if (s == VKT_OK) s = vkt_model_loss(m, 1.0f, false);
        if (s == VKT_OK) s = vkt_model_read_loss(m, &l, &wsum);
        if (s != VKT_OK) return vkt_fail(err, s, "validation: %s", vkt_ctx_message(ctx));
        loss += l, weight += wsum;
    }
    *out = weight > 0 ? loss / weight : NAN;
    return VKT_OK;
}

vkt_status vkt_train_run(vkt_ctx *ctx, const vkt_train_opts *opts, vkt_train_result *res, vkt_error *err) {
    vkt_train_opts o = *opts;
    memset(res, 0, sizeof *res);
    res->final_val_loss = NAN;
    state st = {0};
    vkt_model *m = NULL;
    vkt_tok *tkz = NULL;
    vkt_status s = VKT_OK;
    if (!o.resume) s = open_tokenizer(&o, &tkz, err);
    if (s != VKT_OK) return s;
    if (o.resume) {
        s = load_state(o.out, &o, &st, err);
        if (s == VKT_OK) s = vkt_checkpoint_load_model(ctx, o.out, &m, err);
        if (s == VKT_OK) {
            const vkt_params *ps = vkt_model_params(m);
            float *m1 = malloc(ps->total * 4), *m2 = malloc(ps->total * 4);
            s = (m1 && m2) ? vkt_checkpoint_read_optim(o.out, ps, m1, m2, err) : vkt_fail(err, VKT_ERR_NOMEM, "moments");
            if (s == VKT_OK && vkt_model_set_optim(m, m1, m2) != VKT_OK) s = vkt_fail(err, VKT_ERR_VULKAN, "%s", vkt_ctx_message(ctx));
            free(m1), free(m2);
        }
        if (s == VKT_OK) o.cfg = *vkt_model_cfg(m);
        if (s == VKT_OK) s = open_tokenizer(&o, &tkz, err);
    } else {
        vkt_rng_seed(&st.rng, vkt_rng_derive(o.seed, 1));
        s = vkt_model_create(ctx, &o.cfg, &m, err);
        if (s == VKT_OK && vkt_model_init(m, vkt_rng_derive(o.seed, 0)) != VKT_OK)
            s = vkt_fail(err, VKT_ERR_VULKAN, "%s", vkt_ctx_message(ctx));
    }
    if (s != VKT_OK) {
        vkt_model_destroy(m);
        vkt_tok_free(tkz);
        return s;
    }
    if (o.steps <= 0) o.steps = 1000;
    if (o.resume && st.step >= o.steps) {
        vkt_model_destroy(m);
        vkt_tok_free(tkz);
        return vkt_fail(err, VKT_ERR_ARG, "%s is at step %d already; --steps %d leaves nothing to do (pass a larger --steps)",
                        o.out, st.step, o.steps);
    }
    if (o.min_lr < 0) o.min_lr = o.lr / 10;
    if (o.seq > o.cfg.context) o.seq = o.cfg.context;
    if (o.batch < 1 || o.seq < 1 || o.accum < 1 || o.steps < 1) {
        vkt_model_destroy(m);
        vkt_tok_free(tkz);
        return vkt_fail(err, VKT_ERR_ARG, "train: batch %d, seq %d, accum %d and steps %d must be >= 1", o.batch, o.seq,
                        o.accum, o.steps);
    }
    vkt_dataset d;
    s = vkt_dataset_load_tok(o.data, o.format, o.val_fraction, tkz, &d, err);
    vkt_tok_free(tkz);
    if (s != VKT_OK) {
        vkt_model_destroy(m);
        return s;
    }
    const int N = o.batch * o.seq;
    int32_t *tok = malloc((size_t)N * 4), *tgt = malloc((size_t)N * 4);
    float *w = malloc((size_t)N * 4);
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", o.out);
    FILE *metrics = NULL;
    if (!tok || !tgt || !w) s = vkt_fail(err, VKT_ERR_NOMEM, "batch buffers");
    if (s == VKT_OK && (s = vkt_model_plan(m, o.batch, o.seq)) != VKT_OK) vkt_fail(err, s, "%s", vkt_ctx_message(ctx));
    if (s == VKT_OK) {
        // A fresh run writes its checkpoint directory first, so a bad path fails early.
        if (!o.resume) s = save_all(m, &o, &st, err);
        if (s == VKT_OK && !(metrics = fopen(mpath, o.resume ? "a" : "w")))
            s = vkt_fail(err, VKT_ERR_IO, "%s: %s", mpath, strerror(errno));
    }
    vkt_train_progress p = {.steps = o.steps, .val_loss = NAN};
    double t0 = now_s();
    int first = st.step;
    while (s == VKT_OK && st.step < o.steps) {
        double lr = vkt_lr_at(st.step, o.steps, o.warmup, o.lr, o.min_lr), loss = 0;
        for (int a = 0; a < o.accum && s == VKT_OK; a++) {
            vkt_dataset_train_batch(&d, o.batch, o.seq, &st.rng, tok, tgt, w);
            double wsum = 0, l = 0;
            for (int i = 0; i < N; i++) wsum += fabs(w[i]);
            float scale = (float)(1.0 / (o.accum * (wsum > 0 ? wsum : 1)));
            s = vkt_model_set_batch(m, tok, tgt, w);
            if (s == VKT_OK) s = vkt_model_forward(m, NULL, NULL);
            if (s == VKT_OK) s = vkt_model_loss(m, scale, true);
            if (s == VKT_OK) s = vkt_model_read_loss(m, &l, &wsum);
            loss += (wsum > 0 ? l / wsum : 0) / o.accum;
        }
        vkt_optim opt = {(float)lr, 0.9f, 0.95f, 1e-8f, (float)o.weight_decay, (float)o.max_grad_norm};
        float gnorm = 0;
        if (s == VKT_OK) s = vkt_model_adamw(m, &opt, st.step + 1, &gnorm);
        if (s != VKT_OK) {
            vkt_fail(err, s, "step %d: %s", st.step, vkt_ctx_message(ctx));
            break;
        }
        st.step++;
        double el = now_s() - t0;
        p.step = st.step, p.loss = loss, p.lr = lr, p.grad_norm = gnorm, p.elapsed_s = el;
        p.tokens_per_s = (double)(st.step - first) * N * o.accum / (el > 0 ? el : 1e-9);
        p.eta_s = (o.steps - st.step) * el / (st.step - first);
        p.evaluated = o.eval_every > 0 && (st.step % o.eval_every == 0 || st.step == o.steps);
        if (p.evaluated) {
            s = validate(m, &d, &o, tok, tgt, w, &p.val_loss, err);
            if (s != VKT_OK) break;
        }
        fprintf(metrics, "{\"step\": %d, \"loss\": %.6f, \"lr\": %.6g, \"grad_norm\": %.5g, \"tokens_per_s\": %.1f, "
                         "\"elapsed_s\": %.3f",
                st.step, loss, lr, gnorm, p.tokens_per_s, el);
        if (p.evaluated) fprintf(metrics, ", \"val_loss\": %.6f", p.val_loss);
        fprintf(metrics, "}\n");
        fflush(metrics);
        if (o.progress) o.progress(o.user, &p);
        res->steps_done = st.step, res->final_loss = loss, res->final_val_loss = p.val_loss;
        bool stop = o.stop && *o.stop;
        if (stop || (o.save_every > 0 && st.step % o.save_every == 0) || st.step == o.steps) {
            s = save_all(m, &o, &st, err);
            if (stop && s == VKT_OK) {
                res->interrupted = true;
                s = vkt_fail(err, VKT_ERR_INTERRUPTED, "interrupted after step %d of %d; checkpoint saved to %s (continue with --resume)",
                             st.step, o.steps, o.out);
            }
            if (stop) break;
        }
    }
    if (metrics) fclose(metrics);
    free(tok), free(tgt), free(w);
    vkt_dataset_free(&d);
    vkt_model_destroy(m);
    return s;
}
