// checkpoint_dir.h: a run's directory (vkt train, vkt selfplay), whose checkpoints are
// published whole.
//
//   DIR/ckpt-<step>/        one complete checkpoint: config.json, model.safetensors,
//                           optimizer.safetensors, trainer_state.json, the tokenizer's files,
//                           and checkpoint.json, its manifest (the step; every other file's
//                           size and FNV-1a 64 hash of its bytes)
//   DIR/config.json, model.safetensors, ... checkpoint.json
//                           the published copy of the newest checkpoint (hard links into it,
//                           copies where the file system has no links): what transformers and
//                           every `--ckpt DIR` read; never what --resume reads
//   DIR/metrics.jsonl       the training log
//   DIR/.lock               held (flock) by the run writing DIR (vkt_run_lock)
//
// A self-play run (vkt selfplay) uses the same layout: its checkpoint adds rl_state.json,
// run_options.json and, with a KL reference, ref/ (config.json, model.safetensors): one
// level of subdirectory, listed in the manifest as "ref/<file>". The manifest's "kind"
// tells the two kinds of run apart. The top-level copy holds rl_state.json and
// run_options.json too (not ref/).
//
// Why a reader never sees a mix: a checkpoint is written into a fresh DIR/.ckpt-tmp-XXXXXX
// (each file fsync'ed, the manifest last, then the directory fsync'ed) and published by ONE
// rename(2) to DIR/ckpt-<step>, after which DIR is fsync'ed. ckpt-<step> either does not
// exist or is complete; an interrupted save leaves only a temporary directory, removed at
// the next start. Older checkpoints are removed only after the new one is published. The
// top-level copy is refreshed file by file after that (each file replaced atomically; within
// a run only model, optimizer and state change, and they are not what --resume reads).
// A directory written by an older vkt (files at the top, no ckpt-<step>/) still resumes.
#ifndef VKT_CHECKPOINT_DIR_H
#define VKT_CHECKPOINT_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#define VKT_CKPT_MANIFEST "checkpoint.json"

// The kinds of directory --out may name.
typedef enum vkt_rundir_kind {
    VKT_RUNDIR_NONE,
    VKT_RUNDIR_TRAIN,
    VKT_RUNDIR_SELFPLAY,
    VKT_RUNDIR_MODEL,
} vkt_rundir_kind;

// FNV-1a 64 of path's bytes and its size.
vkt_status vkt_ckpt_hash_file(const char *path, uint64_t *size, uint64_t *hash, vkt_error *err);

// Writes gen_dir/checkpoint.json listing every other file of gen_dir (sizes, hashes; a
// subdirectory's files as "sub/name"), the step and the run's kind ("train" or "selfplay").
vkt_status vkt_ckpt_manifest_write(const char *gen_dir, int64_t step, vkt_rundir_kind kind,
                                   vkt_error *err);
// The kind a manifest file records (NONE when it is missing or not a manifest).
vkt_rundir_kind vkt_ckpt_manifest_kind(const char *path);
// Checks gen_dir against its manifest: every listed file present with its size and hash, no
// file beside them. *step: the manifest's step. The error names the file and what differs.
vkt_status vkt_ckpt_manifest_verify(const char *gen_dir, int64_t *step, vkt_error *err);

// One save in progress: files go into tmp, then vkt_ckpt_commit or vkt_ckpt_abort.
typedef struct vkt_ckpt_tx {
    char dir[4096];       // the run directory
    char tmp[4096];       // DIR/.ckpt-tmp-XXXXXX
    vkt_rundir_kind kind; // recorded in the manifest: TRAIN (vkt_ckpt_begin's) or SELFPLAY
} vkt_ckpt_tx;

// Creates DIR (and parents) if needed and an empty temporary directory in it.
vkt_status vkt_ckpt_begin(const char *dir, vkt_ckpt_tx *tx, vkt_error *err);
// Writes the manifest, publishes tx->tmp as DIR/ckpt-<step> with one rename, refreshes the
// top-level copy, and removes every other checkpoint except the keep_last - 1 newest older
// ones (those of later steps belong to a run this one has replaced). A failure before the
// publish leaves DIR as it was; one after it leaves the new checkpoint complete.
vkt_status vkt_ckpt_commit(vkt_ckpt_tx *tx, int64_t step, int keep_last, vkt_error *err);
// Removes the temporary directory and what is in it.
void vkt_ckpt_abort(vkt_ckpt_tx *tx);
// Makes DIR's top-level copy that of the checkpoint gen (a save that failed after its publish
// left it behind; a resumed run calls this first).
vkt_status vkt_ckpt_publish_top(const char *dir, const char *gen, vkt_error *err);

// The checkpoint to resume in DIR: the newest ckpt-<step>/ that matches its manifest; or,
// with no ckpt-<step>/ at all, DIR itself (legacy: true; it needs trainer_state.json or
// rl_state.json). note (may be "") says what the
// caller should tell the user: a damaged newer checkpoint skipped, or an unverified old one.
typedef struct vkt_ckpt_found {
    char path[4096];
    int64_t step; // the manifest's step (legacy: -1, the state file says)
    bool legacy;
    char note[2048];
} vkt_ckpt_found;
vkt_status vkt_ckpt_find(const char *dir, vkt_ckpt_found *out, vkt_error *err);

// Removes what interrupted saves left in DIR (temporary directories and files); *removed
// counts them. A missing DIR is fine.
vkt_status vkt_ckpt_cleanup(const char *dir, int *removed, vkt_error *err);
// Removes every checkpoint of DIR and its top-level copy (a new run replacing an old one).
vkt_status vkt_ckpt_clear(const char *dir, vkt_error *err);

// What DIR holds: its checkpoints' manifests say (a manifest without "kind" is vkt train's);
// else, by its files, a self-play run of an older vkt (rl_state.json), a training run
// (trainer_state.json, or ckpt-<step>/), a model that is not a run (config.json /
// model.safetensors only), or nothing vkt knows.
vkt_rundir_kind vkt_ckpt_dir_kind(const char *dir);
// "a training run (vkt train)", "a self-play run (vkt selfplay)", ...: for messages.
const char *vkt_rundir_kind_name(vkt_rundir_kind k);

// Holds DIR/.lock (created with DIR if needed) with flock(LOCK_EX | LOCK_NB) for the whole run
// and writes this process's pid into it; *fd keeps it (the lock ends with the process or
// vkt_run_unlock). Another run holding it: an error naming DIR and that run's pid. Two
// processes never write one run directory at once (nor remove each other's temporaries).
vkt_status vkt_run_lock(const char *dir, int *fd, vkt_error *err);
void vkt_run_unlock(int fd);

// Removes path: a file, or a directory with what is in it (one level of subdirectories).
vkt_status vkt_ckpt_remove_tree(const char *path, vkt_error *err);

#endif
