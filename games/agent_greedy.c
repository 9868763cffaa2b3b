// agent_greedy.c: the value-greedy negotiator. It judges trades only by its own
// values: it accepts a pending offer that strictly raises its inventory value,
// otherwise proposes, uniformly at random, one of the legal offers that would
// strictly raise it, and denies (passes) when there is none.
#include "agent.h"
#include "negotiation.h"

// Change in `p`'s value if the offer `a` goes through; `proposer` gives `give`.
static int trade_gain(const vkt_negotiation *s, int p, int proposer, int a) {
    vkt_neg_offer o;
    if (!vkt_negotiation_offer(a, &o)) return 0;
    int give_v = o.give * s->values[p][o.give_res], recv_v = o.recv * s->values[p][1 - o.give_res];
    return p == proposer ? recv_v - give_v : give_v - recv_v;
}

static vkt_status greedy_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                             vkt_error *err) {
    const vkt_negotiation *s = vkt_negotiation_state(g);
    if (!s)
        return vkt_fail(err, VKT_ERR_ARG, "greedy agent: plays negotiation, not %s",
                        vkt_game_name(g));
    if (s->pending >= 0 && trade_gain(s, player, 1 - player, s->pending) > 0) {
        *action = VKT_NEG_ACCEPT;
        return VKT_OK;
    }
    int acts[VKT_GAME_MAX_LEGAL], good[VKT_GAME_MAX_LEGAL], ng = 0;
    int n = vkt_game_legal_actions(g, acts);
    for (int i = 0; i < n; i++)
        if (trade_gain(s, player, player, acts[i]) > 0) good[ng++] = acts[i];
    *action = ng ? good[vkt_rng_below(rng, (uint64_t)ng)] : VKT_NEG_DENY;
    return VKT_OK;
}

vkt_status vkt_agent_greedy_create(vkt_agent *out, vkt_error *err) {
    *out = (vkt_agent){
        .self = NULL, .name = "greedy", .act = greedy_act, .probs = NULL, .destroy = NULL};
    return VKT_OK;
}
