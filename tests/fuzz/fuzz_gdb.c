/*
 * Fuzz target for the gdb stub's command handlers: any bytes a client sends
 * (register and memory reads and writes, breakpoints, watchpoints, vCont,
 * monitor commands, qXfer) are served to the end of the input, against a
 * fake vCPU (there is no KVM here: the build wraps ioctl, and the vCPU's
 * registers live below) in 64-bit mode whose page tables are in the guest RAM
 * the memory commands reach, so writes can break them too. Nothing may crash
 * or touch memory outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "gdbstub.h"
#include "vm.h"

const char fuzz_name[] = "fuzz_gdb";

#define RAM (2u << 20)
#define FAKE_VCPU 4093

static struct {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_guest_debug dbg;
} cpu;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

/* The vCPU's state calls are served from cpu; the rest of KVM is not here. */
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != FAKE_VCPU)
		return __real_ioctl(fd, req, arg);
	switch (req) {
	case KVM_GET_REGS: memcpy(arg, &cpu.regs, sizeof(cpu.regs)); return 0;
	case KVM_SET_REGS: memcpy(&cpu.regs, arg, sizeof(cpu.regs)); return 0;
	case KVM_GET_SREGS: memcpy(arg, &cpu.sregs, sizeof(cpu.sregs)); return 0;
	case KVM_SET_SREGS: memcpy(&cpu.sregs, arg, sizeof(cpu.sregs)); return 0;
	case KVM_GET_FPU: memcpy(arg, &cpu.fpu, sizeof(cpu.fpu)); return 0;
	case KVM_SET_FPU: memcpy(&cpu.fpu, arg, sizeof(cpu.fpu)); return 0;
	case KVM_SET_GUEST_DEBUG: memcpy(&cpu.dbg, arg, sizeof(cpu.dbg)); return 0;
	default: errno = EINVAL; return -1;
	}
}

/* Long mode, the first 2 MiB mapped 1:1 by one large page: PML4 at 0x1000, PDPT 0x2000, PD 0x3000. */
static void cpu_reset(struct vm *vm)
{
	static const uint64_t tables[][2] = { { 0x1000, 0x2003 }, { 0x2000, 0x3003 }, { 0x3000, 0x83 } };

	memset(&cpu, 0, sizeof(cpu));
	for (unsigned i = 0; i < 3; i++)
		memcpy(vm->mem.host + tables[i][0], &tables[i][1], 8);
	cpu.sregs.cr0 = 0x80000011;
	cpu.sregs.cr3 = 0x1000;
	cpu.sregs.cr4 = 0x20;
	cpu.sregs.efer = 0x500;
	cpu.sregs.cs.l = 1;
	cpu.sregs.cs.selector = 8;
	cpu.regs.rip = 0x100000;
	cpu.regs.rsp = 0x180000;
	cpu.regs.rflags = 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	static struct kvm_run run;
	struct gdbstub g;
	int sv[2], big = 4 << 20;
	uint8_t drain[4096];

	if (size > 8192)
		return 0;
	if (!vm.mem.host) {
		if (gmem_alloc(&vm.mem, RAM) < 0)
			abort();
		vm.vm_fd = vm.kvm_fd = -1;
		vm.vcpu_fd = FAKE_VCPU;
		vm.run = &run;
	}
	cpu_reset(&vm);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	/* Replies must never block the stub: a big buffer, and no waiting when it is full. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);	/* the end of the input is the client going away */
	memset(&g, 0, sizeof(g));
	g.listen_fd = -1;
	g.fd = sv[0];
	g.bp_slots = GDB_HW_SLOTS;
	rsp_init(&g.rsp);
	vm.stop = VM_RUNNING;
	/* Each resume (c, s, vCont) hands the guest back: serve again until the client is gone. */
	for (int rounds = 0; g.fd >= 0 && vm.stop == VM_RUNNING && rounds < 1000; rounds++) {
		gdbstub_stop(&g, &vm, 5);
		while (read(sv[1], drain, sizeof(drain)) > 0)
			;
	}
	if (g.fd >= 0)
		close(g.fd);
	close(sv[1]);
	return 0;
}

uint8_t *fuzz_seed(unsigned i, size_t *len)
{
	static const char *const seeds[] = {
		"+$qSupported:multiprocess+;swbreak+;hwbreak+#c9$?#3f$g#67$m100000,40#f9$p10#d1$qXfer:features:read:target.xml:0,ffb#79",
		"$M100000,4:deadbeef#f1$X100010,2:ab#00$m100000,20#c8$P10=0000100000000000#00$G00#00",
		"$Z0,100000,1#00$Z1,100004,1#00$Z2,100008,4#00$Z3,10000c,8#00$Z4,100010,2#00$z2,100008,4#00$c#63",
		"$qRcmd,68656c70#00$qRcmd,7068797320#00$vCont?#49$vCont;s:1#00$s#73$Hg0#df$qC#b4$D#44",
	};
	const char *s = seeds[i % 4];

	*len = strlen(s);
	return (uint8_t *)strdup(s);
}
