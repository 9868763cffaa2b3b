// cmd_steer_efficiency_out.c: the efficiency experiment's outputs once it has run: the control
// vectors (directions.gguf, efficiency.gguf), summary.json and the figures.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "cmd_steer_efficiency_out.h"
#include "json_file.h"
#include "steer.h"

#define CMD EFF_CMD
typedef eff_opts opts;
typedef eff_summary summary;

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int eff_write_gguf(const opts *o, const vkt_model_config *cfg, const vkt_eff_dirs *d,
                   int best_layer, const float *best_edit) {
    vkt_error err = {0};
    const int L = d->L, C = d->C;
    int *layers = malloc((size_t)L * sizeof *layers);
    char *p1 = join(o->out, "directions.gguf"), *p2 = join(o->out, "efficiency.gguf");
    int rc = CLI_OK;
    if (!layers || !p1 || !p2) rc = cli_fail(CMD, "out of memory");
    const char *hint = cfg->family == VKT_FAMILY_GPT2 ? "gpt2" : "llama";
    for (int l = 1; l < L && rc == CLI_OK; l++) layers[l - 1] = l;
    if (rc == CLI_OK && L > 1 &&
        vkt_control_vector_write(p1, hint, (uint32_t)(L - 1), C, L - 1, layers, d->trace + C,
                                 &err) != VKT_OK)
        rc = cli_fail(CMD, "%s", err.msg);
    if (rc == CLI_OK && best_edit &&
        vkt_control_vector_write(p2, hint, (uint32_t)(L - 1), C, 1, &best_layer,
                                 best_edit + (size_t)best_layer * C, &err) != VKT_OK)
        rc = cli_fail(CMD, "%s", err.msg);
    free(layers), free(p1), free(p2);
    return rc;
}

static int write_summary(const opts *o, const summary *sm) {
    json_t *j = json_object();
    const double tok_change = sm->best_tokens / sm->base_tokens - 1;
    json_object_set_new(j, "base_tokens", json_real(sm->base_tokens));
    json_object_set_new(j, "base_accuracy", json_real(sm->base_accuracy));
    json_object_set_new(j, "base_verbose_frac", json_real(sm->base_verbose));
    json_object_set_new(j, "base_text_bytes", json_real(sm->base_bytes));
    json_object_set_new(j, "tokenizer", json_string(sm->tokenizer));
    json_object_set_new(j, "chat", json_boolean(sm->chat));
    json_object_set_new(j, "max_new_tokens", json_integer(o->max_new));
    json_object_set_new(j, "best_kind", json_string(sm->best_kind));
    json_object_set_new(j, "best_layer", json_integer(sm->best_layer));
    json_object_set_new(j, "best_strength", json_real(sm->best_strength));
    json_object_set_new(j, "best_within_accuracy_drop", json_boolean(sm->within_drop));
    json_object_set_new(j, "best_tokens", json_real(sm->best_tokens));
    json_object_set_new(j, "best_accuracy", json_real(sm->best_accuracy));
    json_object_set_new(j, "best_verbose_frac", json_real(sm->best_verbose));
    json_object_set_new(j, "best_tokens_change", json_real(tok_change));
    json_object_set_new(j, "reverse_strength", json_real(sm->rev_strength));
    json_object_set_new(j, "reverse_base_tokens", json_real(sm->rev_base_tokens));
    json_object_set_new(j, "reverse_tokens", json_real(sm->rev_tokens));
    json_object_set_new(j, "reverse_tokens_change",
                        json_real(sm->rev_tokens / sm->rev_base_tokens - 1));
    json_object_set_new(j, "reverse_accuracy_change",
                        json_real(sm->rev_accuracy - sm->rev_base_accuracy));
    json_object_set_new(j, "random_tokens_change",
                        json_real(sm->rand_tokens / sm->base_tokens - 1));
    json_object_set_new(j, "random_accuracy_change",
                        json_real(sm->rand_accuracy - sm->base_accuracy));
    json_object_set_new(j, "heldout_accuracy_concise_tags", json_real(sm->check_acc_concise));
    json_object_set_new(j, "heldout_accuracy_verbose_tags", json_real(sm->check_acc_verbose));
    json_object_set_new(j, "heldout_max_verbose_frac_gap", json_real(sm->check_max_vdev));
    json_object_set_new(j, "heldout_verbose_frac_gap_concise_tags",
                        json_real(sm->check_vgap_concise));
    json_object_set_new(j, "heldout_verbose_frac_gap_verbose_tags",
                        json_real(sm->check_vgap_verbose));
    json_object_set_new(j, "heldout_check_problems", json_integer(o->check_problems));
    json_object_set_new(j, "prompts", json_integer(o->prompts));
    json_object_set_new(j, "temperature", json_real(o->temperature));
    json_object_set_new(j, "seeds", json_integer(o->seeds));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    vkt_error err = {0};
    char *p = join(o->out, "summary.json");
    int rc = p && vkt_json_file_write(p, j, &err) == VKT_OK ? CLI_OK : cli_fail(CMD, "%s", err.msg);
    if (rc == CLI_OK && o->json) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (s) printf("%s\n", s);
        free(s);
    }
    free(p);
    json_decref(j);
    return rc;
}

int eff_write_results(const opts *o, const summary *sm) {
    int rc = write_summary(o, sm);
    if (rc == CLI_OK && o->plot) {
        char *csv = join(o->out, "sweep.csv"), *fin = join(o->out, "final.csv"),
             *png1 = join(o->out, "efficiency_sweep.png"),
             *png2 = join(o->out, "efficiency_final.png");
        char *args[] = {csv, fin, png1, png2, NULL};
        rc = csv && fin && png1 && png2 ? cli_run_python(CMD, "efficiency_plot.py", args)
                                        : cli_fail(CMD, "out of memory");
        free(csv), free(fin), free(png1), free(png2);
    }
    return rc;
}
