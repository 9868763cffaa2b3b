// game.c: the registry of games and the thin wrappers over each game's ops that add
// what every game shares: spec parsing, and ending a game on an invalid move.
#include "game.h"

#include <stdio.h>
#include <string.h>

#include "kuhn.h"
#include "negotiation.h"
#include "offswitch_game.h"
#include "tictactoe.h"

// To add a game: declare its ops in its header and list it here.
static const vkt_game_ops *const registry[] = {
    &vkt_tictactoe_ops, &vkt_kuhn_ops, &vkt_negotiation_ops, &vkt_offswitch_game_ops, NULL,
};

const vkt_game_ops *const *vkt_game_list(void) { return registry; }

const vkt_game_ops *vkt_game_find(const char *name) {
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

static void list_names(char *buf, size_t cap) {
    buf[0] = 0;
    for (int i = 0; registry[i]; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", registry[i]->name);
    }
}

vkt_status vkt_game_create(vkt_game *g, const char *spec, vkt_error *err) {
    if (!g || !spec) return vkt_fail(err, VKT_ERR_ARG, "game: no game spec given");
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return vkt_fail(err, VKT_ERR_ARG, "game: spec '%.40s...' is too long", spec);
    strcpy(buf, spec);
    char *opts = strchr(buf, ':');
    if (opts) *opts++ = 0;
    const vkt_game_ops *ops = vkt_game_find(buf);
    if (!ops) {
        char names[256];
        list_names(names, sizeof names);
        return vkt_fail(err, VKT_ERR_ARG, "game: unknown game '%s' (games: %s)", buf, names);
    }
    memset(g, 0, sizeof *g);
    g->ops = ops;
    g->invalid_rule = VKT_INVALID_EVAL;
    g->forfeited_by = -1;
    ops->defaults(g->state);
    // "key=value,key=value"; a bare key is a flag.
    for (char *tok = opts; tok && *tok;) {
        char *next = strchr(tok, ',');
        if (next) *next++ = 0;
        char *eq = strchr(tok, '=');
        if (eq) *eq++ = 0;
        VKT_TRY(vkt_game_set_option(g, tok, eq, err));
        tok = next;
    }
    return VKT_OK;
}

vkt_status vkt_game_set_option(vkt_game *g, const char *key, const char *value, vkt_error *err) {
    if (!key || !*key) return vkt_fail(err, VKT_ERR_ARG, "%s: empty option name", g->ops->name);
    if (!g->ops->set_option)
        return vkt_fail(err, VKT_ERR_ARG, "%s: has no options (got '%s')", g->ops->name, key);
    return g->ops->set_option(g->state, key, value, err);
}

void vkt_game_set_invalid_rule(vkt_game *g, vkt_invalid_rule rule) { g->invalid_rule = rule; }

vkt_status vkt_game_reset(vkt_game *g, uint64_t seed, vkt_error *err) {
    g->forfeited_by = -1;
    return g->ops->reset(g->state, seed, err);
}

int vkt_game_current_player(const vkt_game *g) {
    if (g->forfeited_by >= 0) return VKT_TERMINAL;
    return g->ops->current_player(g->state);
}

bool vkt_game_is_terminal(const vkt_game *g) { return vkt_game_current_player(g) == VKT_TERMINAL; }
int vkt_game_num_players(const vkt_game *g) { return g->ops->num_players; }
const char *vkt_game_name(const vkt_game *g) { return g->ops->name; }

int vkt_game_legal_actions(const vkt_game *g, int *out) {
    if (vkt_game_is_terminal(g)) return 0;
    return g->ops->legal_actions(g->state, out);
}

bool vkt_game_is_legal(const vkt_game *g, int action) {
    int acts[VKT_GAME_MAX_LEGAL];
    int n = vkt_game_legal_actions(g, acts);
    for (int i = 0; i < n; i++)
        if (acts[i] == action) return true;
    return false;
}

vkt_status vkt_game_action_text(const vkt_game *g, int action, char *buf, size_t cap,
                                vkt_error *err) {
    if (cap) buf[0] = 0;
    return g->ops->action_text(g->state, action, buf, cap, err);
}

vkt_status vkt_game_apply(vkt_game *g, int action, vkt_error *err) {
    if (vkt_game_is_terminal(g))
        return vkt_fail(err, VKT_ERR_ARG, "%s: action %d played after the game ended", g->ops->name,
                        action);
    return g->ops->apply(g->state, action, err);
}

void vkt_game_forfeit(vkt_game *g, int player) {
    if (player < 0 || player >= g->ops->num_players) return;
    g->forfeited_by = player;
}

void vkt_game_returns(const vkt_game *g, double *out) {
    int n = g->ops->num_players;
    if (g->forfeited_by >= 0) {
        for (int p = 0; p < n; p++)
            out[p] = p == g->forfeited_by ? g->invalid_rule.offender : g->invalid_rule.others;
        return;
    }
    for (int p = 0; p < n; p++) out[p] = 0;
    g->ops->returns(g->state, out);
}

void vkt_game_clone(vkt_game *dst, const vkt_game *src) {
    if (dst != src) memcpy(dst, src, sizeof *dst);
}
