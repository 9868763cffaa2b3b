// vkt offswitch: the off-switch game (Hadfield-Menell et al. 2017). Exact values of one
// (prior, human) pair, sweeps over a parameter grid into a CSV (and a figure), and the
// paper's figures. The Monte Carlo is one call, vkt_offswitch_mc, for a whole grid.
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opt.h"
#include "cli_device.h"
#include "commands.h"
#include "offswitch.h"
#include "offswitch_mc.h"

#define CMD "offswitch"
#define MAX_DIMS 4
#define MAX_VALUES 100000
#define MAX_POINTS 10000000

static const char USAGE[] =
    "usage: vkt offswitch --prior SPEC --human SPEC [--samples N] [--seed S] [--device N] "
    "[--json]\n"
    "       vkt offswitch sweep --prior SPEC --human SPEC --grid GRID --out FILE.csv [--plot "
    "FIG.png]\n"
    "                           [--samples N] [--seed S] [--device N] [--json]\n"
    "       vkt offswitch figures --out DIR [--samples N] [--seed S] [--device N]\n";

static const char EPILOG[] =
    "vkt offswitch sweep --help, vkt offswitch figures --help: the other forms' options.\n\n"
    "environment: VKT_TOOLS_DIR (where offswitch_plot.py is), VKT_PYTHON (default "
    "/usr/bin/python3)\n";

static const cli_cmd VALUES_CMD = {
    .name = CMD,
    .usage = USAGE,
    .about =
        "The off-switch game (Hadfield-Menell et al., IJCAI 2017): robot R acts (payoff U), "
        "switches\n"
        "itself off (0) or waits for human H, who lets the action happen with probability "
        "pi_H(U).\n"
        "Prints V(act) = E[U], V(off) = 0, V(wait) = E[pi_H(U) U], Delta = V(wait) - max(V(act), "
        "V(off)),\n"
        "R's best choice (wait when Delta >= 0) and P(H switches R off | wait), all exact.\n",
    .epilog = EPILOG,
};

static const cli_cmd SWEEP_CMD = {
    .name = CMD,
    .usage = USAGE,
    .about = "sweep: the exact values (and with --samples the Monte Carlo) at every point of a\n"
             "parameter grid, into a CSV, and with --plot a figure of Delta.\n",
    .epilog = EPILOG,
};

static const cli_cmd FIGURES_CMD = {
    .name = CMD,
    .usage = USAGE,
    .about = "figures: the paper's figures into DIR (CSV + PNG each): Delta vs sigma for E[U] in\n"
             "  {0, 0.75, -0.25} (rational H); Delta over (sigma, E[U]) (rational H); Delta over\n"
             "  (sigma, beta) for E[U] in {-0.25, 0, 0.25} (Boltzmann H).\n",
    .epilog = EPILOG,
};

// --- options: one table a form, its entries picked from every form's --------------------

typedef struct opts {
    const char *prior, *human, *grid, *out, *plot;
    uint64_t samples, seed;
    int device;
    bool json, cpu;
} opts;

enum {
    O_PRIOR,
    O_HUMAN,
    O_GRID,
    O_OUT,
    O_PLOT,
    O_DIR,
    O_SAMPLES,
    O_SEED,
    O_DEVICE,
    O_CPU,
    O_JSON,
    O_JSON_SWEEP,
    O_COUNT
};

// Parses the options of a form (sub: NULL, "sweep" or "figures") from argv[1..]; returns
// CLI_OK, CLI_USAGE after printing, or CLI_HELP after printing the form's help.
static int parse_opts(int argc, char **argv, const char *sub, opts *o) {
    o->seed = 1;
    o->device = -1;
    const cli_opt all[O_COUNT + 1] = {
        [O_PRIOR] = {"--prior", CLI_OPT_STR, &o->prior, .metavar = "SPEC",
                     .help = "normal:mu=M,sigma=S | uniform:lo=A,hi=B | discrete:u1@p1;u2@p2;...\n"
                             "| mixture:w1*normal(mu=M1,sigma=S1)+w2*normal(mu=M2,sigma=S2)+...\n"
                             "| samples:FILE (one number a line)"},
        [O_HUMAN] = {"--human", CLI_OPT_STR, &o->human, .metavar = "SPEC",
                     .help = "rational | boltzmann:beta=B (pi_H(u) = 1/(1+exp(-u/B))) | "
                             "noisy:eps=E"},
        [O_GRID] = {"--grid", CLI_OPT_STR, &o->grid, .metavar = "GRID",
                    .help = "comma-separated NAME=LO:HI:COUNT (COUNT points LO + k(HI-LO)/COUNT, "
                            "HI\n"
                            "excluded) or NAME=V1;V2;... (a list); NAME is a parameter of the "
                            "prior\n"
                            "or human: mu, sigma (normal), lo, hi (uniform), beta (boltzmann),\n"
                            "eps (noisy). Example: --grid \"sigma=0.05:1:40,beta=0.5:1.5:40\""},
        [O_OUT] = {"--out", CLI_OPT_STR, &o->out, .metavar = "FILE",
                   .help = "CSV, one row per grid point (first parameter outermost): the\n"
                           "parameters, v_act, v_off, v_wait, delta, best, p_off, mc_v_wait,\n"
                           "mc_v_wait_se, mc_p_off, mc_p_off_se (empty without --samples), prior,\n"
                           "human"},
        [O_PLOT] = {"--plot", CLI_OPT_STR, &o->plot, .metavar = "FIG",
                    .help = "draw Delta from the CSV (tools/offswitch_plot.py, matplotlib): a "
                            "line\n"
                            "per value of a listed parameter, else a line (1 parameter) or a\n"
                            "heatmap (2)"},
        [O_DIR] = {"--out", CLI_OPT_STR, &o->out, .metavar = "DIR",
                   .help = "folder for the figures (created if absent)"},
        [O_SAMPLES] = {"--samples", CLI_OPT_U64, &o->samples, .metavar = "N",
                       .help = "also estimate V(wait) and P(off) by Monte Carlo (N samples each,\n"
                               "0 or >= 2); a run longer than 2 s prints its progress to stderr\n"
                               "every 2 s (not with --json)"},
        [O_SEED] = {"--seed", CLI_OPT_U64, &o->seed, .metavar = "S",
                    .help = "Monte Carlo seed: sample i is Philox4x32-10 of (S, config, i)"},
        [O_DEVICE] = {"--device", CLI_OPT_INT, &o->device, 0, 1000, "N",
                      .def = "VKT_DEVICE, else the first GPU",
                      .help = "Vulkan device for the Monte Carlo (see vkt devices)"},
        [O_CPU] = {"--cpu", CLI_OPT_FLAG, &o->cpu,
                   .help = "run the Monte Carlo on the CPU reference instead (the same samples)"},
        [O_JSON] = {"--json", CLI_OPT_FLAG, &o->json,
                    .help = "one JSON object: v_act, v_off, v_wait, delta, best, p_off, and with\n"
                            "--samples mc_v_wait, mc_se, mc_p_off, mc_p_off_se, samples, seed"},
        [O_JSON_SWEEP] = {"--json", CLI_OPT_FLAG, &o->json,
                          .help = "one JSON object: csv, rows and plot"},
    };
    static const int values[] = {O_PRIOR, O_HUMAN, O_SAMPLES, O_SEED, O_DEVICE, O_CPU, O_JSON, -1};
    static const int sweep[] = {O_PRIOR, O_HUMAN,  O_GRID, O_OUT,        O_PLOT, O_SAMPLES,
                                O_SEED,  O_DEVICE, O_CPU,  O_JSON_SWEEP, -1};
    static const int figures[] = {O_DIR, O_SAMPLES, O_SEED, O_DEVICE, O_CPU, -1};
    const int *pick = !sub ? values : !strcmp(sub, "sweep") ? sweep : figures;
    const cli_cmd *cmd = !sub ? &VALUES_CMD : !strcmp(sub, "sweep") ? &SWEEP_CMD : &FIGURES_CMD;
    cli_opt table[O_COUNT + 1] = {{0}};
    for (int k = 0; pick[k] >= 0; k++) table[k] = all[pick[k]];
    int rc = cli_parse_form(cmd, table, all, argc, argv);
    if (rc == CLI_OK && o->samples == 1) return cli_usage_error(CMD, "--samples must be 0 or >= 2");
    return rc;
}

static int parse_pair(const opts *o, vkt_offswitch_prior *p, vkt_offswitch_human *h) {
    vkt_error err = {0};
    if (!o->prior) return cli_usage_error(CMD, "--prior SPEC is required");
    if (!o->human) return cli_usage_error(CMD, "--human SPEC is required");
    if (vkt_offswitch_prior_parse(o->prior, p, &err) != VKT_OK) {
        // A file that cannot be read is a failed run; a malformed spec is bad usage.
        return err.status == VKT_ERR_IO ? cli_fail(CMD, "%s", err.msg)
                                        : cli_usage_error(CMD, "--prior: %s", err.msg);
    }
    if (vkt_offswitch_human_parse(o->human, h, &err) != VKT_OK) {
        vkt_offswitch_prior_free(p);
        return cli_usage_error(CMD, "--human: %s", err.msg);
    }
    return CLI_OK;
}

// Opens the device for the Monte Carlo (the chosen or default one); *ctx stays NULL, the
// CPU reference, with --cpu or when nothing is sampled.
static int open_mc_device(const opts *o, vkt_ctx **ctx) {
    *ctx = NULL;
    if (o->cpu || o->samples == 0) return CLI_OK;
    return cli_open_device(CMD, o->device, ctx);
}

// --- progress of a long Monte Carlo ----------------------------------------------------------

// A line on stderr at most every 2 s, the first after 2 s (a short run prints none), none with
// --json; the results printed are not touched. The CPU reference reports as it goes, a device
// after each range of blocks (up to 1024 a configuration).
typedef struct mc_progress {
    double t0, last;
    bool tty, shown;
} mc_progress;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fmt_secs(double s, char *out, size_t n) {
    if (!isfinite(s) || s < 0)
        snprintf(out, n, "?");
    else if (s < 60)
        snprintf(out, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(out, n, "%.0fh%02dm", floor(s / 3600), (int)fmod(s, 3600) / 60);
}

static void on_mc_progress(void *user, uint64_t done, uint64_t total) {
    mc_progress *p = user;
    double t = now_s();
    if (t - p->last < 2 || done == 0 || done >= total) return;
    p->last = t;
    char el[32], eta[32];
    fmt_secs(t - p->t0, el, sizeof el);
    fmt_secs((t - p->t0) * (double)(total - done) / (double)done, eta, sizeof eta);
    fprintf(stderr, "%svkt offswitch: Monte Carlo %.4g / %.4g samples (%.1f%%), %s, ETA %s%s",
            p->tty ? "\r" : "", (double)done, (double)total, 100.0 * (double)done / (double)total,
            el, eta, p->tty ? "   " : "\n");
    fflush(stderr);
    p->shown = true;
}

// The estimate with progress (see above) unless quiet.
static vkt_status mc_run(vkt_ctx *ctx, const opts *o, const vkt_offswitch_config *cfg, uint32_t n,
                         vkt_offswitch_mc_result *out, vkt_error *err) {
    mc_progress p = {.t0 = now_s(), .tty = cli_stderr_is_tty()};
    p.last = p.t0;
    vkt_offswitch_mc_progress pg = {on_mc_progress, &p};
    vkt_status s =
        vkt_offswitch_mc_ex(ctx, cfg, n, o->samples, o->seed, o->json ? NULL : &pg, out, err);
    if (p.shown && p.tty) fputc('\n', stderr);
    return s;
}

// --- vkt offswitch --prior ... --human ... --------------------------------------------------

static int run_values(const opts *o) {
    vkt_offswitch_prior p;
    vkt_offswitch_human h;
    int rc = parse_pair(o, &p, &h);
    if (rc != CLI_OK) return rc;
    vkt_error err = {0};
    vkt_offswitch_values v;
    vkt_offswitch_mc_result mc = {0};
    vkt_ctx *ctx = NULL;
    if (vkt_offswitch_exact(&p, &h, &v, &err) != VKT_OK) rc = cli_fail(CMD, "%s", err.msg);
    if (rc == CLI_OK && o->samples) {
        rc = open_mc_device(o, &ctx);
        vkt_offswitch_config cfg = {p, h};
        if (rc == CLI_OK && mc_run(ctx, o, &cfg, 1, &mc, &err) != VKT_OK)
            rc = cli_fail(CMD, "%s", err.msg);
        if (ctx) vkt_ctx_destroy(ctx);
    }
    vkt_offswitch_prior_free(&p);
    if (rc != CLI_OK) return rc;
    const char *best = vkt_offswitch_choice_name(v.best);
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "prior", json_string(o->prior));
        json_object_set_new(j, "human", json_string(o->human));
        json_object_set_new(j, "v_act", json_real(v.v_act));
        json_object_set_new(j, "v_off", json_real(v.v_off));
        json_object_set_new(j, "v_wait", json_real(v.v_wait));
        json_object_set_new(j, "delta", json_real(v.delta));
        json_object_set_new(j, "best", json_string(best));
        json_object_set_new(j, "p_off", json_real(v.p_off));
        if (o->samples) {
            json_object_set_new(j, "mc_v_wait", json_real(mc.v_wait));
            json_object_set_new(j, "mc_se", json_real(mc.v_wait_se));
            json_object_set_new(j, "mc_p_off", json_real(mc.p_off));
            json_object_set_new(j, "mc_p_off_se", json_real(mc.p_off_se));
            json_object_set_new(j, "samples", json_integer((json_int_t)o->samples));
            json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
        }
        char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
        printf("%s\n", s);
        free(s);
        json_decref(j);
        return CLI_OK;
    }
    printf("prior        %s\nhuman        %s\n", o->prior, o->human);
    printf("V(act)       %.12g\nV(off)       %.12g\nV(wait)      %.12g\n", v.v_act, v.v_off,
           v.v_wait);
    printf("Delta        %.12g\nbest         %s\nP(off|wait)  %.12g\n", v.delta, best, v.p_off);
    if (o->samples) {
        printf("MC V(wait)   %.8g +- %.2g  (%llu samples, seed %llu)\n", mc.v_wait, mc.v_wait_se,
               (unsigned long long)o->samples, (unsigned long long)o->seed);
        printf("MC P(off)    %.8g +- %.2g\n", mc.p_off, mc.p_off_se);
    }
    return CLI_OK;
}

// --- grids ---------------------------------------------------------------------------------

typedef struct dim {
    char name[16];
    int n;
    int is_list; // NAME=V1;V2;...: plotted as one line per value
    double *values;
} dim;

typedef struct grid {
    int ndims;
    dim d[MAX_DIMS];
    size_t points;
} grid;

static void grid_free(grid *g) {
    for (int i = 0; i < g->ndims; i++) free(g->d[i].values);
    memset(g, 0, sizeof *g);
}

static int parse_double_tok(const char *s, size_t len, double *out) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

// "sigma=0.05:1:40,beta=0.5;1;1.5" -> dims. Prints the fault and returns CLI_USAGE on error.
static int grid_parse(const char *spec, grid *g) {
    memset(g, 0, sizeof *g);
    const char *s = spec;
    g->points = 1;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (g->ndims == MAX_DIMS) {
            grid_free(g);
            return cli_usage_error(CMD, "--grid '%s': at most %d parameters", spec, MAX_DIMS);
        }
        dim *d = &g->d[g->ndims];
        if (!eq || eq == s || (size_t)(eq - s) >= sizeof d->name) {
            grid_free(g);
            return cli_usage_error(CMD,
                                   "--grid '%s': '%.*s' is not NAME=LO:HI:COUNT or NAME=V1;V2;...",
                                   spec, (int)len, s);
        }
        memcpy(d->name, s, (size_t)(eq - s));
        for (int i = 0; i < g->ndims; i++)
            if (!strcmp(g->d[i].name, d->name)) {
                grid_free(g);
                return cli_usage_error(CMD, "--grid '%s': parameter '%s' given twice", spec,
                                       d->name);
            }
        g->ndims++;
        const char *v = eq + 1;
        size_t vlen = len - (size_t)(v - s);
        const char *c1 = memchr(v, ':', vlen);
        if (c1) {
            const char *c2 = memchr(c1 + 1, ':', vlen - (size_t)(c1 + 1 - v));
            double lo, hi, cnt;
            if (!c2 || !parse_double_tok(v, (size_t)(c1 - v), &lo) ||
                !parse_double_tok(c1 + 1, (size_t)(c2 - c1 - 1), &hi) ||
                !parse_double_tok(c2 + 1, vlen - (size_t)(c2 + 1 - v), &cnt) || cnt != floor(cnt) ||
                cnt < 1 || cnt > MAX_VALUES || !(hi > lo)) {
                grid_free(g);
                return cli_usage_error(
                    CMD, "--grid '%s': '%.*s' needs LO:HI:COUNT with LO < HI and COUNT in 1..%d",
                    spec, (int)len, s, MAX_VALUES);
            }
            d->n = (int)cnt;
            d->values = malloc((size_t)d->n * sizeof *d->values);
            for (int k = 0; k < d->n; k++) d->values[k] = lo + (hi - lo) * k / d->n;
        } else {
            d->is_list = 1;
            d->values = malloc((vlen / 2 + 1) * sizeof *d->values);
            const char *t = v, *vend = v + vlen;
            while (t <= vend) {
                const char *semi = memchr(t, ';', (size_t)(vend - t));
                size_t tl = semi ? (size_t)(semi - t) : (size_t)(vend - t);
                if (!parse_double_tok(t, tl, &d->values[d->n])) {
                    grid_free(g);
                    return cli_usage_error(CMD, "--grid '%s': '%.*s' is not a number", spec,
                                           (int)tl, t);
                }
                d->n++;
                if (!semi) break;
                t = semi + 1;
            }
        }
        g->points *= (size_t)d->n;
        if (g->points > MAX_POINTS) {
            grid_free(g);
            return cli_usage_error(CMD, "--grid '%s': more than %d points", spec, MAX_POINTS);
        }
        s += len;
        if (*s == ',') s++;
    }
    if (g->ndims == 0) return cli_usage_error(CMD, "--grid is empty");
    return CLI_OK;
}

// --- sweeps --------------------------------------------------------------------------------

static void csv_field_quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

// Computes every grid point (exact, and Monte Carlo in one call when samples > 0) and
// writes the CSV to a temporary name renamed into place. *rows gets the row count.
static int sweep(const opts *o, const grid *g, vkt_ctx *ctx, size_t *rows) {
    vkt_offswitch_prior base;
    vkt_offswitch_human hbase;
    int rc = parse_pair(o, &base, &hbase);
    if (rc != CLI_OK) return rc;
    size_t n = g->points;
    vkt_offswitch_config *cfg = malloc(n * sizeof *cfg);
    vkt_offswitch_values *val = malloc(n * sizeof *val);
    vkt_offswitch_mc_result *mc = o->samples ? malloc(n * sizeof *mc) : NULL;
    vkt_error err = {0};
    if (!cfg || !val || (o->samples && !mc))
        rc = cli_fail(CMD, "out of memory for %zu grid points", n);
    for (size_t i = 0; i < n && rc == CLI_OK; i++) {
        cfg[i].prior = base, cfg[i].human = hbase;
        size_t rest = i;
        for (int k = g->ndims - 1; k >= 0; k--) {
            double x = g->d[k].values[rest % (size_t)g->d[k].n];
            rest /= (size_t)g->d[k].n;
            if (vkt_offswitch_set_param(&cfg[i].prior, &cfg[i].human, g->d[k].name, x, &err) !=
                VKT_OK) {
                rc = i == 0 && strstr(err.msg, "is not one of")
                         ? cli_usage_error(CMD, "--grid: %s", err.msg)
                         : cli_fail(CMD, "grid point %zu: %s", i, err.msg);
                break;
            }
        }
        if (rc == CLI_OK &&
            vkt_offswitch_exact(&cfg[i].prior, &cfg[i].human, &val[i], &err) != VKT_OK)
            rc = cli_fail(CMD, "grid point %zu: %s", i, err.msg);
    }
    if (rc == CLI_OK && o->samples && n > UINT32_MAX)
        rc = cli_fail(CMD, "too many grid points for the Monte Carlo");
    if (rc == CLI_OK && o->samples && mc_run(ctx, o, cfg, (uint32_t)n, mc, &err) != VKT_OK)
        rc = cli_fail(CMD, "%s", err.msg);

    char tmp[4096];
    FILE *f = NULL;
    if (rc == CLI_OK) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o->out, (long)getpid());
        f = fopen(tmp, "w");
        if (!f) rc = cli_fail(CMD, "cannot write '%s': %s", tmp, strerror(errno));
    }
    if (rc == CLI_OK) {
        for (int k = 0; k < g->ndims; k++) fprintf(f, "%s,", g->d[k].name);
        fprintf(f, "v_act,v_off,v_wait,delta,best,p_off,mc_v_wait,mc_v_wait_se,mc_p_off,mc_p_off_"
                   "se,prior,human\n");
        for (size_t i = 0; i < n; i++) {
            size_t rest = i;
            double x[MAX_DIMS];
            for (int k = g->ndims - 1; k >= 0; k--) {
                x[k] = g->d[k].values[rest % (size_t)g->d[k].n];
                rest /= (size_t)g->d[k].n;
            }
            for (int k = 0; k < g->ndims; k++) fprintf(f, "%.10g,", x[k]);
            const vkt_offswitch_values *v = &val[i];
            fprintf(f, "%.17g,%.17g,%.17g,%.17g,%s,%.17g,", v->v_act, v->v_off, v->v_wait, v->delta,
                    vkt_offswitch_choice_name(v->best), v->p_off);
            if (mc)
                fprintf(f, "%.17g,%.6g,%.17g,%.6g,", mc[i].v_wait, mc[i].v_wait_se, mc[i].p_off,
                        mc[i].p_off_se);
            else
                fprintf(f, ",,,,");
            char ps[2048], hs[128];
            vkt_offswitch_prior_format(&cfg[i].prior, ps, sizeof ps);
            vkt_offswitch_human_format(&cfg[i].human, hs, sizeof hs);
            csv_field_quoted(f, ps);
            fputc(',', f);
            csv_field_quoted(f, hs);
            fputc('\n', f);
        }
        int bad = ferror(f);
        if (fclose(f) != 0 || bad)
            rc = cli_fail(CMD, "writing '%s' failed", tmp);
        else if (rename(tmp, o->out) != 0)
            rc = cli_fail(CMD, "cannot rename '%s' to '%s': %s", tmp, o->out, strerror(errno));
        if (rc != CLI_OK) unlink(tmp);
    }
    *rows = n;
    free(cfg);
    free(val);
    free(mc);
    vkt_offswitch_prior_free(&base);
    return rc;
}

// --- plotting through tools/offswitch_plot.py --------------------------------------------

// Chooses the figure for a grid: a listed parameter (or the second of two with <= 6
// values) becomes one line per value; otherwise a line for one parameter, a heatmap for two.
static int plot_grid(const grid *g, const char *csv, const char *png, const char *title) {
    char *args[16];
    int n = 0;
    args[n++] = "--csv", args[n++] = (char *)csv, args[n++] = "--out", args[n++] = (char *)png;
    if (title) args[n++] = "--title", args[n++] = (char *)title;
    int series = -1;
    for (int k = 0; k < g->ndims; k++)
        if (g->d[k].is_list && g->ndims > 1) series = k;
    if (g->ndims > 3 || (g->ndims == 3 && series < 0))
        return cli_usage_error(
            CMD, "--plot draws grids of 1 or 2 parameters (plus one listed parameter)");
    int xs[3] = {0, 0, 0}, nx = 0;
    for (int k = 0; k < g->ndims; k++)
        if (k != series) xs[nx++] = k;
    args[n++] = "--x", args[n++] = (char *)g->d[xs[0]].name;
    if (nx == 2) args[n++] = "--y", args[n++] = (char *)g->d[xs[1]].name;
    if (series >= 0) args[n++] = "--series", args[n++] = (char *)g->d[series].name;
    args[n] = NULL;
    return cli_run_python(CMD, "offswitch_plot.py", args);
}

static int run_sweep(const opts *o) {
    if (!o->grid) return cli_usage_error(CMD, "sweep needs --grid");
    if (!o->out) return cli_usage_error(CMD, "sweep needs --out FILE.csv");
    grid g;
    int rc = grid_parse(o->grid, &g);
    if (rc != CLI_OK) return rc;
    vkt_ctx *ctx = NULL;
    size_t rows = 0;
    rc = open_mc_device(o, &ctx);
    if (rc == CLI_OK) rc = sweep(o, &g, ctx, &rows);
    if (ctx) vkt_ctx_destroy(ctx);
    if (rc == CLI_OK && o->plot) rc = plot_grid(&g, o->out, o->plot, NULL);
    grid_free(&g);
    if (rc != CLI_OK) return rc;
    if (o->json) {
        json_t *j =
            json_pack("{s:s, s:I, s:s?}", "csv", o->out, "rows", (json_int_t)rows, "plot", o->plot);
        char *s = json_dumps(j, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("wrote %s (%zu rows)%s%s\n", o->out, rows, o->plot ? " and " : "",
               o->plot ? o->plot : "");
    }
    return CLI_OK;
}

// --- the paper's figures ---------------------------------------------------------------------

typedef struct figure {
    const char *name, *prior, *human, *grid, *title;
} figure;

static const figure FIGURES[] = {
    {"delta_vs_sigma_rational", "normal:mu=0,sigma=1", "rational",
     "mu=0;0.75;-0.25,sigma=0.05:1:190", "Rational H: incentive to wait vs R's uncertainty"},
    {"delta_sigma_mu_rational", "normal:mu=0,sigma=1", "rational", "sigma=0.05:1:95,mu=-1:1:100",
     "Rational H: Delta over (sigma, E[U])"},
    {"delta_sigma_beta_mu-0.25", "normal:mu=-0.25,sigma=1", "boltzmann:beta=1",
     "sigma=0.05:1:95,beta=0.5:1.5:100", "Boltzmann H, E[U] = -0.25: Delta over (sigma, beta)"},
    {"delta_sigma_beta_mu0", "normal:mu=0,sigma=1", "boltzmann:beta=1",
     "sigma=0.05:1:95,beta=0.5:1.5:100", "Boltzmann H, E[U] = 0: Delta over (sigma, beta)"},
    {"delta_sigma_beta_mu0.25", "normal:mu=0.25,sigma=1", "boltzmann:beta=1",
     "sigma=0.05:1:95,beta=0.5:1.5:100", "Boltzmann H, E[U] = 0.25: Delta over (sigma, beta)"},
};

static int run_figures(const opts *o) {
    if (!o->out) return cli_usage_error(CMD, "figures needs --out DIR");
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST)
        return cli_fail(CMD, "cannot create '%s': %s", o->out, strerror(errno));
    vkt_ctx *ctx = NULL;
    int rc = open_mc_device(o, &ctx);
    for (size_t i = 0; i < sizeof FIGURES / sizeof *FIGURES && rc == CLI_OK; i++) {
        const figure *fg = &FIGURES[i];
        char csv[4096], png[4096];
        snprintf(csv, sizeof csv, "%s/%s.csv", o->out, fg->name);
        snprintf(png, sizeof png, "%s/%s.png", o->out, fg->name);
        opts fo = *o;
        fo.prior = fg->prior, fo.human = fg->human, fo.grid = fg->grid, fo.out = csv;
        grid g;
        size_t rows;
        rc = grid_parse(fg->grid, &g);
        if (rc == CLI_OK) rc = sweep(&fo, &g, ctx, &rows);
        if (rc == CLI_OK) rc = plot_grid(&g, csv, png, fg->title);
        grid_free(&g);
        if (rc == CLI_OK) printf("wrote %s\n", png);
    }
    if (ctx) vkt_ctx_destroy(ctx);
    return rc;
}

int cmd_offswitch(int argc, char **argv) {
    opts o = {0};
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (sub && strcmp(sub, "sweep") && strcmp(sub, "figures"))
        return cli_usage_error(CMD, "unknown subcommand '%s' (sweep or figures)", sub);
    int rc = sub ? parse_opts(argc - 1, argv + 1, sub, &o) : parse_opts(argc, argv, NULL, &o);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    if (!sub) return run_values(&o);
    if (!strcmp(sub, "sweep")) return run_sweep(&o);
    return run_figures(&o);
}
