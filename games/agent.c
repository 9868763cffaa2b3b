// agent.c: agent specs, the checked act() wrapper, and the random agent.
#include "agent.h"
#include "offswitch_game.h"

#include <stdlib.h>
#include <string.h>

#include "kuhn.h"
#include "kuhn_policy.h"
#include "negotiation.h"
#include "tictactoe.h"

// Constructors of the other built-in agents (agent_*.c).
vkt_status vkt_agent_minimax_create(vkt_agent *out, vkt_error *err);
vkt_status vkt_agent_greedy_create(vkt_agent *out, vkt_error *err);
vkt_status vkt_agent_kuhn_policy_create(const vkt_kuhn_policy *pi, const char *name, vkt_agent *out,
                                        vkt_error *err);

static vkt_status random_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                             vkt_error *err) {
    int acts[VKT_GAME_MAX_LEGAL];
    int n = vkt_game_legal_actions(g, acts);
    if (n == 0)
        return vkt_fail(err, VKT_ERR_ARG, "random agent: %s has no legal action", vkt_game_name(g));
    *action = acts[vkt_rng_below(rng, (uint64_t)n)];
    return VKT_OK;
}

static vkt_status random_probs(void *self, const vkt_game *g, int player, const int *acts, int n,
                               double *p, vkt_error *err) {
    for (int i = 0; i < n; i++) p[i] = 1.0 / n;
    return VKT_OK;
}

vkt_agent vkt_agent_random(void) {
    return (vkt_agent){
        .self = NULL, .name = "random", .act = random_act, .probs = random_probs, .destroy = NULL};
}

const char *vkt_agent_specs(const vkt_game_ops *game) {
    if (game == &vkt_tictactoe_ops) return "random, minimax, human";
    if (game == &vkt_kuhn_ops)
        return "random, nash[:alpha], always-bet, always-pass, policy:FILE, human";
    if (game == &vkt_negotiation_ops) return "random, greedy, human";
    if (game == &vkt_offswitch_game_ops)
        return "random, oracle (the optimal choice from the exact values), always-act, always-off, "
               "always-wait, human";
    return "random, human";
}

static vkt_status unknown(const char *spec, const vkt_game_ops *game, vkt_error *err) {
    return vkt_fail(err, VKT_ERR_ARG, "agent '%s' is not available for %s (agents: %s)", spec,
                    game->name, vkt_agent_specs(game));
}

vkt_status vkt_agent_create(const char *spec, const vkt_game_ops *game, vkt_agent *out,
                            vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (!spec || !game) return vkt_fail(err, VKT_ERR_ARG, "agent: no spec or game given");
    if (strcmp(spec, "random") == 0) {
        *out = vkt_agent_random();
        return VKT_OK;
    }
    if (game == &vkt_tictactoe_ops && strcmp(spec, "minimax") == 0)
        return vkt_agent_minimax_create(out, err);
    if (game == &vkt_negotiation_ops && strcmp(spec, "greedy") == 0)
        return vkt_agent_greedy_create(out, err);
    if (game == &vkt_offswitch_game_ops && strcmp(spec, "oracle") == 0) {
        *out = vkt_offswitch_oracle_agent();
        return VKT_OK;
    }
    if (game == &vkt_offswitch_game_ops && strncmp(spec, "always-", 7) == 0) {
        const char *choice[3] = {"act", "off", "wait"};
        for (int c = 0; c < 3; c++)
            if (strcmp(spec + 7, choice[c]) == 0) {
                *out = vkt_offswitch_fixed_agent((vkt_offswitch_choice)c);
                return VKT_OK;
            }
    }
    if (game == &vkt_kuhn_ops) {
        bool builtin = strcmp(spec, "always-bet") == 0 || strcmp(spec, "always-pass") == 0 ||
                       strcmp(spec, "nash") == 0 || strncmp(spec, "nash:", 5) == 0;
        bool file = strncmp(spec, "policy:", 7) == 0;
        if (builtin || file) {
            vkt_kuhn_policy pi;
            VKT_TRY(vkt_kuhn_policy_from_spec(builtin ? spec : spec + 7, &pi, err));
            return vkt_agent_kuhn_policy_create(&pi, spec, out, err);
        }
    }
    return unknown(spec, game, err);
}

void vkt_agent_destroy(vkt_agent *a) {
    if (a && a->destroy) a->destroy(a->self);
    if (a) memset(a, 0, sizeof *a);
}

vkt_status vkt_agent_act(vkt_agent *a, const vkt_game *g, int player, vkt_rng *rng, int *action,
                         vkt_error *err) {
    *action = VKT_ACTION_INVALID;
    if (vkt_game_current_player(g) != player)
        return vkt_fail(err, VKT_ERR_ARG,
                        "agent %s: asked to move for player %d, but player %d is to move", a->name,
                        player, vkt_game_current_player(g));
    VKT_TRY(a->act(a->self, g, player, rng, action, err));
    if (*action != VKT_ACTION_INVALID && !vkt_game_is_legal(g, *action))
        return vkt_fail(err, VKT_ERR_ARG, "agent %s: chose action %d, which is not legal in %s",
                        a->name, *action, vkt_game_name(g));
    return VKT_OK;
}
