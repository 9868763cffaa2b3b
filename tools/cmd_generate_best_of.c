// cmd_generate_best_of.c: vkt generate's best-of-N selection of an extracted answer
// (trainer/model/select.h) and the JSON it prints.
#include "cmd_generate_best_of.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// JSON string: valid UTF-8 passes through; other bytes are written as \u00XX.
void gen_json_str(FILE *f, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c), i++;
        else if (c == '\n')
            fputs("\\n", f), i++;
        else if (c == '\t')
            fputs("\\t", f), i++;
        else if (c == '\r')
            fputs("\\r", f), i++;
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c), i++;
        else if (c < 0x80)
            fputc((int)c, f), i++;
        else {
            // length of a valid UTF-8 sequence starting here, or 0
            size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                         : c >= 0xe0 && c <= 0xef ? 3
                         : c >= 0xf0 && c <= 0xf4 ? 4
                                                  : 0;
            bool ok = len > 0 && i + len <= n;
            for (size_t k = 1; ok && k < len; k++) ok = (u[i + k] & 0xc0) == 0x80;
            if (ok && len == 3 &&
                ((c == 0xe0 && u[i + 1] < 0xa0) || (c == 0xed && u[i + 1] >= 0xa0)))
                ok = false;
            if (ok && len == 4 &&
                ((c == 0xf0 && u[i + 1] < 0x90) || (c == 0xf4 && u[i + 1] >= 0x90)))
                ok = false;
            if (ok)
                fwrite(u + i, 1, len, f), i += len;
            else
                fprintf(f, "\\u%04x", c), i++;
        }
    }
    fputc('"', f);
}

void gen_json_num(FILE *f, double x) {
    if (isfinite(x))
        fprintf(f, "%.6g", x);
    else
        fputs("null", f);
}

void gen_json_floats(FILE *f, const float *x, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        gen_json_num(f, x[i]);
    }
    fputc(']', f);
}

static bool answer_is(const vkt_select_sample *a, const char *gold) {
    return a->answer && a->answer_len == strlen(gold) && !memcmp(a->answer, gold, a->answer_len);
}

const vkt_select_sample *best_of_chosen(const best_of *b, int i) {
    const vkt_selection *sel = &b->sel[i];
    return sel->answer >= 0 ? &b->s[(size_t)i * b->N + sel->cand[sel->answer].first] : NULL;
}

bool best_of_correct(const best_of *b, int i) {
    const vkt_select_sample *a = best_of_chosen(b, i);
    return a && b->gold && answer_is(a, b->gold[i]);
}

vkt_status best_of_run(best_of *b, const vkt_answer_re *re, const vkt_gen_result *res,
                       vkt_error *err) {
    const int total = b->np * b->N;
    b->s = calloc((size_t)total, sizeof *b->s);
    b->sel = calloc((size_t)b->np, sizeof *b->sel);
    if (!b->s || !b->sel) return vkt_fail(err, VKT_ERR_NOMEM, "best-of: %d samples", total);
    for (int i = 0; i < total; i++) {
        size_t a, n;
        b->s[i].self_certainty = res[i].mean_self_certainty;
        if (vkt_answer_extract(re, res[i].text, res[i].text_len, &a, &n))
            b->s[i].answer = res[i].text + a, b->s[i].answer_len = n;
    }
    for (int i = 0; i < b->np; i++)
        VKT_TRY(vkt_select(b->s + (size_t)i * b->N, b->N, b->rule, b->power, &b->sel[i], err));
    if (!b->gold) return VKT_OK;
    for (int k = 1; k < b->N && b->nN < 31; k *= 2) b->Ns[b->nN++] = k;
    b->Ns[b->nN++] = b->N;
    b->curve = malloc((size_t)VKT_SELECT_RULES * b->nN * sizeof *b->curve);
    if (!b->curve) return vkt_fail(err, VKT_ERR_NOMEM, "best-of accuracy");
    return vkt_select_accuracy(b->s, b->np, b->N, (const char *const *)b->gold, b->Ns, b->nN,
                               b->power, b->curve, err);
}

void best_of_free(best_of *b) {
    if (b->sel)
        for (int i = 0; i < b->np; i++) vkt_selection_free(&b->sel[i]);
    free(b->s), free(b->sel), free(b->curve);
}

void best_of_json_answer(FILE *f, const vkt_select_sample *a) {
    if (a && a->answer)
        gen_json_str(f, a->answer, a->answer_len);
    else
        fputs("null", f);
}

// "best_of": {...}, "prompts": [...] (and "accuracy", "accuracy_curve" with gold answers)
void best_of_json(FILE *f, const best_of *b, const char *regex, const char *const *ptext) {
    fprintf(f, ", \"best_of\": {\"n\": %d, \"rule\": \"%s\", \"borda_power\": ", b->N,
            vkt_select_rule_name(b->rule));
    gen_json_num(f, b->power);
    fputs(", \"answer_regex\": ", f);
    gen_json_str(f, regex, strlen(regex));
    fputs("},\n\"prompts\": [", f);
    int right = 0;
    for (int i = 0; i < b->np; i++) {
        const vkt_selection *sel = &b->sel[i];
        const vkt_select_sample *s = b->s + (size_t)i * b->N;
        fprintf(f, "%s\n  {\"prompt_index\": %d, \"prompt\": ", i ? "," : "", i);
        gen_json_str(f, ptext[i], strlen(ptext[i]));
        fputs(", \"answer\": ", f);
        best_of_json_answer(f, best_of_chosen(b, i));
        fprintf(f, ", \"sample\": %d, \"rule\": \"%s\"", sel->chosen,
                vkt_select_rule_name(b->rule));
        if (b->gold) {
            fputs(", \"gold\": ", f);
            gen_json_str(f, b->gold[i], strlen(b->gold[i]));
            fprintf(f, ", \"correct\": %s", best_of_correct(b, i) ? "true" : "false");
            right += best_of_correct(b, i);
        }
        fputs(", \"answers\": [", f);
        for (int k = 0; k < b->N; k++) fputs(k ? ", " : "", f), best_of_json_answer(f, &s[k]);
        fputs("], \"mean_self_certainty\": [", f);
        for (int k = 0; k < b->N; k++)
            fputs(k ? ", " : "", f), gen_json_num(f, s[k].self_certainty);
        fputs("], \"rank\": [", f);
        for (int k = 0; k < b->N; k++) fprintf(f, "%s%d", k ? ", " : "", sel->rank[k]);
        fputs("], \"borda_weight\": [", f);
        for (int k = 0; k < b->N; k++) fputs(k ? ", " : "", f), gen_json_num(f, sel->weight[k]);
        fputs("], \"votes\": [", f);
        for (int c = 0; c < sel->n_cand; c++) {
            const vkt_select_candidate *v = &sel->cand[c];
            fputs(c ? ", {\"answer\": " : "{\"answer\": ", f);
            best_of_json_answer(f, &s[v->first]);
            fprintf(f, ", \"count\": %d, \"borda\": ", v->count);
            gen_json_num(f, v->borda);
            fputs(", \"self_certainty_sum\": ", f);
            gen_json_num(f, v->certainty_sum);
            fprintf(f, ", \"first_sample\": %d, \"best_sample\": %d}", v->first, v->best);
        }
        fputs("]}", f);
    }
    fputs("\n]", f);
    if (!b->gold) return;
    fprintf(f, ", \"accuracy\": %.6g, \"correct\": %d, \"accuracy_curve\": [",
            (double)right / b->np, right);
    for (int r = 0; r < VKT_SELECT_RULES; r++)
        for (int j = 0; j < b->nN; j++)
            fprintf(f, "%s{\"N\": %d, \"rule\": \"%s\", \"accuracy\": %.6g, \"groups\": %d}",
                    r || j ? ", " : "", b->Ns[j], vkt_select_rule_name((vkt_select_rule)r),
                    b->curve[r * b->nN + j], b->np * (b->N / b->Ns[j]));
    fputs("]", f);
}
