// kuhn.h: Kuhn Poker with OpenSpiel's rules (kuhn_poker): deck J < Q < K, ante 1
// each, one card each, a bet or a call adds 1 chip; payoffs +-1 or +-2.
// Action 0 = pass (Check, or Fold facing a bet), 1 = bet (Bet, or Call facing a bet).
//
// Options: rounds=N plays a match of N hands (1..VKT_KUHN_MAX_ROUNDS), the first
// seat alternating (hand h: seat h % 2 acts first), chips accumulating;
// reward=chips|outcome: returns are the chip totals, or +1/-1/0 by who has more chips.
// Default reward: chips for one hand (OpenSpiel's returns), outcome for a match.
// (SPIRAL's/TextArena's copy lets bets miss the pot and takes the last hand's winner
// as the match winner; we keep the correct rules, see docs/games.md.)
#ifndef VKT_KUHN_H
#define VKT_KUHN_H

#include <stdint.h>

#include "game.h"

#define VKT_KUHN_MAX_ROUNDS 100
#define VKT_KUHN_PASS 0
#define VKT_KUHN_BET 1

typedef enum {
    VKT_KUHN_REWARD_DEFAULT,
    VKT_KUHN_REWARD_CHIPS,
    VKT_KUHN_REWARD_OUTCOME
} vkt_kuhn_reward;

typedef struct vkt_kuhn_hand {
    int8_t cards[2]; // by seat: 0 = J, 1 = Q, 2 = K
    int8_t first;    // seat that acts first this hand
    int8_t nh;       // actions so far
    char hist[4];    // 'p'/'b' in order, NUL-terminated (OpenSpiel's history letters)
    int8_t winner;   // seat that won the pot (-1 while the hand runs)
    int8_t amount;   // chips the winner gained (1 or 2)
    int8_t showdown; // 1 when the cards were shown
} vkt_kuhn_hand;

typedef struct vkt_kuhn {
    int rounds; // parameters
    vkt_kuhn_reward reward;
    vkt_rng rng;  // chance: the deals
    int hand;     // index of the current hand; == rounds when the match is over
    int chips[2]; // net chips won so far, by seat (sum 0)
    vkt_kuhn_hand hands[VKT_KUHN_MAX_ROUNDS];
} vkt_kuhn;

extern const vkt_game_ops vkt_kuhn_ops;

const vkt_kuhn *vkt_kuhn_state(const vkt_game *g); // NULL for another game
// Sets the current (first) hand of a fresh one-hand game to given cards and a legal
// history ("", "p", "b", "pb"), so any information state can be posed to an agent.
vkt_status vkt_kuhn_set_hand(vkt_game *g, int card0, int card1, const char *hist, vkt_error *err);
// OpenSpiel's information-state string of the player to move in the current hand:
// that player's card digit then the history, e.g. "1pb". Needs room for 8 bytes.
void vkt_kuhn_info_state(const vkt_game *g, char *buf);

#endif
