// effsteer_task.h: the synthetic task of the efficiency-steering experiment
// (docs/efficiency_steering.md; after arXiv 2506.15647). Pure C, no device.
//
// A prompt is "src=XY ab+cd=": two 2-digit numbers (10..99) and one of 16 arbitrary
// two-letter source tags. Each tag has a fixed re-check probability p (two tags per
// level in {0, .1, .2, .3, .7, .8, .9, 1}), so verbosity is a persistent latent the
// model must infer from the prompt. The completion works column by column; after each
// column (a decision point) it adds a re-check line with probability p:
//
//   src=kq 47+35=                         <- prompt (no newline at the end)
//   \nones: 7+5=12 write 2 carry 1        <- completion starts here, always with "\nones: "
//   \nverify: 7+5=12 ok                    <- re-check of the ones column (probability p)
//   \ntens: 4+3+1=8 write 8 carry 0       <- "+1" only when a carry comes in
//   \nverify: 4+3+1=8 ok                   <- re-check of the tens column (probability p)
//   \nans=82                              <- then <|endoftext|> (the JSONL loader appends it)
//
// The first generated tokens ("\nones: ...", byte-level) are the same in both styles:
// the styles part only after the first column line. Some problems (a fixed hash of
// (ab, cd), independent of the seed) are held out from training under every tag.
#ifndef VKT_EFFSTEER_TASK_H
#define VKT_EFFSTEER_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "status.h"

#define VKT_EFF_TAGS 16
#define VKT_EFF_DECISIONS 2 // decision points: after the ones and after the tens column
#define VKT_EFF_MIN 10      // operands are 10..99
#define VKT_EFF_MAX 99
#define VKT_EFF_PROBLEMS 8100      // 90 x 90 ordered pairs
#define VKT_EFF_PROMPT_MAX 32      // bytes, NUL included ("src=XY ab+cd=" is 13)
#define VKT_EFF_COMPLETION_MAX 128 // bytes, NUL included (the longest completion is ~100)

typedef struct vkt_eff_tag {
    const char *name; // two lower-case letters
    double p;         // re-check probability at each decision point
} vkt_eff_tag;

// The 16 tags in table order (docs/efficiency_steering.md): index 0..15.
const vkt_eff_tag *vkt_eff_tag_table(void);
// The index of a tag name, or -1.
int vkt_eff_tag_index(const char *name);

// True when (x, y) is held out at fraction frac (0 <= frac <= 1): a fixed hash of the
// pair, the same for every seed and every tag, monotone in frac.
bool vkt_eff_is_heldout(int x, int y, double frac);
// Number of held-out problems at frac.
int vkt_eff_heldout_count(double frac);

// Formatting (snprintf-like: writes at most cap bytes with a NUL, returns the length;
// the buffers above always suffice). mask bit k: a re-check line after column k
// (bit 0 ones, bit 1 tens). Returns 0 for operands outside 10..99 or a bad tag.
size_t vkt_eff_prompt(int tag, int x, int y, char *out, size_t cap);
size_t vkt_eff_completion(int x, int y, unsigned mask, char *out, size_t cap);
// Draws a re-check mask: each of the VKT_EFF_DECISIONS bits set with probability p.
unsigned vkt_eff_sample_mask(double p, vkt_rng *r);

typedef struct vkt_eff_example {
    int tag, x, y;
    unsigned mask; // re-checks taken (0 for the concise trace)
    int gold;      // x + y
    char prompt[VKT_EFF_PROMPT_MAX];
    char completion[VKT_EFF_COMPLETION_MAX];
} vkt_eff_example;

// n training examples from seed: tag uniform over the 16, problem uniform over those not
// held out at heldout_frac, mask drawn with the tag's p. Deterministic for (seed, frac).
vkt_status vkt_eff_train_examples(uint64_t seed, double heldout_frac, int n, vkt_eff_example *out,
                                  vkt_error *err);
// Every held-out problem under every tag (problem-major in (x, y) order, tags in table
// order within a problem), with the concise completion (mask 0). out may be NULL to count;
// fails when cap is too small (*n_out still gets the count).
vkt_status vkt_eff_heldout_examples(double heldout_frac, vkt_eff_example *out, int cap, int *n_out,
                                    vkt_error *err);

// The direction-extraction construction: the same concise trace under every tag.
// prompts[t] is problem (x, y) under tag t; *completion the one concise completion.
vkt_status vkt_eff_concise_under_tags(int x, int y, char prompts[VKT_EFF_TAGS][VKT_EFF_PROMPT_MAX],
                                      char completion[VKT_EFF_COMPLETION_MAX], vkt_error *err);

// Checking a generated completion (the text after the prompt; it may end with the text
// "<|endoftext|>", after which nothing is read).
typedef struct vkt_eff_check {
    bool has_answer; // a well-formed "ans=<1-4 digits>" line was found (the first "ans=" line
                     // counts)
    int answer;      // its value (valid when has_answer)
    int rechecks;    // lines starting "verify: " before the answer line
    int columns;     // lines starting "ones: " or "tens: " before the answer line
    bool verbose;    // rechecks > 0 (concise: no re-check line)
    // Filled by vkt_eff_grade only:
    bool correct;  // has_answer and answer == x + y
    bool exact;    // the text is exactly the canonical completion for some mask
    unsigned mask; // that mask (valid when exact)
} vkt_eff_check;

void vkt_eff_check_text(const char *text, size_t len, vkt_eff_check *r);
// vkt_eff_check_text plus correct/exact against problem (x, y).
void vkt_eff_grade(const char *text, size_t len, int x, int y, vkt_eff_check *r);

// Files: JSONL lines {"prompt", "completion"} (train), and {"prompt", "completion"
// (concise), "gold", "tag", "p"} (held out). Written whole; fail with the path on error.
vkt_status vkt_eff_write_train_jsonl(const char *path, const vkt_eff_example *ex, int n,
                                     vkt_error *err);
vkt_status vkt_eff_write_heldout_jsonl(const char *path, const vkt_eff_example *ex, int n,
                                       vkt_error *err);

#endif
