// kuhn.c: the Kuhn Poker engine, one hand or a match of hands.
#include "kuhn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

static const char card_name[3] = {'J', 'Q', 'K'};

const vkt_kuhn *vkt_kuhn_state(const vkt_game *g) {
    return g->ops == &vkt_kuhn_ops ? (const vkt_kuhn *)g->state : NULL;
}

static void deal(vkt_kuhn *s) {
    vkt_kuhn_hand *h = &s->hands[s->hand];
    memset(h, 0, sizeof *h);
    // Uniform over the 6 ordered deals: first seat's card, then one of the other two.
    int c0 = (int)vkt_rng_below(&s->rng, 3);
    int c1 = (c0 + 1 + (int)vkt_rng_below(&s->rng, 2)) % 3;
    h->cards[0] = (int8_t)c0;
    h->cards[1] = (int8_t)c1;
    h->first = (int8_t)(s->hand % 2);
    h->winner = -1;
}

static void kuhn_defaults(void *state) {
    vkt_kuhn *s = state;
    s->rounds = 1;
    s->reward = VKT_KUHN_REWARD_DEFAULT;
}

static vkt_status kuhn_set_option(void *state, const char *key, const char *value, vkt_error *err) {
    vkt_kuhn *s = state;
    if (strcmp(key, "rounds") == 0) {
        char *end;
        long n = value ? strtol(value, &end, 10) : 0;
        if (!value || *end || n < 1 || n > VKT_KUHN_MAX_ROUNDS)
            return vkt_fail(err, VKT_ERR_ARG, "kuhn: rounds=%s must be an integer in 1..%d",
                            value ? value : "", VKT_KUHN_MAX_ROUNDS);
        s->rounds = (int)n;
        return VKT_OK;
    }
    if (strcmp(key, "reward") == 0) {
        if (value && strcmp(value, "chips") == 0)
            s->reward = VKT_KUHN_REWARD_CHIPS;
        else if (value && strcmp(value, "outcome") == 0)
            s->reward = VKT_KUHN_REWARD_OUTCOME;
        else
            return vkt_fail(err, VKT_ERR_ARG, "kuhn: reward=%s must be chips or outcome",
                            value ? value : "");
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_ARG,
                    "kuhn: unknown option '%s' (options: rounds=N, reward=chips|outcome)", key);
}

static vkt_status kuhn_reset(void *state, uint64_t seed, vkt_error *err) {
    vkt_kuhn *s = state;
    int rounds = s->rounds;
    vkt_kuhn_reward reward = s->reward;
    memset(s, 0, sizeof *s);
    s->rounds = rounds;
    s->reward = reward;
    vkt_rng_seed(&s->rng, seed);
    deal(s);
    return VKT_OK;
}

static int kuhn_current(const void *state) {
    const vkt_kuhn *s = state;
    if (s->hand >= s->rounds) return VKT_TERMINAL;
    const vkt_kuhn_hand *h = &s->hands[s->hand];
    return (h->first + h->nh) % 2;
}

static bool facing_bet(const vkt_kuhn_hand *h) { return h->nh > 0 && h->hist[h->nh - 1] == 'b'; }

static int kuhn_legal(const void *state, int *out) {
    if (kuhn_current(state) == VKT_TERMINAL) return 0;
    out[0] = VKT_KUHN_PASS;
    out[1] = VKT_KUHN_BET;
    return 2;
}

static vkt_status kuhn_action_text(const void *state, int a, char *buf, size_t cap,
                                   vkt_error *err) {
    const vkt_kuhn *s = state;
    if (a != VKT_KUHN_PASS && a != VKT_KUHN_BET)
        return vkt_fail(err, VKT_ERR_ARG, "kuhn: action %d is not 0 (pass) or 1 (bet)", a);
    bool facing = s->hand < s->rounds && facing_bet(&s->hands[s->hand]);
    snprintf(buf, cap, "%s", facing ? (a ? "Call" : "Fold") : (a ? "Bet" : "Check"));
    return VKT_OK;
}

// Settles a finished betting sequence: who takes the pot and how much they gain.
static bool settle(vkt_kuhn_hand *h) {
    const char *x = h->hist;
    int first = h->first, second = 1 - first;
    int high = h->cards[0] > h->cards[1] ? 0 : 1;
    if (strcmp(x, "pp") == 0) {
        h->winner = (int8_t)high;
        h->amount = 1;
        h->showdown = 1;
    } else if (strcmp(x, "bb") == 0 || strcmp(x, "pbb") == 0) {
        h->winner = (int8_t)high;
        h->amount = 2;
        h->showdown = 1;
    } else if (strcmp(x, "bp") == 0) {
        h->winner = (int8_t)first;
        h->amount = 1;
    } else if (strcmp(x, "pbp") == 0) {
        h->winner = (int8_t)second;
        h->amount = 1;
    } else
        return false;
    return true;
}

static vkt_status kuhn_apply(void *state, int a, vkt_error *err) {
    vkt_kuhn *s = state;
    if (kuhn_current(s) == VKT_TERMINAL)
        return vkt_fail(err, VKT_ERR_ARG, "kuhn: action %d after the match ended", a);
    if (a != VKT_KUHN_PASS && a != VKT_KUHN_BET)
        return vkt_fail(err, VKT_ERR_ARG, "kuhn: action %d is not 0 (pass) or 1 (bet)", a);
    vkt_kuhn_hand *h = &s->hands[s->hand];
    h->hist[h->nh++] = a ? 'b' : 'p';
    h->hist[h->nh] = 0;
    if (settle(h)) {
        s->chips[h->winner] += h->amount;
        s->chips[1 - h->winner] -= h->amount;
        s->hand++;
        if (s->hand < s->rounds) deal(s);
    }
    return VKT_OK;
}

static void kuhn_returns(const void *state, double *out) {
    const vkt_kuhn *s = state;
    out[0] = out[1] = 0;
    if (s->hand < s->rounds) return;
    bool outcome = s->reward == VKT_KUHN_REWARD_OUTCOME ||
                   (s->reward == VKT_KUHN_REWARD_DEFAULT && s->rounds > 1);
    for (int p = 0; p < 2; p++)
        out[p] = outcome ? (s->chips[p] > 0) - (s->chips[p] < 0) : s->chips[p];
}

static const char *verb(char c, bool facing) {
    return c == 'b' ? (facing ? "called" : "bet") : (facing ? "folded" : "checked");
}

static void describe_actions(vkt_textbuf *t, const vkt_kuhn_hand *h, int player) {
    if (h->nh == 0) {
        vkt_textbuf_printf(t, "none");
        return;
    }
    for (int i = 0; i < h->nh; i++) {
        int seat = (h->first + i) % 2;
        bool facing = i > 0 && h->hist[i - 1] == 'b';
        vkt_textbuf_printf(t, "%s%s %s", i ? ", " : "", seat == player ? "you" : "opponent",
                           verb(h->hist[i], facing));
    }
}

static size_t kuhn_describe(const void *state, int player, char *buf, size_t cap) {
    const vkt_kuhn *s = state;
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    vkt_textbuf_printf(
        &t,
        "You are Player %d in a game of Kuhn Poker against Player %d.\n"
        "Rules: the deck has three cards, J < Q < K. Each hand both players put 1 chip in the pot "
        "and get one card; the third card is not used. The first to act may [Check] or [Bet] "
        "(add 1 chip). After a check the other player may [Check], and the higher card wins "
        "the pot, or [Bet]. Facing a bet a player may [Fold], and the bettor wins the pot, or "
        "[Call] (add 1 chip), and the higher card wins the pot.\n",
        player, 1 - player);
    if (s->rounds > 1)
        vkt_textbuf_printf(
            &t,
            "The match has %d hands. Player 0 acts first in hand 1, and the first player "
            "alternates; whoever has won more chips after the last hand wins the match.\n",
            s->rounds);
    vkt_textbuf_printf(&t, "Give your move in brackets, e.g. [Check].\n");
    int done = s->hand < s->rounds ? s->hand : s->rounds;
    for (int k = 0; k < done; k++) {
        const vkt_kuhn_hand *h = &s->hands[k];
        if (s->rounds > 1) vkt_textbuf_printf(&t, "Hand %d: ", k + 1);
        vkt_textbuf_printf(&t, "your card %c", card_name[h->cards[player]]);
        if (h->showdown)
            vkt_textbuf_printf(&t, ", opponent's card %c", card_name[h->cards[1 - player]]);
        vkt_textbuf_printf(&t, "; ");
        describe_actions(&t, h, player);
        vkt_textbuf_printf(&t, "; %s %s %d chip%s.\n", h->winner == player ? "you" : "opponent",
                           h->winner == player ? "win" : "wins", h->amount,
                           h->amount > 1 ? "s" : "");
    }
    if (s->rounds > 1)
        vkt_textbuf_printf(&t, "Chips so far: you %+d, opponent %+d.\n", s->chips[player],
                           s->chips[1 - player]);
    if (s->hand < s->rounds) {
        const vkt_kuhn_hand *h = &s->hands[s->hand];
        if (s->rounds > 1)
            vkt_textbuf_printf(&t, "Hand %d of %d: you act %s.\n", s->hand + 1, s->rounds,
                               h->first == player ? "first" : "second");
        vkt_textbuf_printf(&t, "Your card: %c\nActions this hand: ", card_name[h->cards[player]]);
        describe_actions(&t, h, player);
        vkt_textbuf_printf(&t, ".\n");
    } else {
        double r[2];
        kuhn_returns(s, r);
        vkt_textbuf_printf(&t, "The game is over: %s.\n",
                           r[player] > 0   ? "you win"
                           : r[player] < 0 ? "you lose"
                                           : "a draw");
    }
    return vkt_textbuf_len(&t);
}

vkt_status vkt_kuhn_set_hand(vkt_game *g, int card0, int card1, const char *hist, vkt_error *err) {
    if (g->ops != &vkt_kuhn_ops)
        return vkt_fail(err, VKT_ERR_ARG, "kuhn_set_hand: game is %s, not kuhn", g->ops->name);
    vkt_kuhn *s = (vkt_kuhn *)g->state;
    if (card0 < 0 || card0 > 2 || card1 < 0 || card1 > 2 || card0 == card1)
        return vkt_fail(err, VKT_ERR_ARG,
                        "kuhn_set_hand: cards %d,%d must be two different cards in 0..2", card0,
                        card1);
    if (strcmp(hist, "") && strcmp(hist, "p") && strcmp(hist, "b") && strcmp(hist, "pb"))
        return vkt_fail(err, VKT_ERR_ARG,
                        "kuhn_set_hand: history '%s' is not a decision point (\"\", p, b, pb)",
                        hist);
    g->forfeited_by = -1;
    s->hand = 0;
    s->chips[0] = s->chips[1] = 0;
    vkt_kuhn_hand *h = &s->hands[0];
    memset(h, 0, sizeof *h);
    h->cards[0] = (int8_t)card0;
    h->cards[1] = (int8_t)card1;
    h->winner = -1;
    h->nh = (int8_t)strlen(hist);
    memcpy(h->hist, hist, (size_t)h->nh + 1);
    return VKT_OK;
}

void vkt_kuhn_info_state(const vkt_game *g, char *buf) {
    const vkt_kuhn *s = vkt_kuhn_state(g);
    buf[0] = 0;
    if (!s || s->hand >= s->rounds) return;
    const vkt_kuhn_hand *h = &s->hands[s->hand];
    snprintf(buf, 8, "%d%s", h->cards[kuhn_current(s)], h->hist);
}

_Static_assert(sizeof(vkt_kuhn) <= VKT_GAME_STATE_BYTES, "kuhn state too large");

const vkt_game_ops vkt_kuhn_ops = {
    .name = "kuhn",
    .summary = "Kuhn Poker (OpenSpiel rules), one hand or a match of hands",
    .options = "rounds=N (1..100, default 1), reward=chips|outcome",
    .num_players = 2,
    .num_actions = 2,
    .state_size = sizeof(vkt_kuhn),
    .case_sensitive = false,
    .defaults = kuhn_defaults,
    .set_option = kuhn_set_option,
    .reset = kuhn_reset,
    .current_player = kuhn_current,
    .legal_actions = kuhn_legal,
    .action_text = kuhn_action_text,
    .apply = kuhn_apply,
    .returns = kuhn_returns,
    .describe = kuhn_describe,
    .moves_hint = NULL,
};
