// select.c: answer extraction and best-of-N selection rules (see select.h).
#include "select.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct vkt_answer_re {
    regex_t re;
    bool group; // the pattern has a capture group: the answer is group 1
};

static const char *const rule_names[VKT_SELECT_RULES] = {"self-certainty", "majority", "borda"};

const char *vkt_select_rule_name(vkt_select_rule r) {
    return (unsigned)r < VKT_SELECT_RULES ? rule_names[r] : "?";
}

vkt_status vkt_select_rule_parse(const char *s, vkt_select_rule *out, vkt_error *err) {
    for (int i = 0; i < VKT_SELECT_RULES; i++)
        if (s && !strcmp(s, rule_names[i])) {
            *out = (vkt_select_rule)i;
            return VKT_OK;
        }
    return vkt_fail(err, VKT_ERR_ARG,
                    "selection rule '%s' (expected self-certainty, majority or borda)",
                    s ? s : "(null)");
}

vkt_status vkt_answer_re_compile(const char *pattern, vkt_answer_re **out, vkt_error *err) {
    *out = NULL;
    if (!pattern) return vkt_fail(err, VKT_ERR_ARG, "answer regex: no pattern");
    vkt_answer_re *r = calloc(1, sizeof *r);
    if (!r) return vkt_fail(err, VKT_ERR_NOMEM, "answer regex");
    int rc = regcomp(&r->re, pattern, REG_EXTENDED);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &r->re, msg, sizeof msg);
        free(r);
        return vkt_fail(err, VKT_ERR_ARG, "answer regex '%s': %s", pattern, msg);
    }
    r->group = r->re.re_nsub >= 1;
    *out = r;
    return VKT_OK;
}

void vkt_answer_re_free(vkt_answer_re *re) {
    if (!re) return;
    regfree(&re->re);
    free(re);
}

// One search of text[from..len); offsets in m are absolute. With REG_STARTEND the
// characters before `from` are context (so ^ and \b see them) and NUL bytes are ordinary;
// without it the text is searched as a C string from `from` on.
static bool search(const regex_t *re, const char *text, size_t from, size_t len, regmatch_t m[2]) {
#ifdef REG_STARTEND
    m[0].rm_so = (regoff_t)from, m[0].rm_eo = (regoff_t)len;
    return regexec(re, text, 2, m, REG_STARTEND | (from > 0 ? REG_NOTBOL : 0)) == 0;
#else
    if (from >= len) {
        // an empty pattern may still match at the end
        if (regexec(re, "", 2, m, from > 0 ? REG_NOTBOL : 0) != 0) return false;
    } else if (regexec(re, text + from, 2, m, from > 0 ? REG_NOTBOL : 0) != 0)
        return false;
    for (int k = 0; k < 2; k++)
        if (m[k].rm_so >= 0) m[k].rm_so += (regoff_t)from, m[k].rm_eo += (regoff_t)from;
    return true;
#endif
}

bool vkt_answer_extract(const vkt_answer_re *re, const char *text, size_t len, size_t *start,
                        size_t *alen) {
    bool found = false;
    size_t pos = 0;
    regmatch_t m[2];
    while (pos <= len && search(&re->re, text, pos, len, m)) {
        const regmatch_t *a = re->group ? &m[1] : &m[0];
        if (a->rm_so >= 0 && a->rm_eo > a->rm_so) {
            *start = (size_t)a->rm_so, *alen = (size_t)(a->rm_eo - a->rm_so);
            found = true;
        }
        // resume after this match (one byte on when it was empty, so the scan ends)
        size_t next = m[0].rm_eo > m[0].rm_so ? (size_t)m[0].rm_eo : (size_t)m[0].rm_so + 1;
        if (next <= pos) next = pos + 1;
        pos = next;
    }
    return found;
}

// a before b in self-certainty order: higher first, NaN last, ties by index.
static int by_certainty(const vkt_select_sample *s, int a, int b) {
    double x = s[a].self_certainty, y = s[b].self_certainty;
    bool nx = isnan(x), ny = isnan(y);
    if (nx != ny) return nx ? 1 : -1;
    if (!nx && x != y) return x > y ? -1 : 1;
    return a < b ? -1 : a > b;
}

// Insertion sort of sample indices by certainty (N is small; keeps the code obvious).
static void rank_order(const vkt_select_sample *s, int n, int *order) {
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && by_certainty(s, i, order[j - 1]) < 0) order[j] = order[j - 1], j--;
        order[j] = i;
    }
}

// Certainty as a tie-break number: NaN adds nothing.
static double cert(const vkt_select_sample *s) {
    return isnan(s->self_certainty) ? 0.0 : s->self_certainty;
}

// -1, 0, 1: x less than, equal to (within a relative 1e-12), greater than y.
static int cmp_votes(double x, double y) {
    double tol = 1e-12 * fmax(fabs(x), fabs(y));
    if (x > y + tol) return 1;
    if (y > x + tol) return -1;
    return 0;
}

void vkt_selection_free(vkt_selection *sel) {
    if (!sel) return;
    free(sel->cand), free(sel->sample_cand), free(sel->rank), free(sel->weight);
    memset(sel, 0, sizeof *sel);
}

vkt_status vkt_select(const vkt_select_sample *s, int n, vkt_select_rule rule, double borda_power,
                      vkt_selection *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "select: n = %d samples (need >= 1)", n);
    if ((unsigned)rule >= VKT_SELECT_RULES)
        return vkt_fail(err, VKT_ERR_ARG, "select: unknown rule %d", (int)rule);
    if (!(borda_power >= 0) || !isfinite(borda_power))
        return vkt_fail(err, VKT_ERR_ARG, "select: Borda power %g must be finite and >= 0",
                        borda_power);
    out->rule = rule, out->n = n, out->answer = -1;
    out->cand = calloc((size_t)n, sizeof *out->cand);
    out->sample_cand = malloc((size_t)n * sizeof *out->sample_cand);
    out->rank = malloc((size_t)n * sizeof *out->rank);
    out->weight = malloc((size_t)n * sizeof *out->weight);
    int *order = malloc((size_t)n * sizeof *order);
    if (!out->cand || !out->sample_cand || !out->rank || !out->weight || !order) {
        free(order);
        vkt_selection_free(out);
        return vkt_fail(err, VKT_ERR_NOMEM, "select: %d samples", n);
    }

    // ranks and Borda weights over all n samples: rank r gets (n - r + 1)^p
    rank_order(s, n, order);
    for (int r = 0; r < n; r++) {
        out->rank[order[r]] = r + 1;
        out->weight[order[r]] = pow((double)(n - r), borda_power);
    }
    free(order);

    // distinct answers in order of first occurrence (quadratic: N is small)
    for (int i = 0; i < n; i++) {
        out->sample_cand[i] = -1;
        if (!s[i].answer) continue;
        int c = 0;
        while (c < out->n_cand) {
            const vkt_select_sample *f = &s[out->cand[c].first];
            if (f->answer_len == s[i].answer_len &&
                !memcmp(f->answer, s[i].answer, s[i].answer_len))
                break;
            c++;
        }
        vkt_select_candidate *k = &out->cand[c];
        if (c == out->n_cand)
            out->n_cand++, k->first = k->best = i;
        else if (by_certainty(s, i, k->best) < 0)
            k->best = i;
        k->count++;
        k->borda += out->weight[i];
        k->certainty_sum += cert(&s[i]);
        out->sample_cand[i] = c;
    }

    if (out->n_cand == 0) {
        // nobody answered: report the most certain sample, with no answer
        int best = 0;
        for (int i = 1; i < n; i++)
            if (by_certainty(s, i, best) < 0) best = i;
        out->chosen = best;
        return VKT_OK;
    }
    int win = 0;
    for (int c = 1; c < out->n_cand; c++) {
        const vkt_select_candidate *a = &out->cand[c], *b = &out->cand[win];
        int d;
        if (rule == VKT_SELECT_SELF_CERTAINTY)
            d = by_certainty(s, a->best, b->best) < 0 ? 1 : -1;
        else {
            d = rule == VKT_SELECT_MAJORITY ? (a->count > b->count) - (a->count < b->count)
                                            : cmp_votes(a->borda, b->borda);
            if (d == 0) d = cmp_votes(a->certainty_sum, b->certainty_sum);
            // d == 0 still: the earlier candidate (the current winner) stays
        }
        if (d > 0) win = c;
    }
    out->answer = win;
    out->chosen = out->cand[win].best;
    return VKT_OK;
}

vkt_status vkt_select_accuracy(const vkt_select_sample *samples, int P, int nmax,
                               const char *const *gold, const int *Ns, int nN, double borda_power,
                               double *acc, vkt_error *err) {
    if (P < 1 || nmax < 1 || nN < 1)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "select accuracy: %d prompts, %d samples each, %d values of N (need >= 1 each)", P,
            nmax, nN);
    for (int j = 0; j < nN; j++)
        if (Ns[j] < 1 || Ns[j] > nmax)
            return vkt_fail(err, VKT_ERR_ARG, "select accuracy: N = %d outside [1, %d samples]",
                            Ns[j], nmax);
    for (int rule = 0; rule < VKT_SELECT_RULES; rule++)
        for (int j = 0; j < nN; j++) {
            const int N = Ns[j], groups = nmax / N;
            long right = 0;
            for (int p = 0; p < P; p++)
                for (int g = 0; g < groups; g++) {
                    vkt_selection sel;
                    VKT_TRY(vkt_select(samples + (size_t)p * nmax + (size_t)g * N, N,
                                       (vkt_select_rule)rule, borda_power, &sel, err));
                    if (sel.answer >= 0 && gold && gold[p]) {
                        const vkt_select_sample *w =
                            &samples[(size_t)p * nmax + (size_t)g * N + sel.cand[sel.answer].first];
                        right += w->answer_len == strlen(gold[p]) &&
                                 !memcmp(w->answer, gold[p], w->answer_len);
                    }
                    vkt_selection_free(&sel);
                }
            acc[rule * nN + j] = (double)right / ((double)P * groups);
        }
    return VKT_OK;
}
