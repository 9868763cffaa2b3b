// negotiation.c: the SimpleNegotiation engine.
#include "negotiation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

static const char *res_name[2] = {"Wood", "Gold"};

const vkt_negotiation *vkt_negotiation_state(const vkt_game *g) {
    return g->ops == &vkt_negotiation_ops ? (const vkt_negotiation *)g->state : NULL;
}

bool vkt_negotiation_offer(int a, vkt_neg_offer *o) {
    if (a < 2 || a >= VKT_NEG_NUM_ACTIONS) return false;
    int k = a - 2, q = VKT_NEG_MAX_QTY;
    o->give_res = k / (q * q);
    o->give = (k / q) % q + 1;
    o->recv = k % q + 1;
    return true;
}

int vkt_negotiation_offer_id(vkt_neg_offer o) {
    int q = VKT_NEG_MAX_QTY;
    if (o.give_res < 0 || o.give_res > 1 || o.give < 1 || o.give > q || o.recv < 1 || o.recv > q)
        return -1;
    return 2 + o.give_res * q * q + (o.give - 1) * q + (o.recv - 1);
}

int vkt_negotiation_value(const vkt_negotiation *s, int p) {
    return s->inv[p][0] * s->values[p][0] + s->inv[p][1] * s->values[p][1];
}

int vkt_negotiation_gain(const vkt_negotiation *s, int p) {
    return vkt_negotiation_value(s, p) - VKT_NEG_START * (s->values[p][0] + s->values[p][1]);
}

static void neg_defaults(void *state) {
    vkt_negotiation *s = state;
    s->max_turns = 10;
    s->random_values = false;
}

static vkt_status neg_set_option(void *state, const char *key, const char *value, vkt_error *err) {
    vkt_negotiation *s = state;
    if (strcmp(key, "turns") == 0) {
        char *end;
        long n = value ? strtol(value, &end, 10) : 0;
        if (!value || *end || n < 2 || n > VKT_NEG_MAX_TURNS)
            return vkt_fail(err, VKT_ERR_ARG, "negotiation: turns=%s must be an integer in 2..%d",
                            value ? value : "", VKT_NEG_MAX_TURNS);
        s->max_turns = (int)n;
        return VKT_OK;
    }
    if (strcmp(key, "random_values") == 0 || strcmp(key, "random-values") == 0) {
        if (!value || strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
            s->random_values = true;
        else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0)
            s->random_values = false;
        else
            return vkt_fail(err, VKT_ERR_ARG,
                            "negotiation: random_values=%s must be 0/1/true/false", value);
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_ARG,
                    "negotiation: unknown option '%s' (options: turns=N, random_values)", key);
}

static vkt_status neg_reset(void *state, uint64_t seed, vkt_error *err) {
    vkt_negotiation *s = state;
    int turns = s->max_turns;
    bool rv = s->random_values;
    memset(s, 0, sizeof *s);
    s->max_turns = turns;
    s->random_values = rv;
    vkt_rng_seed(&s->rng, seed);
    static const int fixed[2][2] = {{5, 15}, {15, 5}};
    for (int p = 0; p < 2; p++)
        for (int r = 0; r < 2; r++) {
            s->values[p][r] = rv ? 5 + (int)vkt_rng_below(&s->rng, 21) : fixed[p][r];
            s->inv[p][r] = VKT_NEG_START;
        }
    s->pending = -1;
    return VKT_OK;
}

static int neg_current(const void *state) {
    const vkt_negotiation *s = state;
    return s->turn >= s->max_turns ? VKT_TERMINAL : s->turn % 2;
}

static bool offer_feasible(const vkt_negotiation *s, int p, vkt_neg_offer o) {
    return o.give <= s->inv[p][o.give_res] && o.recv <= s->inv[1 - p][1 - o.give_res];
}

static int neg_legal(const void *state, int *out) {
    const vkt_negotiation *s = state;
    int p = neg_current(s);
    if (p == VKT_TERMINAL) return 0;
    int n = 0;
    if (s->pending >= 0) out[n++] = VKT_NEG_ACCEPT;
    out[n++] = VKT_NEG_DENY;
    for (int r = 0; r < 2; r++)
        for (int give = 1; give <= s->inv[p][r]; give++)
            for (int recv = 1; recv <= s->inv[1 - p][1 - r]; recv++)
                out[n++] = vkt_negotiation_offer_id((vkt_neg_offer){r, give, recv});
    return n;
}

static void offer_text(vkt_neg_offer o, char *buf, size_t cap) {
    snprintf(buf, cap, "Offer: %d %s -> %d %s", o.give, res_name[o.give_res], o.recv,
             res_name[1 - o.give_res]);
}

static vkt_status neg_action_text(const void *state, int a, char *buf, size_t cap, vkt_error *err) {
    vkt_neg_offer o = {0, 0, 0};
    if (a == VKT_NEG_ACCEPT)
        snprintf(buf, cap, "Accept");
    else if (a == VKT_NEG_DENY)
        snprintf(buf, cap, "Deny");
    else if (vkt_negotiation_offer(a, &o))
        offer_text(o, buf, cap);
    else
        return vkt_fail(err, VKT_ERR_ARG, "negotiation: action %d is out of range 0..%d", a,
                        VKT_NEG_NUM_ACTIONS - 1);
    return VKT_OK;
}

static vkt_status neg_apply(void *state, int a, vkt_error *err) {
    vkt_negotiation *s = state;
    int p = neg_current(s);
    if (p == VKT_TERMINAL)
        return vkt_fail(err, VKT_ERR_ARG, "negotiation: action %d after the game ended", a);
    vkt_neg_offer o = {0, 0, 0};
    if (a == VKT_NEG_ACCEPT) {
        if (s->pending < 0)
            return vkt_fail(err, VKT_ERR_ARG,
                            "negotiation: player %d accepted, but no offer is addressed to them",
                            p);
        vkt_negotiation_offer(s->pending, &o);
        int q = 1 - p; // the proposer
        if (!offer_feasible(s, q, o))
            return vkt_fail(err, VKT_ERR_ARG,
                            "negotiation: the pending offer is no longer feasible");
        s->inv[q][o.give_res] -= o.give;
        s->inv[p][o.give_res] += o.give;
        s->inv[p][1 - o.give_res] -= o.recv;
        s->inv[q][1 - o.give_res] += o.recv;
        s->trades++;
        s->pending = -1;
    } else if (a == VKT_NEG_DENY) {
        s->pending = -1;
    } else if (vkt_negotiation_offer(a, &o)) {
        if (!offer_feasible(s, p, o)) {
            char t[64];
            offer_text(o, t, sizeof t);
            return vkt_fail(err, VKT_ERR_ARG,
                            "negotiation: player %d cannot make '%s': holds %d Wood, %d Gold; "
                            "opponent %d Wood, %d Gold",
                            p, t, s->inv[p][0], s->inv[p][1], s->inv[1 - p][0], s->inv[1 - p][1]);
        }
        s->pending = a;
    } else {
        return vkt_fail(err, VKT_ERR_ARG, "negotiation: action %d is out of range 0..%d", a,
                        VKT_NEG_NUM_ACTIONS - 1);
    }
    s->log[s->turn++] = (int16_t)a;
    return VKT_OK;
}

static void neg_returns(const void *state, double *out) {
    const vkt_negotiation *s = state;
    out[0] = out[1] = 0;
    if (s->turn < s->max_turns) return;
    int g0 = vkt_negotiation_gain(s, 0), g1 = vkt_negotiation_gain(s, 1);
    if (g0 != g1) {
        out[0] = g0 > g1 ? 1 : -1;
        out[1] = -out[0];
    }
}

static size_t neg_describe(const void *state, int player, char *buf, size_t cap) {
    const vkt_negotiation *s = state;
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    const int *v = s->values[player];
    vkt_textbuf_printf(
        &t,
        "You are Player %d in a negotiation game against Player %d.\n"
        "Rules: both players start with %d Wood and %d Gold. You value Wood at %d and Gold at %d "
        "per unit; your opponent values them in their own way. The game lasts %d turns in total, "
        "one action a turn, players alternating; Player 0 acts first. On your turn you may offer a "
        "trade, [Offer: X Wood -> Y Gold] (you give X Wood and receive Y Gold) or "
        "[Offer: X Gold -> Y Wood], with X at most what you hold and Y at most what your opponent "
        "holds; [Accept] the offer your opponent made on the previous turn; or [Deny] it (or "
        "pass). "
        "An offer not accepted on the next turn lapses; a counter-offer denies it. Whoever gains "
        "more inventory value by their own values wins; equal gains draw.\n"
        "Give your move in brackets, e.g. [Offer: 3 Wood -> 2 Gold].\n",
        player, 1 - player, VKT_NEG_START, VKT_NEG_START, v[0], v[1], s->max_turns);
    vkt_textbuf_printf(&t, "History:");
    if (s->turn == 0)
        vkt_textbuf_printf(&t, " none.\n");
    else
        vkt_textbuf_printf(&t, "\n");
    for (int i = 0; i < s->turn; i++) {
        int who = i % 2;
        char a[64];
        neg_action_text(s, s->log[i], a, sizeof a, NULL);
        vkt_textbuf_printf(&t, "  Turn %d: %s: [%s]\n", i + 1, who == player ? "you" : "opponent",
                           a);
    }
    int me = player, op = 1 - player;
    vkt_textbuf_printf(&t,
                       "You hold %d Wood and %d Gold (value %d, gain %+d). Your opponent holds %d "
                       "Wood and %d Gold.\n",
                       s->inv[me][0], s->inv[me][1], vkt_negotiation_value(s, me),
                       vkt_negotiation_gain(s, me), s->inv[op][0], s->inv[op][1]);
    if (s->turn < s->max_turns) {
        vkt_textbuf_printf(&t, "Turn %d of %d.", s->turn + 1, s->max_turns);
        if (s->pending >= 0 && neg_current(s) == player) {
            vkt_neg_offer o = {0, 0, 0};
            vkt_negotiation_offer(s->pending, &o);
            vkt_textbuf_printf(
                &t, " Your opponent offers to give you %d %s for %d %s; [Accept] makes the trade.",
                o.give, res_name[o.give_res], o.recv, res_name[1 - o.give_res]);
        }
        vkt_textbuf_printf(&t, "\n");
    } else {
        int gm = vkt_negotiation_gain(s, me), go = vkt_negotiation_gain(s, op);
        vkt_textbuf_printf(&t, "The game is over: your gain %+d, opponent's gain %+d: %s.\n", gm,
                           go,
                           gm > go   ? "you win"
                           : gm < go ? "you lose"
                                     : "a draw");
    }
    return vkt_textbuf_len(&t);
}

static size_t neg_moves_hint(const void *state, char *buf, size_t cap) {
    const vkt_negotiation *s = state;
    int p = neg_current(s);
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    if (p == VKT_TERMINAL) return 0;
    vkt_textbuf_printf(&t, "Available Moves: ");
    if (s->pending >= 0) vkt_textbuf_printf(&t, "[Accept], ");
    vkt_textbuf_printf(&t, "[Deny]");
    for (int r = 0; r < 2; r++) {
        int mine = s->inv[p][r], theirs = s->inv[1 - p][1 - r];
        if (mine > 0 && theirs > 0)
            vkt_textbuf_printf(&t, ", [Offer: X %s -> Y %s] with 1 <= X <= %d and 1 <= Y <= %d",
                               res_name[r], res_name[1 - r], mine, theirs);
    }
    return vkt_textbuf_len(&t);
}

_Static_assert(sizeof(vkt_negotiation) <= VKT_GAME_STATE_BYTES, "negotiation state too large");
_Static_assert(VKT_NEG_NUM_ACTIONS <= VKT_GAME_MAX_LEGAL,
               "negotiation has more actions than VKT_GAME_MAX_LEGAL");

const vkt_game_ops vkt_negotiation_ops = {
    .name = "negotiation",
    .summary = "SPIRAL's SimpleNegotiation: trade Wood and Gold for 10 turns",
    .options = "turns=N (2..50, default 10), random_values",
    .num_players = 2,
    .num_actions = VKT_NEG_NUM_ACTIONS,
    .state_size = sizeof(vkt_negotiation),
    .case_sensitive = false,
    .defaults = neg_defaults,
    .set_option = neg_set_option,
    .reset = neg_reset,
    .current_player = neg_current,
    .legal_actions = neg_legal,
    .action_text = neg_action_text,
    .apply = neg_apply,
    .returns = neg_returns,
    .describe = neg_describe,
    .moves_hint = neg_moves_hint,
};
