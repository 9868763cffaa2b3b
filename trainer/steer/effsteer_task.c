// effsteer_task.c: the efficiency-steering synthetic task (effsteer_task.h).
#include "effsteer_task.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

// Arbitrary tags: letter pairs with no hint of their level; two per level.
static const vkt_eff_tag TAGS[VKT_EFF_TAGS] = {
    {"kq", 0.0}, {"wm", 0.0}, {"xb", 0.1}, {"jd", 0.1}, {"rv", 0.2}, {"hz", 0.2},
    {"fy", 0.3}, {"pn", 0.3}, {"gt", 0.7}, {"lc", 0.7}, {"ux", 0.8}, {"bs", 0.8},
    {"mj", 0.9}, {"dw", 0.9}, {"vo", 1.0}, {"ey", 1.0},
};

const vkt_eff_tag *vkt_eff_tag_table(void) { return TAGS; }

int vkt_eff_tag_index(const char *name) {
    for (int t = 0; t < VKT_EFF_TAGS; t++)
        if (name && !strcmp(name, TAGS[t].name)) return t;
    return -1;
}

static bool in_range(int v) { return v >= VKT_EFF_MIN && v <= VKT_EFF_MAX; }

// A fixed uniform value in [0, 1) per problem: held out when below frac, so a larger
// fraction holds out a superset and the set never depends on the training seed.
static double problem_hash(int x, int y) {
    return (double)(vkt_rng_derive(0xeff5ee7ull, (uint64_t)(x * 100 + y)) >> 11) * 0x1.0p-53;
}

bool vkt_eff_is_heldout(int x, int y, double frac) { return problem_hash(x, y) < frac; }

int vkt_eff_heldout_count(double frac) {
    int n = 0;
    for (int x = VKT_EFF_MIN; x <= VKT_EFF_MAX; x++)
        for (int y = VKT_EFF_MIN; y <= VKT_EFF_MAX; y++) n += vkt_eff_is_heldout(x, y, frac);
    return n;
}

static size_t clamp_len(int w, size_t cap) {
    if (w < 0) return 0;
    return (size_t)w < cap ? (size_t)w : (cap ? cap - 1 : 0);
}

size_t vkt_eff_prompt(int tag, int x, int y, char *out, size_t cap) {
    if (tag < 0 || tag >= VKT_EFF_TAGS || !in_range(x) || !in_range(y)) {
        if (cap) out[0] = 0;
        return 0;
    }
    return clamp_len(snprintf(out, cap, "src=%s %d+%d=", TAGS[tag].name, x, y), cap);
}

size_t vkt_eff_completion(int x, int y, unsigned mask, char *out, size_t cap) {
    if (!in_range(x) || !in_range(y)) {
        if (cap) out[0] = 0;
        return 0;
    }
    const int a = x / 10, b = x % 10, c = y / 10, d = y % 10;
    const int s1 = b + d, k1 = s1 / 10, s2 = a + c + k1, k2 = s2 / 10;
    char ones[32], tens[32];
    snprintf(ones, sizeof ones, "%d+%d=%d", b, d, s1);
    if (k1)
        snprintf(tens, sizeof tens, "%d+%d+1=%d", a, c, s2);
    else
        snprintf(tens, sizeof tens, "%d+%d=%d", a, c, s2);
    char c1[48] = "", c2[48] = "";
    if (mask & 1u) snprintf(c1, sizeof c1, "\nverify: %s ok", ones);
    if (mask & 2u) snprintf(c2, sizeof c2, "\nverify: %s ok", tens);
    int w =
        snprintf(out, cap, "\nones: %s write %d carry %d%s\ntens: %s write %d carry %d%s\nans=%d",
                 ones, s1 % 10, k1, c1, tens, s2 % 10, k2, c2, x + y);
    return clamp_len(w, cap);
}

unsigned vkt_eff_sample_mask(double p, vkt_rng *r) {
    unsigned m = 0;
    // Always draw one number per decision point, so a tag's p never shifts the stream
    // of the choices after it.
    for (int k = 0; k < VKT_EFF_DECISIONS; k++)
        if (vkt_rng_uniform(r) < p) m |= 1u << k;
    return m;
}

static void fill(vkt_eff_example *e, int tag, int x, int y, unsigned mask) {
    e->tag = tag, e->x = x, e->y = y, e->mask = mask, e->gold = x + y;
    vkt_eff_prompt(tag, x, y, e->prompt, sizeof e->prompt);
    vkt_eff_completion(x, y, mask, e->completion, sizeof e->completion);
}

static vkt_status check_frac(double frac, vkt_error *err) {
    if (!(frac >= 0.0 && frac <= 1.0))
        return vkt_fail(err, VKT_ERR_ARG, "effsteer: held-out fraction %g not in [0, 1]", frac);
    return VKT_OK;
}

vkt_status vkt_eff_train_examples(uint64_t seed, double heldout_frac, int n, vkt_eff_example *out,
                                  vkt_error *err) {
    if (check_frac(heldout_frac, err) != VKT_OK) return VKT_ERR_ARG;
    if (n < 0 || (n > 0 && !out))
        return vkt_fail(err, VKT_ERR_ARG, "effsteer: %d training examples", n);
    if (n > 0 && vkt_eff_heldout_count(heldout_frac) >= VKT_EFF_PROBLEMS)
        return vkt_fail(err, VKT_ERR_ARG,
                        "effsteer: held-out fraction %g leaves no training problem", heldout_frac);
    vkt_rng r;
    vkt_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int tag = (int)vkt_rng_below(&r, VKT_EFF_TAGS), x, y;
        do { // rejection: uniform over the problems kept for training
            x = VKT_EFF_MIN + (int)vkt_rng_below(&r, 90);
            y = VKT_EFF_MIN + (int)vkt_rng_below(&r, 90);
        } while (vkt_eff_is_heldout(x, y, heldout_frac));
        fill(&out[i], tag, x, y, vkt_eff_sample_mask(TAGS[tag].p, &r));
    }
    return VKT_OK;
}

vkt_status vkt_eff_heldout_examples(double heldout_frac, vkt_eff_example *out, int cap, int *n_out,
                                    vkt_error *err) {
    if (check_frac(heldout_frac, err) != VKT_OK) return VKT_ERR_ARG;
    const int need = vkt_eff_heldout_count(heldout_frac) * VKT_EFF_TAGS;
    if (n_out) *n_out = need;
    if (!out) return VKT_OK;
    if (cap < need)
        return vkt_fail(err, VKT_ERR_ARG, "effsteer: %d held-out examples need room for %d", cap,
                        need);
    int i = 0;
    for (int x = VKT_EFF_MIN; x <= VKT_EFF_MAX; x++)
        for (int y = VKT_EFF_MIN; y <= VKT_EFF_MAX; y++)
            if (vkt_eff_is_heldout(x, y, heldout_frac))
                for (int t = 0; t < VKT_EFF_TAGS; t++) fill(&out[i++], t, x, y, 0);
    return VKT_OK;
}

vkt_status vkt_eff_concise_under_tags(int x, int y, char prompts[VKT_EFF_TAGS][VKT_EFF_PROMPT_MAX],
                                      char completion[VKT_EFF_COMPLETION_MAX], vkt_error *err) {
    if (!in_range(x) || !in_range(y))
        return vkt_fail(err, VKT_ERR_ARG, "effsteer: operands %d+%d outside %d..%d", x, y,
                        VKT_EFF_MIN, VKT_EFF_MAX);
    for (int t = 0; t < VKT_EFF_TAGS; t++) vkt_eff_prompt(t, x, y, prompts[t], VKT_EFF_PROMPT_MAX);
    vkt_eff_completion(x, y, 0, completion, VKT_EFF_COMPLETION_MAX);
    return VKT_OK;
}

// ---- checking -------------------------------------------------------------------------

static const char EOT[] = "<|endoftext|>";

// The text up to the first "<|endoftext|>" (the generation's end).
static size_t until_eot(const char *text, size_t len) {
    const size_t m = sizeof EOT - 1;
    for (size_t i = 0; i + m <= len; i++)
        if (!memcmp(text + i, EOT, m)) return i;
    return len;
}

static bool starts(const char *s, size_t n, const char *pre) {
    size_t m = strlen(pre);
    return n >= m && !memcmp(s, pre, m);
}

void vkt_eff_check_text(const char *text, size_t len, vkt_eff_check *r) {
    memset(r, 0, sizeof *r);
    if (!text) return;
    len = until_eot(text, len);
    size_t i = 0;
    while (i <= len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        const char *s = text + i;
        const size_t n = e - i;
        if (starts(s, n, "ans=")) {
            // The first answer line ends the trace: 1-4 digits and nothing else, or no answer.
            size_t k = 4;
            int v = 0;
            while (k < n && k < 8 && s[k] >= '0' && s[k] <= '9') v = v * 10 + (s[k++] - '0');
            if (k > 4 && k == n) r->has_answer = true, r->answer = v;
            break;
        }
        if (starts(s, n, "verify: "))
            r->rechecks++;
        else if (starts(s, n, "ones: ") || starts(s, n, "tens: "))
            r->columns++;
        i = e + 1;
    }
    r->verbose = r->rechecks > 0;
}

void vkt_eff_grade(const char *text, size_t len, int x, int y, vkt_eff_check *r) {
    vkt_eff_check_text(text, len, r);
    if (!text) return;
    r->correct = r->has_answer && r->answer == x + y;
    len = until_eot(text, len);
    char want[VKT_EFF_COMPLETION_MAX];
    for (unsigned m = 0; m < (1u << VKT_EFF_DECISIONS); m++) {
        size_t n = vkt_eff_completion(x, y, m, want, sizeof want);
        if (n && n == len && !memcmp(want, text, n)) {
            r->exact = true, r->mask = m;
            break;
        }
    }
}

// ---- files ------------------------------------------------------------------------------

// JSON string body: our texts hold only printable ASCII and '\n'.
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '"' || *s == '\\')
            fputc('\\', f), fputc(*s, f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static vkt_status write_jsonl(const char *path, const vkt_eff_example *ex, int n, bool heldout,
                              vkt_error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    for (int i = 0; i < n; i++) {
        fputs("{\"prompt\": ", f);
        json_str(f, ex[i].prompt);
        fputs(", \"completion\": ", f);
        json_str(f, ex[i].completion);
        if (heldout)
            fprintf(f, ", \"gold\": %d, \"tag\": \"%s\", \"p\": %.1f", ex[i].gold,
                    TAGS[ex[i].tag].name, TAGS[ex[i].tag].p);
        fputs("}\n", f);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0) bad = true;
    if (bad) return vkt_fail(err, VKT_ERR_IO, "%s: write failed", path);
    return VKT_OK;
}

vkt_status vkt_eff_write_train_jsonl(const char *path, const vkt_eff_example *ex, int n,
                                     vkt_error *err) {
    return write_jsonl(path, ex, n, false, err);
}

vkt_status vkt_eff_write_heldout_jsonl(const char *path, const vkt_eff_example *ex, int n,
                                       vkt_error *err) {
    return write_jsonl(path, ex, n, true, err);
}
