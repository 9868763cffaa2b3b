// rl_rollout.c: many self-play games at once, one vkt_generate call per decision step
// (see rl_rollout.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "protocol.h"
#include "rl_prompt.h"
#include "rl_rollout.h"
#include "tokenizer.h"

void vkt_rl_rollout_defaults(vkt_rl_rollout_opts *o) {
    memset(o, 0, sizeof *o);
    o->game = "kuhn";
    o->n_games = 1;
    o->seed = 1;
    o->max_turns = 50;
    o->invalid = VKT_INVALID_TRAINING;
    vkt_gen_defaults(&o->gen);
    o->gen.max_new_tokens = 16;
    o->replays = 1;
}

void vkt_rl_rollout_free(vkt_rl_rollout *r) {
    for (int i = 0; i < r->n_turns; i++) {
        vkt_rl_turn *t = &r->turns[i];
        free(t->prompt), free(t->resp), free(t->logp), free(t->legal_off), free(t->legal_tok),
            free(t->choice);
    }
    free(r->turns), free(r->returns), free(r->forfeited_by), free(r->truncated), free(r->spec);
    memset(r, 0, sizeof *r);
}

double vkt_rl_turn_advantages(const vkt_rl_turn *t, double A, bool format_credit, double *tok) {
    if (format_credit && t->action == VKT_ACTION_INVALID && A > 0) A = 0;
    for (int j = 0; tok && j < t->n_resp; j++) tok[j] = !t->choice || t->choice[j] ? A : fabs(A);
    return A;
}

uint64_t vkt_rl_tokens_key(const int32_t *ids, int n) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 4; b++)
            h = (h ^ (((uint32_t)ids[i] >> (8 * b)) & 0xff)) * 1099511628211ull;
    return h;
}

enum { ANSWER_CAP = 64 };

// Every legal answer's tokens at g's current state, into t (rl_rollout.h).
static vkt_status legal_answers(const vkt_game *g, const vkt_rl_fmt *f, vkt_rl_turn *t,
                                vkt_error *err) {
    int acts[VKT_GAME_MAX_LEGAL], n = vkt_game_legal_actions(g, acts);
    if (n > VKT_RL_LEGAL_MAX)
        return vkt_fail(err, VKT_ERR_ARG,
                        "rollout: %s has %d legal actions at a state (legal answers are recorded "
                        "for at most %d)",
                        vkt_game_name(g), n, VKT_RL_LEGAL_MAX);
    t->legal_off = malloc(((size_t)n + 1) * sizeof *t->legal_off);
    t->legal_tok = malloc(((size_t)n * ANSWER_CAP + 1) * sizeof *t->legal_tok);
    if (!t->legal_off || !t->legal_tok)
        return vkt_fail(err, VKT_ERR_NOMEM, "rollout: legal answers");
    t->legal_off[0] = 0;
    for (int i = 0; i < n; i++) {
        int len = 0;
        VKT_TRY(vkt_rl_answer_tokens(g, acts[i], f, t->legal_tok + t->legal_off[i], ANSWER_CAP,
                                     &len, err));
        t->legal_off[i + 1] = t->legal_off[i] + len;
    }
    t->n_legal = n;
    return VKT_OK;
}

// t->choice for legal answer i of t's recorded answers (its tokens are the response): token
// p chooses when the answers sharing its first p tokens differ at p.
static vkt_status mark_choice(vkt_rl_turn *t, int i, vkt_error *err) {
    const int *off = t->legal_off, len = off[i + 1] - off[i];
    const int32_t *a = t->legal_tok + off[i];
    t->choice = calloc((size_t)len + 1, 1);
    if (!t->choice) return vkt_fail(err, VKT_ERR_NOMEM, "rollout: response");
    for (int p = 0; p < len; p++)
        for (int o = 0; o < t->n_legal; o++) {
            const int32_t *b = t->legal_tok + off[o];
            if (off[o + 1] - off[o] > p && !memcmp(b, a, (size_t)p * sizeof *a) && b[p] != a[p])
                t->choice[p] = 1;
        }
    return VKT_OK;
}

// Explored turn (rl_rollout.h): play legal answer `j` mod n of t's recorded answers as the
// response.
static vkt_status play_forced(vkt_game *g, int j, vkt_rl_turn *t, vkt_error *err) {
    int acts[VKT_GAME_MAX_LEGAL], n = vkt_game_legal_actions(g, acts);
    if (n < 1 || n != t->n_legal)
        return vkt_fail(err, VKT_ERR_ARG, "rollout: %s: no legal answer to explore",
                        vkt_game_name(g));
    const int i = j % n, len = t->legal_off[i + 1] - t->legal_off[i];
    t->resp = malloc(((size_t)len + 1) * sizeof *t->resp);
    t->logp = calloc((size_t)len + 1, sizeof *t->logp);
    if (!t->resp || !t->logp) return vkt_fail(err, VKT_ERR_NOMEM, "rollout: response");
    memcpy(t->resp, t->legal_tok + t->legal_off[i], (size_t)len * sizeof *t->resp);
    t->n_resp = len, t->forced = true;
    VKT_TRY(mark_choice(t, i, err));
    t->action = acts[i];
    return vkt_game_apply(g, acts[i], err);
}

// format_credit: which recorded legal answer a sampled response is, token for token (-1: none).
static int legal_answer_index(const vkt_rl_turn *t) {
    for (int i = 0; i < t->n_legal; i++)
        if (t->legal_off[i + 1] - t->legal_off[i] == t->n_resp &&
            !memcmp(t->legal_tok + t->legal_off[i], t->resp, (size_t)t->n_resp * sizeof *t->resp))
            return i;
    return -1;
}

// One rollout: the blocks of games, their state and the batch buffers.
typedef struct rollout_job {
    const vkt_rl_rollout_opts *o;
    vkt_rl_rollout *out;
    int G, NS;
    const char *spec[VKT_RL_MAX_GAMES];
    int count[VKT_RL_MAX_GAMES], reps[VKT_RL_MAX_GAMES];
    bool expl[VKT_RL_MAX_GAMES];
    vkt_game *games;
    int *turn, *wait, *forced, *slot; // per game: turns played, waiting list, explored answer
    vkt_gen_prompt *pr;               // the sampled turns' prompts, slot: their turns
    vkt_gen_result *res;
    int cap_turns;
} rollout_job;

// The blocks: one spec for every game, or the mix.
static vkt_status read_blocks(rollout_job *j, vkt_error *err) {
    const vkt_rl_rollout_opts *o = j->o;
    int total = 0;
    j->NS = o->n_specs > 0 ? o->n_specs : 1;
    if (j->NS > VKT_RL_MAX_GAMES)
        return vkt_fail(err, VKT_ERR_ARG, "rollout: %d specs (at most %d)", j->NS,
                        VKT_RL_MAX_GAMES);
    for (int k = 0; k < j->NS; k++) {
        j->spec[k] = o->n_specs > 0 ? o->specs[k] : o->game;
        j->count[k] = o->n_specs > 0 ? o->count[k] : j->G;
        j->reps[k] = o->n_specs > 0 ? o->spec_replays[k] : o->replays;
        j->expl[k] = o->n_specs > 0 ? o->spec_explore[k] : o->explore;
        if (j->reps[k] == 0) j->reps[k] = 1;
        if (j->count[k] < 0 || j->reps[k] < 1)
            return vkt_fail(err, VKT_ERR_ARG, "rollout: spec %d (%s): %d games, %d replays", k,
                            j->spec[k], j->count[k], j->reps[k]);
        total += j->count[k];
    }
    if (total != j->G)
        return vkt_fail(err, VKT_ERR_ARG, "rollout: the blocks hold %d games, not n_games %d",
                        total, j->G);
    return VKT_OK;
}

// The per-game buffers and out's per-game arrays, then every game created and dealt.
static vkt_status deal_games(rollout_job *j, vkt_error *err) {
    const vkt_rl_rollout_opts *o = j->o;
    vkt_rl_rollout *out = j->out;
    const size_t G = (size_t)j->G;
    j->games = malloc(G * sizeof *j->games);
    j->turn = calloc(G, sizeof *j->turn), j->wait = malloc(G * sizeof *j->wait);
    j->forced = malloc(G * sizeof *j->forced), j->slot = malloc(G * sizeof *j->slot);
    j->pr = malloc(G * sizeof *j->pr);
    j->res = calloc(G, sizeof *j->res);
    out->n_games = j->G;
    out->returns = calloc(G * VKT_GAME_MAX_PLAYERS, sizeof *out->returns);
    out->forfeited_by = malloc(G * sizeof *out->forfeited_by);
    out->truncated = calloc(G, sizeof *out->truncated);
    out->spec = calloc(G, sizeof *out->spec);
    vkt_status s = VKT_OK;
    if (!j->games || !j->turn || !j->wait || !j->forced || !j->slot || !j->pr || !j->res ||
        !out->returns || !out->forfeited_by || !out->truncated || !out->spec)
        s = vkt_fail(err, VKT_ERR_NOMEM, "rollout: %d games", j->G);
    for (int k = 0, first = 0; s == VKT_OK && k < j->NS; first += j->count[k++])
        for (int g = first; s == VKT_OK && g < first + j->count[k]; g++) {
            int64_t deal = o->game_base + first + (g - first) / j->reps[k];
            s = vkt_game_create(&j->games[g], j->spec[k], err);
            if (s == VKT_OK) vkt_game_set_invalid_rule(&j->games[g], o->invalid);
            if (s == VKT_OK)
                s = vkt_game_reset(&j->games[g], vkt_rng_derive(o->seed, (uint64_t)deal), err);
            out->forfeited_by[g] = -1, out->spec[g] = k;
            // The replay's answer, or -1: sampled.
            j->forced[g] = j->expl[k] ? (g - first) % j->reps[k] : -1;
        }
    return s;
}

// Every running game waits for a move (into wait): returns how many; marks the truncated.
static int waiting_games(rollout_job *j) {
    int n = 0;
    for (int g = 0; g < j->G; g++) {
        if (vkt_game_is_terminal(&j->games[g]) || j->out->truncated[g]) continue;
        if (j->turn[g] >= j->o->max_turns) {
            j->out->truncated[g] = true;
            continue;
        }
        j->wait[n++] = g;
    }
    return n;
}

// Room in out->turns for n more.
static vkt_status grow_turns(rollout_job *j, int n, vkt_error *err) {
    vkt_rl_rollout *out = j->out;
    if (out->n_turns + n <= j->cap_turns) return VKT_OK;
    int nc = j->cap_turns ? 2 * j->cap_turns : 2 * j->G;
    while (nc < out->n_turns + n) nc *= 2;
    vkt_rl_turn *t = realloc(out->turns, (size_t)nc * sizeof *t);
    if (!t) return vkt_fail(err, VKT_ERR_NOMEM, "rollout: %d turns", nc);
    out->turns = t, j->cap_turns = nc;
    return VKT_OK;
}

// The n waiting games' turns from out->n_turns on: prompts, legal answers, explored turns
// played; the sampled ones into pr (*ns of them). Every turn is initialised, even after an error.
static vkt_status start_turns(rollout_job *j, int n, int *ns, vkt_error *err) {
    const vkt_rl_rollout_opts *o = j->o;
    vkt_status s = VKT_OK;
    *ns = 0;
    for (int k = 0; k < n; k++) {
        int g = j->wait[k];
        vkt_game *game = &j->games[g];
        vkt_rl_turn *t = &j->out->turns[j->out->n_turns + k];
        memset(t, 0, sizeof *t);
        t->game = g, t->player = vkt_game_current_player(game), t->step = j->turn[g];
        t->action = VKT_ACTION_INVALID;
        if (s == VKT_OK)
            s = vkt_rl_prompt_tokens(game, t->player, o->fmt, &t->prompt, &t->n_prompt, err);
        if (s == VKT_OK) t->obs_key = vkt_rl_tokens_key(t->prompt, t->n_prompt);
        if (s == VKT_OK && (o->legal_answers || o->format_credit || j->forced[g] >= 0))
            s = legal_answers(game, o->fmt, t, err);
        if (j->forced[g] >= 0) {
            if (s == VKT_OK) s = play_forced(game, j->forced[g], t, err);
            j->turn[g]++;
            continue;
        }
        j->slot[*ns] = k;
        const uint64_t stream = ((uint64_t)(o->game_base + g) << 16) | (uint64_t)j->turn[g];
        j->pr[(*ns)++] = (vkt_gen_prompt){t->prompt, t->n_prompt, stream};
    }
    return s;
}

// Sampled turn t of game g: its response from r, played. s: the step's status so far (after
// an error the rest of the step's turns still get their responses, but no game moves).
static vkt_status play_sampled(rollout_job *j, int g, vkt_rl_turn *t, const vkt_gen_result *r,
                               vkt_status s, vkt_error *err) {
    const vkt_rl_rollout_opts *o = j->o;
    t->n_resp = r->n;
    t->resp = malloc(((size_t)r->n + 1) * sizeof *t->resp);
    t->logp = malloc(((size_t)r->n + 1) * sizeof *t->logp);
    if (!t->resp || !t->logp)
        s = vkt_fail(err, VKT_ERR_NOMEM, "rollout: response");
    else {
        memcpy(t->resp, r->tokens, (size_t)r->n * sizeof *t->resp);
        memcpy(t->logp, r->logprob, (size_t)r->n * sizeof *t->logp);
        t->entropy_sum = 0;
        for (int q = 0; q < r->n; q++) t->entropy_sum += r->entropy[q];
    }
    if (s == VKT_OK && o->format_credit) {
        const int i = legal_answer_index(t);
        if (i >= 0) s = mark_choice(t, i, err);
    }
    bool invalid = false;
    size_t at, len;
    vkt_rl_fmt_answer_span(o->fmt, r->text, r->text_len, &at, &len);
    if (s == VKT_OK)
        s = vkt_protocol_step(&j->games[g], r->text + at, len, &t->action, &invalid, NULL);
    if (s == VKT_OK && invalid) j->out->invalid++, j->out->forfeited_by[g] = t->player;
    j->turn[g]++;
    return s;
}

// One decision step's ns sampled turns (of the last n): one vkt_generate call, then each played.
static vkt_status sample_turns(rollout_job *j, vkt_model *m, vkt_gen *gen, const vkt_gen_opts *gopt,
                               int n, int ns) {
    vkt_rl_rollout *out = j->out;
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    if (vkt_generate(gen, j->pr, ns, gopt, j->res) != VKT_OK) {
        vkt_status s = vkt_fail_wrap(err, "rollout: generate");
        for (int k = 0; k < ns; k++) vkt_gen_result_free(&j->res[k]);
        return s;
    }
    out->steps++;
    vkt_status s = VKT_OK;
    for (int q = 0; q < ns; q++) {
        const int k = j->slot[q];
        s = play_sampled(j, j->wait[k], &out->turns[out->n_turns - n + k], &j->res[q], s, err);
    }
    for (int q = 0; q < ns; q++) vkt_gen_result_free(&j->res[q]);
    return s;
}

vkt_status vkt_rl_rollout_run(vkt_model *m, vkt_gen *gen, const vkt_rl_rollout_opts *o,
                              vkt_rl_rollout *out) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m)); // gen's context too
    memset(out, 0, sizeof *out);
    if (o->n_games < 1 || o->max_turns < 1 || o->game_base < 0 || (o->fmt && o->fmt->think < 0))
        return vkt_fail(err, VKT_ERR_ARG,
                        "rollout: n_games %d and max_turns %d must be >= 1, game_base %lld and "
                        "think tokens %d >= 0",
                        o->n_games, o->max_turns, (long long)o->game_base,
                        o->fmt ? o->fmt->think : 0);
    rollout_job j = {.o = o, .out = out, .G = o->n_games};
    VKT_TRY(read_blocks(&j, err));
    vkt_status s = deal_games(&j, err);
    vkt_gen_opts gopt = o->gen;
    gopt.seed = o->seed;
    vkt_rl_fmt_gen_opts(o->fmt, &gopt);
    while (s == VKT_OK) {
        const int n = waiting_games(&j);
        if (n == 0) break;
        if ((s = grow_turns(&j, n, err)) != VKT_OK) break;
        int ns = 0; // sampled turns: the generation batch
        s = start_turns(&j, n, &ns, err);
        out->n_turns += n; // the new turns own their prompts now (freed with the rollout)
        if (s != VKT_OK) break;
        if (ns == 0) continue;
        s = sample_turns(&j, m, gen, &gopt, n, ns);
    }
    for (int g = 0; s == VKT_OK && g < j.G; g++)
        if (!out->truncated[g])
            vkt_game_returns(&j.games[g], out->returns + (size_t)g * VKT_GAME_MAX_PLAYERS);
    free(j.games), free(j.turn), free(j.wait), free(j.forced), free(j.slot), free(j.pr);
    free(j.res);
    return s;
}
