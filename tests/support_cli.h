// support_cli.h: running the vkt binary from tests (ctest sets VKT_BIN to its path).
#ifndef VKT_SUPPORT_CLI_H
#define VKT_SUPPORT_CLI_H

#include <jansson.h>
#include <stdbool.h>

// Runs `$VKT_BIN args` through the shell, with VKT_DEVICE unset and stdin from `input`
// (NULL: /dev/null). Returns the exit status (-1 if it did not exit); *out and *err get
// stdout and stderr (malloc'd, NUL-terminated; pass NULL to discard either).
int test_cli(const char *args, const char *input, char **out, char **err);

// Runs `$VKT_BIN args` (stdin /dev/null), fails the test unless it exits 0 with one JSON
// value on stdout, and returns it parsed (json_decref it).
json_t *test_cli_json(const char *args);

// False (after saying so) when VKT_BIN is not set: the test binary was run by hand, not by
// ctest, and the CLI tests are skipped.
bool test_cli_available(void);

#endif
