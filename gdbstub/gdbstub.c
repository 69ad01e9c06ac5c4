/*
 * The GDB stub: a table of packet handlers over the framing of rsp.c, guest
 * memory through the guest's own page tables, and the stops it reports; the
 * traps it sets are traps.c's, the connection is conn.c's.
 */
#include "gdbstub.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/vm.h"
#include "traps.h"

_Static_assert(GDB_SW_BPS <= VM_SWBPS_MAX, "vm plants every software breakpoint");

#define GDB_SIGINT	2
#define GDB_SIGTRAP	5

enum next { SERVE, RESUME, STEP, DETACH, KILL, SIGNALLED };

static int send_packet(struct gdbstub *g, const char *payload, size_t len)
{
	size_t n = rsp_frame(g->reply, sizeof(g->reply), payload, len, true);

	if (!n)
		return -E2BIG;
	g->reply_len = n;
	for (size_t off = 0; off < n;) {
		ssize_t w = send(g->fd, g->reply + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		off += (size_t)w;
	}
	return 0;
}

static int send_str(struct gdbstub *g, const char *s)
{
	return send_packet(g, s, strlen(s));
}

/*
 * gdb reads the target description once per connection and has no way to
 * be told it changed, so the layout cannot follow a guest from 32-bit
 * protected mode into long mode. Every vmm vCPU can run 64-bit code, so the
 * stub always describes i386:x86-64, as QEMU does; in 32-bit code the upper
 * halves read as zero (`set architecture i386` disassembles it).
 */
static enum gdb_arch arch_of(struct vm *vm)
{
	(void)vm;
	return GDB_ARCH_X86_64;
}

static int get_regs(struct vm *vm, struct gdb_regs *r)
{
	struct kvm_regs k;
	struct kvm_sregs s;
	const __u64 *order[16] = { &k.rax, &k.rbx, &k.rcx, &k.rdx, &k.rsi, &k.rdi, &k.rbp, &k.rsp,
				       &k.r8, &k.r9, &k.r10, &k.r11, &k.r12, &k.r13, &k.r14, &k.r15 };

	if (vm_get_regs(vm, &k) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 16; i++)
		r->gpr[i] = *order[i];
	r->rip = k.rip;
	r->rflags = k.rflags;
	r->seg[0] = s.cs.selector;
	r->seg[1] = s.ss.selector;
	r->seg[2] = s.ds.selector;
	r->seg[3] = s.es.selector;
	r->seg[4] = s.fs.selector;
	r->seg[5] = s.gs.selector;
	r->fs_base = s.fs.base;
	r->gs_base = s.gs.base;
	r->fctrl = 0x37f;
	r->mxcsr = 0x1f80;
	return 0;
}

/* General registers and flags go back; segment and FPU state are shown, not written. */
static int set_regs(struct vm *vm, const struct gdb_regs *r)
{
	struct kvm_regs k;
	__u64 *order[16] = { &k.rax, &k.rbx, &k.rcx, &k.rdx, &k.rsi, &k.rdi, &k.rbp, &k.rsp,
				 &k.r8, &k.r9, &k.r10, &k.r11, &k.r12, &k.r13, &k.r14, &k.r15 };

	if (vm_get_regs(vm, &k) < 0)
		return -errno;
	for (int i = 0; i < 16; i++)
		*order[i] = r->gpr[i];
	k.rip = r->rip;
	k.rflags = (r->rflags & 0xffffffffull) | 2;
	return vm_set_regs(vm, &k) < 0 ? -errno : 0;
}

/* The guest physical address of a virtual (or, with monitor phys on, physical) one; left: bytes to its page's end. */
static int translate(struct gdbstub *g, struct vm *vm, uint64_t addr, uint64_t *gpa, uint64_t *left)
{
	struct paging_mode pm;
	int r;

	if ((r = vm_paging_mode(vm, &pm)) < 0)
		return r;
	if (g->phys)
		pm.cr0 &= ~X86_CR0_PG;
	return paging_translate(&vm->mem, &pm, addr, gpa, left);
}

/* Guest memory at a virtual (or, with monitor phys on, physical) address, page by page. */
static int access_mem(struct gdbstub *g, struct vm *vm, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
	int r;

	while (len) {
		uint64_t gpa, left;
		uint8_t *host;

		if ((r = translate(g, vm, addr, &gpa, &left)) < 0)
			return r;
		if (left > len)
			left = len;
		if (!(host = gmem_ptr(&vm->mem, gpa, left)))
			return -EFAULT;
		if (write) {
			memcpy(host, buf, left);
			gmem_mark_dirty(&vm->mem, gpa, left);
		} else {
			memcpy(buf, host, left);
		}
		buf += left;
		addr += left;
		len -= left;
	}
	return 0;
}


int gdbstub_traps_failed(struct gdbstub *g, struct vm *vm)
{
	static const char msg[] = "vmm: KVM cannot emulate an instruction while watched pages are trapped (code "
				  "on a watched page, or an access its emulator lacks): the watchpoints on those pages "
				  "are removed and cannot be set again\n";
	char out[2 * sizeof(msg) + 2] = "O";
	int r;

	if ((r = vm_trap_failed(vm)) <= 0)
		return r;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++)
		if (g->slot[i].used && g->slot[i].kind >= 2 && vm_trap_refused(vm, g->slot[i].gpa))
			g->slot[i].used = false;
	if (g->fd >= 0) {
		rsp_hex_encode(out + 1, msg, strlen(msg));
		send_str(g, out);	/* console output while the guest runs */
	}
	return 1;
}

/* ---- packet handlers: each answers and says what the guest does next ---- */

struct ctx {
	struct gdbstub *g;
	struct vm *vm;
	char *p;		/* the packet */
	size_t len;
	char out[RSP_PACKET_MAX];
};

static enum next reply(struct ctx *c, const char *s)
{
	send_str(c->g, s);
	return SERVE;
}

/* Reply to qRcmd with text for gdb to print. */
static enum next answer(struct ctx *c, const char *text)
{
	rsp_hex_encode(c->out, text, strlen(text));
	return reply(c, c->out);
}

static enum next mon_phys(struct ctx *c)
{
	c->g->phys = true;
	return reply(c, "OK");
}

static enum next mon_virt(struct ctx *c)
{
	c->g->phys = false;
	return reply(c, "OK");
}

static enum next mon_help(struct ctx *c)
{
	char text[512];

	snprintf(text, sizeof(text), "monitor commands: help, phys on|off (addresses are guest physical)\n%s",
		 c->g->monitor_help ? c->g->monitor_help : "");
	return answer(c, text);
}

static const struct {
	const char *cmd;
	enum next (*fn)(struct ctx *c);
} monitor_cmds[] = {
	{ "help", mon_help }, { "phys on", mon_phys }, { "phys off", mon_virt },
};

/* qRcmd: the stub's own commands, then replay's; anything else gets the help text. */
static enum next h_monitor(struct ctx *c, const char *hex)
{
	char cmd[64] = { 0 }, text[512];
	size_t n = strlen(hex) / 2;

	if (n >= sizeof(cmd) || rsp_hex_decode(cmd, hex, n) < 0)
		return reply(c, "E01");
	for (size_t i = 0; i < sizeof(monitor_cmds) / sizeof(monitor_cmds[0]); i++)
		if (!strcmp(cmd, monitor_cmds[i].cmd))
			return monitor_cmds[i].fn(c);
	if (c->g->monitor) {
		int r = c->g->monitor(c->g->monitor_ctx, cmd, text, sizeof(text));

		if (r == GDB_MONITOR_LATER) {
			c->g->stepping = false;
			return RESUME;
		}
		if (r == GDB_MONITOR_GONE)
			return KILL;
		if (r != -ENOENT)
			return answer(c, text);
	}
	return mon_help(c);
}

static enum next h_query(struct ctx *c)
{
	const char *p = c->p;

	if (!strncmp(p, "qSupported", 10))
		return reply(c, c->g->reverse ? "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;"
						 "QStartNoAckMode+;ReverseContinue+;ReverseStep+"
					      : "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;"
						"QStartNoAckMode+");
	if (!strcmp(p, "qAttached"))
		return reply(c, "1");
	if (!strcmp(p, "qC"))
		return reply(c, "QC1");
	if (!strcmp(p, "qfThreadInfo"))
		return reply(c, "m1");
	if (!strcmp(p, "qsThreadInfo"))
		return reply(c, "l");
	if (!strncmp(p, "qXfer:features:read:target.xml:", 31)) {
		const char *xml = gdb_target_xml(arch_of(c->vm));
		uint64_t off, len, total = strlen(xml);
		const char *end;

		if (rsp_parse_hex(p + 31, &off, &end) < 0 || *end != ',' || rsp_parse_hex(end + 1, &len, NULL) < 0)
			return reply(c, "E00");
		if (off >= total)
			return reply(c, "l");
		if (len > sizeof(c->out) - 2)
			len = sizeof(c->out) - 2;
		if (len > total - off)
			len = total - off;
		c->out[0] = off + len >= total ? 'l' : 'm';
		memcpy(c->out + 1, xml + off, len);
		send_packet(c->g, c->out, len + 1);
		return SERVE;
	}
	if (!strncmp(p, "qRcmd,", 6))
		return h_monitor(c, p + 6);
	return reply(c, "");
}

static enum next h_set(struct ctx *c)
{
	if (!strcmp(c->p, "QStartNoAckMode")) {
		reply(c, "OK");
		c->g->no_ack = true;
		return SERVE;
	}
	return reply(c, "");
}

static enum next h_stopped(struct ctx *c)
{
	return reply(c, "T05thread:01;");
}

static enum next h_read_regs(struct ctx *c)
{
	struct gdb_regs r;

	if (get_regs(c->vm, &r) < 0)
		return reply(c, "E01");
	gdb_regs_to_hex(&r, arch_of(c->vm), c->out);
	return reply(c, c->out);
}

static enum next h_write_regs(struct ctx *c)
{
	struct gdb_regs r;

	if (c->g->replay)
		return reply(c, "E01");	/* the recorded past cannot change */
	if (get_regs(c->vm, &r) < 0 || gdb_regs_from_hex(&r, arch_of(c->vm), c->p + 1, c->len - 1) < 0 ||
	    set_regs(c->vm, &r) < 0)
		return reply(c, "E01");
	return reply(c, "OK");
}

static enum next h_read_reg(struct ctx *c)
{
	struct gdb_regs r;
	uint64_t n;

	if (rsp_parse_hex(c->p + 1, &n, NULL) < 0 || get_regs(c->vm, &r) < 0 ||
	    gdb_reg_to_hex(&r, arch_of(c->vm), (unsigned)n, c->out) < 0)
		return reply(c, "E01");
	return reply(c, c->out);
}

static enum next h_write_reg(struct ctx *c)
{
	struct gdb_regs r;
	const char *end;
	uint64_t n;

	if (c->g->replay)
		return reply(c, "E01");	/* the recorded past cannot change */
	if (rsp_parse_hex(c->p + 1, &n, &end) < 0 || *end != '=' || get_regs(c->vm, &r) < 0 ||
	    gdb_reg_from_hex(&r, arch_of(c->vm), (unsigned)n, end + 1, strlen(end + 1)) < 0 || set_regs(c->vm, &r) < 0)
		return reply(c, "E01");
	return reply(c, "OK");
}

static int parse_addr_len(const char *p, uint64_t *addr, uint64_t *len, const char **end)
{
	const char *e;

	if (rsp_parse_hex(p, addr, &e) < 0 || *e != ',' || rsp_parse_hex(e + 1, len, &e) < 0)
		return -1;
	if (end)
		*end = e;
	return 0;
}

static enum next h_read_mem(struct ctx *c)
{
	uint8_t buf[RSP_PACKET_MAX / 2 - 8];
	uint64_t addr, len;

	if (parse_addr_len(c->p + 1, &addr, &len, NULL) < 0)
		return reply(c, "E01");
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (access_mem(c->g, c->vm, addr, buf, len, false) < 0)
		return reply(c, "E14");
	rsp_hex_encode(c->out, buf, len);
	return reply(c, c->out);
}

static enum next h_write_mem(struct ctx *c)
{
	uint8_t buf[RSP_PACKET_MAX / 2];
	uint64_t addr, len;
	const char *e;
	bool binary = c->p[0] == 'X';

	if (c->g->replay)
		return reply(c, "E01");	/* the recorded past cannot change */
	if (parse_addr_len(c->p + 1, &addr, &len, &e) < 0 || *e != ':' || len > sizeof(buf))
		return reply(c, "E01");
	e++;
	if (binary) {
		if ((size_t)(c->p + c->len - e) != len)
			return reply(c, "E01");
		memcpy(buf, e, len);
	} else if (strlen(e) != 2 * len || rsp_hex_decode(buf, e, len) < 0) {
		return reply(c, "E01");
	}
	if (access_mem(c->g, c->vm, addr, buf, len, true) < 0)
		return reply(c, "E14");
	return reply(c, "OK");
}

/*
 * Z0/z0: an int3 at the guest physical byte the address maps to now; where an
 * int3 would reach the guest, a HLT (core/vm.h), meant for kernel code.
 */
static enum next h_swbreak(struct ctx *c, bool insert, uint64_t addr)
{
	struct gdb_swbp *free_bp = NULL;

	for (unsigned i = 0; i < GDB_SW_BPS; i++) {
		struct gdb_swbp *b = &c->g->swbp[i];

		if (b->used && b->addr == addr) {
			if (!insert)
				b->used = false;
			return reply(c, "OK");
		}
		if (!b->used && !free_bp)
			free_bp = b;
	}
	if (!insert)
		return reply(c, "OK");
	if (!free_bp)
		return reply(c, "E0e");	/* as many as vmm plants */
	*free_bp = (struct gdb_swbp){ true, addr, GDB_SWBP_UNMAPPED };
	if (!gdb_swbp_place(c->g, c->vm, free_bp))
		fprintf(stderr, "vmm: gdb: nothing is mapped at 0x%llx yet: its breakpoint is planted once the guest "
			"maps it\n", (unsigned long long)addr);
	return reply(c, "OK");
}

static enum next h_breakpoint(struct ctx *c)
{
	bool insert = c->p[0] == 'Z';
	unsigned kind = (unsigned)(c->p[1] - '0');
	uint64_t addr, len;
	struct gdb_slot *free_slot = NULL;

	if (kind > 4 || c->p[2] != ',' || parse_addr_len(c->p + 3, &addr, &len, NULL) < 0)
		return reply(c, "E01");
	/* Where debug registers do not fire, an hbreak is a software one (a HLT, or an int3). */
	if (kind == 0 || (kind == 1 && c->vm->caps && c->vm->caps->hw_bp == KVM_NO))
		return h_swbreak(c, insert, addr);
	/*
	 * Data breakpoints do not fire in guest code that an emulating KVM
	 * (kvm_pvm) executes, and a stub cannot tell in advance. Watchpoints
	 * therefore trap the guest physical page the address maps to now (it
	 * leaves KVM's memory slots, so every access to it exits): that works on
	 * every host, costs nothing away from that page, and takes no debug
	 * register. The watched bytes must lie in one page of RAM.
	 */
	if (kind >= 2 && (len < 1 || len > 8 || (addr & (VM_PAGE_SIZE - 1)) + len > VM_PAGE_SIZE))
		return reply(c, "E01");
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		struct gdb_slot *s = &c->g->slot[i];

		if (s->used && s->addr == addr && s->kind == kind) {
			if (!insert)
				s->used = false;
			return reply(c, "OK");
		}
		/* Breakpoints take a debug register each; watchpoints none (they trap pages). */
		if (!s->used && !free_slot && (kind >= 2 || i < c->g->bp_slots))
			free_slot = s;
	}
	if (!insert)
		return reply(c, "OK");
	if (!free_slot)
		return reply(c, "E0e");	/* every debug register in use */
	*free_slot = (struct gdb_slot){ true, addr, kind, (unsigned)len, 0, { 0 } };
	if (kind >= 2) {
		uint64_t left;
		uint8_t *host;

		if (translate(c->g, c->vm, addr, &free_slot->gpa, &left) < 0 ||
		    !(host = gmem_ptr(&c->vm->mem, free_slot->gpa, len))) {
			free_slot->used = false;
			return reply(c, "E14");	/* not mapped now, or not RAM */
		}
		if (vm_trap_refused(c->vm, free_slot->gpa)) {
			free_slot->used = false;
			return reply(c, "E01");	/* KVM failed on this page before */
		}
		memcpy(free_slot->old, host, len);
	}
	return reply(c, "OK");
}

static enum next h_continue(struct ctx *c)
{
	c->g->stepping = false;
	return RESUME;
}

static enum next h_step(struct ctx *c)
{
	c->g->stepping = true;
	return STEP;
}

static enum next h_vcont(struct ctx *c)
{
	if (!strcmp(c->p, "vCont?"))
		return reply(c, "vCont;c;C;s;S");
	if (!strncmp(c->p, "vCont;s", 7) || !strncmp(c->p, "vCont;S", 7))
		return h_step(c);
	if (!strncmp(c->p, "vCont;c", 7) || !strncmp(c->p, "vCont;C", 7))
		return h_continue(c);
	return reply(c, "");
}

/* bc, bs: reverse-continue and reverse-step, in replay. Another process answers them. */
static enum next h_reverse(struct ctx *c)
{
	if (!c->g->reverse || (c->p[1] != 'c' && c->p[1] != 's') || c->p[2])
		return reply(c, "");
	if (c->g->reverse(c->g->reverse_ctx, c->p[1]) > 0)
		return KILL;
	return reply(c, "E01");
}

static enum next h_thread(struct ctx *c)
{
	return reply(c, "OK");
}

static enum next h_detach(struct ctx *c)
{
	memset(c->g->slot, 0, sizeof(c->g->slot));
	memset(c->g->swbp, 0, sizeof(c->g->swbp));
	c->g->stepping = false;
	reply(c, "OK");
	return DETACH;
}

static enum next h_kill(struct ctx *c)
{
	(void)c;
	return KILL;
}

static const struct {
	char first;
	enum next (*fn)(struct ctx *c);
} handlers[] = {
	{ 'q', h_query }, { 'Q', h_set }, { '?', h_stopped }, { 'g', h_read_regs }, { 'G', h_write_regs },
	{ 'p', h_read_reg }, { 'P', h_write_reg }, { 'm', h_read_mem }, { 'M', h_write_mem },
	{ 'X', h_write_mem }, { 'Z', h_breakpoint }, { 'z', h_breakpoint }, { 'c', h_continue },
	{ 's', h_step }, { 'v', h_vcont }, { 'H', h_thread }, { 'T', h_thread }, { 'D', h_detach }, { 'b', h_reverse },
	{ 'k', h_kill },
};

/* The current signal mask without SIGINT and SIGTERM: what a wait for gdb runs with. */
static void stop_signals_open(sigset_t *m)
{
	pthread_sigmask(SIG_BLOCK, NULL, m);
	sigdelset(m, SIGINT);
	sigdelset(m, SIGTERM);
}

/* Read one event from the client (blocking); the packet handlers decide what the guest does. */
static enum next serve_one(struct gdbstub *g, struct vm *vm)
{
	static struct ctx c;
	struct pollfd pfd = { g->fd, POLLIN, 0 };
	uint8_t byte;
	ssize_t n;
	enum rsp_event e;

	sigset_t open_mask;

	/* Waiting for gdb is no reason to ignore SIGINT and SIGTERM: they get through here. */
	stop_signals_open(&open_mask);
	if (ppoll(&pfd, 1, NULL, &open_mask) < 0) {
		if (errno == EINTR && vm_stop_signal())
			return SIGNALLED;
		return errno == EINTR ? SERVE : DETACH;
	}
	n = read(g->fd, &byte, 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return SERVE;
	if (n <= 0)
		return DETACH;		/* the client went away: the guest runs on */
	e = rsp_feed(&g->rsp, byte);
	if (e == RSP_NACK && g->reply_len) {
		if (send(g->fd, g->reply, g->reply_len, MSG_NOSIGNAL) < 0)
			return DETACH;
		return SERVE;
	}
	if (e == RSP_BAD_PACKET)
		return send(g->fd, "-", 1, MSG_NOSIGNAL) < 0 ? DETACH : SERVE;
	if (e != RSP_PACKET)
		return SERVE;
	if (!g->no_ack && send(g->fd, "+", 1, MSG_NOSIGNAL) < 0)
		return DETACH;
	c.g = g;
	c.vm = vm;
	c.p = g->rsp.buf;
	c.len = g->rsp.len;
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (c.len && handlers[i].first == c.p[0])
			return handlers[i].fn(&c);
	return reply(&c, "");
}

int gdbstub_stop(struct gdbstub *g, struct vm *vm, int signo)
{
	char stop[32];
	enum next next = SERVE;

	if (g->fd < 0)
		return 0;
	if (signo) {
		snprintf(stop, sizeof(stop), "T%02xthread:01;", signo);
		send_str(g, stop);
	}
	while (next == SERVE)
		next = serve_one(g, vm);
	if (next == KILL) {
		vm->stop = VM_STOP_QUIT;
		return 0;
	}
	if (next == SIGNALLED) {
		vm->stop = VM_STOP_SIGNAL;
		vm->signal = vm_stop_signal();
		return 0;
	}
	if (next == DETACH) {
		close(g->fd);
		g->fd = -1;
		g->kicks = false;
		memset(g->slot, 0, sizeof(g->slot));
		memset(g->swbp, 0, sizeof(g->swbp));
		g->stepping = false;
	}
	return gdbstub_arm(g, vm);
}

/*
 * A guest that never exits would never see gdb's Ctrl-C: have input on the
 * connection kick the vCPU thread (this one, in vm_run, where the kick
 * signal is handled) out of KVM_RUN. Replay looks for it at every event
 * instead, where stops are cleanest.
 */
static void kick_on_input(struct gdbstub *g)
{
	struct f_owner_ex owner = { F_OWNER_TID, gettid() };

	g->kicks = true;
	if (fcntl(g->fd, F_SETOWN_EX, &owner) < 0 || fcntl(g->fd, F_SETSIG, VM_KICK_SIGNAL) < 0 ||
	    fcntl(g->fd, F_SETFL, fcntl(g->fd, F_GETFL) | O_ASYNC) < 0)
		fprintf(stderr, "vmm: warning: gdb's Ctrl-C will wait for the guest's next exit: %s\n", strerror(errno));
}

int gdbstub_poll(struct gdbstub *g, struct vm *vm)
{
	struct pollfd pfd = { g->fd, POLLIN, 0 };
	int r;

	if (g->fd >= 0 && !g->kicks && !g->replay)
		kick_on_input(g);

	if (g->fd < 0) {
		/* A client connecting: gdb expects a stopped target and asks why with '?'. */
		struct pollfd lfd = { g->listen_fd, POLLIN, 0 };
		char err[128];

		if (g->listen_fd < 0 || poll(&lfd, 1, 0) <= 0)
			return 0;
		if (gdbstub_accept(g, err, sizeof(err)) < 0) {
			if (vm_stop_signal())
				vm->stop = VM_STOP_SIGNAL, vm->signal = vm_stop_signal();
			return 0;
		}
		return gdbstub_stop(g, vm, 0);
	}
	if (gdb_swbp_place_pending(g, vm) && (r = gdbstub_sync_traps(g, vm)) < 0)
		return r;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	/* Anything but Ctrl-C while running is a protocol slip: serve it, then stop anyway. */
	return gdbstub_stop(g, vm, GDB_SIGINT);
}

bool gdbstub_check(struct gdbstub *g, struct vm *vm, char *stop, size_t n)
{
	/* An int3 vmm planted: RIP is on it, which the swbreak stop reason tells gdb. */
	if (vm->run->debug.arch.exception == 3) {
		snprintf(stop, n, "T%02xswbreak:;thread:01;", GDB_SIGTRAP);
		return true;
	}
	/* A step gdb asked for, or one of its breakpoints (a step taken for another reason is not a stop). */
	if (g->stepping || !(vm->run->debug.arch.dr6 & 0x4000)) {
		snprintf(stop, n, "T%02xthread:01;", GDB_SIGTRAP);
		return true;
	}
	return false;
}

int gdbstub_step_owed(struct gdbstub *g, struct vm *vm)
{
	char stop[32];
	int r;

	if (!g->step_owed)
		return 0;
	g->step_owed = false;
	if (!gdbstub_steps(g) || vm->stop != VM_RUNNING)
		return 0;
	snprintf(stop, sizeof(stop), "T%02xthread:01;", GDB_SIGTRAP);
	if ((r = gdbstub_report(g, vm, stop)) < 0)
		return r;
	return 1;
}

int gdbstub_trap(struct gdbstub *g, struct vm *vm)
{
	char stop[64];
	bool debug;
	int r = gdbstub_watch_hit(g, vm, gdbstub_steps(g), stop, sizeof(stop), &debug);

	if (r < 0)
		return r;
	if (r)
		return gdbstub_report(g, vm, stop);	/* a step that ended here is this stop too */
	return debug ? gdbstub_debug_exit(g, vm) : 0;
}

int gdbstub_debug_exit(struct gdbstub *g, struct vm *vm)
{
	char stop[64];

	if (!gdbstub_check(g, vm, stop, sizeof(stop)))
		return 0;
	return gdbstub_report(g, vm, stop);
}

int gdbstub_report(struct gdbstub *g, struct vm *vm, const char *stop)
{
	if (g->fd < 0)
		return 0;
	send_str(g, stop);
	return gdbstub_stop(g, vm, 0);
}

void gdbstub_exited(struct gdbstub *g, int status)
{
	char msg[16];

	if (g->fd < 0)
		return;
	snprintf(msg, sizeof(msg), status >= 128 && status < 160 ? "X%02x" : "W%02x",
		 status >= 128 && status < 160 ? status - 128 : status & 0xff);
	send_str(g, msg);
}

/* ---- the stub as vmm run's loop sees it (struct vm_debugger) ---- */

static int dbg_poll(void *ctx, struct vm *vm)
{
	int r = gdbstub_poll(ctx, vm);

	if (r >= 0)
		r = gdbstub_step_owed(ctx, vm);
	return r < 0 ? r : 0;
}

static bool dbg_steps(const void *ctx)
{
	return gdbstub_steps(ctx);
}

static int dbg_trap(void *ctx, struct vm *vm)
{
	int r = gdbstub_trap(ctx, vm);

	return r < 0 ? r : 0;	/* a stop it caused is reported and served: the loop enters again */
}

static int dbg_traps_failed(void *ctx, struct vm *vm)
{
	return gdbstub_traps_failed(ctx, vm);
}

static int dbg_debug_exit(void *ctx, struct vm *vm)
{
	return gdbstub_debug_exit(ctx, vm);
}

static void dbg_exit_done(void *ctx, struct vm *vm)
{
	gdbstub_io_done(ctx, vm);
}

static int dbg_arm(void *ctx, struct vm *vm)
{
	return gdbstub_arm(ctx, vm);
}

const struct vm_debugger gdbstub_debugger = {
	.poll = dbg_poll,
	.steps = dbg_steps,
	.trap = dbg_trap,
	.traps_failed = dbg_traps_failed,
	.debug_exit = dbg_debug_exit,
	.exit_done = dbg_exit_done,
	.arm = dbg_arm,
};
