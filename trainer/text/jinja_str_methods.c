// jinja_str_methods.c: the str methods chat templates call (content.split('</think>'),
// .strip('\n'), .startswith(...), '{}'.format(...)), with CPython's semantics: whitespace
// splitting, maxsplit, replace with an empty pattern, code-point positions from find().
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

static bool list_of(jinja_ctx *c, const size_t *off, const size_t *len, size_t n, const char *base,
                    jv *out) {
    if (!jv_list_new(c, n, out)) return false;
    for (size_t i = 0; i < n; i++) out->u.l->items[i] = jv_strn(base + off[i], len[i]);
    return true;
}

// Pieces as (offset, length) pairs, grown in the arena.
typedef struct pieces {
    size_t *off, *len;
    size_t n, cap;
} pieces;

static bool piece(jinja_ctx *c, pieces *p, size_t off, size_t len) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        size_t *o = jinja_ctx_alloc(c, cap * sizeof *o), *l = jinja_ctx_alloc(c, cap * sizeof *l);
        if (!o || !l) return false;
        if (p->n) {
            memcpy(o, p->off, p->n * sizeof *o);
            memcpy(l, p->len, p->n * sizeof *l);
        }
        p->off = o;
        p->len = l;
        p->cap = cap;
    }
    p->off[p->n] = off;
    p->len[p->n++] = len;
    return true;
}

static bool split_space(jinja_ctx *c, jv s, int64_t maxsplit, bool right, jv *out) {
    pieces tok = {0};
    const char *p = s.u.s.p;
    size_t n = s.u.s.n, start = 0;
    bool in_tok = false;
    for (size_t i = 0; i < n;) {
        size_t len;
        bool space = jinja_py_isspace(jinja_utf8_next(p + i, n - i, &len));
        if (!space && !in_tok) start = i, in_tok = true;
        if (space && in_tok) {
            if (!piece(c, &tok, start, i - start)) return false;
            in_tok = false;
        }
        i += len;
    }
    if (in_tok && !piece(c, &tok, start, n - start)) return false;
    if (maxsplit < 0 || (uint64_t)maxsplit + 1 >= tok.n)
        return list_of(c, tok.off, tok.len, tok.n, p, out);
    size_t k = (size_t)maxsplit;
    if (!right) { // k tokens, then the rest from the next token on
        tok.len[k] = n - tok.off[k];
        return list_of(c, tok.off, tok.len, k + 1, p, out);
    }
    size_t first = tok.n - k - 1; // the rest up to that token's end, then the last k tokens
    tok.len[first] = tok.off[first] + tok.len[first];
    tok.off[first] = 0;
    return list_of(c, tok.off + first, tok.len + first, k + 1, p, out);
}

static const char *find_last(const char *s, size_t n, const char *pat, size_t m) {
    if (m > n) return NULL;
    for (size_t i = n - m + 1; i-- > 0;)
        if (memcmp(s + i, pat, m) == 0) return s + i;
    return NULL;
}

bool jinja_str_split(jinja_ctx *c, jv s, const jv *sep, int64_t maxsplit, bool right, jv *out) {
    if (!jinja_step(c, (long long)(s.u.s.n >> 4) + 1)) return false; // byte scans are cheap steps
    if (!sep) return split_space(c, s, maxsplit, right, out);
    size_t m = sep->u.s.n, n = s.u.s.n;
    if (m == 0) return jinja_fail(c, VKT_ERR_FORMAT, "empty separator");
    const char *p = s.u.s.p;
    pieces pc = {0};
    int64_t splits = 0;
    if (!right) {
        size_t pos = 0;
        const char *f;
        while ((maxsplit < 0 || splits < maxsplit) &&
               (f = memmem(p + pos, n - pos, sep->u.s.p, m))) {
            if (!piece(c, &pc, pos, (size_t)(f - p) - pos)) return false;
            pos = (size_t)(f - p) + m;
            splits++;
        }
        return piece(c, &pc, pos, n - pos) && list_of(c, pc.off, pc.len, pc.n, p, out);
    }
    if (!jinja_step(c, (long long)(n / 8) * (long long)(m / 8 + 1))) return false;
    size_t end = n;
    const char *f;
    while ((maxsplit < 0 || splits < maxsplit) && (f = find_last(p, end, sep->u.s.p, m))) {
        size_t at = (size_t)(f - p);
        if (!piece(c, &pc, at + m, end - at - m)) return false;
        end = at;
        splits++;
    }
    if (!piece(c, &pc, 0, end)) return false;
    for (size_t i = 0; i < pc.n / 2; i++) { // collected right to left
        size_t j = pc.n - 1 - i, o = pc.off[i], l = pc.len[i];
        pc.off[i] = pc.off[j], pc.len[i] = pc.len[j];
        pc.off[j] = o, pc.len[j] = l;
    }
    return list_of(c, pc.off, pc.len, pc.n, p, out);
}

bool jinja_str_replace(jinja_ctx *c, jv s, jv old, jv new_, int64_t count, jv *out) {
    const char *p = s.u.s.p;
    size_t n = s.u.s.n, m = old.u.s.n;
    if (!jinja_step(c, (long long)(n >> 4) + 1)) return false;
    vkt_bytebuf b = {0};
    int64_t done = 0;
    if (m == 0) { // "ab".replace("", "-") == "-a-b-"
        for (size_t i = 0;;) {
            if (count < 0 || done < count) {
                vkt_bytebuf_put(&b, new_.u.s.p, new_.u.s.n);
                done++;
            }
            if (i >= n) break;
            size_t len;
            jinja_utf8_next(p + i, n - i, &len);
            vkt_bytebuf_put(&b, p + i, len);
            i += len;
            if (b.n > JINJA_MAX_OUTPUT) break;
        }
    } else {
        size_t pos = 0;
        const char *f;
        while ((count < 0 || done < count) && (f = memmem(p + pos, n - pos, old.u.s.p, m))) {
            vkt_bytebuf_put(&b, p + pos, (size_t)(f - p) - pos);
            vkt_bytebuf_put(&b, new_.u.s.p, new_.u.s.n);
            pos = (size_t)(f - p) + m;
            done++;
            if (b.n > JINJA_MAX_OUTPUT) break;
        }
        vkt_bytebuf_put(&b, p + pos, n - pos);
    }
    if (b.n > JINJA_MAX_OUTPUT) {
        free(b.p);
        return jinja_fail(c, VKT_ERR_ARG, "replace() result longer than %zu MiB",
                          JINJA_MAX_OUTPUT >> 20);
    }
    return jv_from_buf(c, &b, out);
}

static bool arg_str_or_none(jinja_ctx *c, const jinja_args *a, const char *name, int at,
                            const char *what, jv *out, bool *given) {
    *given = jinja_arg(a, name, at, out) && out->kind != JV_NONE;
    if (*given && out->kind != JV_STR)
        return jinja_fail(c, VKT_ERR_FORMAT, "%s arg must be None or str, not %s", what,
                          jv_type_name(*out));
    return true;
}

static bool arg_int(jinja_ctx *c, const jinja_args *a, const char *name, int at, int64_t dflt,
                    int64_t *out) {
    jv v;
    *out = dflt;
    if (!jinja_arg(a, name, at, &v)) return true;
    if (v.kind != JV_INT && v.kind != JV_BOOL)
        return jinja_fail(c, VKT_ERR_FORMAT, "'%s' object cannot be interpreted as an integer",
                          jv_type_name(v));
    *out = v.kind == JV_INT ? v.u.i : v.u.b;
    return true;
}

static bool s_affix(jinja_ctx *c, jv self, const jinja_args *a, bool end, jv *out) {
    const char *what = end ? "endswith" : "startswith";
    if (!jinja_args_check(c, a, 1, NULL, what)) return false;
    if (a->npos == 0) return jinja_fail(c, VKT_ERR_FORMAT, "%s() takes at least 1 argument", what);
    jv x = a->pos[0];
    const jv *cands = &x;
    size_t nc = 1;
    if (x.kind == JV_LIST && (x.flags & JV_F_TUPLE)) cands = x.u.l->items, nc = x.u.l->n;
    bool r = false;
    for (size_t i = 0; i < nc; i++) {
        if (cands[i].kind != JV_STR)
            return jinja_fail(c, VKT_ERR_FORMAT,
                              "%s first arg must be str or a tuple of str, not %s", what,
                              jv_type_name(cands[i]));
        size_t m = cands[i].u.s.n, n = self.u.s.n;
        if (m <= n && memcmp(self.u.s.p + (end ? n - m : 0), cands[i].u.s.p, m) == 0) r = true;
    }
    *out = jv_bool(r);
    return true;
}

// '{} and {0} and {name}'.format(...): fields without format specs.
static bool s_format(jinja_ctx *c, jv self, const jinja_args *a, jv *out) {
    const char *p = self.u.s.p;
    size_t n = self.u.s.n, auto_idx = 0;
    int numbering = 0; // 1 automatic, 2 manual
    vkt_bytebuf b = {0};
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char ch = p[i];
        if ((ch == '{' || ch == '}') && i + 1 < n && p[i + 1] == ch) {
            vkt_bytebuf_put(&b, &ch, 1);
            i++;
            continue;
        }
        if (ch == '}') {
            ok = jinja_fail(c, VKT_ERR_FORMAT, "Single '}' encountered in format string");
            break;
        }
        if (ch != '{') {
            vkt_bytebuf_put(&b, &ch, 1);
            continue;
        }
        size_t j = i + 1;
        while (j < n && p[j] != '}' && p[j] != '!' && p[j] != ':' && p[j] != '{') j++;
        size_t fs = i + 1, fl = j - fs;
        char conv = 0;
        if (j + 1 < n && p[j] == '!') conv = p[j + 1], j += 2;
        if (j >= n || p[j] != '}') {
            ok = jinja_fail(c, VKT_ERR_UNSUPPORTED,
                            "format(): only {}, {0}, {name} and !r/!s fields are supported");
            break;
        }
        jv v;
        bool found;
        if (fl == 0 || (p[fs] >= '0' && p[fs] <= '9')) {
            size_t idx = fl == 0 ? auto_idx++ : (size_t)strtoul(p + fs, NULL, 10);
            int mode = fl == 0 ? 1 : 2;
            if (numbering && numbering != mode) {
                ok = jinja_fail(c, VKT_ERR_FORMAT,
                                "cannot switch between automatic and manual field numbering");
                break;
            }
            numbering = mode;
            found = idx < a->npos;
            if (found) v = a->pos[idx];
        } else {
            found = false;
            for (size_t k = 0; k < a->nkw && !found; k++)
                if (a->kwname_lens[k] == fl && memcmp(a->kwnames[k], p + fs, fl) == 0)
                    v = a->kw[k], found = true;
        }
        if (!found) {
            ok = jinja_fail(c, VKT_ERR_FORMAT, "format(): no argument for field '%.*s'", (int)fl,
                            p + fs);
            break;
        }
        if (conv == 'r')
            ok = jv_write_repr(c, &b, v, 0);
        else if (conv == 's' || conv == 0)
            ok = jv_write_str(c, &b, v);
        else
            ok = jinja_fail(c, VKT_ERR_UNSUPPORTED, "format(): conversion !%c is not supported",
                            conv);
        i = j;
    }
    if (!ok) {
        free(b.p);
        return false;
    }
    return jv_from_buf(c, &b, out);
}

static bool s_join(jinja_ctx *c, jv self, const jinja_args *a, jv *out) {
    jv_list *items;
    if (!jinja_args_check(c, a, 1, NULL, "join")) return false;
    if (a->npos != 1) return jinja_fail(c, VKT_ERR_FORMAT, "join() takes exactly one argument");
    if (!jinja_iter(c, a->pos[0], &items)) return false;
    vkt_bytebuf b = {0};
    for (size_t i = 0; i < items->n; i++) {
        if (items->items[i].kind != JV_STR) {
            free(b.p);
            return jinja_fail(c, VKT_ERR_FORMAT,
                              "sequence item %zu: expected str instance, %s found", i,
                              jv_type_name(items->items[i]));
        }
        if (i) vkt_bytebuf_put(&b, self.u.s.p, self.u.s.n);
        vkt_bytebuf_put(&b, items->items[i].u.s.p, items->items[i].u.s.n);
        if (b.n > JINJA_MAX_OUTPUT) {
            free(b.p);
            return jinja_fail(c, VKT_ERR_ARG, "join() result longer than %zu MiB",
                              JINJA_MAX_OUTPUT >> 20);
        }
    }
    return jv_from_buf(c, &b, out);
}

static bool s_find_count(jinja_ctx *c, jinja_func_id id, jv self, const jinja_args *a, jv *out) {
    const char *what = id == JF_S_FIND ? "find" : "count";
    if (!jinja_args_check(c, a, 1, NULL, what)) return false;
    if (a->npos != 1 || a->pos[0].kind != JV_STR)
        return jinja_fail(c, VKT_ERR_FORMAT, "%s() takes one str argument", what);
    jv sub = a->pos[0];
    const char *p = self.u.s.p;
    size_t n = self.u.s.n, m = sub.u.s.n;
    if (!jinja_step(c, (long long)(n >> 4) + 1)) return false;
    if (id == JF_S_FIND) {
        const char *f = m ? memmem(p, n, sub.u.s.p, m) : p;
        *out = jv_int(f ? (int64_t)jinja_cp_count(p, (size_t)(f - p)) : -1);
        return true;
    }
    if (m == 0) {
        *out = jv_int((int64_t)jinja_cp_count(p, n) + 1);
        return true;
    }
    int64_t k = 0;
    for (const char *f = p; (f = memmem(f, n - (size_t)(f - p), sub.u.s.p, m)); f += m) k++;
    *out = jv_int(k);
    return true;
}

bool jinja_str_method(jinja_ctx *c, jinja_func_id id, jv self, const jinja_args *a, jv *out) {
    static const char *const split_kw[] = {"sep", "maxsplit", NULL};
    jv x, y;
    bool given;
    int64_t k;
    vkt_bytebuf b = {0};
    switch (id) {
    case JF_S_STARTSWITH:
    case JF_S_ENDSWITH: return s_affix(c, self, a, id == JF_S_ENDSWITH, out);
    case JF_S_SPLIT:
    case JF_S_RSPLIT:
        if (!jinja_args_check(c, a, 2, split_kw, "split") ||
            !arg_str_or_none(c, a, "sep", 0, "split", &x, &given) ||
            !arg_int(c, a, "maxsplit", 1, -1, &k))
            return false;
        return jinja_str_split(c, self, given ? &x : NULL, k, id == JF_S_RSPLIT, out);
    case JF_S_STRIP:
    case JF_S_LSTRIP:
    case JF_S_RSTRIP: {
        if (!jinja_args_check(c, a, 1, NULL, "strip") ||
            !arg_str_or_none(c, a, NULL, 0, "strip", &x, &given))
            return false;
        size_t st, len, m = given ? x.u.s.n : 1;
        if (!jinja_step(c, (long long)(self.u.s.n / 16 + 1) * (long long)(m / 16 + 1)))
            return false;
        jinja_strip(self.u.s.p, self.u.s.n, given ? x.u.s.p : NULL, given ? x.u.s.n : 0,
                    id == JF_S_STRIP    ? 'b'
                    : id == JF_S_LSTRIP ? 'l'
                                        : 'r',
                    &st, &len);
        *out = jv_strn(self.u.s.p + st, len);
        return true;
    }
    case JF_S_REPLACE:
        if (!jinja_args_check(c, a, 3, (const char *const[]){"count", NULL}, "replace"))
            return false;
        if (a->npos < 2 || a->pos[0].kind != JV_STR || a->pos[1].kind != JV_STR)
            return jinja_fail(c, VKT_ERR_FORMAT, "replace() takes two str arguments");
        x = a->pos[0];
        y = a->pos[1];
        return arg_int(c, a, "count", 2, -1, &k) && jinja_str_replace(c, self, x, y, k, out);
    case JF_S_UPPER:
    case JF_S_LOWER:
    case JF_S_TITLE:
    case JF_S_CAPITALIZE:
        if (!jinja_args_check(c, a, 0, NULL, "case method")) return false;
        jinja_case_map(&b, self.u.s.p, self.u.s.n,
                       id == JF_S_UPPER   ? 'u'
                       : id == JF_S_LOWER ? 'l'
                       : id == JF_S_TITLE ? 't'
                                          : 'c');
        return jv_from_buf(c, &b, out);
    case JF_S_FORMAT: return s_format(c, self, a, out);
    case JF_S_JOIN: return s_join(c, self, a, out);
    case JF_S_FIND:
    case JF_S_COUNT: return s_find_count(c, id, self, a, out);
    default: return jinja_fail(c, VKT_ERR_FORMAT, "unknown method");
    }
}
