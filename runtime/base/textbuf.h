// textbuf.h: appending formatted text to a caller's buffer with snprintf semantics:
// writes what fits (always NUL-terminated when cap > 0) and counts everything, so a
// describe() can return the length it needed and the caller can retry bigger.
#ifndef VKT_TEXTBUF_H
#define VKT_TEXTBUF_H

#include <stddef.h>

typedef struct vkt_textbuf {
    char *buf;
    size_t cap;
    size_t len; // length the full text needs (may exceed cap - 1)
} vkt_textbuf;

vkt_textbuf vkt_textbuf_make(char *buf, size_t cap);
void vkt_textbuf_printf(vkt_textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t vkt_textbuf_len(const vkt_textbuf *t);

#endif
