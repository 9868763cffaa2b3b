// cmd_steer_efficiency_out.h: the experiment's results (cmd_steer_efficiency_run.c) and their
// writing (cmd_steer_efficiency_out.c): the control vectors, summary.json and the figures.
#ifndef VKT_CMD_STEER_EFFICIENCY_OUT_H
#define VKT_CMD_STEER_EFFICIENCY_OUT_H

#include <stdbool.h>

#include "cmd_steer_efficiency.h"
#include "effsteer_exp.h"
#include "model_config.h"

typedef struct eff_summary {
    double base_tokens, base_accuracy, base_verbose, best_tokens, best_accuracy, best_verbose;
    int best_layer;
    double best_strength;
    double
        rev_strength; // the reverse edit's strength (fraction of |h|), chosen on the sweep problems
    double rev_base_tokens, rev_tokens, rev_base_accuracy, rev_accuracy, rand_tokens, rand_accuracy;
    double check_acc_concise, check_acc_verbose, check_max_vdev, check_vgap_concise,
        check_vgap_verbose;
    const char *best_kind;
    const char *tokenizer; // "bytes" or "tokenizer.json"
    bool chat;             // prompts rendered with the chat template
    double base_bytes;     // unedited test set: response text bytes per sample (beside base_tokens)
    bool within_drop; // the best setting kept accuracy within --max-accuracy-drop on the sweep set
} eff_summary;

// OUT/directions.gguf (the trace direction of every layer but the first) and, given best_edit,
// OUT/efficiency.gguf (the best edit's layer).
int eff_write_gguf(const eff_opts *o, const vkt_model_config *cfg, const vkt_eff_dirs *d,
                   int best_layer, const float *best_edit);
// OUT/summary.json (printed too with --json), then with --plot the figures.
int eff_write_results(const eff_opts *o, const eff_summary *sm);

#endif
