// select.h: best-of-N selection: extract an answer from each of N samples of one prompt
// and choose one (trainer/model/select.c; pure C, no Vulkan).
//
// Answers are extracted by a POSIX extended regular expression (regcomp with REG_EXTENDED):
// the answer of a match is its capture group 1 when the pattern has a group, else the
// whole match. Matches are found left to right without overlap (each search resumes at
// the end of the previous match, as Python's re.findall) and the LAST one whose answer
// is non-empty is the sample's answer: math answer extraction takes the final number or
// \boxed{} of a solution, since earlier ones are working. No such match: no answer.
//
// Rules over the N samples of one prompt, each with its answer (or none) and its mean
// self-certainty (KL(U || p) averaged over response tokens, arXiv 2502.18581):
//   self-certainty  the sample with the highest mean self-certainty among those with an
//                   answer (ties: the lowest index).
//   majority        self-consistency (Wang et al. 2022): the answer with the most samples.
//   borda           samples are ranked r = 1..N by self-certainty (highest first, among ALL
//                   N samples, ties by index); sample r gives (N - r + 1)^p votes (p = 0.5
//                   in the paper) to its answer; the answer with the most votes wins.
// Ties of majority and borda are broken by the higher total self-certainty of the answer's
// voters, then by the answer that occurs first (lowest first sample index); vote totals
// within a relative 1e-12 are equal (sqrt sums such as 2*sqrt(2) and sqrt(8) differ in the
// last bit). The representative sample of a voted answer is its voter with the highest
// self-certainty (ties: the lowest index). A sample without an answer never votes and is
// never chosen, unless no sample has an answer: then the answer is none and the
// representative is the sample with the highest self-certainty. NaN self-certainty ranks
// below every number. Everything is deterministic.
#ifndef VKT_SELECT_H
#define VKT_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef enum {
    VKT_SELECT_SELF_CERTAINTY = 0,
    VKT_SELECT_MAJORITY,
    VKT_SELECT_BORDA
} vkt_select_rule;
#define VKT_SELECT_RULES 3
#define VKT_BORDA_POWER 0.5

const char *vkt_select_rule_name(vkt_select_rule r); // "self-certainty", "majority", "borda"
vkt_status vkt_select_rule_parse(const char *s, vkt_select_rule *out, vkt_error *err);

// A compiled answer pattern.
typedef struct vkt_answer_re vkt_answer_re;
// Fails with VKT_ERR_ARG and regerror's message when the pattern does not compile.
vkt_status vkt_answer_re_compile(const char *pattern, vkt_answer_re **out, vkt_error *err);
void vkt_answer_re_free(vkt_answer_re *re);
// The answer in text[0..len): true and its byte range [*start, *start + *alen) or false.
// Text past a NUL byte is searched only where regexec supports REG_STARTEND (glibc, BSD).
bool vkt_answer_extract(const vkt_answer_re *re, const char *text, size_t len, size_t *start,
                        size_t *alen);

typedef struct vkt_select_sample {
    const char *answer;    // NULL: the sample has no answer
    size_t answer_len;     // answers are compared as byte strings
    double self_certainty; // the sample's mean self-certainty
} vkt_select_sample;

// One distinct answer, in order of first occurrence.
typedef struct vkt_select_candidate {
    int first;            // first sample with this answer
    int best;             // its voter with the highest self-certainty (the representative)
    int count;            // samples with this answer (the majority vote)
    double borda;         // sum of its voters' Borda weights
    double certainty_sum; // sum of its voters' self-certainty (the tie-break)
} vkt_select_candidate;

typedef struct vkt_selection {
    vkt_select_rule rule;
    int n;      // samples
    int chosen; // representative sample (always >= 0 when n >= 1)
    int answer; // chosen candidate, or -1 when no sample has an answer
    int n_cand;
    vkt_select_candidate *cand; // (n_cand)
    int *sample_cand;           // (n) each sample's candidate, -1 = no answer
    int *rank;                  // (n) 1-based self-certainty rank among all n samples
    double *weight;             // (n) Borda weight (n - rank + 1)^p, whether or not it votes
} vkt_selection;

// Chooses among s[0..n) (n >= 1) by rule; borda_power is p (VKT_BORDA_POWER in the paper;
// must be finite and >= 0). Candidates' counts, Borda votes and certainty sums are filled
// whatever the rule. Free with vkt_selection_free.
vkt_status vkt_select(const vkt_select_sample *s, int n, vkt_select_rule rule, double borda_power,
                      vkt_selection *out, vkt_error *err);
void vkt_selection_free(vkt_selection *sel);

// The accuracy-vs-N harness. samples is (P, nmax): row i holds the nmax samples of prompt
// i in generation order; gold[i] is its expected answer (NULL: none can be right). For each
// rule and each N in Ns[0..nN) (1 <= N <= nmax), acc[rule * nN + j] is the fraction of
// (prompt, group) pairs whose selected answer equals the gold answer byte for byte, over
// the nmax / N disjoint groups of N consecutive samples of every prompt (averaging the
// groups makes small N less noisy than taking only the first N). acc has
// VKT_SELECT_RULES * nN entries.
vkt_status vkt_select_accuracy(const vkt_select_sample *samples, int P, int nmax,
                               const char *const *gold, const int *Ns, int nN, double borda_power,
                               double *acc, vkt_error *err);

#endif
