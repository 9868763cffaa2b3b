// cli_selfplay_dir.c: the self-play run directory (cli_selfplay_dir.h): the lock, saves as
// whole checkpoints and the checkpoint --resume reads (--out checks: cli_out_dir.h).
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "checkpoint_dir.h"
#include "cli.h"
#include "cli_selfplay_dir.h"
#include "json_file.h"
#include "lora.h"
#include "lora_resume.h"

static void note(const char *msg) {
    if (msg[0]) fprintf(stderr, "vkt selfplay: note: %s\n", msg);
}

// The top-level ref/ of a directory from an older vkt (the reference now lives in each
// checkpoint): stale once a checkpoint is published or the run replaced.
static vkt_status remove_legacy_ref(const char *out, vkt_error *err) {
    char p[4200];
    snprintf(p, sizeof p, "%s/ref", out);
    return vkt_ckpt_remove_tree(p, err);
}

vkt_status cli_sp_open_dir(const char *out, bool resume, int *lock, char *src, size_t n,
                           vkt_error *err) {
    src[0] = 0;
    VKT_TRY(vkt_run_lock(out, lock, err));
    int removed = 0;
    vkt_status s = vkt_ckpt_cleanup(out, &removed, err);
    if (s == VKT_OK && removed) {
        char msg[4400];
        snprintf(msg, sizeof msg, "removed %d leftover%s of an interrupted save from %s", removed,
                 removed == 1 ? "" : "s", out);
        note(msg);
    }
    if (s == VKT_OK && resume) {
        vkt_ckpt_found f;
        s = vkt_ckpt_find(out, &f, err);
        if (s == VKT_OK) note(f.note);
        // A save that failed after its publish left the top-level copy behind.
        if (s == VKT_OK && !f.legacy) s = vkt_ckpt_publish_top(out, f.path, err);
        if (s == VKT_OK) snprintf(src, n, "%s", f.path);
    } else if (s == VKT_OK) {
        s = vkt_ckpt_clear(out, err);
        if (s == VKT_OK) s = remove_legacy_ref(out, err);
    }
    if (s != VKT_OK) {
        vkt_run_unlock(*lock);
        *lock = -1;
    }
    return s;
}

vkt_status cli_sp_save(vkt_rl_sp *s, const char *out, const json_t *run_options, int keep_last,
                       const char *tok_dir, const char *base, const json_t *lora_base) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(s->m));
    vkt_ckpt_tx tx;
    VKT_TRY(vkt_ckpt_begin(out, &tx, err));
    tx.kind = VKT_RUNDIR_SELFPLAY;
    char p[4200];
    vkt_lora *a = vkt_model_lora(s->m);
    vkt_status st =
        a ? vkt_lora_save(a, tx.tmp, base) : vkt_checkpoint_save_model(s->m, tx.tmp, true);
    if (st == VKT_OK && a) st = vkt_lora_save_resume(a, tx.tmp, lora_base);
    if (st == VKT_OK && tok_dir) st = vkt_checkpoint_copy_tokenizer(tok_dir, tx.tmp, err);
    snprintf(p, sizeof p, "%s/rl_state.json", tx.tmp);
    if (st == VKT_OK) st = vkt_rl_sp_save_state(s, p);
    snprintf(p, sizeof p, "%s/ref", tx.tmp);
    if (st == VKT_OK) st = vkt_rl_sp_save_ref(s, p);
    snprintf(p, sizeof p, "%s/run_options.json", tx.tmp);
    if (st == VKT_OK) st = vkt_json_file_write(p, run_options, err);
    if (st != VKT_OK) {
        vkt_ckpt_abort(&tx);
        return st;
    }
    st = vkt_ckpt_commit(&tx, s->updates, keep_last, err);
    if (st == VKT_OK) st = remove_legacy_ref(out, err);
    return st;
}

vkt_status cli_sp_tokenizer(const char *dir, const vkt_model_config *cfg, vkt_tok **tok,
                            vkt_error *err) {
    *tok = NULL;
    VKT_TRY(vkt_checkpoint_tokenizer(dir, cfg, tok, err));
    if (vkt_tok_kind_of(*tok) == VKT_TOK_BYTE) {
        vkt_tok_free(*tok);
        *tok = NULL;
    }
    return VKT_OK;
}
