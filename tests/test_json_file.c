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
#include "support_files.h"

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
    write_text(test_path("bad.json"), "{\n  \"a\": 1,\n  \"n_layer\": ,\n}\n");
    assert_int_equal(vkt_json_file_read(test_path("bad.json"), 1, &v, &err), VKT_ERR_FORMAT);
    char want[700];
    snprintf(want, sizeof want, "%s:3:", test_path("bad.json"));
    assert_contains(err.msg, want);
    assert_null(v);
    write_text(test_path("dup.json"), "{\"a\": 1, \"a\": 2}");
    assert_int_equal(vkt_json_file_read(test_path("dup.json"), 1, &v, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "duplicate");
    write_text(test_path("arr.json"), "[1, 2]");
    assert_int_equal(vkt_json_file_read(test_path("arr.json"), 1, &v, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "not a JSON object");
    assert_int_equal(vkt_json_file_read(test_path("arr.json"), 0, &v, &err), VKT_OK);
    assert_true(json_is_array(v));
    json_decref(v);
    assert_int_equal(vkt_json_file_read(test_path("missing.json"), 1, &v, &err), VKT_ERR_IO);
    assert_contains(err.msg, "missing.json");
    unlink(test_path("bad.json"));
    unlink(test_path("dup.json"));
    unlink(test_path("arr.json"));
}

static void test_write_round_trip(void **state) {
    (void)state;
    json_t *o = json_pack("{s:s, s:i, s:f, s:[i,i]}", "model_type", "gpt2", "n_layer", 4, "eps",
                          1e-5, "x", 1, 2);
    vkt_error err = {0};
    const char *p = test_path("config.json");
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
    assert_int_equal(vkt_json_file_write(test_path("no/dir/x.json"), o, &err), VKT_ERR_IO);
    assert_contains(err.msg, "no/dir/x.json");
    json_decref(o);
    unlink(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_write_round_trip),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
