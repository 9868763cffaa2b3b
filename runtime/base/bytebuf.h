// bytebuf.h: a growable byte buffer for building a file header in memory before it is
// written (safetensors JSON headers, GGUF metadata). Always NUL-terminated after n, so
// text built in it is a C string. An allocation failure sets oom and drops later puts;
// callers check oom once at the end.
#ifndef VKT_BYTEBUF_H
#define VKT_BYTEBUF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct vkt_bytebuf {
    char *p;
    size_t n, cap;
    bool oom;
} vkt_bytebuf;

static inline void vkt_bytebuf_put(vkt_bytebuf *b, const void *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

#endif
