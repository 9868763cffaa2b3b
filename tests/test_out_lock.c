// test_out_lock.c: one run a directory. vkt_run_lock holds DIR/.lock (flock) and names the
// holder's pid to a second taker; `vkt train` and `vkt selfplay` on a --out another process
// holds fail (exit 1) naming the directory and that pid, before opening a device. Also the
// empty-data errors of vkt train: a JSONL validation split that leaves no training example.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint_dir.h"
#include "dataset.h"
#include "support_cli.h"
#include "support_files.h"

static void test_lock_twice(void **state) {
    (void)state;
    char dir[600], pid[32];
    snprintf(dir, sizeof dir, "%s/a/b", test_dir()); // created with its parents
    vkt_error err = {0};
    int fd1 = -1, fd2 = -1;
    assert_int_equal(vkt_run_lock(dir, &fd1, &err), VKT_OK);
    assert_true(fd1 >= 0);
    // Another open file description conflicts, in this process as in another.
    assert_int_not_equal(vkt_run_lock(dir, &fd2, &err), VKT_OK);
    assert_int_equal(fd2, -1);
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    if (!strstr(err.msg, dir) || !strstr(err.msg, pid) || !strstr(err.msg, ".lock"))
        fail_msg("%s", err.msg);
    vkt_run_unlock(fd1);
    assert_int_equal(vkt_run_lock(dir, &fd2, &err), VKT_OK); // free again
    vkt_run_unlock(fd2);
}

static void test_cli_locked(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    const char *dir = test_path("run");
    vkt_error err = {0};
    int fd = -1;
    assert_int_equal(vkt_run_lock(dir, &fd, &err), VKT_OK);
    FILE *f = fopen(test_path("data.txt"), "w");
    for (int i = 0; i < 100; i++) fputs("abc def ", f);
    fclose(f);
    char args[2048], pid[32], *e = NULL;
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    snprintf(args, sizeof args,
             "train --data %s --out %s --layers 1 --width 16 --heads 2 --steps 1",
             test_path("data.txt"), dir);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 1);
    if (!strstr(e, dir) || !strstr(e, pid) || !strstr(e, "in use")) fail_msg("%s", e);
    free(e);
    snprintf(args, sizeof args, "selfplay --out %s --games 0 --warmup-steps 0", dir);
    assert_int_equal(test_cli(args, NULL, NULL, &e), 1);
    if (!strstr(e, dir) || !strstr(e, pid) || !strstr(e, "in use")) fail_msg("%s", e);
    free(e);
    vkt_run_unlock(fd);
}

// --val-fraction holding out every JSONL example left nothing to train on; the run used
// the validation examples instead.
static void test_val_leaves_no_training(void **state) {
    (void)state;
    const char *p = test_path("two.jsonl");
    FILE *f = fopen(p, "w");
    fputs(
        "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"c\", \"completion\": \"d\"}\n",
        f);
    fclose(f);
    vkt_dataset d;
    vkt_error err = {0};
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.9, &d, &err), VKT_ERR_ARG);
    if (!strstr(err.msg, p) || !strstr(err.msg, "--val-fraction")) fail_msg("%s", err.msg);
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.4, &d, &err), VKT_OK);
    assert_int_equal(d.train_ex, 1);
    vkt_dataset_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_twice, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_cli_locked, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_val_leaves_no_training, test_dir_setup,
                                        test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
