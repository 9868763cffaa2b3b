// agent_minimax.c: perfect TicTacToe play. Every position is solved once (memoised by
// its base-3 code, 3^9 entries) as player 0's value under perfect play; the agent
// picks uniformly among the moves that keep the best value, so it never loses and
// is not predictable between equally good moves.
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "tictactoe.h"

#define CODES 19683 // 3^9
#define UNKNOWN 2

typedef struct minimax {
    int8_t memo[CODES];
} minimax;

static int code_of(const int8_t b[9]) {
    int c = 0;
    for (int i = 0; i < 9; i++) c = c * 3 + (b[i] + 1);
    return c;
}

// Player 0's value (+1, 0, -1) of board b with `mover` to play.
static int solve(minimax *m, int8_t b[9], int mover) {
    int code = code_of(b);
    if (m->memo[code] != UNKNOWN) return m->memo[code];
    int w = vkt_tictactoe_winner(b), v;
    if (w >= 0) {
        v = w == 0 ? 1 : -1;
    } else {
        v = mover == 0 ? -2 : 2;
        bool any = false;
        for (int c = 0; c < 9; c++) {
            if (b[c] >= 0) continue;
            any = true;
            b[c] = (int8_t)mover;
            int cv = solve(m, b, 1 - mover);
            b[c] = -1;
            if (mover == 0 ? cv > v : cv < v) v = cv;
        }
        if (!any) v = 0;
    }
    m->memo[code] = (int8_t)v;
    return v;
}

int vkt_tictactoe_solved_value(void) {
    minimax *m = malloc(sizeof *m);
    if (!m) return -2;
    memset(m->memo, UNKNOWN, sizeof m->memo);
    int8_t b[9];
    memset(b, -1, sizeof b);
    int v = solve(m, b, 0);
    free(m);
    return v;
}

static vkt_status minimax_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                              vkt_error *err) {
    minimax *m = self;
    const vkt_tictactoe *s = vkt_tictactoe_state(g);
    if (!s)
        return vkt_fail(err, VKT_ERR_ARG, "minimax agent: plays tictactoe, not %s",
                        vkt_game_name(g));
    int8_t b[9];
    memcpy(b, s->board, sizeof b);
    int best[9], nbest = 0, bestv = 0;
    for (int c = 0; c < 9; c++) {
        if (b[c] >= 0) continue;
        b[c] = (int8_t)player;
        int v = solve(m, b, 1 - player);
        b[c] = -1;
        if (player == 1) v = -v; // the mover's own value
        if (nbest == 0 || v > bestv) {
            bestv = v;
            nbest = 0;
        }
        if (v == bestv) best[nbest++] = c;
    }
    if (nbest == 0) return vkt_fail(err, VKT_ERR_ARG, "minimax agent: no empty cell");
    *action = best[vkt_rng_below(rng, (uint64_t)nbest)];
    return VKT_OK;
}

vkt_status vkt_agent_minimax_create(vkt_agent *out, vkt_error *err) {
    minimax *m = malloc(sizeof *m);
    if (!m) return vkt_fail(err, VKT_ERR_NOMEM, "minimax agent: out of memory");
    memset(m->memo, UNKNOWN, sizeof m->memo);
    *out = (vkt_agent){
        .self = m, .name = "minimax", .act = minimax_act, .probs = NULL, .destroy = free};
    return VKT_OK;
}
