// jinja_internal.h: the parts of the chat-template engine (a subset of Jinja2, rendered as
// transformers renders chat templates: ImmutableSandboxedEnvironment with trim_blocks,
// lstrip_blocks, loopcontrols, and its own tojson / raise_exception / strftime_now).
//
//   source --jinja_lex.c--> tokens --jinja_parse*.c--> statement tree (parse arena)
//   tree + variables --jinja_exec.c / jinja_eval.c--> text (values live in a render arena)
//
// Values follow Python: str(), repr(), ==, <, truthiness, code-point indexing and the
// float repr are Python's, because the text a template prints must match jinja2's byte for
// byte. Every render runs under budgets (memory, loop iterations, work, depth, output) so a
// hostile template fails with a message instead of hanging or exhausting memory.
#ifndef VKT_JINJA_INTERNAL_H
#define VKT_JINJA_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "status.h"

// --- budgets ------------------------------------------------------------------------------
#define JINJA_MAX_OUTPUT ((size_t)16 << 20) // rendered text
#define JINJA_MAX_ARENA ((size_t)256 << 20) // all values made while rendering
#define JINJA_MAX_STEPS 20000000LL          // loop iterations + element visits
#define JINJA_MAX_PARSE_DEPTH 100           // nested expressions and blocks
#define JINJA_MAX_EVAL_DEPTH 400            // nested evaluation (expressions, blocks, calls)
#define JINJA_MAX_VALUE_DEPTH 200           // nesting walked by repr, tojson, ==

// --- arena: bump allocation, freed all at once ---------------------------------------------
typedef struct jinja_chunk jinja_chunk;
typedef struct jinja_arena {
    jinja_chunk *head;
    size_t used, limit; // bytes handed out so far; 0 limit = unlimited
} jinja_arena;

void *jinja_alloc(jinja_arena *a, size_t n); // 16-byte aligned; NULL past the limit
void jinja_arena_free(jinja_arena *a);

// --- values --------------------------------------------------------------------------------
typedef enum {
    JV_UNDEF = 0, // jinja2's default Undefined: prints "", falsy, fails most operations
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STR,
    JV_LIST, // also tuples (JV_F_TUPLE)
    JV_DICT, // insertion ordered
    JV_NS,   // namespace(): the one mutable object
    JV_LOOP, // the `loop` variable of a for block
    JV_FUNC, // a global function or a bound method
    JV_MACRO,
} jv_kind;

// JV_LIST flags: a tuple prints as (a, b); a lazy list stands for the generator that
// select, map, reverse and items return (always true, no len(), no indexing, not printable).
#define JV_F_TUPLE 1u
#define JV_F_LAZY 2u
#define JV_F_ATTRMISS 1u // JV_UNDEF: "'dict object' has no attribute 'x'"

typedef struct jv_list jv_list;
typedef struct jv_dict jv_dict;
typedef struct jv_loop jv_loop;
typedef struct jv_func jv_func;
typedef struct jv_macro jv_macro;
typedef struct jinja_node jinja_node;
typedef struct jinja_scope jinja_scope;

typedef struct jv {
    uint8_t kind;  // jv_kind
    uint8_t flags; // JV_F_*
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *p; // not NUL-terminated; for JV_UNDEF, the missing name (may be NULL)
            size_t n;
        } s;
        jv_list *l;
        jv_dict *d; // JV_DICT and JV_NS
        jv_loop *loop;
        jv_func *fn;
        jv_macro *mac;
    } u;
} jv;

struct jv_list {
    size_t n;
    jv *items;
};
struct jv_dict {
    size_t n, cap;
    jv *keys, *vals;
};
struct jv_loop {
    size_t index0, length;
    const jv *items;
};

// Built-in callables: globals, and methods bound to a receiver.
typedef enum {
    JF_RAISE_EXCEPTION,
    JF_STRFTIME_NOW,
    JF_NAMESPACE,
    JF_RANGE,
    JF_DICT,
    JF_LOOP_CYCLE,
    JF_S_STARTSWITH,
    JF_S_ENDSWITH,
    JF_S_SPLIT,
    JF_S_RSPLIT,
    JF_S_STRIP,
    JF_S_LSTRIP,
    JF_S_RSTRIP,
    JF_S_REPLACE,
    JF_S_UPPER,
    JF_S_LOWER,
    JF_S_TITLE,
    JF_S_CAPITALIZE,
    JF_S_FORMAT,
    JF_S_JOIN,
    JF_S_FIND,
    JF_S_COUNT,
    JF_D_GET,
    JF_D_ITEMS,
    JF_D_KEYS,
    JF_D_VALUES,
} jinja_func_id;

struct jv_func {
    jinja_func_id id;
    jv self; // receiver of a bound method
};
struct jv_macro {
    const jinja_node *node;
    jinja_scope *scope; // where it was defined: its body looks names up from there
};

static inline jv jv_undef(void) {
    jv v = {0};
    return v;
}
static inline jv jv_none(void) {
    jv v = {.kind = JV_NONE};
    return v;
}
static inline jv jv_bool(bool b) {
    jv v = {.kind = JV_BOOL};
    v.u.b = b;
    return v;
}
static inline jv jv_int(int64_t i) {
    jv v = {.kind = JV_INT};
    v.u.i = i;
    return v;
}
static inline jv jv_float(double f) {
    jv v = {.kind = JV_FLOAT};
    v.u.f = f;
    return v;
}
static inline jv jv_strn(const char *p, size_t n) {
    jv v = {.kind = JV_STR};
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

// --- the render context: arena, budgets, output, error ----------------------------------------
typedef struct jinja_ctx {
    jinja_arena arena;
    vkt_bytebuf *out; // where text goes now (macros and {% set %} blocks swap it)
    const char *name; // template name for messages
    int line;         // line of the node being run, for messages
    long long steps;  // budget counter
    int depth;        // evaluation nesting
    int64_t now;      // seconds since the epoch for strftime_now
    vkt_error *err;
    vkt_status status; // of the first failure
    bool failed;
} jinja_ctx;

// Records an error "<name> line <line>: <message>" (first error wins) and returns false.
bool jinja_fail(jinja_ctx *c, vkt_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
// Charges n units of work; false (with an error) once the budget is spent.
bool jinja_step(jinja_ctx *c, long long n);
void *jinja_ctx_alloc(jinja_ctx *c, size_t n); // fails the render past the arena budget

// --- value helpers (jinja_value.c) ----------------------------------------------------------
bool jv_truthy(jv v);
const char *jv_type_name(jv v); // Python's type name: 'str', 'int', 'NoneType', ...
bool jv_is_number(jv v);        // bool, int or float
bool jv_str_copy(jinja_ctx *c, const char *p, size_t n, jv *out);
bool jv_list_new(jinja_ctx *c, size_t n, jv *out); // n items, all undefined
bool jv_dict_new(jinja_ctx *c, size_t cap, jv *out);
// Inserts or replaces key (Python equality: 1, 1.0 and True are the same key).
bool jv_dict_set(jinja_ctx *c, jv_dict *d, jv key, jv val);
const jv *jv_dict_get(jinja_ctx *c, const jv_dict *d, jv key);
const jv *jv_dict_get_str(const jv_dict *d, const char *key, size_t n);
// Python ==; *eq receives the answer.
bool jv_equal(jinja_ctx *c, jv a, jv b, bool *eq);
// Python ordering for <, <=, >, >=: *cmp is -1, 0 or 1. Fails like Python on mixed types.
bool jv_compare(jinja_ctx *c, jv a, jv b, const char *op, int *cmp);
// Appends str(v) / repr(v) to b.
bool jv_write_str(jinja_ctx *c, vkt_bytebuf *b, jv v);
bool jv_write_repr(jinja_ctx *c, vkt_bytebuf *b, jv v, int depth);
// str(v) as a string value (strings are returned as they are).
bool jv_to_str(jinja_ctx *c, jv v, jv *out);
// A finished buffer as a string value (copied into the arena; frees b).
bool jv_from_buf(jinja_ctx *c, vkt_bytebuf *b, jv *out);
// Python's repr of a float ("1.0", "1e-05", "inf").
void jv_float_repr(double f, char buf[32]);
// The failure an operation on an undefined value raises in jinja2.
bool jv_undef_fail(jinja_ctx *c, jv v);

// --- Unicode text helpers (jinja_text.c) -----------------------------------------------------
bool jinja_py_isspace(uint32_t cp); // Python's str.isspace for one code point
// Decodes one code point at s[0..n) (n > 0); an invalid byte decodes as itself, length 1.
uint32_t jinja_utf8_next(const char *s, size_t n, size_t *len);
size_t jinja_utf8_put(char *dst, uint32_t cp); // dst has room for 4 bytes
size_t jinja_cp_count(const char *s, size_t n);
// Byte offsets of the n code points plus the end (n + 1 entries); NULL on budget failure.
size_t *jinja_cp_offsets(jinja_ctx *c, const char *s, size_t n, size_t *ncp);
// Case mapping of one string into b: 'u' upper, 'l' lower, 'c' capitalize, 't' str.title,
// 'T' jinja's title filter.
void jinja_case_map(vkt_bytebuf *b, const char *s, size_t n, char mode);
// Python's strip family; chars NULL strips whitespace. which: 'b' both, 'l', 'r'.
void jinja_strip(const char *s, size_t n, const char *chars, size_t nchars, char which,
                 size_t *start, size_t *len);

// --- JSON (jinja_json.c) ----------------------------------------------------------------
typedef struct jinja_json_opts {
    int indent;             // -1: none
    const char *indent_str; // a string indent instead (NULL: indent spaces)
    size_t indent_len;
    const char *item_sep, *key_sep;
    size_t item_sep_len, key_sep_len;
    bool sort_keys, ensure_ascii;
} jinja_json_opts;
// json.dumps(v, ensure_ascii=False, ...) as transformers' tojson filter calls it.
bool jinja_json_dump(jinja_ctx *c, vkt_bytebuf *b, jv v, const jinja_json_opts *o, int depth);
// A jansson value as a template value (strings are referenced, not copied).
bool jinja_from_json(jinja_ctx *c, const json_t *j, jv *out, int depth);

// --- lexer (jinja_lex.c) ---------------------------------------------------------------------
typedef enum {
    JT_EOF = 0,
    JT_TEXT,
    JT_VAR_BEGIN,
    JT_VAR_END,
    JT_BLOCK_BEGIN,
    JT_BLOCK_END,
    JT_NAME,
    JT_STRING,
    JT_INT,
    JT_FLOAT,
    // operators
    JT_ADD,
    JT_SUB,
    JT_DIV,
    JT_FLOORDIV,
    JT_MUL,
    JT_MOD,
    JT_POW,
    JT_TILDE,
    JT_LBRACKET,
    JT_RBRACKET,
    JT_LPAREN,
    JT_RPAREN,
    JT_LBRACE,
    JT_RBRACE,
    JT_EQ,
    JT_NE,
    JT_GT,
    JT_GTEQ,
    JT_LT,
    JT_LTEQ,
    JT_ASSIGN,
    JT_DOT,
    JT_COLON,
    JT_PIPE,
    JT_COMMA,
    JT_SEMICOLON,
} jinja_tok_kind;

typedef struct jinja_tok {
    jinja_tok_kind kind;
    int line;
    const char *p; // text, name or decoded string (in the parse arena)
    size_t n;
    int64_t i;
    double f;
} jinja_tok;

typedef struct jinja_toks {
    jinja_tok *v;
    size_t n, cap;
} jinja_toks;

// Splits a template into tokens, applying whitespace control, trim_blocks and
// lstrip_blocks; comments vanish and raw blocks become text. The token array is malloc'd
// (free v); token text lives in a.
vkt_status jinja_lex(const char *src, size_t n, const char *name, jinja_arena *a, jinja_toks *out,
                     vkt_error *err);

// --- syntax tree (jinja_parse*.c) ----------------------------------------------------------
typedef enum {
    // expressions
    JN_CONST,
    JN_NAME,
    JN_LIST,
    JN_TUPLE,
    JN_DICT,
    JN_GETATTR,
    JN_GETITEM,
    JN_SLICE,
    JN_CALL,
    JN_FILTER,
    JN_TEST,
    JN_NEG,
    JN_POS,
    JN_NOT,
    JN_BINOP,
    JN_AND,
    JN_OR,
    JN_CONCAT,
    JN_COMPARE,
    JN_COND,
    // statements
    JN_TEXT,
    JN_OUTPUT,
    JN_IF,
    JN_FOR,
    JN_SET,
    JN_SET_NS,
    JN_SET_BLOCK,
    JN_MACRO,
    JN_BREAK,
    JN_CONTINUE,
} jinja_node_kind;

typedef struct jinja_nodes {
    jinja_node **v;
    size_t n, cap;
} jinja_nodes;

struct jinja_node {
    jinja_node_kind kind;
    int line;
    int op; // JN_BINOP: the JT_ operator; JN_FILTER / JN_TEST: the builtin id, or -1 for one
            // the engine lacks (it fails when the template reaches it)
    const char *name; // NAME, GETATTR attribute, FILTER/TEST/MACRO name, SET_NS attribute
    size_t name_len;
    jv value;              // JN_CONST; JN_TEXT's text
    jinja_node *a, *b, *c; // operands: GETITEM obj/index, SLICE obj/start/stop (+ d step),
                           // COND then/test/else, FOR iterable/filter, IF test, SET value
    jinja_node *d;
    jinja_nodes args;     // call / filter / test / list / tuple args; DICT keys; COMPARE operands
    jinja_nodes kwvals;   // keyword values; DICT values; MACRO defaults (of the last params)
    const char **kwnames; // keyword names (into the source, with lengths), one per kwvals
    size_t *kwname_lens;
    int *cmp_ops;             // JN_COMPARE: JT_EQ.. or JT_NAME for `in`, -JT_NAME for `not in`
    jinja_nodes body, orelse; // IF / FOR / MACRO / SET_BLOCK bodies
    const char **targets;     // FOR / SET names (one or a tuple); MACRO parameters
    size_t *target_lens;
    size_t ntargets;
    bool target_tuple;
};

typedef struct jinja_tmpl {
    jinja_arena arena; // the tree and its strings
    jinja_nodes body;
    char *name;
} jinja_tmpl;

vkt_status jinja_parse(const char *src, size_t n, const char *name, jinja_tmpl **out,
                       vkt_error *err);
void jinja_tmpl_free(jinja_tmpl *t);

// Parser internals shared by jinja_parse.c (statements) and jinja_parse_expr.c.
typedef struct jinja_parser {
    const jinja_toks *toks;
    size_t pos;
    jinja_arena *arena;
    const char *name;
    int depth;
    vkt_error *err;
    vkt_status status; // of the first failure
    bool failed;
} jinja_parser;

const jinja_tok *jinja_p_cur(jinja_parser *p);
const jinja_tok *jinja_p_peek(jinja_parser *p, size_t ahead);
bool jinja_p_is_name(const jinja_tok *t, const char *name);
const char *jinja_p_describe(jinja_parser *p, const jinja_tok *t); // "'endfor'", "end of template"
bool jinja_p_expect(jinja_parser *p, jinja_tok_kind k, const char *what);
bool jinja_p_fail(jinja_parser *p, vkt_status st, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
jinja_node *jinja_p_node(jinja_parser *p, jinja_node_kind k, int line);
bool jinja_p_push(jinja_parser *p, jinja_nodes *list, jinja_node *n);
// parse_tuple of jinja2: an expression, or a tuple when commas follow. end_name names
// an extra keyword that ends the tuple ("in", "recursive"), or NULL.
jinja_node *jinja_p_tuple(jinja_parser *p, bool with_condexpr, const char *end_name,
                          bool explicit_parens);
jinja_node *jinja_p_expression(jinja_parser *p, bool with_condexpr);

// --- builtins (jinja_filters.c, jinja_methods.c) ------------------------------------------
int jinja_filter_id(const char *name, size_t n); // -1: not supported
int jinja_test_id(const char *name, size_t n);   // -1: not supported

// Evaluated call arguments.
typedef struct jinja_args {
    jv *pos;
    size_t npos;
    jv *kw;
    const char **kwnames;
    size_t *kwname_lens;
    size_t nkw;
} jinja_args;

// Finds keyword `name` or positional index `at` (-1: keyword only); false when absent.
bool jinja_arg(const jinja_args *a, const char *name, int at, jv *out);
// Fails when positional arguments beyond max or keywords outside `allowed` (a
// NULL-terminated list) are given; what names the callee.
bool jinja_args_check(jinja_ctx *c, const jinja_args *a, size_t max_pos, const char *const *allowed,
                      const char *what);

bool jinja_apply_filter(jinja_ctx *c, int id, jv v, const jinja_args *a, jv *out);
bool jinja_apply_test(jinja_ctx *c, int id, jv v, const jinja_args *a, bool *out);
// Attribute lookup as the sandbox does it: methods of str / dict, dict keys, namespace and
// loop attributes; undefined where jinja2 gives Undefined.
bool jinja_getattr(jinja_ctx *c, jv obj, const char *name, size_t n, jv *out);
// obj[key] (not slices) as jinja2's getitem.
bool jinja_getitem(jinja_ctx *c, jv obj, jv key, jv *out);
bool jinja_call_func(jinja_ctx *c, const jv_func *f, const jinja_args *a, jv *out);
// The str methods (JF_S_*) on self (jinja_str_methods.c).
bool jinja_str_method(jinja_ctx *c, jinja_func_id id, jv self, const jinja_args *a, jv *out);
// Python's str.replace (count < 0: all) and str.split (sep NULL: on whitespace) and rsplit.
bool jinja_str_replace(jinja_ctx *c, jv s, jv old, jv new_, int64_t count, jv *out);
bool jinja_str_split(jinja_ctx *c, jv s, const jv *sep, int64_t maxsplit, bool right, jv *out);
// A name the template did not define: the globals every render has.
bool jinja_global(jinja_ctx *c, const char *name, size_t n, jv *out);
// Iterates: the items a for loop or a filter sees (list items, string characters, dict
// keys; undefined gives none). Fails for values that are not iterable.
bool jinja_iter(jinja_ctx *c, jv v, jv_list **out);

// --- evaluation (jinja_eval.c, jinja_exec.c) ----------------------------------------------
bool jinja_eval(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out);
// Python's `needle in hay`.
bool jinja_contains(jinja_ctx *c, jv needle, jv hay, bool *out);
// Python's a % b for numbers (the `odd`, `even` and `divisibleby` tests use it too).
bool jinja_mod(jinja_ctx *c, jv a, jv b, jv *out);
bool jinja_call_macro(jinja_ctx *c, const jv_macro *m, const jinja_args *a, jv *out);
bool jinja_scope_lookup(jinja_ctx *c, jinja_scope *s, const char *name, size_t n, jv *out);

// Renders t with the template variables of `vars` (a JSON object) into out (appended).
vkt_status jinja_render(const jinja_tmpl *t, const json_t *vars, int64_t now, vkt_bytebuf *out,
                        vkt_error *err);

#endif
