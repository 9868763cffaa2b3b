// rl_sp_opts.h: a self-play run's options: their defaults, what "auto" resolves to, and the
// checks that name the option at fault (rl_selfplay.h runs them; docs/selfplay.md explains
// each default).
#ifndef VKT_RL_SP_OPTS_H
#define VKT_RL_SP_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_advantage.h"
#include "rl_fmt.h"
#include "rl_loss.h"
#include "rl_mix.h"

#define VKT_RL_LOGITS_BYTES (512ull << 20) // a training micro-batch's logits at most
#define VKT_RL_THINK_MAX 4096 // think_tokens' range (the model's context bounds it first)
// kl_uniform's auto value on one-hand Kuhn (docs/experiments/selfplay.md), kl_anneal's with
// Kuhn's auto C (docs/selfplay.md)
#define VKT_RL_KL_UNIFORM_KUHN 0.05
#define VKT_RL_KL_ANNEAL_KUHN 0.25
#define VKT_RL_KL_UNIFORM_EXPLORE 0.01      // ... and when every answer is explored (offswitch)
#define VKT_RL_LR_WARMUP_EXPLORE 8          // lr_warmup's auto value when every answer is explored
#define VKT_RL_GAMES_PER_UPDATE 128         // games_per_update's auto value ...
#define VKT_RL_GAMES_PER_UPDATE_EXPLORE 192 // ... and when exploring: 64 deals x 3 answers
enum { VKT_RL_EXPLORE_AUTO = -1, VKT_RL_EXPLORE_SAMPLE = 0, VKT_RL_EXPLORE_ALL = 1 };

typedef struct vkt_rl_sp_opts {
    const char *game;      // a game spec or a mix "kuhn,tictactoe,negotiation" (rl_mix.h);
                           // one-hand "kuhn" is the game with exact analysis
    vkt_rl_adv_mode adv;   // default auto: each game's own (rl_mix.h: kuhn group, see
                           // docs/selfplay.md; tictactoe, negotiation rae; offswitch group-mean)
    int replays;           // deals replayed per group (0: each game's default; offswitch 8
                           // under group and group-mean, else 1)
    int explore;           // VKT_RL_EXPLORE_ALL: every replay of a deal plays its own legal
                           // answer instead of a sample (rl_rollout.h): one-decision games
                           // (offswitch) under a group advantage; replays default to the legal
                           // count (3). AUTO (default): ALL for the off-switch game alone
    double rae_alpha;      // 0.95
    vkt_pg_opts pg;        // ppo, clip 0.2, seq-sum-maxlen; max_len = the generation budget;
                           // kl_coef, entropy_coef (default 0, SPIRAL's setting)
    int ppo_epochs;        // 2
    int games_per_update;  // < 0 (default): auto, VKT_RL_GAMES_PER_UPDATE_EXPLORE when
                           // exploring every answer, else VKT_RL_GAMES_PER_UPDATE
    double lr;             // Adam learning rate
    int lr_warmup;         // updates of a linear lr ramp at the start of RL (0: none): Adam's
                           // first steps move every weight by ~lr whatever the gradient's size;
                           // < 0 (default): auto, VKT_RL_LR_WARMUP_EXPLORE when exploring, else 0
    double beta1, beta2;   // 0.9, 0.95
    double weight_decay;   // 0
    double max_grad_norm;  // 1.0
    int max_new_tokens;    // answer budget; 0: the largest of the mix's games (kuhn, tictactoe,
                           // offswitch 8: "[Check]" + <|endoftext|>; negotiation 32; + 8 for
                           // the boxed answer when thinking); thinking adds think_tokens
    int micro_rows;        // rows per forward/backward (64; halved until a micro-batch's logits
                           // fit VKT_RL_LOGITS_BYTES, for a pretrained model's vocabulary)
    int think_tokens;      // 0 (default): answer directly; N > 0: up to N tokens of thinking
                           // before a \boxed{} answer (the answer budget grows by 8 for it)
    int policy_samples;    // think_tokens > 0: Kuhn extraction samples per information state (64)
    double kl_uniform;     // coefficient of the KL-to-uniform term over legal answers (0: off;
                           // < 0, the default: auto: VKT_RL_KL_UNIFORM_KUHN on one-hand Kuhn
                           // alone with direct answers, VKT_RL_KL_UNIFORM_EXPLORE when
                           // exploring, else 0; games with few legal moves, direct answers)
    double kl_uniform_end; // the coefficient at the end of the anneal (0; <= the start)
    double kl_anneal;      // the run's last fraction (0..1) over which it decays (< 0: auto)
    int64_t games_target;  // the run's length in games, for the anneal (0: no schedule)
    int format_credit;     // 1: credit a sampled legal answer's format apart from its choice
                           // (above); 0: every token gets A; < 0 (default): auto, on for
                           // one-hand Kuhn alone with direct answers
    vkt_tok *tok;          // the model's tokenizer.json (not owned); NULL: vkt's byte tokenizer
    bool chat;             // with tok: prompts are user turns of its chat template (rl_fmt.h)
    uint64_t seed;
} vkt_rl_sp_opts;

void vkt_rl_sp_defaults(vkt_rl_sp_opts *o);
// Resolves in place what a run's caller leaves to the library before a model exists:
// games_per_update < 0 (auto, above); with warmup_steps / warmup_lr not NULL, a value < 0 /
// <= 0 becomes the mix's warm-up default (rl_mix.h). The other auto values stay auto in o:
// a run saves its options so, and vkt_rl_sp_init resolves them (into vkt_rl_sp) every time it
// starts, a resumed run included. Names a bad game list.
vkt_status vkt_rl_sp_resolve(vkt_rl_sp_opts *o, int *warmup_steps, double *warmup_lr,
                             vkt_error *err);
// Whether o explores every answer on the games of mx (resolves VKT_RL_EXPLORE_AUTO: the
// off-switch game alone, under auto or a group advantage).
bool vkt_rl_sp_explores(const vkt_rl_sp_opts *o, const vkt_rl_mix *mx);
// Parses "auto", "sample", "all" (names the bad value); and the name of a mode.
vkt_status vkt_rl_explore_parse(const char *s, int *out, vkt_error *err);
const char *vkt_rl_explore_name(int mode);

// Checks o against a model context without a device: the options' ranges, the game list,
// and that every game's prompt (with the thinking suffix) + the generation budget fits
// `context`; names the game or option at fault. vkt_rl_sp_init runs the same checks.
vkt_status vkt_rl_sp_check(const vkt_rl_sp_opts *o, int context, vkt_error *err);

#endif
