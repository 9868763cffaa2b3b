#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_device.h"
#include "cli_model_agent.h"
#include "generate.h"
#include "rl_selfplay.h"

// The library's model agent over a generation plan, plus what it runs on.
typedef struct owned {
    vkt_ctx *ctx;
    vkt_model *m;
    vkt_gen *gen;
    vkt_agent inner;
} owned;

static vkt_status o_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action, vkt_error *err) {
    owned *o = self;
    return o->inner.act(o->inner.self, g, player, rng, action, err);
}

static vkt_status o_probs(void *self, const vkt_game *g, int player, const int *acts, int n, double *p,
                          vkt_error *err) {
    owned *o = self;
    return o->inner.probs(o->inner.self, g, player, acts, n, p, err);
}

static void o_destroy(void *self) {
    owned *o = self;
    vkt_agent_destroy(&o->inner);
    vkt_gen_destroy(o->gen);
    vkt_model_destroy(o->m);
    vkt_ctx_destroy(o->ctx);
    free(o);
}

int cli_model_agent(const char *cmd, const char *dir, vkt_agent *out) {
    owned *o = calloc(1, sizeof *o);
    if (!o) return cli_fail(cmd, "out of memory");
    vkt_error err = {0};
    int rc = cli_open_device(cmd, -1, &o->ctx);
    if (rc != CLI_OK) {
        free(o);
        return rc;
    }
    if (vkt_checkpoint_load_model(o->ctx, dir, &o->m, &err) != VKT_OK) rc = cli_fail(cmd, "ckpt:%s: %s", dir, err.msg);
    else if (vkt_gen_create(o->m, 1, 0, 0, &o->gen) != VKT_OK)
        rc = cli_fail(cmd, "ckpt:%s: %s", dir, vkt_ctx_message(o->ctx));
    else if (vkt_rl_model_agent(o->gen, &o->inner, &err) != VKT_OK) rc = cli_fail(cmd, "ckpt:%s: %s", dir, err.msg);
    if (rc != CLI_OK) {
        if (o->gen) vkt_gen_destroy(o->gen);
        vkt_model_destroy(o->m);
        vkt_ctx_destroy(o->ctx);
        free(o);
        return rc;
    }
    *out = (vkt_agent){o, "model", o_act, o_probs, o_destroy};
    return CLI_OK;
}
