/* cmocka tests of the CPU model: no replay-breaking feature, host check, trapped MSRs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include <stdbool.h>

#include "cpuid.h"

#define BIT(n) (1u << (n))

static const struct cpuid_leaf *leaf(const struct cpuid_leaf *t, size_t n, uint32_t fn)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].function == fn && t[i].index == 0)
			return &t[i];
	return NULL;
}

static void test_hidden_features(void **state)
{
	struct cpuid_leaf t[CPUID_MAX_LEAVES];
	size_t n = cpuid_table(t, CPUID_MAX_LEAVES);
	const struct cpuid_leaf *l;

	(void)state;
	l = leaf(t, n, 1);
	assert_non_null(l);
	assert_int_equal(l->edx & (BIT(4) | BIT(9)), 0);		/* TSC, APIC */
	assert_int_equal(l->ecx & (BIT(3) | BIT(15) | BIT(21) | BIT(24) | BIT(26) | BIT(27) |
				   BIT(28) | BIT(30) | BIT(31)), 0);	/* MONITOR PDCM x2APIC TSC-deadline XSAVE OSXSAVE AVX RDRAND hypervisor */
	assert_true(l->edx & BIT(26));					/* SSE2: the x86-64 baseline */
	l = leaf(t, n, 7);
	assert_non_null(l);
	assert_int_equal(l->ebx, 0);					/* no RDSEED, AVX2, AVX-512... */
	l = leaf(t, n, 0x80000001);
	assert_int_equal(l->edx & BIT(27), 0);				/* RDTSCP */
	assert_true(l->edx & BIT(29));					/* long mode */
	l = leaf(t, n, 0x80000007);
	assert_int_equal(l->edx & BIT(8), 0);				/* invariant TSC */
	assert_null(leaf(t, n, 0xa));					/* PMU */
	assert_null(leaf(t, n, 0xd));					/* XSAVE state */
	assert_null(leaf(t, n, 0x40000000));				/* KVM paravirt */
	assert_true(leaf(t, n, 0)->eax >= 7);
	assert_true(leaf(t, n, 0x80000000)->eax >= 0x80000008);
}

static void test_table_is_fixed(void **state)
{
	struct cpuid_leaf a[CPUID_MAX_LEAVES], b[CPUID_MAX_LEAVES];
	size_t na = cpuid_table(a, CPUID_MAX_LEAVES), nb = cpuid_table(b, CPUID_MAX_LEAVES);

	(void)state;
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	assert_int_equal(cpuid_table(a, 2), 2);		/* never writes past max */
}

static void test_host_check(void **state)
{
	struct cpuid_leaf t[CPUID_MAX_LEAVES], host[2];
	size_t n = cpuid_table(t, CPUID_MAX_LEAVES);
	char err[200];

	(void)state;
	host[0] = *leaf(t, n, 1);
	host[1] = *leaf(t, n, 0x80000001);
	host[0].ecx |= BIT(30);		/* the host may have more */
	assert_int_equal(cpuid_check_host(t, n, host, 2, err, sizeof(err)), 0);
	host[0].edx &= ~BIT(26);	/* but not less */
	assert_int_equal(cpuid_check_host(t, n, host, 2, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "leaf 1 EDX"));
	assert_int_equal(cpuid_check_host(t, n, host, 0, err, sizeof(err)), -ENOTSUP);
}

static void test_trapped_msrs(void **state)
{
	static const uint32_t must[] = { 0x10, 0x3b, 0xe7, 0xe8, 0x6e0, 0xc0000103, 0x4b564d01 };

	(void)state;
	assert_true(cpuid_trapped_msr_count <= 16);	/* KVM_MSR_FILTER_MAX_RANGES */
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		bool found = false;

		for (size_t j = 0; j < cpuid_trapped_msr_count; j++)
			if (must[i] >= cpuid_trapped_msrs[j].base &&
			    must[i] < cpuid_trapped_msrs[j].base + cpuid_trapped_msrs[j].count)
				found = true;
		assert_true(found);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hidden_features),
		cmocka_unit_test(test_table_is_fixed),
		cmocka_unit_test(test_host_check),
		cmocka_unit_test(test_trapped_msrs),
	};
	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
