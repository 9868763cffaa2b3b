// vkt steer efficiency: the efficiency-steering experiment (issue 7,
// docs/efficiency_steering.md; after arXiv 2506.15647). Trains the task model unless
// --ckpt is given, checks it on held-out problems, extracts verbose-minus-concise
// directions, sweeps layer x strength on held-out verbose-tag prompts, evaluates the best
// setting, a random direction and the reverse edit on other held-out prompts, and writes
// CSV files, figures, efficiency.gguf and a summary.
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "cli.h"
#include "cli_device.h"
#include "cli_model.h"
#include "cmd_steer_efficiency.h"
#include "cmd_steer_efficiency_out.h"
#include "effsteer_exp.h"
#include "json_file.h"
#include "steer.h"
#include "train.h"

int cmd_steer_efficiency(int argc, char **argv);

#define CMD EFF_CMD
#define MAX_SEEDS EFF_MAX_SEEDS
#define N_KINDS EFF_N_KINDS
#define KIND_NAMES eff_kind_names
#define TRAIN_EXAMPLES EFF_TRAIN_EXAMPLES
#define TRAIN_STEPS EFF_TRAIN_STEPS
typedef eff_opts opts;

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

// ---- problem sets ---------------------------------------------------------------------------

// Held-out problems in a seeded order: the first check_problems for step 2, the next ones
// for the sweep, the next for the final test (disjoint problems).
static int heldout_problems(uint64_t seed, int *xs, int *ys) {
    int n = 0;
    for (int x = VKT_EFF_MIN; x <= VKT_EFF_MAX; x++)
        for (int y = VKT_EFF_MIN; y <= VKT_EFF_MAX; y++)
            if (vkt_eff_is_heldout(x, y, 0.1)) xs[n] = x, ys[n] = y, n++;
    vkt_rng r;
    vkt_rng_seed(&r, vkt_rng_derive(seed, 0xe1));
    for (int i = n - 1; i > 0; i--) {
        int j = (int)vkt_rng_below(&r, (uint64_t)i + 1), tx = xs[i], ty = ys[i];
        xs[i] = xs[j], ys[i] = ys[j], xs[j] = tx, ys[j] = ty;
    }
    return n;
}

// n items from problems [first, first + n) (wrapping), tags cycling over the verbose (or
// concise) ones.
static void items_for(const int *xs, const int *ys, int np, int first, int n, bool verbose,
                      vkt_eff_item *it) {
    int tags[VKT_EFF_TAGS], nt = 0;
    for (int t = 0; t < VKT_EFF_TAGS; t++)
        if (vkt_eff_tag_is_verbose(t) == verbose) tags[nt++] = t;
    for (int i = 0; i < n; i++) {
        int k = (first + i) % np;
        it[i] = (vkt_eff_item){tags[i % nt], xs[k], ys[k]};
    }
}

// ---- measurements over seeds ---------------------------------------------------------------

typedef struct {
    double tokens, verbose, accuracy, exact, bytes; // means over seeds
    vkt_eff_stats per_seed[MAX_SEEDS];
} multi;

static int measure(const eff_model *em, const opts *o, const vkt_eff_item *it, int n,
                   const float *dirs, multi *m) {
    memset(m, 0, sizeof *m);
    for (int s = 0; s < o->seeds; s++) {
        const uint64_t rs = vkt_rng_derive(o->seed, 100 + (uint64_t)s);
        if (vkt_eff_measure_enc(em->g, &em->enc, it, n, dirs, o->temperature, rs, (int)o->max_new,
                                &m->per_seed[s], NULL) != VKT_OK)
            return cli_fail(CMD, "%s", vkt_ctx_message(vkt_gen_ctx(em->g)));
        m->tokens += m->per_seed[s].mean_tokens / o->seeds;
        m->verbose += m->per_seed[s].verbose_frac / o->seeds;
        m->accuracy += m->per_seed[s].accuracy / o->seeds;
        m->exact += m->per_seed[s].exact / o->seeds;
        m->bytes += m->per_seed[s].mean_bytes / o->seeds;
    }
    return CLI_OK;
}

static void csv_rows(FILE *f, const char *set, const char *kind, int layer, double strength,
                     double scale, const opts *o, const multi *m) {
    for (int s = 0; s < o->seeds; s++) {
        const vkt_eff_stats *st = &m->per_seed[s];
        fprintf(f, "%s,%s,%d,%.4f,%.6g,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", set, kind, layer,
                strength, scale, s, st->n, st->mean_tokens, st->verbose_frac, st->recheck_rate,
                st->accuracy, st->exact, st->mean_bytes);
    }
}

static const char CSV_HEADER[] = "set,kind,layer,strength,scale,seed,prompts,mean_tokens,verbose_"
                                 "frac,recheck_rate,accuracy,exact,mean_text_bytes\n";

// dirs (L x C) zeroed, then row `layer` = sign * strength * |h| * v / |v|.
static void edit_of(const vkt_eff_dirs *d, const float *v, int layer, double strength, double sign,
                    float *dirs, double *scale) {
    const int C = d->C;
    memset(dirs, 0, (size_t)d->L * C * sizeof *dirs);
    double nv = 0;
    for (int c = 0; c < C; c++) nv += (double)v[c] * v[c];
    nv = sqrt(nv);
    const double k = nv > 0 ? sign * strength * d->h_norm[layer] / nv : 0;
    for (int c = 0; c < C; c++) dirs[(size_t)layer * C + c] = (float)(k * v[c]);
    if (scale) *scale = k;
}

// ---- the experiment -----------------------------------------------------------------------

typedef eff_summary summary;

static int check_heldout(const eff_model *em, const opts *o, const int *xs, const int *ys,
                         summary *sm) {
    const int np = (int)o->check_problems, n = np * VKT_EFF_TAGS;
    vkt_eff_item *it = malloc((size_t)n * sizeof *it);
    vkt_eff_check *ck = malloc((size_t)n * sizeof *ck);
    char *path = join(o->out, "heldout_by_tag.csv");
    if (!it || !ck || !path) {
        free(it), free(ck), free(path);
        return cli_fail(CMD, "out of memory");
    }
    for (int i = 0; i < np; i++)
        for (int t = 0; t < VKT_EFF_TAGS; t++)
            it[i * VKT_EFF_TAGS + t] = (vkt_eff_item){t, xs[i], ys[i]};
    vkt_eff_stats st;
    vkt_error *err = vkt_ctx_err(vkt_gen_ctx(em->g)); // one channel for the device and the file
    int rc = CLI_OK;
    double t0 = cli_now_s();
    if (vkt_eff_measure_enc(em->g, &em->enc, it, n, NULL, 1.0, vkt_rng_derive(o->seed, 99),
                            (int)o->max_new, &st, ck) != VKT_OK)
        rc = cli_fail(CMD, "%s", err->msg);
    vkt_atomic_file af = {0};
    if (rc == CLI_OK && vkt_atomic_file_open(&af, path, err) != VKT_OK)
        rc = cli_fail(CMD, "%s", err->msg);
    FILE *f = af.fp;
    if (rc == CLI_OK) {
        fprintf(stderr, "\n[2] held-out check: %d problems x 16 tags, sampled at T = 1 (%.0f s)\n",
                np, cli_now_s() - t0);
        fprintf(stderr, "  tag   p    accuracy  verbose  expected  re-check rate\n");
        fprintf(f, "tag,p,prompts,accuracy,verbose_frac,expected_verbose_frac,recheck_rate\n");
        int correct[2] = {0}, count[2] = {0};
        double vsum[2] = {0}, wsum[2] = {0};
        sm->check_max_vdev = 0;
        for (int t = 0; t < VKT_EFF_TAGS; t++) {
            int c = 0, v = 0, r = 0;
            for (int i = 0; i < np; i++) {
                const vkt_eff_check *k = &ck[i * VKT_EFF_TAGS + t];
                c += k->correct, v += k->verbose, r += k->rechecks;
            }
            const double p = vkt_eff_tag_table()[t].p, want = 1 - (1 - p) * (1 - p);
            const double acc = (double)c / np, vf = (double)v / np, rr = r / (2.0 * np);
            const int grp = vkt_eff_tag_is_verbose(t);
            correct[grp] += c, count[grp] += np, vsum[grp] += vf / 8, wsum[grp] += want / 8;
            if (fabs(vf - want) > sm->check_max_vdev) sm->check_max_vdev = fabs(vf - want);
            fprintf(stderr, "  %s  %.1f   %6.3f   %6.3f   %6.3f    %6.3f\n",
                    vkt_eff_tag_table()[t].name, p, acc, vf, want, rr);
            fprintf(f, "%s,%.1f,%d,%.4f,%.4f,%.4f,%.4f\n", vkt_eff_tag_table()[t].name, p, np, acc,
                    vf, want, rr);
        }
        sm->check_acc_concise = (double)correct[0] / count[0];
        sm->check_acc_verbose = (double)correct[1] / count[1];
        sm->check_vgap_concise = vsum[0] - wsum[0], sm->check_vgap_verbose = vsum[1] - wsum[1];
        fprintf(stderr,
                "  accuracy: concise tags %.4f, verbose tags %.4f (target >= 0.97 each)\n"
                "  verbose fraction - the data's: concise tags %+.3f, verbose tags %+.3f (group "
                "means); "
                "largest per tag %.3f (target: within 0.07; sampling error per tag ~%.3f)\n",
                sm->check_acc_concise, sm->check_acc_verbose, sm->check_vgap_concise,
                sm->check_vgap_verbose, sm->check_max_vdev, sqrt(0.25 / np));
        if (vkt_atomic_file_commit(&af, err) != VKT_OK) rc = cli_fail(CMD, "%s", err->msg);
    }
    vkt_atomic_file_abort(&af);
    free(it), free(ck), free(path);
    return rc;
}

// The experiment's state from the model's opening to the last measurement.
typedef struct exp_state {
    char *ckpt;
    eff_model em;
    bool em_open;
    int L, C, lo, hi, np, nh; // layers, width, the swept layers, prompts per set, held-out problems
    char dec[48];             // "greedy" or "sampled at T = ..., N seeds"
    int xs[VKT_EFF_PROBLEMS], ys[VKT_EFF_PROBLEMS];
    vkt_eff_dirs d;
    vkt_eff_item *sweep, *test, *rtest;
    float *dirs, *best_edit, *rev_edit;
    int best_k; // the best setting's direction kind
    char *psweep, *pfinal;
    vkt_atomic_file afs, aff;
    FILE *fs, *ff;
} exp_state;

// The model (trained first without --ckpt), the layers to sweep, the held-out problems, the
// buffers.
static int exp_open(vkt_ctx *ctx, const opts *o, exp_state *x, summary *sm) {
    int rc = CLI_OK;
    if (o->ckpt)
        x->ckpt = strdup(o->ckpt);
    else
        rc = eff_train_model(ctx, o, &x->ckpt);
    if (rc != CLI_OK) return rc;
    const int np = x->np = (int)o->prompts;
    if ((rc = eff_model_open(ctx, o, x->ckpt,
                             np > 256  ? 256
                             : np < 64 ? 64
                                       : np,
                             &x->em)) != CLI_OK)
        return rc;
    x->em_open = true;
    sm->tokenizer = vkt_eff_enc_is_bytes(&x->em.enc) ? "bytes" : "tokenizer.json",
    sm->chat = x->em.enc.chat;
    const vkt_model_config *cfg = vkt_model_cfg(x->em.cm.m);
    const int L = x->L = cfg->layers, C = x->C = cfg->width;
    x->lo = L > 1 ? 1 : 0, x->hi = L - 1;
    if (o->layers &&
        vkt_steer_parse_layers(o->layers, L, 1, &x->lo, &x->hi, vkt_ctx_err(ctx)) != VKT_OK)
        return cli_usage_error(CMD, "--layers: %s", vkt_ctx_message(ctx));
    if (o->temperature > 0)
        snprintf(x->dec, sizeof x->dec, "sampled at T = %g, %ld seeds", o->temperature, o->seeds);
    else
        snprintf(x->dec, sizeof x->dec, "greedy");
    fprintf(
        stderr,
        "vkt %s: model %s (%d layers x %d), sweep layers %d-%d, %d strengths, %ld prompts, %s\n",
        CMD, x->ckpt, L, C, x->lo, x->hi, o->n_strengths, o->prompts, x->dec);
    x->nh = heldout_problems(o->seed, x->xs, x->ys);
    x->sweep = malloc((size_t)np * sizeof *x->sweep),
    x->test = malloc((size_t)np * sizeof *x->test);
    x->rtest = malloc((size_t)np * sizeof *x->rtest);
    x->dirs = malloc((size_t)L * C * sizeof *x->dirs),
    x->best_edit = malloc((size_t)L * C * sizeof *x->best_edit);
    x->psweep = join(o->out, "sweep.csv"), x->pfinal = join(o->out, "final.csv");
    if (!x->sweep || !x->test || !x->rtest || !x->dirs || !x->best_edit || !x->psweep || !x->pfinal)
        return cli_fail(CMD, "out of memory");
    return CLI_OK;
}

static void exp_close(exp_state *x) {
    vkt_atomic_file_abort(&x->afs), vkt_atomic_file_abort(&x->aff);
    if (x->em_open) eff_model_close(&x->em);
    vkt_eff_dirs_free(&x->d);
    free(x->sweep), free(x->test), free(x->rtest), free(x->dirs), free(x->best_edit),
        free(x->rev_edit);
    free(x->psweep), free(x->pfinal), free(x->ckpt);
}

// [3] directions from training problems, and their table.
static int exp_directions(const opts *o, exp_state *x) {
    int rc = CLI_OK;
    const int nd = (int)o->dir_problems, L = x->L, C = x->C;
    const vkt_eff_dirs *d = &x->d;
    int *dx = malloc((size_t)nd * sizeof *dx), *dy = malloc((size_t)nd * sizeof *dy);
    vkt_rng r;
    vkt_rng_seed(&r, vkt_rng_derive(o->seed, 0xd1));
    for (int i = 0; dx && dy && i < nd;) {
        int xv = VKT_EFF_MIN + (int)vkt_rng_below(&r, 90),
            yv = VKT_EFF_MIN + (int)vkt_rng_below(&r, 90);
        if (!vkt_eff_is_heldout(xv, yv, 0.1)) dx[i] = xv, dy[i] = yv, i++;
    }
    double t0 = cli_now_s();
    if (!dx || !dy)
        rc = cli_fail(CMD, "out of memory");
    else if (vkt_eff_directions_enc(x->em.cm.m, &x->em.enc, dx, dy, nd, &x->d) != VKT_OK)
        rc = cli_fail(CMD, "%s", vkt_ctx_message(vkt_model_ctx(x->em.cm.m)));
    free(dx), free(dy);
    if (rc != CLI_OK) return rc;
    fprintf(stderr, "\n[3] directions from %d training problems x 16 tags (%.0f s)\n", nd,
            cli_now_s() - t0);
    fprintf(
        stderr,
        "  layer  |h|     |trace|  sep/|h|  |last|   |decision|  cos(trace,pc1) cos(trace,last) "
        "cos(trace,decision)\n");
    for (int l = 0; l < L; l++) {
        const float *a = d->trace + (size_t)l * C, *b = d->pc1 + (size_t)l * C,
                    *c = d->last + (size_t)l * C;
        const float *e = d->decision + (size_t)l * C;
        double ab = 0, ac = 0, ae = 0, aa = 0, cc = 0, ee = 0;
        for (int k = 0; k < C; k++)
            ab += a[k] * b[k], ac += a[k] * c[k], ae += a[k] * e[k], aa += a[k] * a[k],
                cc += c[k] * c[k], ee += e[k] * e[k];
        fprintf(
            stderr,
            "  %5d  %6.3f  %6.3f  %6.3f   %6.3f   %6.3f      %6.3f         %6.3f          %6.3f\n",
            l, d->h_norm[l], d->info_trace[l].norm, d->info_trace[l].norm / d->h_norm[l],
            d->info_last[l].norm, d->info_decision[l].norm, ab / sqrt(aa), ac / sqrt(aa * cc),
            ae / sqrt(aa * ee));
    }
    return CLI_OK;
}

// The sweep's, the test's and the reverse test's items; the CSV files opened.
static int exp_sets(const opts *o, exp_state *x) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(x->em.cm.m));
    const int cp = (int)o->check_problems, n = x->nh - cp, np = x->np;
    items_for(x->xs + cp, x->ys + cp, n, 0, np, true, x->sweep);
    items_for(x->xs + cp, x->ys + cp, n, np, np, true, x->test);
    items_for(x->xs + cp, x->ys + cp, n, np, np, false, x->rtest);
    if (vkt_atomic_file_open(&x->afs, x->psweep, err) != VKT_OK ||
        vkt_atomic_file_open(&x->aff, x->pfinal, err) != VKT_OK)
        return cli_fail(CMD, "%s", err->msg);
    x->fs = x->afs.fp, x->ff = x->aff.fp;
    fputs(CSV_HEADER, x->fs), fputs(CSV_HEADER, x->ff);
    return CLI_OK;
}

static const float *kind_dir(const vkt_eff_dirs *d, int k) {
    const float *kind_dirs[N_KINDS] = {d->trace, d->pc1, d->last, d->decision};
    return kind_dirs[k];
}

// [4] sweep: base, then each chosen direction kind at every layer and strength.
static int exp_sweep(const opts *o, exp_state *x, summary *sm) {
    const int np = x->np, L = x->L, C = x->C;
    multi base, cur;
    double best_tokens = INFINITY, fallback_acc = -1;
    sm->best_layer = -1;
    double t0 = cli_now_s();
    int rc = measure(&x->em, o, x->sweep, np, NULL, &base);
    if (rc == CLI_OK) csv_rows(x->fs, "sweep", "none", -1, 0, 0, o, &base);
    fprintf(stderr,
            "\n[4] sweep on %d held-out verbose-tag prompts (%s; %.0f s per setting)\n"
            "  unedited: tokens %.2f, verbose %.3f, accuracy %.4f\n"
            "  kind   layer strength  tokens   change  verbose  accuracy\n",
            np, x->dec, cli_now_s() - t0, base.tokens, base.verbose, base.accuracy);
    for (int k = 0; k < N_KINDS && rc == CLI_OK; k++)
        for (int l = x->lo; l <= x->hi && rc == CLI_OK && (x->em.kinds >> k & 1); l++)
            for (int s = 0; s < o->n_strengths && rc == CLI_OK; s++) {
                const float *v = kind_dir(&x->d, k) + (size_t)l * C;
                double scale;
                edit_of(&x->d, v, l, o->strengths[s], -1, x->dirs, &scale);
                if ((rc = measure(&x->em, o, x->sweep, np, x->dirs, &cur)) != CLI_OK) break;
                csv_rows(x->fs, "sweep", KIND_NAMES[k], l, o->strengths[s], scale, o, &cur);
                fprintf(stderr, "  %-5s  %5d  %6.3f   %6.2f  %+6.1f%%  %6.3f   %6.4f\n",
                        KIND_NAMES[k], l, o->strengths[s], cur.tokens,
                        100 * (cur.tokens / base.tokens - 1), cur.verbose, cur.accuracy);
                // Within the allowed accuracy drop: fewest tokens. Until one is found, the
                // most accurate setting stands in (and the summary says so).
                const bool ok = cur.accuracy >= base.accuracy - o->max_drop / 100;
                if (ok ? (!sm->within_drop || cur.tokens < best_tokens)
                       : (!sm->within_drop &&
                          (sm->best_layer < 0 || cur.accuracy > fallback_acc))) {
                    best_tokens = cur.tokens, sm->best_layer = l,
                    sm->best_strength = o->strengths[s];
                    sm->best_kind = KIND_NAMES[k], sm->within_drop = ok,
                    fallback_acc = cur.accuracy, x->best_k = k;
                    memcpy(x->best_edit, x->dirs, (size_t)L * C * sizeof *x->dirs);
                }
            }
    if (rc == CLI_OK && sm->best_layer < 0)
        rc = cli_usage_error(CMD, "the sweep is empty (--layers, --strengths)");
    return rc;
}

// [4b] the reverse edit's strength: the best direction and layer, +s, on the sweep's problems
// under concise tags; most tokens within the accuracy drop (else the most accurate).
static int exp_reverse(const opts *o, exp_state *x, summary *sm) {
    const int np = x->np, L = x->L, C = x->C, cp = (int)o->check_problems;
    x->rev_edit = malloc((size_t)L * C * sizeof *x->rev_edit);
    if (!x->rev_edit) return cli_fail(CMD, "out of memory");
    vkt_eff_item *rsweep = malloc((size_t)np * sizeof *rsweep);
    if (!rsweep) return cli_fail(CMD, "out of memory");
    items_for(x->xs + cp, x->ys + cp, x->nh - cp, 0, np, false, rsweep);
    multi rbase, rcur;
    double best_rev = -INFINITY, best_rev_acc = -1;
    bool rev_ok = false;
    int rc = measure(&x->em, o, rsweep, np, NULL, &rbase);
    if (rc == CLI_OK) {
        csv_rows(x->fs, "reverse_sweep", "none", -1, 0, 0, o, &rbase);
        fprintf(stderr,
                "\n[4b] reverse edit (+s, %s direction, layer %d) on the sweep's problems under "
                "concise tags\n"
                "  unedited: tokens %.2f, verbose %.3f, accuracy %.4f\n"
                "  strength  tokens   change  verbose  accuracy\n",
                sm->best_kind, sm->best_layer, rbase.tokens, rbase.verbose, rbase.accuracy);
    }
    const double h = x->d.h_norm[sm->best_layer];
    for (int s = 0; s < o->n_strengths && rc == CLI_OK; s++) {
        edit_of(&x->d, kind_dir(&x->d, x->best_k) + (size_t)sm->best_layer * C, sm->best_layer,
                o->strengths[s], +1, x->dirs, NULL);
        if ((rc = measure(&x->em, o, rsweep, np, x->dirs, &rcur)) != CLI_OK) break;
        csv_rows(x->fs, "reverse_sweep", sm->best_kind, sm->best_layer, -o->strengths[s],
                 o->strengths[s] * h, o, &rcur);
        fprintf(stderr, "  %6.3f   %6.2f  %+6.1f%%  %6.3f   %6.4f\n", o->strengths[s], rcur.tokens,
                100 * (rcur.tokens / rbase.tokens - 1), rcur.verbose, rcur.accuracy);
        const bool ok = rcur.accuracy >= rbase.accuracy - o->max_drop / 100;
        if (ok ? (!rev_ok || rcur.tokens > best_rev) : (!rev_ok && rcur.accuracy > best_rev_acc)) {
            best_rev = rcur.tokens, best_rev_acc = rcur.accuracy, rev_ok = ok,
            sm->rev_strength = o->strengths[s];
            memcpy(x->rev_edit, x->dirs, (size_t)L * C * sizeof *x->dirs);
        }
    }
    free(rsweep);
    return rc;
}

// [5] the best setting on other held-out prompts, the random direction, the reverse edit.
static int exp_final(const opts *o, exp_state *x, summary *sm) {
    const int np = x->np, L = x->L, C = x->C;
    multi tb, tbest, trand, rb, rbest;
    if (!sm->within_drop)
        fprintf(stderr,
                "vkt %s: warning: no setting kept accuracy within %g points of the unedited model; "
                "the most "
                "accurate one is evaluated instead\n",
                CMD, o->max_drop);
    double bn = 0;
    const float *be = x->best_edit + (size_t)sm->best_layer * C;
    for (int c = 0; c < C; c++) bn += (double)be[c] * be[c];
    bn = sqrt(bn);
    float *rnd = malloc((size_t)C * sizeof *rnd);
    vkt_rng r;
    vkt_rng_seed(&r, vkt_rng_derive(o->seed, 0x7a));
    double rn = 0;
    for (int c = 0; rnd && c < C; c++) { // Box-Muller: an isotropic direction
        double u1 = vkt_rng_uniform(&r), u2 = vkt_rng_uniform(&r);
        rnd[c] = (float)(sqrt(-2 * log(1 - u1)) * cos(6.283185307179586 * u2));
        rn += (double)rnd[c] * rnd[c];
    }
    int rc = rnd ? CLI_OK : cli_fail(CMD, "out of memory");
    if (rc == CLI_OK) rc = measure(&x->em, o, x->test, np, NULL, &tb);
    if (rc == CLI_OK) rc = measure(&x->em, o, x->test, np, x->best_edit, &tbest);
    if (rc == CLI_OK) {
        memset(x->dirs, 0, (size_t)L * C * sizeof *x->dirs);
        for (int c = 0; c < C; c++)
            x->dirs[(size_t)sm->best_layer * C + c] = (float)(rnd[c] * bn / sqrt(rn));
        rc = measure(&x->em, o, x->test, np, x->dirs, &trand);
    }
    if (rc == CLI_OK) rc = measure(&x->em, o, x->rtest, np, NULL, &rb);
    if (rc == CLI_OK) rc = measure(&x->em, o, x->rtest, np, x->rev_edit, &rbest);
    free(rnd);
    if (rc != CLI_OK) return rc;
    FILE *ff = x->ff;
    csv_rows(ff, "test", "none", -1, 0, 0, o, &tb);
    csv_rows(ff, "test", sm->best_kind, sm->best_layer, sm->best_strength, -bn, o, &tbest);
    csv_rows(ff, "test", "random", sm->best_layer, sm->best_strength, bn, o, &trand);
    csv_rows(ff, "reverse", "none", -1, 0, 0, o, &rb);
    csv_rows(ff, "reverse", sm->best_kind, sm->best_layer, -sm->rev_strength,
             sm->rev_strength * x->d.h_norm[sm->best_layer], o, &rbest);
    sm->base_tokens = tb.tokens, sm->base_accuracy = tb.accuracy, sm->base_verbose = tb.verbose;
    sm->base_bytes = tb.bytes;
    sm->best_tokens = tbest.tokens, sm->best_accuracy = tbest.accuracy,
    sm->best_verbose = tbest.verbose;
    sm->rand_tokens = trand.tokens, sm->rand_accuracy = trand.accuracy;
    sm->rev_base_tokens = rb.tokens, sm->rev_base_accuracy = rb.accuracy;
    sm->rev_tokens = rbest.tokens, sm->rev_accuracy = rbest.accuracy;
    fprintf(
        stderr,
        "\n[5] best setting: %s direction, layer %d, strength %.3f |h| (edit norm %.3f); on %d "
        "other "
        "held-out prompts (%s)\n"
        "  verbose tags, unedited   tokens %6.2f  verbose %.3f  accuracy %.4f\n"
        "  verbose tags, edited     tokens %6.2f  verbose %.3f  accuracy %.4f   tokens %+.1f%%, "
        "verbose %+.3f, "
        "accuracy %+.2f points\n"
        "  verbose tags, random     tokens %6.2f  verbose %.3f  accuracy %.4f   tokens %+.1f%%\n"
        "  concise tags, unedited   tokens %6.2f  verbose %.3f  accuracy %.4f\n"
        "  concise tags, reverse    tokens %6.2f  verbose %.3f  accuracy %.4f   tokens %+.1f%%, "
        "accuracy "
        "%+.2f points (+%.3f |h|)\n",
        sm->best_kind, sm->best_layer, sm->best_strength, bn, np, x->dec, tb.tokens, tb.verbose,
        tb.accuracy, tbest.tokens, tbest.verbose, tbest.accuracy,
        100 * (tbest.tokens / tb.tokens - 1), tbest.verbose - tb.verbose,
        100 * (tbest.accuracy - tb.accuracy), trand.tokens, trand.verbose, trand.accuracy,
        100 * (trand.tokens / tb.tokens - 1), rb.tokens, rb.verbose, rb.accuracy, rbest.tokens,
        rbest.verbose, rbest.accuracy, 100 * (rbest.tokens / rb.tokens - 1),
        100 * (rbest.accuracy - rb.accuracy), sm->rev_strength);
    return CLI_OK;
}

static int run(vkt_ctx *ctx, const opts *o, summary *sm) {
    exp_state *x = calloc(1, sizeof *x);
    if (!x) return cli_fail(CMD, "out of memory");
    vkt_error *err = vkt_ctx_err(ctx);
    int rc = exp_open(ctx, o, x, sm);
    if (rc == CLI_OK) rc = check_heldout(&x->em, o, x->xs, x->ys, sm); // [2]
    if (rc == CLI_OK) rc = exp_directions(o, x);
    if (rc == CLI_OK) rc = exp_sets(o, x);
    if (rc == CLI_OK) rc = exp_sweep(o, x, sm);
    if (rc == CLI_OK) rc = exp_reverse(o, x, sm);
    if (rc == CLI_OK) rc = exp_final(o, x, sm);
    if (rc == CLI_OK && (vkt_atomic_file_commit(&x->afs, err) != VKT_OK ||
                         vkt_atomic_file_commit(&x->aff, err) != VKT_OK))
        rc = cli_fail(CMD, "%s", err->msg);
    if (rc == CLI_OK)
        rc = eff_write_gguf(o, vkt_model_cfg(x->em.cm.m), &x->d, sm->best_layer, x->best_edit);
    exp_close(x);
    free(x);
    return rc;
}

int cmd_steer_efficiency(int argc, char **argv) {
    opts o;
    eff_opts_defaults(&o);
    int rc = eff_opts_parse(argc, argv, &o);
    if (rc < 0) return CLI_OK;
    if (rc != CLI_OK) return rc;
    if (mkdir(o.out, 0777) != 0 && errno != EEXIST)
        return cli_fail(CMD, "cannot create '%s': %s", o.out, strerror(errno));
    vkt_ctx *ctx;
    if ((rc = cli_open_device(CMD, (int)o.device, &ctx)) != CLI_OK) return rc;
    summary sm = {0};
    double t0 = cli_now_s();
    rc = run(ctx, &o, &sm);
    vkt_ctx_destroy(ctx);
    if (rc == CLI_OK) rc = eff_write_results(&o, &sm);
    if (rc == CLI_OK)
        fprintf(stderr,
                "\nvkt %s: done in %.0f s; results in %s (summary.json, sweep.csv, final.csv, "
                "efficiency.gguf%s)\n",
                CMD, cli_now_s() - t0, o.out, o.plot ? ", figures" : "");
    return rc;
}
