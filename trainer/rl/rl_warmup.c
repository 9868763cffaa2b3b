// rl_warmup.c: the format warm-up (see rl_warmup.h).
#include <math.h>
#include <stdlib.h>

#include "context.h"
#include "rl_batch.h"
#include "rl_prompt.h"
#include "rl_sp_internal.h"
#include "rl_warmup.h"
#include "schedule.h"

typedef struct example {
    int32_t *prompt; // owned by the state's first row
    bool owns;
    int np;
    int32_t ans[VKT_RL_ANSWER_MAX];
    int na;
    double f; // the row's share of its state (1, or 1/n when every legal answer is a row)
} example;

// The next decision of random legal play (games restart when over) into rows ex[0..):
// one row with the sampled answer, or with `expand` one row per legal answer, each at
// 1/n (the random policy's whole distribution at this state instead of one sample of
// it). *used = 0 when the rows do not fit in `room` (nothing is drawn or played then).
static vkt_status next_example(vkt_game *g, bool *fresh, int64_t *game_no, uint64_t seed,
                               vkt_rng *rng, bool expand, const vkt_rl_fmt *f, example *ex,
                               int room, int *used, vkt_error *err) {
    *used = 0;
    if (*fresh || vkt_game_is_terminal(g)) {
        VKT_TRY(vkt_game_reset(g, vkt_rng_derive(seed, (uint64_t)(*game_no)++), err));
        *fresh = false;
    }
    int acts[VKT_GAME_MAX_LEGAL], n = expand ? vkt_game_legal_actions(g, acts) : 1;
    if (n > room) return VKT_OK;
    int p = vkt_game_current_player(g), a = vkt_rl_random_action(g, rng);
    VKT_TRY(vkt_rl_prompt_tokens(g, p, f, &ex[0].prompt, &ex[0].np, err));
    ex[0].owns = true;
    for (int k = 0; k < n; k++) {
        if (k) ex[k].prompt = ex[0].prompt, ex[k].np = ex[0].np, ex[k].owns = false;
        ex[k].f = 1.0 / n;
        VKT_TRY(vkt_rl_answer_tokens(g, expand ? acts[k] : a, f, ex[k].ans, VKT_RL_ANSWER_MAX,
                                     &ex[k].na, err));
    }
    *used = n;
    return vkt_game_apply(g, a, err);
}

static void free_rows(example *ex, int n) {
    for (int r = 0; ex && r < n; r++) {
        if (ex[r].owns) free(ex[r].prompt);
        ex[r].prompt = NULL, ex[r].owns = false;
    }
}

// One warm-up step over rows x T packed rows, mb rows a forward (gradients accumulate: the
// weights are normalised over all rows); *loss (may be NULL) gets the summed loss.
static vkt_status warmup_step(vkt_model *m, int rows, int mb, int T, const int32_t *tok,
                              const int32_t *tgt, const float *wt, const vkt_optim *opt, int step,
                              double *loss) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    double sum = 0;
    for (int r0 = 0; r0 < rows; r0 += mb) {
        const size_t at = (size_t)r0 * T;
        if (vkt_model_set_batch(m, tok + at, tgt + at, wt + at) != VKT_OK ||
            vkt_model_forward(m, NULL, NULL) != VKT_OK || vkt_model_backward(m, 1.0f) != VKT_OK)
            return vkt_fail_wrap(err, "selfplay: warmup step");
        double ls, ws;
        if (loss && vkt_model_read_loss(m, &ls, &ws) != VKT_OK)
            return vkt_fail_wrap(err, "selfplay: warmup: loss");
        sum += loss ? ls : 0;
    }
    if (vkt_model_adamw(m, opt, step, NULL) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: warmup step");
    if (loss) *loss = sum;
    return VKT_OK;
}

vkt_status vkt_rl_warmup(vkt_model *m, const char *game, const vkt_rl_fmt *f, int steps, int rows,
                         double lr, uint64_t seed, double *loss) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    const int think = f ? f->think : 0;
    if (steps < 0 || rows < 1 || think < 0)
        return vkt_fail(err, VKT_ERR_ARG, "warmup: steps %d, rows %d, think %d", steps, rows,
                        think);
    vkt_rl_mix mx;
    VKT_TRY(vkt_rl_mix_parse(game, &mx, err));
    vkt_game *g = malloc((size_t)mx.n * sizeof *g); // one running game per game of the mix
    bool fresh[VKT_RL_MAX_GAMES];
    int64_t game_no[VKT_RL_MAX_GAMES] = {0};
    if (!g) return vkt_fail(err, VKT_ERR_NOMEM, "warmup games");
    for (int i = 0; i < mx.n; i++) {
        fresh[i] = true;
        vkt_status cs = vkt_game_create(&g[i], mx.g[i].spec, err);
        if (cs != VKT_OK) {
            free(g);
            return cs;
        }
    }
    vkt_rng rng;
    vkt_rng_seed(&rng, vkt_rng_derive(seed, 0x3a7e));
    example *ex = calloc((size_t)rows, sizeof *ex);
    vkt_rl_seq *seqs = malloc((size_t)rows * sizeof *seqs);
    int *wstart = malloc((size_t)rows * sizeof *wstart);
    double *w = malloc((size_t)rows * VKT_RL_ANSWER_MAX * sizeof *w);
    int32_t *tok = NULL, *tgt = NULL;
    float *wt = NULL;
    int planT = 0;
    vkt_status s =
        (ex && seqs && wstart && w) ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "warmup buffers");
    int mb =
        rows; // rows a forward: a pretrained vocabulary's logits split the step (rl_selfplay.h)
    vkt_optim opt = {(float)lr, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f, 1.0f};
    int ramp = 0; // the mix's largest ramp, at most a fifth of the steps
    for (int i = 0; i < mx.n; i++) ramp = mx.g[i].warmup_ramp > ramp ? mx.g[i].warmup_ramp : ramp;
    if (ramp > steps / 5) ramp = steps / 5;
    if (loss) *loss = NAN;
    for (int step = 1; s == VKT_OK && step <= steps; step++) {
        int needT = 1, ntok = 0, nr = 0;
        double fsum = 0; // sum over rows of f * answer tokens: the weights' normaliser
        free_rows(ex, rows);
        for (int state = 0; nr < rows && s == VKT_OK; state++) {
            const int k = state % mx.n;
            int used = 0;
            s = next_example(&g[k], &fresh[k], &game_no[k], seed, &rng, mx.g[k].warmup_expand, f,
                             ex + nr, rows - nr, &used, err);
            if (s == VKT_OK && used == 0 && nr == 0)
                s = vkt_fail(err, VKT_ERR_ARG,
                             "warmup: %d rows cannot hold the legal answers of one %s state", rows,
                             mx.g[k].name);
            if (s != VKT_OK || used == 0) break;
            for (int r = nr; r < nr + used; r++) {
                seqs[r] = (vkt_rl_seq){ex[r].prompt, ex[r].np, ex[r].ans, ex[r].na};
                wstart[r] = ntok, ntok += ex[r].na, fsum += ex[r].f * ex[r].na;
                if (ex[r].np + ex[r].na - 1 > needT) needT = ex[r].np + ex[r].na - 1;
            }
            nr += used;
        }
        if (s != VKT_OK) break;
        for (int r = 0; r < nr; r++)
            for (int t = 0; t < ex[r].na; t++) w[wstart[r] + t] = ex[r].f / fsum;
        if (needT > planT) {
            planT = (needT + 3) / 4 * 4;
            if (planT > vkt_model_cfg(m)->context) planT = vkt_model_cfg(m)->context;
            free(tok), free(tgt), free(wt);
            tok = malloc((size_t)rows * planT * sizeof *tok),
            tgt = malloc((size_t)rows * planT * sizeof *tgt);
            wt = malloc((size_t)rows * planT * sizeof *wt);
            mb = rows;
            const uint64_t V = (uint64_t)vkt_model_cfg(m)->vocab;
            while (mb % 2 == 0 && (uint64_t)mb * (uint64_t)planT * V * 4 > VKT_RL_LOGITS_BYTES)
                mb /= 2;
            if (!tok || !tgt || !wt)
                s = vkt_fail(err, VKT_ERR_NOMEM, "warmup rows");
            else if (vkt_model_plan(m, mb, planT) != VKT_OK)
                s = vkt_fail_wrap(err, "selfplay: warmup: plan");
        }
        opt.lr = (float)vkt_lr_at(step - 1, steps, ramp, lr, lr); // the ramp, then constant
        if (s == VKT_OK) s = vkt_rl_pack(seqs, nr, w, wstart, rows, planT, tok, tgt, wt, err);
        double ls = 0;
        const bool last = loss && step == steps;
        if (s == VKT_OK)
            s = warmup_step(m, rows, mb, planT, tok, tgt, wt, &opt, step, last ? &ls : NULL);
        if (s == VKT_OK && last) {
            if (!isfinite(ls))
                s = vkt_fail(err, VKT_ERR_ARG,
                             "warmup: the loss after step %d is %g, not finite: the model has "
                             "diverged (try a lower --warmup-lr)",
                             step, ls);
            else
                *loss = ls;
        }
    }
    // RL starts with fresh moments.
    if (s == VKT_OK && vkt_model_reset_optim(m) != VKT_OK)
        s = vkt_fail_wrap(err, "selfplay: warmup: reset moments");
    free_rows(ex, rows);
    free(ex), free(seqs), free(wstart), free(w), free(tok), free(tgt), free(wt), free(g);
    return s;
}
