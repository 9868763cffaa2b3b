// rl_selfplay.c: a self-play run's init, free and update (see rl_selfplay.h). The update is
// phases over one workspace that the run owns: its buffers grow to the largest update seen
// and are reused, so an update allocates nothing on the host beyond the rollout's own.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context.h"
#include "rl_batch.h"
#include "rl_sp_internal.h"
#include "rl_uniform.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void vkt_rl_sp_gen_opts(vkt_gen_opts *g, int max_new_tokens) {
    vkt_gen_defaults(g);
    g->max_new_tokens = max_new_tokens;
    g->temperature = 1.0;
}

void vkt_rl_sp_mix_blocks(const vkt_rl_mix *mx, int G, const int *replays,
                          vkt_rl_rollout_opts *ro) {
    ro->n_specs = mx->n;
    for (int i = 0; i < mx->n; i++) {
        ro->specs[i] = mx->g[i].spec;
        ro->count[i] = vkt_rl_mix_share(mx, G, i);
        ro->spec_replays[i] = replays ? replays[i] : 1;
    }
}

// The KL reference: a second model of the same configuration holding a copy of m's
// parameters, with its own scoring plan. A copy rather than swapping parameters in and
// out of m: the policy's buffers are never overwritten (a failure mid-scoring cannot leave
// it holding the reference), and no parameter upload per update; the cost is one more
// parameter set (and its unused gradient buffer) and a KV cache, small at this scale.
static vkt_status make_ref(vkt_rl_sp *s, int seqs) {
    vkt_model *m = s->m;
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    const vkt_params *ps = vkt_model_params(m);
    float *h = malloc(ps->total * sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: reference parameters");
    vkt_status st = vkt_model_get_params(m, h) == VKT_OK
                        ? VKT_OK
                        : vkt_fail_wrap(err, "selfplay: reading the parameters");
    if (st == VKT_OK) st = vkt_model_create(vkt_model_ctx(m), vkt_model_cfg(m), &s->ref);
    if (st == VKT_OK && vkt_model_set_params(s->ref, h) != VKT_OK)
        st = vkt_fail_wrap(err, "selfplay: reference parameters");
    if (st == VKT_OK && vkt_gen_create(s->ref, seqs, s->gen_len, 0, &s->ref_gen) != VKT_OK)
        st = vkt_fail_wrap(err, "selfplay: reference scoring plan");
    free(h);
    return st;
}

vkt_status vkt_rl_sp_plan_bytes(vkt_model *m, const vkt_rl_sp_opts *o, uint64_t *bytes) {
    *bytes = 0;
    vkt_rl_sp *s = malloc(sizeof *s);
    if (!s) return vkt_fail(vkt_ctx_err(vkt_model_ctx(m)), VKT_ERR_NOMEM, "selfplay: plan");
    int seqs = 0;
    vkt_status st = vkt_rl_sp_plan(s, m, o, &seqs);
    if (st == VKT_OK) {
        const uint64_t gen = vkt_gen_bytes(m, seqs, s->gen_len, 0);
        *bytes = gen + vkt_model_plan_bytes(m, s->o.micro_rows, s->planned_T);
        // The KL reference: a second fp32 model with gradients and moments, and its own plan.
        if (o->pg.kl_coef > 0) *bytes += vkt_model_params(m)->total * 16 + gen;
    }
    vkt_rl_fmt_free(&s->fmt);
    free(s);
    return st;
}

vkt_status vkt_rl_sp_init(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *o) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    int seqs = 0;
    VKT_TRY(vkt_rl_sp_plan(s, m, o, &seqs));
    vkt_rae_init(&s->rae, o->rae_alpha);
    if (vkt_gen_create(m, seqs, s->gen_len, 0, &s->gen) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: generation plan");
    if (vkt_model_zero_grads(m) != VKT_OK) return vkt_fail_wrap(err, "selfplay: zero gradients");
    if (o->pg.kl_coef > 0) VKT_TRY(make_ref(s, seqs));
    if (vkt_model_plan(m, s->o.micro_rows, s->planned_T) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: plan");
    return VKT_OK;
}

// --- the update's workspace ----------------------------------------------------------

typedef struct wbuf {
    void *p;
    size_t bytes;
} wbuf;

// The buffers: per turn, per training row, per token, and one micro-batch's rows.
enum {
    W_R,
    W_A,
    W_KEY,
    W_ADV,
    W_IDX,
    W_SUBR,
    W_SUBA,
    W_SUBK,
    W_GA,
    W_START,
    W_SEQS,
    W_PR,
    W_CONT,
    W_NCONT,
    W_LPO,
    W_LRO,
    W_ATOK,
    W_LPF,
    W_W,
    W_EC,
    W_LP_OLD,
    W_LP_NEW,
    W_LRF,
    W_LP_REF,
    W_TOK,
    W_TGT,
    W_WT,
    W_CT,
    W_COUNT
};

struct vkt_rl_sp_work {
    wbuf b[W_COUNT];
};

// Buffer k of s's workspace with room for n elements of `size` bytes (at least one byte;
// its contents are not kept when it grows); NULL when out of memory.
static void *need(vkt_rl_sp *s, int k, size_t n, size_t size) {
    if (!s->work && !(s->work = calloc(1, sizeof *s->work))) return NULL;
    wbuf *b = &s->work->b[k];
    const size_t bytes = n * size > 0 ? n * size : 1;
    if (bytes > b->bytes) {
        free(b->p);
        b->p = malloc(bytes);
        b->bytes = b->p ? bytes : 0;
    }
    return b->p;
}

void vkt_rl_sp_free(vkt_rl_sp *s) {
    vkt_gen_destroy(s->gen);
    vkt_gen_destroy(s->ref_gen);
    vkt_model_destroy(s->ref);
    vkt_rl_fmt_free(&s->fmt);
    for (int k = 0; s->work && k < W_COUNT; k++) free(s->work->b[k].p);
    free(s->work);
    s->gen = s->ref_gen = NULL;
    s->ref = NULL;
    s->work = NULL;
}

void vkt_rl_sp_avg_policy(const vkt_rl_sp *s, const vkt_kuhn_policy *latest, vkt_kuhn_policy *avg) {
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        avg->bet[i] = s->avg_den > 0 ? s->avg_num[i] / s->avg_den : latest->bet[i];
}

double vkt_rl_sp_kl_uniform_at(const vkt_rl_sp *s, int64_t games) {
    const double T = (double)s->o.games_target, from = T * (1 - s->kl_anneal);
    if (!(s->kl_anneal > 0) || games <= from) return s->kl_uniform;
    const double t = games >= T ? 1 : (games - from) / (T - from);
    return s->kl_uniform + t * (s->o.kl_uniform_end - s->kl_uniform);
}

// --- one update ----------------------------------------------------------------------

// One update between its phases; the arrays are views of s->work.
typedef struct upd {
    vkt_rl_sp *s;
    vkt_error *err; // the run's channel: its model's context
    vkt_rl_sp_stats st;
    vkt_rl_rollout r;
    bool played;                // r holds a rollout (to free)
    vkt_rl_uniform u;           // the KL-to-uniform rows, trained after the PG rows
    double C_uni;               // this update's (annealed) KL-to-uniform coefficient
    int N, U, K;                // turns; uniform rows; kept turns (the PG rows)
    int resp_tokens, ntok, all; // response tokens of every turn; of the kept; and + uniform rows
    int needT;                  // the longest row's inputs
    double *R, *A, *adv, *atok; // per turn (return, advantage), per kept turn, per token
    double *lp_old, *lp_new, *lp_ref, *w, *ec;
    uint64_t *key;
    int *start, *ncont; // rows' first tokens (start[K + U] = all), response lengths
    vkt_rl_seq *seqs;
    vkt_gen_prompt *pr;
    const int32_t **cont;
    float **lpo, *lpf, **lro, *lrf; // scored logprobs (policy, reference) as floats
    int32_t *tok, *tgt;             // one micro-batch's rows
    float *wt, *ct;
} upd;

// The policy that plays this update's Kuhn games enters the average (one-hand Kuhn only).
static vkt_status enter_average(vkt_rl_sp *s) {
    if (s->kuhn < 0) return VKT_OK;
    vkt_kuhn_policy pi;
    const int GK = s->share[s->kuhn];
    VKT_TRY(vkt_rl_sp_kuhn_policy(s, &pi, NULL));
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) s->avg_num[i] += GK * pi.bet[i];
    s->avg_den += GK;
    return VKT_OK;
}

// Rollouts: every game of the mix in one batch; then the KL-to-uniform rows (one per state
// and legal answer).
static vkt_status play(upd *u) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    const vkt_rl_sp_opts *o = &s->o;
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.game = o->game, ro.n_games = o->games_per_update, ro.game_base = s->games, ro.seed = o->seed;
    ro.fmt = &s->fmt;
    u->C_uni = vkt_rl_sp_kl_uniform_at(s, s->games);
    ro.legal_answers = u->C_uni > 0;
    ro.format_credit = s->format_credit;
    vkt_rl_sp_mix_blocks(&s->mix, o->games_per_update, s->replays, &ro);
    for (int i = 0; i < s->mix.n; i++) ro.spec_explore[i] = s->explore;
    vkt_rl_sp_gen_opts(&ro.gen, s->max_new_tokens);
    if (vkt_rl_rollout_run(s->m, s->gen, &ro, &u->r) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: update %d: rollouts", s->updates + 1);
    u->played = true;
    u->N = u->r.n_turns;
    if (u->C_uni > 0) VKT_TRY(vkt_rl_uniform_build(&u->r, u->C_uni, &u->u, err));
    u->U = u->u.n_rows;
    return VKT_OK;
}

// The per-turn and per-row buffers.
static vkt_status turn_buffers(upd *u) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    const size_t N = (size_t)u->N, rows = (size_t)u->N + (size_t)u->U;
    u->R = need(s, W_R, N + 1, sizeof *u->R), u->A = need(s, W_A, N + 1, sizeof *u->A);
    u->key = need(s, W_KEY, N + 1, sizeof *u->key), u->adv = need(s, W_ADV, N + 1, sizeof *u->adv);
    u->start = need(s, W_START, rows + 2, sizeof *u->start);
    u->seqs = need(s, W_SEQS, rows + 1, sizeof *u->seqs);
    u->pr = need(s, W_PR, rows + 1, sizeof *u->pr);
    u->cont = need(s, W_CONT, rows + 1, sizeof *u->cont);
    u->ncont = need(s, W_NCONT, rows + 1, sizeof *u->ncont);
    u->lpo = need(s, W_LPO, rows + 1, sizeof *u->lpo);
    if (!u->R || !u->A || !u->key || !u->start || !u->seqs || !u->adv || !u->pr || !u->cont ||
        !u->ncont || !u->lpo)
        return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d turns", u->N);
    return VKT_OK;
}

// The update's counts (games, returns, decisions, invalid answers, sampling entropy), and
// each turn's return R and group key.
static void count_turns(upd *u) {
    const vkt_rl_rollout *r = &u->r;
    vkt_rl_sp_stats *st = &u->st;
    const int G = u->s->o.games_per_update, N = u->N;
    st->games = G, st->decisions = N, st->invalid = r->invalid;
    for (int g = 0; g < G; g++) {
        vkt_rl_sp_game_stats *pg = &st->per_game[r->spec[g]];
        st->mean_return_p0 += r->returns[(size_t)g * VKT_GAME_MAX_PLAYERS] / G;
        pg->games++, pg->mean_return_p0 += r->returns[(size_t)g * VKT_GAME_MAX_PLAYERS];
    }
    for (int i = 0; i < u->s->mix.n; i++)
        if (st->per_game[i].games) st->per_game[i].mean_return_p0 /= st->per_game[i].games;
    u->resp_tokens = 0;
    for (int k = 0; k < N; k++) {
        const vkt_rl_turn *t = &r->turns[k];
        u->R[k] = r->returns[(size_t)t->game * VKT_GAME_MAX_PLAYERS + t->player];
        u->key[k] = t->obs_key;
        u->resp_tokens += t->n_resp;
        if (!t->forced) st->gen_tokens += t->n_resp; // explored answers are not generated
        st->sample_entropy += t->entropy_sum;
        st->per_game[r->spec[t->game]].decisions++;
        st->per_game[r->spec[t->game]].invalid += t->action == VKT_ACTION_INVALID;
    }
    if (st->gen_tokens > 0) st->sample_entropy /= st->gen_tokens;
}

// A[k] for every turn of the rollout: per game of the mix, group / group-mean over that
// game's turns (keys are prompt hashes, which start with the game's name), rae folding
// its games in id order, seat by seat, into the (game, seat) baseline, or none (A = R).
static vkt_status advantages(upd *u) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    const vkt_rl_rollout *r = &u->r;
    const double *R = u->R;
    double *A = u->A;
    const int N = r->n_turns, G = r->n_games;
    int *idx = need(s, W_IDX, (size_t)N + 1, sizeof *idx);
    double *subR = need(s, W_SUBR, (size_t)N + 1, sizeof *subR);
    double *subA = need(s, W_SUBA, (size_t)N + 1, sizeof *subA);
    uint64_t *subK = need(s, W_SUBK, (size_t)N + 1, sizeof *subK);
    double *ga = need(s, W_GA, (size_t)G * VKT_GAME_MAX_PLAYERS, sizeof *ga);
    if (!idx || !subR || !subA || !subK || !ga)
        return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: advantages");
    memset(ga, 0, (size_t)G * VKT_GAME_MAX_PLAYERS * sizeof *ga);
    vkt_status rc = VKT_OK;
    for (int i = 0; rc == VKT_OK && i < s->mix.n; i++) {
        const vkt_rl_adv_mode mode = s->adv[i];
        if (vkt_rl_sp_group_mode(mode)) {
            int n = 0;
            for (int k = 0; k < N; k++)
                if (r->spec[r->turns[k].game] == i)
                    idx[n] = k, subR[n] = R[k], subK[n] = u->key[k], n++;
            rc = mode == VKT_RL_ADV_GROUP ? vkt_rl_group_advantages(n, subK, subR, subA, err)
                                          : vkt_rl_group_mean_advantages(n, subK, subR, subA, err);
            for (int j = 0; rc == VKT_OK && j < n; j++) A[idx[j]] = subA[j];
        } else if (mode == VKT_RL_ADV_NONE) {
            for (int k = 0; k < N; k++)
                if (r->spec[r->turns[k].game] == i) A[k] = R[k];
        } else {
            const int np = s->mix.g[i].players;
            for (int g = 0; rc == VKT_OK && g < G; g++) {
                const size_t at = (size_t)g * VKT_GAME_MAX_PLAYERS;
                const int roles = r->spec[g] != i         ? 0
                                  : np < VKT_RL_MAX_ROLES ? np
                                                          : VKT_RL_MAX_ROLES;
                for (int p = 0; rc == VKT_OK && p < roles; p++)
                    rc = vkt_rae_advantage(&s->rae, i, p, r->returns[at + p], &ga[at + p], err);
            }
            for (int k = 0; rc == VKT_OK && k < N; k++)
                if (r->spec[r->turns[k].game] == i)
                    A[k] = ga[(size_t)r->turns[k].game * VKT_GAME_MAX_PLAYERS + r->turns[k].player];
        }
    }
    return rc;
}

// The training rows: the kept turns, then the uniform rows; their token layout (start) and
// per-token advantages. A turn with A == 0 carries no policy gradient and is dropped
// (SPIRAL's filter), unless a regularizer is on: the KL and entropy terms act on every
// sampled turn, and dropping A == 0 turns would switch them off exactly where the policy
// has collapsed (every sample of a state the same: A == 0 for all of them).
static vkt_status layout_rows(upd *u) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    vkt_rl_sp_stats *st = &u->st;
    const bool keep_zero = s->o.pg.kl_coef > 0 || s->o.pg.entropy_coef > 0;
    u->atok = need(s, W_ATOK, (size_t)u->resp_tokens + 1, sizeof *u->atok);
    if (!u->atok)
        return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d token advantages", u->resp_tokens);
    int K = 0, ntok = 0, needT = 1;
    double *A = u->A;
    for (int k = 0; k < u->N; k++) {
        const vkt_rl_turn *t = &u->r.turns[k];
        const int nr = t->n_resp;
        if (s->format_credit) { // an invalid answer is never reinforced (rl_selfplay.h)
            const double a = vkt_rl_turn_advantages(t, A[k], true, NULL);
            st->format_turns += t->choice && !t->forced, st->invalid_clamped += a != A[k];
            A[k] = a;
        }
        if ((A[k] == 0 && !keep_zero) || nr == 0) continue;
        // An explored answer, or a sampled legal one under format credit: A on the tokens that
        // choose it, |A| on its format (rl_rollout.h): they carry no choice, and an answer that
        // is not finished its one way is invalid.
        vkt_rl_turn_advantages(t, A[k], false, u->atok + ntok);
        st->per_game[u->r.spec[t->game]].kept++;
        u->adv[K] = A[k], u->start[K] = ntok;
        u->seqs[K] = (vkt_rl_seq){t->prompt, t->n_prompt, t->resp, nr};
        u->pr[K] = (vkt_gen_prompt){t->prompt, t->n_prompt, 0};
        u->cont[K] = t->resp, u->ncont[K] = nr;
        ntok += nr;
        if (t->n_prompt + nr - 1 > needT) needT = t->n_prompt + nr - 1;
        K++;
    }
    st->kept = K;
    // The uniform rows follow: seqs, start and the scoring arrays continue at K.
    int all = ntok;
    for (int i = 0; i < u->U; i++) {
        const vkt_rl_uniform_row *ur = &u->u.rows[i];
        u->start[K + i] = all;
        u->seqs[K + i] = (vkt_rl_seq){ur->prompt, ur->n_prompt, ur->answer, ur->n_answer};
        u->pr[K + i] = (vkt_gen_prompt){ur->prompt, ur->n_prompt, 0};
        u->cont[K + i] = ur->answer, u->ncont[K + i] = ur->n_answer;
        all += ur->n_answer;
        if (ur->n_prompt + ur->n_answer - 1 > needT) needT = ur->n_prompt + ur->n_answer - 1;
    }
    u->start[K + u->U] = all;
    st->uniform_rows = u->U, st->kl_uniform_coef = u->C_uni;
    u->K = K, u->ntok = ntok, u->all = all, u->needT = needT;
    return VKT_OK;
}

// The token buffers of the rows (scored logprobs, weights, entropy coefficients zeroed,
// the reference's logprobs), the training plan's length, and one micro-batch's rows.
static vkt_status row_buffers(upd *u) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    const int K = u->K, U = u->U, MB = s->o.micro_rows;
    const size_t all = (size_t)u->all, ntok = (size_t)u->ntok;
    u->lpf = need(s, W_LPF, all, sizeof *u->lpf);
    u->lp_old = need(s, W_LP_OLD, ntok, sizeof *u->lp_old);
    u->lp_new = need(s, W_LP_NEW, ntok, sizeof *u->lp_new);
    u->w = need(s, W_W, all, sizeof *u->w);
    if (!u->lpf || !u->lp_old || !u->lp_new || !u->w)
        return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d tokens", u->all);
    for (int k = 0; k < K + U; k++) u->lpo[k] = u->lpf + u->start[k];
    // The uniform rows' weights are constant: C c_s / (D n_s) on every answer token.
    for (int i = 0; i < U; i++)
        for (int j = u->start[K + i]; j < u->start[K + i + 1]; j++) u->w[j] = u->u.weight[i];
    if (s->o.pg.entropy_coef > 0) {
        if (!(u->ec = need(s, W_EC, all, sizeof *u->ec)))
            return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d entropy coefficients", u->ntok);
        memset(u->ec, 0, all * sizeof *u->ec);
    }
    if (s->o.pg.kl_coef > 0) {
        u->lrf = need(s, W_LRF, ntok, sizeof *u->lrf);
        u->lp_ref = need(s, W_LP_REF, ntok, sizeof *u->lp_ref);
        u->lro = need(s, W_LRO, (size_t)K, sizeof *u->lro);
        if (!u->lrf || !u->lp_ref || !u->lro)
            return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d reference logprobs", u->ntok);
        for (int k = 0; k < K; k++) u->lro[k] = u->lrf + u->start[k];
    }
    if (u->needT > s->planned_T) {
        int T = (u->needT + 3) / 4 * 4;
        if (T > vkt_model_cfg(s->m)->context) T = vkt_model_cfg(s->m)->context;
        if (vkt_model_plan(s->m, MB, T) != VKT_OK) return vkt_fail_wrap(err, "selfplay: plan");
        s->planned_T = T;
    }
    const size_t cells = (size_t)MB * (size_t)s->planned_T;
    u->tok = need(s, W_TOK, cells, sizeof *u->tok), u->tgt = need(s, W_TGT, cells, sizeof *u->tgt);
    u->wt = need(s, W_WT, cells, sizeof *u->wt);
    if (s->o.pg.entropy_coef > 0) u->ct = need(s, W_CT, cells, sizeof *u->ct);
    if (!u->tok || !u->tgt || !u->wt || (s->o.pg.entropy_coef > 0 && !u->ct))
        return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: rows");
    return VKT_OK;
}

// The reference policy's logprobs of the kept responses (fixed for the update).
static vkt_status reference_logprobs(upd *u) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    if (u->K == 0 || !(s->o.pg.kl_coef > 0)) return VKT_OK;
    double ts = now_s();
    if (vkt_gen_score(s->ref_gen, u->K, u->pr, u->cont, u->ncont, u->lro) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: reference score");
    for (int i = 0; i < u->ntok; i++) u->lp_ref[i] = u->lrf[i];
    u->st.score_s += now_s() - ts;
    return VKT_OK;
}

// Forward and backward over every row, MB rows a micro-batch (gradients accumulate);
// *hsum, *hpos get the entropy's sum over the trained tokens and their count.
static vkt_status forward_backward(upd *u, double *hsum, int *hpos) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    vkt_model *m = s->m;
    const int rows = u->K + u->U, MB = s->o.micro_rows, T = s->planned_T;
    const bool use_ent = s->o.pg.entropy_coef > 0;
    *hsum = 0, *hpos = 0;
    for (int c0 = 0; c0 < rows; c0 += MB) {
        const int n = rows - c0 < MB ? rows - c0 : MB;
        const vkt_rl_seq *seqs = u->seqs + c0;
        const int *start = u->start + c0;
        // The coefficients take the weights' layout (this pack writes the same tokens).
        if (use_ent) VKT_TRY(vkt_rl_pack(seqs, n, u->ec, start, MB, T, u->tok, u->tgt, u->ct, err));
        VKT_TRY(vkt_rl_pack(seqs, n, u->w, start, MB, T, u->tok, u->tgt, u->wt, err));
        if (vkt_model_set_batch(m, u->tok, u->tgt, u->wt) != VKT_OK ||
            (use_ent && vkt_model_set_entropy(m, u->ct) != VKT_OK) ||
            vkt_model_forward(m, NULL, NULL) != VKT_OK || vkt_model_backward(m, 1.0f) != VKT_OK)
            return vkt_fail_wrap(err, "selfplay: forward/backward");
        double hs = 0;
        int hp = 0;
        if (use_ent && vkt_model_read_entropy(m, &hs, &hp) != VKT_OK)
            return vkt_fail_wrap(err, "selfplay: entropy");
        *hsum += hs, *hpos += hp;
    }
    return VKT_OK;
}

// Epoch e: the rows' logprobs (the old ones at epoch 0), the objective and its weights,
// forward/backward, one Adam step.
static vkt_status epoch(upd *u, const vkt_pg_batch *b, int e) {
    vkt_rl_sp *s = u->s;
    vkt_error *err = u->err;
    const vkt_rl_sp_opts *o = &s->o;
    vkt_rl_sp_stats *st = &u->st;
    const int K = u->K, U = u->U;
    double ts = now_s();
    // PG rows: epoch 0, and every epoch under PPO (its ratio); uniform rows: every epoch
    // (the term's value in the objective).
    const int s0 = e == 0 || o->pg.kind == VKT_PG_PPO ? 0 : K;
    const int n = K + U - s0;
    if (n > 0 &&
        vkt_gen_score(s->gen, n, u->pr + s0, u->cont + s0, u->ncont + s0, u->lpo + s0) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: score");
    if (s0 == 0) {
        for (int i = 0; i < u->ntok; i++) u->lp_new[i] = u->lpf[i];
        if (e == 0) memcpy(u->lp_old, u->lp_new, (size_t)u->ntok * sizeof *u->lp_old);
    }
    st->score_s += now_s() - ts;
    ts = now_s();
    st->loss = 0;
    if (K > 0) {
        VKT_TRY(vkt_pg_weights(&o->pg, b, u->lp_new, u->w, &st->pg, err));
        st->loss = vkt_pg_loss_ref(&o->pg, b, u->lp_new, NULL);
        if (o->pg.entropy_coef > 0) VKT_TRY(vkt_pg_entropy_coefs(&o->pg, b, u->ec, err));
    }
    if (U > 0) {
        double kl, mass, value;
        vkt_rl_uniform_stats(&u->u, (const float *const *)(u->lpo + K), &kl, &mass, &value);
        st->loss += value;
        if (e == 0) st->kl_uniform = kl, st->legal_mass = mass;
    }
    // A diverged policy stops here, before its non-finite gradients reach the weights.
    if (!isfinite(st->loss))
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: update %d, epoch %d: the loss is %g, not finite: the policy has "
                        "diverged (try a lower --lr)",
                        s->updates + 1, e + 1, st->loss);
    double hsum; // sum of H over the trained tokens, this epoch
    int hpos;
    VKT_TRY(forward_backward(u, &hsum, &hpos));
    // The objective's entropy term, -X sum n_i H_i (ec[i] = X n_i is the same for every token).
    if (o->pg.entropy_coef > 0 && K > 0) {
        st->loss -= u->ec[0] * hsum;
        if (e == 0) st->entropy = hpos ? hsum / hpos : 0;
    }
    const double ramp = s->updates < s->lr_warmup ? (s->updates + 1.0) / s->lr_warmup : 1.0;
    vkt_optim opt = {(float)(o->lr * ramp),
                     (float)o->beta1,
                     (float)o->beta2,
                     1e-8f,
                     (float)o->weight_decay,
                     (float)o->max_grad_norm,
                     1.0f};
    float gn = 0;
    if (vkt_model_adamw(s->m, &opt, ++s->adam_step, &gn) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: adamw");
    st->grad_norm = gn;
    if (!isfinite(gn))
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: update %d, epoch %d: the gradient norm is %g, not finite: "
                        "the policy has diverged (try a lower --lr)",
                        s->updates + 1, e + 1, (double)gn);
    st->train_s += now_s() - ts;
    return VKT_OK;
}

// The phases after the rollouts: advantages, rows, then the epochs.
static vkt_status learn(upd *u, double t0) {
    VKT_TRY(turn_buffers(u));
    count_turns(u);
    u->st.rollout_s = now_s() - t0;
    VKT_TRY(advantages(u));
    VKT_TRY(layout_rows(u));
    if (u->K + u->U == 0) return VKT_OK;
    VKT_TRY(row_buffers(u));
    VKT_TRY(reference_logprobs(u));
    const vkt_pg_batch b = {.B = u->K,
                            .start = u->start,
                            .adv = u->adv,
                            .adv_tok = u->atok,
                            .logp_old = u->lp_old,
                            .logp_ref = u->lp_ref};
    for (int e = 0; e < u->s->o.ppo_epochs; e++) VKT_TRY(epoch(u, &b, e));
    return VKT_OK;
}

vkt_status vkt_rl_sp_update(vkt_rl_sp *s, vkt_rl_sp_stats *st_out) {
    upd u;
    memset(&u, 0, sizeof u);
    u.s = s, u.err = vkt_ctx_err(vkt_model_ctx(s->m));
    double t0 = now_s();
    VKT_TRY(enter_average(s));
    vkt_status rc = play(&u);
    if (rc == VKT_OK) rc = learn(&u, t0);
    if (rc == VKT_OK) {
        s->games += s->o.games_per_update, s->decisions += u.N, s->invalid += u.r.invalid;
        s->updates++;
        if (st_out) *st_out = u.st;
    }
    vkt_rl_uniform_free(&u.u);
    if (u.played) vkt_rl_rollout_free(&u.r);
    return rc;
}
