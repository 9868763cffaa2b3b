// kuhn_policy.h: tabular Kuhn Poker policies and their exact analysis.
//
// A policy gives, at each of OpenSpiel's 12 information states, the probability of
// the aggressive action (bet, or call when facing a bet). An information state is
// the acting player's card digit (0 = J, 1 = Q, 2 = K) then the history in p/b:
// player 0 (first to act) at "0","1","2","0pb","1pb","2pb"; player 1 at
// "0p","0b","1p","1b","2p","2b". Index i = card * 4 + h with h = "", "p", "b", "pb".
//
// JSON form: an object with all 12 keys, each a number in [0, 1] (P(aggressive)) or a
// two-element array [P(pass), P(bet)] summing to 1, as OpenSpiel's tabular policies.
// Values are in chips for player 0 (the first to act), one hand.
#ifndef VKT_KUHN_POLICY_H
#define VKT_KUHN_POLICY_H

#include "agent.h"
#include "status.h"

#define VKT_KUHN_INFOSTATES 12

typedef struct vkt_kuhn_policy {
    double bet[VKT_KUHN_INFOSTATES]; // P(aggressive action) by info-state index
} vkt_kuhn_policy;

const char *vkt_kuhn_infostate_name(int i);     // "0", "0p", "0b", "0pb", "1", ...
int vkt_kuhn_infostate_index(const char *name); // -1 if not one of the 12
int vkt_kuhn_infostate_player(int i);           // 0 or 1: who acts there

void vkt_kuhn_policy_const(vkt_kuhn_policy *pi,
                           double p_bet); // random 0.5, always-bet 1, always-pass 0
// OpenSpiel's Nash family (open_spiel/python/games/data.py): alpha in [0, 1/3].
vkt_status vkt_kuhn_policy_nash(double alpha, vkt_kuhn_policy *pi, vkt_error *err);
// "random", "always-bet", "always-pass", "nash", "nash:ALPHA" (ALPHA a number or a
// fraction "1/6"), or else a JSON file path.
vkt_status vkt_kuhn_policy_from_spec(const char *spec, vkt_kuhn_policy *pi, vkt_error *err);
vkt_status vkt_kuhn_policy_from_json(const char *json, vkt_kuhn_policy *pi, vkt_error *err);
vkt_status vkt_kuhn_policy_load(const char *path, vkt_kuhn_policy *pi, vkt_error *err);
// Writes the JSON form (temp file, then rename).
vkt_status vkt_kuhn_policy_save(const char *path, const vkt_kuhn_policy *pi, vkt_error *err);

// VKT_OK when every entry is a finite number; else VKT_ERR_ARG naming the first information
// state whose entry is not (a diverged policy: no value or exploitability is computed from it).
vkt_status vkt_kuhn_policy_check_finite(const vkt_kuhn_policy *pi, vkt_error *err);

// Player 0's exact expected chips when `first` plays player 0's states and `second`
// plays player 1's (each uses only its own player's entries).
double vkt_kuhn_value(const vkt_kuhn_policy *first, const vkt_kuhn_policy *second);
// The exact value to `player` of a best response to pi's other-player entries; the
// response itself (pure, pi's entries elsewhere) goes to br when br is not NULL.
double vkt_kuhn_best_response(const vkt_kuhn_policy *pi, int player, vkt_kuhn_policy *br);
// NashConv = sum over players of (best-response value - value under pi); zero-sum,
// so it is BR0 + BR1. Exploitability = NashConv / 2 (OpenSpiel's definitions).
double vkt_kuhn_nash_conv(const vkt_kuhn_policy *pi);
double vkt_kuhn_exploitability(const vkt_kuhn_policy *pi);

// The tabular policy of any agent, by posing each information state to it (a one-hand
// game dealt to match; the opponent's card, which the agent cannot see, is another
// card). Uses a->probs when the agent has it; otherwise `samples` calls to act() from
// rng, P = bets / valid answers. invalid_frac (may be NULL) gets the fraction of
// answers that were VKT_ACTION_INVALID; a state with no valid answer fails.
vkt_status vkt_kuhn_policy_from_agent(vkt_agent *a, int samples, vkt_rng *rng, vkt_kuhn_policy *pi,
                                      double *invalid_frac, vkt_error *err);

#endif
