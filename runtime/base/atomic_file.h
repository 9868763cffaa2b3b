// atomic_file.h: write a file so that readers see either the old file or the complete
// new one, never a prefix. Bytes go to a temporary file in the same directory (so the
// rename stays on one file system), which is fsync'ed and renamed over the target only
// after every write succeeded; any failure removes the temporary and leaves the old
// file untouched. Used by every file vkt writes (safetensors, GGUF, JSON).
//
// Every write, fsync and rename vkt makes for its files goes through this layer, so a
// test can make the Nth of them fail: VKT_FAULT_INJECT=write:N (or fsync:N, rename:N)
// fails the Nth call of that kind, counted from the moment the variable took its current
// value (changing or unsetting it restarts the count). Test-only; unset, it costs a getenv.
#ifndef VKT_ATOMIC_FILE_H
#define VKT_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

typedef struct vkt_atomic_file {
    FILE *fp;       // the temporary file while open, NULL after commit/abort
    char *path;     // final name
    char *tmp_path; // "<path>.tmp.XXXXXX"
} vkt_atomic_file;

// Creates the temporary file beside path.
vkt_status vkt_atomic_file_open(vkt_atomic_file *af, const char *path, vkt_error *err);
// Appends n bytes; on failure the caller must still call vkt_atomic_file_abort.
vkt_status vkt_atomic_file_write(vkt_atomic_file *af, const void *p, size_t n, vkt_error *err);
// Appends n zero bytes (padding).
vkt_status vkt_atomic_file_pad(vkt_atomic_file *af, size_t n, vkt_error *err);
// Flushes, fsyncs, closes and renames over path (then fsyncs the directory). On failure
// the temporary is removed and the old file is left as it was. Frees af either way.
// A failed directory fsync is reported although the new file is in place.
vkt_status vkt_atomic_file_commit(vkt_atomic_file *af, vkt_error *err);
// Closes and removes the temporary; the old file is left as it was. Safe to call twice.
void vkt_atomic_file_abort(vkt_atomic_file *af);

// rename(2) of a file or directory, counted and failable like the renames above.
vkt_status vkt_atomic_rename(const char *from, const char *to, vkt_error *err);
// Copies the file from to `to` through an atomic file (to is whole or untouched).
vkt_status vkt_atomic_copy_file(const char *from, const char *to, vkt_error *err);
// fsync(2) of the directory dir itself (so renames in it survive a crash). File systems
// that cannot sync a directory (EINVAL) count as success.
vkt_status vkt_atomic_sync_dir(const char *dir, vkt_error *err);
// mkdir -p: dir and every missing parent (mode 0777 less the umask). Fails naming the part
// that could not be made, or dir when it exists and is not a directory; err may be NULL.
vkt_status vkt_make_dirs(const char *dir, vkt_error *err);

#endif
