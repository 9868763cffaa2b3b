// effsteer_exp.c: measurements and directions of the efficiency-steering experiment
// (effsteer_exp.h).
#include "effsteer_exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"

vkt_status vkt_eff_measure(vkt_gen *g, const vkt_eff_item *items, int n, const float *dirs,
                           double temperature, uint64_t seed, int max_new, vkt_eff_stats *out,
                           vkt_eff_check *per_item) {
    return vkt_eff_measure_enc(g, NULL, items, n, dirs, temperature, seed, max_new, out, per_item);
}

// Every item's prompt ids (ids[i], freed by the caller) as generation prompts on stream i.
static vkt_status encode_items(vkt_gen *g, const vkt_eff_enc *enc, const vkt_eff_item *items, int n,
                               vkt_tokens *ids, vkt_gen_prompt *pr, vkt_error *err) {
    for (int i = 0; i < n; i++) {
        if (vkt_eff_encode_prompt(enc, items[i].tag, items[i].x, items[i].y, &ids[i], err) !=
            VKT_OK)
            return vkt_fail_wrap(err, "effsteer measure: item %d", i);
        if (ids[i].n < 1 || ids[i].n >= (size_t)vkt_gen_max_len(g))
            return vkt_fail(
                err, VKT_ERR_ARG,
                "effsteer measure: item %d's prompt has %zu tokens; the generation plan "
                "holds %d positions",
                i, ids[i].n, vkt_gen_max_len(g));
        pr[i] = (vkt_gen_prompt){ids[i].ids, (int)ids[i].n, (uint64_t)i};
    }
    return VKT_OK;
}

static void average(const vkt_eff_enc *enc, const vkt_eff_item *items, int n,
                    const vkt_gen_result *res, vkt_eff_stats *out, vkt_eff_check *per_item) {
    double tok = 0, tok2 = 0, lp = 0, bytes = 0;
    int verbose = 0, rechecks = 0, correct = 0, exact = 0;
    for (int i = 0; i < n; i++) {
        vkt_eff_check c;
        vkt_eff_grade_response(enc, res[i].text, res[i].text_len, items[i].x, items[i].y, &c);
        if (per_item) per_item[i] = c;
        tok += res[i].n, tok2 += (double)res[i].n * res[i].n, lp += res[i].mean_logprob;
        bytes += (double)res[i].text_len;
        verbose += c.verbose, rechecks += c.rechecks, correct += c.correct, exact += c.exact;
    }
    out->n = n;
    out->mean_tokens = tok / n;
    out->sd_tokens = sqrt(fmax(0, tok2 / n - out->mean_tokens * out->mean_tokens));
    out->verbose_frac = (double)verbose / n;
    out->recheck_rate = (double)rechecks / (n * (double)VKT_EFF_DECISIONS);
    out->accuracy = (double)correct / n;
    out->exact = (double)exact / n;
    out->mean_logprob = lp / n;
    out->mean_bytes = bytes / n;
}

vkt_status vkt_eff_measure_enc(vkt_gen *g, const vkt_eff_enc *enc, const vkt_eff_item *items, int n,
                               const float *dirs, double temperature, uint64_t seed, int max_new,
                               vkt_eff_stats *out, vkt_eff_check *per_item) {
    vkt_error *err = vkt_ctx_err(vkt_gen_ctx(g));
    memset(out, 0, sizeof *out);
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "effsteer measure: %d items", n);
    vkt_gen_prompt *pr = calloc((size_t)n, sizeof *pr);
    vkt_tokens *ids = calloc((size_t)n, sizeof *ids);
    vkt_gen_result *res = calloc((size_t)n, sizeof *res);
    if (!pr || !ids || !res) {
        free(pr), free(ids), free(res);
        return vkt_fail(err, VKT_ERR_NOMEM, "effsteer measure: %d items", n);
    }
    vkt_status s = encode_items(g, enc, items, n, ids, pr, err);
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = max_new;
    o.temperature = temperature;
    o.greedy = temperature <= 0;
    o.seed = seed;
    if (!vkt_eff_enc_is_bytes(enc)) o.tok = enc->tok; // decoded text, the tokenizer's EOS ids
    if (s == VKT_OK && (s = vkt_gen_set_edit(g, dirs)) != VKT_OK)
        vkt_fail_wrap(err, "effsteer measure: setting the edit failed");
    if (s == VKT_OK && (s = vkt_generate(g, pr, n, &o, res)) != VKT_OK)
        vkt_fail_wrap(err, "effsteer measure: generation failed");
    vkt_gen_set_edit(g, NULL);
    if (s == VKT_OK) average(enc, items, n, res, out, per_item);
    for (int i = 0; i < n; i++) vkt_gen_result_free(&res[i]), vkt_tokens_free(&ids[i]);
    free(pr), free(ids), free(res);
    return s;
}

void vkt_eff_dirs_free(vkt_eff_dirs *d) {
    free(d->trace), free(d->last), free(d->pc1), free(d->decision), free(d->h_norm);
    free(d->info_trace), free(d->info_last), free(d->info_pc1), free(d->info_decision);
    memset(d, 0, sizeof *d);
}

// The teacher-forced rows: prompt k = problem k / 16 under tag k % 16, its prompt ids then
// the concise trace's ids, captured from the last prompt token on (response_start = prompt
// length - 1). Row j (1..trace_len) of a trace holds trace token j - 1 and predicts token j.
typedef struct {
    vkt_tokens *ids;      // (NP)
    vkt_steer_prompt *sp; // (NP)
    int *trace_len;       // (n) trace tokens of problem i
    int64_t *trace_first; // (n) problem i's first entry in is_dec
    bool *is_dec; // trace row j of problem i is a decision row: is_dec[trace_first[i] + j - 1]
} trace_rows;

static void trace_rows_free(trace_rows *r, int NP) {
    for (int k = 0; r->ids && k < NP; k++) vkt_tokens_free(&r->ids[k]);
    free(r->ids), free(r->sp), free(r->trace_len), free(r->trace_first), free(r->is_dec);
    memset(r, 0, sizeof *r);
}

static vkt_status trace_rows_build(const vkt_eff_enc *enc, const int *xs, const int *ys, int n,
                                   trace_rows *r, vkt_error *err) {
    const int NP = n * VKT_EFF_TAGS;
    r->ids = calloc((size_t)NP, sizeof *r->ids);
    r->sp = calloc((size_t)NP, sizeof *r->sp);
    r->trace_len = calloc((size_t)n, sizeof *r->trace_len);
    r->trace_first = calloc((size_t)n + 1, sizeof *r->trace_first);
    if (!r->ids || !r->sp || !r->trace_len || !r->trace_first)
        return vkt_fail(err, VKT_ERR_NOMEM, "effsteer directions: %d problems", n);
    for (int i = 0; i < n; i++) {
        char prompts[VKT_EFF_TAGS][VKT_EFF_PROMPT_MAX], comp[VKT_EFF_COMPLETION_MAX];
        VKT_TRY(vkt_eff_concise_under_tags(xs[i], ys[i], prompts, comp, err));
        vkt_tokens cids = {0};
        int *ends = NULL;
        vkt_status s = vkt_eff_encode_completion(enc, comp, &cids, &ends, err);
        const int lc = (int)cids.n;
        r->trace_len[i] = lc;
        r->trace_first[i + 1] = r->trace_first[i] + lc;
        bool *d = s == VKT_OK ? realloc(r->is_dec, (size_t)(r->trace_first[i + 1] + 1) * sizeof *d)
                              : NULL;
        if (s == VKT_OK && !d)
            s = vkt_fail(err, VKT_ERR_NOMEM, "effsteer directions: decision rows");
        if (d) r->is_dec = d;
        for (int j = 1; s == VKT_OK && j <= lc; j++)
            d[r->trace_first[i] + j - 1] =
                vkt_eff_decision_at(comp, strlen(comp), (size_t)ends[j - 1]);
        for (int t = 0; t < VKT_EFF_TAGS && s == VKT_OK; t++) {
            vkt_tokens *q = &r->ids[i * VKT_EFF_TAGS + t];
            s = vkt_eff_encode_prompt(enc, t, xs[i], ys[i], q, err);
            const int lp = (int)q->n;
            for (int k = 0; k < lc && s == VKT_OK; k++) s = vkt_tokens_push(q, cids.ids[k], err);
            if (s == VKT_OK)
                r->sp[i * VKT_EFF_TAGS + t] = (vkt_steer_prompt){q->ids, lp + lc, lp - 1};
        }
        vkt_tokens_free(&cids), free(ends);
        VKT_TRY(s);
    }
    return VKT_OK;
}

vkt_status vkt_eff_directions(vkt_model *m, const int *xs, const int *ys, int n,
                              vkt_eff_dirs *out) {
    return vkt_eff_directions_enc(m, NULL, xs, ys, n, out);
}

vkt_status vkt_eff_directions_enc(vkt_model *m, const vkt_eff_enc *enc, const int *xs,
                                  const int *ys, int n, vkt_eff_dirs *out) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    memset(out, 0, sizeof *out);
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "effsteer directions: %d problems", n);
    const vkt_model_config *cfg = vkt_model_cfg(m);
    const int L = cfg->layers, C = cfg->width, NP = n * VKT_EFF_TAGS;
    trace_rows tr = {0};
    vkt_status s = trace_rows_build(enc, xs, ys, n, &tr, err);
    vkt_steer_acts a = {0};
    if (s == VKT_OK) s = vkt_steer_capture(m, tr.sp, NP, 0, L - 1, VKT_STEER_POS_RESPONSE, 16, &a);
    const int *trace_len = tr.trace_len;
    if (s != VKT_OK) {
        trace_rows_free(&tr, NP);
        vkt_steer_acts_free(&a);
        return s;
    }
    // Row offsets: prompt k's rows start at row_start[k] (1 + trace_len rows each).
    int64_t *row_start = malloc((size_t)NP * sizeof *row_start);
    int64_t pairs = 0, dpairs = 0;
    for (int i = 0; i < n; i++) {
        pairs += trace_len[i];
        for (int j = 1; j <= trace_len[i]; j++) dpairs += tr.is_dec[tr.trace_first[i] + j - 1];
    }
    float *pos = malloc((size_t)pairs * C * sizeof *pos),
          *neg = malloc((size_t)pairs * C * sizeof *neg);
    float *lpos = malloc((size_t)n * C * sizeof *lpos),
          *lneg = malloc((size_t)n * C * sizeof *lneg);
    float *dpos = malloc((size_t)(dpairs + 1) * C * sizeof *dpos),
          *dneg = malloc((size_t)(dpairs + 1) * C * sizeof *dneg);
    out->L = L, out->C = C;
    out->trace = calloc((size_t)L * C, sizeof(float));
    out->last = calloc((size_t)L * C, sizeof(float));
    out->pc1 = calloc((size_t)L * C, sizeof(float));
    out->decision = calloc((size_t)L * C, sizeof(float));
    out->h_norm = calloc((size_t)L, sizeof(double));
    out->info_trace = calloc((size_t)L, sizeof(vkt_steer_dir_info));
    out->info_last = calloc((size_t)L, sizeof(vkt_steer_dir_info));
    out->info_pc1 = calloc((size_t)L, sizeof(vkt_steer_dir_info));
    out->info_decision = calloc((size_t)L, sizeof(vkt_steer_dir_info));
    if (!row_start || !pos || !neg || !lpos || !lneg || !dpos || !dneg || !out->trace ||
        !out->last || !out->pc1 || !out->decision || !out->h_norm || !out->info_trace ||
        !out->info_last || !out->info_pc1 || !out->info_decision)
        s = vkt_fail(err, VKT_ERR_NOMEM, "effsteer directions: %lld paired rows", (long long)pairs);
    if (s == VKT_OK) {
        int64_t r = 0;
        for (int k = 0; k < NP; k++) row_start[k] = r, r += 1 + trace_len[k / VKT_EFF_TAGS];
        if (r != a.rows)
            s = vkt_fail(err, VKT_ERR_ARG, "effsteer directions: captured %lld rows, expected %lld",
                         (long long)a.rows, (long long)r);
    }
    int nv = 0, nc = 0;
    for (int t = 0; t < VKT_EFF_TAGS; t++) vkt_eff_tag_is_verbose(t) ? nv++ : nc++;
    for (int l = 0; l < L && s == VKT_OK; l++) {
        const float *h = vkt_steer_acts_layer(&a, l);
        double hn = 0;
        int64_t hcount = 0, q = 0, dq = 0;
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < VKT_EFF_TAGS; t++)
                for (int j = 1; j <= trace_len[i]; j++) {
                    const float *row = h + (size_t)(row_start[i * VKT_EFF_TAGS + t] + j) * C;
                    double ss = 0;
                    for (int c = 0; c < C; c++) ss += (double)row[c] * row[c];
                    hn += sqrt(ss), hcount++;
                }
            // j = 0 is the last prompt token; 1..trace_len the trace.
            for (int j = 0; j <= trace_len[i]; j++) {
                float *pp = j ? pos + (size_t)(q + j - 1) * C : lpos + (size_t)i * C;
                float *nn = j ? neg + (size_t)(q + j - 1) * C : lneg + (size_t)i * C;
                for (int c = 0; c < C; c++) {
                    double sv = 0, sc = 0;
                    for (int t = 0; t < VKT_EFF_TAGS; t++) {
                        const double v = h[(size_t)(row_start[i * VKT_EFF_TAGS + t] + j) * C + c];
                        if (vkt_eff_tag_is_verbose(t))
                            sv += v;
                        else
                            sc += v;
                    }
                    pp[c] = (float)(sv / nv), nn[c] = (float)(sc / nc);
                }
                if (j && tr.is_dec[tr.trace_first[i] + j - 1]) {
                    memcpy(dpos + (size_t)dq * C, pp, (size_t)C * sizeof *pp);
                    memcpy(dneg + (size_t)dq * C, nn, (size_t)C * sizeof *nn);
                    dq++;
                }
            }
            q += trace_len[i];
        }
        out->h_norm[l] = hn / (double)hcount;
        float *dt = out->trace + (size_t)l * C, *dl = out->last + (size_t)l * C,
              *dp = out->pc1 + (size_t)l * C;
        s = vkt_steer_direction(pos, neg, (int)pairs, C, VKT_STEER_MEAN, dt, &out->info_trace[l],
                                err);
        if (s == VKT_OK)
            s = vkt_steer_direction(lpos, lneg, n, C, VKT_STEER_MEAN, dl, &out->info_last[l], err);
        if (s == VKT_OK)
            s = vkt_steer_direction(pos, neg, (int)pairs, C, VKT_STEER_PCA, dp, &out->info_pc1[l],
                                    err);
        if (s == VKT_OK && dq > 0)
            s = vkt_steer_direction(dpos, dneg, (int)dq, C, VKT_STEER_MEAN,
                                    out->decision + (size_t)l * C, &out->info_decision[l], err);
        if (s != VKT_OK) vkt_fail_wrap(err, "effsteer directions, layer %d", l);
    }
    out->decision_rows = dpairs;
    free(row_start), free(pos), free(neg), free(lpos), free(lneg), free(dpos), free(dneg);
    trace_rows_free(&tr, NP);
    vkt_steer_acts_free(&a);
    if (s != VKT_OK) vkt_eff_dirs_free(out);
    return s;
}
