// jinja_lex.c: template source to tokens, as jinja2's lexer does it with the settings
// transformers uses (trim_blocks, lstrip_blocks, keep_trailing_newline off). Whitespace
// control is settled here: the text tokens the parser sees are already trimmed.
//
//   text {{ expr }} text {% stmt %} text {# comment #} {% raw %}text{% endraw %}
//
// Newlines are normalized to \n first and one trailing newline of the source is dropped.
// A tag ends only where its brackets balance ({% set d = {'a': 1} %}). String literals are
// decoded the way jinja2 decodes them (Python's unicode-escape).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

typedef struct lexer {
    const char *s; // normalized source
    size_t n, pos;
    int line;
    bool line_starting; // the last match ended with a newline (lstrip_blocks needs it)
    jinja_arena *a;
    jinja_toks *out;
    const char *name;
    vkt_error *err;
    char stack[JINJA_MAX_PARSE_DEPTH]; // closing brackets expected inside a tag
    int depth;
} lexer;

static vkt_status lex_fail(lexer *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static vkt_status lex_fail(lexer *L, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vkt_fail(L->err, VKT_ERR_FORMAT, "%s line %d: %s", L->name, L->line, msg);
}

static jinja_tok *emit(lexer *L, jinja_tok_kind k, int line) {
    jinja_toks *t = L->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        jinja_tok *v = realloc(t->v, cap * sizeof *v);
        if (!v) return NULL;
        t->v = v;
        t->cap = cap;
    }
    jinja_tok *tok = &t->v[t->n++];
    memset(tok, 0, sizeof *tok);
    tok->kind = k;
    tok->line = line;
    return tok;
}

static int count_nl(const char *s, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++) k += s[i] == '\n';
    return k;
}

// Length of the run of (Python) whitespace at s[i..n).
static size_t space_run(const char *s, size_t n, size_t i) {
    size_t j = i;
    while (j < n) {
        size_t len;
        uint32_t cp = jinja_utf8_next(s + j, n - j, &len);
        if (!jinja_py_isspace(cp)) break;
        j += len;
    }
    return j - i;
}

static bool all_space(const char *s, size_t n) { return space_run(s, n, 0) == n; }

// Start of the trailing whitespace of s[0..n) (text.rstrip()).
static size_t rstrip_len(const char *s, size_t n) {
    size_t keep = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = jinja_utf8_next(s + i, n - i, &len);
        i += len;
        if (!jinja_py_isspace(cp)) keep = i;
    }
    return keep;
}

// Emits text s[0..n) that precedes a tag whose strip sign is sign ('-', '+' or 0); lstrip
// applies to block and comment tags, not to {{.
static vkt_status emit_text(lexer *L, const char *s, size_t n, char sign, bool lstrip) {
    int line = L->line;
    L->line += count_nl(s, n);
    size_t keep = n;
    if (sign == '-') {
        keep = rstrip_len(s, n);
    } else if (sign != '+' && lstrip) {
        size_t l_pos = n;
        while (l_pos > 0 && s[l_pos - 1] != '\n') l_pos--;
        if ((l_pos > 0 || L->line_starting) && l_pos < n && all_space(s + l_pos, n - l_pos))
            keep = l_pos;
    }
    if (keep == 0) return VKT_OK;
    jinja_tok *t = emit(L, JT_TEXT, line);
    if (!t) return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
    t->p = s;
    t->n = keep;
    return VKT_OK;
}

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static bool is_alpha(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}
static bool is_hex(char ch) {
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

// Digits with single underscores between them ((\d+_)*\d+); returns the length matched.
static size_t digit_run(const char *s, size_t n, size_t i) {
    size_t j = i;
    if (j >= n || !is_digit(s[j])) return 0;
    while (j < n && is_digit(s[j])) {
        j++;
        if (j + 1 < n && s[j] == '_' && is_digit(s[j + 1])) j++;
    }
    return j - i;
}

// jinja2's float_re at s[i]: digits then .digits and/or an exponent. 0 when no float.
static size_t float_len(const char *s, size_t n, size_t i) {
    if (i > 0 && s[i - 1] == '.') return 0;
    size_t j = i + digit_run(s, n, i);
    if (j == i) return 0;
    size_t frac = 0;
    if (j < n && s[j] == '.') frac = digit_run(s, n, j + 1);
    size_t k = frac ? j + 1 + frac : j;
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        size_t e = k + 1;
        if (e < n && (s[e] == '+' || s[e] == '-')) e++;
        size_t ed = digit_run(s, n, e);
        if (ed) return e + ed - i;
    }
    return frac ? k - i : 0;
}

// jinja2's integer_re at s[i]: 0b.., 0o.., 0x.., [1-9](_?\d)*, 0(_?0)*.
static size_t int_len(const char *s, size_t n, size_t i) {
    if (i >= n || !is_digit(s[i])) return 0;
    if (s[i] == '0' && i + 1 < n) {
        char b = (char)(s[i + 1] | 0x20);
        if (b == 'b' || b == 'o' || b == 'x') {
            size_t j = i + 2;
            for (;;) {
                size_t k = j + (j < n && s[j] == '_');
                bool ok = k < n && (b == 'x'   ? is_hex(s[k])
                                    : b == 'o' ? (s[k] >= '0' && s[k] <= '7')
                                               : (s[k] == '0' || s[k] == '1'));
                if (!ok) break;
                j = k + 1;
            }
            if (j > i + 2) return j - i;
        }
    }
    size_t j = i + 1;
    bool zero = s[i] == '0';
    for (;;) {
        size_t k = j + (j < n && s[j] == '_');
        if (k >= n || !is_digit(s[k]) || (zero && s[k] != '0')) break;
        j = k + 1;
    }
    return j - i;
}

static vkt_status lex_number(lexer *L, size_t len, bool is_float) {
    char buf[128];
    size_t k = 0;
    if (len >= sizeof buf) return lex_fail(L, "number literal too long");
    for (size_t i = 0; i < len; i++)
        if (L->s[L->pos + i] != '_') buf[k++] = L->s[L->pos + i];
    buf[k] = 0;
    jinja_tok *t = emit(L, is_float ? JT_FLOAT : JT_INT, L->line);
    if (!t) return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
    char *end;
    if (is_float) {
        t->f = strtod(buf, &end);
    } else {
        int base = 10;
        const char *digits = buf;
        if (k > 1 && buf[0] == '0' && buf[1] != '0') {
            char b = (char)(buf[1] | 0x20);
            base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
            digits = buf + 2;
        }
        unsigned long long v = strtoull(digits, &end, base);
        if (*end || v > (unsigned long long)INT64_MAX)
            return lex_fail(L, "integer literal %s is out of range", buf);
        t->i = (int64_t)v;
    }
    L->pos += len;
    return VKT_OK;
}

static int hexval(char ch) {
    if (is_digit(ch)) return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

// One escape after a backslash at s[i] (i is past the backslash); writes into o.
static vkt_status unescape_one(lexer *L, const char *s, size_t n, size_t *i, char *o, size_t *k) {
    char e = s[*i];
    static const char simple[] = "\\\\''\"\"a\ab\bf\fn\nr\rt\tv\v";
    for (size_t m = 0; simple[m]; m += 2)
        if (e == simple[m]) {
            o[(*k)++] = simple[m + 1];
            (*i)++;
            return VKT_OK;
        }
    if (e == '\n') { // a backslash-newline continues the line
        (*i)++;
        return VKT_OK;
    }
    uint32_t cp = 0;
    if (e >= '0' && e <= '7') {
        for (int d = 0; d < 3 && *i < n && s[*i] >= '0' && s[*i] <= '7'; d++)
            cp = cp * 8 + (uint32_t)(s[(*i)++] - '0');
    } else if (e == 'x' || e == 'u' || e == 'U') {
        int want = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        (*i)++;
        for (int d = 0; d < want; d++) {
            int h = *i < n ? hexval(s[*i]) : -1;
            if (h < 0) return lex_fail(L, "string literal: truncated \\%c escape", e);
            cp = cp * 16 + (uint32_t)h;
            (*i)++;
        }
        if (cp > 0x10ffff) return lex_fail(L, "string literal: illegal Unicode character");
        if (cp >= 0xd800 && cp <= 0xdfff)
            return lex_fail(L, "string literal: surrogate escapes are not supported");
    } else if (e == 'N') {
        return lex_fail(L, "string literal: \\N{...} escapes are not supported");
    } else if ((unsigned char)e >= 0x80) {
        // jinja2 backslash-escapes non-ASCII before decoding, so "\é" reads as \xe9.
        size_t len;
        cp = jinja_utf8_next(s + *i, n - *i, &len);
        *i += len;
        char tmp[16];
        int w = cp < 0x100     ? snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)(cp & 0xff))
                : cp < 0x10000 ? snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp)
                               : snprintf(tmp, sizeof tmp, "\\U%08x",
                                          (unsigned)(cp < 0x110000 ? cp : cp & 0xff));
        memcpy(o + *k, tmp, (size_t)w);
        *k += (size_t)w;
        return VKT_OK;
    } else {
        o[(*k)++] = '\\'; // an unknown escape stays as written
        o[(*k)++] = e;
        (*i)++;
        return VKT_OK;
    }
    *k += jinja_utf8_put(o + *k, cp);
    return VKT_OK;
}

static vkt_status lex_string(lexer *L) {
    const char *s = L->s;
    size_t n = L->n, i = L->pos + 1;
    char q = s[L->pos];
    while (i < n && s[i] != q) i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
    if (i >= n) return lex_fail(L, "unexpected end of string literal");
    size_t body = L->pos + 1, len = i - body;
    char *o = jinja_alloc(L->a, 5 * len + 1); // "\é" grows to at most 10 bytes from 3
    jinja_tok *t = emit(L, JT_STRING, L->line);
    if (!o || !t) return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
    size_t k = 0;
    for (size_t j = body; j < i;) {
        if (s[j] != '\\') {
            o[k++] = s[j++];
            continue;
        }
        j++;
        VKT_TRY(unescape_one(L, s, i, &j, o, &k));
    }
    o[k] = 0;
    t->p = o;
    t->n = k;
    L->line += count_nl(s + L->pos, i + 1 - L->pos);
    L->pos = i + 1;
    return VKT_OK;
}

static const struct {
    const char *text;
    jinja_tok_kind kind;
} ops[] = {
    {"//", JT_FLOORDIV}, {"**", JT_POW},   {"==", JT_EQ},      {"!=", JT_NE},      {">=", JT_GTEQ},
    {"<=", JT_LTEQ},     {"+", JT_ADD},    {"-", JT_SUB},      {"/", JT_DIV},      {"*", JT_MUL},
    {"%", JT_MOD},       {"~", JT_TILDE},  {"[", JT_LBRACKET}, {"]", JT_RBRACKET}, {"(", JT_LPAREN},
    {")", JT_RPAREN},    {"{", JT_LBRACE}, {"}", JT_RBRACE},   {">", JT_GT},       {"<", JT_LT},
    {"=", JT_ASSIGN},    {".", JT_DOT},    {":", JT_COLON},    {"|", JT_PIPE},     {",", JT_COMMA},
    {";", JT_SEMICOLON},
};

static vkt_status lex_operator(lexer *L) {
    const char *s = L->s + L->pos;
    size_t left = L->n - L->pos;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t len = strlen(ops[i].text);
        if (len > left || memcmp(s, ops[i].text, len) != 0) continue;
        char ch = s[0];
        if (ch == '(' || ch == '[' || ch == '{') { // brackets must balance inside a tag
            if (L->depth >= JINJA_MAX_PARSE_DEPTH) return lex_fail(L, "brackets nested too deeply");
            L->stack[L->depth++] = ch == '(' ? ')' : ch == '[' ? ']' : '}';
        } else if (ch == ')' || ch == ']' || ch == '}') {
            if (L->depth == 0) return lex_fail(L, "unexpected '%c'", ch);
            char want = L->stack[--L->depth];
            if (want != ch) return lex_fail(L, "unexpected '%c', expected '%c'", ch, want);
        }
        if (!emit(L, ops[i].kind, L->line))
            return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
        L->pos += len;
        return VKT_OK;
    }
    size_t len;
    uint32_t cp = jinja_utf8_next(s, left, &len);
    if (cp < 0x80 && cp >= 0x20) return lex_fail(L, "unexpected char '%c'", (char)cp);
    return lex_fail(L, "unexpected char U+%04X", (unsigned)cp);
}

static bool at(const lexer *L, size_t i, const char *lit) {
    size_t len = strlen(lit);
    return i <= L->n && L->n - i >= len && memcmp(L->s + i, lit, len) == 0;
}

// The end of a {% %} or {{ }} tag at L->pos, if there is one; returns its length.
static size_t tag_end(const lexer *L, bool block) {
    size_t i = L->pos;
    if (block) {
        if (at(L, i, "+%}")) return 3;
        if (at(L, i, "-%}")) return 3 + space_run(L->s, L->n, i + 3);
        if (at(L, i, "%}")) return 2 + (at(L, i + 2, "\n") ? 1 : 0); // trim_blocks
        return 0;
    }
    if (at(L, i, "-}}")) return 3 + space_run(L->s, L->n, i + 3);
    if (at(L, i, "}}")) return 2;
    return 0;
}

static vkt_status lex_tag(lexer *L, bool block) {
    for (;;) {
        if (L->pos >= L->n) return lex_fail(L, "unexpected end of template inside a tag");
        size_t end = L->depth == 0 ? tag_end(L, block) : 0;
        if (end) {
            if (!emit(L, block ? JT_BLOCK_END : JT_VAR_END, L->line))
                return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
            L->line += count_nl(L->s + L->pos, end);
            L->pos += end;
            L->line_starting = L->s[L->pos - 1] == '\n';
            return VKT_OK;
        }
        const char *s = L->s;
        size_t i = L->pos, len;
        if ((len = space_run(s, L->n, i))) {
            L->line += count_nl(s + i, len);
            L->pos += len;
        } else if ((len = float_len(s, L->n, i))) {
            VKT_TRY(lex_number(L, len, true));
        } else if ((len = int_len(s, L->n, i))) {
            VKT_TRY(lex_number(L, len, false));
        } else if (is_alpha(s[i])) {
            len = 1;
            while (i + len < L->n && (is_alpha(s[i + len]) || is_digit(s[i + len]))) len++;
            jinja_tok *t = emit(L, JT_NAME, L->line);
            if (!t) return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
            t->p = s + i;
            t->n = len;
            L->pos += len;
        } else if (s[i] == '\'' || s[i] == '"') {
            VKT_TRY(lex_string(L));
        } else {
            VKT_TRY(lex_operator(L));
        }
    }
}

// Where the text of {% raw %} starts when a raw block begins at t; 0 when it is not one.
static size_t raw_begin(const lexer *L, size_t t) {
    size_t j = t + 2;
    if (j < L->n && (L->s[j] == '-' || L->s[j] == '+')) j++;
    j += space_run(L->s, L->n, j);
    if (!at(L, j, "raw")) return 0;
    j += 3;
    j += space_run(L->s, L->n, j);
    if (at(L, j, "-%}")) return j + 3 + space_run(L->s, L->n, j + 3);
    if (at(L, j, "%}")) return j + 2;
    return 0;
}

// The text of a raw block stays as written, up to {% endraw %}.
static vkt_status lex_raw(lexer *L, size_t t, size_t body) {
    L->line += count_nl(L->s + t, body - t);
    L->line_starting = L->s[body - 1] == '\n';
    for (size_t q = body; q + 1 < L->n; q++) {
        if (!at(L, q, "{%")) continue;
        size_t k = q + 2;
        char sign = 0;
        if (k < L->n && (L->s[k] == '-' || L->s[k] == '+')) sign = L->s[k++];
        k += space_run(L->s, L->n, k);
        if (!at(L, k, "endraw")) continue;
        k += 6;
        k += space_run(L->s, L->n, k);
        size_t end = at(L, k, "+%}")   ? k + 3
                     : at(L, k, "-%}") ? k + 3 + space_run(L->s, L->n, k + 3)
                     : at(L, k, "%}")  ? k + 2 + (at(L, k + 2, "\n") ? 1 : 0)
                                       : 0;
        if (!end) continue;
        VKT_TRY(emit_text(L, L->s + body, q - body, sign, true));
        L->line += count_nl(L->s + q, end - q);
        L->line_starting = L->s[end - 1] == '\n';
        L->pos = end;
        return VKT_OK;
    }
    return lex_fail(L, "missing end of raw directive");
}

static vkt_status lex_comment(lexer *L, size_t body) {
    const char *e = NULL;
    for (size_t q = body; q + 1 < L->n; q++)
        if (L->s[q] == '#' && L->s[q + 1] == '}') {
            e = L->s + q;
            break;
        }
    if (!e) return lex_fail(L, "missing end of comment tag");
    size_t r = (size_t)(e - L->s), end = r + 2;
    char sign = r > body && (L->s[r - 1] == '-' || L->s[r - 1] == '+') ? L->s[r - 1] : 0;
    if (sign == '-')
        end += space_run(L->s, L->n, end);
    else if (!sign && at(L, end, "\n"))
        end++;
    L->line += count_nl(L->s + L->pos, end - L->pos);
    L->line_starting = L->s[end - 1] == '\n';
    L->pos = end;
    return VKT_OK;
}

// Newlines as \n, and no single trailing newline (jinja2's keep_trailing_newline=False).
static char *normalize(jinja_arena *a, const char *src, size_t n, size_t *out_n) {
    char *s = jinja_alloc(a, n + 1);
    if (!s) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '\r') {
            s[k++] = '\n';
            if (i + 1 < n && src[i + 1] == '\n') i++;
        } else {
            s[k++] = src[i];
        }
    }
    if (k && s[k - 1] == '\n') k--;
    s[k] = 0;
    *out_n = k;
    return s;
}

static vkt_status lex_root(lexer *L) {
    while (L->pos < L->n) {
        size_t t = L->pos;
        while (t + 1 < L->n && !(L->s[t] == '{' && strchr("{%#", L->s[t + 1]) && L->s[t + 1])) t++;
        if (t + 1 >= L->n) return emit_text(L, L->s + L->pos, L->n - L->pos, 0, false);
        char kind = L->s[t + 1];
        char sign = t + 2 < L->n && (L->s[t + 2] == '-' || L->s[t + 2] == '+') ? L->s[t + 2] : 0;
        size_t text = L->pos;
        L->pos = t;
        size_t raw_body = kind == '%' ? raw_begin(L, t) : 0;
        VKT_TRY(emit_text(L, L->s + text, t - text, sign, kind != '{'));
        if (raw_body) {
            VKT_TRY(lex_raw(L, t, raw_body));
            continue;
        }
        size_t body = t + 2 + (sign ? 1 : 0);
        L->pos = body;
        if (kind == '#') {
            L->pos = t;
            VKT_TRY(lex_comment(L, body));
            continue;
        }
        if (!emit(L, kind == '%' ? JT_BLOCK_BEGIN : JT_VAR_BEGIN, L->line))
            return vkt_fail(L->err, VKT_ERR_NOMEM, "%s: out of memory", L->name);
        L->depth = 0;
        VKT_TRY(lex_tag(L, kind == '%'));
    }
    return VKT_OK;
}

vkt_status jinja_lex(const char *src, size_t n, const char *name, jinja_arena *a, jinja_toks *out,
                     vkt_error *err) {
    lexer L = {.a = a, .out = out, .name = name, .err = err, .line = 1, .line_starting = true};
    L.s = normalize(a, src, n, &L.n);
    if (!L.s) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", name);
    vkt_status st = lex_root(&L);
    if (st != VKT_OK) return st;
    if (!emit(&L, JT_EOF, L.line)) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", name);
    return VKT_OK;
}
