// support_files.h: a scratch directory for tests that write files. As cmocka setup and
// teardown: test_dir_setup makes a fresh directory under $TMPDIR (or /tmp),
// test_dir_teardown removes it with the files in it.
#ifndef VKT_SUPPORT_FILES_H
#define VKT_SUPPORT_FILES_H

#include <stddef.h>

int test_dir_setup(void **state);
int test_dir_teardown(void **state);
// The current scratch directory.
const char *test_dir(void);
// DIR/name in the current scratch directory (one of 4 rotating static buffers).
const char *test_path(const char *name);

// Writes n bytes to path; reads a whole file (malloc'd, NUL-terminated, *n its size).
// Both fail the test on any error.
void test_write_bytes(const char *path, const void *p, size_t n);
unsigned char *test_read_all(const char *path, size_t *n);
// Runs a shell command (printf-style); fails the test unless it exits 0.
void test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
