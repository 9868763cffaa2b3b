// checkpoint_tok.c: the tokenizer of a checkpoint directory (checkpoint.h): loading it
// against the model's vocabulary, and carrying a Hugging Face tokenizer's files into the
// checkpoints a run writes.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checkpoint.h"

// tokenizer.json first: it is the one that must exist.
static const char *const tok_files[] = {"tokenizer.json", "tokenizer_config.json",
                                        "special_tokens_map.json", "generation_config.json"};
#define N_TOK_FILES (sizeof tok_files / sizeof tok_files[0])

vkt_status vkt_checkpoint_tokenizer(const char *dir, const vkt_model_config *cfg, vkt_tok **out,
                                    vkt_error *err) {
    *out = NULL;
    vkt_model_config own;
    if (!cfg) {
        VKT_TRY(vkt_checkpoint_config(dir, &own, err));
        cfg = &own;
    }
    vkt_tok *t;
    VKT_TRY(vkt_tok_load_dir(dir, &t, err));
    // Byte-tokenizer models keep their old rule (ids past the model's vocabulary are never
    // produced by a prompt without special tokens): only a tokenizer.json is checked.
    if (vkt_tok_kind_of(t) == VKT_TOK_HF && cfg->vocab < vkt_tok_vocab_size(t)) {
        vkt_status s = vkt_fail(err, VKT_ERR_FORMAT,
                                "%s: the model's vocabulary (config.json vocab_size %d) is smaller "
                                "than its tokenizer's (tokenizer.json: %d ids)",
                                dir, cfg->vocab, vkt_tok_vocab_size(t));
        vkt_tok_free(t);
        return s;
    }
    *out = t;
    return VKT_OK;
}

// The same file under two names (copying it onto itself would be a no-op at best).
static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

vkt_status vkt_checkpoint_copy_tokenizer(const char *src, const char *dir, vkt_error *err) {
    for (size_t i = 0; i < N_TOK_FILES; i++) {
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/%s", src, tok_files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, tok_files[i]);
        struct stat st;
        if (stat(from, &st) != 0) {
            if (i == 0)
                return vkt_fail(err, VKT_ERR_IO, "%s: %s (the tokenizer to copy)", from,
                                strerror(errno));
            if (unlink(to) != 0 && errno != ENOENT)
                return vkt_fail(err, VKT_ERR_IO, "%s: %s", to, strerror(errno));
            continue; // absent there: absent here too, not a stale file from another run
        }
        if (same_file(from, to)) continue;
        VKT_TRY(vkt_atomic_copy_file(from, to, err));
    }
    return VKT_OK;
}

vkt_status vkt_checkpoint_remove_tokenizer(const char *dir, vkt_error *err) {
    for (size_t i = 0; i < N_TOK_FILES; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, tok_files[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    }
    return VKT_OK;
}
