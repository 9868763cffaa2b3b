// gen_sample.c: sampling (temperature, top-k/p, greedy; per-token logprob, entropy and
// self-certainty, in double on the host) and the batched generation loop of generate.h,
// over the KV-cached forward of gen_forward.c.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finite.h"
#include "gen_internal.h"
#include "gen_text.h"
#include "rng.h"

// --- sampling (host, double) ----------------------------------------------------------

void vkt_gen_defaults(vkt_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_new_tokens = 64;
    o->temperature = 1.0;
    o->top_p = 1.0;
    o->stop_at_eot = true;
}

const char *vkt_finish_name(vkt_finish f) {
    switch (f) {
    case VKT_FINISH_LENGTH: return "length";
    case VKT_FINISH_STOP: return "stop";
    case VKT_FINISH_EOT: return "eot";
    case VKT_FINISH_CONTEXT: return "context";
    }
    return "?";
}

// logprob of `tok`, entropy and self-certainty of softmax(z) (temperature 1).
static void token_stats(const float *z, int V, int tok, float *lp, float *ent, float *sc) {
    double mx = -INFINITY;
    for (int j = 0; j < V; j++) mx = fmax(mx, z[j]);
    double sum = 0;
    for (int j = 0; j < V; j++) sum += exp((double)z[j] - mx);
    double lse = mx + log(sum), h = 0, slp = 0;
    for (int j = 0; j < V; j++) {
        double l = (double)z[j] - lse, p = exp(l);
        if (p > 0) h -= p * l;
        slp += l;
    }
    *lp = (float)((double)z[tok] - lse);
    *ent = (float)h;
    *sc = (float)(-log((double)V) - slp / V);
}

typedef struct {
    double z;
    int i;
} zi;
static int by_z_desc(const void *a, const void *b) {
    const zi *x = a, *y = b;
    if (x->z != y->z) return x->z > y->z ? -1 : 1;
    return x->i - y->i;
}

// Draws a token. Uses exactly one uniform from r, whatever the settings, so a sample's
// stream stays aligned step by step. scratch: V entries.
static int sample_token(const float *logits, int V, const vkt_gen_opts *o, vkt_rng *r,
                        zi *scratch) {
    double u = vkt_rng_uniform(r);
    if (o->greedy || o->temperature <= 0 || o->top_k == 1) {
        int best = 0;
        for (int j = 1; j < V; j++)
            if (logits[j] > logits[best]) best = j;
        return best;
    }
    const double T = o->temperature;
    int n = V;
    for (int j = 0; j < V; j++) scratch[j] = (zi){(double)logits[j] / T, j};
    bool filter = (o->top_k > 0 && o->top_k < V) || o->top_p < 1.0;
    if (filter) {
        qsort(scratch, (size_t)V, sizeof *scratch, by_z_desc);
        if (o->top_k > 0 && o->top_k < n) n = o->top_k;
    }
    double mx = -INFINITY;
    for (int j = 0; j < n; j++) mx = fmax(mx, scratch[j].z);
    double total = 0;
    for (int j = 0; j < n; j++) total += (scratch[j].z = exp(scratch[j].z - mx));
    if (o->top_p < 1.0) {
        // The smallest prefix (most probable first) whose mass reaches top_p.
        double cum = 0;
        int keep = n;
        for (int j = 0; j < n; j++) {
            cum += scratch[j].z;
            if (cum >= o->top_p * total) {
                keep = j + 1;
                break;
            }
        }
        n = keep, total = cum;
    }
    double target = u * total, cum = 0;
    for (int j = 0; j < n; j++) {
        cum += scratch[j].z;
        if (target < cum) return scratch[j].i;
    }
    return scratch[n - 1].i;
}

void vkt_gen_result_free(vkt_gen_result *r) {
    if (!r) return;
    free(r->tokens), free(r->logprob), free(r->entropy), free(r->self_certainty), free(r->text);
    memset(r, 0, sizeof *r);
}

typedef struct {
    int slot; // -1: waiting or done
    int fed;  // prompt tokens in the cache
    bool done;
    int32_t pending; // sampled token not yet fed
    vkt_rng rng;
    size_t text_cap;
} sample_state;

static void finish_means(vkt_gen_result *r) {
    double a = 0, b = 0, c = 0;
    for (int t = 0; t < r->n; t++)
        a += r->logprob[t], b += r->entropy[t], c += r->self_certainty[t];
    if (r->n)
        r->mean_logprob = a / r->n, r->mean_entropy = b / r->n, r->mean_self_certainty = c / r->n;
}

static vkt_status check_args(vkt_gen *g, const vkt_gen_prompt *prompts, int n,
                             const vkt_gen_opts *opts, vkt_gen_result *results) {
    const int V = vkt_model_cfg(g->m)->vocab;
    if (n < 0 || (n > 0 && (!prompts || !results)) || !opts || opts->max_new_tokens < 0 ||
        opts->n_stop < 0 || (opts->n_stop > 0 && !opts->stop) || !(opts->top_p > 0) ||
        opts->top_k < 0)
        return vkt_fail(g->err, VKT_ERR_ARG,
                        "generate: bad arguments (n=%d, max_new_tokens, top_p > 0, top_k >= 0)", n);
    for (int i = 0; i < n; i++) {
        if (prompts[i].n < 1 || prompts[i].n > g->Lmax || !prompts[i].ids)
            return vkt_fail(g->err, VKT_ERR_ARG, "generate: prompt %d has %d tokens (need 1..%d)",
                            i, prompts[i].n, g->Lmax);
        for (int t = 0; t < prompts[i].n; t++)
            if (prompts[i].ids[t] < 0 || prompts[i].ids[t] >= V)
                return vkt_fail(g->err, VKT_ERR_ARG,
                                "generate: prompt %d token %d is %d, outside the vocabulary "
                                "[0, %d)",
                                i, t, prompts[i].ids[t], V);
    }
    for (int i = 0; i < opts->n_stop; i++)
        if (!opts->stop[i] || !opts->stop[i][0])
            return vkt_fail(g->err, VKT_ERR_ARG, "generate: stop string %d is empty", i);
    return VKT_OK;
}

// One vkt_generate call: its arguments, the samples' state and the step buffers.
typedef struct gen_job {
    vkt_gen *g;
    const vkt_gen_prompt *prompts;
    const vkt_gen_opts *opts;
    vkt_gen_result *results;
    int n, V, cap;
    vkt_tok *tok;
    const int32_t *eos;
    int n_eos;
    sample_state *st;
    feed *fd;
    int *who, *slot_owner; // per feed: its sample; per slot: its sample or -1
    float *lg;
    zi *scratch;
    int next; // next prompt to admit
} gen_job;

// The step buffers and each sample's result arrays, RNG and state.
static vkt_status alloc_job(gen_job *j) {
    vkt_gen *g = j->g;
    j->st = calloc((size_t)j->n + 1, sizeof *j->st);
    j->fd = calloc((size_t)g->S, sizeof *j->fd);
    j->who = calloc((size_t)g->S, sizeof *j->who);
    j->slot_owner = malloc((size_t)g->S * sizeof *j->slot_owner);
    j->lg = malloc((size_t)g->S * j->V * sizeof *j->lg);
    j->scratch = malloc((size_t)j->V * sizeof *j->scratch);
    vkt_status s = VKT_OK;
    if (!j->st || !j->fd || !j->who || !j->slot_owner || !j->lg || !j->scratch)
        s = vkt_fail(g->err, VKT_ERR_NOMEM, "generate");
    const int cap = j->cap;
    for (int i = 0; s == VKT_OK && i < j->n; i++) {
        vkt_gen_result *r = &j->results[i];
        r->stop_index = -1;
        r->tokens = malloc(((size_t)cap + 1) * sizeof *r->tokens);
        r->logprob = malloc(((size_t)cap + 1) * sizeof *r->logprob);
        r->entropy = malloc(((size_t)cap + 1) * sizeof *r->entropy);
        r->self_certainty = malloc(((size_t)cap + 1) * sizeof *r->self_certainty);
        r->text = calloc(1, 64);
        j->st[i].text_cap = 64;
        j->st[i].slot = -1;
        vkt_rng_seed(&j->st[i].rng, vkt_rng_derive(j->opts->seed, j->prompts[i].stream));
        if (!r->tokens || !r->logprob || !r->entropy || !r->self_certainty || !r->text)
            s = vkt_fail(g->err, VKT_ERR_NOMEM, "generate results");
        if (cap == 0) j->st[i].done = true, r->finish = VKT_FINISH_LENGTH;
    }
    for (int k = 0; s == VKT_OK && k < g->S; k++) j->slot_owner[k] = -1;
    return s;
}

// Admits waiting prompts into free slots.
static void admit(gen_job *j) {
    for (int k = 0; k < j->g->S && j->next < j->n; k++) {
        if (j->slot_owner[k] >= 0) continue;
        while (j->next < j->n && j->st[j->next].done) j->next++;
        if (j->next >= j->n) break;
        j->slot_owner[k] = j->next, j->st[j->next].slot = k, j->g->len[k] = 0;
        j->next++;
    }
}

// Feeds in slot order: decoding samples one row each, then prompt chunks up to the row
// budget. Returns the number of feeds.
static int plan_feeds(gen_job *j) {
    vkt_gen *g = j->g;
    int budget = g->R, nf = 0;
    for (int k = 0; k < g->S; k++) {
        int i = j->slot_owner[k];
        if (i >= 0 && j->st[i].fed == j->prompts[i].n) budget--;
    }
    for (int k = 0; k < g->S; k++) {
        int i = j->slot_owner[k];
        if (i < 0) continue;
        sample_state *x = &j->st[i];
        if (x->fed == j->prompts[i].n) {
            j->fd[nf] = (feed){k, 1, &x->pending, i};
        } else {
            int take = j->prompts[i].n - x->fed;
            if (take > budget) take = budget;
            if (take <= 0) continue;
            budget -= take;
            j->fd[nf] = (feed){k, take, j->prompts[i].ids + x->fed, i};
        }
        j->who[nf++] = i;
    }
    return nf;
}

// After sampling id: the end of text token, or the text and its stop strings (*end).
static vkt_status stop_checks(gen_job *j, sample_state *x, vkt_gen_result *r, int id, bool *end) {
    const vkt_gen_opts *opts = j->opts;
    for (int e = 0; e < j->n_eos && opts->stop_at_eot && !*end; e++) *end = id == j->eos[e];
    if (*end) {
        r->finish = VKT_FINISH_EOT;
        return VKT_OK;
    }
    size_t from = r->text_len, at;
    if (!vkt_gen_text_append(j->tok, r, &x->text_cap, id))
        return vkt_fail(j->g->err, VKT_ERR_NOMEM, "generate text");
    int k = vkt_gen_text_stop(j->tok, r, from, opts->stop, opts->n_stop, &at);
    if (k >= 0) {
        r->finish = VKT_FINISH_STOP, r->stop_index = k, *end = true;
        if (!opts->include_stop) r->text_len = at, r->text[at] = 0;
    }
    return VKT_OK;
}

// Feed q's logits: completes its prompt, or samples the next token and checks the ends.
static vkt_status sample_step(gen_job *j, int q) {
    vkt_gen *g = j->g;
    const vkt_gen_opts *opts = j->opts;
    const int V = j->V, i = j->who[q];
    sample_state *x = &j->st[i];
    vkt_gen_result *r = &j->results[i];
    if (x->fed < j->prompts[i].n) {
        x->fed += j->fd[q].n;
        if (x->fed < j->prompts[i].n) return VKT_OK; // prompt not complete: nothing to sample yet
    }
    float *z = j->lg + (size_t)q * V;
    int64_t bad = opts->allow_nonfinite ? -1 : vkt_first_nonfinite(z, (size_t)V);
    if (bad >= 0)
        return vkt_fail(g->err, VKT_ERR_FORMAT,
                        "generate: sample %d, step %d: the model's logit for token %lld is %g, not "
                        "finite (the weights have diverged)",
                        i, r->n, (long long)bad, (double)z[bad]);
    if (opts->on_logits) opts->on_logits(opts->user, i, r->n, z, V);
    int id = sample_token(z, V, opts, &x->rng, j->scratch);
    token_stats(z, V, id, &r->logprob[r->n], &r->entropy[r->n], &r->self_certainty[r->n]);
    r->tokens[r->n++] = id;
    bool end = false;
    VKT_TRY(stop_checks(j, x, r, id, &end));
    if (!end && r->n >= j->cap) r->finish = VKT_FINISH_LENGTH, end = true;
    if (!end && g->len[x->slot] >= g->Lmax) r->finish = VKT_FINISH_CONTEXT, end = true;
    if (!end) {
        x->pending = id;
        return VKT_OK;
    }
    int kept = r->finish == VKT_FINISH_EOT ? r->n - 1 : r->n;
    VKT_TRY(vkt_gen_text_finish(j->tok, r, kept, g->err));
    x->done = true;
    j->slot_owner[x->slot] = -1;
    x->slot = -1;
    finish_means(r);
    return VKT_OK;
}

vkt_status vkt_generate(vkt_gen *g, const vkt_gen_prompt *prompts, int n, const vkt_gen_opts *opts,
                        vkt_gen_result *results) {
    VKT_TRY(check_args(g, prompts, n, opts, results));
    memset(results, 0, (size_t)n * sizeof *results);
    gen_job j = {.g = g,
                 .prompts = prompts,
                 .opts = opts,
                 .results = results,
                 .n = n,
                 .V = vkt_model_cfg(g->m)->vocab,
                 .cap = opts->max_new_tokens,
                 .tok = opts->tok};
    vkt_tok *own_tok = NULL;
    if (!j.tok && vkt_tok_byte(&own_tok, g->err) != VKT_OK) return VKT_ERR_NOMEM;
    if (!j.tok) j.tok = own_tok;
    j.eos = vkt_tok_eos_ids(j.tok, &j.n_eos);
    vkt_status s = alloc_job(&j);
    while (s == VKT_OK) {
        admit(&j);
        const int nf = plan_feeds(&j);
        if (nf == 0) break;
        s = vkt_gen_forward(g, nf, j.fd, false, NULL, NULL);
        if (s == VKT_OK) s = vkt_download(g->ctx, g->logits, j.lg, (uint64_t)nf * j.V * 4);
        for (int q = 0; s == VKT_OK && q < nf; q++) s = sample_step(&j, q);
    }
    if (s != VKT_OK)
        for (int i = 0; i < n; i++) vkt_gen_result_free(&results[i]);
    free(j.st), free(j.fd), free(j.who), free(j.slot_owner), free(j.lg), free(j.scratch);
    vkt_tok_free(own_tok);
    return s;
}
