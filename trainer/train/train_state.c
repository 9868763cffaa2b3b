// train_state.c: trainer_state.json written, read with every field checked, and merged with a
// resumed run's options (train_state.h, train.h).
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"
#include "model.h"
#include "train_state.h"

vkt_status vkt_train_state_write(const char *path, const vkt_train_opts *o,
                                 const vkt_train_state *st, vkt_error *err) {
    json_t *j = json_object();
    char buf[24];
    json_t *rng = json_array();
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "%016" PRIx64, st->rng.s[i]);
        json_array_append_new(rng, json_string(buf));
    }
    json_object_set_new(j, "step", json_integer(st->step));
    json_object_set_new(j, "steps", json_integer(o->steps));
    json_object_set_new(j, "data_rng", rng);
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed)); // > 2^63: negative
    json_object_set_new(j, "data", json_string(o->data));
    json_object_set_new(j, "data_bytes", json_integer((json_int_t)st->data_bytes));
    snprintf(buf, sizeof buf, "%016" PRIx64, st->data_hash);
    json_object_set_new(j, "data_fnv1a64", json_string(buf));
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
    // fp32 runs write what they always wrote.
    if (st->precision != VKT_PREC_FP32)
        json_object_set_new(j, "precision", json_string(vkt_precision_name(st->precision)));
    if (st->loss_scale > 0) {
        json_object_set_new(j, "loss_scale", json_real(st->loss_scale));
        json_object_set_new(j, "loss_scale_good_steps", json_integer(st->loss_scale_good));
    }
    if (st->changes && json_array_size(st->changes)) json_object_set(j, "changes", st->changes);
    vkt_status s = vkt_json_file_write(path, j, err);
    json_decref(j);
    return s;
}

// The options a state file holds: key, offset in vkt_train_opts, integer or real, range,
// the flag that sets it, and whether a resumed run may change it without --allow-change.
typedef struct {
    const char *key, *flag;
    size_t off;
    bool is_int, honoured;
    double lo, hi;
    unsigned bit;
} opt_def;

#define OFF(f) offsetof(vkt_train_opts, f)
static const opt_def defs[] = {
    {"lr", "--lr", OFF(lr), false, true, 0, 10, VKT_TRAIN_GIVEN_LR},
    {"min_lr", "--min-lr", OFF(min_lr), false, true, 0, 10, VKT_TRAIN_GIVEN_MIN_LR},
    {"warmup", "--warmup", OFF(warmup), true, true, 0, INT_MAX, VKT_TRAIN_GIVEN_WARMUP},
    {"weight_decay", "--weight-decay", OFF(weight_decay), false, true, 0, 10,
     VKT_TRAIN_GIVEN_WEIGHT_DECAY},
    {"max_grad_norm", "--clip", OFF(max_grad_norm), false, true, 0, 1e9, VKT_TRAIN_GIVEN_CLIP},
    {"batch", "--batch", OFF(batch), true, false, 1, 65536, VKT_TRAIN_GIVEN_BATCH},
    {"seq", "--seq", OFF(seq), true, false, 1, 1 << 20, VKT_TRAIN_GIVEN_SEQ},
    {"accum", "--accum", OFF(accum), true, false, 1, 65536, VKT_TRAIN_GIVEN_ACCUM},
    {"val_fraction", "--val-fraction", OFF(val_fraction), false, false, 0, 0.9,
     VKT_TRAIN_GIVEN_VAL_FRACTION},
};
#undef OFF
#define N_DEFS (sizeof defs / sizeof defs[0])

static double get_opt(const vkt_train_opts *o, const opt_def *d) {
    const char *p = (const char *)o + d->off;
    return d->is_int ? (double)*(const int *)p : *(const double *)p;
}

static void set_opt(vkt_train_opts *o, const opt_def *d, double v) {
    char *p = (char *)o + d->off;
    if (d->is_int)
        *(int *)p = (int)v;
    else
        *(double *)p = v;
}

// The value as JSON text, for messages ("\"x\"", "1e99", ...), shortened.
static void show(const json_t *v, char *out, size_t n) {
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(out, n, "%s", t ? t : "missing");
    if (t && strlen(t) >= n && n > 4) strcpy(out + n - 4, "...");
    free(t);
}

// A number in [lo, hi] (an integer when is_int) at key; absent: *present false.
static vkt_status get_number(const char *path, json_t *j, const char *key, bool is_int, double lo,
                             double hi, double *out, bool *present, vkt_error *err) {
    json_t *v = json_object_get(j, key);
    *present = v != NULL;
    if (!v) return VKT_OK;
    char txt[64];
    show(v, txt, sizeof txt);
    if (is_int ? !json_is_integer(v) : !json_is_number(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" is %s, not %s", path, key, txt,
                        is_int ? "an integer" : "a number");
    double x = is_int ? (double)json_integer_value(v) : json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" is %s, outside [%g, %g]", path, key, txt,
                        lo, hi);
    *out = x;
    return VKT_OK;
}

static vkt_status read_rng(const char *path, json_t *j, vkt_rng *rng, vkt_error *err) {
    json_t *a = json_object_get(j, "data_rng");
    if (!json_is_array(a) || json_array_size(a) != 4)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"data_rng\" is missing or not an array of 4 hex strings", path);
    uint64_t any = 0;
    for (int i = 0; i < 4; i++) {
        const char *h = json_string_value(json_array_get(a, (size_t)i));
        size_t n = h ? strlen(h) : 0, k = h ? strspn(h, "0123456789abcdefABCDEF") : 0;
        if (!h || n == 0 || n > 16 || k != n)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: \"data_rng\"[%d] is not a hex string of 1 to 16 digits", path, i);
        rng->s[i] = strtoull(h, NULL, 16);
        any |= rng->s[i];
    }
    if (!any) // xoshiro's one dead state: every later draw would be 0
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"data_rng\" is all zeros, a state the generator "
                        "never reaches",
                        path);
    return VKT_OK;
}

// The keys besides the options: step, steps, seed, data, format, data identity, changes.
static vkt_status read_run(const char *path, json_t *j, vkt_train_opts *saved, vkt_train_state *st,
                           vkt_error *err) {
    double x;
    bool present;
    VKT_TRY(get_number(path, j, "step", true, 0, INT_MAX, &x, &present, err));
    if (!present) return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"step\" is missing", path);
    st->step = (int)x;
    VKT_TRY(get_number(path, j, "steps", true, 1, INT_MAX, &x, &present, err));
    if (present) saved->steps = (int)x;
    json_t *v = json_object_get(j, "seed");
    if (v && !json_is_integer(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"seed\" is not an integer", path);
    if (v) saved->seed = (uint64_t)json_integer_value(v);
    if ((v = json_object_get(j, "data"))) {
        if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof st->data)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"data\" is not a file name", path);
        snprintf(st->data, sizeof st->data, "%s", json_string_value(v));
        saved->data = st->data;
    }
    if ((v = json_object_get(j, "format"))) {
        const char *f = json_string_value(v);
        if (!f || (strcmp(f, "text") && strcmp(f, "jsonl")))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"format\" is not \"text\" or \"jsonl\"",
                            path);
        saved->format = strcmp(f, "text") ? VKT_DATA_JSONL : VKT_DATA_TEXT;
    }
    json_t *hb = json_object_get(j, "data_bytes"), *hh = json_object_get(j, "data_fnv1a64");
    if (hb || hh) {
        const char *h = json_string_value(hh);
        if (!json_is_integer(hb) || json_integer_value(hb) < 0)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"data_bytes\" is not an integer >= 0", path);
        if (!h || !*h || strlen(h) > 16 || strspn(h, "0123456789abcdef") != strlen(h))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"data_fnv1a64\" is not a hex string", path);
        st->data_bytes = (uint64_t)json_integer_value(hb), st->data_hash = strtoull(h, NULL, 16);
        st->has_data_hash = true;
    }
    if ((v = json_object_get(j, "precision"))) {
        vkt_error e = {0};
        if (vkt_precision_parse(json_string_value(v), &st->precision, &e) != VKT_OK)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"precision\" is not fp32, bf16 or fp16",
                            path);
    }
    VKT_TRY(get_number(path, j, "loss_scale", false, 1, 16777216.0, &x, &present, err));
    if (present) st->loss_scale = x;
    VKT_TRY(get_number(path, j, "loss_scale_good_steps", true, 0, INT_MAX, &x, &present, err));
    if (present) st->loss_scale_good = (int)x;
    if ((v = json_object_get(j, "changes")) && !json_is_array(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"changes\" is not an array", path);
    st->changes = v ? json_incref(v) : json_array();
    return VKT_OK;
}

vkt_status vkt_train_state_read(const char *path, vkt_train_opts *saved, vkt_train_state *st,
                                vkt_error *err) {
    memset(st, 0, sizeof *st);
    vkt_train_defaults(saved);
    json_t *j;
    VKT_TRY(vkt_json_file_read(path, 1, &j, err));
    vkt_status s = read_rng(path, j, &st->rng, err);
    if (s == VKT_OK) s = read_run(path, j, saved, st, err);
    for (size_t i = 0; i < N_DEFS && s == VKT_OK; i++) {
        double x;
        bool present;
        s = get_number(path, j, defs[i].key, defs[i].is_int, defs[i].lo, defs[i].hi, &x, &present,
                       err);
        if (s == VKT_OK && present) set_opt(saved, &defs[i], x);
    }
    json_decref(j);
    if (s != VKT_OK) vkt_train_state_free(st);
    return s;
}

void vkt_train_state_free(vkt_train_state *st) {
    json_decref(st->changes);
    st->changes = NULL;
}

static void record(vkt_train_opts *o, vkt_train_state *st, const char *key, json_t *from,
                   json_t *to) {
    json_t *c = json_object();
    json_object_set_new(c, "step", json_integer(st->step));
    json_object_set_new(c, "option", json_string(key));
    json_object_set_new(c, "from", from);
    json_object_set_new(c, "to", to);
    json_array_append_new(st->changes, c);
    if (o->notice) {
        char a[96], b[96], msg[320];
        show(from, a, sizeof a), show(to, b, sizeof b);
        snprintf(msg, sizeof msg,
                 "%s changed from %s to %s at step %d (recorded in trainer_state.json)", key, a, b,
                 st->step);
        o->notice(o->user, msg);
    }
}

static vkt_status refuse(const char *flag, const char *now, const char *was, vkt_error *err) {
    return vkt_fail(err, VKT_ERR_ARG,
                    "%s %s: the checkpoint was trained with %s; a resumed run keeps it "
                    "(pass --allow-change to change it)",
                    flag, now, was);
}

// --data: the content decides (a moved file is the same data; a file edited in place is not).
static vkt_status merge_data(vkt_train_opts *o, const vkt_train_opts *saved, vkt_train_state *st,
                             uint64_t bytes, uint64_t hash, bool check_only, vkt_error *err) {
    const char *path = o->data ? o->data : saved->data;
    bool same = st->has_data_hash ? (bytes == st->data_bytes && hash == st->data_hash)
                                  : (!o->data || !saved->data || !strcmp(o->data, saved->data));
    char now[4200], was[4300];
    snprintf(now, sizeof now, "%s (%" PRIu64 " bytes, fnv1a64 %016" PRIx64 ")", path, bytes, hash);
    if (st->has_data_hash)
        snprintf(was, sizeof was, "%s (%" PRIu64 " bytes, fnv1a64 %016" PRIx64 ")", st->data,
                 st->data_bytes, st->data_hash);
    else
        snprintf(was, sizeof was, "%s", st->data);
    if (check_only) {
        if (!same && !o->allow_change)
            return vkt_fail(err, VKT_ERR_ARG,
                            "--data %s: not the data the checkpoint was trained on, %s; "
                            "pass --allow-change to train on it",
                            now, was);
        return VKT_OK;
    }
    if (!same)
        record(o, st, "data", json_string(was), json_string(now));
    else if (o->data && saved->data && strcmp(o->data, saved->data) && o->notice) {
        char msg[8800];
        snprintf(msg, sizeof msg, "--data %s has the content of the checkpoint's %s", o->data,
                 saved->data);
        o->notice(o->user, msg);
    }
    o->data = path;
    st->data_bytes = bytes, st->data_hash = hash, st->has_data_hash = true;
    return VKT_OK;
}

static vkt_status check_data(vkt_train_opts *o, const vkt_train_opts *saved, vkt_train_state *st,
                             uint64_t bytes, uint64_t hash, vkt_error *err) {
    return merge_data(o, saved, st, bytes, hash, true, err);
}

vkt_status vkt_train_state_merge(vkt_train_opts *o, const vkt_train_opts *saved,
                                 vkt_train_state *st, uint64_t data_bytes, uint64_t data_hash,
                                 vkt_error *err) {
    if (!o->data && !saved->data)
        return vkt_fail(err, VKT_ERR_ARG,
                        "--data: the checkpoint does not say what it was trained on; pass --data");
    // Every refusal before any change is recorded or told.
    for (size_t i = 0; i < N_DEFS && !o->allow_change; i++) {
        const opt_def *d = &defs[i];
        double was = get_opt(saved, d), now = get_opt(o, d);
        char a[40], b[40];
        snprintf(a, sizeof a, "%.17g", now), snprintf(b, sizeof b, "%.17g", was);
        if ((o->given & d->bit) && now != was && !d->honoured) return refuse(d->flag, a, b, err);
    }
    if (!o->allow_change && (o->given & VKT_TRAIN_GIVEN_SEED) && o->seed != saved->seed) {
        char a[24], b[24];
        snprintf(a, sizeof a, "%" PRIu64, o->seed), snprintf(b, sizeof b, "%" PRIu64, saved->seed);
        return refuse("--seed", a, b, err);
    }
    if (!o->allow_change && (o->given & VKT_TRAIN_GIVEN_FORMAT) && o->format != saved->format)
        return refuse("--format", o->format == VKT_DATA_TEXT ? "text" : "jsonl",
                      saved->format == VKT_DATA_TEXT ? "text" : "jsonl", err);
    VKT_TRY(check_data(o, saved, st, data_bytes, data_hash, err));
    for (size_t i = 0; i < N_DEFS; i++) {
        const opt_def *d = &defs[i];
        double was = get_opt(saved, d), now = get_opt(o, d);
        if (!(o->given & d->bit) || now == was) {
            set_opt(o, d, was);
            continue;
        }
        record(o, st, d->key, d->is_int ? json_integer((json_int_t)was) : json_real(was),
               d->is_int ? json_integer((json_int_t)now) : json_real(now));
    }
    if (o->steps <= 0)
        o->steps = saved->steps;
    else if (o->steps != saved->steps)
        record(o, st, "steps", json_integer(saved->steps), json_integer(o->steps));
    if ((o->given & VKT_TRAIN_GIVEN_SEED) && o->seed != saved->seed) {
        char a[24], b[24];
        snprintf(a, sizeof a, "%" PRIu64, o->seed), snprintf(b, sizeof b, "%" PRIu64, saved->seed);
        record(o, st, "seed", json_string(b), json_string(a));
        vkt_rng_seed(&st->rng, vkt_rng_derive(o->seed, 1 + (uint64_t)st->step)); // a new data order
    } else
        o->seed = saved->seed;
    if ((o->given & VKT_TRAIN_GIVEN_FORMAT) && o->format != saved->format) {
        const char *a = o->format == VKT_DATA_TEXT ? "text" : "jsonl";
        const char *b = saved->format == VKT_DATA_TEXT ? "text" : "jsonl";
        record(o, st, "format", json_string(b), json_string(a));
    } else
        o->format = saved->format;
    return merge_data(o, saved, st, data_bytes, data_hash, false, err);
}
