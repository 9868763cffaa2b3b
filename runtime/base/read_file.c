// read_file.c: see read_file.h.
#include "read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"

vkt_status vkt_read_file(const char *path, char **out, size_t *len, vkt_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    vkt_bytebuf b = {0};
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) vkt_bytebuf_put(&b, chunk, got);
    int bad = ferror(f);
    fclose(f);
    if (!bad && !b.oom && !b.p) b.p = calloc(1, 1);
    if (bad || b.oom || !b.p) {
        free(b.p);
        return bad ? vkt_fail(err, VKT_ERR_IO, "%s: read error", path)
                   : vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, b.n);
    }
    *out = b.p;
    *len = b.n;
    return VKT_OK;
}
