// test_cli_opt.c: the CLI's option table (tools/cli_opt.h): parsing every type, ranges,
// --x=y, unknown and valueless flags, the given bits, positional words, a --help that names
// every option with the default its destination holds, and the forms of a command that take
// different options. No device.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The CLI's sources are not a library: compile the three this test needs into it.
#include "../tools/cli.c"
#include "../tools/cli_memory.c"
#include "../tools/cli_opt.c"

typedef struct vals {
    int steps, prec;
    long batch;
    uint64_t seed, mem;
    double lr;
    float alpha;
    const char *out;
    bool json, plot, steps_given;
    unsigned bits;
    int pairs[2];
} vals;

static int parse_pair(const cli_opt *o, const char *cmd, const char *const *v) {
    int *p = o->dest;
    p[0] = atoi(v[0]), p[1] = atoi(v[1]);
    if (p[0] > p[1]) return cli_usage_error(cmd, "%s: %d > %d", o->name, p[0], p[1]);
    return CLI_OK;
}

static void table(vals *v, cli_opt *t) {
    const cli_opt all[] = {
        {"--out", CLI_OPT_STR, &v->out, .metavar = "DIR", .help = "where to write",
         .group = "Files:"},
        {"--steps", CLI_OPT_INT, &v->steps, 1, 1000, "N", .help = "optimizer steps",
         .group = "Training:", .given = &v->steps_given},
        {"--batch", CLI_OPT_LONG, &v->batch, 1, 64, "B", .help = "rows per step\nand a second line",
         .bits = &v->bits, .bit = 4},
        {"--lr", CLI_OPT_DOUBLE, &v->lr, 0, 10, "LR", .help = "learning rate", .bits = &v->bits,
         .bit = 1},
        {"--alpha", CLI_OPT_FLOAT, &v->alpha, 1e-6, 1e6, "A", .help = "scale"},
        {"--seed", CLI_OPT_U64, &v->seed, .metavar = "S", .help = "seed"},
        {"--precision", CLI_OPT_CHOICE, &v->prec, .choices = "fp32|bf16|fp16",
         .help = "arithmetic"},
        {"--device-memory", CLI_OPT_SIZE, &v->mem, .metavar = "SIZE", .help = "budget"},
        {"--range", CLI_OPT_CUSTOM, v->pairs, .metavar = "A B", .help = "two layers",
         .parse = parse_pair, .nargs = 2, .def = "all"},
        {"--json", CLI_OPT_FLAG, &v->json, .help = "print JSON", .group = "Output:"},
        {"--no-plot", CLI_OPT_UNFLAG, &v->plot, .help = "no figures"},
        {0},
    };
    memcpy(t, all, sizeof all);
}

static void defaults(vals *v) {
    *v = (vals){.steps = 10, .batch = 8, .seed = 1, .lr = 1e-3, .alpha = 8, .plot = true};
}

static const cli_cmd CMD = {.name = "t",
                            .usage = "usage: vkt t [options]\n",
                            .about = "About it.\n",
                            .epilog = "Exit codes: 0, 1, 2.\n"};

// argv from a space-separated string (no quoting).
static int split(char *s, char **argv) {
    int n = 0;
    argv[n++] = "t";
    for (char *tok = strtok(s, " "); tok && n < 31; tok = strtok(NULL, " ")) argv[n++] = tok;
    return n;
}

// When set, parse() parses one form of the command: these options of the table, the
// others refused by name (cli_parse_form).
static const char *const *form;

// cli_parse with stdout and stderr captured: exit code, and what each received.
static int parse(const char *args, vals *v, char **out, char **err) {
    cli_opt t[16], ft[16];
    table(v, t);
    int nf = 0;
    for (const cli_opt *o = t; form && o->type != CLI_OPT_END; o++)
        for (int k = 0; form[k]; k++)
            if (!strcmp(o->name, form[k])) ft[nf++] = *o;
    ft[nf] = (cli_opt){0};
    static char buf[512]; // the parsed strings point into it
    char *argv[32];
    snprintf(buf, sizeof buf, "%s", args);
    int argc = split(buf, argv);
    FILE *fo = tmpfile(), *fe = tmpfile();
    fflush(stdout), fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1), dup2(fileno(fe), 2);
    int rc = form ? cli_parse_form(&CMD, ft, t, argc, argv) : cli_parse(&CMD, t, argc, argv);
    fflush(stdout), fflush(stderr);
    dup2(so, 1), dup2(se, 2), close(so), close(se);
    char *bufs[2] = {NULL, NULL};
    FILE *fs[2] = {fo, fe};
    for (int k = 0; k < 2; k++) {
        long n = ftell(fs[k]);
        rewind(fs[k]);
        bufs[k] = calloc(1, (size_t)n + 1);
        if (n > 0 && fread(bufs[k], 1, (size_t)n, fs[k]) != (size_t)n)
            fail_msg("reading the capture");
        fclose(fs[k]);
    }
    if (out)
        *out = bufs[0];
    else
        free(bufs[0]);
    if (err)
        *err = bufs[1];
    else
        free(bufs[1]);
    return rc;
}

static void expect_usage(const char *args, const char *want) {
    vals v;
    defaults(&v);
    char *e;
    int rc = parse(args, &v, NULL, &e);
    if (rc != CLI_USAGE || !strstr(e, want))
        fail_msg("'%s': exit %d, stderr '%s' (want '%s')", args, rc, e, want);
    free(e);
}

static void test_every_type(void **st) {
    (void)st;
    vals v;
    defaults(&v);
    assert_int_equal(
        parse("--out d --steps 20 --batch=3 --lr 0.5 --alpha 2 --seed 1e9 --precision bf16 "
              "--device-memory 1.5G --range 2 5 --json --no-plot",
              &v, NULL, NULL),
        CLI_OK);
    assert_string_equal(v.out, "d");
    assert_int_equal(v.steps, 20);
    assert_int_equal(v.batch, 3);
    assert_true(v.lr == 0.5 && v.alpha == 2.0f);
    assert_int_equal(v.seed, 1000000000ull);
    assert_int_equal(v.prec, 1);
    assert_int_equal(v.mem, 3ull << 29);
    assert_int_equal(v.pairs[0], 2);
    assert_int_equal(v.pairs[1], 5);
    assert_true(v.json && !v.plot);
    // given: the bool and the bits of exactly the options on the command line
    assert_true(v.steps_given);
    assert_int_equal(v.bits, 5);
    defaults(&v);
    assert_int_equal(parse("--out=x=y --range=1 1", &v, NULL, NULL), CLI_OK);
    assert_string_equal(v.out, "x=y");
    assert_false(v.steps_given);
    assert_int_equal(v.bits, 0);
    assert_int_equal(v.steps, 10); // untouched
}

static void test_errors(void **st) {
    (void)st;
    expect_usage("--steps 0", "vkt t: --steps: 0 is outside [1, 1000]");
    expect_usage("--steps=1001", "outside [1, 1000]");
    expect_usage("--steps x", "'x' is not an integer");
    expect_usage("--batch 65", "65 is outside [1, 64]");
    expect_usage("--lr 11", "--lr: 11 is outside [0, 10]");
    expect_usage("--lr abc", "'abc' is not a number");
    expect_usage("--seed -1", "must not be negative");
    expect_usage("--precision fp8", "--precision: 'fp8' is not fp32, bf16 or fp16");
    expect_usage("--device-memory 4X", "'4X' is not a size");
    expect_usage("--range 5 2", "--range: 5 > 2");
    expect_usage("--bogus", "vkt t: unknown option '--bogus' (see vkt t --help)");
    expect_usage("--steps-x 3", "unknown option '--steps-x'");
    expect_usage("stray", "unexpected argument 'stray'");
    expect_usage("--steps", "--steps needs a value");
    expect_usage("--range 1", "--range needs 2 values");
    expect_usage("--json=1", "--json takes no value");
}

static void test_positional(void **st) {
    (void)st;
    cli_opt t[16];
    vals v;
    defaults(&v);
    table(&v, t);
    const char *pos[2];
    int npos = -1;
    cli_cmd c = CMD;
    c.pos = pos, c.max_pos = 2, c.n_pos = &npos;
    char *argv[] = {"t", "a", "--steps", "3", "b", NULL};
    assert_int_equal(cli_parse(&c, t, 5, argv), CLI_OK);
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "a");
    assert_string_equal(pos[1], "b");
    assert_int_equal(v.steps, 3);
}

static void test_help(void **st) {
    (void)st;
    vals v;
    defaults(&v);
    v.out = "runs";
    v.mem = 4ull << 30;
    char *out, *err;
    // --help after a flag: printed with the defaults, not the flag's value
    assert_int_equal(parse("--steps 99 --help", &v, &out, &err), CLI_HELP);
    assert_int_equal(v.steps, 10);
    assert_string_equal(err, "");
    static const char *want[] = {
        "usage: vkt t [options]\n\nAbout it.\n\nFiles:\n",
        "Files:\n  --out DIR",
        "where to write (default runs)",
        "Training:\n",
        "  --steps N",
        "optimizer steps (default 10)",
        "rows per step\n",
        "and a second line (default 8)",
        "learning rate (default 0.001)",
        "scale (default 8)",
        "seed (default 1)",
        "--precision fp32|bf16|fp16",
        "arithmetic (default fp32)",
        "budget (default 4G)",
        "--range A B",
        "two layers (default all)",
        "Output:\n  --json",
        "no figures\n",
        "\nExit codes: 0, 1, 2.\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(out, want[i])) fail_msg("help lacks '%s':\n%s", want[i], out);
    // every option of the table, and no default on a flag
    cli_opt t[16];
    table(&v, t);
    for (const cli_opt *o = t; o->type != CLI_OPT_END; o++)
        if (!strstr(out, o->name)) fail_msg("help lacks %s", o->name);
    assert_null(strstr(out, "print JSON (default"));
    free(out), free(err);
    // the help names the value after the table's destination changes: it cannot go stale
    defaults(&v);
    v.steps = 7;
    assert_int_equal(parse("-h", &v, &out, NULL), CLI_HELP);
    assert_non_null(strstr(out, "optimizer steps (default 7)"));
    free(out);
    // a usage error before --help wins; --help as an option's value is a value
    expect_usage("--bogus --help", "unknown option");
    defaults(&v);
    assert_int_equal(parse("--out --help", &v, NULL, NULL), CLI_OK);
    assert_string_equal(v.out, "--help");
}

// A form (subcommand) of a command: its own options parse, another form's are refused by
// name, an option of no form is unknown, and the help shows the form's options only.
static void test_form(void **st) {
    (void)st;
    static const char *const names[] = {"--out", "--json", NULL};
    form = names;
    vals v;
    defaults(&v);
    assert_int_equal(parse("--out d --json", &v, NULL, NULL), CLI_OK);
    assert_string_equal(v.out, "d");
    assert_true(v.json);
    expect_usage("--steps 3", "vkt t: --steps is not an option here (see vkt t --help)");
    expect_usage("--range=1 2", "--range is not an option here");
    expect_usage("--nope", "unknown option '--nope'");
    char *out;
    defaults(&v);
    assert_int_equal(parse("--help", &v, &out, NULL), CLI_HELP);
    assert_non_null(strstr(out, "--out DIR"));
    assert_non_null(strstr(out, "--json"));
    assert_null(strstr(out, "--steps"));
    free(out);
    form = NULL;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_positional), cmocka_unit_test(test_help),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
