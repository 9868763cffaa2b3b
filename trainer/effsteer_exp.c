// effsteer_exp.c: measurements and directions of the efficiency-steering experiment
// (effsteer_exp.h).
#include "effsteer_exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

vkt_status vkt_eff_measure(vkt_gen *g, const vkt_eff_item *items, int n, const float *dirs, double temperature,
                           uint64_t seed, int max_new, vkt_eff_stats *out, vkt_eff_check *per_item, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "effsteer measure: %d items", n);
    vkt_gen_prompt *pr = calloc((size_t)n, sizeof *pr);
    int32_t *ids = calloc((size_t)n * VKT_EFF_PROMPT_MAX, sizeof *ids);
    vkt_gen_result *res = calloc((size_t)n, sizeof *res);
    if (!pr || !ids || !res) {
        free(pr), free(ids), free(res);
        return vkt_fail(err, VKT_ERR_NOMEM, "effsteer measure: %d items", n);
    }
    vkt_status s = VKT_OK;
    for (int i = 0; i < n && s == VKT_OK; i++) {
        char p[VKT_EFF_PROMPT_MAX];
        size_t len = vkt_eff_prompt(items[i].tag, items[i].x, items[i].y, p, sizeof p);
        if (!len) s = vkt_fail(err, VKT_ERR_ARG, "effsteer measure: item %d (tag %d, %d+%d) is not a task problem", i,
                               items[i].tag, items[i].x, items[i].y);
        int32_t *t = ids + (size_t)i * VKT_EFF_PROMPT_MAX;
        for (size_t k = 0; k < len; k++) t[k] = (unsigned char)p[k];  // byte-level tokens
        pr[i] = (vkt_gen_prompt){t, (int)len, (uint64_t)i};
    }
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = max_new;
    o.temperature = temperature;
    o.greedy = temperature <= 0;
    o.seed = seed;
    if (s == VKT_OK && (s = vkt_gen_set_edit(g, dirs)) != VKT_OK)
        vkt_fail(err, s, "effsteer measure: setting the edit failed");
    if (s == VKT_OK && (s = vkt_generate(g, pr, n, &o, res)) != VKT_OK)
        vkt_fail(err, s, "effsteer measure: generation failed");
    vkt_gen_set_edit(g, NULL);
    if (s == VKT_OK) {
        double tok = 0, tok2 = 0, lp = 0;
        int verbose = 0, rechecks = 0, correct = 0, exact = 0;
        for (int i = 0; i < n; i++) {
            vkt_eff_check c;
            vkt_eff_grade(res[i].text, res[i].text_len, items[i].x, items[i].y, &c);
            if (per_item) per_item[i] = c;
            tok += res[i].n, tok2 += (double)res[i].n * res[i].n, lp += res[i].mean_logprob;
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
    }
    for (int i = 0; i < n; i++) vkt_gen_result_free(&res[i]);
    free(pr), free(ids), free(res);
    return s;
}

void vkt_eff_dirs_free(vkt_eff_dirs *d) {
    free(d->trace), free(d->last), free(d->pc1), free(d->decision), free(d->h_norm);
    free(d->info_trace), free(d->info_last), free(d->info_pc1), free(d->info_decision);
    memset(d, 0, sizeof *d);
}

// Row j (1..lc) of a trace holds the token comp[j - 1] and predicts comp[j]: it is a
// decision row when that token ends a column line and the next line starts (in the
// concise trace "tens:" or "ans="; a verbose trace would write "verify:" there).
static bool decision_row(const char *comp, size_t lc, size_t j) {
    return j >= 2 && j < lc && comp[j - 1] == '\n' && (comp[j] == 't' || comp[j] == 'a');
}

// Prompt k = problem k / 16 under tag k % 16: the prompt's last token then the concise
// trace, captured from the last prompt token on (response_start = prompt length - 1).
vkt_status vkt_eff_directions(vkt_model *m, const int *xs, const int *ys, int n, vkt_eff_dirs *out,
                              vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "effsteer directions: %d problems", n);
    const vkt_model_config *cfg = vkt_model_cfg(m);
    const int L = cfg->layers, C = cfg->width, NP = n * VKT_EFF_TAGS;
    const int maxlen = VKT_EFF_PROMPT_MAX + VKT_EFF_COMPLETION_MAX;
    int32_t *tok = calloc((size_t)NP * maxlen, sizeof *tok);
    vkt_steer_prompt *sp = calloc((size_t)NP, sizeof *sp);
    int *trace_len = calloc((size_t)n, sizeof *trace_len);
    char *traces = calloc((size_t)n, VKT_EFF_COMPLETION_MAX);
    if (!tok || !sp || !trace_len || !traces) {
        free(tok), free(sp), free(trace_len), free(traces);
        return vkt_fail(err, VKT_ERR_NOMEM, "effsteer directions: %d problems", n);
    }
    vkt_status s = VKT_OK;
    for (int i = 0; i < n && s == VKT_OK; i++) {
        char prompts[VKT_EFF_TAGS][VKT_EFF_PROMPT_MAX], comp[VKT_EFF_COMPLETION_MAX];
        if ((s = vkt_eff_concise_under_tags(xs[i], ys[i], prompts, comp, err)) != VKT_OK) break;
        const size_t lc = strlen(comp);
        trace_len[i] = (int)lc;
        memcpy(traces + (size_t)i * VKT_EFF_COMPLETION_MAX, comp, lc + 1);
        for (int t = 0; t < VKT_EFF_TAGS; t++) {
            const size_t lp = strlen(prompts[t]);
            int32_t *q = tok + (size_t)(i * VKT_EFF_TAGS + t) * maxlen;
            for (size_t k = 0; k < lp; k++) q[k] = (unsigned char)prompts[t][k];
            for (size_t k = 0; k < lc; k++) q[lp + k] = (unsigned char)comp[k];
            sp[i * VKT_EFF_TAGS + t] = (vkt_steer_prompt){q, (int)(lp + lc), (int)lp - 1};
        }
    }
    vkt_steer_acts a = {0};
    if (s == VKT_OK) s = vkt_steer_capture(m, sp, NP, 0, L - 1, VKT_STEER_POS_RESPONSE, 16, &a, err);
    free(tok), free(sp);
    if (s != VKT_OK) {
        free(trace_len), free(traces);
        vkt_steer_acts_free(&a);
        return s;
    }
    // Row offsets: prompt k's rows start at row_start[k] (1 + trace_len rows each).
    int64_t *row_start = malloc((size_t)NP * sizeof *row_start);
    int64_t pairs = 0, dpairs = 0;
    for (int i = 0; i < n; i++) {
        pairs += trace_len[i];
        for (int j = 1; j <= trace_len[i]; j++)
            dpairs += decision_row(traces + (size_t)i * VKT_EFF_COMPLETION_MAX, (size_t)trace_len[i], (size_t)j);
    }
    float *pos = malloc((size_t)pairs * C * sizeof *pos), *neg = malloc((size_t)pairs * C * sizeof *neg);
    float *lpos = malloc((size_t)n * C * sizeof *lpos), *lneg = malloc((size_t)n * C * sizeof *lneg);
    float *dpos = malloc((size_t)(dpairs + 1) * C * sizeof *dpos), *dneg = malloc((size_t)(dpairs + 1) * C * sizeof *dneg);
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
    if (!row_start || !pos || !neg || !lpos || !lneg || !dpos || !dneg || !out->trace || !out->last || !out->pc1 ||
        !out->decision || !out->h_norm || !out->info_trace || !out->info_last || !out->info_pc1 || !out->info_decision)
        s = vkt_fail(err, VKT_ERR_NOMEM, "effsteer directions: %lld paired rows", (long long)pairs);
    if (s == VKT_OK) {
        int64_t r = 0;
        for (int k = 0; k < NP; k++) row_start[k] = r, r += 1 + trace_len[k / VKT_EFF_TAGS];
        if (r != a.rows) s = vkt_fail(err, VKT_ERR_ARG, "effsteer directions: captured %lld rows, expected %lld",
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
                        if (vkt_eff_tag_is_verbose(t)) sv += v;
                        else sc += v;
                    }
                    pp[c] = (float)(sv / nv), nn[c] = (float)(sc / nc);
                }
                if (j && decision_row(traces + (size_t)i * VKT_EFF_COMPLETION_MAX, (size_t)trace_len[i], (size_t)j)) {
                    memcpy(dpos + (size_t)dq * C, pp, (size_t)C * sizeof *pp);
                    memcpy(dneg + (size_t)dq * C, nn, (size_t)C * sizeof *nn);
                    dq++;
                }
            }
            q += trace_len[i];
        }
        out->h_norm[l] = hn / (double)hcount;
        float *dt = out->trace + (size_t)l * C, *dl = out->last + (size_t)l * C, *dp = out->pc1 + (size_t)l * C;
        s = vkt_steer_direction(pos, neg, (int)pairs, C, VKT_STEER_MEAN, dt, &out->info_trace[l], err);
        if (s == VKT_OK) s = vkt_steer_direction(lpos, lneg, n, C, VKT_STEER_MEAN, dl, &out->info_last[l], err);
        if (s == VKT_OK) s = vkt_steer_direction(pos, neg, (int)pairs, C, VKT_STEER_PCA, dp, &out->info_pc1[l], err);
        if (s == VKT_OK && dq > 0)
            s = vkt_steer_direction(dpos, dneg, (int)dq, C, VKT_STEER_MEAN, out->decision + (size_t)l * C,
                                    &out->info_decision[l], err);
        if (s != VKT_OK) vkt_fail_wrap(err, "effsteer directions, layer %d", l);
    }
    free(row_start), free(pos), free(neg), free(lpos), free(lneg), free(dpos), free(dneg), free(trace_len), free(traces);
    vkt_steer_acts_free(&a);
    if (s != VKT_OK) vkt_eff_dirs_free(out);
    return s;
}
