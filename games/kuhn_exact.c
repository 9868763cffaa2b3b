// kuhn_exact.c: exact values of tabular Kuhn policies by walking the whole game tree:
// 6 deals, at most 5 betting histories each. Best responses by enumerating the 64
// pure strategies of the responding player (a pure best response always exists).
#include <string.h>

#include "kuhn_policy.h"

// Player 0's chips at a finished history, or 0 with *done = false if it goes on.
static double payoff(const char *h, int c0, int c1, bool *done) {
    int hi = c0 > c1 ? 1 : -1;
    *done = true;
    if (strcmp(h, "pp") == 0) return hi;
    if (strcmp(h, "bb") == 0 || strcmp(h, "pbb") == 0) return 2 * hi;
    if (strcmp(h, "bp") == 0) return 1;
    if (strcmp(h, "pbp") == 0) return -1;
    *done = false;
    return 0;
}

static int hist_index(const char *h) {
    if (!*h) return 0;
    if (strcmp(h, "p") == 0) return 1;
    if (strcmp(h, "b") == 0) return 2;
    return 3; // "pb"
}

static double walk(const vkt_kuhn_policy *pol[2], int c0, int c1, char *h, int n) {
    bool done;
    double v = payoff(h, c0, c1, &done);
    if (done) return v;
    int player = n % 2;
    int card = player == 0 ? c0 : c1;
    double p = pol[player]->bet[card * 4 + hist_index(h)];
    double total = 0;
    h[n + 1] = 0;
    if (p < 1) {
        h[n] = 'p';
        total += (1 - p) * walk(pol, c0, c1, h, n + 1);
    }
    if (p > 0) {
        h[n] = 'b';
        total += p * walk(pol, c0, c1, h, n + 1);
    }
    h[n] = 0;
    return total;
}

double vkt_kuhn_value(const vkt_kuhn_policy *first, const vkt_kuhn_policy *second) {
    const vkt_kuhn_policy *pol[2] = {first, second};
    double v = 0;
    for (int c0 = 0; c0 < 3; c0++)
        for (int c1 = 0; c1 < 3; c1++) {
            if (c0 == c1) continue;
            char h[8] = {0};
            v += walk(pol, c0, c1, h, 0) / 6.0;
        }
    return v;
}

double vkt_kuhn_best_response(const vkt_kuhn_policy *pi, int player, vkt_kuhn_policy *br) {
    int states[6], n = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        if (vkt_kuhn_infostate_player(i) == player) states[n++] = i;
    double best = -1e300;
    vkt_kuhn_policy cand = *pi, best_pol = *pi;
    for (int mask = 0; mask < 64; mask++) {
        for (int k = 0; k < 6; k++) cand.bet[states[k]] = (mask >> k) & 1;
        double v = player == 0 ? vkt_kuhn_value(&cand, pi) : -vkt_kuhn_value(pi, &cand);
        if (v > best) {
            best = v;
            best_pol = cand;
        }
    }
    if (br) *br = best_pol;
    return best;
}

double vkt_kuhn_nash_conv(const vkt_kuhn_policy *pi) {
    double v0 = vkt_kuhn_value(pi, pi);
    return (vkt_kuhn_best_response(pi, 0, NULL) - v0) + (vkt_kuhn_best_response(pi, 1, NULL) + v0);
}

double vkt_kuhn_exploitability(const vkt_kuhn_policy *pi) { return vkt_kuhn_nash_conv(pi) / 2; }
