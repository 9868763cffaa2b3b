// protocol.c: observation text, move extraction and strict matching (see protocol.h).
#include "protocol.h"

#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

size_t vkt_protocol_legal_list(const vkt_game *g, char *buf, size_t cap) {
    if (g->ops->moves_hint && !vkt_game_is_terminal(g))
        return g->ops->moves_hint(g->state, buf, cap);
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    int acts[VKT_GAME_MAX_LEGAL];
    int n = vkt_game_legal_actions(g, acts);
    vkt_textbuf_printf(&t, "Available Moves: ");
    for (int i = 0; i < n; i++) {
        char a[VKT_ACTION_TEXT_MAX];
        vkt_game_action_text(g, acts[i], a, sizeof a, NULL);
        vkt_textbuf_printf(&t, "%s[%s]", i ? ", " : "", a);
    }
    return vkt_textbuf_len(&t);
}

size_t vkt_protocol_observation(const vkt_game *g, int player, char *buf, size_t cap) {
    size_t n = g->ops->describe(g->state, player, buf, cap);
    if (vkt_game_is_terminal(g)) {
        if (g->forfeited_by >= 0) {
            vkt_textbuf t = {buf, cap, n};
            vkt_textbuf_printf(&t, "The game ended on an invalid move by Player %d.\n",
                               g->forfeited_by);
            n = vkt_textbuf_len(&t);
        }
        return n;
    }
    size_t at = n < cap ? n : (cap ? cap - 1 : 0);
    size_t m = vkt_protocol_legal_list(g, buf ? buf + at : NULL, cap > at ? cap - at : 0);
    n += m;
    vkt_textbuf t = {buf, cap, n};
    vkt_textbuf_printf(&t, "\n");
    return vkt_textbuf_len(&t);
}

static bool starts(const char *s, size_t len, size_t i, const char *p) {
    size_t n = strlen(p);
    return i + n <= len && memcmp(s + i, p, n) == 0;
}

// [begin, end) of the content of the last complete \boxed{...}, by a brace stack.
static bool last_boxed(const char *s, size_t len, size_t *begin, size_t *end) {
    size_t opens = 0;
    for (size_t i = 0; i < len; i++) opens += s[i] == '{';
    if (opens == 0) return false;
    size_t *stack = malloc(opens * sizeof *stack); // positions of unmatched '{'
    if (!stack) return false;
    size_t depth = 0;
    bool found = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '{') {
            stack[depth++] = i;
        } else if (s[i] == '}' && depth > 0) {
            size_t open = stack[--depth];
            // Latest start wins: a later \boxed opens after any earlier one.
            if (open >= 6 && starts(s, len, open - 6, "\\boxed{") &&
                (!found || open + 1 > *begin)) {
                *begin = open + 1;
                *end = i;
                found = true;
            }
        }
    }
    free(stack);
    return found;
}

// Unwraps every \text{...} in the NUL-terminated s in place (braces matched).
static void strip_text_macros(char *s) {
    for (;;) {
        char *p = strstr(s, "\\text{");
        if (!p) return;
        char *q = p + 6;
        int depth = 1;
        while (*q && depth) {
            if (*q == '{')
                depth++;
            else if (*q == '}')
                depth--;
            if (depth) q++;
        }
        if (!*q) { // unmatched: drop just the macro name so the loop ends
            memmove(p, p + 6, strlen(p + 6) + 1);
            continue;
        }
        // remove "}" at q, then "\text{" at p
        memmove(q, q + 1, strlen(q + 1) + 1);
        memmove(p, p + 6, strlen(p + 6) + 1);
    }
}

// Copies s[begin,end) to out; returns the length the candidate needs. NUL bytes in a
// model's text become 0x01 so a string cannot end early and look legal.
static size_t copy_candidate(const char *s, size_t begin, size_t end, char *out, size_t cap) {
    size_t n = end - begin;
    if (cap == 0) return n;
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) out[i] = s[begin + i] ? s[begin + i] : '\x01';
    out[k] = 0;
    return n;
}

static char *trim(char *s) {
    while (*s == ' ' || (*s >= '\t' && *s <= '\r')) s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r'))) s[--n] = 0;
    return s;
}

// The candidate move, and whether it fit in cap (a truncated move must never match).
static bool extract(const char *text, size_t len, char *out, size_t cap, bool *fits) {
    size_t b, e;
    *fits = true;
    if (!text || cap == 0) return false;
    if (last_boxed(text, len, &b, &e)) {
        if (copy_candidate(text, b, e, out, cap) >= cap) *fits = false;
        strip_text_macros(out);
        char *t = trim(out);
        size_t n = strlen(t);
        if (n >= 2 && t[0] == '[' && t[n - 1] == ']') {
            t[n - 1] = 0;
            t++;
        }
        memmove(out, t, strlen(t) + 1);
        return true;
    }
    // The last [...] with no bracket inside: scanning back, a '[' closes the nearest ']'.
    size_t close = len;
    for (size_t i = len; i-- > 0;) {
        if (text[i] == ']')
            close = i;
        else if (text[i] == '[' && close < len) {
            if (copy_candidate(text, i + 1, close, out, cap) >= cap) *fits = false;
            return true;
        }
    }
    return false;
}

bool vkt_protocol_extract(const char *text, size_t len, char *out, size_t cap) {
    bool fits;
    return extract(text, len, out, cap, &fits) && fits;
}

void vkt_protocol_normalize(const char *in, bool fold, char *out, size_t cap) {
    if (cap == 0) return;
    size_t n = 0;
    bool space = false;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == ' ' || (c >= '\t' && c <= '\r')) {
            space = n > 0;
            continue;
        }
        if (space && n + 1 < cap) out[n++] = ' ';
        space = false;
        if (fold && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (n + 1 < cap) out[n++] = c;
    }
    out[n] = 0;
}

vkt_status vkt_protocol_match(const vkt_game *g, const char *move, int *action, vkt_error *err) {
    *action = VKT_ACTION_INVALID;
    if (vkt_game_is_terminal(g))
        return vkt_fail(err, VKT_ERR_ARG, "%s: the game is over", g->ops->name);
    bool fold = !g->ops->case_sensitive;
    char want[VKT_MOVE_TEXT_MAX];
    if (strlen(move) >= sizeof want)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: move '%.40s...' is too long to be legal",
                        g->ops->name, move);
    vkt_protocol_normalize(move, fold, want, sizeof want);
    int acts[VKT_GAME_MAX_LEGAL];
    int n = vkt_game_legal_actions(g, acts);
    for (int i = 0; i < n; i++) {
        char a[VKT_ACTION_TEXT_MAX], na[VKT_ACTION_TEXT_MAX];
        if (vkt_game_action_text(g, acts[i], a, sizeof a, NULL) != VKT_OK) continue;
        vkt_protocol_normalize(a, fold, na, sizeof na);
        if (strcmp(na, want) == 0) {
            *action = acts[i];
            return VKT_OK;
        }
    }
    char legal[512];
    size_t ln = vkt_protocol_legal_list(g, legal, sizeof legal);
    return vkt_fail(err, VKT_ERR_FORMAT, "%s: '%.80s' is not a legal move (%s%s)", g->ops->name,
                    move, legal, ln >= sizeof legal ? "..." : "");
}

vkt_status vkt_protocol_parse(const vkt_game *g, const char *text, size_t len, int *action,
                              vkt_error *err) {
    char move[VKT_MOVE_TEXT_MAX];
    bool fits;
    *action = VKT_ACTION_INVALID;
    if (!extract(text, len, move, sizeof move, &fits))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: no move found: expected [move] or \\boxed{move}",
                        g->ops->name);
    if (!fits)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: move '%.40s...' is too long to be legal",
                        g->ops->name, move);
    return vkt_protocol_match(g, move, action, err);
}

vkt_status vkt_protocol_step(vkt_game *g, const char *text, size_t len, int *action, bool *invalid,
                             vkt_error *err) {
    *invalid = false;
    *action = VKT_ACTION_INVALID;
    int p = vkt_game_current_player(g);
    if (p == VKT_TERMINAL)
        return vkt_fail(err, VKT_ERR_ARG, "%s: move played after the game ended", g->ops->name);
    int a;
    if (vkt_protocol_parse(g, text, len, &a, err) != VKT_OK) {
        vkt_game_forfeit(g, p);
        *invalid = true;
        return VKT_OK;
    }
    VKT_TRY(vkt_game_apply(g, a, err));
    *action = a;
    return VKT_OK;
}
