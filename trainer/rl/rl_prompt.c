// rl_prompt.c: compact role-conditioned prompts and the random-play warm-up data (see rl_prompt.h).
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kuhn.h"
#include "negotiation.h"
#include "offswitch_game.h"
#include "protocol.h"
#include "rl_prompt.h"
#include "textbuf.h"
#include "tictactoe.h"

static void game_title(const vkt_game *g, char *out, size_t cap) {
    const char *n = vkt_game_name(g);
    snprintf(out, cap, "%s", n);
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
}

// " [A] [B] ...": the legal actions' texts in id order.
static void moves_list(vkt_textbuf *t, const vkt_game *g) {
    int acts[VKT_GAME_MAX_LEGAL], n = vkt_game_legal_actions(g, acts);
    for (int i = 0; i < n; i++) {
        char a[VKT_ACTION_TEXT_MAX];
        if (vkt_game_action_text(g, acts[i], a, sizeof a, NULL) != VKT_OK) a[0] = 0;
        vkt_textbuf_printf(t, " [%s]", a);
    }
}

static void kuhn_line(vkt_textbuf *t, const vkt_game *g, const vkt_kuhn *k, int player) {
    static const char card[3] = {'J', 'Q', 'K'};
    const vkt_kuhn_hand *h = &k->hands[k->hand];
    // The card last, next to where the answer starts: with it in the middle, a 2 x 64
    // model's responses stayed card-blind for 12k games (docs/selfplay.md).
    vkt_textbuf_printf(t, "Kuhn P%d hist %s moves", player, h->nh ? h->hist : "-");
    moves_list(t, g);
    vkt_textbuf_printf(t, " card %c\n", card[h->cards[player]]);
}

// The board with each empty cell as its own number: the legal answers are exactly the
// digits on the board, always at the same positions (a prompt of fixed length), which a
// tiny model learns to copy far sooner than a separate list of moves (docs/selfplay.md).
static void tictactoe_line(vkt_textbuf *t, const vkt_tictactoe *s, int player) {
    char b[12];
    for (int r = 0, k = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) {
            int v = s->board[3 * r + c];
            b[k++] = v < 0 ? (char)('0' + 3 * r + c) : v == 0 ? 'X' : 'O';
        }
        b[k++] = r < 2 ? '|' : 0;
    }
    vkt_textbuf_printf(t, "TicTacToe P%d %c board %s\n", player, player == 0 ? 'X' : 'O', b);
}

static const char *const res_name[2] = {"Wood", "Gold"};

// Negotiation's fields, so the length bound renders the widest case with the same code.
static void negotiation_fields(vkt_textbuf *t, int player, int turn, int max_turns,
                               const int values[2], const int mine[2], const int opp[2],
                               int get_res, int get, int give) {
    vkt_textbuf_printf(
        t, "Negotiation P%d turn %d/%d values W%d G%d you W%d G%d opp W%d G%d offer ", player, turn,
        max_turns, values[0], values[1], mine[0], mine[1], opp[0], opp[1]);
    if (get_res < 0)
        vkt_textbuf_printf(t, "none\n");
    else
        vkt_textbuf_printf(t, "+%d %s -%d %s\n", get, res_name[get_res], give,
                           res_name[1 - get_res]);
}

static void negotiation_line(vkt_textbuf *t, const vkt_negotiation *s, int player) {
    vkt_neg_offer o;
    int get_res = -1, get = 0, give = 0;
    // The pending offer was made by the opponent: what they give, the mover gets.
    if (s->pending >= 0 && vkt_negotiation_offer(s->pending, &o))
        get_res = o.give_res, get = o.give, give = o.recv;
    negotiation_fields(t, player, s->turn + 1, s->max_turns, s->values[player], s->inv[player],
                       s->inv[1 - player], get_res, get, give);
}

static void offswitch_fields(vkt_textbuf *t, double mu, double sigma, bool noisy, double h) {
    vkt_textbuf_printf(t, "Offswitch P0 mean %.2f spread %.2f %s %.2f moves [act] [off] [wait]\n",
                       mu + 0.0, sigma, noisy ? "error" : "noise", h);
}

static void offswitch_line(vkt_textbuf *t, const vkt_offswitch_episode *e) {
    const vkt_offswitch_human *h = &e->human;
    double x = h->kind == VKT_OFFSWITCH_BOLTZMANN ? h->beta
               : h->kind == VKT_OFFSWITCH_NOISY   ? h->eps
                                                  : 0;
    offswitch_fields(t, e->prior.mu, e->prior.sigma, h->kind == VKT_OFFSWITCH_NOISY, x);
}

size_t vkt_rl_prompt(const vkt_game *g, int player, char *buf, size_t cap) {
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    const vkt_kuhn *k = vkt_kuhn_state(g);
    if (k && k->rounds == 1 && k->hand < k->rounds) {
        kuhn_line(&t, g, k, player);
        return vkt_textbuf_len(&t);
    }
    if (vkt_tictactoe_state(g) && !vkt_game_is_terminal(g)) {
        tictactoe_line(&t, vkt_tictactoe_state(g), player);
        return vkt_textbuf_len(&t);
    }
    if (vkt_negotiation_state(g) && !vkt_game_is_terminal(g)) {
        negotiation_line(&t, vkt_negotiation_state(g), player);
        return vkt_textbuf_len(&t);
    }
    if (vkt_offswitch_game_episode(g) && !vkt_game_is_terminal(g)) {
        offswitch_line(&t, vkt_offswitch_game_episode(g));
        return vkt_textbuf_len(&t);
    }
    char title[32];
    game_title(g, title, sizeof title);
    vkt_textbuf_printf(&t, "%s P%d\n", title, player);
    size_t head = vkt_textbuf_len(&t), avail = head < cap ? cap - head : 0; // avail counts the NUL
    char one;
    size_t obs = vkt_protocol_observation(g, player, avail ? buf + head : &one, avail ? avail : 1);
    size_t total = head + obs + 1;
    if (total < cap) buf[head + obs] = '\n', buf[total] = 0;
    return total;
}

// The wider of two numbers as "%.2f" (the width grows with |x| and a sign, so a range's
// widest value is one of its ends).
static double wider(double a, double b) {
    return snprintf(NULL, 0, "%.2f", a + 0.0) >= snprintf(NULL, 0, "%.2f", b + 0.0) ? a : b;
}

size_t vkt_rl_prompt_max(const vkt_game *g) {
    char buf[256];
    vkt_textbuf t = vkt_textbuf_make(buf, sizeof buf);
    const vkt_kuhn *k = vkt_kuhn_state(g);
    if (k)
        return k->rounds == 1 ? 44
                              : 0; // "Kuhn P0 hist pb moves [Fold] [Call] card K\n" and the like
    if (vkt_tictactoe_state(g)) return 33; // "TicTacToe P0 X board 012|345|678\n": every state
    const vkt_negotiation *n = vkt_negotiation_state(g);
    if (n) { // two digits everywhere (values <= 25, holdings <= 20, turns <= 50)
        const int v[2] = {25, 25}, inv[2] = {VKT_NEG_MAX_QTY, VKT_NEG_MAX_QTY};
        negotiation_fields(&t, 1, VKT_NEG_MAX_TURNS, VKT_NEG_MAX_TURNS, v, inv, inv, 0,
                           VKT_NEG_MAX_QTY, VKT_NEG_MAX_QTY);
        return vkt_textbuf_len(&t);
    }
    const vkt_offswitch_episode *e = vkt_offswitch_game_episode(g);
    if (e) {
        double h = wider(wider(e->beta_lo, e->beta_hi), wider(e->eps_lo, e->eps_hi));
        offswitch_fields(&t, wider(e->mu_lo, e->mu_hi), wider(e->sigma_lo, e->sigma_hi), false, h);
        return vkt_textbuf_len(&t);
    }
    return 0;
}

vkt_status vkt_rl_answer(const vkt_game *g, int action, char *buf, size_t cap, vkt_error *err) {
    char a[VKT_ACTION_TEXT_MAX];
    VKT_TRY(vkt_game_action_text(g, action, a, sizeof a, err));
    snprintf(buf, cap, "[%s]", a);
    return VKT_OK;
}

size_t vkt_rl_think_suffix(int think, char *buf, size_t cap) {
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    if (think > 0) vkt_textbuf_printf(&t, " think<=%d then \\boxed{move}", think);
    return vkt_textbuf_len(&t);
}

size_t vkt_rl_prompt_think(const vkt_game *g, int player, int think, char *buf, size_t cap) {
    size_t n = vkt_rl_prompt(g, player, buf, cap);
    if (think <= 0 || n == 0) return n;
    // Every prompt ends with its newline: the suffix goes before it. What vkt_rl_prompt
    // wrote up to n - 1 is the full text's prefix, so a truncated result stays one too.
    vkt_textbuf t = {buf, buf ? cap : 0, n - 1};
    char suffix[64];
    vkt_rl_think_suffix(think, suffix, sizeof suffix);
    vkt_textbuf_printf(&t, "%s\n", suffix);
    return vkt_textbuf_len(&t);
}

vkt_status vkt_rl_answer_think(const vkt_game *g, int action, int think, char *buf, size_t cap,
                               vkt_error *err) {
    if (think <= 0) return vkt_rl_answer(g, action, buf, cap, err);
    char a[VKT_ACTION_TEXT_MAX];
    VKT_TRY(vkt_game_action_text(g, action, a, sizeof a, err));
    snprintf(buf, cap, "\\boxed{%s}", a);
    return VKT_OK;
}

vkt_status vkt_rl_prompt_tokens(const vkt_game *g, int player, const vkt_rl_fmt *f, int32_t **ids,
                                int *n, vkt_error *err) {
    const int think = f ? f->think : 0;
    size_t len = vkt_rl_prompt_think(g, player, think, NULL, 0);
    char *text = malloc(len + 1);
    if (!text) return vkt_fail(err, VKT_ERR_NOMEM, "prompt of %zu bytes", len);
    vkt_rl_prompt_think(g, player, think, text, len + 1);
    vkt_status s = vkt_rl_fmt_prompt_ids(f, text, len, ids, n, err);
    free(text);
    return s;
}

vkt_status vkt_rl_answer_tokens(const vkt_game *g, int action, const vkt_rl_fmt *f, int32_t *ids,
                                int cap, int *n, vkt_error *err) {
    char a[VKT_ACTION_TEXT_MAX + 8];
    VKT_TRY(vkt_rl_answer_think(g, action, f ? f->think : 0, a, sizeof a, err));
    return vkt_rl_fmt_answer_ids(f, a, ids, cap, n, err);
}

int vkt_rl_random_action(const vkt_game *g, vkt_rng *rng) {
    int acts[VKT_GAME_MAX_LEGAL], n = vkt_game_legal_actions(g, acts);
    if (n <= 0) return VKT_ACTION_INVALID;
    if (!vkt_negotiation_state(g)) return acts[vkt_rng_below(rng, (uint64_t)n)];
    // Negotiation: acts ascending, so [Accept] (0) and [Deny] (1) come first when legal.
    bool accept = acts[0] == VKT_NEG_ACCEPT;
    int first_offer = accept ? 2 : 1, offers = n - first_offer,
        kinds = (accept ? 2 : 1) + (offers > 0);
    int kind = (int)vkt_rng_below(rng, (uint64_t)kinds); // 0..: Accept (if legal), Deny, offer
    if (!accept) kind++;
    if (kind == 0) return VKT_NEG_ACCEPT;
    if (kind == 1) return VKT_NEG_DENY;
    return acts[first_offer + (int)vkt_rng_below(rng, (uint64_t)offers)];
}

vkt_status vkt_rl_warmup_write(FILE *f, const char *spec, int64_t games, uint64_t seed,
                               int64_t *lines, vkt_error *err) {
    return vkt_rl_warmup_write_think(f, spec, 0, games, seed, lines, err);
}

vkt_status vkt_rl_warmup_write_think(FILE *f, const char *spec, int think, int64_t games,
                                     uint64_t seed, int64_t *lines, vkt_error *err) {
    if (games < 0)
        return vkt_fail(err, VKT_ERR_ARG, "warmup: games %lld must be >= 0", (long long)games);
    vkt_game g;
    VKT_TRY(vkt_game_create(&g, spec, err));
    vkt_rng rng;
    vkt_rng_seed(&rng, seed);
    int64_t n = 0;
    size_t cap = 1 << 16;
    char *prompt = malloc(cap);
    if (!prompt) return vkt_fail(err, VKT_ERR_NOMEM, "warmup: prompt buffer");
    vkt_status s = VKT_OK;
    for (int64_t k = 0; k < games && s == VKT_OK; k++) {
        s = vkt_game_reset(&g, vkt_rng_derive(seed, (uint64_t)k), err);
        while (s == VKT_OK && !vkt_game_is_terminal(&g)) {
            int p = vkt_game_current_player(&g);
            int a = vkt_rl_random_action(&g, &rng);
            size_t need = vkt_rl_prompt_think(&g, p, think, prompt, cap);
            if (need >= cap) {
                s = vkt_fail(err, VKT_ERR_ARG, "warmup: prompt of %zu bytes is too long", need);
                break;
            }
            char ans[VKT_ACTION_TEXT_MAX + 8];
            s = vkt_rl_answer_think(&g, a, think, ans, sizeof ans, err);
            if (s != VKT_OK) break;
            json_t *o = json_object();
            json_object_set_new(o, "prompt", json_stringn(prompt, need));
            json_object_set_new(o, "completion", json_string(ans));
            char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
            if (!line || fprintf(f, "%s\n", line) < 0)
                s = vkt_fail(err, VKT_ERR_IO, "warmup: write failed");
            free(line);
            n++;
            if (s == VKT_OK) s = vkt_game_apply(&g, a, err);
        }
    }
    free(prompt);
    if (lines) *lines = n;
    return s;
}
