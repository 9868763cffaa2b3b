// checkpoint_dir.c: writing, publishing, finding and pruning the checkpoints of a run
// directory; the design (one rename publishes a whole checkpoint) is in checkpoint_dir.h.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checkpoint_dir.h"

#define TMP_PREFIX ".ckpt-tmp-"
#define OLD_PREFIX ".ckpt-old-"

// Files a checkpoint may hold; the top-level copy is made of these and nothing else.
static const char *const ckpt_files[] = {"config.json",
                                         "model.safetensors",
                                         "optimizer.safetensors",
                                         "trainer_state.json",
                                         "tokenizer.json",
                                         "tokenizer_config.json",
                                         "special_tokens_map.json",
                                         "generation_config.json",
                                         "rl_state.json",
                                         "run_options.json",
                                         "adapter_config.json",
                                         "adapter_model.safetensors",
                                         "adapter_optimizer.safetensors",
                                         "lora_base.json",
                                         VKT_CKPT_MANIFEST};
#define N_CKPT_FILES (sizeof ckpt_files / sizeof ckpt_files[0])

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists_in(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

// "ckpt-<digits>" -> step; -1 for any other name.
static int64_t gen_step(const char *name) {
    if (strncmp(name, "ckpt-", 5) != 0 || !name[5]) return -1;
    int64_t v = 0;
    for (const char *p = name + 5; *p; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10) return -1;
        v = 10 * v + (*p - '0');
    }
    return v;
}

// Removes dir and what is in it; depth bounds the subdirectories followed (symbolic links
// are removed, not followed).
static vkt_status remove_dir_depth(const char *dir, int depth, vkt_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? VKT_OK : vkt_fail(err, VKT_ERR_IO, "%s: %s", dir, strerror(errno));
    vkt_status s = VKT_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        vkt_status r = VKT_OK;
        if (depth > 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            r = remove_dir_depth(p, depth - 1, err);
        else if (unlink(p) != 0 && errno != ENOENT)
            r = vkt_fail(err, VKT_ERR_IO, "%s: cannot remove: %s", p, strerror(errno));
        if (s == VKT_OK) s = r;
    }
    closedir(d);
    if (s == VKT_OK && rmdir(dir) != 0 && errno != ENOENT)
        s = vkt_fail(err, VKT_ERR_IO, "%s: cannot remove: %s", dir, strerror(errno));
    return s;
}

// Checkpoint directories hold one level of subdirectories (self-play's ref/).
static vkt_status remove_dir(const char *dir, vkt_error *err) {
    return remove_dir_depth(dir, 1, err);
}

vkt_status vkt_ckpt_remove_tree(const char *path, vkt_error *err) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? VKT_OK
                               : vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return remove_dir(path, err);
    if (unlink(path) != 0 && errno != ENOENT)
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    return VKT_OK;
}

vkt_status vkt_ckpt_begin(const char *dir, vkt_ckpt_tx *tx, vkt_error *err) {
    memset(tx, 0, sizeof *tx);
    VKT_TRY(vkt_make_dirs(dir, err));
    snprintf(tx->dir, sizeof tx->dir, "%s", dir);
    tx->kind = VKT_RUNDIR_TRAIN;
    snprintf(tx->tmp, sizeof tx->tmp, "%s/" TMP_PREFIX "XXXXXX", dir);
    if (!mkdtemp(tx->tmp)) {
        vkt_status s = vkt_fail(err, VKT_ERR_IO, "%s: cannot create a temporary directory: %s", dir,
                                strerror(errno));
        tx->tmp[0] = 0;
        return s;
    }
    chmod(tx->tmp, 0755);
    return VKT_OK;
}

void vkt_ckpt_abort(vkt_ckpt_tx *tx) {
    if (tx->tmp[0]) remove_dir(tx->tmp, NULL);
    tx->tmp[0] = 0;
}

// DIR/name becomes the file gen/name: a hard link under a temporary name renamed over it
// (a copy where the file system has no hard links).
static vkt_status publish_file(const char *dir, const char *gen, const char *name, vkt_error *err) {
    char from[4096], to[4096], tmp[4200];
    snprintf(from, sizeof from, "%s/%s", gen, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    struct stat a, b;
    if (stat(from, &a) == 0 && stat(to, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return VKT_OK; // published already (rename() of two links to one file does nothing)
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", to);
    int fd = mkstemp(tmp); // a unique name; link() needs it free
    if (fd < 0)
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot create %s: %s", to, tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    if (link(from, tmp) != 0) {
        return vkt_atomic_copy_file(from, to, err); // no hard links here
    }
    vkt_status s = vkt_atomic_rename(tmp, to, err);
    if (s != VKT_OK) unlink(tmp);
    return s;
}

// Every file of gen (the manifest last), and no checkpoint file that gen lacks (a byte-tokenizer
// model must not be read with a stale tokenizer.json).
vkt_status vkt_ckpt_publish_top(const char *dir, const char *gen, vkt_error *err) {
    for (size_t i = 0; i + 1 < N_CKPT_FILES; i++) {
        if (exists_in(gen, ckpt_files[i]))
            VKT_TRY(publish_file(dir, gen, ckpt_files[i], err));
        else {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, ckpt_files[i]);
            if (unlink(p) != 0 && errno != ENOENT)
                return vkt_fail(err, VKT_ERR_IO, "%s: cannot remove: %s", p, strerror(errno));
        }
    }
    VKT_TRY(publish_file(dir, gen, VKT_CKPT_MANIFEST, err));
    return vkt_atomic_sync_dir(dir, err);
}

// Steps of DIR's ckpt-<step> directories, newest first (*n of them; free *steps).
static vkt_status list_gens(const char *dir, int64_t **steps, int *n, vkt_error *err) {
    *steps = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? VKT_OK : vkt_fail(err, VKT_ERR_IO, "%s: %s", dir, strerror(errno));
    int cap = 0;
    vkt_status s = VKT_OK;
    for (struct dirent *e; (e = readdir(d));) {
        int64_t st = gen_step(e->d_name);
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (st < 0 || !is_dir(p)) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            int64_t *nv = realloc(*steps, (size_t)cap * sizeof *nv);
            if (!nv) {
                s = vkt_fail(err, VKT_ERR_NOMEM, "%s: listing checkpoints", dir);
                break;
            }
            *steps = nv;
        }
        (*steps)[(*n)++] = st;
    }
    closedir(d);
    for (int i = 1; i < *n; i++)
        for (int j = i; j > 0 && (*steps)[j - 1] < (*steps)[j]; j--) {
            int64_t t = (*steps)[j];
            (*steps)[j] = (*steps)[j - 1], (*steps)[j - 1] = t;
        }
    return s;
}

// Keeps `step` and the keep_last - 1 newest checkpoints before it; removes the rest.
static vkt_status prune(const char *dir, int64_t step, int keep_last, vkt_error *err) {
    int64_t *steps;
    int n;
    VKT_TRY(list_gens(dir, &steps, &n, err));
    vkt_status s = VKT_OK;
    int kept = 0;
    for (int i = 0; i < n && s == VKT_OK; i++) {
        if (steps[i] <= step && kept < keep_last) {
            kept++;
            continue;
        }
        char p[4096];
        snprintf(p, sizeof p, "%s/ckpt-%" PRId64, dir, steps[i]);
        s = remove_dir(p, err);
    }
    free(steps);
    return s;
}

vkt_status vkt_ckpt_commit(vkt_ckpt_tx *tx, int64_t step, int keep_last, vkt_error *err) {
    char gen[4200], old[4200] = "";
    snprintf(gen, sizeof gen, "%s/ckpt-%" PRId64, tx->dir, step);
    vkt_status s = vkt_ckpt_manifest_write(tx->tmp, step, tx->kind, err);
    if (s == VKT_OK) s = vkt_atomic_sync_dir(tx->tmp, err);
    // A checkpoint of this step already there (a run that went further, then resumed from an
    // earlier one): moved aside first, since rename() cannot replace a full directory.
    if (s == VKT_OK && is_dir(gen)) {
        snprintf(old, sizeof old, "%s/" OLD_PREFIX "XXXXXX", tx->dir);
        if (!mkdtemp(old))
            s = vkt_fail(err, VKT_ERR_IO, "%s: %s", old, strerror(errno));
        else
            s = vkt_atomic_rename(gen, old, err);
        if (s != VKT_OK && old[0]) rmdir(old);
    }
    if (s == VKT_OK) s = vkt_atomic_rename(tx->tmp, gen, err); // the publish
    if (s != VKT_OK) {
        vkt_ckpt_abort(tx);
        return s;
    }
    tx->tmp[0] = 0;
    s = vkt_atomic_sync_dir(tx->dir, err);
    if (s == VKT_OK) s = vkt_ckpt_publish_top(tx->dir, gen, err);
    if (s == VKT_OK) s = prune(tx->dir, step, keep_last < 1 ? 1 : keep_last, err);
    if (s == VKT_OK && old[0]) s = remove_dir(old, err);
    return s;
}

vkt_status vkt_ckpt_find(const char *dir, vkt_ckpt_found *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    int64_t *steps;
    int n;
    VKT_TRY(list_gens(dir, &steps, &n, err));
    if (n == 0) {
        if (!exists_in(dir, "trainer_state.json") && !exists_in(dir, "rl_state.json"))
            return vkt_fail(err, VKT_ERR_ARG,
                            "%s holds no checkpoint to resume (no ckpt-<step>/ "
                            "directory, no trainer_state.json or rl_state.json)",
                            dir);
        snprintf(out->path, sizeof out->path, "%s", dir);
        out->step = -1, out->legacy = true;
        snprintf(out->note, sizeof out->note,
                 "%s has no checkpoint manifest (saved by an older vkt): "
                 "resuming from its files without verifying them",
                 dir);
        return VKT_OK;
    }
    vkt_error first = {0};
    vkt_status s = VKT_OK;
    int i;
    for (i = 0; i < n; i++) {
        char gen[4200];
        snprintf(gen, sizeof gen, "%s/ckpt-%" PRId64, dir, steps[i]);
        int64_t st;
        vkt_error e = {0};
        s = vkt_ckpt_manifest_verify(gen, &st, &e);
        if (s == VKT_OK && st != steps[i])
            s = vkt_fail(&e, VKT_ERR_FORMAT,
                         "%s/%s: step %" PRId64 " does not match the directory name", gen,
                         VKT_CKPT_MANIFEST, st);
        if (s == VKT_OK) {
            snprintf(out->path, sizeof out->path, "%s", gen);
            out->step = st;
            break;
        }
        if (i == 0) first = e;
    }
    if (i == n) {
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s; no complete checkpoint to resume from%s", first.msg,
                     n > 1 ? " (every kept one failed its manifest)"
                           : " (--keep-last keeps older ones)");
    } else if (i > 0) {
        snprintf(out->note, sizeof out->note,
                 "skipping %d newer checkpoint%s that failed %s manifest "
                 "(%s); resuming from %s, the newest complete one",
                 i, i > 1 ? "s" : "", i > 1 ? "their" : "its", first.msg, out->path);
    }
    free(steps);
    return s;
}

// "<checkpoint file>.tmp.XXXXXX": a temporary of vkt_atomic_file or publish_file.
static bool is_tmp_file(const char *name) {
    for (size_t i = 0; i < N_CKPT_FILES + 1; i++) {
        const char *f = i < N_CKPT_FILES ? ckpt_files[i] : "metrics.jsonl";
        size_t k = strlen(f);
        if (!strncmp(name, f, k) && !strncmp(name + k, ".tmp.", 5) && strlen(name + k + 5) == 6)
            return true;
    }
    return false;
}

vkt_status vkt_ckpt_cleanup(const char *dir, int *removed, vkt_error *err) {
    *removed = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? VKT_OK : vkt_fail(err, VKT_ERR_IO, "%s: %s", dir, strerror(errno));
    vkt_status s = VKT_OK;
    for (struct dirent *e; s == VKT_OK && (e = readdir(d));) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        bool tmpdir = !strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) ||
                      !strncmp(e->d_name, OLD_PREFIX, strlen(OLD_PREFIX));
        if (tmpdir && is_dir(p))
            s = remove_dir(p, err);
        else if (!is_tmp_file(e->d_name))
            continue;
        else if (unlink(p) != 0 && errno != ENOENT)
            s = vkt_fail(err, VKT_ERR_IO, "%s: cannot remove: %s", p, strerror(errno));
        if (s == VKT_OK) ++*removed;
    }
    closedir(d);
    return s;
}

vkt_status vkt_ckpt_clear(const char *dir, vkt_error *err) {
    int64_t *steps;
    int n;
    VKT_TRY(list_gens(dir, &steps, &n, err));
    vkt_status s = VKT_OK;
    for (int i = 0; i < n && s == VKT_OK; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/ckpt-%" PRId64, dir, steps[i]);
        s = remove_dir(p, err);
    }
    free(steps);
    for (size_t i = 0; i < N_CKPT_FILES && s == VKT_OK; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, ckpt_files[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            s = vkt_fail(err, VKT_ERR_IO, "%s: cannot remove: %s", p, strerror(errno));
    }
    return s;
}

vkt_rundir_kind vkt_ckpt_dir_kind(const char *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, VKT_CKPT_MANIFEST);
    vkt_rundir_kind k = vkt_ckpt_manifest_kind(p);
    if (k != VKT_RUNDIR_NONE) return k;
    int64_t *steps;
    int n = 0;
    if (list_gens(dir, &steps, &n, NULL) == VKT_OK) {
        for (int i = 0; i < n && k == VKT_RUNDIR_NONE; i++) {
            snprintf(p, sizeof p, "%s/ckpt-%" PRId64 "/%s", dir, steps[i], VKT_CKPT_MANIFEST);
            k = vkt_ckpt_manifest_kind(p);
        }
        free(steps);
    }
    if (k != VKT_RUNDIR_NONE) return k;
    if (exists_in(dir, "rl_state.json")) return VKT_RUNDIR_SELFPLAY;
    if (exists_in(dir, "trainer_state.json") || n > 0) return VKT_RUNDIR_TRAIN;
    if (exists_in(dir, "config.json") || exists_in(dir, "model.safetensors"))
        return VKT_RUNDIR_MODEL;
    return VKT_RUNDIR_NONE;
}

const char *vkt_rundir_kind_name(vkt_rundir_kind k) {
    switch (k) {
    case VKT_RUNDIR_TRAIN: return "a training run (vkt train)";
    case VKT_RUNDIR_SELFPLAY: return "a self-play run (vkt selfplay)";
    case VKT_RUNDIR_MODEL: return "a model that is not a vkt run";
    case VKT_RUNDIR_NONE: break;
    }
    return "nothing vkt knows";
}

vkt_status vkt_run_lock(const char *dir, int *fd, vkt_error *err) {
    *fd = -1;
    VKT_TRY(vkt_make_dirs(dir, err));
    char p[4200];
    snprintf(p, sizeof p, "%s/.lock", dir);
    int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) return vkt_fail(err, VKT_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(f, buf, sizeof buf - 1, 0);
        close(f);
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        char who[64] = "another vkt run";
        if (pid > 0) snprintf(who, sizeof who, "another vkt run (pid %ld)", pid);
        if (e == EWOULDBLOCK)
            return vkt_fail(err, VKT_ERR_IO,
                            "%s is in use by %s, which holds %s: wait for it to end, or choose "
                            "another --out",
                            dir, who, p);
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot lock: %s", p, strerror(e));
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    // The pid only names the holder in the message above; the lock is the flock.
    if (ftruncate(f, 0) != 0 || pwrite(f, buf, (size_t)n, 0) != n) {
        int e = errno;
        close(f);
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot write: %s", p, strerror(e));
    }
    *fd = f;
    return VKT_OK;
}

void vkt_run_unlock(int fd) {
    if (fd >= 0) close(fd);
}
