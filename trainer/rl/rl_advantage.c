// rl_advantage.c: RAE baselines and per-state group advantages (see rl_advantage.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl_advantage.h"

vkt_status vkt_rl_adv_mode_parse(const char *s, vkt_rl_adv_mode *out, vkt_error *err) {
    if (!strcmp(s, "rae"))
        *out = VKT_RL_ADV_RAE;
    else if (!strcmp(s, "none"))
        *out = VKT_RL_ADV_NONE;
    else if (!strcmp(s, "group"))
        *out = VKT_RL_ADV_GROUP;
    else if (!strcmp(s, "group-mean"))
        *out = VKT_RL_ADV_GROUP_MEAN;
    else if (!strcmp(s, "auto"))
        *out = VKT_RL_ADV_AUTO;
    else
        return vkt_fail(err, VKT_ERR_ARG,
                        "advantage '%s': expected rae, none, group, group-mean or auto", s);
    return VKT_OK;
}

const char *vkt_rl_adv_mode_name(vkt_rl_adv_mode m) {
    switch (m) {
    case VKT_RL_ADV_RAE: return "rae";
    case VKT_RL_ADV_NONE: return "none";
    case VKT_RL_ADV_GROUP: return "group";
    case VKT_RL_ADV_GROUP_MEAN: return "group-mean";
    case VKT_RL_ADV_AUTO: return "auto";
    }
    return "?";
}

void vkt_rae_init(vkt_rae *r, double alpha) {
    memset(r, 0, sizeof *r);
    r->alpha = alpha;
}

vkt_status vkt_rae_advantage(vkt_rae *r, int game, int role, double R, double *A, vkt_error *err) {
    if (game < 0 || game >= VKT_RL_MAX_GAMES || role < 0 || role >= VKT_RL_MAX_ROLES)
        return vkt_fail(err, VKT_ERR_ARG,
                        "rae: game %d / role %d out of range (%d games, %d roles)", game, role,
                        VKT_RL_MAX_GAMES, VKT_RL_MAX_ROLES);
    double *b = &r->b[game][role];
    *A = R - *b; // read before the update (SPIRAL)
    *b = r->alpha * *b + (1.0 - r->alpha) * R;
    r->updates[game][role]++;
    return VKT_OK;
}

typedef struct keyed {
    uint64_t key;
    int i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i - y->i;
}

static vkt_status group_adv(int n, const uint64_t *group, const double *R, double *A, bool by_sd,
                            vkt_error *err) {
    if (n < 0) return vkt_fail(err, VKT_ERR_ARG, "group advantages: n = %d", n);
    if (n == 0) return VKT_OK;
    keyed *k = malloc((size_t)n * sizeof *k);
    if (!k) return vkt_fail(err, VKT_ERR_NOMEM, "group advantages: %d samples", n);
    for (int i = 0; i < n; i++) k[i] = (keyed){group[i], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int lo = 0; lo < n;) {
        int hi = lo;
        while (hi < n && k[hi].key == k[lo].key) hi++;
        int m = hi - lo;
        double sum = 0, mean, ss = 0;
        bool same = true; // all returns equal: every A is 0 (tested exactly, not via sd)
        for (int j = lo; j < hi; j++) sum += R[k[j].i], same = same && R[k[j].i] == R[k[lo].i];
        mean = sum / m;
        for (int j = lo; j < hi; j++) ss += (R[k[j].i] - mean) * (R[k[j].i] - mean);
        double sd = sqrt(ss / m); // population sd
        for (int j = lo; j < hi; j++) {
            int i = k[j].i;
            if (m == 1 || same) {
                A[i] = 0;
                continue;
            } // no other sample / no signal: dropped
            double others = (sum - R[i]) / (m - 1);
            double num = R[i] - others;
            A[i] = num == 0 || !by_sd ? num : num / (sd + VKT_RL_GROUP_EPS);
        }
        lo = hi;
    }
    free(k);
    return VKT_OK;
}

vkt_status vkt_rl_group_advantages(int n, const uint64_t *group, const double *R, double *A,
                                   vkt_error *err) {
    return group_adv(n, group, R, A, true, err);
}

vkt_status vkt_rl_group_mean_advantages(int n, const uint64_t *group, const double *R, double *A,
                                        vkt_error *err) {
    return group_adv(n, group, R, A, false, err);
}

int vkt_rl_adv_keep(int n, const double *A, bool *keep) {
    int kept = 0;
    for (int i = 0; i < n; i++) kept += (keep[i] = A[i] != 0);
    return kept;
}
