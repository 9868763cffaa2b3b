// test_json_file.c: JSON files read with file:line:column errors and written atomically.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_file.h"

static char g_dir[256];

static const char *tpath(const char *name) {
    static char buf[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static void assert_contains(const char *msg, const char *want) {
    if (!strstr(msg, want)) fail_msg("message \"%s\" lacks \"%s\"", msg, want);
}

static void test_read_errors(void **state) {
    (void)state;
    json_t *v = NULL;
    vkt_error err = {0};
    // A syntax error on line 3, column 14 (a missing value).
    write_text(tpath("bad.json"), "{\n  \"a\": 1,\n  \"n_layer\": ,\n}\n");
    assert_int_equal(vkt_json_file_read(tpath("bad.json"), 1, &v, &err), VKT_ERR_FORMAT);
    char want[700];
    snprintf(want, sizeof want, "%s:3:", tpath("bad.json"));
    assert_contains(err.msg, want);
    assert_null(v);
    write_text(tpath("dup.json"), "{\"a\": 1, \"a\": 2}");
    assert_int_equal(vkt_json_file_read(tpath("dup.json"), 1, &v, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "duplicate");
    write_text(tpath("arr.json"), "[1, 2]");
    assert_int_equal(vkt_json_file_read(tpath("arr.json"), 1, &v, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "not a JSON object");
    assert_int_equal(vkt_json_file_read(tpath("arr.json"), 0, &v, &err), VKT_OK);
    assert_true(json_is_array(v));
    json_decref(v);
    assert_int_equal(vkt_json_file_read(tpath("missing.json"), 1, &v, &err), VKT_ERR_IO);
    assert_contains(err.msg, "missing.json");
    unlink(tpath("bad.json"));
    unlink(tpath("dup.json"));
    unlink(tpath("arr.json"));
}

static void test_write_round_trip(void **state) {
    (void)state;
    json_t *o = json_pack("{s:s, s:i, s:f, s:[i,i]}", "model_type", "gpt2", "n_layer", 4, "eps", 1e-5,
                          "x", 1, 2);
    vkt_error err = {0};
    const char *p = tpath("config.json");
    assert_int_equal(vkt_json_file_write(p, o, &err), VKT_OK);
    json_t *r = NULL;
    assert_int_equal(vkt_json_file_read(p, 1, &r, &err), VKT_OK);
    assert_true(json_equal(o, r));
    json_decref(r);
    // Key order is kept (insertion order) and the file ends with a newline.
    FILE *f = fopen(p, "rb");
    char text[512];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    assert_true(strstr(text, "model_type") < strstr(text, "n_layer"));
    assert_int_equal(text[n - 1], '\n');
    // A failed write (no such directory) reports the path; the old file stays.
    assert_int_equal(vkt_json_file_write(tpath("no/dir/x.json"), o, &err), VKT_ERR_IO);
    assert_contains(err.msg, "no/dir/x.json");
    json_decref(o);
    unlink(p);
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/vkt_json_XXXXXX", t && t[0] ? t : "/tmp");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_write_round_trip),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(g_dir);
    return rc;
}
