// test_loss_scale.c: the dynamic loss-scaling rule (loss_scale.h) step by step: the start
// value, halving and skipping on overflow, doubling after `interval` finite steps, the cap,
// a resumed scale, the floor at 1 where an overflow means divergence, and off meaning S = 1.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "loss_scale.h"

static void starts_at_2_16_and_halves_on_overflow(void **state) {
    (void)state;
    vkt_loss_scaler s;
    vkt_loss_scaler_init(&s, true, 0, 0);
    assert_true(s.scale == 65536.0);
    assert_true(vkt_loss_scaler_update(&s, true));
    assert_int_equal(s.good, 1);
    assert_true(vkt_loss_scaler_update(&s, false)); // skip
    assert_true(s.scale == 32768.0);
    assert_int_equal(s.good, 0);
    assert_int_equal(s.skipped, 1);
}

static void doubles_after_interval_finite_steps(void **state) {
    (void)state;
    vkt_loss_scaler s;
    vkt_loss_scaler_init(&s, true, 1024, 0);
    s.interval = 3;
    for (int i = 0; i < 2; i++) assert_true(vkt_loss_scaler_update(&s, true));
    assert_true(s.scale == 1024.0);
    assert_true(vkt_loss_scaler_update(&s, true));
    assert_true(s.scale == 2048.0);
    assert_int_equal(s.good, 0);
    // capped at 2^24
    vkt_loss_scaler_init(&s, true, 16777216.0, 0);
    s.interval = 1;
    assert_true(vkt_loss_scaler_update(&s, true));
    assert_true(s.scale == 16777216.0);
}

static void resumes_and_stops_at_one(void **state) {
    (void)state;
    vkt_loss_scaler s;
    vkt_loss_scaler_init(&s, true, 4, 17);
    assert_true(s.scale == 4.0);
    assert_int_equal(s.good, 17);
    assert_true(vkt_loss_scaler_update(&s, false));
    assert_true(vkt_loss_scaler_update(&s, false));
    assert_true(s.scale == 1.0);
    // At 1 an overflow is not the scale's doing: not a skip, the caller fails the run.
    assert_false(vkt_loss_scaler_update(&s, false));
    assert_true(s.scale == 1.0);
    assert_int_equal(s.skipped, 2);
}

static void off_is_scale_one(void **state) {
    (void)state;
    vkt_loss_scaler s;
    vkt_loss_scaler_init(&s, false, 512, 3);
    assert_true(s.scale == 1.0);
    s.interval = 1;
    assert_true(vkt_loss_scaler_update(&s, true));
    assert_true(s.scale == 1.0);
    assert_false(vkt_loss_scaler_update(&s, false));
    assert_int_equal(s.skipped, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_at_2_16_and_halves_on_overflow),
        cmocka_unit_test(doubles_after_interval_finite_steps),
        cmocka_unit_test(resumes_and_stops_at_one),
        cmocka_unit_test(off_is_scale_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
