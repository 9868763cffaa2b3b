// cli.h: small helpers every `vkt` subcommand uses to parse flags the same way.
// Conventions (DESIGN.md): --help, --device N, --seed S, --json; exit 0 ok,
// 1 the run failed, 2 bad usage. Only tools/ prints and exits.
#ifndef VKT_CLI_H
#define VKT_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

// Matches argv[*i] against "--name VALUE" or "--name=VALUE". Returns 1 and sets *value
// (advancing *i past a separate value) on a match, 0 when argv[*i] is another flag, and
// -1 (after printing an error) when the flag is present but its value is missing.
int cli_value(int argc, char **argv, int *i, const char *name, const char **value);

// Parse numbers; on failure print "vkt CMD: --flag: ..." and return false.
bool cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
bool cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);
bool cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                double *out);

// Prints "vkt CMD: <message> (see vkt CMD --help)" to stderr and returns CLI_USAGE.
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Prints "vkt CMD: <message>" to stderr and returns CLI_FAILED.
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// SIGINT (Ctrl-C) and SIGTERM (timeout, Slurm, systemd, docker stop) for long runs: the first
// sets the returned flag (the run saves and stops after its current step); a second says on
// stderr that the save is being waited for and changes nothing else; a third ends the process
// at once by that signal (the shell shows 128 + its number: 130, 143), leaving the previous
// complete checkpoint. Handlers restart interrupted system calls (SA_RESTART), so a save in
// progress is not cut short by them. Release restores the default handlers.
volatile sig_atomic_t *cli_catch_sigint(void);
void cli_release_sigint(void);

// The tools/ directory: VKT_TOOLS_DIR, else the source tree's tools/ (scripts, bench data).
const char *cli_tools_dir(void);

// Runs VKT_PYTHON (default /usr/bin/python3) on tools/<script_name> (VKT_TOOLS_DIR, else
// the source tree's tools/) with args (NULL-terminated, no shell); CLI_OK when it exits 0.
int cli_run_python(const char *cmd, const char *script_name, char *const *args);

// True when stderr is a terminal (progress lines are drawn only then, or with --progress).
bool cli_stderr_is_tty(void);

// Seconds on the monotonic clock, for timing a run and its progress lines.
double cli_now_s(void);
// A duration for a progress line into out[n]: "42s", "3m07s", "2h05m"; "?" when s is negative
// or not finite (an ETA not known yet).
void cli_fmt_secs(double s, char *out, size_t n);

#endif
