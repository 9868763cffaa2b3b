// generate.h: KV-cached, batched generation, teacher-forced scoring and evaluation on a
// vkt_model: the cached forward in gen_forward.c, sampling in gen_sample.c, text in gen_text.c.
//
// A generation plan (vkt_gen) owns its own device memory: per layer a key/value cache of
// `max_seqs` slots x `max_len` positions, and activations for up to `max_rows` new tokens
// per forward. It never touches the model's training plan, so self-play can generate,
// score and train with one model. One forward processes the new tokens of every active
// sequence at once (prompt tokens while prefilling, one token per sequence while
// decoding), whatever their lengths: row-wise ops run over all rows, attention runs per
// run of slots at the same position (vkt_attention_fwd_cached), and only the rows that
// are sampled reach the final norm and the LM head.
//
// Sampling happens on the host from the downloaded logits, in double precision, with one
// RNG per sample seeded by vkt_rng_derive(opts.seed, prompt.stream): a sample's tokens do
// not depend on what else is in the batch (prompts of one call may differ in length; a
// sample finished early frees its slot for the next prompt).
//
// Statistics of every sampled token are taken under the model's own distribution
// p = softmax(logits) at temperature 1, before top-k/top-p (what RL and self-certainty
// need, whatever the sampling settings):
//   logprob        log p(token)
//   entropy        -sum_j p_j log p_j
//   self_certainty KL(U || p) = -(1/V) sum_j log(V p_j), V = the model's vocabulary
//                  (arXiv 2502.18581, eq. 2)
// and their means over the response (all sampled tokens, the stop string included).
//
// Steering edits: vkt_gen_set_edit(g, dirs) adds dirs[l] (C floats) to the residual
// stream at the output of 0-based block l, at every position, in every later forward
// (generation, scoring, eval); vkt_gen_edit_from_control_vectors builds dirs from GGUF
// control vectors with llama.cpp's flag semantics (see there).
#ifndef VKT_GENERATE_H
#define VKT_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "model.h"
#include "tok.h"

typedef struct vkt_gen vkt_gen;

// max_seqs >= 1 sequences in flight; max_len (0: the model's context) positions each;
// max_rows (0: a default of max(max_seqs, min(max_seqs * max_len, 1024))) new tokens per
// forward. Longer prompts are fed in several forwards.
vkt_status vkt_gen_create(vkt_model *m, int max_seqs, int max_len, int max_rows, vkt_gen **out);
// Device bytes vkt_gen_create(m, max_seqs, max_len, max_rows) would allocate (caches,
// activations, inputs), for reporting and refusing before allocating.
uint64_t vkt_gen_bytes(vkt_model *m, int max_seqs, int max_len, int max_rows);
void vkt_gen_destroy(vkt_gen *g);
int vkt_gen_max_seqs(const vkt_gen *g);
int vkt_gen_max_len(const vkt_gen *g);
// The context the plan reports into (its model's): read vkt_ctx_message on a failure.
vkt_ctx *vkt_gen_ctx(vkt_gen *g);

// dirs (layers * C floats): row l is added at the output of 0-based block l; NULL
// removes the edit. Rows of zeros cost nothing (they are skipped). Copies dirs.
vkt_status vkt_gen_set_edit(vkt_gen *g, const float *dirs);

// Called after every block (0-based `layer`) with the residual stream (rows, C) of the new
// tokens of this forward, after the edit: capture for steering. Row r belongs to sequence
// row_seq[r] (an index into the prompts of the running vkt_generate / vkt_gen_score call)
// at position row_pos[r] (host arrays of `rows` entries, valid during the call).
typedef vkt_status (*vkt_gen_hook)(void *user, vkt_gen *g, int layer, vkt_view resid, int rows,
                                   const int32_t *row_seq, const int32_t *row_pos);
void vkt_gen_set_hook(vkt_gen *g, vkt_gen_hook hook, void *user);

typedef struct vkt_gen_prompt {
    const int32_t *ids; // prompt tokens (>= 1)
    int n;
    uint64_t stream; // the sample's RNG stream: RNG = vkt_rng_derive(opts.seed, stream)
} vkt_gen_prompt;

// Sees the logits (V floats, temperature 1, before any filtering) from which token `step`
// of sample `sample` (index into the call's prompts) is drawn. May change them in place
// (e.g. to mask tokens); statistics are then taken on the changed logits.
typedef void (*vkt_gen_logits_fn)(void *user, int sample, int step, float *logits, int V);

typedef struct vkt_gen_opts {
    int max_new_tokens;      // default 64 (a sample also stops at the plan's max_len)
    double temperature;      // default 1; <= 0 means greedy
    int top_k;               // 0: off
    double top_p;            // 1: off
    bool greedy;             // argmax (lowest id on ties); top_k = 1 is the same
    const char *const *stop; // stop strings, matched on the streamed text (below)
    int n_stop;
    bool include_stop; // keep the matched stop string in `text` (default: cut it)
    bool stop_at_eot;  // stop at the tokenizer's EOS ids (default true; not in `text`)
    vkt_tok *tok;      // the model's tokenizer (NULL: the byte tokenizer)
    uint64_t seed;
    vkt_gen_logits_fn on_logits;
    void *user;
    bool allow_nonfinite; // sample from logits holding NaN/inf (default: refuse, naming them)
} vkt_gen_opts;

typedef enum {
    VKT_FINISH_LENGTH = 0,
    VKT_FINISH_STOP,
    VKT_FINISH_EOT,
    VKT_FINISH_CONTEXT
} vkt_finish;
const char *vkt_finish_name(vkt_finish f); // "length", "stop", "eot", "context"

// Text: while sampling, a sample's text is the bytes its tokens add (vkt_tok_token_bytes:
// a byte token's byte, a special token's name; "<|id|>" for an id past the tokenizer's
// vocabulary). A stop string matches when it occurs in that text ending within the newest
// token's bytes (with the byte tokenizer: when the text ends with it); the first one given
// that matches stops the sample, and the text is cut where it starts (unless include_stop).
// When a sample ends, a tokenizer.json model's text becomes vkt_tok_decode of its tokens
// (the EOS that ended it left out; a cut stop string's tokens left out, and the streamed
// bytes before the cut that belong to them kept): what transformers' decode gives. With the
// byte tokenizer the streamed text is that already.
typedef struct vkt_gen_result {
    int n;                                     // tokens sampled (stop string and the EOS included)
    int32_t *tokens;                           // (n)
    float *logprob, *entropy, *self_certainty; // (n) each, see the top of this file
    double mean_logprob, mean_entropy, mean_self_certainty; // over the n tokens (0 if n == 0)
    char *text; // decoded response, see above (NUL-terminated; may hold NUL bytes)
    size_t text_len;
    vkt_finish finish;
    int stop_index; // which stop string matched, or -1
} vkt_gen_result;

void vkt_gen_defaults(vkt_gen_opts *o);
// Generates one sample per prompt into results[0..n) (freed by vkt_gen_result_free).
vkt_status vkt_generate(vkt_gen *g, const vkt_gen_prompt *prompts, int n, const vkt_gen_opts *opts,
                        vkt_gen_result *results);
void vkt_gen_result_free(vkt_gen_result *r);

// Teacher-forced scoring: for each i, logprob_out[i][t] = log p(cont[i][t] | prompt[i],
// cont[i][0..t)) under the temperature-1 model (with the current edit), for t < n_cont[i].
// prompts[i].n >= 1; prompt + continuation must fit max_len. Batched like generation.
vkt_status vkt_gen_score(vkt_gen *g, int n, const vkt_gen_prompt *prompts,
                         const int32_t *const *cont, const int *n_cont, float *const *logprob_out);

// Mean next-token NLL of n token ids: they are cut into non-overlapping windows of max_len
// tokens (the last may be shorter) and every token but the first of each window is
// scored. *tokens = how many were scored.
vkt_status vkt_gen_eval_ids(vkt_gen *g, const int32_t *ids, size_t n, double *nll, int64_t *tokens);
// The same for a text under the byte tokenizer (token = byte value).
vkt_status vkt_gen_eval_text(vkt_gen *g, const unsigned char *text, size_t len, double *nll,
                             int64_t *tokens);

// Steering from GGUF control vectors, as llama.cpp's --control-vector-scaled F:S
// (repeatable) and --control-vector-layer-range A B: dirs (layers * C, zeroed here) gets
// the sum over files of scale[i] * direction.N for every N in [layer_lo, layer_hi]
// (inclusive; layer_lo <= 0 means 1, layer_hi <= 0 means layers - 1), placed at row
// vkt_gen_cv_block(N). Fails when a file's n_embd is not C.
vkt_status vkt_gen_edit_from_control_vectors(const vkt_control_vector *cvs, const float *scales,
                                             int n, int layer_lo, int layer_hi, int layers, int C,
                                             float *dirs, vkt_error *err);
// The 0-based block whose output direction.N edits. llama.cpp (llama_adapter_cvec::apply
// fills tensors[il] from direction.il and adds it at the end of block il) and repeng
// (direction.i for model.layers[i], read from hidden_states[i + 1]) agree: N is the
// 0-based block index, so the first block's output (N = 0) is never edited and files
// hold direction.1 .. direction.(layers - 1).
static inline int vkt_gen_cv_block(int N) { return N; }

#endif
