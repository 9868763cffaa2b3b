// offswitch.h: the off-switch game (Hadfield-Menell, Dragan, Abbeel, Russell, IJCAI 2017,
// arXiv 1611.08219), exact values.
//
// Robot R chooses act (payoff U), off (payoff 0) or wait: then human H lets the action
// happen with probability pi_H(U), else switches R off (payoff 0). R's belief about U is
// a prior; H is a policy pi_H. This module owns:
//   - the prior and human descriptions, as plain structs (no pointers but the samples
//     array), so a Monte Carlo shader can read the same numbers the exact code reads;
//   - the spec parsers (`normal:mu=0.3,sigma=1.2`, `boltzmann:beta=0.5`, ...; the full
//     syntax is below and in docs/offswitch.md);
//   - the exact values V(act) = E[U], V(off) = 0, V(wait) = E[pi_H(U) U],
//     Delta = V(wait) - max(V(act), V(off)), P(H switches R off | wait) = E[1 - pi_H(U)],
//     by closed forms where they exist and adaptive Gauss-Kronrod quadrature otherwise
//     (absolute error well below 1e-8).
//
// Prior specs:
//   normal:mu=M,sigma=S        N(M, S^2); S >= 0 (S = 0 is a point mass at M)
//   uniform:lo=A,hi=B          U[A, B], A < B
//   discrete:u1@p1;u2@p2;...   P(U = ui) = pi, pi >= 0 summing to 1 (within 1e-9);
//                              `discrete:u` alone is a point mass at u
//   mixture:w1*normal(mu=M1,sigma=S1)+w2*normal(mu=M2,sigma=S2)+...
//                              weights wi >= 0 summing to 1 (within 1e-9), Si >= 0
//   samples:FILE               the empirical distribution of FILE: one number a line,
//                              blank lines and lines starting with '#' ignored; exact
//                              values are the sample averages
// Human specs:
//   rational                   pi_H(u) = 1 if u >= 0 else 0
//   boltzmann:beta=B           pi_H(u) = 1 / (1 + exp(-u / B)), B > 0 the noise temperature
//   noisy:eps=E                rational, but decides wrongly with probability E in [0, 1]:
//                              pi_H(u) = 1 - E if u >= 0 else E
// Keys may come in any order; spaces around tokens are ignored.
#ifndef VKT_OFFSWITCH_H
#define VKT_OFFSWITCH_H

#include <stddef.h>

#include "status.h"

// Most atoms of a discrete prior or components of a mixture.
#define VKT_OFFSWITCH_MAX_PARTS 32

// Two choices whose values differ by less than this are a tie (far below the 1e-8
// accuracy of quadrature values, far above the rounding of closed forms).
#define VKT_OFFSWITCH_TIE 1e-12

typedef enum vkt_offswitch_family {
    VKT_OFFSWITCH_NORMAL = 0,
    VKT_OFFSWITCH_UNIFORM = 1,
    VKT_OFFSWITCH_DISCRETE = 2,
    VKT_OFFSWITCH_MIXTURE = 3,
    VKT_OFFSWITCH_SAMPLES = 4,
} vkt_offswitch_family;

// R's prior over U. Which fields mean something depends on family:
//   NORMAL   mu, sigma
//   UNIFORM  lo, hi
//   DISCRETE n atoms: P(U = value[i]) = weight[i]
//   MIXTURE  n components: weight[i] * N(value[i], spread[i]^2)
//   SAMPLES  samples[0 .. n_samples): heap data owned by the struct, released by
//            vkt_offswitch_prior_free (a copy of the struct shares it)
// Unused fields are zero. weight[] always sums to 1 (the parser normalises rounding).
typedef struct vkt_offswitch_prior {
    vkt_offswitch_family family;
    double mu, sigma;
    double lo, hi;
    int n;
    double weight[VKT_OFFSWITCH_MAX_PARTS];
    double value[VKT_OFFSWITCH_MAX_PARTS];
    double spread[VKT_OFFSWITCH_MAX_PARTS];
    double *samples;
    size_t n_samples;
} vkt_offswitch_prior;

typedef enum vkt_offswitch_human_kind {
    VKT_OFFSWITCH_RATIONAL = 0,
    VKT_OFFSWITCH_BOLTZMANN = 1,
    VKT_OFFSWITCH_NOISY = 2,
} vkt_offswitch_human_kind;

// H's policy: beta is used by BOLTZMANN, eps by NOISY; the other is zero.
typedef struct vkt_offswitch_human {
    vkt_offswitch_human_kind kind;
    double beta;
    double eps;
} vkt_offswitch_human;

typedef enum vkt_offswitch_choice {
    VKT_OFFSWITCH_ACT = 0,
    VKT_OFFSWITCH_OFF = 1,
    VKT_OFFSWITCH_WAIT = 2,
} vkt_offswitch_choice;

// Exact values of one (prior, human) pair.
// best: wait when delta >= -VKT_OFFSWITCH_TIE (the paper's "R prefers w(a) iff
// Delta >= 0", ties to wait); otherwise act when v_act > v_off + VKT_OFFSWITCH_TIE,
// otherwise off (switching off wins an act/off tie: nothing is lost by it).
typedef struct vkt_offswitch_values {
    double v_act;  // E[U]
    double v_off;  // 0
    double v_wait; // E[pi_H(U) U]
    double delta;  // v_wait - max(v_act, v_off)
    double p_off;  // P(H switches R off | R waits) = E[1 - pi_H(U)]
    vkt_offswitch_choice best;
} vkt_offswitch_values;

// Parses a prior spec (syntax above) into *out. On failure *out holds nothing to free
// and err names the spec and the fault. SAMPLES reads the file now.
vkt_status vkt_offswitch_prior_parse(const char *spec, vkt_offswitch_prior *out, vkt_error *err);
// Releases the samples of a SAMPLES prior; safe on any prior, leaves it zeroed.
void vkt_offswitch_prior_free(vkt_offswitch_prior *p);
vkt_status vkt_offswitch_human_parse(const char *spec, vkt_offswitch_human *out, vkt_error *err);

// Checks the parameters (sigma >= 0, lo < hi, weights, beta > 0, eps in [0, 1]);
// parsers and vkt_offswitch_set_param call it.
vkt_status vkt_offswitch_prior_check(const vkt_offswitch_prior *p, vkt_error *err);
vkt_status vkt_offswitch_human_check(const vkt_offswitch_human *h, vkt_error *err);

// Writes a spec that parses back to the same prior/human (SAMPLES writes
// "samples:<N values>", which does not). Returns what snprintf returns.
int vkt_offswitch_prior_format(const vkt_offswitch_prior *p, char *buf, size_t n);
int vkt_offswitch_human_format(const vkt_offswitch_human *h, char *buf, size_t n);

// Sets one named parameter for sweeps: mu, sigma (normal), lo, hi (uniform), beta
// (boltzmann), eps (noisy). Fails naming the parameter when the prior or human has no
// such parameter or the new value is invalid (then nothing changes).
vkt_status vkt_offswitch_set_param(vkt_offswitch_prior *p, vkt_offswitch_human *h, const char *name,
                                   double value, vkt_error *err);

// pi_H(u): the probability that H lets the action happen when its value is u.
double vkt_offswitch_pi(const vkt_offswitch_human *h, double u);

// Standard normal density and distribution function.
double vkt_offswitch_phi(double x);
double vkt_offswitch_Phi(double x);

// E[f(U)] under the prior: sums for DISCRETE and SAMPLES, adaptive Gauss-Kronrod (7/15)
// otherwise, with a breakpoint at u = 0 where every integrand here has its kink.
// Absolute error target 1e-12 (relative 1e-14 for large integrals); fails if the
// quadrature cannot reach 1e-9.
vkt_status vkt_offswitch_expect(const vkt_offswitch_prior *p, double (*f)(double u, void *ud),
                                void *ud, double *out, vkt_error *err);

// The exact values of (p, h): closed forms for a rational or noisy H (normal, mixture,
// uniform priors through Phi/phi and polynomials; discrete and samples priors by exact
// sums, for every H), quadrature for a Boltzmann H under continuous priors.
vkt_status vkt_offswitch_exact(const vkt_offswitch_prior *p, const vkt_offswitch_human *h,
                               vkt_offswitch_values *out, vkt_error *err);

// E[U] of the prior (exact).
double vkt_offswitch_prior_mean(const vkt_offswitch_prior *p);

const char *vkt_offswitch_choice_name(vkt_offswitch_choice c); // "act", "off", "wait"
double vkt_offswitch_value_of(const vkt_offswitch_values *v, vkt_offswitch_choice c);
// Expected regret of choosing c: V(best) - V(c) (0 for best; may be below 0 by less
// than VKT_OFFSWITCH_TIE where best won a tie).
double vkt_offswitch_regret(const vkt_offswitch_values *v, vkt_offswitch_choice c);

#endif
