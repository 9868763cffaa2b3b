#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>

vkt_textbuf vkt_textbuf_make(char *buf, size_t cap) {
    if (buf && cap) buf[0] = 0;
    return (vkt_textbuf){buf, buf ? cap : 0, 0};
}

void vkt_textbuf_printf(vkt_textbuf *t, const char *fmt, ...) {
    char dummy[1];
    char *dst = t->len < t->cap ? t->buf + t->len : dummy;
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? dst : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

size_t vkt_textbuf_len(const vkt_textbuf *t) { return t->len; }
