// negotiation.h: SPIRAL's SimpleNegotiation (TextArena's SimpleNegotiation cut to two
// resources). Two players hold 10 Wood and 10 Gold each; player 0 values Wood 5 and
// Gold 15, player 1 Wood 15 and Gold 5. Players alternate for 10 turns in total (one
// action a turn); the larger gain in inventory value (by one's own values) wins +1,
// the other -1; equal gains draw 0.
//
// Actions (texts without brackets):
//   Offer: X Wood -> Y Gold   give X Wood, receive Y Gold (or Gold -> Wood); X, Y >= 1,
//                             X at most what you hold, Y at most what the opponent holds
//   Accept                    take the offer the opponent made on the previous turn
//   Deny                      turn down the pending offer, or pass when there is none
// An offer is pending for one turn: any answer but Accept (a counter-offer included)
// denies it. Not legal, so an invalid move under the protocol: accepting when no offer
// is addressed to you, offering what you lack, asking for what the opponent lacks,
// and every malformed offer (zero or negative amounts, one resource on both sides,
// several resources on one side, unknown resources, missing "->").
//
// Options: turns=N (2..50, default 10); random_values: each of the four values drawn
// uniformly from 5..25 at reset, from the game's seed.
#ifndef VKT_NEGOTIATION_H
#define VKT_NEGOTIATION_H

#include <stdbool.h>
#include <stdint.h>

#include "game.h"

#define VKT_NEG_MAX_TURNS 50
#define VKT_NEG_START 10   // of each resource, for each player
#define VKT_NEG_MAX_QTY 20 // all of a resource in the game
#define VKT_NEG_ACCEPT 0
#define VKT_NEG_DENY 1
#define VKT_NEG_NUM_ACTIONS (2 + 2 * VKT_NEG_MAX_QTY * VKT_NEG_MAX_QTY)

enum { VKT_NEG_WOOD = 0, VKT_NEG_GOLD = 1 };

// An offer decoded from its action id: give `give` units of resource `give_res`,
// receive `recv` units of the other resource.
typedef struct vkt_neg_offer {
    int give_res;
    int give;
    int recv;
} vkt_neg_offer;

typedef struct vkt_negotiation {
    int max_turns; // parameters
    bool random_values;
    vkt_rng rng;
    int values[2][2];               // [player][resource]
    int inv[2][2];                  // [player][resource], current
    int turn;                       // actions played so far
    int pending;                    // action id of the offer pending for the player to move, or -1
    int trades;                     // accepted trades
    int16_t log[VKT_NEG_MAX_TURNS]; // action id of each turn
} vkt_negotiation;

extern const vkt_game_ops vkt_negotiation_ops;

const vkt_negotiation *vkt_negotiation_state(const vkt_game *g); // NULL for another game
bool vkt_negotiation_offer(int action, vkt_neg_offer *o);        // false if not an offer id
int vkt_negotiation_offer_id(vkt_neg_offer o);                   // -1 if out of range
// Value of `player`'s inventory by their own values, and their gain since the start.
int vkt_negotiation_value(const vkt_negotiation *s, int player);
int vkt_negotiation_gain(const vkt_negotiation *s, int player);

#endif
