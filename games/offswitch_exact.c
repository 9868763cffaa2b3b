// offswitch_exact.c: exact values of the off-switch game.
// Rational and noisy humans only need P(U >= 0), E[U 1{U >= 0}] and E[U 1{U < 0}],
// which every prior family has in closed form; a Boltzmann human needs E[pi_H(U) U],
// which has none for continuous priors, so it is integrated by adaptive Gauss-Kronrod.
#include <math.h>
#include <stdlib.h>

#include "offswitch.h"

#define SQRT1_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

double vkt_offswitch_phi(double x) { return INV_SQRT_2PI * exp(-0.5 * x * x); }
double vkt_offswitch_Phi(double x) { return 0.5 * erfc(-x * SQRT1_2); }

// Logistic function without overflow for any x.
static double logistic(double x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

double vkt_offswitch_pi(const vkt_offswitch_human *h, double u) {
    switch (h->kind) {
    case VKT_OFFSWITCH_RATIONAL: return u >= 0 ? 1 : 0;
    case VKT_OFFSWITCH_BOLTZMANN: return logistic(u / h->beta);
    case VKT_OFFSWITCH_NOISY: return u >= 0 ? 1 - h->eps : h->eps;
    }
    return 0;
}

// 1 - pi_H(u), computed without cancellation where pi_H(u) is near 1.
static double pi_not(const vkt_offswitch_human *h, double u) {
    if (h->kind == VKT_OFFSWITCH_BOLTZMANN) return logistic(-u / h->beta);
    return 1 - vkt_offswitch_pi(h, u);
}

// Neumaier's compensated sum: exact values of large sample files do not drift.
typedef struct ksum {
    double s, c;
} ksum;

static void ksum_add(ksum *k, double x) {
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x))
        k->c += (k->s - t) + x;
    else
        k->c += (x - t) + k->s;
    k->s = t;
}

static double ksum_get(const ksum *k) { return k->s + k->c; }

// --- adaptive Gauss-Kronrod 7/15 -------------------------------------------------------

// QUADPACK qk15 nodes (Kronrod, largest first; odd indices are the Gauss nodes) and weights.
static const double XGK[8] = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144838258730, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0};
static const double WGK[8] = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double WG[4] = {
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

typedef double (*integrand)(double x, void *ud);

typedef struct piece {
    double a, b, res, err, abs;
} piece;

static void gk15(integrand g, void *ud, double a, double b, piece *out) {
    double c = 0.5 * (a + b), h = 0.5 * (b - a);
    double fc = g(c, ud), f1[7], f2[7];
    double rk = WGK[7] * fc, rg = WG[3] * fc, ra = WGK[7] * fabs(fc);
    for (int j = 0; j < 7; j++) {
        f1[j] = g(c - h * XGK[j], ud), f2[j] = g(c + h * XGK[j], ud);
        rk += WGK[j] * (f1[j] + f2[j]);
        ra += WGK[j] * (fabs(f1[j]) + fabs(f2[j]));
        if (j & 1) rg += WG[j / 2] * (f1[j] + f2[j]);
    }
    // QUADPACK's error estimate: |K15 - G7| scaled by the integrand's variation on the
    // piece, (200 |K - G| / asc)^1.5, since K15 is far more accurate than G7.
    double mean = 0.5 * rk, asc = WGK[7] * fabs(fc - mean);
    for (int j = 0; j < 7; j++) asc += WGK[j] * (fabs(f1[j] - mean) + fabs(f2[j] - mean));
    asc *= fabs(h);
    double e = fabs((rk - rg) * h);
    if (asc != 0 && e != 0) e = asc * fmin(1, pow(200 * e / asc, 1.5));
    out->a = a;
    out->b = b;
    out->res = rk * h;
    out->err = e;
    out->abs = ra * fabs(h);
}

#define MAX_PIECES 4000
#define ABS_TOL 1e-13
#define REL_TOL 1e-14
#define FAIL_TOL 1e-9

// Integrates g over [x[0], x[nx-1]] with x sorted breakpoints: globally adaptive
// bisection of the piece with the largest error estimate until the summed estimate is
// below the tolerance.
static vkt_status integrate(integrand g, void *ud, const double *x, int nx, double *out,
                            vkt_error *err) {
    piece *ps = malloc(MAX_PIECES * sizeof *ps);
    if (!ps) return vkt_fail(err, VKT_ERR_NOMEM, "offswitch quadrature: out of memory");
    int n = 0;
    for (int i = 0; i + 1 < nx; i++)
        if (x[i + 1] > x[i]) gk15(g, ud, x[i], x[i + 1], &ps[n++]);
    double total_err, total_abs;
    for (;;) {
        total_err = 0, total_abs = 0;
        int worst = -1;
        for (int i = 0; i < n; i++) {
            total_err += ps[i].err;
            total_abs += ps[i].abs;
            // A piece too narrow to halve keeps its estimate: it cannot improve.
            double m = 0.5 * (ps[i].a + ps[i].b);
            if (m > ps[i].a && m < ps[i].b && (worst < 0 || ps[i].err > ps[worst].err)) worst = i;
        }
        if (total_err <= fmax(ABS_TOL, REL_TOL * total_abs) || worst < 0 || n + 1 > MAX_PIECES)
            break;
        piece w = ps[worst];
        double m = 0.5 * (w.a + w.b);
        gk15(g, ud, w.a, m, &ps[worst]);
        gk15(g, ud, m, w.b, &ps[n++]);
    }
    ksum sum = {0, 0};
    for (int i = 0; i < n; i++) ksum_add(&sum, ps[i].res);
    free(ps);
    if (!(total_err <= FAIL_TOL * fmax(1, total_abs)) || !isfinite(ksum_get(&sum)))
        return vkt_fail(err, VKT_ERR_ARG,
                        "offswitch quadrature: did not converge (error estimate %g)", total_err);
    *out = ksum_get(&sum);
    return VKT_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Breakpoints on [lo, hi]: the ends, the fixed ones, and a mesh graded geometrically
// toward the kink (where u = 0): kink +- scale * 2^-k, k = -2..GRADED-3. Every integrand
// here changes fastest at u = 0, over a width set by the human (beta, or a probit's s)
// that may be far below the prior's scale; on a piece as wide as its distance to the
// kink, Gauss-Kronrod sees any such transition at a resolution that matches it, so its
// error estimate can be trusted (a plain bisection can step over a narrow transition).
// The mesh stops at 2^-27 (7e-9): a narrower transition moves an expectation by less
// than 1e-16 * scale.
#define GRADED 30
#define MAX_BREAKS (2 * GRADED + 16)

static int breakpoints(double lo, double hi, const double *fixed, int nfixed, double kink,
                       double scale, double *x) {
    int n = 0;
    x[n++] = lo;
    x[n++] = hi;
    for (int i = 0; i < nfixed; i++)
        if (fixed[i] > lo && fixed[i] < hi) x[n++] = fixed[i];
    if (kink > lo && kink < hi) x[n++] = kink;
    for (int k = -2; k < GRADED - 2; k++) {
        double d = ldexp(scale, -k);
        if (kink - d > lo && kink - d < hi) x[n++] = kink - d;
        if (kink + d > lo && kink + d < hi) x[n++] = kink + d;
    }
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n;
}

// E[f(U)] for U ~ N(mu, sigma^2) as the integral over z of f(mu + sigma z) phi(z),
// |z| <= 14 (the rest weighs below 1e-44).
typedef struct normal_ud {
    double mu, sigma;
    double (*f)(double, void *);
    void *ud;
} normal_ud;

static double normal_integrand(double z, void *p) {
    const normal_ud *n = p;
    return n->f(n->mu + n->sigma * z, n->ud) * vkt_offswitch_phi(z);
}

static vkt_status expect_normal(double mu, double sigma, double (*f)(double, void *), void *ud,
                                double *out, vkt_error *err) {
    if (sigma == 0) {
        *out = f(mu, ud);
        return VKT_OK;
    }
    static const double fixed[] = {-6, -3, 0, 3, 6};
    double x[MAX_BREAKS];
    int nx = breakpoints(-14, 14, fixed, 5, -mu / sigma, 1.0, x);
    normal_ud n = {mu, sigma, f, ud};
    return integrate(normal_integrand, &n, x, nx, out, err);
}

vkt_status vkt_offswitch_expect(const vkt_offswitch_prior *p, double (*f)(double u, void *ud),
                                void *ud, double *out, vkt_error *err) {
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL: return expect_normal(p->mu, p->sigma, f, ud, out, err);
    case VKT_OFFSWITCH_UNIFORM: {
        double x[MAX_BREAKS];
        int nx = breakpoints(p->lo, p->hi, NULL, 0, 0.0, p->hi - p->lo, x);
        double r;
        VKT_TRY(integrate(f, ud, x, nx, &r, err));
        *out = r / (p->hi - p->lo);
        return VKT_OK;
    }
    case VKT_OFFSWITCH_MIXTURE: {
        ksum s = {0, 0};
        for (int i = 0; i < p->n; i++) {
            double r;
            VKT_TRY(expect_normal(p->value[i], p->spread[i], f, ud, &r, err));
            ksum_add(&s, p->weight[i] * r);
        }
        *out = ksum_get(&s);
        return VKT_OK;
    }
    case VKT_OFFSWITCH_DISCRETE: {
        ksum s = {0, 0};
        for (int i = 0; i < p->n; i++) ksum_add(&s, p->weight[i] * f(p->value[i], ud));
        *out = ksum_get(&s);
        return VKT_OK;
    }
    case VKT_OFFSWITCH_SAMPLES: {
        ksum s = {0, 0};
        for (size_t i = 0; i < p->n_samples; i++) ksum_add(&s, f(p->samples[i], ud));
        *out = ksum_get(&s) / (double)p->n_samples;
        return VKT_OK;
    }
    }
    return vkt_fail(err, VKT_ERR_ARG, "offswitch: unknown prior family %d", (int)p->family);
}

// --- closed forms ------------------------------------------------------------------------

// The sign split of U: p_pos = P(U >= 0), p_neg = P(U < 0), m_pos = E[U 1{U >= 0}] = E[U+],
// m_neg = E[U 1{U < 0}] = -E[U-]. Kept apart (not as differences) so neither cancels.
typedef struct split {
    double p_pos, p_neg, m_pos, m_neg;
} split;

static split split_normal(double mu, double s) {
    split r;
    if (s == 0) {
        int pos = mu >= 0;
        r.p_pos = pos, r.p_neg = !pos;
        r.m_pos = pos ? mu : 0, r.m_neg = pos ? 0 : mu;
        return r;
    }
    double t = mu / s, d = s * vkt_offswitch_phi(t);
    r.p_pos = vkt_offswitch_Phi(t);
    r.p_neg = vkt_offswitch_Phi(-t);
    r.m_pos = mu * r.p_pos + d;
    r.m_neg = mu * r.p_neg - d;
    return r;
}

static split prior_split(const vkt_offswitch_prior *p) {
    split r = {0, 0, 0, 0};
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL: return split_normal(p->mu, p->sigma);
    case VKT_OFFSWITCH_UNIFORM: {
        double w = p->hi - p->lo;
        double a = fmax(p->lo, 0), b = fmin(p->hi, 0); // [a, hi] >= 0, [lo, b] < 0
        if (p->hi > a) r.p_pos = (p->hi - a) / w, r.m_pos = (p->hi - a) * (p->hi + a) / (2 * w);
        if (b > p->lo) r.p_neg = (b - p->lo) / w, r.m_neg = (b - p->lo) * (b + p->lo) / (2 * w);
        return r;
    }
    case VKT_OFFSWITCH_MIXTURE:
        for (int i = 0; i < p->n; i++) {
            split c = split_normal(p->value[i], p->spread[i]);
            double w = p->weight[i];
            r.p_pos += w * c.p_pos, r.p_neg += w * c.p_neg, r.m_pos += w * c.m_pos,
                r.m_neg += w * c.m_neg;
        }
        return r;
    case VKT_OFFSWITCH_DISCRETE:
        for (int i = 0; i < p->n; i++) {
            double u = p->value[i], w = p->weight[i];
            if (u >= 0)
                r.p_pos += w, r.m_pos += w * u;
            else
                r.p_neg += w, r.m_neg += w * u;
        }
        return r;
    case VKT_OFFSWITCH_SAMPLES: {
        ksum mp = {0, 0}, mn = {0, 0};
        size_t np = 0;
        for (size_t i = 0; i < p->n_samples; i++) {
            double u = p->samples[i];
            if (u >= 0)
                np++, ksum_add(&mp, u);
            else
                ksum_add(&mn, u);
        }
        double n = (double)p->n_samples;
        r.p_pos = (double)np / n, r.p_neg = (double)(p->n_samples - np) / n;
        r.m_pos = ksum_get(&mp) / n, r.m_neg = ksum_get(&mn) / n;
        return r;
    }
    }
    return r;
}

double vkt_offswitch_prior_mean(const vkt_offswitch_prior *p) {
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL: return p->mu;
    case VKT_OFFSWITCH_UNIFORM: return 0.5 * (p->lo + p->hi);
    case VKT_OFFSWITCH_DISCRETE:
    case VKT_OFFSWITCH_MIXTURE: {
        ksum s = {0, 0};
        for (int i = 0; i < p->n; i++) ksum_add(&s, p->weight[i] * p->value[i]);
        return ksum_get(&s);
    }
    case VKT_OFFSWITCH_SAMPLES: {
        ksum s = {0, 0};
        for (size_t i = 0; i < p->n_samples; i++) ksum_add(&s, p->samples[i]);
        return ksum_get(&s) / (double)p->n_samples;
    }
    }
    return 0;
}

static double pi_times_u(double u, void *h) { return vkt_offswitch_pi(h, u) * u; }
static double pi_not_of(double u, void *h) { return pi_not(h, u); }

vkt_status vkt_offswitch_exact(const vkt_offswitch_prior *p, const vkt_offswitch_human *h,
                               vkt_offswitch_values *out, vkt_error *err) {
    VKT_TRY(vkt_offswitch_prior_check(p, err));
    VKT_TRY(vkt_offswitch_human_check(h, err));
    vkt_offswitch_values v = {0};
    v.v_act = vkt_offswitch_prior_mean(p);
    v.v_off = 0;
    int sums = p->family == VKT_OFFSWITCH_DISCRETE || p->family == VKT_OFFSWITCH_SAMPLES;
    if (h->kind == VKT_OFFSWITCH_BOLTZMANN || (sums && h->kind != VKT_OFFSWITCH_RATIONAL)) {
        // Exact sums for discrete and samples priors, quadrature for continuous ones.
        vkt_offswitch_human hc = *h;
        VKT_TRY(vkt_offswitch_expect(p, pi_times_u, &hc, &v.v_wait, err));
        VKT_TRY(vkt_offswitch_expect(p, pi_not_of, &hc, &v.p_off, err));
    } else {
        split s = prior_split(p);
        double e = h->kind == VKT_OFFSWITCH_NOISY ? h->eps : 0;
        // pi_H = 1 - e on U >= 0 and e on U < 0 (e = 0: rational).
        v.v_wait = (1 - e) * s.m_pos + e * s.m_neg;
        // Rational: E[U+] = E[U] + E[U-]. Written this way when E[U] > 0, rounding is
        // monotone, so Delta = V(wait) - E[U] >= 0 holds in floating point too.
        if (h->kind == VKT_OFFSWITCH_RATIONAL && v.v_act > 0) v.v_wait = v.v_act - s.m_neg;
        v.p_off = e * s.p_pos + (1 - e) * s.p_neg;
    }
    v.delta = v.v_wait - fmax(v.v_act, v.v_off);
    if (v.delta >= -VKT_OFFSWITCH_TIE)
        v.best = VKT_OFFSWITCH_WAIT;
    else if (v.v_act > v.v_off + VKT_OFFSWITCH_TIE)
        v.best = VKT_OFFSWITCH_ACT;
    else
        v.best = VKT_OFFSWITCH_OFF;
    *out = v;
    return VKT_OK;
}

const char *vkt_offswitch_choice_name(vkt_offswitch_choice c) {
    switch (c) {
    case VKT_OFFSWITCH_ACT: return "act";
    case VKT_OFFSWITCH_OFF: return "off";
    case VKT_OFFSWITCH_WAIT: return "wait";
    }
    return "?";
}

double vkt_offswitch_value_of(const vkt_offswitch_values *v, vkt_offswitch_choice c) {
    switch (c) {
    case VKT_OFFSWITCH_ACT: return v->v_act;
    case VKT_OFFSWITCH_OFF: return v->v_off;
    case VKT_OFFSWITCH_WAIT: return v->v_wait;
    }
    return NAN;
}

double vkt_offswitch_regret(const vkt_offswitch_values *v, vkt_offswitch_choice c) {
    return vkt_offswitch_value_of(v, v->best) - vkt_offswitch_value_of(v, c);
}
