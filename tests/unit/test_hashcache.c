/* cmocka tests of the input-hash cache: hits only on the same identity, young files not remembered, bad files survived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "hashcache.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vmm-hashcache-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A file changed in 2001: settled. */
static struct file_id old_id(uint64_t ino, size_t size)
{
	return (struct file_id){ 64769, ino, size, 1000000000ll * 1000000000, 1000000000ll * 1000000001, true };
}

static void cache_file(char *out, size_t n)
{
	snprintf(out, n, "%s/%s", dir, HASHCACHE_FILE);
}

static unsigned lines_of(void)
{
	char path[PATH_MAX], line[512];
	unsigned n = 0;
	FILE *f;

	cache_file(path, sizeof(path));
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void test_same_identity_hits(void **state)
{
	const char a[] = "the kernel as it was", b[] = "the kernel rewritten";
	struct file_id id = old_id(12, sizeof(a));
	uint8_t want[32], got[32];

	(void)state;
	sha256(a, sizeof(a), want);
	assert_false(hashcache_sha256(dir, &id, a, sizeof(a), got));
	assert_memory_equal(got, want, 32);
	/* Same identity: the remembered digest, whatever the bytes (the identity vouches for them). */
	assert_true(hashcache_sha256(dir, &id, b, sizeof(b), got));
	assert_memory_equal(got, want, 32);
	/* A write moves the change time: computed again. */
	id.ctime_ns++;
	sha256(b, sizeof(b), want);
	assert_false(hashcache_sha256(dir, &id, b, sizeof(b), got));
	assert_memory_equal(got, want, 32);
	/* The new identity replaced the old one of that file. */
	assert_int_equal(lines_of(), 2);
}

static void test_every_field_counts(void **state)
{
	const char a[] = "contents";
	struct file_id id = old_id(7, sizeof(a)), other;
	uint8_t got[32];

	(void)state;
	hashcache_sha256(dir, &id, a, sizeof(a), got);
	other = id, other.dev++;
	assert_false(hashcache_sha256(NULL, &other, a, sizeof(a), got));
	assert_false(hashcache_sha256(dir, &other, a, sizeof(a), got));
	other = id, other.ino++;
	assert_false(hashcache_sha256(dir, &other, a, sizeof(a), got));
	other = id, other.mtime_ns--;
	assert_false(hashcache_sha256(dir, &other, a, sizeof(a), got));
	/* A size that is not the bytes given: no cache at all. */
	other = id, other.size++;
	assert_false(hashcache_sha256(dir, &other, a, sizeof(a), got));
	other = id, other.known = false;
	assert_false(hashcache_sha256(dir, &other, a, sizeof(a), got));
	/* One entry a file: the identity seen last (mtime - 1) replaced the first. */
	other = id, other.mtime_ns--;
	assert_true(hashcache_sha256(dir, &other, a, sizeof(a), got));
	assert_false(hashcache_sha256(dir, &id, a, sizeof(a), got));
}

static void test_young_file_not_remembered(void **state)
{
	const char a[] = "just written";
	struct timespec now;
	struct file_id id = old_id(3, sizeof(a));
	uint8_t got[32];

	(void)state;
	clock_gettime(CLOCK_REALTIME, &now);
	id.ctime_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	assert_false(hashcache_sha256(dir, &id, a, sizeof(a), got));
	assert_false(hashcache_sha256(dir, &id, a, sizeof(a), got));
	assert_int_equal(lines_of(), 0);
}

static void test_bad_file_survived(void **state)
{
	const char a[] = "contents";
	struct file_id id = old_id(9, sizeof(a));
	char path[PATH_MAX];
	uint8_t want[32], got[32];
	FILE *f;

	(void)state;
	sha256(a, sizeof(a), want);
	cache_file(path, sizeof(path));
	/* Not a cache: ignored, then replaced. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("64769 9 9 1000000000000000000 1000000001000000000 00\n", f);
	fclose(f);
	assert_false(hashcache_sha256(dir, &id, a, sizeof(a), got));
	assert_memory_equal(got, want, 32);
	assert_true(hashcache_sha256(dir, &id, a, sizeof(a), got));
	/* Damaged lines around a good one: each refused alone. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("vmm input sha256 1\n", f);
	fputs("99999999999999999999999 9 9 1 1 " "00000000000000000000000000000000000000000000000000000000000000ff\n", f);
	fputs("64769 9 9 1000000000000000000 1000000001000000000 zz\n", f);
	fputs("garbage\n\n-1 -1 -1 -1 -1 -1\n", f);
	for (int i = 0; i < 300; i++)
		fputc('7', f);
	fputc('\n', f);
	fprintf(f, "64769 9 9 1000000000000000000 1000000001000000000 ");
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", want[i]);
	fputc('\n', f);
	fclose(f);
	assert_true(hashcache_sha256(dir, &id, "other", 9, got));
	assert_memory_equal(got, want, 32);
}

static void test_bounded(void **state)
{
	const char a[] = "contents";
	struct file_id id;
	uint8_t got[32];

	(void)state;
	for (unsigned i = 0; i < HASHCACHE_ENTRIES + 10; i++) {
		id = old_id(100 + i, sizeof(a));
		hashcache_sha256(dir, &id, a, sizeof(a), got);
	}
	assert_int_equal(lines_of(), HASHCACHE_ENTRIES + 1);
	/* The newest stay, the oldest fell off. */
	assert_true(hashcache_sha256(dir, &id, a, sizeof(a), got));
	id = old_id(100, sizeof(a));
	assert_false(hashcache_sha256(dir, &id, a, sizeof(a), got));
}

static void test_no_place_for_it(void **state)
{
	const char a[] = "contents";
	struct file_id id = old_id(5, sizeof(a));
	char file[PATH_MAX], below[PATH_MAX + 8];
	uint8_t want[32], got[32];
	FILE *f;

	(void)state;
	sha256(a, sizeof(a), want);
	/* A directory that cannot be made (a file stands in the way): hashed, nothing else. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(below, sizeof(below), "%s/sub", file);
	assert_false(hashcache_sha256(below, &id, a, sizeof(a), got));
	assert_memory_equal(got, want, 32);
	assert_false(hashcache_sha256("", &id, a, sizeof(a), got));
	assert_memory_equal(got, want, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_identity_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_field_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_young_file_not_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_survived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_place_for_it, setup, teardown),
	};

	return cmocka_run_group_tests_name("hashcache", tests, NULL, NULL);
}
