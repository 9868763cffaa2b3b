// gen_sample.c: sampling (temperature, top-k/p, greedy; per-token logprob, entropy and
// self-certainty, in double on the host) and the batched generation loop of generate.h,
// over the KV-cached forward of model_gen.c.
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
static int sample_token(const float *logits, int V, const vkt_gen_opts *o, vkt_rng *r, zi *scratch) {
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
    int slot;        // -1: waiting or done
    int fed;         // prompt tokens in the cache
    bool done;
    int32_t pending; // sampled token not yet fed
    vkt_rng rng;
    size_t text_cap;
} sample_state;

static void finish_means(vkt_gen_result *r) {
    double a = 0, b = 0, c = 0;
    for (int t = 0; t < r->n; t++) a += r->logprob[t], b += r->entropy[t], c += r->self_certainty[t];
    if (r->n) r->mean_logprob = a / r->n, r->mean_entropy = b / r->n, r->mean_self_certainty = c / r->n;
}

vkt_status vkt_generate(vkt_gen *g, const vkt_gen_prompt *prompts, int n, const vkt_gen_opts *opts,
                        vkt_gen_result *results) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    const int V = c->vocab;
    if (n < 0 || (n > 0 && (!prompts || !results)) || !opts || opts->max_new_tokens < 0 || opts->n_stop < 0 ||
        (opts->n_stop > 0 && !opts->stop) || !(opts->top_p > 0) || opts->top_k < 0)
        return vkt_fail(g->err, VKT_ERR_ARG, "generate: bad arguments (n=%d, max_new_tokens, top_p > 0, top_k >= 0)", n);
    for (int i = 0; i < n; i++) {
        if (prompts[i].n < 1 || prompts[i].n > g->Lmax || !prompts[i].ids)
            return vkt_fail(g->err, VKT_ERR_ARG, "generate: prompt %d has %d tokens (need 1..%d)", i, prompts[i].n,
                            g->Lmax);
        for (int t = 0; t < prompts[i].n; t++)
            if (prompts[i].ids[t] < 0 || prompts[i].ids[t] >= V)
                return vkt_fail(g->err, VKT_ERR_ARG, "generate: prompt %d token %d is %d, outside the vocabulary [0, %d)",
                                i, t, prompts[i].ids[t], V);
    }
    for (int i = 0; i < opts->n_stop; i++)
        if (!opts->stop[i] || !opts->stop[i][0]) return vkt_fail(g->err, VKT_ERR_ARG, "generate: stop string %d is empty", i);
    memset(results, 0, (size_t)n * sizeof *results);
    vkt_tok *tok = opts->tok, *own_tok = NULL;
    if (!tok && vkt_tok_byte(&own_tok, g->err) != VKT_OK) return VKT_ERR_NOMEM;
    if (!tok) tok = own_tok;
    int n_eos = 0;
    const int32_t *eos = vkt_tok_eos_ids(tok, &n_eos);
    sample_state *st = calloc((size_t)n + 1, sizeof *st);
    feed *fd = calloc((size_t)g->S, sizeof *fd);
    int *who = calloc((size_t)g->S, sizeof *who), *slot_owner = malloc((size_t)g->S * sizeof *slot_owner);
    float *lg = malloc((size_t)g->S * V * sizeof *lg);
    zi *scratch = malloc((size_t)V * sizeof *scratch);
    vkt_status s = VKT_OK;
    if (!st || !fd || !who || !slot_owner || !lg || !scratch) s = vkt_fail(g->err, VKT_ERR_NOMEM, "generate");
    const int cap = opts->max_new_tokens;
    for (int i = 0; s == VKT_OK && i < n; i++) {
        vkt_gen_result *r = &results[i];
        r->stop_index = -1;
        r->tokens = malloc(((size_t)cap + 1) * sizeof *r->tokens);
        r->logprob = malloc(((size_t)cap + 1) * sizeof *r->logprob);
        r->entropy = malloc(((size_t)cap + 1) * sizeof *r->entropy);
        r->self_certainty = malloc(((size_t)cap + 1) * sizeof *r->self_certainty);
        r->text = calloc(1, 64);
        st[i].text_cap = 64;
        st[i].slot = -1;
        vkt_rng_seed(&st[i].rng, vkt_rng_derive(opts->seed, prompts[i].stream));
        if (!r->tokens || !r->logprob || !r->entropy || !r->self_certainty || !r->text)
            s = vkt_fail(g->err, VKT_ERR_NOMEM, "generate results");
        if (cap == 0) st[i].done = true, r->finish = VKT_FINISH_LENGTH;
    }
    for (int k = 0; k < g->S; k++) slot_owner[k] = -1;
    int next = 0; // next prompt to admit
    while (s == VKT_OK) {
        // Admit waiting prompts into free slots.
        for (int k = 0; k < g->S && next < n; k++) {
            if (slot_owner[k] >= 0) continue;
            while (next < n && st[next].done) next++;
            if (next >= n) break;
            slot_owner[k] = next, st[next].slot = k, g->len[k] = 0;
            next++;
        }
        // Feeds in slot order: decoding samples one row each, then prompt chunks up to the row budget.
        int budget = g->R, nf = 0;
        for (int k = 0; k < g->S; k++) {
            int i = slot_owner[k];
            if (i >= 0 && st[i].fed == prompts[i].n) budget--;
        }
        for (int k = 0; k < g->S; k++) {
            int i = slot_owner[k];
            if (i < 0) continue;
            if (st[i].fed == prompts[i].n) {
                fd[nf] = (feed){k, 1, &st[i].pending, i};
            } else {
                int take = prompts[i].n - st[i].fed;
                if (take > budget) take = budget;
                if (take <= 0) continue;
                budget -= take;
                fd[nf] = (feed){k, take, prompts[i].ids + st[i].fed, i};
            }
            who[nf++] = i;
        }
        if (nf == 0) break;
        s = vkt_gen_forward(g, nf, fd, false, NULL, NULL);
        if (s == VKT_OK) s = vkt_download(g->ctx, g->logits, lg, (uint64_t)nf * V * 4);
        for (int q = 0; s == VKT_OK && q < nf; q++) {
            int i = who[q];
            sample_state *x = &st[i];
            vkt_gen_result *r = &results[i];
            if (x->fed < prompts[i].n) {
                x->fed += fd[q].n;
                if (x->fed < prompts[i].n) continue; // prompt not complete: nothing to sample yet
            }
            float *z = lg + (size_t)q * V;
            int64_t bad = opts->allow_nonfinite ? -1 : vkt_first_nonfinite(z, (size_t)V);
            if (bad >= 0) {
                s = vkt_fail(g->err, VKT_ERR_FORMAT,
                             "generate: sample %d, step %d: the model's logit for token %lld is %g, not finite "
                             "(the weights have diverged)", i, r->n, (long long)bad, (double)z[bad]);
                break;
            }
            if (opts->on_logits) opts->on_logits(opts->user, i, r->n, z, V);
            int id = sample_token(z, V, opts, &x->rng, scratch);
            token_stats(z, V, id, &r->logprob[r->n], &r->entropy[r->n], &r->self_certainty[r->n]);
            r->tokens[r->n++] = id;
            bool end = false;
            for (int e = 0; e < n_eos && opts->stop_at_eot && !end; e++) end = id == eos[e];
            if (end) {
                r->finish = VKT_FINISH_EOT;
            } else {
                size_t from = r->text_len, at;
                if (!vkt_gen_text_append(tok, r, &x->text_cap, id)) {
                    s = vkt_fail(g->err, VKT_ERR_NOMEM, "generate text");
                    break;
                }
                int k = vkt_gen_text_stop(tok, r, from, opts->stop, opts->n_stop, &at);
                if (k >= 0) {
                    r->finish = VKT_FINISH_STOP, r->stop_index = k, end = true;
                    if (!opts->include_stop) r->text_len = at, r->text[at] = 0;
                }
            }
            if (!end && r->n >= cap) r->finish = VKT_FINISH_LENGTH, end = true;
            if (!end && g->len[x->slot] >= g->Lmax) r->finish = VKT_FINISH_CONTEXT, end = true;
            if (end) {
                int kept = r->finish == VKT_FINISH_EOT ? r->n - 1 : r->n;
                if ((s = vkt_gen_text_finish(tok, r, kept, g->err)) != VKT_OK) break;
                x->done = true;
                slot_owner[x->slot] = -1;
                x->slot = -1;
                finish_means(r);
            } else {
                x->pending = id;
            }
        }
    }
    if (s != VKT_OK)
        for (int i = 0; i < n; i++) vkt_gen_result_free(&results[i]);
    free(st), free(fd), free(who), free(slot_owner), free(lg), free(scratch);
    vkt_tok_free(own_tok);
    return s;
}

