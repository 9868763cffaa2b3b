#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int cli_value(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != 0) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "vkt: %s needs a value\n", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

bool cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "vkt %s: %s: '%s' is not an integer\n", cmd, flag, s);
        return false;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "vkt %s: %s: %ld is outside [%ld, %ld]\n", cmd, flag, v, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') {
        fprintf(stderr, "vkt %s: %s: '%s' must not be negative\n", cmd, flag, s);
        return false;
    }
    // Accept 1e9-style counts too: they are common for sample counts.
    double d = strtod(s, &end);
    if (errno || end == s || *end || d < 0 || d > 1.8e19 || d != (double)(uint64_t)d) {
        fprintf(stderr, "vkt %s: %s: '%s' is not a non-negative integer\n", cmd, flag, s);
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    *out = (*end == 0) ? (uint64_t)v : (uint64_t)d;
    return true;
}

bool cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v != v) {
        fprintf(stderr, "vkt %s: %s: '%s' is not a number\n", cmd, flag, s);
        return false;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "vkt %s: %s: %g is outside [%g, %g]\n", cmd, flag, v, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vkt %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see vkt %s --help)\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vkt %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAILED;
}

bool cli_stderr_is_tty(void) { return isatty(2); }

double cli_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_fmt_secs(double s, char *out, size_t n) {
    if (!isfinite(s) || s < 0)
        snprintf(out, n, "?");
    else if (s < 60)
        snprintf(out, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else // floor and fmod: no int overflow for a wild ETA
        snprintf(out, n, "%.0fh%02dm", floor(s / 3600), (int)fmod(s, 3600) / 60);
}

static volatile sig_atomic_t stop_requested, signals_seen;

// Async-signal-safe: only write(2), flags, signal() and raise().
static void on_stop_signal(int sig) {
    static const char first[] = "\nvkt: stopping: saving a checkpoint after the current step\n";
    static const char second[] =
        "\nvkt: waiting for the save to finish (a third signal quits at once; "
        "the previous complete checkpoint stays)\n";
    stop_requested = 1;
    signals_seen = signals_seen < 3 ? signals_seen + 1 : 3;
    ssize_t w = 0;
    if (signals_seen == 1)
        w = write(2, first, sizeof first - 1);
    else if (signals_seen == 2)
        w = write(2, second, sizeof second - 1);
    else {
        signal(sig, SIG_DFL);
        raise(sig); // delivered when the handler returns: the process ends by the signal
    }
    (void)w;
}

volatile sig_atomic_t *cli_catch_sigint(void) {
    stop_requested = 0, signals_seen = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &stop_requested;
}

void cli_release_sigint(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

const char *cli_tools_dir(void) {
    const char *d = getenv("VKT_TOOLS_DIR");
    if (d && *d) return d;
#ifdef VKT_TOOLS_DIR
    return VKT_TOOLS_DIR;
#else
    return "tools";
#endif
}

int cli_run_python(const char *cmd, const char *script_name, char *const *args) {
    char script[4096];
    snprintf(script, sizeof script, "%s/%s", cli_tools_dir(), script_name);
    if (access(script, R_OK) != 0)
        return cli_fail(
            cmd, "plot script '%s' not found (set VKT_TOOLS_DIR to the tools/ directory)", script);
    const char *py = getenv("VKT_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)py;
    argv[n++] = script;
    for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return cli_fail(cmd, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        execv(py, argv);
        fprintf(stderr,
                "vkt %s: cannot run '%s': %s (needs python3 with matplotlib: apt-get install "
                "python3-matplotlib)\n",
                cmd, py, strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return cli_fail(cmd, "waiting for the plot script: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cli_fail(cmd, "plot script '%s' failed (status %d)", script,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return CLI_OK;
}
