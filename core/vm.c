/* KVM VM and vCPU setup: memory slots and trapped pages, deterministic CPUID, MSR filter, entry state, vCPU state save and load. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"

#define KVM_TSS_ADDR		0xfffbd000u	/* 3 pages VMX needs for real mode; above any RAM we map */
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000u

static int fail(char *err, size_t errlen, const char *what)
{
	int e = errno;

	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

static int open_kvm(struct vm *vm, char *err, size_t errlen)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errlen, "/dev/kvm does not exist: this host has no KVM "
				 "(load kvm_intel or kvm_amd, or enable nested virtualization)");
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen, "no permission to open /dev/kvm "
				 "(add your user to the 'kvm' group, or run as root)");
		else
			snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(e));
		return -e;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm speaks an unknown KVM API version");
		return -ENOTSUP;
	}
	return 0;
}

static int setup_cpuid(struct vm *vm, char *err, size_t errlen)
{
	struct cpuid_leaf table[CPUID_MAX_LEAVES], *host_leaves;
	struct kvm_cpuid2 *host, *set;
	size_t n = cpuid_table(table, CPUID_MAX_LEAVES), nhost = 256;
	int r;

	host = calloc(1, sizeof(*host) + nhost * sizeof(struct kvm_cpuid_entry2));
	set = calloc(1, sizeof(*set) + n * sizeof(struct kvm_cpuid_entry2));
	host_leaves = calloc(nhost, sizeof(*host_leaves));
	if (!host || !set || !host_leaves) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	host->nent = (uint32_t)nhost;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, host) < 0) {
		r = fail(err, errlen, "KVM_GET_SUPPORTED_CPUID");
		goto out;
	}
	for (uint32_t i = 0; i < host->nent; i++) {
		struct kvm_cpuid_entry2 *e = &host->entries[i];

		host_leaves[i] = (struct cpuid_leaf){ e->function, e->index, e->flags,
						      e->eax, e->ebx, e->ecx, e->edx };
	}
	if ((r = cpuid_check_host(table, n, host_leaves, host->nent, err, errlen)) < 0)
		goto out;
	set->nent = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &set->entries[i];

		e->function = table[i].function;
		e->index = table[i].index;
		e->flags = table[i].flags;
		e->eax = table[i].eax;
		e->ebx = table[i].ebx;
		e->ecx = table[i].ecx;
		e->edx = table[i].edx;
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, set) < 0)
		r = fail(err, errlen, "KVM_SET_CPUID2");
out:
	free(host);
	free(set);
	free(host_leaves);
	return r;
}

/*
 * No local APIC on this board: IA32_APIC_BASE says disabled (BSP bit only).
 * KVM derives CPUID.1:EDX.APIC from this MSR, so without it the bit comes back.
 */
static int disable_apic(struct vm *vm, char *err, size_t errlen)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} msrs = { .hdr.nmsrs = 1, .e = { { .index = 0x1b, .data = 0x100 } } };

	if (ioctl(vm->vcpu_fd, KVM_SET_MSRS, &msrs) != 1)
		return fail(err, errlen, "KVM_SET_MSRS IA32_APIC_BASE");
	return 0;
}

static int setup_msr_filter(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
				      .args = { KVM_MSR_EXIT_REASON_FILTER } };
	struct kvm_msr_filter filter;
	static uint8_t deny[2];		/* all-zero bitmap: every MSR in the range exits */

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0 ||
	    ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		snprintf(err, errlen, "this KVM cannot filter MSRs (KVM_CAP_X86_MSR_FILTER, Linux 5.10+): "
			 "the guest could read the host TSC");
		return -ENOTSUP;
	}
	memset(&filter, 0, sizeof(filter));
	filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	for (size_t i = 0; i < cpuid_trapped_msr_count && i < KVM_MSR_FILTER_MAX_RANGES; i++) {
		filter.ranges[i].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
		filter.ranges[i].base = cpuid_trapped_msrs[i].base;
		filter.ranges[i].nmsrs = cpuid_trapped_msrs[i].count;
		filter.ranges[i].bitmap = deny;
	}
	if (ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
		return fail(err, errlen, "KVM_X86_SET_MSR_FILTER");
	return 0;
}

/*
 * The memory slots: guest RAM from 0 in spans around the trapped pages. A
 * page trapped for writes is a read-only slot of its own (reads and fetches
 * stay native); one trapped for every access has no slot.
 */
struct slot_span {
	uint64_t first, pages;
	bool readonly;
};

static unsigned slot_spans(const struct vm *vm, struct slot_span *span)
{
	uint64_t next = 0, total = vm->mem.size >> VM_PAGE_SHIFT;
	unsigned n = 0;

	for (unsigned i = 0; i <= vm->n_traps; i++) {
		uint64_t end = i < vm->n_traps ? vm->trap[i].gpa >> VM_PAGE_SHIFT : total;

		if (end > next)
			span[n++] = (struct slot_span){ next, end - next, false };
		if (i < vm->n_traps && !vm->trap[i].reads)
			span[n++] = (struct slot_span){ end, 1, true };
		next = end + 1;
	}
	return n;
}

static int set_slot(struct vm *vm, unsigned slot, const struct slot_span *s, bool present)
{
	struct kvm_userspace_memory_region region = { .slot = slot };

	if (present) {
		/* Nothing writes a read-only slot but vmm, and vmm's writes go to mem.dma_dirty. */
		region.flags = s->readonly ? KVM_MEM_READONLY : vm->dirty_log ? KVM_MEM_LOG_DIRTY_PAGES : 0;
		region.guest_phys_addr = s->first << VM_PAGE_SHIFT;
		region.memory_size = s->pages << VM_PAGE_SHIFT;
		region.userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + (s->first << VM_PAGE_SHIFT));
	}
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

static int add_slots(struct vm *vm)
{
	struct slot_span span[VM_SLOTS_MAX];
	unsigned n = slot_spans(vm, span);
	int r;

	for (unsigned i = 0; i < n; i++)
		if ((r = set_slot(vm, i, &span[i], true)) < 0)
			return r;
	vm->n_slots = n;
	return 0;
}

static bool getenv_flag(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

/* KVM's side of the machine on memory vm->mem already holds: the VM, its slots, the vCPU and its fixed setup. */
static int kvm_build(struct vm *vm, char *err, size_t errlen)
{
	int r, mmap_size;

	if ((r = open_kvm(vm, err, errlen)) < 0)
		return r;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail(err, errlen, "KVM_CREATE_VM");
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return fail(err, errlen, "KVM_SET_TSS_ADDR");
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = KVM_IDENTITY_MAP_ADDR;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			return fail(err, errlen, "KVM_SET_IDENTITY_MAP_ADDR");
	}
	if ((r = add_slots(vm)) < 0) {
		errno = -r;
		return fail(err, errlen, "KVM_SET_USER_MEMORY_REGION");
	}
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return fail(err, errlen, "KVM_CREATE_VCPU");
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return fail(err, errlen, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)mmap_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return fail(err, errlen, "mmap of kvm_run");
	}
	/*
	 * The general registers come back in kvm_run at every return: the
	 * journal's exits, landmark hunts and gdb's steps read them with no
	 * KVM_GET_REGS (vm_get_regs). VMM_NO_SYNC_REGS=1 turns it off, for
	 * measuring what it saves (make bench).
	 */
	r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	vm->sync_regs = r > 0 && (r & KVM_SYNC_X86_REGS) && !getenv_flag("VMM_NO_SYNC_REGS");
	vm->regs_fresh = vm->debug_set = false;
	vm->run->kvm_valid_regs = vm->sync_regs ? KVM_SYNC_X86_REGS : 0;
	if ((r = setup_cpuid(vm, err, errlen)) < 0)
		return r;
	if ((r = setup_msr_filter(vm, err, errlen)) < 0)
		return r;
	return disable_apic(vm, err, errlen);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->ioev.stop_fd = -1;
	vm->pin_cpu = -1;
	vm->idle_at = UINT64_MAX;
	vm->verbose = cfg->verbose;
	vm->defer_ns = cfg->defer_ns;
	vm->inject_at_sti_hlt = cfg->inject_at_sti_hlt;
	vm->held_tail = &vm->held;
	if (cfg->chaos) {
		chaos_init(&vm->chaos, cfg->chaos_seed);
		chaos_draw_defer(&vm->chaos, cfg->defer_ns);
	}
	vm->console = cfg->console;
	if ((r = gmem_alloc(&vm->mem, cfg->mem_size)) < 0) {
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory: %s",
			 (unsigned long long)(cfg->mem_size >> 20), strerror(-r));
		return r;
	}
	if ((r = kvm_build(vm, err, errlen)) < 0)
		return r;
	board_init(&vm->board, cfg->mem_size, cfg->rtc_epoch, cfg->console);
	vm->board.verbose = cfg->verbose;
	vm->board.replay = cfg->replay;
	for (unsigned i = 0; i < cfg->n_virtio; i++)
		if ((r = board_add_virtio(&vm->board, &vm->mem, &cfg->virtio[i], err, errlen)) < 0)
			return r;
	if (!cfg->ioeventfd || !cfg->n_virtio)
		return 0;
	/* Run and record go on without (the journal says so); replay needs what the recording had. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0) {
		if (!cfg->replay)
			return 0;
		snprintf(err, errlen, "this KVM has no KVM_IOEVENTFD, which the recording's virtio devices used");
		return -ENOTSUP;
	}
	if ((r = ioevent_init(&vm->ioev, vm->vm_fd, &vm->board)) < 0) {
		snprintf(err, errlen, "KVM_IOEVENTFD for the virtio notifications: %s", strerror(-r));
		return r;
	}
	return 0;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int vm_set_entry(struct vm *vm, const struct boot_entry *entry, char *err, size_t errlen)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return fail(err, errlen, "KVM_GET_SREGS");
	/* 32-bit flat protected mode, paging off: what multiboot, Linux 32-bit boot and PVH all ask for. */
	sregs.cs = flat_segment(BOOT_CODE_SEL, 0xb);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(BOOT_DATA_SEL, 0x3);
	sregs.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = BOOT_TSS_SEL,
					 .type = 0xb, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .selector = 0, .type = 0x2, .present = 1, .limit = 0xffff };
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x11;	/* PE, ET */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return fail(err, errlen, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = entry->eip;
	regs.rax = entry->eax;
	regs.rbx = entry->ebx;
	regs.rsi = entry->esi;
	regs.rsp = BOOT_ZEROPAGE_ADDR;
	if (vm_set_regs(vm, &regs) < 0)
		return fail(err, errlen, "KVM_SET_REGS");
	return 0;
}

/*
 * Without it, every fetch of the dirty log write-protects every page it
 * reports, and the guest's next write to each faults into KVM again: the
 * pages a guest writes all the time (its stacks, its page tables, the data
 * its loops update) fault once per fetch, and replay fetches every
 * RR_EPOCH_EXITS exits and at every landmark. With it, vm_dirty_fetch
 * leaves those writable. VMM_NO_MANUAL_DIRTY=1 turns it off, to compare.
 */
static void dirty_manual_enable(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				      .args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } };
	uint64_t words = ((vm->mem.size >> VM_PAGE_SHIFT) + 63) / 64;

	vm->dirty_manual = false;
	if (getenv_flag("VMM_NO_MANUAL_DIRTY") ||
	    !(ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) &
	      KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
		return;
	if ((!vm->dirty_prev && !(vm->dirty_prev = calloc(words, 8))) ||
	    (!vm->dirty_clear && !(vm->dirty_clear = calloc(words, 8))))
		return;
	memset(vm->dirty_prev, 0, words * 8);
	vm->dirty_manual = ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

int vm_enable_dirty_log(struct vm *vm, char *err, size_t errlen)
{
	struct slot_span span[VM_SLOTS_MAX];
	unsigned n;
	int r;

	vm->dirty_log = true;
	dirty_manual_enable(vm);
	n = slot_spans(vm, span);
	for (unsigned i = 0; i < n; i++)
		if ((r = set_slot(vm, i, &span[i], true)) < 0) {
			errno = -r;
			return fail(err, errlen, "KVM_SET_USER_MEMORY_REGION with dirty logging");
		}
	return 0;
}

/*
 * Which of the pages a manual fetch of slot reported (got) to write-protect
 * again: those the fetch before did not report. A page reported twice in a
 * row is one the guest keeps writing: it stays writable and is reported at
 * every fetch from then on, which costs a hash of it where a fault cost
 * more, until every DIRTY_RESET_FETCHES-th fetch protects everything again
 * so that pages the guest stopped writing drop out. With traps (more than
 * one slot) every reported page, as without the capability.
 */
#define DIRTY_RESET_FETCHES 16
static int dirty_clear_slot(struct vm *vm, unsigned slot, const struct slot_span *span, const uint64_t *got)
{
	uint64_t words = (span->pages + 63) / 64;
	bool all = vm->n_slots > 1 || vm->dirty_fetches % DIRTY_RESET_FETCHES == 0;
	struct kvm_clear_dirty_log clear = { .slot = slot, .num_pages = (uint32_t)span->pages, .first_page = 0,
					     .dirty_bitmap = vm->dirty_clear };
	bool any = false;

	for (uint64_t i = 0; i < words; i++) {
		vm->dirty_clear[i] = all ? got[i] : got[i] & ~vm->dirty_prev[i];
		any |= vm->dirty_clear[i] != 0;
		if (vm->n_slots == 1)
			vm->dirty_prev[i] = got[i];
	}
	if (any && ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0)
		return -errno;
	return 0;
}

/* Set the bits of src[0, bits) in dst from bit at on. */
static void bits_or_at(uint64_t *dst, uint64_t at, const uint64_t *src, uint64_t bits)
{
	for (uint64_t i = 0; i < (bits + 63) / 64; i++)
		for (uint64_t w = src[i]; w; w &= w - 1) {
			uint64_t b = i * 64 + (uint64_t)__builtin_ctzll(w);

			if (b < bits)
				dst[(at + b) / 64] |= 1ull << ((at + b) % 64);
		}
}

int vm_dirty_fetch(struct vm *vm, uint64_t *bitmap)
{
	struct slot_span span[VM_SLOTS_MAX];
	uint64_t words = ((vm->mem.size >> VM_PAGE_SHIFT) + 63) / 64;
	unsigned n;
	int r;

	vm->dirty_fetches++;
	if (!vm->n_traps) {
		struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };

		if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		span[0] = (struct slot_span){ 0, vm->mem.size >> VM_PAGE_SHIFT, false };
		return vm->dirty_manual ? dirty_clear_slot(vm, 0, &span[0], bitmap) : 0;
	}
	n = slot_spans(vm, span);
	memset(bitmap, 0, words * 8);
	for (unsigned i = 0; i < n; i++) {
		struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = vm->slot_log };

		if (span[i].readonly)
			continue;
		if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		if (vm->dirty_manual && (r = dirty_clear_slot(vm, i, &span[i], vm->slot_log)) < 0)
			return r;
		bits_or_at(bitmap, span[i].first, vm->slot_log, span[i].pages);
	}
	return 0;
}

static int trap_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct vm_trap *)a)->gpa, y = ((const struct vm_trap *)b)->gpa;

	return x < y ? -1 : x > y;
}

int vm_set_traps(struct vm *vm, const struct vm_trap *t, unsigned n)
{
	uint64_t words = ((vm->mem.size >> VM_PAGE_SHIFT) + 63) / 64;
	struct vm_trap want[VM_TRAPS_MAX];
	unsigned k = 0;
	int r;

	if (n > VM_TRAPS_MAX)
		return -E2BIG;
	for (unsigned i = 0; i < n; i++) {
		if (t[i].gpa >= vm->mem.size)
			return -EFAULT;
		if (vm_trap_refused(vm, t[i].gpa))
			continue;
		want[k] = (struct vm_trap){ t[i].gpa & ~(VM_PAGE_SIZE - 1), t[i].reads };
		k++;
	}
	qsort(want, k, sizeof(want[0]), trap_cmp);
	n = k;
	k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (k && want[k - 1].gpa == want[i].gpa)
			want[k - 1].reads |= want[i].reads;
		else
			want[k++] = want[i];
	}
	for (unsigned i = 0; i <= k; i++) {
		if (i == k && k == vm->n_traps)
			return 0;	/* as they are */
		if (i == k || i >= vm->n_traps || want[i].gpa != vm->trap[i].gpa || want[i].reads != vm->trap[i].reads)
			break;
	}
	if (!vm->slot_log && !(vm->slot_log = calloc(words, 8)))
		return -ENOMEM;
	/* A deleted slot takes its dirty log along: keep what it holds as pages the VMM wrote. */
	if (vm->dirty_log && vm->mem.dma_dirty) {
		uint64_t *all = calloc(words, 8);

		if (!all)
			return -ENOMEM;
		if ((r = vm_dirty_fetch(vm, all)) < 0) {
			free(all);
			return r;
		}
		for (uint64_t i = 0; i < words; i++)
			if (all[i])
				__atomic_fetch_or(&vm->mem.dma_dirty[i], all[i], __ATOMIC_RELAXED);
		free(all);
	}
	for (unsigned i = 0; i < vm->n_slots; i++)
		if ((r = set_slot(vm, i, NULL, false)) < 0)
			return r;
	memcpy(vm->trap, want, k * sizeof(want[0]));
	vm->n_traps = k;
	return add_slots(vm);
}

int vm_paging_mode(struct vm *vm, struct paging_mode *pm)
{
	struct kvm_sregs s;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	*pm = (struct paging_mode){ s.cr0, s.cr3, s.cr4, s.efer };
	return 0;
}

/* Copy between buf and guest-virtual memory through the guest's page tables, page by page. */
static int access_virt(struct vm *vm, const struct paging_mode *pm, uint64_t gva, uint8_t *buf, size_t len,
		       bool write)
{
	while (len) {
		uint64_t gpa, left;
		int r = paging_translate(&vm->mem, pm, gva, &gpa, &left);

		if (r < 0)
			return r;
		if (left > len)
			left = len;
		if ((write ? gmem_write(&vm->mem, gpa, buf, left) : gmem_read(&vm->mem, gpa, buf, left)) < 0)
			return -EFAULT;
		buf += left;
		gva += left;
		len -= left;
	}
	return 0;
}

int vm_read_virt(struct vm *vm, const struct paging_mode *pm, uint64_t gva, void *dst, size_t len)
{
	return access_virt(vm, pm, gva, dst, len, false);
}

int vm_write_virt(struct vm *vm, const struct paging_mode *pm, uint64_t gva, const void *src, size_t len)
{
	return access_virt(vm, pm, gva, (uint8_t *)src, len, true);
}

/* Every MSR KVM saves and restores for this vCPU model (KVM_GET_MSR_INDEX_LIST), up to max. */
static int msr_index_list(struct vm *vm, uint32_t *out, unsigned max, unsigned *n)
{
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + max * sizeof(uint32_t));

	if (!list)
		return -ENOMEM;
	list->nmsrs = max;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		int e = errno;

		free(list);
		return -e;
	}
	*n = list->nmsrs;
	memcpy(out, list->indices, *n * sizeof(uint32_t));
	free(list);
	return 0;
}

/*
 * KVM_GET_MSRS and KVM_SET_MSRS stop at the first MSR they refuse: go on
 * after it. Returns how many of e[] were transferred; the refused ones are
 * marked with index 0xffffffff so that a save leaves them out of the load.
 */
static unsigned msrs_xfer(struct vm *vm, unsigned long req, struct kvm_msr_entry *e, unsigned n)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[VM_CPU_MSRS];
	} *m = malloc(sizeof(*m));
	unsigned done = 0, i = 0;

	if (!m)
		return 0;
	while (i < n) {
		int got;

		m->hdr.nmsrs = n - i;
		memcpy(m->e, e + i, (n - i) * sizeof(*e));
		got = ioctl(vm->vcpu_fd, req, m);
		if (got < 0)
			got = 0;
		memcpy(e + i, m->e, (size_t)got * sizeof(*e));
		done += (unsigned)got;
		i += (unsigned)got;
		if (i < n)
			e[i++].index = 0xffffffffu;	/* refused: skip it */
	}
	free(m);
	return done;
}

int vm_cpu_save(struct vm *vm, struct vm_cpu *cpu)
{
	int r;

	/*
	 * An exit's I/O is finished only by the next KVM_RUN and that pending
	 * state is not readable: enter once with immediate_exit so KVM finishes
	 * it without running a guest instruction (api.rst, KVM_EXIT_IO).
	 */
	if ((r = vm_complete_io(vm, false)) < 0)
		return r;
	return vm_cpu_read(vm, cpu);
}

int vm_cpu_read(struct vm *vm, struct vm_cpu *cpu)
{
	unsigned k = 0;
	int r;

	memset(cpu, 0, sizeof(*cpu));
	if (vm_get_regs(vm, &cpu->regs) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &cpu->sregs) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_DEBUGREGS, &cpu->dregs) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &cpu->events) < 0)
		return -errno;
	if (!vm->cpu_asked) {
		if ((r = msr_index_list(vm, vm->msr_index, VM_CPU_MSRS, &vm->n_msr_index)) < 0)
			return r;
		vm->has_xsave = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
		vm->has_xcrs = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
		vm->cpu_asked = true;
	}
	if (vm->has_xsave) {
		if (ioctl(vm->vcpu_fd, KVM_GET_XSAVE, &cpu->xsave) < 0)
			return -errno;
		cpu->has_xsave = true;
	} else if (ioctl(vm->vcpu_fd, KVM_GET_FPU, &cpu->fpu) < 0) {
		return -errno;
	}
	if (vm->has_xcrs) {
		if (ioctl(vm->vcpu_fd, KVM_GET_XCRS, &cpu->xcrs) < 0)
			return -errno;
		cpu->has_xcrs = true;
	}
	for (unsigned i = 0; i < vm->n_msr_index; i++)
		cpu->msrs[i].index = vm->msr_index[i];
	msrs_xfer(vm, KVM_GET_MSRS, cpu->msrs, vm->n_msr_index);
	for (unsigned i = 0; i < vm->n_msr_index; i++)
		if (cpu->msrs[i].index != 0xffffffffu)
			cpu->msrs[k++] = cpu->msrs[i];
	cpu->n_msrs = k;
	return 0;
}

int vm_cpu_load(struct vm *vm, const struct vm_cpu *cpu)
{
	struct kvm_msr_entry msrs[VM_CPU_MSRS];
	struct kvm_vcpu_events ev = cpu->events;

	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &cpu->sregs) < 0 || vm_set_regs(vm, &cpu->regs) < 0)
		return -errno;
	if (cpu->has_xcrs && ioctl(vm->vcpu_fd, KVM_SET_XCRS, &cpu->xcrs) < 0)
		return -errno;
	if (cpu->has_xsave ? ioctl(vm->vcpu_fd, KVM_SET_XSAVE, &cpu->xsave) < 0
			   : ioctl(vm->vcpu_fd, KVM_SET_FPU, &cpu->fpu) < 0)
		return -errno;
	memcpy(msrs, cpu->msrs, cpu->n_msrs * sizeof(msrs[0]));
	msrs_xfer(vm, KVM_SET_MSRS, msrs, cpu->n_msrs);
	/* One KVM refuses to write (a paravirtual MSR the guest's CPUID hides) must already hold the value. */
	for (unsigned i = 0; i < cpu->n_msrs; i++) {
		struct kvm_msr_entry now = { .index = cpu->msrs[i].index };

		if (msrs[i].index != 0xffffffffu)
			continue;
		if (msrs_xfer(vm, KVM_GET_MSRS, &now, 1) != 1 || now.data != cpu->msrs[i].data)
			return -EIO;
	}
	ev.flags &= KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
	if (vm_set_events(vm, &ev) < 0 || ioctl(vm->vcpu_fd, KVM_SET_DEBUGREGS, &cpu->dregs) < 0)
		return -errno;
	return 0;
}

void vm_kvm_forget(struct vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	vm->run = NULL;
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->timer_valid = false;	/* timers are not inherited across fork */
	/* No kvm_run to keep registers in until kvm_build maps a new one. */
	vm->sync_regs = vm->regs_fresh = false;
}

int vm_kvm_rebuild(struct vm *vm, const struct vm_cpu *cpu, char *err, size_t errlen)
{
	int r;

	vm_kvm_forget(vm);
	vm->n_slots = 0;
	gmem_pagemap_reopen(&vm->mem);	/* a fork's own: its parent's shows the parent's pages */
	if ((r = kvm_build(vm, err, errlen)) < 0)
		return r;
	if (vm->dirty_log)
		dirty_manual_enable(vm);
	/*
	 * The new kvm_run page reads zero until KVM returns once, and replay's
	 * first decision may be an injection that asks it whether the vCPU can
	 * take one (if_flag, ready_for_interrupt_injection): enter once with
	 * immediate_exit, which runs nothing and fills them in.
	 */
	if ((r = vm_cpu_load(vm, cpu)) < 0 || (r = vm_complete_io(vm, false)) < 0) {
		snprintf(err, errlen, "cannot load the vCPU state into a new VM: %s", strerror(-r));
		return r;
	}
	if ((r = ioevent_rebind(&vm->ioev, vm->vm_fd, &vm->board)) < 0) {
		snprintf(err, errlen, "KVM_IOEVENTFD in a new VM: %s", strerror(-r));
		return r;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	while (vm->held) {
		struct worker_job *j = vm->held;

		vm->held = j->next;
		free(j->data);
		free(j->out);
		free(j);
	}
	vm->held_tail = &vm->held;
	ioevent_free(&vm->ioev);
	board_free(&vm->board);
	if (vm->timer_valid) {
		timer_delete(vm->timer);
		/* A kick already sent would outlive the VM, even across the exec that going back makes. */
		vm_drop_kick();
	}
	vm_kvm_forget(vm);
	free(vm->slot_log);
	vm->slot_log = NULL;
	free(vm->dirty_prev);
	free(vm->dirty_clear);
	vm->dirty_prev = vm->dirty_clear = NULL;
	gmem_free(&vm->mem);
}
