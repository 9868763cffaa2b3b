// rl_rollout.h: batched self-play rollouts with a language-model policy.
//
// n_games games of one game spec run at once; one policy (the model behind a vkt_gen
// plan) plays every seat. At every decision step all games still running are waiting
// for a move, and their prompts (rl_prompt.h: role-conditioned, game + seat) go to ONE
// vkt_generate call, so the device never waits on a single game. Each response is
// played through the protocol (games/protocol.h): an answer that is not a legal move
// ends the game under the invalid rule (training: SPIRAL's offender -1.5, others +0.5).
// Games still running after max_turns decisions end with returns 0 for every seat.
//
// Reproducibility: game g of the batch is game number id = game_base + g; it is dealt
// from vkt_rng_derive(seed, id) and its t-th decision is sampled with the generation
// stream (id << 16) | t under the run's seed, so a game's deal, texts and actions do not
// depend on which other games share its batch (generation is batch-invariant): running
// games one at a time with the same ids gives the same transcripts.
//
// Mixes and replays: with n_specs > 0 the batch is consecutive blocks, count[k] games of
// specs[k] (first_k = count[0] + ... + count[k-1]). With replays r > 1 a block's deals
// repeat: game g of block k is dealt from vkt_rng_derive(seed, game_base + first_k +
// (g - first_k) / r), so r consecutive games share their chance outcomes (a group of r
// samples of one state, compared on common random numbers) while each keeps its own
// sampling stream (game_base + g). r = 1 is the plain rule above.
//
// Exploring every answer (explore / spec_explore, for one-decision games: offswitch): in a
// group of r replays, replay j does not sample; it plays the j-th legal action (mod the
// legal count, in vkt_game_legal_actions' order) with that answer's tokens as its response
// (rl_prompt.h format; logp 0, entropy 0, `forced`). A group of r = the legal count then
// holds every answer of the state once, on common random numbers: group advantages compare
// the answers themselves, not samples of the policy (docs/selfplay.md, "exploring every
// answer"). choice[i] marks the tokens that choose: where the legal answers that share the
// answer's first i tokens continue in more than one way (offswitch: the letter after '['). The
// others ('[', "ct]", <|endoftext|>) follow from the choice: they are the format.
#ifndef VKT_RL_ROLLOUT_H
#define VKT_RL_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "game.h"
#include "generate.h"
#include "rl_advantage.h"
#include "rl_fmt.h"

typedef struct vkt_rl_rollout_opts {
    const char *game;  // game spec, e.g. "kuhn"
    int n_games;       // games in the batch (>= 1)
    int64_t game_base; // id of the batch's first game
    uint64_t seed;
    int max_turns;            // default 50 (SPIRAL's cut)
    vkt_invalid_rule invalid; // default VKT_INVALID_TRAINING
    vkt_gen_opts gen;         // sampling settings (max_new_tokens, temperature, stops,
                              // on_logits); seed is overwritten with `seed`
    const vkt_rl_fmt *fmt;    // prompt and answer format (rl_fmt.h; NULL, the default: byte-
                              // level, direct answers); think > 0 asks for up to that many
                              // tokens of thinking, then \boxed{move}; gen.max_new_tokens is
                              // the whole response's budget; the format's tokenizer decodes
    int replays;              // n_specs == 0: each deal played this many times (default 1)
    int n_specs;              // 0: every game plays `game`; else a mix of these blocks:
    const char *specs[VKT_RL_MAX_GAMES];
    int count[VKT_RL_MAX_GAMES];        // games of each spec (sum = n_games)
    int spec_replays[VKT_RL_MAX_GAMES]; // replays of each spec (0 means 1)
    bool explore; // n_specs == 0: every replay plays its own legal answer (above)
    bool spec_explore[VKT_RL_MAX_GAMES]; // the same per spec of a mix
    bool legal_answers;                  // record every legal answer's tokens at each turn (for the
                        // KL-to-uniform term, rl_uniform.h); a state with more than
                        // VKT_RL_LEGAL_MAX legal actions then fails the rollout
    bool format_credit; // a sampled response that is one of the legal answers, token
                        // for token, gets `choice` as an explored answer does (implies
                        // legal_answers): the trainer then credits its format apart
                        // from its choice (rl_selfplay.h)
} vkt_rl_rollout_opts;

#define VKT_RL_LEGAL_MAX 16

// One decision: who played, what the model read and wrote, and what it meant.
typedef struct vkt_rl_turn {
    int game; // index in the batch
    int player;
    int step;        // the game's decision number (0-based)
    int32_t *prompt; // (n_prompt) prompt tokens
    int n_prompt;
    int32_t *resp;      // (n_resp) generated tokens
    float *logp;        // (n_resp) their log-probabilities at sampling (temperature 1)
    double entropy_sum; // sum over the response of each token's sampling entropy (nats)
    int n_resp;
    int action;            // the legal action played, or VKT_ACTION_INVALID
    bool forced;           // explored: the response is the answer of a chosen action, not
                           // a sample
    unsigned char *choice; // (n_resp) 1 on its choosing tokens (above): explored answers,
                           // and under format_credit a sample equal to a legal answer;
                           // else NULL
    uint64_t obs_key;      // hash of the prompt tokens (group key for --advantage group)
    int n_legal;           // legal_answers: the legal actions at this turn, and answer i's
    int *legal_off;        // tokens (in the prompt's format, <|endoftext|> included) are
    int32_t *legal_tok;    // legal_tok[legal_off[i] .. legal_off[i + 1]); else 0 / NULL
} vkt_rl_turn;

typedef struct vkt_rl_rollout {
    int n_games;
    double *returns;    // (n_games * VKT_GAME_MAX_PLAYERS) by game, then seat
    int *forfeited_by;  // (n_games) the seat whose invalid move ended it, or -1
    bool *truncated;    // (n_games) cut at max_turns
    int *spec;          // (n_games) the game's block in a mix (0 without one)
    vkt_rl_turn *turns; // in play order: by step, then by game
    int n_turns;
    int invalid; // invalid moves (= games forfeited)
    int steps;   // generation calls made
} vkt_rl_rollout;

void vkt_rl_rollout_defaults(vkt_rl_rollout_opts *o);
// Plays the batch; out is filled (free with vkt_rl_rollout_free, also after a failure).
// The model m is the one behind gen: the run reports into its context.
vkt_status vkt_rl_rollout_run(vkt_model *m, vkt_gen *gen, const vkt_rl_rollout_opts *o,
                              vkt_rl_rollout *out);
void vkt_rl_rollout_free(vkt_rl_rollout *r);

// Turn t's advantages under its sequence advantage A. Returns the turn's own: A, but 0 for
// an invalid answer with A > 0 under format_credit (never reinforced, rl_selfplay.h).
// tok (may be NULL; n_resp values) gets the per-token ones: the returned A on every token,
// except where t->choice is set: A on the choosing tokens, |A| on the format tokens.
double vkt_rl_turn_advantages(const vkt_rl_turn *t, double A, bool format_credit, double *tok);

// FNV-1a over the token ids: the observation key of a prompt.
uint64_t vkt_rl_tokens_key(const int32_t *ids, int n);

#endif
