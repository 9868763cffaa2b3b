// json_file.c: see json_file.h.
#include "json_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

vkt_status vkt_json_file_read(const char *path, int want_object, json_t **out, vkt_error *err) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return vkt_fail(err, VKT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    json_error_t je;
    json_t *v = json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
    int read_err = ferror(fp);
    fclose(fp);
    if (read_err) {
        json_decref(v);
        return vkt_fail(err, VKT_ERR_IO, "%s: read failed", path);
    }
    if (!v) return vkt_fail(err, VKT_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    if (want_object && !json_is_object(v)) {
        json_decref(v);
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: top level is not a JSON object", path);
    }
    *out = v;
    return VKT_OK;
}

vkt_status vkt_json_file_write(const char *path, const json_t *value, vkt_error *err) {
    if (!value) return vkt_fail(err, VKT_ERR_ARG, "%s: nothing to write", path);
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!text)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: value cannot be encoded as JSON (NaN or infinity?)", path);
    vkt_atomic_file af;
    vkt_status s = vkt_atomic_file_open(&af, path, err);
    if (s == VKT_OK) {
        s = vkt_atomic_file_write(&af, text, strlen(text), err);
        if (s == VKT_OK) s = vkt_atomic_file_write(&af, "\n", 1, err);
        if (s == VKT_OK)
            s = vkt_atomic_file_commit(&af, err);
        else
            vkt_atomic_file_abort(&af);
    }
    free(text);
    return s;
}
