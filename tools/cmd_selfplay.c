// cmd_selfplay.c: `vkt selfplay`: self-play RL with a transformer policy (the default,
// trainer/rl/rl_selfplay.h) on one game or a mix, the tabular control on Kuhn Poker
// (`--policy tabular`, trainer/rl/rl_tabular.h), and the warm-up data writer. A transformer
// run goes parse -> check -> open -> loop -> report (cmd_selfplay.h names the files).
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "cli_selfplay_dir.h"
#include "cmd_selfplay.h"
#include "commands.h"

// After the options: the tokenizer of a pretrained --init, the checks, then the run. sp_run
// is large (paths, the evaluation's per-game results): on the heap.
static int run_model_with(sp_run *r) {
    sp_args *a = &r->a;
    vkt_error err = {0}; // before the device opens; then its context's channel
    vkt_tok *tok = NULL; // a pretrained model's tokenizer (NULL: bytes)
    if (a->init && cli_sp_tokenizer(a->init, NULL, &tok, &err) != VKT_OK)
        return cli_fail("selfplay", "%s", err.msg);
    if (a->chat && !tok)
        return cli_usage_error("selfplay", "--chat: %s has no tokenizer.json", a->init);
    a->o.tok = tok, a->o.chat = a->chat;
    r->tok_dir = tok ? a->init : NULL;
    int rc = sp_check(r, &err);
    if (rc == CLI_OK) {
        vkt_status st = sp_open(r);
        if (st == VKT_OK) st = sp_loop(r);
        if (st != VKT_OK)
            rc = r->reported ? r->reported : cli_fail("selfplay", "%s", vkt_ctx_message(r->ctx));
        else if (a->json)
            sp_report_json(r);
        else
            sp_report_text(r);
        sp_close(r);
    }
    vkt_tok_free(tok);
    return rc;
}

static int run_model(int argc, char **argv) {
    sp_run *r = calloc(1, sizeof *r);
    if (!r) return cli_fail("selfplay", "out of memory");
    r->lock = -1;
    sp_args_defaults(&r->a);
    int rc = sp_parse(argc, argv, &r->a);
    if (rc == CLI_OK)
        rc = run_model_with(r);
    else if (rc == CLI_HELP)
        rc = CLI_OK;
    free(r);
    return rc;
}

int cmd_selfplay(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--warmup-data")) return sp_run_tabular(argc, argv);
        if (!strcmp(argv[i], "--policy") && i + 1 < argc && !strcmp(argv[i + 1], "tabular"))
            return sp_run_tabular(argc, argv);
        if (!strcmp(argv[i], "--policy=tabular")) return sp_run_tabular(argc, argv);
    }
    return run_model(argc, argv);
}
