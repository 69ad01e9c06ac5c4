/* The debugger's traps: debug registers and steps for KVM, software breakpoints placed through the guest's paging, watchpoints on trapped pages. */
#include "gdbstub.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../core/vm.h"
#include "traps.h"

/*
 * KVM_GUESTDBG_USE_SW_BP makes KVM take every #BP, except on kvm_pvm,
 * which runs user-mode code natively and hands a #BP raised there straight
 * to the guest: say so once, since vmm cannot tell where code will run.
 */
static void warn_user_mode(void)
{
	static bool told;

	if (told || access("/sys/module/kvm_pvm", F_OK) != 0)
		return;
	told = true;
	fprintf(stderr, "vmm: warning: this host's KVM (kvm_pvm) gives an int3 run in user mode to the guest: "
			"a software breakpoint (break) on code that runs in user mode would reach the guest as its "
			"own #BP; set them on kernel code only\n");
}

/*
 * Where an int3 reaches the guest, a breakpoint is a HLT (core/vm.h), which
 * raises #GP in user mode: a page user mode may run gets a warning, once.
 */
static void warn_hlt_user(void)
{
	static bool told;

	if (told)
		return;
	told = true;
	fprintf(stderr, "vmm: warning: this KVM gives an int3 to the guest, so a software breakpoint is a hlt, "
			"which raises #GP in user mode: this one is on a page user mode may run; set breakpoints "
			"on code that runs in kernel mode only\n");
}

void gdbstub_debug_regs(const struct gdbstub *g, struct kvm_guest_debug *dbg)
{
	bool any = false;

	memset(dbg, 0, sizeof(*dbg));
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		const struct gdb_slot *s = &g->slot[i];

		if (!s->used || s->kind >= 2)
			continue;
		any = true;
		dbg->arch.debugreg[i] = s->addr;
		dbg->arch.debugreg[7] |= 1ull << (2 * i);	/* Li: execute, one byte */
	}
	if (any || gdbstub_steps(g))
		dbg->control = KVM_GUESTDBG_ENABLE | (any ? KVM_GUESTDBG_USE_HW_BP : 0) |
			       (gdbstub_steps(g) ? KVM_GUESTDBG_SINGLESTEP : 0);
	/* A CPU that runs a planted int3 raises #BP: have KVM exit with it. */
	for (unsigned i = 0; i < GDB_SW_BPS && g->fd >= 0; i++)
		if (g->swbp[i].used)
			dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
}

bool gdbstub_steps(const struct gdbstub *g)
{
	return g->fd >= 0 && g->stepping;
}

int gdbstub_stops_inside(struct gdbstub *g, struct vm *vm)
{
	int r;

	if (g->fd < 0)
		return 0;
	/* One set before its code was mapped is planted here if it is now: from then on it counts. */
	if (gdb_swbp_place_pending(g, vm) && (r = gdbstub_sync_traps(g, vm)) < 0)
		return r;
	if (g->stepping)
		return 1;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++)
		if (g->slot[i].used)
			return 1;
	/* One whose code is still unmapped is planted at an exit: no stretch before that stops at it (README). */
	for (unsigned i = 0; i < GDB_SW_BPS; i++)
		if (g->swbp[i].used && g->swbp[i].gpa != GDB_SWBP_UNMAPPED)
			return 1;
	return 0;
}

/* Map a software breakpoint's address to the guest physical byte it stands for now: true if it is mapped. */
bool gdb_swbp_place(struct gdbstub *g, struct vm *vm, struct gdb_swbp *b)
{
	struct paging_mode pm;
	uint64_t gpa, left;
	bool user;

	if (vm_paging_mode(vm, &pm) < 0)
		return false;
	if (g->phys)
		pm.cr0 &= ~X86_CR0_PG;
	if (paging_translate_user(&vm->mem, &pm, b->addr, &gpa, &left, &user) < 0 || !gmem_ptr(&vm->mem, gpa, 1))
		return false;
	b->gpa = gpa;
	if (vm_swbp_opcode(vm) == OPCODE_INT3)
		warn_user_mode();
	else if (user)
		warn_hlt_user();
	return true;
}

/* Breakpoints set where nothing was mapped yet, placed once something is: true if any was. */
bool gdb_swbp_place_pending(struct gdbstub *g, struct vm *vm)
{
	bool placed = false;

	for (unsigned i = 0; i < GDB_SW_BPS && g->fd >= 0; i++)
		if (g->swbp[i].used && g->swbp[i].gpa == GDB_SWBP_UNMAPPED)
			placed |= gdb_swbp_place(g, vm, &g->swbp[i]);
	return placed;
}

int gdbstub_sync_traps(struct gdbstub *g, struct vm *vm)
{
	struct vm_trap t[GDB_HW_SLOTS + GDB_SW_BPS];
	uint64_t bp[GDB_SW_BPS];
	unsigned n = 0, k = 0;
	int r;

	for (unsigned i = 0; i < GDB_HW_SLOTS && g->fd >= 0; i++)
		if (g->slot[i].used && g->slot[i].kind >= 2)
			t[n++] = (struct vm_trap){ g->slot[i].gpa, g->slot[i].kind >= 3 };
	/*
	 * A software breakpoint's page is trapped for writes, so that what the
	 * guest writes there lands on its own bytes, never on a planted int3
	 * (vm_enter plants them only while the guest runs).
	 */
	gdb_swbp_place_pending(g, vm);
	for (unsigned i = 0; i < GDB_SW_BPS && g->fd >= 0; i++)
		if (g->swbp[i].used && g->swbp[i].gpa != GDB_SWBP_UNMAPPED) {
			bp[k++] = g->swbp[i].gpa;
			t[n++] = (struct vm_trap){ g->swbp[i].gpa, false };
		}
	if ((r = vm_set_swbps(vm, bp, k)) < 0)
		return r;
	return vm_set_traps(vm, t, n);
}

int gdbstub_arm(struct gdbstub *g, struct vm *vm)
{
	struct kvm_guest_debug dbg;
	int r;

	if ((r = gdbstub_sync_traps(g, vm)) < 0 || g->replay)
		return r;
	gdbstub_debug_regs(g, &dbg);
	return vm_set_guest_debug(vm, &dbg) < 0 ? -errno : 0;
}

/* Is an access of len bytes at gpa (a write or a read) one that watchpoint s watches? */
static bool watches(const struct gdb_slot *s, uint64_t gpa, uint64_t len, bool write)
{
	return s->used && s->kind >= 2 && gpa < s->gpa + s->len && s->gpa < gpa + len &&
	       (s->kind == 4 || (s->kind == 2) == write);
}

int gdbstub_watch_hit(struct gdbstub *g, struct vm *vm, bool stepping, char *stop, size_t n, bool *debug)
{
	static const char *const name[5] = { "", "", "watch", "rwatch", "awatch" };
	uint64_t gpa = vm->run->mmio.phys_addr, len = vm->run->mmio.len;
	bool write = vm->run->mmio.is_write, may = false;
	int r;

	*debug = false;
	for (unsigned i = 0; i < GDB_HW_SLOTS && g->fd >= 0; i++)
		may |= watches(&g->slot[i], gpa, len, write);
	/* A write's step trap is KVM's to forget: finish it here, where vm_complete_io makes up for that. */
	if (!may && !(stepping && write))
		return 0;
	/* Stop after the instruction, as a data breakpoint does: finish it now. */
	if ((r = vm_complete_io(vm, stepping)) < 0)
		return r;
	*debug = r == 1 && vm->run->exit_reason == KVM_EXIT_DEBUG;
	if (!may)
		return 0;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		struct gdb_slot *s = &g->slot[i];
		const uint8_t *host;

		if (!watches(s, gpa, len, write) || !(host = gmem_ptr(&vm->mem, s->gpa, s->len)))
			continue;
		/* gdb's watch stops where the value changes, not at every write. */
		if (s->kind == 2 && !memcmp(host, s->old, s->len))
			continue;
		memcpy(s->old, host, s->len);
		snprintf(stop, n, "T05%s:%llx;thread:01;", name[s->kind], (unsigned long long)s->addr);
		return 1;
	}
	return 0;
}

void gdbstub_io_done(struct gdbstub *g, struct vm *vm)
{
	g->step_owed = gdbstub_steps(g) && vm->run->exit_reason == KVM_EXIT_MMIO && vm->run->mmio.is_write;
}

void gdbstub_watch_refresh(struct gdbstub *g, struct vm *vm)
{
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		struct gdb_slot *s = &g->slot[i];
		const uint8_t *host;

		if (s->used && s->kind >= 2 && (host = gmem_ptr(&vm->mem, s->gpa, s->len)))
			memcpy(s->old, host, s->len);
	}
}
