// atomic_file.c: temp file + fsync + rename; see atomic_file.h.
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

// fsync the directory holding path so the rename itself survives a crash.
static void sync_dir(const char *path) {
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir) d = "/";
    else if (slash) {
        *slash = 0;
        d = dir;
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

vkt_status vkt_atomic_file_commit(vkt_atomic_file *af, vkt_error *err) {
    if (!af->fp) return vkt_fail(err, VKT_ERR_ARG, "atomic write: file is not open");
    vkt_status s = VKT_OK;
    if (fflush(af->fp) != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: write failed: %s", af->path, strerror(errno));
    else if (fsync(fileno(af->fp)) != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: fsync failed: %s", af->path, strerror(errno));
    int rc = fclose(af->fp);
    af->fp = NULL;
    if (s == VKT_OK && rc != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: close failed: %s", af->path, strerror(errno));
    if (s == VKT_OK && rename(af->tmp_path, af->path) != 0)
        s = vkt_fail(err, VKT_ERR_IO, "%s: rename from %s failed: %s", af->path, af->tmp_path,
                     strerror(errno));
    if (s != VKT_OK) unlink(af->tmp_path);
    else sync_dir(af->path);
    af_free(af);
    return s;
}
