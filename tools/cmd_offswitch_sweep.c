// vkt offswitch sweep and vkt offswitch figures: the exact values (and the Monte Carlo) over
// a parameter grid into a CSV and a figure of Delta, and the paper's figures built from them.
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_offswitch.h"

#define CMD OSW_CMD
#define MAX_DIMS 4
#define MAX_VALUES 100000
#define MAX_POINTS 10000000
typedef osw_opts opts;

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
    int rc = osw_parse_pair(o, &base, &hbase);
    if (rc != CLI_OK) return rc;
    size_t n = g->points;
    vkt_offswitch_config *cfg = malloc(n * sizeof *cfg);
    vkt_offswitch_values *val = malloc(n * sizeof *val);
    vkt_offswitch_mc_result *mc = o->samples ? malloc(n * sizeof *mc) : NULL;
    vkt_error cpu_err = {0}, *err = ctx ? vkt_ctx_err(ctx) : &cpu_err; // the run's one channel
    if (!cfg || !val || (o->samples && !mc))
        rc = cli_fail(CMD, "out of memory for %zu grid points", n);
    for (size_t i = 0; i < n && rc == CLI_OK; i++) {
        cfg[i].prior = base, cfg[i].human = hbase;
        size_t rest = i;
        for (int k = g->ndims - 1; k >= 0; k--) {
            double x = g->d[k].values[rest % (size_t)g->d[k].n];
            rest /= (size_t)g->d[k].n;
            if (vkt_offswitch_set_param(&cfg[i].prior, &cfg[i].human, g->d[k].name, x, err) !=
                VKT_OK) {
                rc = i == 0 && strstr(err->msg, "is not one of")
                         ? cli_usage_error(CMD, "--grid: %s", err->msg)
                         : cli_fail(CMD, "grid point %zu: %s", i, err->msg);
                break;
            }
        }
        if (rc == CLI_OK &&
            vkt_offswitch_exact(&cfg[i].prior, &cfg[i].human, &val[i], err) != VKT_OK)
            rc = cli_fail(CMD, "grid point %zu: %s", i, err->msg);
    }
    if (rc == CLI_OK && o->samples && n > UINT32_MAX)
        rc = cli_fail(CMD, "too many grid points for the Monte Carlo");
    if (rc == CLI_OK && o->samples && osw_mc_run(ctx, o, cfg, (uint32_t)n, mc, err) != VKT_OK)
        rc = cli_fail(CMD, "%s", err->msg);

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

int osw_run_sweep(const opts *o) {
    if (!o->grid) return cli_usage_error(CMD, "sweep needs --grid");
    if (!o->out) return cli_usage_error(CMD, "sweep needs --out FILE.csv");
    grid g;
    int rc = grid_parse(o->grid, &g);
    if (rc != CLI_OK) return rc;
    vkt_ctx *ctx = NULL;
    size_t rows = 0;
    rc = osw_open_mc_device(o, &ctx);
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

int osw_run_figures(const opts *o) {
    if (!o->out) return cli_usage_error(CMD, "figures needs --out DIR");
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST)
        return cli_fail(CMD, "cannot create '%s': %s", o->out, strerror(errno));
    vkt_ctx *ctx = NULL;
    int rc = osw_open_mc_device(o, &ctx);
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
