// test_offswitch_exact.c: the off-switch game's exact values against the paper's results
// (Hadfield-Menell et al. 2017) and against closed forms computed independently here.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offswitch.h"
#include "rng.h"

#define DRAWS 200 // random parameter draws per prior family

// --- helpers --------------------------------------------------------------------------

static double uni(vkt_rng *r, double lo, double hi) { return lo + (hi - lo) * vkt_rng_uniform(r); }

static void parse_prior(const char *spec, vkt_offswitch_prior *p) {
    vkt_error err = {0};
    if (vkt_offswitch_prior_parse(spec, p, &err) != VKT_OK)
        fail_msg("parse '%s': %s", spec, err.msg);
}

static void parse_human(const char *spec, vkt_offswitch_human *h) {
    vkt_error err = {0};
    if (vkt_offswitch_human_parse(spec, h, &err) != VKT_OK)
        fail_msg("parse '%s': %s", spec, err.msg);
}

static vkt_offswitch_values exact(const vkt_offswitch_prior *p, const vkt_offswitch_human *h) {
    vkt_error err = {0};
    vkt_offswitch_values v;
    if (vkt_offswitch_exact(p, h, &v, &err) != VKT_OK) fail_msg("exact: %s", err.msg);
    return v;
}

static double expect(const vkt_offswitch_prior *p, double (*f)(double, void *), void *ud) {
    vkt_error err = {0};
    double r;
    if (vkt_offswitch_expect(p, f, ud, &r, &err) != VKT_OK) fail_msg("expect: %s", err.msg);
    return r;
}

static double u_plus(double u, void *ud) { return u > 0 ? u : 0; }
static double u_minus(double u, void *ud) { return u < 0 ? -u : 0; }
static double identity(double u, void *ud) { return u; }

// A random prior of the given family with mass on both signs (most of the time).
static void random_prior(vkt_rng *r, vkt_offswitch_family fam, const char *samples_path,
                         vkt_offswitch_prior *p) {
    char spec[2048];
    switch (fam) {
    case VKT_OFFSWITCH_NORMAL:
        snprintf(spec, sizeof spec, "normal:mu=%.17g,sigma=%.17g", uni(r, -3, 3), uni(r, 0.01, 3));
        break;
    case VKT_OFFSWITCH_UNIFORM: {
        double a = uni(r, -3, 3), b = uni(r, -3, 3);
        if (a == b) b += 1;
        snprintf(spec, sizeof spec, "uniform:lo=%.17g,hi=%.17g", fmin(a, b), fmax(a, b));
        break;
    }
    case VKT_OFFSWITCH_DISCRETE:
    case VKT_OFFSWITCH_MIXTURE: {
        int n = 1 + (int)vkt_rng_below(r, 6);
        double w[8], sum = 0;
        for (int i = 0; i < n; i++) sum += (w[i] = uni(r, 0.05, 1));
        int len =
            snprintf(spec, sizeof spec, fam == VKT_OFFSWITCH_DISCRETE ? "discrete:" : "mixture:");
        for (int i = 0; i < n; i++) {
            if (fam == VKT_OFFSWITCH_DISCRETE)
                len += snprintf(spec + len, sizeof spec - len, "%s%.17g@%.17g", i ? ";" : "",
                                uni(r, -3, 3), w[i] / sum);
            else
                len +=
                    snprintf(spec + len, sizeof spec - len, "%s%.17g*normal(mu=%.17g,sigma=%.17g)",
                             i ? "+" : "", w[i] / sum, uni(r, -3, 3), uni(r, 0.01, 2));
        }
        break;
    }
    case VKT_OFFSWITCH_SAMPLES: {
        FILE *f = fopen(samples_path, "w");
        assert_non_null(f);
        int n = 1 + (int)vkt_rng_below(r, 50);
        double shift = uni(r, -1, 1);
        for (int i = 0; i < n; i++) fprintf(f, "%.17g\n", shift + uni(r, -2, 2));
        fclose(f);
        snprintf(spec, sizeof spec, "samples:%s", samples_path);
        break;
    }
    }
    parse_prior(spec, p);
}

static char samples_path[64];

static int setup(void **state) {
    snprintf(samples_path, sizeof samples_path, "/tmp/vkt_offswitch_test_%d.txt", (int)getpid());
    return 0;
}

static int teardown(void **state) {
    unlink(samples_path);
    return 0;
}

// --- parsing --------------------------------------------------------------------------

static void test_parse_families(void **state) {
    vkt_offswitch_prior p;
    parse_prior(" normal: sigma=1.2 , mu=0.3 ", &p);
    assert_int_equal(p.family, VKT_OFFSWITCH_NORMAL);
    assert_true(p.mu == 0.3 && p.sigma == 1.2);
    parse_prior("uniform:lo=-1,hi=2", &p);
    assert_true(p.family == VKT_OFFSWITCH_UNIFORM && p.lo == -1 && p.hi == 2);
    parse_prior("discrete:-1@0.25;2@0.75", &p);
    assert_true(p.family == VKT_OFFSWITCH_DISCRETE && p.n == 2 && p.value[1] == 2 &&
                p.weight[0] == 0.25);
    parse_prior("discrete:0.4", &p);
    assert_true(p.n == 1 && p.value[0] == 0.4 && p.weight[0] == 1);
    parse_prior("mixture:0.3*normal(mu=-1,sigma=0.5)+0.7*normal(sigma=0.2,mu=1)", &p);
    assert_true(p.family == VKT_OFFSWITCH_MIXTURE && p.n == 2);
    assert_true(p.weight[0] == 0.3 && p.value[0] == -1 && p.spread[0] == 0.5);
    assert_true(p.weight[1] == 0.7 && p.value[1] == 1 && p.spread[1] == 0.2);

    FILE *f = fopen(samples_path, "w");
    fprintf(f, "# a comment\n1.5\n\n-0.5\n  2e-1\n");
    fclose(f);
    char spec[128];
    snprintf(spec, sizeof spec, "samples:%s", samples_path);
    parse_prior(spec, &p);
    assert_int_equal(p.n_samples, 3);
    assert_true(p.samples[0] == 1.5 && p.samples[1] == -0.5 && p.samples[2] == 0.2);
    vkt_offswitch_prior_free(&p);
    assert_null(p.samples);

    vkt_offswitch_human h;
    parse_human("rational", &h);
    assert_int_equal(h.kind, VKT_OFFSWITCH_RATIONAL);
    parse_human("boltzmann:beta=0.5", &h);
    assert_true(h.kind == VKT_OFFSWITCH_BOLTZMANN && h.beta == 0.5);
    parse_human("noisy:eps=0.1", &h);
    assert_true(h.kind == VKT_OFFSWITCH_NOISY && h.eps == 0.1);
}

// format() writes specs that parse back to the same struct (all but samples).
static void test_format_roundtrip(void **state) {
    const char *specs[] = {"normal:mu=0.3,sigma=1.2", "uniform:lo=-1,hi=0.25",
                           "discrete:-1@0.1;0.3@0.9",
                           "mixture:0.3*normal(mu=-1,sigma=0.5)+0.7*normal(mu=1,sigma=0.2)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        vkt_offswitch_prior a, b;
        char buf[1024];
        parse_prior(specs[i], &a);
        assert_true(vkt_offswitch_prior_format(&a, buf, sizeof buf) < (int)sizeof buf);
        parse_prior(buf, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
    const char *hs[] = {"rational", "boltzmann:beta=0.7", "noisy:eps=0.05"};
    for (size_t i = 0; i < 3; i++) {
        vkt_offswitch_human a, b;
        char buf[128];
        parse_human(hs[i], &a);
        vkt_offswitch_human_format(&a, buf, sizeof buf);
        parse_human(buf, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
}

// Every malformed spec fails, and the message names the spec and the fault.
static void test_parse_errors(void **state) {
    struct {
        const char *spec, *fault;
    } bad[] = {
        {"normal:mu=0.3", "missing parameter 'sigma'"},
        {"normal:mu=0.3,sigma=-1", "sigma"},
        {"normal:mu=abc,sigma=1", "mu='abc' is not a finite number"},
        {"normal:mu=1,sigma=1,mu=2", "given twice"},
        {"normal:mu=1,sigma=1,beta=2", "unknown parameter 'beta'"},
        {"normal:mu=inf,sigma=1", "not a finite number"},
        {"normal", "expected FAMILY:PARAMETERS"},
        {"gauss:mu=0,sigma=1", "unknown family 'gauss'"},
        {"uniform:lo=1,hi=0", "lo < hi"},
        {"uniform:lo=1,hi=1", "lo < hi"},
        {"discrete:1@0.5;2@0.4", "sum to"},
        {"discrete:1@0.5;2", "every atom needs"},
        {"discrete:1@-0.5;2@1.5", "negative"},
        {"discrete:", "expected a value"},
        {"discrete:1@0.5;x@0.5", "expected a value at 'x@0.5'"},
        {"mixture:0.5*normal(mu=0,sigma=1)+0.5*normal(mu=1)", "missing parameter 'sigma'"},
        {"mixture:0.5*laplace(mu=0,sigma=1)+0.5*normal(mu=1,sigma=1)", "expected 'normal('"},
        {"mixture:0.5*normal(mu=0,sigma=1)", "sum to"},
        {"mixture:normal(mu=0,sigma=1)", "WEIGHT*normal"},
        {"mixture:1*normal(mu=0,sigma=1", "expected ')'"},
        {"mixture:0.5*normal(mu=0,sigma=-1)+0.5*normal(mu=0,sigma=1)", "sigma of component 1"},
        {"samples:/nonexistent/vkt/file", "cannot open"},
        {"samples:", "needs a file name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vkt_offswitch_prior p;
        vkt_error err = {0};
        vkt_status st = vkt_offswitch_prior_parse(bad[i].spec, &p, &err);
        if (st == VKT_OK) fail_msg("'%s' parsed", bad[i].spec);
        if (!strstr(err.msg, bad[i].fault) || !strstr(err.msg, bad[i].spec))
            fail_msg("'%s': message '%s' lacks '%s' or the spec", bad[i].spec, err.msg,
                     bad[i].fault);
        assert_null(p.samples);
    }
    // A samples file with a bad line names the file and the line.
    FILE *f = fopen(samples_path, "w");
    fprintf(f, "1\nnot-a-number\n");
    fclose(f);
    char spec[128];
    snprintf(spec, sizeof spec, "samples:%s", samples_path);
    vkt_offswitch_prior p;
    vkt_error err = {0};
    assert_int_equal(vkt_offswitch_prior_parse(spec, &p, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_non_null(strstr(err.msg, samples_path));
    f = fopen(samples_path, "w");
    fprintf(f, "# only a comment\n\n");
    fclose(f);
    assert_int_equal(vkt_offswitch_prior_parse(spec, &p, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no numbers"));

    struct {
        const char *spec, *fault;
    } badh[] = {
        {"boltzmann", "needs beta"},
        {"boltzmann:beta=0", "beta=0 must be"},
        {"boltzmann:beta=-1", "must be finite and > 0"},
        {"boltzmann:temp=1", "unknown parameter 'temp'"},
        {"noisy:eps=1.5", "eps=1.5 must be in [0, 1]"},
        {"noisy", "needs eps"},
        {"greedy", "unknown model 'greedy'"},
        {"rational:x=1", "unknown model"},
    };
    for (size_t i = 0; i < sizeof badh / sizeof *badh; i++) {
        vkt_offswitch_human h;
        if (vkt_offswitch_human_parse(badh[i].spec, &h, &err) == VKT_OK)
            fail_msg("'%s' parsed", badh[i].spec);
        if (!strstr(err.msg, badh[i].fault) || !strstr(err.msg, badh[i].spec))
            fail_msg("'%s': message '%s' lacks '%s' or the spec", badh[i].spec, err.msg,
                     badh[i].fault);
    }
}

static void test_set_param(void **state) {
    vkt_offswitch_prior p;
    vkt_offswitch_human h;
    vkt_error err = {0};
    parse_prior("normal:mu=0,sigma=1", &p);
    parse_human("boltzmann:beta=1", &h);
    assert_int_equal(vkt_offswitch_set_param(&p, &h, "sigma", 0.5, &err), VKT_OK);
    assert_int_equal(vkt_offswitch_set_param(&p, &h, "beta", 2, &err), VKT_OK);
    assert_true(p.sigma == 0.5 && h.beta == 2);
    assert_int_equal(vkt_offswitch_set_param(&p, &h, "sigma", -1, &err), VKT_ERR_ARG);
    assert_true(p.sigma == 0.5); // unchanged on failure
    assert_int_equal(vkt_offswitch_set_param(&p, &h, "eps", 0.1, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'eps'"));
    assert_int_equal(vkt_offswitch_set_param(&p, &h, "lo", 0.1, &err), VKT_ERR_ARG);
}

// --- the paper's results ----------------------------------------------------------------

// Theorem 1: for a rational H, Delta = V(wait) - max(V(act), V(off)) >= 0 under every prior,
// and Delta = min(E[U+], E[U-]) (here E[U+-] by quadrature/sums, not the closed form).
static void test_theorem1_rational(void **state) {
    vkt_rng r;
    vkt_rng_seed(&r, 11);
    vkt_offswitch_human h;
    parse_human("rational", &h);
    for (int fam = 0; fam <= VKT_OFFSWITCH_SAMPLES; fam++) {
        int positive = 0;
        for (int d = 0; d < DRAWS; d++) {
            vkt_offswitch_prior p;
            random_prior(&r, (vkt_offswitch_family)fam, samples_path, &p);
            vkt_offswitch_values v = exact(&p, &h);
            double delta = v.v_wait - fmax(v.v_act, v.v_off);
            assert_true(fabs(delta - v.delta) < 1e-15);
            if (!(delta >= 0))
                fail_msg("family %d draw %d: Delta = %g < 0", fam, d,
                         delta); // exact, see offswitch_exact.c
            assert_int_equal(v.best, VKT_OFFSWITCH_WAIT);
            double ep = expect(&p, u_plus, NULL), em = expect(&p, u_minus, NULL);
            if (fabs(v.delta - fmin(ep, em)) > 1e-10)
                fail_msg("family %d draw %d: Delta %.17g != min(E[U+], E[U-]) = min(%.17g, %.17g)",
                         fam, d, v.delta, ep, em);
            assert_true(fabs(v.v_act - expect(&p, identity, NULL)) < 1e-10);
            if (fmin(ep, em) > 1e-6)
                positive += v.delta > 0;
            else
                positive++;
            vkt_offswitch_prior_free(&p);
        }
        // Mass on both signs gives Delta > 0 strictly.
        assert_int_equal(positive, DRAWS);
    }
}

// A certain R (point mass at u != 0): waiting is optimal for a rational H (Delta = 0)
// and strictly suboptimal for a Boltzmann H or a noisy H with eps > 0.
static void test_point_mass(void **state) {
    const double us[] = {-2, -0.3, 0.05, 0.2, 1.5};
    const char *noisy[] = {"boltzmann:beta=0.1", "boltzmann:beta=0.5", "boltzmann:beta=2",
                           "noisy:eps=0.05",     "noisy:eps=0.3",      "noisy:eps=1"};
    for (size_t i = 0; i < sizeof us / sizeof *us; i++) {
        char spec[64];
        for (int form = 0; form < 2; form++) {
            if (form == 0)
                snprintf(spec, sizeof spec, "discrete:%g", us[i]);
            else
                snprintf(spec, sizeof spec, "normal:mu=%g,sigma=0", us[i]);
            vkt_offswitch_prior p;
            vkt_offswitch_human h;
            parse_prior(spec, &p);
            parse_human("rational", &h);
            vkt_offswitch_values v = exact(&p, &h);
            assert_true(v.delta == 0);
            assert_int_equal(v.best, VKT_OFFSWITCH_WAIT);
            parse_human("noisy:eps=0", &h);
            assert_int_equal(exact(&p, &h).best, VKT_OFFSWITCH_WAIT);
            for (size_t j = 0; j < sizeof noisy / sizeof *noisy; j++) {
                parse_human(noisy[j], &h);
                v = exact(&p, &h);
                // pi_H(u) < 1 for u > 0 and > 0 for u < 0: Delta = -|u| P(H errs) < 0.
                double err_p =
                    us[i] > 0 ? 1 - vkt_offswitch_pi(&h, us[i]) : vkt_offswitch_pi(&h, us[i]);
                assert_true(fabs(v.delta - (-fabs(us[i]) * err_p)) < 1e-15);
                if (!(v.delta < -VKT_OFFSWITCH_TIE))
                    fail_msg("%s %s: Delta = %g", spec, noisy[j], v.delta);
                assert_int_equal(v.best, us[i] > 0 ? VKT_OFFSWITCH_ACT : VKT_OFFSWITCH_OFF);
            }
        }
    }
}

// Normal prior, Boltzmann H (differentiable pi_H), by Stein's lemma:
// Delta = sigma^2 E[pi_H'(U)] - |mu| P(C), C = H overrides R's default action
// (mu > 0: H switches off; mu < 0: H allows). Right side by quadrature of pi_H' and pi_H.
typedef struct boltz {
    double beta;
} boltz;

static double sigm(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }
static double pi_b(double u, void *ud) { return sigm(u / ((boltz *)ud)->beta); }
static double pi_b_not(double u, void *ud) { return sigm(-u / ((boltz *)ud)->beta); }
static double pi_b_deriv(double u, void *ud) {
    double b = ((boltz *)ud)->beta, s = sigm(u / b);
    return s * (1 - s) / b;
}

static void test_stein_identity(void **state) {
    vkt_rng r;
    vkt_rng_seed(&r, 12);
    for (int d = 0; d < DRAWS; d++) {
        double mu = uni(&r, -2, 2), sigma = uni(&r, 0.02, 2.5), beta = uni(&r, 0.01, 3);
        if (fabs(mu) < 1e-3) continue; // the default is undefined at mu = 0
        char ps[128], hs[64];
        snprintf(ps, sizeof ps, "normal:mu=%.17g,sigma=%.17g", mu, sigma);
        snprintf(hs, sizeof hs, "boltzmann:beta=%.17g", beta);
        vkt_offswitch_prior p;
        vkt_offswitch_human h;
        parse_prior(ps, &p);
        parse_human(hs, &h);
        vkt_offswitch_values v = exact(&p, &h);
        boltz b = {beta};
        double dpi = expect(&p, pi_b_deriv, &b);
        double pc = mu > 0 ? expect(&p, pi_b_not, &b) : expect(&p, pi_b, &b);
        double rhs = sigma * sigma * dpi - fabs(mu) * pc;
        if (fabs(v.delta - rhs) > 1e-9)
            fail_msg("%s %s: Delta %.17g, Stein %.17g", ps, hs, v.delta, rhs);
        assert_true(fabs(v.p_off - expect(&p, pi_b_not, &b)) < 1e-12);
    }
}

// pi_H(-u) = 1 - pi_H(u) for a Boltzmann H, so E_{-mu}[pi U] = E_mu[pi U] - mu and Delta is
// even in mu (the paper's heatmaps for E[U] = -0.25 and 0.25 coincide).
static void test_delta_even_in_mu(void **state) {
    vkt_rng r;
    vkt_rng_seed(&r, 15);
    for (int d = 0; d < DRAWS / 4; d++) {
        double mu = uni(&r, 0, 2), sigma = uni(&r, 0.02, 2), beta = uni(&r, 0.02, 2);
        vkt_offswitch_prior a = {.family = VKT_OFFSWITCH_NORMAL, .mu = mu, .sigma = sigma}, b = a;
        b.mu = -mu;
        vkt_offswitch_human h = {.kind = VKT_OFFSWITCH_BOLTZMANN, .beta = beta};
        vkt_offswitch_values va = exact(&a, &h), vb = exact(&b, &h);
        if (fabs(va.delta - vb.delta) > 1e-10)
            fail_msg("mu=+-%g sigma=%g beta=%g: %.15g vs %.15g", mu, sigma, beta, va.delta,
                     vb.delta);
        assert_true(fabs(va.p_off + vb.p_off - 1) < 1e-10);
    }
}

// The probit human pi(u) = Phi(u/s) has E[Phi(U/s) U] = mu Phi(mu/tau) + (sigma^2/tau) phi(mu/tau),
// tau = sqrt(s^2 + sigma^2): a closed form for the quadrature to match.
static double probit_u(double u, void *ud) {
    return 0.5 * erfc(-u / *(double *)ud / sqrt(2.0)) * u;
}

static void test_probit_closed_form(void **state) {
    vkt_rng r;
    vkt_rng_seed(&r, 13);
    for (int d = 0; d < DRAWS; d++) {
        double mu = uni(&r, -3, 3), sigma = uni(&r, 0.01, 3),
               s = d < 50 ? pow(10, uni(&r, -7, -2)) : uni(&r, 0.01, 3);
        vkt_offswitch_prior p;
        char ps[128];
        snprintf(ps, sizeof ps, "normal:mu=%.17g,sigma=%.17g", mu, sigma);
        parse_prior(ps, &p);
        double tau = sqrt(s * s + sigma * sigma);
        double want = mu * 0.5 * erfc(-mu / tau / sqrt(2.0)) +
                      sigma * sigma / tau * exp(-0.5 * mu * mu / tau / tau) / sqrt(2 * M_PI);
        double got = expect(&p, probit_u, &s);
        if (fabs(got - want) > 1e-10)
            fail_msg("%s s=%g: quadrature %.17g, closed form %.17g", ps, s, got, want);
    }
}

// Rational and noisy H: the closed forms (Phi/phi, polynomials) agree with quadrature of
// pi_H(u) u and 1 - pi_H(u) to 1e-10 (the requirement is 1e-8).
typedef struct hud {
    vkt_offswitch_human h;
} hud;
static double wait_f(double u, void *ud) { return vkt_offswitch_pi(&((hud *)ud)->h, u) * u; }
static double off_f(double u, void *ud) { return 1 - vkt_offswitch_pi(&((hud *)ud)->h, u); }

static void test_closed_forms_vs_quadrature(void **state) {
    vkt_rng r;
    vkt_rng_seed(&r, 14);
    const vkt_offswitch_family fams[] = {VKT_OFFSWITCH_NORMAL, VKT_OFFSWITCH_UNIFORM,
                                         VKT_OFFSWITCH_MIXTURE};
    for (int k = 0; k < 3; k++) {
        for (int d = 0; d < DRAWS / 2; d++) {
            vkt_offswitch_prior p;
            random_prior(&r, fams[k], samples_path, &p);
            hud u = {{VKT_OFFSWITCH_RATIONAL, 0, 0}};
            if (d & 1) u.h = (vkt_offswitch_human){VKT_OFFSWITCH_NOISY, 0, uni(&r, 0, 0.5)};
            vkt_offswitch_values v = exact(&p, &u.h);
            double qw = expect(&p, wait_f, &u), qo = expect(&p, off_f, &u);
            if (fabs(v.v_wait - qw) > 1e-10 || fabs(v.p_off - qo) > 1e-10)
                fail_msg("family %d draw %d: closed (%.17g, %.17g) vs quadrature (%.17g, %.17g)",
                         fams[k], d, v.v_wait, v.p_off, qw, qo);
        }
    }
}

// A Boltzmann H under a normal prior against an independent composite Simpson rule
// (2e6 panels on mu +- 14 sigma: error ~1e-18), including a nearly rational H.
static void test_boltzmann_vs_simpson(void **state) {
    const double cases[][3] = {{0.3, 1.2, 0.5},  {-0.25, 0.4, 1.3}, {0, 0.05, 0.5},
                               {1.5, 0.3, 0.05}, {-1, 2, 3},        {0.2, 1, 1e-3},
                               {0.75, 0.8, 0.9}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double mu = cases[c][0], sigma = cases[c][1], beta = cases[c][2];
        vkt_offswitch_prior p = {.family = VKT_OFFSWITCH_NORMAL, .mu = mu, .sigma = sigma};
        vkt_offswitch_human h = {.kind = VKT_OFFSWITCH_BOLTZMANN, .beta = beta};
        vkt_offswitch_values v = exact(&p, &h);
        const int n = 2000000; // even
        double a = mu - 14 * sigma, step = 28 * sigma / n, sw = 0, so = 0;
        for (int i = 0; i <= n; i++) {
            double u = a + i * step, z = (u - mu) / sigma;
            double dens = exp(-0.5 * z * z) / (sigma * sqrt(2 * M_PI));
            double w = (i == 0 || i == n) ? 1 : (i & 1) ? 4 : 2;
            double pi = sigm(u / beta);
            sw += w * pi * u * dens;
            so += w * (1 - pi) * dens;
        }
        sw *= step / 3, so *= step / 3;
        if (fabs(v.v_wait - sw) > 1e-9 || fabs(v.p_off - so) > 1e-9)
            fail_msg("mu=%g sigma=%g beta=%g: GK (%.15g, %.15g) Simpson (%.15g, %.15g)", mu, sigma,
                     beta, v.v_wait, v.p_off, sw, so);
    }
    // beta -> 0 approaches the rational H (difference O(beta^2)).
    vkt_offswitch_prior p = {.family = VKT_OFFSWITCH_NORMAL, .mu = 0.3, .sigma = 1};
    vkt_offswitch_human hr = {.kind = VKT_OFFSWITCH_RATIONAL},
                        hb = {.kind = VKT_OFFSWITCH_BOLTZMANN, .beta = 1e-5};
    assert_true(fabs(exact(&p, &hr).v_wait - exact(&p, &hb).v_wait) < 1e-8);
}

// Discrete and samples priors: every value is an exact finite sum, checked here directly.
static void test_exact_sums(void **state) {
    vkt_offswitch_prior p;
    vkt_offswitch_human h;
    parse_prior("discrete:-1@0.2;0.5@0.5;2@0.3", &p);
    parse_human("boltzmann:beta=0.7", &h);
    vkt_offswitch_values v = exact(&p, &h);
    double want = 0, off = 0;
    const double u[] = {-1, 0.5, 2}, w[] = {0.2, 0.5, 0.3};
    for (int i = 0; i < 3; i++) {
        double pi = 1 / (1 + exp(-u[i] / 0.7));
        want += w[i] * pi * u[i];
        off += w[i] * (1 - pi);
    }
    assert_true(fabs(v.v_wait - want) < 1e-15 && fabs(v.p_off - off) < 1e-15);
    assert_true(fabs(v.v_act - 0.65) < 1e-15);
    assert_true(v.v_off == 0);
    parse_human("noisy:eps=0.1", &h);
    v = exact(&p, &h);
    assert_true(fabs(v.v_wait - (0.2 * 0.1 * -1 + 0.9 * (0.25 + 0.6))) < 1e-15);
    assert_true(fabs(v.p_off - (0.2 * 0.9 + 0.8 * 0.1)) < 1e-15);

    FILE *f = fopen(samples_path, "w");
    fprintf(f, "1\n-2\n0.5\n3\n");
    fclose(f);
    char spec[128];
    snprintf(spec, sizeof spec, "samples:%s", samples_path);
    parse_prior(spec, &p);
    parse_human("rational", &h);
    v = exact(&p, &h);
    assert_true(fabs(v.v_act - 0.625) < 1e-15 && fabs(v.v_wait - 1.125) < 1e-15 &&
                fabs(v.p_off - 0.25) < 1e-15);
    assert_true(fabs(v.delta - 0.5) < 1e-15);
    vkt_offswitch_prior_free(&p);
}

// Closed forms of the paper for a normal prior and rational H, and the choice/regret helpers.
static void test_normal_rational_and_regret(void **state) {
    vkt_offswitch_prior p;
    vkt_offswitch_human h;
    parse_prior("normal:mu=0.3,sigma=1.2", &p);
    parse_human("rational", &h);
    vkt_offswitch_values v = exact(&p, &h);
    double t = 0.3 / 1.2;
    double want = 0.3 * 0.5 * erfc(-t / sqrt(2.0)) + 1.2 * exp(-0.5 * t * t) / sqrt(2 * M_PI);
    assert_true(fabs(v.v_wait - want) < 1e-15);
    assert_true(fabs(v.p_off - 0.5 * erfc(t / sqrt(2.0))) < 1e-15);
    assert_int_equal(v.best, VKT_OFFSWITCH_WAIT);
    assert_true(vkt_offswitch_regret(&v, VKT_OFFSWITCH_WAIT) == 0);
    assert_true(fabs(vkt_offswitch_regret(&v, VKT_OFFSWITCH_ACT) - (want - 0.3)) < 1e-15);
    assert_true(fabs(vkt_offswitch_regret(&v, VKT_OFFSWITCH_OFF) - want) < 1e-15);
    assert_string_equal(vkt_offswitch_choice_name(VKT_OFFSWITCH_WAIT), "wait");
    // A very noisy H and a confident R: act.
    parse_prior("normal:mu=1,sigma=0.1", &p);
    parse_human("boltzmann:beta=1", &h);
    v = exact(&p, &h);
    assert_int_equal(v.best, VKT_OFFSWITCH_ACT);
    assert_true(v.delta < 0 && vkt_offswitch_regret(&v, VKT_OFFSWITCH_ACT) == 0);
    assert_true(vkt_offswitch_regret(&v, VKT_OFFSWITCH_WAIT) > 0.2);
    parse_prior("normal:mu=-1,sigma=0.1", &p);
    assert_int_equal(exact(&p, &h).best, VKT_OFFSWITCH_OFF);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_families),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_set_param),
        cmocka_unit_test(test_theorem1_rational),
        cmocka_unit_test(test_point_mass),
        cmocka_unit_test(test_stein_identity),
        cmocka_unit_test(test_delta_even_in_mu),
        cmocka_unit_test(test_probit_closed_form),
        cmocka_unit_test(test_closed_forms_vs_quadrature),
        cmocka_unit_test(test_boltzmann_vs_simpson),
        cmocka_unit_test(test_exact_sums),
        cmocka_unit_test(test_normal_rational_and_regret),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
