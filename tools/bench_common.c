// bench_common.c: the helpers every `vkt bench` entry shares (bench.h).
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bytebuf.h"
#include "cli.h"
#include "cli_device.h"

int bench_device(bench_env *env, vkt_ctx **ctx) {
    if (!env->ctx) {
        vkt_ctx *c;
        int rc = cli_open_device("bench", env->device, &c);
        if (rc != CLI_OK) return rc;
        env->ctx = c;
        if (!env->o.json)
            printf("device: %s (%s)\n", vkt_ctx_profile(c)->name, vkt_ctx_profile(c)->driver);
    }
    *ctx = env->ctx;
    return CLI_OK;
}

int bench_start(bench_env *env, const cli_cmd *cmd, const cli_opt *table, int argc, char **argv,
                vkt_ctx **ctx) {
    int rc = cli_parse(cmd, table, argc, argv);
    return rc == CLI_OK ? bench_device(env, ctx) : rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_time(vkt_ctx *ctx, const bench_opts *o, vkt_status (*fn)(vkt_ctx *, void *),
                  void *arg) {
    if (fn(ctx, arg) != VKT_OK || vkt_sync(ctx) != VKT_OK) return -1; // warm-up: pipelines, caches
    int cap = 1024, n = 0;
    double *t = malloc((size_t)cap * sizeof *t);
    if (!t) return -1;
    double start = cli_now_s();
    while (n < cap && (n < o->reps || cli_now_s() - start < o->min_s)) {
        double t0 = cli_now_s();
        if (fn(ctx, arg) != VKT_OK || vkt_sync(ctx) != VKT_OK) {
            free(t);
            return -1;
        }
        t[n++] = (cli_now_s() - t0) * 1e3;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    free(t);
    return med;
}

void bench_report(vkt_ctx *ctx, const bench_opts *o, const bench_result *r) {
    double gflops = r->flops > 0 ? r->flops / (r->ms * 1e6) : 0;
    double gbps = r->bytes > 0 ? r->bytes / (r->ms * 1e6) : 0;
    if (o->json) {
        printf("{\"op\": \"%s\", \"variant\": \"%s\", \"m\": %lld, \"n\": %lld, \"k\": %lld, "
               "\"ms\": %.6f, "
               "\"gflops\": %.4f, \"gbps\": %.4f, \"device\": \"%s\"}\n",
               r->op, r->variant ? r->variant : "", (long long)r->m, (long long)r->n,
               (long long)r->k, r->ms, gflops, gbps, vkt_ctx_profile(ctx)->name);
    } else {
        char shape[64];
        if (r->k >= 0)
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)r->m, (long long)r->n,
                     (long long)r->k);
        else if (r->n >= 0)
            snprintf(shape, sizeof shape, "%lldx%lld", (long long)r->m, (long long)r->n);
        else
            snprintf(shape, sizeof shape, "%lld", (long long)r->m);
        printf("%-18s %-22s %-18s %10.3f ms", r->op, r->variant ? r->variant : "", shape, r->ms);
        if (gflops > 0) printf(" %9.2f GFLOP/s", gflops);
        if (gbps > 0) printf(" %8.2f GB/s", gbps);
        printf("\n");
    }
    fflush(stdout);
}

json_t *bench_child_json(const char *const *argv) {
    int fd[2];
    if (pipe(fd) != 0) return NULL;
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]), close(fd[1]);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "vkt bench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    vkt_bytebuf b = {0};
    char chunk[4096];
    ssize_t got;
    while ((got = read(fd[0], chunk, sizeof chunk)) > 0) vkt_bytebuf_put(&b, chunk, (size_t)got);
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    json_error_t je;
    json_t *out =
        b.p && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? json_loadb(b.p, b.n, 0, &je) : NULL;
    free(b.p);
    return out;
}
