// cli_opt.c: see cli_opt.h.
#include "cli_memory.h"
#include "cli_opt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { HELP_COLUMN_MAX = 26, HELP_WIDTH = 100 };

static bool is_help(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }

static bool takes_value(const cli_opt *o) {
    return o->type != CLI_OPT_FLAG && o->type != CLI_OPT_UNFLAG &&
           !(o->type == CLI_OPT_CUSTOM && o->nargs < 0);
}

static int nargs_of(const cli_opt *o) {
    if (!takes_value(o)) return 0;
    return o->type == CLI_OPT_CUSTOM && o->nargs > 1 ? o->nargs : 1;
}

// The entry arg names, "--name" or "--name=VALUE" (*eq then points at VALUE), or NULL.
static const cli_opt *find(const cli_opt *table, const char *arg, const char **eq) {
    *eq = NULL;
    for (const cli_opt *o = table; o->type != CLI_OPT_END; o++) {
        size_t n = strlen(o->name);
        if (strncmp(arg, o->name, n) != 0) continue;
        if (arg[n] == 0) return o;
        if (arg[n] == '=') return *eq = arg + n + 1, o;
    }
    return NULL;
}

// --help anywhere before the first word that is not an option or a value of one: the help
// wins over later flags, and shows the defaults untouched by them.
static bool help_asked(const cli_cmd *cmd, const cli_opt *table, int argc, char **argv) {
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) return true;
        const char *eq;
        const cli_opt *o = find(table, argv[i], &eq);
        if (!o) {
            if (argv[i][0] == '-' || npos >= cmd->max_pos) return false;
            npos++;
            continue;
        }
        int n = nargs_of(o) - (eq != NULL);
        if (n > 0) i += n;
    }
    return false;
}

// The index of v in "a|b|c", or -1.
static int choice_index(const char *choices, const char *v) {
    size_t vn = strlen(v);
    int k = 0;
    for (const char *p = choices; *p; k++) {
        size_t n = strcspn(p, "|");
        if (n == vn && !strncmp(p, v, n)) return k;
        p += n + (p[n] == '|');
    }
    return -1;
}

// "a|b|c" -> "a, b or c"
static void choice_list(const char *choices, char *out, size_t cap) {
    size_t k = 0;
    out[0] = 0;
    for (const char *p = choices; *p && k < cap;) {
        size_t n = strcspn(p, "|");
        const char *sep = k == 0 ? "" : p[n] ? ", " : " or ";
        k += (size_t)snprintf(out + k, cap - k, "%s%.*s", sep, (int)n, p);
        p += n + (p[n] == '|');
    }
}

// The n-th name of "a|b|c" (NULL past the end).
static const char *choice_name(const char *choices, int idx, char *out, size_t cap) {
    const char *p = choices;
    for (int k = 0; *p; k++) {
        size_t n = strcspn(p, "|");
        if (k == idx) return snprintf(out, cap, "%.*s", (int)n, p), out;
        p += n + (p[n] == '|');
    }
    return NULL;
}

static bool ranged(const cli_opt *o) { return o->lo != 0 || o->hi != 0; }

static int set_value(const cli_cmd *cmd, const cli_opt *o, const char *const *v) {
    const char *c = cmd->name, *f = o->name;
    long lv;
    double dv;
    switch (o->type) {
    case CLI_OPT_INT:
        if (!cli_int(c, f, v[0], ranged(o) ? (long)o->lo : INT_MIN,
                     ranged(o) ? (long)o->hi : INT_MAX, &lv))
            return CLI_USAGE;
        *(int *)o->dest = (int)lv;
        return CLI_OK;
    case CLI_OPT_LONG:
        if (!cli_int(c, f, v[0], ranged(o) ? (long)o->lo : LONG_MIN,
                     ranged(o) ? (long)o->hi : LONG_MAX, &lv))
            return CLI_USAGE;
        *(long *)o->dest = lv;
        return CLI_OK;
    case CLI_OPT_U64: return cli_u64(c, f, v[0], (uint64_t *)o->dest) ? CLI_OK : CLI_USAGE;
    case CLI_OPT_DOUBLE:
    case CLI_OPT_FLOAT:
        if (!cli_double(c, f, v[0], ranged(o) ? o->lo : -HUGE_VAL, ranged(o) ? o->hi : HUGE_VAL,
                        &dv))
            return CLI_USAGE;
        if (o->type == CLI_OPT_DOUBLE)
            *(double *)o->dest = dv;
        else
            *(float *)o->dest = (float)dv;
        return CLI_OK;
    case CLI_OPT_STR: *(const char **)o->dest = v[0]; return CLI_OK;
    case CLI_OPT_FLAG:
    case CLI_OPT_UNFLAG: *(bool *)o->dest = o->type == CLI_OPT_FLAG; return CLI_OK;
    case CLI_OPT_CHOICE: {
        int k = choice_index(o->choices, v[0]);
        if (k < 0) {
            char list[256];
            choice_list(o->choices, list, sizeof list);
            return cli_usage_error(c, "%s: '%s' is not %s", f, v[0], list);
        }
        *(int *)o->dest = k;
        return CLI_OK;
    }
    case CLI_OPT_SIZE:
        if (!cli_parse_size(v[0], (uint64_t *)o->dest))
            return cli_usage_error(
                c,
                "%s: '%s' is not a size (bytes, or a number with K, M, G or T: 4G, "
                "3.5GiB, 512M)",
                f, v[0]);
        return CLI_OK;
    case CLI_OPT_CUSTOM: return o->parse(o, c, v);
    case CLI_OPT_END: break;
    }
    return CLI_USAGE;
}

// others: the options of a command's other forms (NULL: none), refused by name.
static int parse_in(const cli_cmd *cmd, const cli_opt *table, const cli_opt *others, int argc,
                    char **argv) {
    if (help_asked(cmd, table, argc, argv)) {
        cli_print_help(stdout, cmd, table);
        return CLI_HELP;
    }
    if (cmd->n_pos) *cmd->n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *eq;
        const cli_opt *o = find(table, argv[i], &eq);
        if (!o) {
            const char *oeq;
            const cli_opt *other = others ? find(others, argv[i], &oeq) : NULL;
            if (other) return cli_usage_error(cmd->name, "%s is not an option here", other->name);
            if (argv[i][0] == '-' && argv[i][1])
                return cli_usage_error(cmd->name, "unknown option '%s'", argv[i]);
            if (!cmd->n_pos || *cmd->n_pos >= cmd->max_pos)
                return cli_usage_error(cmd->name, "unexpected argument '%s'", argv[i]);
            cmd->pos[(*cmd->n_pos)++] = argv[i];
            continue;
        }
        const int n = nargs_of(o);
        const char *vals[8];
        if (n == 0 && eq) return cli_usage_error(cmd->name, "%s takes no value", o->name);
        if (n > 8) return cli_usage_error(cmd->name, "%s: too many values", o->name);
        int k = 0;
        if (eq) vals[k++] = eq;
        if (argc - 1 - i < n - k) {
            if (n == 1) return cli_usage_error(cmd->name, "%s needs a value", o->name);
            return cli_usage_error(cmd->name, "%s needs %d values", o->name, n);
        }
        while (k < n) vals[k++] = argv[++i];
        int rc = set_value(cmd, o, vals);
        if (rc != CLI_OK) return rc;
        if (o->given) *o->given = true;
        if (o->bits) *o->bits |= o->bit;
    }
    return CLI_OK;
}

int cli_parse(const cli_cmd *cmd, const cli_opt *table, int argc, char **argv) {
    return parse_in(cmd, table, NULL, argc, argv);
}

int cli_parse_form(const cli_cmd *cmd, const cli_opt *table, const cli_opt *all, int argc,
                   char **argv) {
    return parse_in(cmd, table, all, argc, argv);
}

int cli_first_word(const cli_opt *table, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *eq;
        const cli_opt *o = find(table, argv[i], &eq);
        if (o) {
            int n = nargs_of(o) - (eq != NULL);
            if (n > 0) i += n;
        } else if (argv[i][0] != '-') {
            return i;
        }
    }
    return argc;
}

// ---- help -------------------------------------------------------------------------------

// The destination's value as text, "" when there is none to show.
static void default_text(const cli_opt *o, char *out, size_t cap) {
    out[0] = 0;
    if (o->def) {
        snprintf(out, cap, "%s", o->def);
        return;
    }
    if (!o->dest) return;
    switch (o->type) {
    case CLI_OPT_INT: snprintf(out, cap, "%d", *(const int *)o->dest); break;
    case CLI_OPT_LONG: snprintf(out, cap, "%ld", *(const long *)o->dest); break;
    case CLI_OPT_U64:
        snprintf(out, cap, "%llu", (unsigned long long)*(const uint64_t *)o->dest);
        break;
    case CLI_OPT_DOUBLE: snprintf(out, cap, "%g", *(const double *)o->dest); break;
    case CLI_OPT_FLOAT: snprintf(out, cap, "%g", (double)*(const float *)o->dest); break;
    case CLI_OPT_STR: {
        const char *s = *(const char *const *)o->dest;
        if (s) snprintf(out, cap, "%s", s);
        break;
    }
    case CLI_OPT_CHOICE:
        if (!choice_name(o->choices, *(const int *)o->dest, out, cap)) out[0] = 0;
        break;
    case CLI_OPT_SIZE: {
        uint64_t b = *(const uint64_t *)o->dest;
        const char *u = "KMGT";
        int k = -1;
        while (b && k < 3 && b % 1024 == 0) b /= 1024, k++;
        if (*(const uint64_t *)o->dest == 0) break;
        if (k < 0)
            snprintf(out, cap, "%llu", (unsigned long long)b);
        else
            snprintf(out, cap, "%llu%c", (unsigned long long)b, u[k]);
        break;
    }
    default: break;
    }
}

static size_t left_text(const cli_opt *o, char *out, size_t cap) {
    const char *mv = o->metavar;
    if (!mv && o->type == CLI_OPT_CHOICE) mv = o->choices;
    int n = mv && takes_value(o) ? snprintf(out, cap, "  %s %s", o->name, mv)
                                 : snprintf(out, cap, "  %s", o->name);
    return n < 0 ? 0 : (size_t)n;
}

void cli_print_help(FILE *f, const cli_cmd *cmd, const cli_opt *table) {
    fputs(cmd->usage, f);
    if (cmd->about) fprintf(f, "\n%s", cmd->about);
    size_t col = 0;
    char left[256], def[256];
    for (const cli_opt *o = table; o->type != CLI_OPT_END; o++) {
        size_t n = left_text(o, left, sizeof left);
        if (n <= HELP_COLUMN_MAX && n > col) col = n;
    }
    col += 2;
    const char *group = NULL;
    fputc('\n', f);
    for (const cli_opt *o = table; o->type != CLI_OPT_END; o++) {
        if (o->group && (!group || strcmp(group, o->group)))
            fprintf(f, "%s%s\n", o == table ? "" : "\n", o->group), group = o->group;
        size_t n = left_text(o, left, sizeof left);
        fputs(left, f);
        if (n + 2 > col)
            fprintf(f, "\n%*s", (int)col, "");
        else
            fprintf(f, "%*s", (int)(col - n), "");
        const char *h = o->help ? o->help : "";
        size_t line = col;
        while (*h) {
            size_t k = strcspn(h, "\n");
            fwrite(h, 1, k, f);
            line = col + k;
            h += k;
            if (*h == '\n' && h[1])
                fprintf(f, "\n%*s", (int)col, ""), h++;
            else if (*h == '\n')
                h++;
        }
        default_text(o, def, sizeof def);
        if (def[0]) {
            size_t add = strlen(def) + 11;
            if (line + add > HELP_WIDTH)
                fprintf(f, "\n%*s(default %s)", (int)col, "", def);
            else
                fprintf(f, "%s(default %s)", line > col ? " " : "", def);
        }
        fputc('\n', f);
    }
    if (cmd->epilog) fprintf(f, "\n%s", cmd->epilog);
}
