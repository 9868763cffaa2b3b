// tictactoe.h: 3x3 TicTacToe as in OpenSpiel's tic_tac_toe. Player 0 (X) moves first;
// cells 0-8 row-major are the actions; three in a line wins (+1/-1), a full board
// with no line draws (0).
#ifndef VKT_TICTACTOE_H
#define VKT_TICTACTOE_H

#include <stdint.h>

#include "game.h"

typedef struct vkt_tictactoe {
    int8_t board[9]; // -1 empty, 0 = X (player 0), 1 = O (player 1)
    int8_t moves[9]; // cells in the order played
    int nmoves;
    int winner; // -1 none (yet), 0 or 1
} vkt_tictactoe;

extern const vkt_game_ops vkt_tictactoe_ops;

// The engine's state inside a game made with "tictactoe" (NULL for another game).
const vkt_tictactoe *vkt_tictactoe_state(const vkt_game *g);
// The winner of a board (-1 none), so solvers share the engine's rule.
int vkt_tictactoe_winner(const int8_t board[9]);

#endif
