/* vmm-test: pvm-args="--append host=kvm_pvm" */
/*
 * The guest CPU model: features that break replay are hidden, host-state MSRs
 * raise #GP. On kvm_pvm hosts the CPUID of leaves 1 and 7 returns the host's
 * feature registers whatever KVM_SET_CPUID2 said (a host defect): there this
 * guest checks for exactly that pattern, so a fixed host makes it fail loudly.
 */
#include "guest.h"

#define BIT(n) (1u << (n))

int main(void)
{
	uint32_t a, b, c, d, max, maxext;
	uint64_t v;
	char vendor[13], brand[49];

	cpuid(0, 0, &max, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	report_info("vendor %s, max leaf %u", vendor, max);
	report(max >= 1, "basic leaf 1 exists");

	cpuid(1, 0, &a, &b, &c, &d);
	report_info("leaf 1: %08x %08x %08x %08x", a, b, c, d);
	report(a == 0x00000621 && b == 0x00010800, "leaf 1 EAX/EBX are the vmm model's");
	if (cmdline_has("host=kvm_pvm")) {
		report((d & BIT(4)) && (c & BIT(23)),
		       "kvm_pvm: leaf 1 ECX/EDX are the host's (TSC, POPCNT visible): known host defect");
		report(!(d & BIT(9)), "APIC hidden (leaf 1 EDX bit 9): KVM applies IA32_APIC_BASE");
		goto common;
	}
	report(c == BIT(13), "leaf 1 ECX is exactly the model's: CMPXCHG16B only (0x%x)", c);
	report(!(d & BIT(4)), "TSC hidden (leaf 1 EDX bit 4)");
	report(!(d & BIT(9)), "APIC hidden (leaf 1 EDX bit 9)");
	report(!(c & BIT(21)), "x2APIC hidden (leaf 1 ECX bit 21)");
	report(!(c & BIT(24)), "TSC-deadline hidden (leaf 1 ECX bit 24)");
	report(!(c & BIT(30)), "RDRAND hidden (leaf 1 ECX bit 30)");
	report(!(c & BIT(26)) && !(c & BIT(27)), "XSAVE/OSXSAVE hidden (leaf 1 ECX bits 26, 27)");
	report(!(c & BIT(28)), "AVX hidden (leaf 1 ECX bit 28)");
	report(!(c & BIT(3)), "MONITOR/MWAIT hidden (leaf 1 ECX bit 3)");
	report(!(c & BIT(15)), "PDCM hidden (leaf 1 ECX bit 15)");
	report(!(c & BIT(31)), "no hypervisor bit: no paravirt leaves to find");
	report((d & BIT(25)) && (d & BIT(26)), "SSE and SSE2 present (x86-64 baseline)");

	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		report_info("leaf 7: %08x %08x %08x %08x", a, b, c, d);
		report(!(b & BIT(18)), "RDSEED hidden (leaf 7 EBX bit 18)");
		report(!(b & BIT(5)) && !(b & BIT(16)), "AVX2/AVX-512 hidden (leaf 7 EBX bits 5, 16)");
		report(!(b & BIT(20)) && !(b & BIT(7)), "SMAP/SMEP hidden (leaf 7 EBX bits 20, 7)");
	}
common:
	cpuid(6, 0, &a, &b, &c, &d);
	report(!(c & BIT(0)), "APERF/MPERF hidden (leaf 6 ECX bit 0)");
	if (max >= 0xa) {
		cpuid(0xa, 0, &a, &b, &c, &d);
		report((a & 0xff) == 0, "no architectural PMU (leaf 0xa)");
	} else {
		report(true, "no architectural PMU (max leaf below 0xa)");
	}
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	report(!(b == 0x4b4d564b && c == 0x564b4d56), "no KVM signature at leaf 0x40000000");

	cpuid(0x80000000, 0, &maxext, &b, &c, &d);
	report(maxext >= 0x80000008, "extended leaves to 0x80000008");
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	report(!(d & BIT(27)), "RDTSCP hidden (0x80000001 EDX bit 27)");
	report((d & BIT(29)) != 0, "long mode present (0x80000001 EDX bit 29)");
	cpuid(0x80000007, 0, &a, &b, &c, &d);
	report(!(d & BIT(8)), "invariant TSC hidden (0x80000007 EDX bit 8)");
	for (unsigned i = 0; i < 3; i++)
		cpuid(0x80000002 + i, 0, (uint32_t *)(brand + 16 * i), (uint32_t *)(brand + 16 * i + 4),
		      (uint32_t *)(brand + 16 * i + 8), (uint32_t *)(brand + 16 * i + 12));
	brand[48] = 0;
	report(memcmp(brand, "vmm deterministic", 17) == 0, "brand string is the vmm model: %s", brand);

	report(rdmsr_safe(0x10, &v) == 13, "rdmsr IA32_TSC raises #GP");
	report(wrmsr_safe(0x10, 0) == 13, "wrmsr IA32_TSC raises #GP");
	report(rdmsr_safe(0xe7, &v) == 13, "rdmsr IA32_MPERF raises #GP");
	report(rdmsr_safe(0xe8, &v) == 13, "rdmsr IA32_APERF raises #GP");
	report(rdmsr_safe(0x4b564d01, &v) == 13, "rdmsr MSR_KVM_SYSTEM_TIME_NEW raises #GP");
	report(rdmsr_safe(0xc0000103, &v) == 13, "rdmsr IA32_TSC_AUX raises #GP");
	report(rdmsr_safe(0x1b, &v) == -1 && !(v & BIT(11)), "IA32_APIC_BASE reads with the APIC disabled");
	report_summary();
}
