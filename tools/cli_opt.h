// cli_opt.h: a command's options as one table that both parses argv and prints --help, so
// the help (names, value names, defaults) cannot drift from what is parsed. Each entry names
// its destination; the default shown in --help is the destination's value before parsing.
#ifndef VKT_CLI_OPT_H
#define VKT_CLI_OPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

// cli_parse's result when --help was printed: the command exits 0.
#define CLI_HELP (-1)

typedef enum cli_opt_type {
    CLI_OPT_END = 0, // ends a table
    CLI_OPT_INT,     // int *, in [lo, hi]
    CLI_OPT_LONG,    // long *, in [lo, hi]
    CLI_OPT_U64,     // uint64_t *, non-negative (1e9 accepted)
    CLI_OPT_DOUBLE,  // double *, in [lo, hi]
    CLI_OPT_FLOAT,   // float *, in [lo, hi]
    CLI_OPT_STR,     // const char ** (the argv string itself)
    CLI_OPT_FLAG,    // bool *, set true; takes no value
    CLI_OPT_UNFLAG,  // bool *, set false (--no-plot); takes no value
    CLI_OPT_CHOICE,  // int *: the index of the value in choices "a|b|c"
    CLI_OPT_SIZE,    // uint64_t *: bytes, or a number with K, M, G or T (binary; B, iB may follow)
    CLI_OPT_CUSTOM,  // parse(opt, cmd, values): nargs values (1 or more; 0 for a flag)
} cli_opt_type;

typedef struct cli_opt cli_opt;
// Custom values: returns CLI_OK, or CLI_USAGE after printing what is wrong.
typedef int (*cli_opt_parse_fn)(const cli_opt *opt, const char *cmd, const char *const *values);

struct cli_opt {
    const char *name; // "--steps", "-n"
    cli_opt_type type;
    void *dest;
    double lo, hi;       // range of numbers (both 0: no check beyond the type's own)
    const char *metavar; // "N", "FILE"; NULL for flags (a choice shows its choices)
    const char *help;    // may hold '\n' for more lines; no default in it (printed from dest)
    const char *group;   // a heading printed before this entry when it differs from the last
    bool *given;         // set true when the option is on the command line
    unsigned *bits;      // with bit: *bits |= bit when given
    unsigned bit;
    const char *choices;    // CLI_OPT_CHOICE: "fp32|bf16|fp16"
    const char *def;        // the default as text, for a sentinel destination ("lr/10"); "": none
    cli_opt_parse_fn parse; // CLI_OPT_CUSTOM
    int nargs;              // CLI_OPT_CUSTOM: values taken (0 = 1); -1: a flag (no value)
};

typedef struct cli_cmd {
    const char *name;   // "train", "steer capture": messages say "vkt NAME: ..."
    const char *usage;  // "usage: vkt train ...\n" (more lines allowed)
    const char *about;  // paragraphs after the usage; NULL for none
    const char *epilog; // text after the options (exit codes, signals); NULL for none
    // Positional arguments (none when max_pos is 0): the first max_pos non-option words.
    const char **pos;
    int max_pos, *n_pos;
} cli_cmd;

// The entries most device commands share (dest: int *, bool *).
#define CLI_OPT_DEVICE(dest)                                                                       \
    {                                                                                              \
        "--device", CLI_OPT_INT, (dest), 0, 1000, "N", .help = "Vulkan device (see vkt devices)",  \
                                                       .def = "VKT_DEVICE, else auto"              \
    }

// Parses argv[1..argc) into the table's destinations: "--name V", "--name=V", flags, and
// positional words when cmd allows them. Returns CLI_OK; CLI_USAGE after printing
// "vkt CMD: ... (see vkt CMD --help)" (unknown option, missing or bad value, out of range);
// CLI_HELP after printing the help to stdout (--help or -h before any usage error).
int cli_parse(const cli_cmd *cmd, const cli_opt *table, int argc, char **argv);

// cli_parse for one form of a command whose forms (subcommands) take different options:
// table holds this form's, all every form's (entries may be shared by pointer or copy); an
// option of all missing from table is refused as "vkt CMD: --NAME is not an option here".
int cli_parse_form(const cli_cmd *cmd, const cli_opt *table, const cli_opt *all, int argc,
                   char **argv);

// The index of the first word of argv[1..argc) that is neither an option nor the value of one
// of table's (an option table does not know takes no value), or argc when there is none: how a
// command finds its subcommand among options that may come before or after it.
int cli_first_word(const cli_opt *table, int argc, char **argv);

// The usage, the description, the options by group with their value names, help and
// defaults (the destinations' values now), then the epilog.
void cli_print_help(FILE *f, const cli_cmd *cmd, const cli_opt *table);

#endif
