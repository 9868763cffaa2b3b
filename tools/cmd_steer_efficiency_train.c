// cmd_steer_efficiency_train.c: step 1 of `vkt steer efficiency`: the task's training data
// and the task model trained on it (or resumed, or reused when complete).
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd_steer_efficiency.h"
#include "effsteer_task.h"
#include "json_file.h"
#include "train.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool exists(const char *dir, const char *name) {
    char *p = join(dir, name);
    struct stat st;
    bool ok = p && stat(p, &st) == 0;
    free(p);
    return ok;
}

static void train_progress(void *user, const vkt_train_progress *p) {
    (void)user;
    if (p->step == 1 || p->step % 100 == 0 || p->step == p->steps || p->evaluated)
        fprintf(stderr, "  train step %d/%d | loss %.4f | lr %.2e | %.0f tok/s | ETA %.0f s\n",
                p->step, p->steps, p->loss, p->lr, p->tokens_per_s, p->eta_s);
}

// Writes DIR/data/train.jsonl and trains DIR/model (or resumes it); leaves the path in *ckpt.
int eff_train_model(vkt_ctx *ctx, const eff_opts *o, char **ckpt) {
    vkt_error *err = vkt_ctx_err(ctx); // one channel for the files and the training
    char *data = join(o->out, "data"), *model = join(o->out, "model");
    char *train = data ? join(data, "train.jsonl") : NULL;
    int rc = CLI_OK;
    if (!data || !model || !train) rc = cli_fail(EFF_CMD, "out of memory");
    int step = 0, steps = 0;
    if (rc == CLI_OK && exists(model, "trainer_state.json")) {
        char *sp = join(model, "trainer_state.json");
        json_t *j = NULL;
        if (vkt_json_file_read(sp, 1, &j, err) != VKT_OK)
            rc = cli_fail(EFF_CMD, "%s", err->msg);
        else
            step = (int)json_integer_value(json_object_get(j, "step")),
            steps = (int)json_integer_value(json_object_get(j, "steps"));
        json_decref(j);
        free(sp);
        if (rc == CLI_OK && step >= steps) {
            fprintf(stderr, "vkt %s: using the task model in %s (step %d; delete it to retrain)\n",
                    EFF_CMD, model, step);
            free(data), free(train);
            *ckpt = model;
            return CLI_OK;
        }
    }
    if (rc == CLI_OK && !exists(data, "train.jsonl")) {
        if (mkdir(data, 0777) != 0 && errno != EEXIST)
            rc = cli_fail(EFF_CMD, "cannot create '%s': %s", data, strerror(errno));
        vkt_eff_example *ex = rc == CLI_OK ? malloc((size_t)EFF_TRAIN_EXAMPLES * sizeof *ex) : NULL;
        if (rc == CLI_OK && !ex) rc = cli_fail(EFF_CMD, "out of memory for the task data");
        if (rc == CLI_OK &&
            (vkt_eff_train_examples(0, 0.1, EFF_TRAIN_EXAMPLES, ex, err) != VKT_OK ||
             vkt_eff_write_train_jsonl(train, ex, EFF_TRAIN_EXAMPLES, err) != VKT_OK))
            rc = cli_fail(EFF_CMD, "%s", err->msg);
        free(ex);
        if (rc == CLI_OK)
            fprintf(stderr, "vkt %s: wrote %d training examples to %s\n", EFF_CMD,
                    EFF_TRAIN_EXAMPLES, train);
    }
    if (rc == CLI_OK) {
        // The same recipe as: vkt train --data DIR/data/train.jsonl --format jsonl --layers 4
        // --width 64
        //   --heads 4 --batch 32 --seq 120 --steps 3000 --lr 3e-3 --warmup 100 --eval-every 250
        //   --val-fraction 0.01 --seed 1 --out DIR/model
        vkt_train_opts t;
        vkt_train_defaults(&t);
        t.data = train, t.out = model, t.format = VKT_DATA_JSONL;
        if (vkt_model_preset("gpt2-tiny", &t.cfg, err) != VKT_OK)
            rc = cli_fail(EFF_CMD, "%s", err->msg);
        vkt_model_config_reshape(&t.cfg, 4, 64, 4, 0);
        t.steps = EFF_TRAIN_STEPS, t.batch = 32, t.seq = 120, t.lr = 3e-3, t.warmup = 100,
        t.eval_every = 250;
        t.val_fraction = 0.01, t.seed = 1, t.resume = step > 0, t.precision = o->precision;
        t.progress = train_progress;
        t.stop = cli_catch_sigint();
        fprintf(stderr,
                "vkt %s: %s the task model in %s (4 layers x 64, %d steps of 32 examples; Ctrl-C "
                "saves)\n",
                EFF_CMD, t.resume ? "resuming" : "training", model, EFF_TRAIN_STEPS);
        vkt_train_result r;
        if (rc == CLI_OK && vkt_train_run(ctx, &t, &r) != VKT_OK)
            rc = cli_fail(EFF_CMD, "%s", err->msg);
        cli_release_sigint();
    }
    free(data), free(train);
    if (rc == CLI_OK)
        *ckpt = model;
    else
        free(model);
    return rc;
}
