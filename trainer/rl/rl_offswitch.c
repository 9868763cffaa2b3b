// rl_offswitch.c: the model's off-switch choices by teacher forcing, and the deference
// CSV (see rl_offswitch.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "atomic_file.h"
#include "context.h"
#include "rl_offswitch.h"
#include "rl_prompt.h"

enum { ANS = 16 };

vkt_status vkt_rl_offswitch_probs(vkt_gen *gen, const vkt_rl_fmt *f, const vkt_game *eps, int n,
                                  double *p, double *legal_mass) {
    vkt_error *err = vkt_ctx_err(vkt_gen_ctx(gen));
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "offswitch probs: %d episodes (>= 1)", n);
    const size_t N = 3 * (size_t)n;
    int32_t **pids = calloc((size_t)n, sizeof *pids), *ans = malloc(N * ANS * sizeof *ans);
    int *np = malloc((size_t)n * sizeof *np), *na = malloc(N * sizeof *na);
    vkt_gen_prompt *pr = malloc(N * sizeof *pr);
    const int32_t **cont = malloc(N * sizeof *cont);
    float *lp = malloc(N * ANS * sizeof *lp), **lpo = malloc(N * sizeof *lpo);
    vkt_status s = VKT_OK;
    if (!pids || !ans || !np || !na || !pr || !cont || !lp || !lpo)
        s = vkt_fail(err, VKT_ERR_NOMEM, "offswitch probs: %d episodes", n);
    for (int i = 0; s == VKT_OK && i < n; i++) {
        if (vkt_game_is_terminal(&eps[i])) {
            s = vkt_fail(err, VKT_ERR_ARG, "offswitch probs: episode %d is already over", i);
            break;
        }
        s = vkt_rl_prompt_tokens(&eps[i], 0, f, &pids[i], &np[i], err);
        for (int a = 0; s == VKT_OK && a < 3; a++) {
            size_t q = 3 * (size_t)i + a;
            s = vkt_rl_answer_tokens(&eps[i], a, f, ans + q * ANS, ANS, &na[q], err);
            pr[q] = (vkt_gen_prompt){pids[i], np[i], 0}, cont[q] = ans + q * ANS,
            lpo[q] = lp + q * ANS;
        }
    }
    if (s == VKT_OK && vkt_gen_score(gen, (int)N, pr, cont, na, lpo) != VKT_OK)
        s = vkt_fail_wrap(err, "offswitch probs: scoring the answers failed");
    for (int i = 0; s == VKT_OK && i < n; i++) {
        double l[3], mx = -INFINITY, tot = 0;
        for (int a = 0; a < 3; a++) {
            size_t q = 3 * (size_t)i + a;
            l[a] = 0;
            for (int t = 0; t < na[q]; t++) l[a] += lp[q * ANS + t];
            if (l[a] > mx) mx = l[a];
        }
        for (int a = 0; a < 3; a++) tot += exp(l[a] - mx);
        for (int a = 0; a < 3; a++) p[3 * i + a] = exp(l[a] - mx) / tot;
        if (legal_mass) legal_mass[i] = exp(mx) * tot;
    }
    for (int i = 0; pids && i < n; i++) free(pids[i]);
    free(pids), free(ans), free(np), free(na), free(pr), free(cont), free(lp), free(lpo);
    return s;
}

vkt_status vkt_rl_offswitch_write_csv(const char *path, const vkt_offswitch_bin *bins, int n,
                                      vkt_error *err) {
    vkt_atomic_file af;
    VKT_TRY(vkt_atomic_file_open(&af, path, err));
    char line[512];
    int len = snprintf(line, sizeof line,
                       "delta_lo,delta_hi,episodes,mean_delta,theory_p_wait,model_p_wait,model_p_"
                       "wait_se,model_p_act,"
                       "model_p_off\n");
    vkt_status s = vkt_atomic_file_write(&af, line, (size_t)len, err);
    for (int k = 0; s == VKT_OK && k < n; k++) {
        const vkt_offswitch_bin *b = &bins[k];
        len = snprintf(line, sizeof line, "%.6g,%.6g,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", b->lo,
                       b->hi, b->episodes, b->mean_delta, b->theory_wait, b->p_wait, b->p_wait_se,
                       b->p_act, b->p_off);
        s = vkt_atomic_file_write(&af, line, (size_t)len, err);
    }
    if (s != VKT_OK) {
        vkt_atomic_file_abort(&af);
        return s;
    }
    return vkt_atomic_file_commit(&af, err);
}
