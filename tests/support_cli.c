#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support_cli.h"

static char *slurp(FILE *f) {
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((k = fread(buf + n, 1, cap - 1 - n, f)) > 0) {
        n += k;
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
        assert_non_null(buf);
    }
    buf[n] = 0;
    return buf;
}

static void temp_file(char *path, const char *text) {
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    if (text) fputs(text, f);
    fclose(f);
}

int test_cli(const char *args, const char *input, char **out, char **err) {
    char in[] = "/tmp/vkt-cli-in-XXXXXX", ef[] = "/tmp/vkt-cli-err-XXXXXX", cmd[8192];
    if (input) temp_file(in, input);
    temp_file(ef, NULL);
    snprintf(cmd, sizeof cmd, "env -u VKT_DEVICE '%s' %s < %s 2>%s", getenv("VKT_BIN"), args,
             input ? in : "/dev/null", ef);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *o = slurp(p);
    int status = pclose(p);
    FILE *f = fopen(ef, "rb");
    assert_non_null(f);
    char *e = slurp(f);
    fclose(f);
    unlink(ef);
    if (input) unlink(in);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool test_cli_available(void) {
    if (getenv("VKT_BIN")) return true;
    print_message("VKT_BIN not set: CLI tests skipped\n");
    return false;
}

json_t *test_cli_json(const char *args) {
    char *out = NULL, *err = NULL;
    int rc = test_cli(args, NULL, &out, &err);
    if (rc != 0) fail_msg("vkt %s: exit %d: %s", args, rc, err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("vkt %s: not JSON (%s): %s", args, je.text, out);
    free(out), free(err);
    return j;
}
