// effsteer_exp.h: the measurements of the efficiency-steering experiment on a trained task
// model (docs/efficiency_steering.md; after arXiv 2506.15647): sampling and
// grading completions under a residual edit, and the verbose-minus-concise directions.
//
// Layers are block outputs, 0..L-1, as everywhere in vkt (steer.h): row l of an edit is
// added at the output of 0-based block l and is what a GGUF control vector stores as
// direction.l.
#ifndef VKT_EFFSTEER_EXP_H
#define VKT_EFFSTEER_EXP_H

#include <stdint.h>

#include "effsteer_task.h"
#include "effsteer_tok.h"
#include "generate.h"
#include "steer.h"

typedef struct vkt_eff_item {
    int tag, x, y; // tag index (effsteer_task.h), operands 10..99
} vkt_eff_item;

typedef struct vkt_eff_stats {
    int n;
    double mean_tokens;  // generated tokens per sample, <|endoftext|> included
    double sd_tokens;    // their standard deviation (population)
    double verbose_frac; // share with at least one re-check line
    double recheck_rate; // re-check lines per decision point (2 per sample)
    double accuracy;     // share whose answer line is x + y
    double exact;        // share that is exactly a canonical trace
    double mean_logprob; // mean over samples of their mean sampled-token log-probability
    double mean_bytes;   // bytes of response text per sample (the EOS that ended it left out)
} vkt_eff_stats;

// Samples one completion per item (item i on RNG stream i, temperature T, <= max_new
// tokens) with the edit dirs (L x C, or NULL for none) set on g, grades them and
// averages. The edit is removed again before returning. per_item (n) may be NULL.
vkt_status vkt_eff_measure(vkt_gen *g, const vkt_eff_item *items, int n, const float *dirs,
                           double temperature, uint64_t seed, int max_new, vkt_eff_stats *out,
                           vkt_eff_check *per_item);
// The same with the prompts encoded by enc (effsteer_tok.h; NULL: bytes, as above), the
// samples decoded by its tokenizer and graded by vkt_eff_grade_response. Fails when a
// prompt does not fit g's max_len.
vkt_status vkt_eff_measure_enc(vkt_gen *g, const vkt_eff_enc *enc, const vkt_eff_item *items, int n,
                               const float *dirs, double temperature, uint64_t seed, int max_new,
                               vkt_eff_stats *out, vkt_eff_check *per_item);

// Per layer l (0..L-1), from the same concise trace run under every tag (teacher forced)
// for each of n problems (xs, ys):
//   trace: mean over problems and trace tokens of (mean over verbose tags of h) - (mean
//          over concise tags of h), h the block-l output; NOT normalised.
//   last:  the same at the last prompt token (the "=" before the completion).
//   pc1:   first principal component of the paired (problem, trace token) differences,
//          unit norm, signed so verbose projects higher (vkt_steer_direction, pca).
//   decision: the mean difference at the decision rows only: the newline that ends a
//          column line, where the model chooses between a re-check line and the next
//          line (2 per problem); NOT normalised.
//   h_norm: mean |h| over the trace tokens of every tag: the unit of strength.
// "Verbose tags" are those with p >= 0.5, "concise" those with p < 0.5.
// With a tokenizer (vkt_eff_directions_enc) the rows are the model's tokens: the last
// prompt token is the last id of the encoded (or chat-rendered) prompt, the trace tokens
// are the completion's ids (the same under every tag), and a decision row is one whose
// token ends with the newline before "tens:" / "ans=" (vkt_eff_decision_at on the decoded
// token ends). A tokenizer that merges that newline into the next token leaves no decision
// row: decision_rows is then 0 and `decision` all zeros.
typedef struct vkt_eff_dirs {
    int L, C;
    int64_t decision_rows;                // paired decision rows found (2 per problem with bytes)
    float *trace, *last, *pc1, *decision; // (L, C) each
    double *h_norm;                       // (L)
    vkt_steer_dir_info *info_trace, *info_last, *info_pc1, *info_decision; // (L) each
} vkt_eff_dirs;

vkt_status vkt_eff_directions(vkt_model *m, const int *xs, const int *ys, int n, vkt_eff_dirs *out);
// The same with the texts encoded by enc (NULL: bytes, as above).
vkt_status vkt_eff_directions_enc(vkt_model *m, const vkt_eff_enc *enc, const int *xs,
                                  const int *ys, int n, vkt_eff_dirs *out);
void vkt_eff_dirs_free(vkt_eff_dirs *d);

// True for tags with p >= 0.5.
static inline int vkt_eff_tag_is_verbose(int tag) { return vkt_eff_tag_table()[tag].p >= 0.5; }

#endif
