// atomic_file.c: temp file + fsync + rename, and the test-only fault switch; see atomic_file.h.
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// --- fault injection (VKT_FAULT_INJECT=write:N | fsync:N | rename:N) ---------------------
enum { FAULT_WRITE, FAULT_FSYNC, FAULT_RENAME };
static const char *const fault_names[] = {"write", "fsync", "rename"};

// The one piece of process state in the library: the switch is a test hook, read from the
// environment, and counting calls across the whole process is its point.
static struct {
    char spec[64]; // the value the counts belong to ("" unset)
    int kind;      // -1: none
    long n, seen;
} fault = {"", -1, 0, 0};

// True when this call is the one the switch names; *what says which (for the message).
static bool fault_hit(int kind) {
    const char *v = getenv("VKT_FAULT_INJECT");
    if (!v) v = "";
    if (strncmp(v, fault.spec, sizeof fault.spec) != 0) { // a new value: parse, restart counts
        snprintf(fault.spec, sizeof fault.spec, "%s", v);
        fault.kind = -1, fault.n = 0, fault.seen = 0;
        for (int k = 0; k < 3; k++) {
            size_t len = strlen(fault_names[k]);
            if (!strncmp(v, fault_names[k], len) && v[len] == ':') {
                char *end;
                long n = strtol(v + len + 1, &end, 10);
                if (!*end && n > 0) fault.kind = k, fault.n = n;
            }
        }
    }
    if (fault.kind != kind) return false;
    return ++fault.seen == fault.n;
}

static vkt_status injected(vkt_error *err, int kind, const char *path) {
    errno = EIO;
    return vkt_fail(err, VKT_ERR_IO, "%s: %s failed: injected fault (VKT_FAULT_INJECT=%s)", path,
                    fault_names[kind], fault.spec);
}

// --- atomic files -----------------------------------------------------------------------
static void af_free(vkt_atomic_file *af) {
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    af->fp = NULL;
}

vkt_status vkt_atomic_file_open(vkt_atomic_file *af, const char *path, vkt_error *err) {
    memset(af, 0, sizeof *af);
    if (!path || !path[0]) return vkt_fail(err, VKT_ERR_ARG, "atomic write: empty file name");
    size_t n = strlen(path);
    af->path = strdup(path);
    af->tmp_path = malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        af_free(af);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(af->tmp_path, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        vkt_status s = vkt_fail(err, VKT_ERR_IO, "%s: cannot create temporary file %s: %s", path,
                                af->tmp_path, strerror(errno));
        af_free(af);
        return s;
    }
    // mkstemp makes the file 0600; give it the usual mode (umask applied) like fopen would.
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        vkt_status s = vkt_fail(err, VKT_ERR_IO, "%s: fdopen: %s", path, strerror(errno));
        close(fd);
        unlink(af->tmp_path);
        af_free(af);
        return s;
    }
    return VKT_OK;
}

vkt_status vkt_atomic_file_write(vkt_atomic_file *af, const void *p, size_t n, vkt_error *err) {
    if (!af->fp) return vkt_fail(err, VKT_ERR_ARG, "atomic write: file is not open");
    if (fault_hit(FAULT_WRITE)) return injected(err, FAULT_WRITE, af->path);
    if (n && fwrite(p, 1, n, af->fp) != n)
        return vkt_fail(err, VKT_ERR_IO, "%s: write failed: %s", af->path, strerror(errno));
    return VKT_OK;
}

vkt_status vkt_atomic_file_pad(vkt_atomic_file *af, size_t n, vkt_error *err) {
    static const unsigned char zeros[64];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        VKT_TRY(vkt_atomic_file_write(af, zeros, k, err));
        n -= k;
    }
    return VKT_OK;
}

void vkt_atomic_file_abort(vkt_atomic_file *af) {
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path) unlink(af->tmp_path);
    af_free(af);
}

vkt_status vkt_atomic_rename(const char *from, const char *to, vkt_error *err) {
    if (fault_hit(FAULT_RENAME)) return injected(err, FAULT_RENAME, to);
    if (rename(from, to) != 0)
        return vkt_fail(err, VKT_ERR_IO, "%s: rename from %s failed: %s", to, from,
                        strerror(errno));
    return VKT_OK;
}

vkt_status vkt_atomic_sync_dir(const char *dir, vkt_error *err) {
    if (fault_hit(FAULT_FSYNC)) return injected(err, FAULT_FSYNC, dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = fsync(fd), e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL)
        return vkt_fail(err, VKT_ERR_IO, "%s: directory fsync failed: %s", dir, strerror(e));
    return VKT_OK;
}

// The directory holding path ("." or "/" for bare names and root files).
static vkt_status sync_parent(const char *path, vkt_error *err) {
    char *dir = strdup(path);
    if (!dir) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", path);
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = 0;
        d = dir;
    }
    vkt_status s = vkt_atomic_sync_dir(d, err);
    free(dir);
    return s;
}

vkt_status vkt_atomic_file_commit(vkt_atomic_file *af, vkt_error *err) {
    if (!af->fp) return vkt_fail(err, VKT_ERR_ARG, "atomic write: file is not open");
    vkt_status s = VKT_OK;
    if (fflush(af->fp) != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: write failed: %s", af->path, strerror(errno));
    else if (fault_hit(FAULT_FSYNC))
        s = injected(err, FAULT_FSYNC, af->path);
    else if (fsync(fileno(af->fp)) != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: fsync failed: %s", af->path, strerror(errno));
    int rc = fclose(af->fp);
    af->fp = NULL;
    if (s == VKT_OK && rc != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: close failed: %s", af->path, strerror(errno));
    if (s == VKT_OK) s = vkt_atomic_rename(af->tmp_path, af->path, err);
    if (s != VKT_OK)
        unlink(af->tmp_path);
    else
        s = sync_parent(af->path, err);
    af_free(af);
    return s;
}

vkt_status vkt_atomic_copy_file(const char *from, const char *to, vkt_error *err) {
    FILE *f = fopen(from, "rb");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", from, strerror(errno));
    vkt_atomic_file af;
    vkt_status s = vkt_atomic_file_open(&af, to, err);
    char buf[1 << 16];
    size_t got;
    while (s == VKT_OK && (got = fread(buf, 1, sizeof buf, f)) > 0)
        s = vkt_atomic_file_write(&af, buf, got, err);
    if (s == VKT_OK && ferror(f)) s = vkt_fail(err, VKT_ERR_IO, "%s: read error", from);
    fclose(f);
    if (s == VKT_OK) return vkt_atomic_file_commit(&af, err);
    vkt_atomic_file_abort(&af); // safe after a failed open too
    return s;
}

vkt_status vkt_make_dirs(const char *dir, vkt_error *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return vkt_fail(err, VKT_ERR_ARG, "%.64s...: directory name too long", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return vkt_fail(err, VKT_ERR_IO, "%s: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return vkt_fail(err, VKT_ERR_IO, "%s: %s", tmp, strerror(errno));
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return vkt_fail(err, VKT_ERR_IO, "%s: exists and is not a directory", tmp);
    return VKT_OK;
}
