// cmd_generate_best_of.h: vkt generate's best-of-N selection of an extracted answer among
// each prompt's samples (trainer/model/select.h), and the JSON writers its output shares.
#ifndef VKT_CMD_GENERATE_BEST_OF_H
#define VKT_CMD_GENERATE_BEST_OF_H

#include <stdbool.h>
#include <stdio.h>

#include "generate.h"
#include "select.h"

// Best-of-N over the results: each prompt's answers (byte ranges of the texts) and selection.
typedef struct {
    int np, N;
    vkt_select_rule rule;
    double power;
    vkt_select_sample *s; // (np * N)
    vkt_selection *sel;   // (np)
    char **gold;          // (np) or NULL
    int Ns[32], nN;       // the accuracy curve's N: 1, 2, 4, ... and N
    double *curve;        // (VKT_SELECT_RULES * nN) or NULL
} best_of;

// Extracts every sample's answer with re, selects per prompt, and with gold answers the
// accuracy curve.
vkt_status best_of_run(best_of *b, const vkt_answer_re *re, const vkt_gen_result *res,
                       vkt_error *err);
// Prompt i's chosen sample (NULL when none has an answer); whether it is the gold answer.
const vkt_select_sample *best_of_chosen(const best_of *b, int i);
bool best_of_correct(const best_of *b, int i);
void best_of_free(best_of *b);
// ", "best_of": {...}, "prompts": [...]" (and "accuracy", "accuracy_curve" with gold answers).
// A sample's answer as a JSON string, null when it has none.
void best_of_json_answer(FILE *f, const vkt_select_sample *a);
void best_of_json(FILE *f, const best_of *b, const char *regex, const char *const *ptext);

// JSON string: valid UTF-8 passes through; other bytes are written as \u00XX.
void gen_json_str(FILE *f, const char *s, size_t n);
// A number, null when not finite.
void gen_json_num(FILE *f, double x);
void gen_json_floats(FILE *f, const float *x, int n);

#endif
