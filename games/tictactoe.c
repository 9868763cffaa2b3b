// tictactoe.c: the TicTacToe engine.
#include "tictactoe.h"

#include <stdio.h>
#include <string.h>

#include "textbuf.h"

static const int lines[8][3] = {
    {0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6},
};

int vkt_tictactoe_winner(const int8_t b[9]) {
    for (int i = 0; i < 8; i++) {
        int8_t v = b[lines[i][0]];
        if (v >= 0 && v == b[lines[i][1]] && v == b[lines[i][2]]) return v;
    }
    return -1;
}

const vkt_tictactoe *vkt_tictactoe_state(const vkt_game *g) {
    return g->ops == &vkt_tictactoe_ops ? (const vkt_tictactoe *)g->state : NULL;
}

static void ttt_defaults(void *state) { (void)state; }

static vkt_status ttt_reset(void *state, uint64_t seed, vkt_error *err) {
    vkt_tictactoe *s = state;
    memset(s, 0, sizeof *s);
    memset(s->board, -1, sizeof s->board);
    s->winner = -1;
    return VKT_OK;
}

static int ttt_current(const void *state) {
    const vkt_tictactoe *s = state;
    if (s->winner >= 0 || s->nmoves == 9) return VKT_TERMINAL;
    return s->nmoves % 2;
}

static int ttt_legal(const void *state, int *out) {
    const vkt_tictactoe *s = state;
    if (ttt_current(s) == VKT_TERMINAL) return 0;
    int n = 0;
    for (int c = 0; c < 9; c++)
        if (s->board[c] < 0) out[n++] = c;
    return n;
}

static vkt_status ttt_action_text(const void *state, int a, char *buf, size_t cap, vkt_error *err) {
    if (a < 0 || a > 8)
        return vkt_fail(err, VKT_ERR_ARG, "tictactoe: action %d is not a cell 0-8", a);
    snprintf(buf, cap, "%d", a);
    return VKT_OK;
}

static vkt_status ttt_apply(void *state, int a, vkt_error *err) {
    vkt_tictactoe *s = state;
    int p = ttt_current(s);
    if (p == VKT_TERMINAL)
        return vkt_fail(err, VKT_ERR_ARG, "tictactoe: move %d after the game ended", a);
    if (a < 0 || a > 8)
        return vkt_fail(err, VKT_ERR_ARG, "tictactoe: action %d is not a cell 0-8", a);
    if (s->board[a] >= 0)
        return vkt_fail(err, VKT_ERR_ARG, "tictactoe: cell %d is already taken", a);
    s->board[a] = (int8_t)p;
    s->moves[s->nmoves++] = (int8_t)a;
    s->winner = vkt_tictactoe_winner(s->board);
    return VKT_OK;
}

static void ttt_returns(const void *state, double *out) {
    const vkt_tictactoe *s = state;
    out[0] = out[1] = 0;
    if (s->winner >= 0) {
        out[s->winner] = 1;
        out[1 - s->winner] = -1;
    }
}

static size_t ttt_describe(const void *state, int player, char *buf, size_t cap) {
    const vkt_tictactoe *s = state;
    static const char mark[2] = {'X', 'O'};
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    vkt_textbuf_printf(
        &t,
        "You are Player %d (%c) in a game of Tic Tac Toe against Player %d (%c).\n"
        "Rules: the board has 9 cells numbered 0 to 8, row by row. Players take turns marking "
        "an empty cell; Player 0 (X) moves first. Three of your marks in a row, column or "
        "diagonal wins; a full board with no line is a draw.\n"
        "Give your move as the cell number in brackets, e.g. [4].\n",
        player, mark[player], 1 - player, mark[1 - player]);
    vkt_textbuf_printf(&t, "Moves so far:");
    if (s->nmoves == 0) vkt_textbuf_printf(&t, " none");
    for (int i = 0; i < s->nmoves; i++)
        vkt_textbuf_printf(&t, "%s Player %d (%c) [%d]", i ? "," : "", i % 2, mark[i % 2],
                           s->moves[i]);
    vkt_textbuf_printf(&t, ".\nCurrent board:\n");
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) {
            int cell = 3 * r + c;
            int v = s->board[cell];
            vkt_textbuf_printf(&t, " %c %s", v < 0 ? '0' + cell : mark[v], c < 2 ? "|" : "\n");
        }
        if (r < 2) vkt_textbuf_printf(&t, "---+---+---\n");
    }
    if (s->winner >= 0)
        vkt_textbuf_printf(&t, "Player %d (%c) wins.\n", s->winner, mark[s->winner]);
    else if (s->nmoves == 9)
        vkt_textbuf_printf(&t, "The board is full: a draw.\n");
    return vkt_textbuf_len(&t);
}

_Static_assert(sizeof(vkt_tictactoe) <= VKT_GAME_STATE_BYTES, "tictactoe state too large");

const vkt_game_ops vkt_tictactoe_ops = {
    .name = "tictactoe",
    .summary = "3x3 TicTacToe (OpenSpiel rules); actions are cells 0-8",
    .options = "none",
    .num_players = 2,
    .num_actions = 9,
    .state_size = sizeof(vkt_tictactoe),
    .case_sensitive = false,
    .defaults = ttt_defaults,
    .set_option = NULL,
    .reset = ttt_reset,
    .current_player = ttt_current,
    .legal_actions = ttt_legal,
    .action_text = ttt_action_text,
    .apply = ttt_apply,
    .returns = ttt_returns,
    .describe = ttt_describe,
    .moves_hint = NULL,
};
