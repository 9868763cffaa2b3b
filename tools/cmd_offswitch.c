// vkt offswitch: the off-switch game (Hadfield-Menell et al. 2017). Exact values of one
// (prior, human) pair, sweeps over a parameter grid into a CSV (and a figure), and the
// paper's figures. The Monte Carlo is one call, vkt_offswitch_mc, for a whole grid.
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "cli_device.h"
#include "cmd_offswitch.h"
#include "commands.h"

#define CMD OSW_CMD
typedef osw_opts opts;

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

int osw_parse_pair(const opts *o, vkt_offswitch_prior *p, vkt_offswitch_human *h) {
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
int osw_open_mc_device(const opts *o, vkt_ctx **ctx) {
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

static void on_mc_progress(void *user, uint64_t done, uint64_t total) {
    mc_progress *p = user;
    double t = cli_now_s();
    if (t - p->last < 2 || done == 0 || done >= total) return;
    p->last = t;
    char el[32], eta[32];
    cli_fmt_secs(t - p->t0, el, sizeof el);
    cli_fmt_secs((t - p->t0) * (double)(total - done) / (double)done, eta, sizeof eta);
    fprintf(stderr, "%svkt offswitch: Monte Carlo %.4g / %.4g samples (%.1f%%), %s, ETA %s%s",
            p->tty ? "\r" : "", (double)done, (double)total, 100.0 * (double)done / (double)total,
            el, eta, p->tty ? "   " : "\n");
    fflush(stderr);
    p->shown = true;
}

// The estimate with progress (see above) unless quiet.
vkt_status osw_mc_run(vkt_ctx *ctx, const opts *o, const vkt_offswitch_config *cfg, uint32_t n,
                      vkt_offswitch_mc_result *out, vkt_error *err) {
    mc_progress p = {.t0 = cli_now_s(), .tty = cli_stderr_is_tty()};
    p.last = p.t0;
    vkt_offswitch_mc_progress pg = {on_mc_progress, &p}, *pp = o->json ? NULL : &pg;
    vkt_status s = ctx ? vkt_offswitch_mc_device_run_ex(ctx, cfg, n, o->samples, o->seed, pp, out)
                       : vkt_offswitch_mc_ex(cfg, n, o->samples, o->seed, pp, out, err);
    if (p.shown && p.tty) fputc('\n', stderr);
    return s;
}

// --- vkt offswitch --prior ... --human ... --------------------------------------------------

static int run_values(const opts *o) {
    vkt_offswitch_prior p;
    vkt_offswitch_human h;
    int rc = osw_parse_pair(o, &p, &h);
    if (rc != CLI_OK) return rc;
    vkt_error cpu_err = {0};
    vkt_offswitch_values v;
    vkt_offswitch_mc_result mc = {0};
    vkt_ctx *ctx = NULL;
    if (vkt_offswitch_exact(&p, &h, &v, &cpu_err) != VKT_OK) rc = cli_fail(CMD, "%s", cpu_err.msg);
    if (rc == CLI_OK && o->samples) {
        rc = osw_open_mc_device(o, &ctx);
        vkt_error *err = ctx ? vkt_ctx_err(ctx) : &cpu_err; // the run's one channel
        vkt_offswitch_config cfg = {p, h};
        if (rc == CLI_OK && osw_mc_run(ctx, o, &cfg, 1, &mc, err) != VKT_OK)
            rc = cli_fail(CMD, "%s", err->msg);
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

int cmd_offswitch(int argc, char **argv) {
    opts o = {0};
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (sub && strcmp(sub, "sweep") && strcmp(sub, "figures"))
        return cli_usage_error(CMD, "unknown subcommand '%s' (sweep or figures)", sub);
    int rc = sub ? parse_opts(argc - 1, argv + 1, sub, &o) : parse_opts(argc, argv, NULL, &o);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    if (!sub) return run_values(&o);
    if (!strcmp(sub, "sweep")) return osw_run_sweep(&o);
    return osw_run_figures(&o);
}
