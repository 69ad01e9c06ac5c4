/*
 * The physical limit of an exit: a bare KVM loop, no devices and no journal,
 * whose 64-bit guest does nothing but one kind of exit (a port 0x80 write, a
 * hlt, or a store to an address outside every memory slot). Prints the median,
 * min and max nanoseconds per exit over RUNS runs of N exits each.
 *
 * usage: kvmloop pio|hlt|mmio [N] [RUNS]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE	0x200000u	/* one slot: 2 MiB; the next 2 MiB page is mapped but no memory */
#define CODE		0x1000u
#define PML4		0x8000u
#define PDPT		0x9000u
#define PD		0xa000u
#define MMIO_ADDR	0x200000u

static const struct loop {
	const char *name;
	unsigned exit_reason;
	uint8_t code[16];
	unsigned len;
} loops[] = {
	/* mov $1, %al; 1: out %al, $0x80; jmp 1b */
	{ "pio", KVM_EXIT_IO, { 0xb0, 0x01, 0xe6, 0x80, 0xeb, 0xfc }, 6 },
	/* 1: hlt; jmp 1b */
	{ "hlt", KVM_EXIT_HLT, { 0xf4, 0xeb, 0xfd }, 3 },
	/* mov $MMIO_ADDR, %rbx; 1: mov %al, (%rbx); jmp 1b */
	{ "mmio", KVM_EXIT_MMIO, { 0x48, 0xbb, 0x00, 0x00, 0x20, 0x00, 0, 0, 0, 0, 0x88, 0x03, 0xeb, 0xfc }, 14 },
};

static void die(const char *what)
{
	fprintf(stderr, "kvmloop: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void set_cpuid(int kvm, int vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));

	if (!c)
		die("calloc");
	c->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0)	/* long mode needs CPUID's LM bit */
		die("KVM_SET_CPUID2");
	free(c);
}

static void long_mode(int vcpu, uint8_t *mem)
{
	struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
				  .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .base = 0, .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1,
				  .s = 1, .db = 1, .g = 1 };
	struct kvm_sregs s;
	struct kvm_regs r;
	uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT), *pd = (uint64_t *)(mem + PD);

	pml4[0] = PDPT | 3;
	pdpt[0] = PD | 3;
	pd[0] = 0 | 0x83;		/* present, writable, 2 MiB */
	pd[1] = MMIO_ADDR | 0x83;	/* mapped, but no slot behind it: every access exits */
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cr3 = PML4;
	s.cr4 = 1u << 5;			/* PAE */
	s.cr0 = 1u | 1u << 31;		/* PE, PG */
	s.efer = 1u << 8 | 1u << 10;	/* LME, LMA */
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rflags = 2;
	r.rsp = CODE;
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");
}

int main(int argc, char **argv)
{
	const struct loop *l = NULL;
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000, runs = argc > 3 ? strtoul(argv[3], NULL, 0) : 5;
	double per[64];
	int kvm, vm, vcpu, size;
	struct kvm_run *run;
	uint8_t *mem;

	for (unsigned i = 0; argc > 1 && i < sizeof(loops) / sizeof(loops[0]); i++)
		if (!strcmp(argv[1], loops[i].name))
			l = &loops[i];
	if (!l || !n || !runs || runs > 64) {
		fprintf(stderr, "usage: kvmloop pio|hlt|mmio [N] [RUNS (at most 64)]\n");
		return 2;
	}
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	struct kvm_userspace_memory_region slot = { .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
						    .userspace_addr = (uintptr_t)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		die("KVM_CREATE_VCPU");
	if ((size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	memcpy(mem + CODE, l->code, l->len);
	set_cpuid(kvm, vcpu);
	long_mode(vcpu, mem);

	for (unsigned long r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();

		for (unsigned long i = 0; i < n; i++) {
			if (ioctl(vcpu, KVM_RUN, 0) < 0)
				die("KVM_RUN");
			if (run->exit_reason != l->exit_reason) {
				fprintf(stderr, "kvmloop: %s: exit reason %u, expected %u\n", l->name, run->exit_reason,
					l->exit_reason);
				return 1;
			}
		}
		per[r] = (double)(now_ns() - t0) / (double)n;
	}
	qsort(per, runs, sizeof(per[0]), cmp_double);
	printf("%s %.0f %.0f %.0f\n", l->name, per[runs / 2], per[0], per[runs - 1]);
	return 0;
}
