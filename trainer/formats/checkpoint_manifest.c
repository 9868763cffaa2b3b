// checkpoint_manifest.c: DIR/ckpt-<step>/checkpoint.json, the list of a checkpoint's files
// with their sizes and FNV-1a 64 hashes (checkpoint_dir.h). The hash is not cryptographic:
// it catches a torn, truncated or swapped-in file, not a deliberate forgery.
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_dir.h"
#include "json_file.h"

vkt_status vkt_ckpt_hash_file(const char *path, uint64_t *size, uint64_t *hash, vkt_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    static const size_t chunk = 1 << 16;
    unsigned char *buf = malloc(chunk);
    if (!buf) {
        fclose(f);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory for a 64 KiB read buffer", path);
    }
    uint64_t h = 0xcbf29ce484222325ull, n = 0;
    size_t got;
    while ((got = fread(buf, 1, chunk, f)) > 0) {
        for (size_t i = 0; i < got; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
        n += got;
    }
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad) return vkt_fail(err, VKT_ERR_IO, "%s: read error", path);
    *size = n, *hash = h;
    return VKT_OK;
}

// Appends name to the list (*v, *n, *cap).
static vkt_status push_name(char ***v, int *n, int *cap, const char *name, const char *dir,
                            vkt_error *err) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        char **nv = realloc(*v, (size_t)c * sizeof **v);
        if (!nv) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory listing files", dir);
        *v = nv, *cap = c;
    }
    if (!((*v)[*n] = strdup(name))) return vkt_fail(err, VKT_ERR_NOMEM, "%s", dir);
    ++*n;
    return VKT_OK;
}

// Files of root/prefix other than the manifest and temporaries; a subdirectory (self-play's
// ref/) adds its files as "sub/name", one level deep.
static vkt_status collect(const char *root, const char *prefix, char ***v, int *n, int *cap,
                          vkt_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, prefix[0] ? "/" : "", prefix);
    if (prefix[0]) dir[strlen(dir) - 1] = 0; // prefix ends with '/'
    DIR *d = opendir(dir);
    if (!d) return vkt_fail(err, VKT_ERR_IO, "%s: %s", dir, strerror(errno));
    vkt_status s = VKT_OK;
    for (struct dirent *e; s == VKT_OK && (e = readdir(d));) {
        if (e->d_name[0] == '.' || (!prefix[0] && !strcmp(e->d_name, VKT_CKPT_MANIFEST))) continue;
        char rel[4096], full[8200];
        snprintf(rel, sizeof rel, "%s%s", prefix, e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, rel);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (prefix[0]) {
                s = vkt_fail(err, VKT_ERR_FORMAT, "%s: a checkpoint holds one level of directories",
                             full);
                break;
            }
            strcat(rel, "/");
            s = collect(root, rel, v, n, cap, err);
        } else {
            s = push_name(v, n, cap, rel, dir, err);
        }
    }
    closedir(d);
    return s;
}

// Files of dir other than the manifest and temporaries (subdirectories' as "sub/name"),
// sorted by name.
static vkt_status list_files(const char *dir, char ***names, int *count, vkt_error *err) {
    *names = NULL, *count = 0;
    char **v = NULL;
    int n = 0, cap = 0;
    vkt_status s = collect(dir, "", &v, &n, &cap, err);
    for (int i = 1; i < n; i++) // insertion sort: a checkpoint has a handful of files
        for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1], v[j - 1] = t;
        }
    if (s != VKT_OK) {
        for (int i = 0; i < n; i++) free(v[i]);
        free(v);
        return s;
    }
    *names = v, *count = n;
    return VKT_OK;
}

static void free_names(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

vkt_status vkt_ckpt_manifest_write(const char *gen_dir, int64_t step, vkt_rundir_kind kind,
                                   vkt_error *err) {
    char **names;
    int n;
    VKT_TRY(list_files(gen_dir, &names, &n, err));
    json_t *j = json_object(), *files = json_object();
    json_object_set_new(j, "format", json_string("vkt checkpoint"));
    json_object_set_new(j, "version", json_integer(1));
    json_object_set_new(j, "step", json_integer((json_int_t)step));
    json_object_set_new(j, "kind", json_string(kind == VKT_RUNDIR_SELFPLAY ? "selfplay" : "train"));
    json_object_set_new(j, "hash", json_string("fnv1a64"));
    json_object_set_new(j, "files", files);
    vkt_status s = VKT_OK;
    for (int i = 0; i < n && s == VKT_OK; i++) {
        char path[4096], hex[24];
        snprintf(path, sizeof path, "%s/%s", gen_dir, names[i]);
        uint64_t size, h;
        s = vkt_ckpt_hash_file(path, &size, &h, err);
        if (s != VKT_OK) break;
        snprintf(hex, sizeof hex, "%016" PRIx64, h);
        json_t *f = json_object();
        json_object_set_new(f, "bytes", json_integer((json_int_t)size));
        json_object_set_new(f, "fnv1a64", json_string(hex));
        json_object_set_new(files, names[i], f);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", gen_dir, VKT_CKPT_MANIFEST);
    if (s == VKT_OK) s = vkt_json_file_write(path, j, err);
    json_decref(j);
    free_names(names, n);
    return s;
}

// "file" or "sub/file": no empty part, none starting with '.', at most one '/'.
static bool plain_name(const char *name) {
    const char *slash = strchr(name, '/');
    if (!name[0] || name[0] == '.') return false;
    if (!slash) return true;
    return slash[1] && slash[1] != '.' && !strchr(slash + 1, '/');
}

// One manifest entry against the file on disk.
static vkt_status check_entry(const char *gen_dir, const char *name, json_t *f, vkt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", gen_dir, name);
    json_t *jb = json_object_get(f, "bytes");
    const char *hex = json_string_value(json_object_get(f, "fnv1a64"));
    char *end = NULL;
    uint64_t want_h = hex ? strtoull(hex, &end, 16) : 0;
    if (!json_is_integer(jb) || json_integer_value(jb) < 0 || !hex || !*hex || *end)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s/%s: entry \"%s\" needs \"bytes\" (integer >= 0) "
                        "and \"fnv1a64\" (hex)",
                        gen_dir, VKT_CKPT_MANIFEST, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing (the manifest lists it)", path);
    uint64_t want_n = (uint64_t)json_integer_value(jb), size, h;
    if ((uint64_t)st.st_size != want_n)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: %lld bytes, the manifest says %" PRIu64
                        " (damaged, or a file of another save)",
                        path, (long long)st.st_size, want_n);
    VKT_TRY(vkt_ckpt_hash_file(path, &size, &h, err));
    if (h != want_h)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: content hash %016" PRIx64 ", the manifest says %s"
                        " (damaged, or a file of another save)",
                        path, h, hex);
    return VKT_OK;
}

vkt_status vkt_ckpt_manifest_verify(const char *gen_dir, int64_t *step, vkt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", gen_dir, VKT_CKPT_MANIFEST);
    json_t *j;
    VKT_TRY(vkt_json_file_read(path, 1, &j, err));
    vkt_status s = VKT_OK;
    json_t *jstep = json_object_get(j, "step"), *files = json_object_get(j, "files");
    const char *fmt = json_string_value(json_object_get(j, "format"));
    if (!fmt || strcmp(fmt, "vkt checkpoint") != 0)
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: \"format\" is not \"vkt checkpoint\"", path);
    else if (!json_is_integer(jstep) || json_integer_value(jstep) < 0)
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: \"step\" is not an integer >= 0", path);
    else if (!json_is_object(files))
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: \"files\" is not an object", path);
    const char *name;
    json_t *f;
    if (s == VKT_OK) json_object_foreach(files, name, f) {
            if (!plain_name(name)) {
                s = vkt_fail(err, VKT_ERR_FORMAT, "%s: file name \"%s\" is not a plain name", path,
                             name);
                break;
            }
            if ((s = check_entry(gen_dir, name, f, err)) != VKT_OK) break;
        }
    // A file the manifest does not list (a tokenizer.json copied in, say) would change
    // what the checkpoint means.
    char **names = NULL;
    int n = 0;
    if (s == VKT_OK) s = list_files(gen_dir, &names, &n, err);
    for (int i = 0; i < n && s == VKT_OK; i++)
        if (!json_object_get(files, names[i]))
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "%s/%s: not in the manifest (a file of another save?)", gen_dir, names[i]);
    free_names(names, n);
    if (s == VKT_OK) *step = (int64_t)json_integer_value(jstep);
    json_decref(j);
    return s;
}

vkt_rundir_kind vkt_ckpt_manifest_kind(const char *path) {
    json_t *j;
    if (vkt_json_file_read(path, 1, &j, NULL) != VKT_OK) return VKT_RUNDIR_NONE;
    const char *fmt = json_string_value(json_object_get(j, "format"));
    const char *kind = json_string_value(json_object_get(j, "kind"));
    vkt_rundir_kind k = VKT_RUNDIR_NONE;
    if (fmt && !strcmp(fmt, "vkt checkpoint")) // no "kind": a vkt train checkpoint of an older vkt
        k = kind && !strcmp(kind, "selfplay") ? VKT_RUNDIR_SELFPLAY : VKT_RUNDIR_TRAIN;
    json_decref(j);
    return k;
}
