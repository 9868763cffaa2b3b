// metrics_json.h: one JSON object a line for metrics files (metrics.jsonl). JSON has no
// NaN or infinity, and a bare `nan` makes the whole file unreadable to every JSON reader:
// a non-finite number is written as null and the line gets "nonfinite": true, so every
// line stays JSON and a diverged value is still visible.
//
//   vkt_jsonl l;
//   vkt_jsonl_begin(&l, f);
//   vkt_jsonl_int(&l, "step", 12);
//   vkt_jsonl_num(&l, "loss", "%.6f", loss);      // null when loss is not finite
//   vkt_jsonl_end(&l);                            // [, "nonfinite": true] }\n
#ifndef VKT_METRICS_JSON_H
#define VKT_METRICS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct vkt_jsonl {
    FILE *f;
    int n;          // members written
    bool nonfinite; // a number was written as null
} vkt_jsonl;

void vkt_jsonl_begin(vkt_jsonl *l, FILE *f);
// fmt: one printf conversion for a double ("%.6f", "%.5g"); key is written as given (plain
// ASCII names, no escaping).
void vkt_jsonl_num(vkt_jsonl *l, const char *key, const char *fmt, double x);
void vkt_jsonl_int(vkt_jsonl *l, const char *key, long long x);
void vkt_jsonl_str(vkt_jsonl *l, const char *key, const char *value); // value: plain ASCII
// Starts a nested member: `"key": ` then the caller writes its value to l->f.
void vkt_jsonl_key(vkt_jsonl *l, const char *key);
void vkt_jsonl_end(vkt_jsonl *l);

// x as a JSON number in buf by fmt, or "null" when x is not finite (returns false then).
bool vkt_json_number(char *buf, size_t n, const char *fmt, double x);

#endif
