/* The fixed, host-independent CPU model the guest sees, and the MSRs trapped to keep host state out. */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <stddef.h>
#include <stdint.h>

struct cpuid_leaf {
	uint32_t function, index, flags;
	uint32_t eax, ebx, ecx, edx;
};

#define CPUID_MAX_LEAVES 24

/* The table itself; the same on every host. Returns the number of leaves. */
size_t cpuid_table(struct cpuid_leaf *out, size_t max);

/*
 * Check the table against what the host's KVM can give (KVM_GET_SUPPORTED_CPUID
 * entries): 0, or -ENOTSUP with err naming the first missing feature.
 */
int cpuid_check_host(const struct cpuid_leaf *table, size_t n,
		     const struct cpuid_leaf *host, size_t nhost, char *err, size_t errlen);

/* MSRs whose accesses exit to the vmm (they would leak host time or KVM PV state). */
struct msr_range {
	uint32_t base, count;
	const char *name;
};
extern const struct msr_range cpuid_trapped_msrs[];
extern const size_t cpuid_trapped_msr_count;

#endif
