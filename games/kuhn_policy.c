// kuhn_policy.c: tabular Kuhn policies: names, built-ins, JSON, extraction from agents.
#include "kuhn_policy.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kuhn.h"

static const char *names[VKT_KUHN_INFOSTATES] = {
    "0", "0p", "0b", "0pb", "1", "1p", "1b", "1pb", "2", "2p", "2b", "2pb",
};
static const char *hists[4] = {"", "p", "b", "pb"};

const char *vkt_kuhn_infostate_name(int i) {
    return i >= 0 && i < VKT_KUHN_INFOSTATES ? names[i] : NULL;
}

int vkt_kuhn_infostate_index(const char *name) {
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

int vkt_kuhn_infostate_player(int i) { return (i % 4 == 1 || i % 4 == 2) ? 1 : 0; }

void vkt_kuhn_policy_const(vkt_kuhn_policy *pi, double p) {
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) pi->bet[i] = p;
}

vkt_status vkt_kuhn_policy_check_finite(const vkt_kuhn_policy *pi, vkt_error *err) {
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        if (!isfinite(pi->bet[i]))
            return vkt_fail(err, VKT_ERR_ARG,
                            "the kuhn policy's P(bet) at information state '%s' is %g, not finite "
                            "(the policy has diverged)",
                            vkt_kuhn_infostate_name(i), pi->bet[i]);
    return VKT_OK;
}

vkt_status vkt_kuhn_policy_nash(double alpha, vkt_kuhn_policy *pi, vkt_error *err) {
    if (!(alpha >= 0 && alpha <= 1.0 / 3.0 + 1e-15))
        return vkt_fail(err, VKT_ERR_ARG, "kuhn: nash alpha %g must be in [0, 1/3]", alpha);
    static const struct {
        const char *key;
        double a, c;
    } tab[] = {
        // P(bet) = a * alpha + c
        {"0", 1, 0},  {"0pb", 0, 0},      {"1", 0, 0},        {"1pb", 1, 1.0 / 3},
        {"2", 3, 0},  {"2pb", 0, 1},      {"0p", 0, 1.0 / 3}, {"0b", 0, 0},
        {"1p", 0, 0}, {"1b", 0, 1.0 / 3}, {"2p", 0, 1},       {"2b", 0, 1},
    };
    for (int k = 0; k < 12; k++)
        pi->bet[vkt_kuhn_infostate_index(tab[k].key)] = tab[k].a * alpha + tab[k].c;
    return VKT_OK;
}

// "0.2" or "1/6": a number in full, nothing trailing.
static bool parse_number(const char *s, double *out) {
    char *end;
    double a = strtod(s, &end);
    if (end == s) return false;
    if (*end == '/') {
        const char *d = end + 1;
        double b = strtod(d, &end);
        if (end == d || b == 0) return false;
        a /= b;
    }
    if (*end) return false;
    *out = a;
    return true;
}

vkt_status vkt_kuhn_policy_from_spec(const char *spec, vkt_kuhn_policy *pi, vkt_error *err) {
    if (strcmp(spec, "random") == 0 || strcmp(spec, "uniform") == 0)
        vkt_kuhn_policy_const(pi, 0.5);
    else if (strcmp(spec, "always-bet") == 0)
        vkt_kuhn_policy_const(pi, 1.0);
    else if (strcmp(spec, "always-pass") == 0)
        vkt_kuhn_policy_const(pi, 0.0);
    else if (strcmp(spec, "nash") == 0)
        return vkt_kuhn_policy_nash(1.0 / 6.0, pi, err);
    else if (strncmp(spec, "nash:", 5) == 0) {
        double alpha;
        if (!parse_number(spec + 5, &alpha))
            return vkt_fail(err, VKT_ERR_ARG,
                            "kuhn: policy '%s': alpha must be a number or a fraction like 1/6",
                            spec);
        return vkt_kuhn_policy_nash(alpha, pi, err);
    } else
        return vkt_kuhn_policy_load(spec, pi, err);
    return VKT_OK;
}

static vkt_status from_value(json_t *root, const char *what, vkt_kuhn_policy *pi, vkt_error *err) {
    if (!json_is_object(root))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: a Kuhn policy must be a JSON object", what);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (vkt_kuhn_infostate_index(key) < 0)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: '%s' is not a Kuhn information state (0, 0p, 0b, 0pb, 1, ...)",
                            what, key);
    }
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        v = json_object_get(root, names[i]);
        if (!v)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: information state \"%s\" is missing", what,
                            names[i]);
        double p;
        if (json_is_number(v)) {
            p = json_number_value(v);
        } else if (json_is_array(v) && json_array_size(v) == 2 &&
                   json_is_number(json_array_get(v, 0)) && json_is_number(json_array_get(v, 1))) {
            double a = json_number_value(json_array_get(v, 0)),
                   b = json_number_value(json_array_get(v, 1));
            if (!(a >= 0 && b >= 0 && fabs(a + b - 1) < 1e-9))
                return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\": [%g, %g] is not a distribution",
                                what, names[i], a, b);
            p = b;
        } else {
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a number or [p_pass, p_bet]",
                            what, names[i]);
        }
        if (!(p >= 0 && p <= 1))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" = %g is not a probability", what,
                            names[i], p);
        pi->bet[i] = p;
    }
    return VKT_OK;
}

vkt_status vkt_kuhn_policy_from_json(const char *json, vkt_kuhn_policy *pi, vkt_error *err) {
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    if (!root)
        return vkt_fail(err, VKT_ERR_FORMAT, "kuhn policy JSON: line %d: %s", je.line, je.text);
    vkt_status s = from_value(root, "kuhn policy JSON", pi, err);
    json_decref(root);
    return s;
}

vkt_status vkt_kuhn_policy_load(const char *path, vkt_kuhn_policy *pi, vkt_error *err) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return vkt_fail(err, VKT_ERR_IO,
                            "kuhn policy %s: cannot open (not a built-in policy either: random, "
                            "always-bet, always-pass, nash[:alpha])",
                            path);
        fclose(f);
        return vkt_fail(err, VKT_ERR_FORMAT, "kuhn policy %s: line %d: %s", path, je.line, je.text);
    }
    vkt_status s = from_value(root, path, pi, err);
    json_decref(root);
    return s;
}

vkt_status vkt_kuhn_policy_save(const char *path, const vkt_kuhn_policy *pi, vkt_error *err) {
    json_t *root = json_object();
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        json_object_set_new(root, names[i], json_real(pi->bet[i]));
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        json_decref(root);
        return vkt_fail(err, VKT_ERR_ARG, "kuhn policy: path '%.60s...' is too long", path);
    }
    int rc = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return vkt_fail(err, VKT_ERR_IO, "kuhn policy %s: cannot write", path);
    }
    return VKT_OK;
}

vkt_status vkt_kuhn_policy_from_agent(vkt_agent *a, int samples, vkt_rng *rng, vkt_kuhn_policy *pi,
                                      double *invalid_frac, vkt_error *err) {
    if (!a->probs && samples < 1)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "kuhn policy from agent %s: samples=%d must be >= 1 (the agent has no probs)", a->name,
            samples);
    vkt_game g;
    VKT_TRY(vkt_game_create(&g, "kuhn", err));
    VKT_TRY(vkt_game_reset(&g, 0, err));
    long asked = 0, invalid = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        int card = i / 4, player = vkt_kuhn_infostate_player(i);
        int other = (card + 1) % 3; // unseen by the agent; any other card will do
        VKT_TRY(vkt_kuhn_set_hand(&g, player == 0 ? card : other, player == 0 ? other : card,
                                  hists[i % 4], err));
        if (a->probs) {
            int acts[2] = {VKT_KUHN_PASS, VKT_KUHN_BET};
            double p[2];
            VKT_TRY(a->probs(a->self, &g, player, acts, 2, p, err));
            double s = p[0] + p[1];
            if (!(s > 0) || !isfinite(s))
                return vkt_fail(err, VKT_ERR_ARG, "agent %s: probabilities at \"%s\" sum to %g",
                                a->name, names[i], s);
            pi->bet[i] = p[1] / s;
            continue;
        }
        long bets = 0, valid = 0;
        for (int k = 0; k < samples; k++) {
            int act;
            VKT_TRY(vkt_agent_act(a, &g, player, rng, &act, err));
            asked++;
            if (act == VKT_ACTION_INVALID) {
                invalid++;
                continue;
            }
            valid++;
            bets += act == VKT_KUHN_BET;
        }
        if (valid == 0)
            return vkt_fail(err, VKT_ERR_ARG,
                            "agent %s: no valid move in %d tries at information state \"%s\"",
                            a->name, samples, names[i]);
        pi->bet[i] = (double)bets / (double)valid;
    }
    if (invalid_frac) *invalid_frac = asked ? (double)invalid / (double)asked : 0.0;
    return VKT_OK;
}
