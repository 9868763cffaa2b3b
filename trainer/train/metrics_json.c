// metrics_json.c: see metrics_json.h.
#include <math.h>

#include "metrics_json.h"

bool vkt_json_number(char *buf, size_t n, const char *fmt, double x) {
    if (!isfinite(x)) {
        snprintf(buf, n, "null");
        return false;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, n, fmt, x);
#pragma GCC diagnostic pop
    return true;
}

void vkt_jsonl_begin(vkt_jsonl *l, FILE *f) {
    l->f = f, l->n = 0, l->nonfinite = false;
    fputc('{', f);
}

void vkt_jsonl_key(vkt_jsonl *l, const char *key) {
    fprintf(l->f, "%s\"%s\": ", l->n++ ? ", " : "", key);
}

void vkt_jsonl_num(vkt_jsonl *l, const char *key, const char *fmt, double x) {
    char b[64];
    if (!vkt_json_number(b, sizeof b, fmt, x)) l->nonfinite = true;
    vkt_jsonl_key(l, key);
    fputs(b, l->f);
}

void vkt_jsonl_int(vkt_jsonl *l, const char *key, long long x) {
    vkt_jsonl_key(l, key);
    fprintf(l->f, "%lld", x);
}

void vkt_jsonl_str(vkt_jsonl *l, const char *key, const char *value) {
    vkt_jsonl_key(l, key);
    fprintf(l->f, "\"%s\"", value);
}

void vkt_jsonl_end(vkt_jsonl *l) {
    if (l->nonfinite) vkt_jsonl_key(l, "nonfinite"), fputs("true", l->f);
    fputs("}\n", l->f);
}
