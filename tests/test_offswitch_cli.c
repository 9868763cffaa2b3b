// test_offswitch_cli.c: `vkt offswitch` end to end through the binary ctest names in
// VKT_BIN (skipped when it is not set): JSON keys and values, exit codes for bad
// usage, a sweep's CSV, and its figure when /usr/bin/python3 has matplotlib.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support_cli.h"
#include <unistd.h>

// $VKT_BIN args: exit code and stdout (stderr dropped).
static int run(const char *args, char **out) { return test_cli(args, NULL, out, NULL); }

static int skip_without_bin(void **state) {
    if (!test_cli_available()) return -1;
    return 0;
}

static double num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!v || !json_is_number(v)) fail_msg("JSON key %s missing", key);
    return json_number_value(v);
}

static void test_values_json(void **state) {
    char *out;
    assert_int_equal(run("offswitch --prior normal:mu=0.3,sigma=1.2 --human rational --samples "
                         "200000 --seed 3 --json",
                         &out),
                     0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    // Rational H, normal prior: V(wait) = mu Phi(mu/s) + s phi(mu/s), P(off) = Phi(-mu/s).
    double t = 0.25,
           eplus = 0.3 * 0.5 * erfc(-t / sqrt(2.0)) + 1.2 * exp(-t * t / 2) / sqrt(2 * M_PI);
    assert_true(fabs(num(j, "v_act") - 0.3) < 1e-15);
    assert_true(num(j, "v_off") == 0);
    assert_true(fabs(num(j, "v_wait") - eplus) < 1e-14);
    assert_true(fabs(num(j, "delta") - (eplus - 0.3)) < 1e-14);
    assert_true(fabs(num(j, "p_off") - 0.5 * erfc(t / sqrt(2.0))) < 1e-14);
    assert_string_equal(json_string_value(json_object_get(j, "best")), "wait");
    double se = num(j, "mc_se");
    assert_true(se > 0 && fabs(num(j, "mc_v_wait") - eplus) < 4 * se);
    json_decref(j);
    free(out);

    // Without --samples there are no Monte Carlo keys.
    assert_int_equal(run("offswitch --prior discrete:0.5 --human boltzmann:beta=1 --json", &out),
                     0);
    j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_null(json_object_get(j, "mc_v_wait"));
    assert_string_equal(json_string_value(json_object_get(j, "best")), "act");
    json_decref(j);
    free(out);
}

static void test_usage_errors(void **state) {
    const char *bad[] = {
        "offswitch --prior normal:mu=0 --human rational",
        "offswitch --prior normal:mu=0,sigma=1",
        "offswitch --prior normal:mu=0,sigma=1 --human boltzmann",
        "offswitch --prior normal:mu=0,sigma=1 --human rational --samples 1",
        "offswitch --prior normal:mu=0,sigma=1 --human rational --frobnicate",
        "offswitch sweep --prior normal:mu=0,sigma=1 --human rational --out /tmp/x.csv",
        "offswitch sweep --prior normal:mu=0,sigma=1 --human rational --grid beta=0.5:1:3 --out "
        "/tmp/x.csv",
        "offswitch sweep --prior normal:mu=0,sigma=1 --human rational --grid sigma=1:0.5:3 --out "
        "/tmp/x.csv",
        "offswitch sweep --prior normal:mu=0,sigma=1 --human rational --grid sigma --out "
        "/tmp/x.csv",
        "offswitch figures",
        "offswitch dance",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out;
        int rc = run(bad[i], &out);
        if (rc != 2) fail_msg("'%s' exited %d, expected 2", bad[i], rc);
        free(out);
    }
    char *out;
    assert_int_equal(run("offswitch --prior samples:/nonexistent/file --human rational", &out), 1);
    free(out);
    assert_int_equal(run("offswitch --help", &out), 0);
    assert_non_null(strstr(out, "--grid"));
    free(out);
}

// A sweep writes one row per grid point (first parameter outermost) with exact values
// equal to single runs, and Monte Carlo columns when sampling.
static void test_sweep_csv(void **state) {
    char csv[64], png[64], args[512];
    snprintf(csv, sizeof csv, "/tmp/vkt_offswitch_cli_%d.csv", (int)getpid());
    snprintf(png, sizeof png, "/tmp/vkt_offswitch_cli_%d.png", (int)getpid());
    snprintf(args, sizeof args,
             "offswitch sweep --prior normal:mu=0,sigma=1 --human boltzmann:beta=1 --grid "
             "'mu=-0.25;0.25,beta=0.5:1.5:4' "
             "--samples 2000 --out %s --json",
             csv);
    char *out;
    assert_int_equal(run(args, &out), 0);
    assert_non_null(strstr(out, "\"rows\":8"));
    free(out);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[4096];
    assert_non_null(fgets(line, sizeof line, f));
    const char *header = "mu,beta,v_act,v_off,v_wait,delta,best,p_off,mc_v_wait,mc_v_wait_se,mc_p_"
                         "off,mc_p_off_se,prior,human\n";
    assert_string_equal(line, header);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        double mu, beta, v_act, v_off, v_wait, delta;
        assert_int_equal(
            sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,", &mu, &beta, &v_act, &v_off, &v_wait, &delta),
            6);
        assert_true(mu == (rows < 4 ? -0.25 : 0.25));
        assert_true(fabs(beta - (0.5 + 0.25 * (rows % 4))) < 1e-12);
        assert_true(fabs(delta - (v_wait - fmax(v_act, v_off))) < 1e-15);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 8);

    // The figure, when Debian's python3 with matplotlib is there.
    if (system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0) {
        snprintf(args, sizeof args,
                 "offswitch sweep --prior normal:mu=0,sigma=1 --human rational --grid "
                 "sigma=0.05:1:10,mu=-1:1:10 "
                 "--out %s --plot %s",
                 csv, png);
        assert_int_equal(run(args, &out), 0);
        free(out);
        f = fopen(png, "rb");
        assert_non_null(f);
        unsigned char sig[8];
        assert_int_equal(fread(sig, 1, 8, f), 8);
        assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
        fclose(f);
        unlink(png);
    } else {
        print_message("no matplotlib: --plot not tested\n");
    }
    unlink(csv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_json),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_sweep_csv),
    };
    return cmocka_run_group_tests(tests, skip_without_bin, NULL);
}
