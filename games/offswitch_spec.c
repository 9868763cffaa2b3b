// offswitch_spec.c: parsing, checking and printing prior and human specs
// (`normal:mu=0.3,sigma=1.2`, `boltzmann:beta=0.5`, ...; syntax in offswitch.h).
// Every error names the whole spec and what is wrong with it.
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offswitch.h"

#define WEIGHT_SUM_TOL 1e-9

static const char *skip_space(const char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    return s;
}

// Parses one finite number at *s, advancing *s; false when there is none.
static int parse_number(const char **s, double *out) {
    const char *p = skip_space(*s);
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno == ERANGE || !isfinite(v)) return 0;
    *s = skip_space(end);
    *out = v;
    return 1;
}

// Parses "k1=v1,k2=v2" from s up to the terminator `stop` (or the end), filling vals[i]
// for keys[i]. Every key is required exactly once. *s is left at the terminator.
static vkt_status parse_kv(const char *what, const char *spec, const char **s, char stop, int nkeys,
                           const char *const *keys, double *vals, vkt_error *err) {
    int seen[4] = {0};
    const char *p = skip_space(*s);
    for (;;) {
        const char *k0 = p;
        while (*p && (isalnum((unsigned char)*p) || *p == '_')) p++;
        size_t klen = (size_t)(p - k0);
        if (klen == 0)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s '%s': expected a parameter name at '%s'", what,
                            spec, k0);
        int idx = -1;
        for (int i = 0; i < nkeys; i++)
            if (strlen(keys[i]) == klen && !strncmp(keys[i], k0, klen)) idx = i;
        if (idx < 0) {
            char list[64] = "";
            for (int i = 0; i < nkeys; i++) {
                strncat(list, keys[i], sizeof list - strlen(list) - 1);
                if (i + 1 < nkeys) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return vkt_fail(err, VKT_ERR_FORMAT, "%s '%s': unknown parameter '%.*s' (expected %s)",
                            what, spec, (int)klen, k0, list);
        }
        if (seen[idx])
            return vkt_fail(err, VKT_ERR_FORMAT, "%s '%s': parameter '%s' given twice", what, spec,
                            keys[idx]);
        p = skip_space(p);
        if (*p != '=')
            return vkt_fail(err, VKT_ERR_FORMAT, "%s '%s': expected '=' after '%s'", what, spec,
                            keys[idx]);
        p++;
        const char *v0 = p;
        if (!parse_number(&p, &vals[idx]) || (*p && *p != ',' && *p != stop)) {
            const char *v1 = v0;
            while (*v1 && *v1 != ',' && *v1 != stop) v1++;
            return vkt_fail(err, VKT_ERR_FORMAT, "%s '%s': %s='%.*s' is not a finite number", what,
                            spec, keys[idx], (int)(v1 - v0), v0);
        }
        seen[idx] = 1;
        if (*p == ',') {
            p = skip_space(p + 1);
            continue;
        }
        break;
    }
    for (int i = 0; i < nkeys; i++)
        if (!seen[i])
            return vkt_fail(err, VKT_ERR_FORMAT, "%s '%s': missing parameter '%s'", what, spec,
                            keys[i]);
    *s = p;
    return VKT_OK;
}

static vkt_status check_weights(const char *spec, const double *w, int n, vkt_error *err) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (!(w[i] >= 0))
            return vkt_fail(err, VKT_ERR_ARG, "prior '%s': weight %g of part %d is negative", spec,
                            w[i], i + 1);
        sum += w[i];
    }
    if (fabs(sum - 1) > WEIGHT_SUM_TOL)
        return vkt_fail(err, VKT_ERR_ARG, "prior '%s': weights sum to %.12g, not 1", spec, sum);
    return VKT_OK;
}

static void normalise(double *w, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += w[i];
    for (int i = 0; i < n; i++) w[i] /= sum;
}

static vkt_status parse_discrete(const char *spec, const char *s, vkt_offswitch_prior *out,
                                 vkt_error *err) {
    out->family = VKT_OFFSWITCH_DISCRETE;
    int n = 0, with_p = 0;
    for (;;) {
        if (n == VKT_OFFSWITCH_MAX_PARTS)
            return vkt_fail(err, VKT_ERR_ARG, "prior '%s': more than %d atoms", spec,
                            VKT_OFFSWITCH_MAX_PARTS);
        const char *at = s;
        if (!parse_number(&s, &out->value[n]))
            return vkt_fail(err, VKT_ERR_FORMAT, "prior '%s': expected a value at '%s'", spec, at);
        if (*s == '@') {
            s++;
            at = s;
            if (!parse_number(&s, &out->weight[n]))
                return vkt_fail(err, VKT_ERR_FORMAT, "prior '%s': expected a probability at '%s'",
                                spec, at);
            with_p++;
        } else {
            out->weight[n] = 1;
        }
        n++;
        if (*s == ';') {
            s = skip_space(s + 1);
            continue;
        }
        if (*s)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "prior '%s': unexpected '%s' (atoms are u@p;u@p;...)", spec, s);
        break;
    }
    if (with_p != n && !(n == 1 && with_p == 0))
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "prior '%s': every atom needs '@probability' (only a single atom may omit it)", spec);
    out->n = n;
    VKT_TRY(check_weights(spec, out->weight, n, err));
    normalise(out->weight, n);
    return VKT_OK;
}

static vkt_status parse_mixture(const char *spec, const char *s, vkt_offswitch_prior *out,
                                vkt_error *err) {
    static const char *const keys[] = {"mu", "sigma"};
    out->family = VKT_OFFSWITCH_MIXTURE;
    int n = 0;
    for (;;) {
        if (n == VKT_OFFSWITCH_MAX_PARTS)
            return vkt_fail(err, VKT_ERR_ARG, "prior '%s': more than %d components", spec,
                            VKT_OFFSWITCH_MAX_PARTS);
        const char *at = s;
        if (!parse_number(&s, &out->weight[n]) || *s != '*')
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "prior '%s': expected 'WEIGHT*normal(mu=M,sigma=S)' at '%s'", spec, at);
        s = skip_space(s + 1);
        if (strncmp(s, "normal", 6) != 0 || *skip_space(s + 6) != '(')
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "prior '%s': expected 'normal(' at '%s' (components are normals)", spec,
                            s);
        s = skip_space(s + 6) + 1;
        double v[2];
        VKT_TRY(parse_kv("prior", spec, &s, ')', 2, keys, v, err));
        if (*s != ')')
            return vkt_fail(err, VKT_ERR_FORMAT, "prior '%s': expected ')' at '%s'", spec, s);
        s = skip_space(s + 1);
        out->value[n] = v[0];
        out->spread[n] = v[1];
        if (v[1] < 0)
            return vkt_fail(err, VKT_ERR_ARG,
                            "prior '%s': sigma of component %d is %g, must be >= 0", spec, n + 1,
                            v[1]);
        n++;
        if (*s == '+') {
            s = skip_space(s + 1);
            continue;
        }
        if (*s)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "prior '%s': unexpected '%s' (components are joined by '+')", spec, s);
        break;
    }
    out->n = n;
    VKT_TRY(check_weights(spec, out->weight, n, err));
    normalise(out->weight, n);
    return VKT_OK;
}

static vkt_status parse_samples(const char *spec, const char *path, vkt_offswitch_prior *out,
                                vkt_error *err) {
    out->family = VKT_OFFSWITCH_SAMPLES;
    if (!*path) return vkt_fail(err, VKT_ERR_ARG, "prior '%s': samples needs a file name", spec);
    FILE *f = fopen(path, "r");
    if (!f)
        return vkt_fail(err, VKT_ERR_IO, "prior '%s': cannot open '%s': %s", spec, path,
                        strerror(errno));
    size_t cap = 1024, n = 0;
    double *x = malloc(cap * sizeof *x);
    char line[256];
    long lineno = 0;
    vkt_status st = VKT_OK;
    if (!x) st = vkt_fail(err, VKT_ERR_NOMEM, "prior '%s': out of memory", spec);
    while (st == VKT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            st = vkt_fail(err, VKT_ERR_FORMAT, "samples file '%s' line %ld: line too long", path,
                          lineno);
            break;
        }
        const char *p = skip_space(line);
        if (!*p || *p == '#') continue;
        double v;
        const char *q = p;
        if (!parse_number(&q, &v) || *q) {
            line[strcspn(line, "\r\n")] = 0;
            st = vkt_fail(err, VKT_ERR_FORMAT,
                          "samples file '%s' line %ld: '%s' is not a finite number", path, lineno,
                          p);
            break;
        }
        if (n == cap) {
            double *y = realloc(x, 2 * cap * sizeof *x);
            if (!y) {
                st = vkt_fail(err, VKT_ERR_NOMEM, "samples file '%s': out of memory at line %ld",
                              path, lineno);
                break;
            }
            x = y;
            cap *= 2;
        }
        x[n++] = v;
    }
    if (st == VKT_OK && ferror(f))
        st = vkt_fail(err, VKT_ERR_IO, "samples file '%s': read error", path);
    fclose(f);
    if (st == VKT_OK && n == 0)
        st = vkt_fail(err, VKT_ERR_FORMAT, "samples file '%s': no numbers in it", path);
    if (st != VKT_OK) {
        free(x);
        return st;
    }
    out->samples = x;
    out->n_samples = n;
    return VKT_OK;
}

vkt_status vkt_offswitch_prior_parse(const char *spec, vkt_offswitch_prior *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (!spec) return vkt_fail(err, VKT_ERR_ARG, "prior: no spec given");
    const char *s = skip_space(spec);
    const char *colon = strchr(s, ':');
    if (!colon)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "prior '%s': expected FAMILY:PARAMETERS with FAMILY normal, uniform, "
                        "discrete, mixture or samples",
                        spec);
    size_t flen = (size_t)(colon - s);
    const char *rest = skip_space(colon + 1);
    vkt_status st;
    if (flen == 6 && !strncmp(s, "normal", 6)) {
        static const char *const keys[] = {"mu", "sigma"};
        double v[2];
        st = parse_kv("prior", spec, &rest, 0, 2, keys, v, err);
        if (st == VKT_OK && *rest)
            st = vkt_fail(err, VKT_ERR_FORMAT, "prior '%s': unexpected '%s'", spec, rest);
        out->family = VKT_OFFSWITCH_NORMAL;
        out->mu = v[0];
        out->sigma = v[1];
    } else if (flen == 7 && !strncmp(s, "uniform", 7)) {
        static const char *const keys[] = {"lo", "hi"};
        double v[2];
        st = parse_kv("prior", spec, &rest, 0, 2, keys, v, err);
        if (st == VKT_OK && *rest)
            st = vkt_fail(err, VKT_ERR_FORMAT, "prior '%s': unexpected '%s'", spec, rest);
        out->family = VKT_OFFSWITCH_UNIFORM;
        out->lo = v[0];
        out->hi = v[1];
    } else if (flen == 8 && !strncmp(s, "discrete", 8)) {
        st = parse_discrete(spec, rest, out, err);
    } else if (flen == 7 && !strncmp(s, "mixture", 7)) {
        st = parse_mixture(spec, rest, out, err);
    } else if (flen == 7 && !strncmp(s, "samples", 7)) {
        // The file name is taken verbatim after the colon (it may contain spaces).
        st = parse_samples(spec, colon + 1, out, err);
    } else {
        st = vkt_fail(err, VKT_ERR_FORMAT,
                      "prior '%s': unknown family '%.*s' (expected normal, uniform, discrete, "
                      "mixture or samples)",
                      spec, (int)flen, s);
    }
    if (st == VKT_OK) {
        st = vkt_offswitch_prior_check(out, err);
        if (st != VKT_OK && err) vkt_fail_wrap(err, "prior '%s'", spec);
    }
    if (st != VKT_OK) {
        vkt_offswitch_prior_free(out);
        return st;
    }
    return VKT_OK;
}

void vkt_offswitch_prior_free(vkt_offswitch_prior *p) {
    if (!p) return;
    free(p->samples);
    memset(p, 0, sizeof *p);
}

vkt_status vkt_offswitch_human_parse(const char *spec, vkt_offswitch_human *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (!spec) return vkt_fail(err, VKT_ERR_ARG, "human: no spec given");
    const char *s = skip_space(spec);
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (len == 8 && !strncmp(s, "rational", 8)) {
        out->kind = VKT_OFFSWITCH_RATIONAL;
        return VKT_OK;
    }
    const char *colon = strchr(s, ':');
    size_t flen = colon ? (size_t)(colon - s) : len;
    const char *rest = colon ? colon + 1 : s + len;
    vkt_status st;
    if (flen == 9 && !strncmp(s, "boltzmann", 9)) {
        static const char *const keys[] = {"beta"};
        out->kind = VKT_OFFSWITCH_BOLTZMANN;
        if (!colon)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "human '%s': boltzmann needs beta (boltzmann:beta=B)", spec);
        st = parse_kv("human", spec, &rest, 0, 1, keys, &out->beta, err);
    } else if (flen == 5 && !strncmp(s, "noisy", 5)) {
        static const char *const keys[] = {"eps"};
        out->kind = VKT_OFFSWITCH_NOISY;
        if (!colon)
            return vkt_fail(err, VKT_ERR_FORMAT, "human '%s': noisy needs eps (noisy:eps=E)", spec);
        st = parse_kv("human", spec, &rest, 0, 1, keys, &out->eps, err);
    } else {
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "human '%s': unknown model '%.*s' (expected rational, boltzmann:beta=B or noisy:eps=E)",
            spec, (int)flen, s);
    }
    if (st == VKT_OK && *skip_space(rest))
        st = vkt_fail(err, VKT_ERR_FORMAT, "human '%s': unexpected '%s'", spec, rest);
    if (st == VKT_OK) {
        st = vkt_offswitch_human_check(out, err);
        if (st != VKT_OK && err) vkt_fail_wrap(err, "human '%s'", spec);
    }
    return st;
}

vkt_status vkt_offswitch_prior_check(const vkt_offswitch_prior *p, vkt_error *err) {
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL:
        if (!isfinite(p->mu))
            return vkt_fail(err, VKT_ERR_ARG, "prior normal: mu=%g is not finite", p->mu);
        if (!(p->sigma >= 0) || !isfinite(p->sigma))
            return vkt_fail(err, VKT_ERR_ARG, "prior normal: sigma=%g must be finite and >= 0",
                            p->sigma);
        return VKT_OK;
    case VKT_OFFSWITCH_UNIFORM:
        if (!isfinite(p->lo) || !isfinite(p->hi) || !(p->lo < p->hi))
            return vkt_fail(err, VKT_ERR_ARG,
                            "prior uniform: needs finite lo < hi (got lo=%g, hi=%g)", p->lo, p->hi);
        return VKT_OK;
    case VKT_OFFSWITCH_DISCRETE:
    case VKT_OFFSWITCH_MIXTURE: {
        const char *fam = p->family == VKT_OFFSWITCH_DISCRETE ? "discrete" : "mixture";
        if (p->n < 1 || p->n > VKT_OFFSWITCH_MAX_PARTS)
            return vkt_fail(err, VKT_ERR_ARG, "prior %s: %d parts, expected 1..%d", fam, p->n,
                            VKT_OFFSWITCH_MAX_PARTS);
        double sum = 0;
        for (int i = 0; i < p->n; i++) {
            if (!isfinite(p->value[i]) || !(p->weight[i] >= 0) || !(p->spread[i] >= 0) ||
                !isfinite(p->spread[i]))
                return vkt_fail(err, VKT_ERR_ARG,
                                "prior %s: part %d has value %g, weight %g, spread %g", fam, i + 1,
                                p->value[i], p->weight[i], p->spread[i]);
            sum += p->weight[i];
        }
        if (fabs(sum - 1) > WEIGHT_SUM_TOL)
            return vkt_fail(err, VKT_ERR_ARG, "prior %s: weights sum to %.12g, not 1", fam, sum);
        return VKT_OK;
    }
    case VKT_OFFSWITCH_SAMPLES:
        if (!p->samples || p->n_samples == 0)
            return vkt_fail(err, VKT_ERR_ARG, "prior samples: no samples");
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_ARG, "prior: unknown family %d", (int)p->family);
}

vkt_status vkt_offswitch_human_check(const vkt_offswitch_human *h, vkt_error *err) {
    switch (h->kind) {
    case VKT_OFFSWITCH_RATIONAL: return VKT_OK;
    case VKT_OFFSWITCH_BOLTZMANN:
        if (!(h->beta > 0) || !isfinite(h->beta))
            return vkt_fail(
                err, VKT_ERR_ARG,
                "human boltzmann: beta=%g must be finite and > 0 (beta -> 0 is rational)", h->beta);
        return VKT_OK;
    case VKT_OFFSWITCH_NOISY:
        if (!(h->eps >= 0 && h->eps <= 1))
            return vkt_fail(err, VKT_ERR_ARG, "human noisy: eps=%g must be in [0, 1]", h->eps);
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_ARG, "human: unknown kind %d", (int)h->kind);
}

int vkt_offswitch_prior_format(const vkt_offswitch_prior *p, char *buf, size_t n) {
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL:
        return snprintf(buf, n, "normal:mu=%.17g,sigma=%.17g", p->mu, p->sigma);
    case VKT_OFFSWITCH_UNIFORM: return snprintf(buf, n, "uniform:lo=%.17g,hi=%.17g", p->lo, p->hi);
    case VKT_OFFSWITCH_SAMPLES: return snprintf(buf, n, "samples:<%zu values>", p->n_samples);
    case VKT_OFFSWITCH_DISCRETE:
    case VKT_OFFSWITCH_MIXTURE: {
        int mix = p->family == VKT_OFFSWITCH_MIXTURE;
        size_t used = 0;
        int total = snprintf(buf, n, mix ? "mixture:" : "discrete:");
        for (int i = 0; i < p->n; i++) {
            used = total < 0 ? n : (size_t)total;
            char *at = used < n ? buf + used : NULL;
            size_t left = used < n ? n - used : 0;
            int k =
                mix ? snprintf(at, left, "%s%.17g*normal(mu=%.17g,sigma=%.17g)", i ? "+" : "",
                               p->weight[i], p->value[i], p->spread[i])
                    : snprintf(at, left, "%s%.17g@%.17g", i ? ";" : "", p->value[i], p->weight[i]);
            total += k;
        }
        return total;
    }
    }
    return snprintf(buf, n, "unknown");
}

int vkt_offswitch_human_format(const vkt_offswitch_human *h, char *buf, size_t n) {
    switch (h->kind) {
    case VKT_OFFSWITCH_RATIONAL: return snprintf(buf, n, "rational");
    case VKT_OFFSWITCH_BOLTZMANN: return snprintf(buf, n, "boltzmann:beta=%.17g", h->beta);
    case VKT_OFFSWITCH_NOISY: return snprintf(buf, n, "noisy:eps=%.17g", h->eps);
    }
    return snprintf(buf, n, "unknown");
}

vkt_status vkt_offswitch_set_param(vkt_offswitch_prior *p, vkt_offswitch_human *h, const char *name,
                                   double value, vkt_error *err) {
    vkt_offswitch_prior np = *p;
    vkt_offswitch_human nh = *h;
    double *slot = NULL;
    if (!strcmp(name, "mu") && p->family == VKT_OFFSWITCH_NORMAL)
        slot = &np.mu;
    else if (!strcmp(name, "sigma") && p->family == VKT_OFFSWITCH_NORMAL)
        slot = &np.sigma;
    else if (!strcmp(name, "lo") && p->family == VKT_OFFSWITCH_UNIFORM)
        slot = &np.lo;
    else if (!strcmp(name, "hi") && p->family == VKT_OFFSWITCH_UNIFORM)
        slot = &np.hi;
    else if (!strcmp(name, "beta") && h->kind == VKT_OFFSWITCH_BOLTZMANN)
        slot = &nh.beta;
    else if (!strcmp(name, "eps") && h->kind == VKT_OFFSWITCH_NOISY)
        slot = &nh.eps;
    if (!slot) {
        char ps[96], hs[64];
        vkt_offswitch_prior_format(p, ps, sizeof ps);
        vkt_offswitch_human_format(h, hs, sizeof hs);
        return vkt_fail(err, VKT_ERR_ARG,
                        "parameter '%s' is not one of the prior '%s' or the human '%s' (mu, sigma: "
                        "normal; lo, hi: "
                        "uniform; beta: boltzmann; eps: noisy)",
                        name, ps, hs);
    }
    *slot = value;
    VKT_TRY(vkt_offswitch_prior_check(&np, err));
    VKT_TRY(vkt_offswitch_human_check(&nh, err));
    *p = np;
    *h = nh;
    return VKT_OK;
}
