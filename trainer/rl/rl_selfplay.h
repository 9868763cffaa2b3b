// rl_selfplay.h: self-play RL with a transformer policy (`vkt selfplay`, SPIRAL arXiv
// 2506.24119). docs/selfplay.md describes the loop, its formulas and its defaults.
//
// A run is vkt_rl_sp_init (plans; with kl_coef, a frozen copy of the initial policy as the
// KL reference) then vkt_rl_sp_update calls. One update: Kuhn's 12-state policy enters the
// games-weighted average (teacher forced; sampled when the model thinks); games_per_update
// games play batched (rl_rollout.h; replays, or every answer explored for the off-switch
// game); advantages per game of the mix (rl_advantage.h), per token with format credit
// (A on the choosing tokens of a legal answer, |A| on its format; an invalid answer's
// A > 0 set to 0); A == 0 turns dropped unless a regulariser is on; ppo_epochs clipped
// Adam steps on the weighted CE of the kept turns (rl_loss.h, rl_batch.h), beside the
// optional entropy bonus, k3 KL to the reference, and KL to uniform over the legal
// answers (rl_uniform.h; kl_anneal decays it over the run's last fraction of
// games_target). Game ids continue from the games played, so a run is a function of its
// seed and a resumed run (the state file) continues bit for bit.
//
// The warm-up (vkt_rl_warmup) imitates the format: supervised steps on (prompt, answer)
// pairs of uniformly random legal play, loss on the answer tokens. With think_tokens N > 0
// (rl_prompt.h) a response may be N + the answer budget tokens, all of them trained.
#ifndef VKT_RL_SELFPLAY_H
#define VKT_RL_SELFPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "generate.h"
#include "kuhn_policy.h"
#include "model.h"
#include "rl_advantage.h"
#include "rl_fmt.h"
#include "rl_loss.h"
#include "rl_mix.h"

#define VKT_RL_LOGITS_BYTES (512ull << 20)  // a training micro-batch's logits at most
#define VKT_RL_THINK_MAX 4096  // think_tokens' range (the model's context bounds it first)
#define VKT_RL_KL_UNIFORM_KUHN 0.05  // kl_uniform's auto value on one-hand Kuhn (docs/experiments/selfplay.md)
#define VKT_RL_KL_ANNEAL_KUHN 0.25    // kl_anneal's auto value with Kuhn's auto C (docs/selfplay.md)
#define VKT_RL_KL_UNIFORM_EXPLORE 0.01  // ... and when every answer is explored (offswitch)
#define VKT_RL_LR_WARMUP_EXPLORE 8     // lr_warmup's auto value when every answer is explored
enum { VKT_RL_EXPLORE_AUTO = -1, VKT_RL_EXPLORE_SAMPLE = 0, VKT_RL_EXPLORE_ALL = 1 };

typedef struct vkt_rl_sp_opts {
    const char *game;        // a game spec or a mix "kuhn,tictactoe,negotiation" (rl_mix.h);
                             // one-hand "kuhn" is the game with exact analysis
    vkt_rl_adv_mode adv;     // default auto: each game's own (rl_mix.h: kuhn group, see
                             // docs/selfplay.md; tictactoe, negotiation rae; offswitch group-mean)
    int replays;             // deals replayed per group (0: each game's default; offswitch 8
                             // under group and group-mean, else 1)
    int explore;             // VKT_RL_EXPLORE_ALL: every replay of a deal plays its own legal
                             // answer instead of a sample (rl_rollout.h): one-decision games
                             // (offswitch) under a group advantage; replays default to the legal
                             // count (3). AUTO (default): ALL for the off-switch game alone
    double rae_alpha;        // 0.95
    vkt_pg_opts pg;          // ppo, clip 0.2, seq-sum-maxlen; max_len = the generation budget;
                             // kl_coef, entropy_coef (default 0, SPIRAL's setting)
    int ppo_epochs;          // 2
    int games_per_update;    // 128
    double lr;               // Adam learning rate
    int lr_warmup;           // updates of a linear lr ramp at the start of RL (0: none): Adam's
                             // first steps move every weight by ~lr whatever the gradient's size;
                             // < 0 (default): auto, VKT_RL_LR_WARMUP_EXPLORE when exploring, else 0
    double beta1, beta2;     // 0.9, 0.95
    double weight_decay;     // 0
    double max_grad_norm;    // 1.0
    int max_new_tokens;      // answer budget; 0: the largest of the mix's games (kuhn, tictactoe,
                             // offswitch 8: "[Check]" + <|endoftext|>; negotiation 32; + 8 for
                             // the boxed answer when thinking); thinking adds think_tokens
    int micro_rows;          // rows per forward/backward (64; halved until a micro-batch's logits
                             // fit VKT_RL_LOGITS_BYTES, for a pretrained model's vocabulary)
    int think_tokens;        // 0 (default): answer directly; N > 0: up to N tokens of thinking
                             // before a \boxed{} answer (the answer budget grows by 8 for it)
    int policy_samples;      // think_tokens > 0: Kuhn extraction samples per information state (64)
    double kl_uniform;       // coefficient of the KL-to-uniform term over legal answers (0: off;
                             // < 0, the default: auto: VKT_RL_KL_UNIFORM_KUHN on one-hand Kuhn
                             // alone with direct answers, VKT_RL_KL_UNIFORM_EXPLORE when
                             // exploring, else 0; games with few legal moves, direct answers)
    double kl_uniform_end;   // the coefficient at the end of the anneal (0; <= the start)
    double kl_anneal;        // the run's last fraction (0..1) over which it decays (< 0: auto)
    int64_t games_target;    // the run's length in games, for the anneal (0: no schedule)
    int format_credit;       // 1: credit a sampled legal answer's format apart from its choice
                             // (above); 0: every token gets A; < 0 (default): auto, on for
                             // one-hand Kuhn alone with direct answers
    vkt_tok *tok;            // the model's tokenizer.json (not owned); NULL: vkt's byte tokenizer
    bool chat;               // with tok: prompts are user turns of its chat template (rl_fmt.h)
    uint64_t seed;
} vkt_rl_sp_opts;

void vkt_rl_sp_defaults(vkt_rl_sp_opts *o);
// Whether o explores every answer on the games of mx (resolves VKT_RL_EXPLORE_AUTO: the
// off-switch game alone, under auto or a group advantage).
bool vkt_rl_sp_explores(const vkt_rl_sp_opts *o, const vkt_rl_mix *mx);
// Parses "auto", "sample", "all" (names the bad value); and the name of a mode.
vkt_status vkt_rl_explore_parse(const char *s, int *out, vkt_error *err);
const char *vkt_rl_explore_name(int mode);

typedef struct vkt_rl_sp_game_stats {
    int games, decisions, kept, invalid;
    double mean_return_p0;   // player 0's mean return (the offswitch robot's payoff)
} vkt_rl_sp_game_stats;

typedef struct vkt_rl_sp_stats {
    int games, decisions, kept, invalid, gen_tokens;
    double mean_return_p0;
    vkt_rl_sp_game_stats per_game[VKT_RL_MAX_GAMES];  // by the mix's order
    double loss;             // objective of the last epoch (reference formula on its logprobs)
    vkt_pg_stats pg;         // of the last epoch
    double grad_norm;        // of the last epoch, before clipping
    double sample_entropy;   // mean sampling entropy of every generated token (nats)
    double entropy;          // mean H over the trained tokens in epoch 0 (entropy_coef > 0; else 0)
    double kl_uniform;       // kl_uniform > 0, at epoch 0 (the policy that played), means over the
    double legal_mass;       // decisions: KL(U || pi over the legal answers), the legal mass
    int uniform_rows;        // rows of the term (one per state and legal answer)
    double kl_uniform_coef;  // the term's coefficient in this update (the anneal's value)
    int format_turns;        // format_credit: sampled turns whose format was credited apart
    int invalid_clamped;     // ... and invalid turns whose A > 0 was set to 0 (never reinforced)
    double rollout_s, score_s, train_s;   // wall time of the phases
} vkt_rl_sp_stats;

// The run's state: everything --resume needs besides the model's parameters and moments.
typedef struct vkt_rl_sp {
    vkt_rl_sp_opts o;        // adv, replays and max_new_tokens as given (0 / auto kept)
    vkt_rl_mix mix;          // the games; per game its share of an update, mode and replays:
    int share[VKT_RL_MAX_GAMES], replays[VKT_RL_MAX_GAMES];
    vkt_rl_adv_mode adv[VKT_RL_MAX_GAMES];
    int answer_tokens;       // resolved answer budget (boxed: + VKT_RL_BOXED_EXTRA)
    int max_new_tokens;      // generation budget: think_tokens + answer_tokens (also the
                             // seq-sum-maxlen length)
    int kuhn;                // index of one-hand kuhn in the mix (exact analysis), or -1
    double kl_uniform;       // the KL-to-uniform coefficient at the start (auto resolved)
    double kl_anneal;        // its anneal fraction (auto resolved; 0 without games_target)
    bool explore;            // every answer explored (auto resolved)
    bool format_credit;      // format credit on sampled answers (auto resolved)
    int lr_warmup;           // the lr ramp in use (auto resolved)
    vkt_rl_fmt fmt;          // how text meets the model (think_tokens, tok, chat; rl_fmt.h)
    vkt_model *m;            // not owned
    vkt_gen *gen;            // owned: rollouts, scoring, extraction
    vkt_model *ref;          // owned, kl_coef > 0: the frozen reference policy
    vkt_gen *ref_gen;        // owned: its scoring plan
    int planned_T;           // the model's training plan (micro_rows x planned_T)
    int gen_len;             // the generation plans' positions (0: the model's context)
    vkt_rae rae;
    int64_t games, decisions, invalid;   // cumulative over the RL updates
    int updates, adam_step;
    double avg_num[VKT_KUHN_INFOSTATES], avg_den;  // games-weighted average policy
} vkt_rl_sp;

// Checks o against a model context without a device: the options' ranges, the game list,
// and that every game's prompt (with the thinking suffix) + the generation budget fits
// `context`; names the game or option at fault. vkt_rl_sp_init runs the same checks.
vkt_status vkt_rl_sp_check(const vkt_rl_sp_opts *o, int context, vkt_error *err);

// Validates o, creates the generation plan; counters start at 0. With kl_coef > 0 the
// model's parameters at this call become the reference (a resumed run then restores the
// original one with vkt_rl_sp_load_ref).
vkt_status vkt_rl_sp_init(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *o, vkt_error *err);
void vkt_rl_sp_free(vkt_rl_sp *s);
// Device bytes vkt_rl_sp_init(m, o) would allocate (generation plans, the training plan, a KL
// reference), checking o as it does: for reporting and refusing before allocating.
vkt_status vkt_rl_sp_plan_bytes(vkt_model *m, const vkt_rl_sp_opts *o, uint64_t *bytes, vkt_error *err);
vkt_status vkt_rl_sp_update(vkt_rl_sp *s, vkt_rl_sp_stats *st, vkt_error *err);
// The KL-to-uniform coefficient of an update that starts after `games` games: kl_uniform,
// then from games_target (1 - kl_anneal) a linear decay to kl_uniform_end at games_target.
double vkt_rl_sp_kl_uniform_at(const vkt_rl_sp *s, int64_t games);
// The averaged policy (the latest `latest` before any update).
void vkt_rl_sp_avg_policy(const vkt_rl_sp *s, const vkt_kuhn_policy *latest, vkt_kuhn_policy *avg);

// State file (JSON, written atomically): counters, baselines, average, options.
vkt_status vkt_rl_sp_save_state(const vkt_rl_sp *s, const char *path, vkt_error *err);
// Restores counters, baselines and the average (options stay those of s).
vkt_status vkt_rl_sp_load_state(vkt_rl_sp *s, const char *path, vkt_error *err);
// The KL reference as a checkpoint directory (config.json + model.safetensors, each
// written to a temporary file and renamed): save writes it (nothing without kl_coef);
// load replaces the reference's parameters (an error without kl_coef, or when the
// directory holds another configuration).
vkt_status vkt_rl_sp_save_ref(const vkt_rl_sp *s, const char *dir, vkt_error *err);
vkt_status vkt_rl_sp_load_ref(vkt_rl_sp *s, const char *dir, vkt_error *err);

// The model's Kuhn policy: at each of the 12 information states (compact prompt of the
// acting seat, rl_prompt.h), P(action) = exp(sum of the logprobs of its answer tokens,
// "[Text]" then <|endoftext|>), normalised over the two legal actions. One batched
// vkt_gen_score call (24 sequences). raw_mass (may be NULL) gets, per state, the
// unnormalised total probability of the two legal answers (1 - the invalid mass).
vkt_status vkt_rl_kuhn_policy(vkt_gen *gen, vkt_kuhn_policy *pi, double *raw_mass, vkt_error *err);
// The same in format f (rl_fmt.h; with think > 0, prompts with the suffix and answers
// "\boxed{Text}" + the answer's end): the policy of answering at once, and raw_mass the
// probability of doing so with a legal answer. Not the played policy when the model thinks first.
vkt_status vkt_rl_kuhn_policy_fmt(vkt_gen *gen, const vkt_rl_fmt *f, vkt_kuhn_policy *pi, double *raw_mass,
                                  vkt_error *err);
// The model's Kuhn policy by sampling: at each information state `samples` responses at
// temperature 1 to the prompt in format f (up to max_new_tokens tokens; sample k of
// state i on stream i * samples + k under `seed`, all in one vkt_generate call), parsed
// by the protocol; P(aggressive) = aggressive answers / valid answers (0.5 at a state
// with none). invalid (may be NULL) gets per state the fraction of responses that named
// no legal move.
vkt_status vkt_rl_kuhn_policy_sampled(vkt_gen *gen, const vkt_rl_fmt *f, int max_new_tokens, int samples, uint64_t seed,
                                      vkt_kuhn_policy *pi, double *invalid, vkt_error *err);
// The run's extraction: teacher forced (vkt_rl_kuhn_policy; invalid = 1 - raw_mass) when
// think_tokens is 0, else sampled with policy_samples per state and the run's budget,
// seeded by the run's seed and s->updates (a resumed run draws the same samples).
vkt_status vkt_rl_sp_kuhn_policy(const vkt_rl_sp *s, vkt_kuhn_policy *pi, double *invalid, vkt_error *err);

// An agent over a generation plan (prompts of rl_prompt.h in the direct-answer format,
// think 0): act samples one answer at temperature 1 (seeded from rng) and plays it
// through the protocol (VKT_ACTION_INVALID when it is not a legal move); probs scores
// each legal action's answer as above.
vkt_status vkt_rl_model_agent(vkt_gen *gen, vkt_agent *out, vkt_error *err);
// The same for a model of format f (rl_fmt.h, copied; the text it points to must outlive the
// agent): its prompts and budget; with think > 0 no probs (its policy is sampled).
vkt_status vkt_rl_model_agent_fmt(vkt_gen *gen, const vkt_rl_fmt *f, vkt_agent *out, vkt_error *err);

// Invalid-move rate of self-play sampling: `games` games (ids from game_base; a mix
// splits them evenly) at temperature 1, invalid moves / decisions.
vkt_status vkt_rl_invalid_rate(vkt_model *m, vkt_gen *gen, const char *game, int games, int64_t game_base,
                               uint64_t seed, int max_new_tokens, double *rate, vkt_error *err);
// The same in format f (max_new_tokens: the whole response's budget).
vkt_status vkt_rl_invalid_rate_fmt(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f, int games,
                                     int64_t game_base, uint64_t seed, int max_new_tokens, double *rate,
                                     vkt_error *err);

// The format warm-up: `steps` AdamW steps (lr, betas 0.9/0.95, clip 1; the lr ramps up
// linearly over the game's warmup_ramp steps, at most steps / 5, rl_mix.h) on batches of
// `rows` (prompt, answer) pairs drawn from random legal play (vkt_rl_random_action) of
// `game` (seeded by seed; a mix takes row r from its game r % n); the model's moments
// and step count start and end at zero. *loss gets the
// mean answer-token loss of the last step (nats).
vkt_status vkt_rl_warmup(vkt_model *m, const char *game, int steps, int rows, double lr, uint64_t seed, double *loss,
                         vkt_error *err);
// The same in format f: with think > 0 prompts with the suffix, targets "\boxed{Text}" + the
// answer's end (no thinking: the format, not a way of thinking, is imitated).
vkt_status vkt_rl_warmup_fmt(vkt_model *m, const char *game, const vkt_rl_fmt *f, int steps, int rows, double lr,
                               uint64_t seed, double *loss, vkt_error *err);

// Evaluation against an opponent agent in a two-player game: `games` games, the model
// in seat g % 2 of game g, evaluation rewards (an invalid move loses: -1 / +1);
// temperature 1. Rates over all games, and per seat over that seat's games.
typedef struct vkt_rl_eval {
    int games;
    double win, draw, loss, invalid;   // rates over games (invalid: the model forfeited)
    double mean_return;                // the model's mean return
    int decisions;                     // the model's moves (invalid / decisions: per-move rate)
    int seat_games[2];
    double seat_win[2], seat_draw[2], seat_loss[2], seat_invalid[2];
} vkt_rl_eval;
vkt_status vkt_rl_eval_vs(vkt_model *m, vkt_gen *gen, const char *game, const char *opponent, int games,
                          uint64_t seed, int max_new_tokens, vkt_rl_eval *out, vkt_error *err);
// The same in format f (max_new_tokens: the whole response's budget).
vkt_status vkt_rl_eval_vs_fmt(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f, const char *opponent,
                                int games, uint64_t seed, int max_new_tokens, vkt_rl_eval *out, vkt_error *err);

#endif
