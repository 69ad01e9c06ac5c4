/*
 * The guest CPU model: a fixed CPUID table, independent of the host, without
 * the features that make a run irreproducible (TSC, RDRAND/RDSEED, XSAVE/AVX,
 * KVM paravirt leaves, MONITOR, PMU, APIC).
 */
#include "cpuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Feature bits by their SDM names. */
#define F1_EDX_FPU	(1u << 0)
#define F1_EDX_DE	(1u << 2)
#define F1_EDX_PSE	(1u << 3)
#define F1_EDX_MSR	(1u << 5)
#define F1_EDX_PAE	(1u << 6)
#define F1_EDX_CX8	(1u << 8)
#define F1_EDX_SEP	(1u << 11)
#define F1_EDX_PGE	(1u << 13)
#define F1_EDX_CMOV	(1u << 15)
#define F1_EDX_PAT	(1u << 16)
#define F1_EDX_PSE36	(1u << 17)
#define F1_EDX_CLFSH	(1u << 19)
#define F1_EDX_MMX	(1u << 23)
#define F1_EDX_FXSR	(1u << 24)
#define F1_EDX_SSE	(1u << 25)
#define F1_EDX_SSE2	(1u << 26)
#define F1_ECX_CX16	(1u << 13)
#define X1_ECX_LAHF	(1u << 0)
#define X1_EDX_SYSCALL	(1u << 11)
#define X1_EDX_NX	(1u << 20)
#define X1_EDX_LM	(1u << 29)

#define KVM_CPUID_FLAG_SIGNIFCANT_INDEX_ 1

static uint32_t str4(const char *s)
{
	return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
	       (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

size_t cpuid_table(struct cpuid_leaf *out, size_t max)
{
	static const char brand[49] = "vmm deterministic x86-64 CPU                    ";
	const char *vendor = "GenuineIntel";
	struct cpuid_leaf t[CPUID_MAX_LEAVES];
	size_t n = 0;

	memset(t, 0, sizeof(t));
	/* Leaf 0: max basic leaf 7, vendor string in EBX, EDX, ECX order. */
	t[n++] = (struct cpuid_leaf){ 0, 0, 0, 7, str4(vendor), str4(vendor + 8), str4(vendor + 4) };
	/*
	 * Leaf 1: family 6 model 2, CLFLUSH 64 bytes, APIC ID 0. The x86-64
	 * baseline (SSE2) plus CMPXCHG16B: SSE3 and later are left out because
	 * emulating KVMs (kvm_pvm) cannot run them in kernel mode, and a model
	 * every host can give is what makes a journal portable.
	 */
	t[n++] = (struct cpuid_leaf){ 1, 0, 0, 0x00000621, 0x00010800,
		F1_ECX_CX16,
		F1_EDX_FPU | F1_EDX_DE | F1_EDX_PSE | F1_EDX_MSR | F1_EDX_PAE | F1_EDX_CX8 |
		F1_EDX_SEP | F1_EDX_PGE | F1_EDX_CMOV | F1_EDX_PAT | F1_EDX_PSE36 | F1_EDX_CLFSH |
		F1_EDX_MMX | F1_EDX_FXSR | F1_EDX_SSE | F1_EDX_SSE2 };
	/* Leaf 2: no cache descriptors; leaf 4: no cache levels; 5 (MONITOR), 6 (power, APERF), 7 (extended) empty. */
	t[n++] = (struct cpuid_leaf){ 2, 0, 0, 0x00000001, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 4, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX_, 0, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 5, 0, 0, 0, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 6, 0, 0, 0, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 7, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX_, 0, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 0x80000000, 0, 0, 0x80000008, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 0x80000001, 0, 0, 0, 0, X1_ECX_LAHF,
		X1_EDX_SYSCALL | X1_EDX_NX | X1_EDX_LM };
	for (unsigned i = 0; i < 3; i++)
		t[n++] = (struct cpuid_leaf){ 0x80000002 + i, 0, 0, str4(brand + 16 * i),
			str4(brand + 16 * i + 4), str4(brand + 16 * i + 8), str4(brand + 16 * i + 12) };
	t[n++] = (struct cpuid_leaf){ 0x80000005, 0, 0, 0, 0, 0, 0 };
	t[n++] = (struct cpuid_leaf){ 0x80000006, 0, 0, 0, 0, 0x01006040, 0 };	/* 256 KiB L2, 64-byte lines */
	t[n++] = (struct cpuid_leaf){ 0x80000007, 0, 0, 0, 0, 0, 0 };		/* no invariant TSC */
	t[n++] = (struct cpuid_leaf){ 0x80000008, 0, 0, 0x00003027, 0, 0, 0 };	/* 39-bit physical, 48-bit virtual */
	if (n > max)
		n = max;
	memcpy(out, t, n * sizeof(*out));
	return n;
}

static const struct cpuid_leaf *find(const struct cpuid_leaf *h, size_t n, uint32_t fn, uint32_t idx)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].function == fn && h[i].index == idx)
			return &h[i];
	return NULL;
}

int cpuid_check_host(const struct cpuid_leaf *table, size_t n,
		     const struct cpuid_leaf *host, size_t nhost, char *err, size_t errlen)
{
	/* Only feature-flag registers are checked: the others are ours to define. */
	static const struct { uint32_t fn; int reg; const char *name; } checked[] = {
		{ 1, 2, "leaf 1 ECX" }, { 1, 3, "leaf 1 EDX" },
		{ 0x80000001, 2, "leaf 0x80000001 ECX" }, { 0x80000001, 3, "leaf 0x80000001 EDX" },
	};

	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		const struct cpuid_leaf *ours = find(table, n, checked[i].fn, 0);
		const struct cpuid_leaf *h = find(host, nhost, checked[i].fn, 0);
		uint32_t want, have;

		if (!ours)
			continue;
		want = checked[i].reg == 2 ? ours->ecx : ours->edx;
		have = h ? (checked[i].reg == 2 ? h->ecx : h->edx) : 0;
		if (want & ~have) {
			snprintf(err, errlen, "the host's KVM lacks CPU features the guest CPU model needs: "
				 "%s bits 0x%08x", checked[i].name, want & ~have);
			return -ENOTSUP;
		}
	}
	return 0;
}

const struct msr_range cpuid_trapped_msrs[] = {
	{ 0x00000010, 1, "IA32_TIME_STAMP_COUNTER" },
	{ 0x00000011, 2, "KVM wall clock / system time (old)" },
	{ 0x0000003b, 1, "IA32_TSC_ADJUST" },
	{ 0x000000e7, 2, "IA32_MPERF, IA32_APERF" },
	{ 0x000006e0, 1, "IA32_TSC_DEADLINE" },
	{ 0xc0000103, 1, "IA32_TSC_AUX" },
	{ 0x4b564d00, 9, "KVM paravirtual MSRs" },
};
const size_t cpuid_trapped_msr_count = sizeof(cpuid_trapped_msrs) / sizeof(cpuid_trapped_msrs[0]);
