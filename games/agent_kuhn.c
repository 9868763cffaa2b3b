// agent_kuhn.c: an agent that plays a tabular Kuhn policy (nash, always-bet, a JSON
// file, ...) in one hand or a match: it looks up its card and the current hand's
// history, whichever seat it holds.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "kuhn.h"
#include "kuhn_policy.h"

typedef struct kuhn_agent {
    vkt_kuhn_policy pi;
    char name[64];
} kuhn_agent;

static vkt_status p_bet(const kuhn_agent *k, const vkt_game *g, double *p, vkt_error *err) {
    if (!vkt_kuhn_state(g))
        return vkt_fail(err, VKT_ERR_ARG, "agent %s: plays kuhn, not %s", k->name,
                        vkt_game_name(g));
    char key[8];
    vkt_kuhn_info_state(g, key);
    int i = vkt_kuhn_infostate_index(key);
    if (i < 0)
        return vkt_fail(err, VKT_ERR_ARG, "agent %s: no decision at info state '%s'", k->name, key);
    *p = k->pi.bet[i];
    return VKT_OK;
}

static vkt_status kuhn_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                           vkt_error *err) {
    double p;
    VKT_TRY(p_bet(self, g, &p, err));
    *action = vkt_rng_uniform(rng) < p ? VKT_KUHN_BET : VKT_KUHN_PASS;
    return VKT_OK;
}

static vkt_status kuhn_probs(void *self, const vkt_game *g, int player, const int *acts, int n,
                             double *p, vkt_error *err) {
    double b;
    VKT_TRY(p_bet(self, g, &b, err));
    for (int i = 0; i < n; i++) p[i] = acts[i] == VKT_KUHN_BET ? b : 1 - b;
    return VKT_OK;
}

vkt_status vkt_agent_kuhn_policy_create(const vkt_kuhn_policy *pi, const char *name, vkt_agent *out,
                                        vkt_error *err) {
    kuhn_agent *k = malloc(sizeof *k);
    if (!k) return vkt_fail(err, VKT_ERR_NOMEM, "kuhn agent: out of memory");
    k->pi = *pi;
    snprintf(k->name, sizeof k->name, "%s", name);
    *out = (vkt_agent){
        .self = k, .name = k->name, .act = kuhn_act, .probs = kuhn_probs, .destroy = free};
    return VKT_OK;
}
