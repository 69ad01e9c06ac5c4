/*
 * The vCPU run loop. The vCPU thread is the only one that changes guest state
 * (DESIGN.md section 1): timers and the serial reader only wake it. Signals
 * that wake it (VM_KICK_SIGNAL kick, SIGINT, SIGTERM) are blocked except inside
 * KVM_RUN and the HLT wait, so no wake-up is ever lost.
 *
 * Asynchronous work (a due timer, serial input) is applied only at a journal
 * position: right after a handled exit, or where a kick stopped the guest,
 * which the hooks record as a landmark. `run` and `record` follow the same
 * policy, so a recording behaves as a plain run does.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"
#include "netdev.h"
#include "../gdbstub/gdbstub.h"

#define NEVER UINT64_MAX
#define X87_FSW_ES	(1u << 7)	/* error summary: an unmasked exception is pending */

static volatile sig_atomic_t stop_signal;
static atomic_int kick_pending;
static pthread_t vcpu_thread;

static void on_signal(int sig)
{
	if (sig != VM_KICK_SIGNAL)
		stop_signal = sig;
}

uint64_t vm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t vm_now(const struct vm *vm)
{
	return vm_mono_ns() - vm->start_ns;
}

static void kick(void *opaque)
{
	(void)opaque;
	atomic_store(&kick_pending, 1);
	pthread_kill(vcpu_thread, VM_KICK_SIGNAL);
}

/* Consume wake-up signals that arrived while they were blocked (KVM_RUN returned EINTR). */
void vm_drain_signals(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, VM_KICK_SIGNAL);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while ((sig = sigtimedwait(&set, NULL, &zero)) > 0)
		if (sig != VM_KICK_SIGNAL)
			stop_signal = sig;
}

int vm_signals_init(struct vm *vm, char *err, size_t errlen)
{
	struct sigaction sa;
	struct sigevent sev;
	sigset_t block;
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];
	} kmask;

	if (vm->timer_valid)
		return 0;	/* done already (before a wait for gdb) */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(VM_KICK_SIGNAL, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, VM_KICK_SIGNAL);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &vm->run_mask);
	sigdelset(&vm->run_mask, VM_KICK_SIGNAL);
	sigdelset(&vm->run_mask, SIGINT);
	sigdelset(&vm->run_mask, SIGTERM);
	/* The kernel's sigset is 64 bits: the first 8 bytes of glibc's. */
	kmask.hdr.len = 8;
	memcpy(kmask.set, &vm->run_mask, 8);
	if (ioctl(vm->vcpu_fd, KVM_SET_SIGNAL_MASK, &kmask) < 0) {
		snprintf(err, errlen, "KVM_SET_SIGNAL_MASK: %s", strerror(errno));
		return -errno;
	}
	vcpu_thread = pthread_self();
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = VM_KICK_SIGNAL;
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id in newer glibc */
	if (timer_create(CLOCK_MONOTONIC, &sev, &vm->timer) < 0) {
		snprintf(err, errlen, "timer_create: %s", strerror(errno));
		return -errno;
	}
	vm->timer_valid = true;
	vm->armed = NEVER;
	return 0;
}

void vm_arm_watchdog(struct vm *vm, uint64_t period_ns)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(period_ns / 1000000000u);
	its.it_value.tv_nsec = (long)(period_ns % 1000000000u);
	its.it_interval = its.it_value;
	timer_settime(vm->timer, 0, &its, NULL);
	vm->armed = 0;
}

/*
 * How long due work may wait for the guest's next exit: --defer, but never
 * half a tick period or more, so that no tick is carried into the next one.
 */
static uint64_t defer_ns(const struct vm *vm)
{
	uint64_t d = vm->chaos.on ? vm->chaos.defer_ns : vm->defer_ns, period = pit_period_ns(&vm->board.pit, 0);

	return period && d > period / 2 ? period / 2 : d;
}

/* When the next timer tick is due: the devices' deadline, made late by chaos. */
static uint64_t tick_due(const struct vm *vm)
{
	return vm->board.deadline == NEVER ? NEVER : vm->board.deadline + vm->chaos.tick_late_ns;
}

/* When work is next due: a tick, or work chaos holds back. */
static uint64_t work_due_at(const struct vm *vm)
{
	uint64_t d = tick_due(vm), held = chaos_next_release(&vm->chaos);

	return held < d ? held : d;
}

static void arm_timer(struct vm *vm)
{
	uint64_t d = work_due_at(vm), abs;
	struct itimerspec its;

	if (vm->rekick_at)
		d = vm->rekick_at;	/* the due work waits for this kick */
	else if (d != NEVER)
		d += defer_ns(vm);	/* an exit before then carries the tick: no kick */
	/* A guest that runs without exits or ticks still gets its journal written out. */
	if (vm->idle_at < d)
		d = vm->idle_at;

	if (d == vm->armed)
		return;
	vm->armed = d;
	memset(&its, 0, sizeof(its));
	if (d != NEVER) {
		abs = vm->start_ns + d;
		its.it_value.tv_sec = (time_t)(abs / 1000000000u);
		its.it_value.tv_nsec = (long)(abs % 1000000000u);
		if (!abs)
			its.it_value.tv_nsec = 1;
	}
	timer_settime(vm->timer, TIMER_ABSTIME, &its, NULL);
}

int vm_stop_signal(void)
{
	return stop_signal;
}

/* Async work that would change guest state if applied now. */
static bool work_due(struct vm *vm, uint64_t now)
{
	return now >= tick_due(vm) || chaos_released(&vm->chaos, now) ||
	       (vm->input_waiting && !(vm->chaos.hold_until[CHAOS_INPUT] > now)) ||
	       atomic_load_explicit(&kick_pending, memory_order_relaxed);
}

static int service_timers(struct vm *vm)
{
	int r;

	vm->board.now = vm_now(vm);
	if (vm->board.now < tick_due(vm))
		return 0;
	/*
	 * Chaos chose delivery at once: an exit before the kick lands does not
	 * take the tick (the host timer may fire late; up to CHAOS_HOLD_MAX_NS),
	 * so that it lands where the kick finds the guest, mid-stretch.
	 */
	if (vm->chaos.on && !vm->chaos.defer_ns && vm->place != VM_PLACE_LANDMARK && !vm->halted &&
	    vm->board.now < tick_due(vm) + CHAOS_HOLD_MAX_NS)
		return 0;
	if (vm->hooks && (r = vm->hooks->tick(vm, vm->board.now)) < 0)
		return r;
	board_service(&vm->board);
	if (vm->chaos.on) {
		chaos_draw_late(&vm->chaos, pit_period_ns(&vm->board.pit, 0));
		chaos_draw_defer(&vm->chaos, vm->defer_ns);
	}
	vm->applied++;
	vm->armed = 0;	/* the one-shot host timer is spent: re-arm */
	return 0;
}

struct input_log {
	struct vm *vm;
	uint8_t bytes[CONSOLE_RING];
	size_t n;
};

static int accept_input(void *opaque, uint8_t byte)
{
	struct input_log *log = opaque;
	int r = uart_receive(&log->vm->board.com1, byte);

	if (r == 0)
		log->bytes[log->n++] = byte;
	return r;
}

struct hvc_input {
	uint8_t bytes[4096];
	uint32_t n, room;
};

static int accept_hvc(void *opaque, uint8_t byte)
{
	struct hvc_input *in = opaque;

	if (in->n >= in->room)
		return -1;
	in->bytes[in->n++] = byte;
	return 0;
}

/* With a virtio console, input goes to hvc0: into its oldest receive buffer, journaled as a completion. */
static int service_hvc_input(struct vm *vm)
{
	struct board *b = &vm->board;
	struct virtio_console *con = &b->virtio[b->hvc]->u.con;
	struct hvc_input in;
	uint16_t head;
	int r;

	while (virtio_console_rx_room(con, &head, &in.room)) {
		struct worker_job job = { .queue = VIRTIO_CONSOLE_RX, .head = head, .data = in.bytes };

		in.n = 0;
		if (in.room > sizeof(in.bytes))
			in.room = sizeof(in.bytes);
		console_pump(vm->console, accept_hvc, &in);
		if (!in.n)
			break;
		job.len = in.n;
		if (board_virtio_complete(b, (unsigned)b->hvc, VIRTIO_CONSOLE_RX, head, in.bytes, in.n) < 0)
			continue;
		vm->applied++;
		if (vm->hooks && vm->hooks->complete && (r = vm->hooks->complete(vm, (unsigned)b->hvc, &job)) < 0)
			return r;
	}
	return 0;
}

static int service_input(struct vm *vm)
{
	struct input_log log = { .vm = vm, .n = 0 };
	int r;

	if (!vm->input_waiting && !atomic_load_explicit(&kick_pending, memory_order_relaxed))
		return 0;
	atomic_store(&kick_pending, 0);
	if (console_quit_requested(vm->console)) {
		vm->stop = VM_STOP_QUIT;
		return 0;
	}
	/* Chaos: typed bytes arrive late, as over a slow line. */
	if (vm->chaos.on && console_pending(vm->console)) {
		if (chaos_hold(&vm->chaos, CHAOS_INPUT, vm->board.now)) {
			vm->input_waiting = true;
			return 0;
		}
		chaos_release(&vm->chaos, CHAOS_INPUT);
	}
	if (vm->board.hvc >= 0) {
		r = service_hvc_input(vm);
		vm->input_waiting = console_pending(vm->console);
		return r;
	}
	/* The hook hears of the bytes first, but they are taken from the queue only if COM1 accepts them. */
	console_pump(vm->console, accept_input, &log);
	vm->input_waiting = console_pending(vm->console);
	vm->applied += log.n > 0;
	if (log.n && vm->hooks && (r = vm->hooks->input(vm, log.bytes, log.n)) < 0)
		return r;
	return 0;
}

/* Backend results reach the guest here, journaled first (DESIGN.md section 1). */
static int service_completions(struct vm *vm)
{
	struct worker_job *job = worker_take_done(&vm->board.worker), *next;
	struct board *b = &vm->board;
	int r = 0;

	/* Chaos: the device takes longer; what finished meanwhile is held with it, in order. */
	if (vm->chaos.on) {
		*vm->held_tail = job;
		while (*vm->held_tail)
			vm->held_tail = &(*vm->held_tail)->next;
		if (!vm->held || chaos_hold(&vm->chaos, CHAOS_COMPLETION, vm->board.now))
			return 0;
		chaos_release(&vm->chaos, CHAOS_COMPLETION);
		job = vm->held;
		vm->held = NULL;
		vm->held_tail = &vm->held;
	}
	for (; job; job = next) {
		unsigned dev = 0;

		next = job->next;
		while (dev < b->n_virtio && b->virtio[dev]->vd != job->owner)
			dev++;
		/*
		 * A request whose device was reset meanwhile is dropped and not
		 * journaled (even if the driver posted its head again: that is
		 * another request), so replay can hold every journaled one to be in
		 * flight.
		 */
		if (r == 0 && dev < b->n_virtio && virtio_job_complete(b->virtio[dev]->vd, job) == 0) {
			vm->applied++;
			if (vm->hooks && vm->hooks->complete)
				r = vm->hooks->complete(vm, dev, job);
		}
		free(job->data);
		free(job->out);
		free(job);
	}
	return r;
}

/* A received frame, into its receive buffer and the journal, like any completion. */
static int deliver_frame(void *ctx, unsigned dev, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct vm *vm = ctx;
	struct worker_job job = { .queue = VIRTIO_NET_RX, .head = head, .len = len, .data = (uint8_t *)data };

	if (board_virtio_complete(&vm->board, dev, VIRTIO_NET_RX, head, data, len) < 0)
		return 0;
	vm->applied++;
	return vm->hooks && vm->hooks->complete ? vm->hooks->complete(vm, dev, &job) : 0;
}

/* Apply the async work due at this position, counted by the kind of position it is. */
static int service(struct vm *vm)
{
	uint64_t before = vm->applied;
	int r;

	r = service_timers(vm);
	if (r >= 0)
		r = service_input(vm);
	if (r >= 0)
		r = service_completions(vm);
	if (r >= 0 && vm->chaos.on && board_net_waiting(&vm->board)) {
		if (chaos_hold(&vm->chaos, CHAOS_NET, vm->board.now))
			goto held;
		chaos_release(&vm->chaos, CHAOS_NET);
	}
	if (r >= 0)
		r = board_net_receive(&vm->board, deliver_frame, vm);
held:
	if (vm->chaos.on && vm->applied != before)
		chaos_draw_defer(&vm->chaos, vm->defer_ns);
	vm->stats.placed[vm->place] += vm->applied - before;
	return r < 0 ? r : 0;
}

int vm_inject_decision(struct vm *vm)
{
	struct kvm_run *run = vm->run;

	if (!vm->board.pic.intr) {
		run->request_interrupt_window = 0;
		return -1;
	}
	if (vm->event_queued || !run->ready_for_interrupt_injection || !run->if_flag) {
		run->request_interrupt_window = 1;
		return -1;
	}
	return pic_ack(&vm->board.pic);
}

int vm_inject(struct vm *vm, uint8_t vector, char *err, size_t errlen)
{
	struct kvm_interrupt irq = { .irq = vector };

	if (ioctl(vm->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
		snprintf(err, errlen, "KVM_INTERRUPT vector 0x%x: %s", vector, strerror(errno));
		return -errno;
	}
	vm->event_queued = true;
	vm->stats.injections++;
	vm->run->request_interrupt_window = vm->board.pic.intr;
	return 0;
}

static int inject(struct vm *vm, char *err, size_t errlen)
{
	int vec = vm_inject_decision(vm), r;

	if (vec < 0)
		return 0;
	if (vm->hooks && (r = vm->hooks->inject(vm, (uint8_t)vec)) < 0) {
		snprintf(err, errlen, "journal: %s", strerror(-r));
		return r;
	}
	return vm_inject(vm, (uint8_t)vec, err, errlen);
}

/* ---- exit handlers: one per KVM exit reason, dispatched through exit_handlers[] ---- */

typedef int exit_handler(struct vm *vm, char *err, size_t errlen);

static int exit_io(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_run *run = vm->run;
	unsigned size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if (run->io.data_offset + (uint64_t)run->io.count * size > vm->run_size || size > 4) {
		snprintf(err, errlen, "KVM reported an I/O exit outside kvm_run");
		return -EIO;
	}
	/* The sandbox test's device path: a call vmm never makes, which the filter must stop. */
	if (vm->test_forbidden_syscall && run->io.port == 0x80 && run->io.direction == KVM_EXIT_IO_OUT) {
		static char *const argv[] = { "vmm-sandbox-test", NULL };

		execve("/nonexistent/vmm-sandbox-test", argv, environ);	/* ENOENT without the filter */
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint32_t v = 0;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&v, data, size);
			board_pio_write(&vm->board, run->io.port, size, v);
		} else {
			v = board_pio_read(&vm->board, run->io.port, size);
			memcpy(data, &v, size);
		}
	}
	return 0;
}

static int exit_mmio(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_run *run = vm->run;
	unsigned len = run->mmio.len;
	uint64_t v = 0;

	(void)err;
	(void)errlen;
	if (len > 8)
		len = 8;
	if (run->mmio.is_write) {
		memcpy(&v, run->mmio.data, len);
		board_mmio_write(&vm->board, run->mmio.phys_addr, len, v);
	} else {
		v = board_mmio_read(&vm->board, run->mmio.phys_addr, len);
		memcpy(run->mmio.data, &v, len);
	}
	return 0;
}

static int exit_hlt(struct vm *vm, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	/* With interrupts off nothing on this board can wake the CPU (no NMI source): it is off. */
	if (!vm->run->if_flag)
		vm->stop = VM_STOP_POWEROFF;
	else
		vm->halted = true;
	return 0;
}

/* The CPU halted with interrupts on: sleep until an interrupt is pending, applying work as it comes. */
static int wait_halted(struct vm *vm, char *err, size_t errlen)
{
	int r;

	while (!vm->board.pic.intr && vm->stop == VM_RUNNING && !stop_signal) {
		struct timespec ts, *tsp = NULL;

		if ((r = service(vm)) < 0) {
			snprintf(err, errlen, "journal: %s", strerror(-r));
			return r;
		}
		if (vm->board.pic.intr || vm->stop != VM_RUNNING)
			break;
		if (vm->hooks && vm->hooks->idle)
			vm->hooks->idle(vm);
		if (work_due_at(vm) != NEVER) {
			uint64_t due = work_due_at(vm), wait = due > vm->board.now ? due - vm->board.now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tsp = &ts;
		}
		ppoll(NULL, 0, tsp, &vm->run_mask);	/* the only place these signals get through */
	}
	vm->halted = false;
	return 0;
}

static int exit_irq_window(struct vm *vm, char *err, size_t errlen)
{
	(void)vm;
	(void)err;
	(void)errlen;
	return 0;	/* the loop injects before the next entry */
}

static int exit_shutdown(struct vm *vm, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vm->stop = VM_STOP_TRIPLE_FAULT;
	return 0;
}

/* Read guest-virtual memory through the vCPU's current page tables. */
static unsigned read_virt(struct vm *vm, uint64_t addr, uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	while (n < len) {
		struct kvm_translation tr = { .linear_address = addr + n };
		const uint8_t *p;

		if (ioctl(vm->vcpu_fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
			break;
		p = gmem_ptr(&vm->mem, tr.physical_address, 1);
		if (!p)
			break;
		buf[n++] = *p;
	}
	return n;
}

/*
 * Instructions this host's emulator lacks in kernel mode but whose whole
 * effect vmm can reproduce exactly: RIP moves past them, and what they raise
 * is injected as the CPU would raise it. The exit keeps its own RIP in the
 * journal (exit_rip).
 */
static int complete_insn(struct vm *vm, struct kvm_regs *regs, unsigned len, int vector)
{
	struct kvm_vcpu_events ev;

	if (vector >= 0 && ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	vm->exit_rip = regs->rip;
	vm->rip_moved = true;
	regs->rip += len;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, regs) < 0)
		return -errno;
	if (vector < 0)
		return 0;
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = (uint8_t)vector;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	if (ioctl(vm->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	vm->event_queued = true;	/* no interrupt may join the exception on this entry */
	return 0;
}

/* INT3 (Linux's int3_selftest): a trap, so #BP is delivered with RIP past it. */
static int complete_int3(struct vm *vm, struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	(void)sregs;
	return complete_insn(vm, regs, 1, 3);
}

/*
 * FWAIT (Linux's fpu__drop at every exec and exit): #NM with CR0.MP and TS
 * set, #MF when an unmasked x87 exception is pending (FSW.ES), else nothing.
 * Both faults leave RIP on the FWAIT. A pending exception with CR0.NE clear
 * would signal FERR#, which this board does not wire: not completed.
 */
static int complete_fwait(struct vm *vm, struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	struct kvm_fpu fpu;

	if ((sregs->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
		return complete_insn(vm, regs, 0, 7);
	if (ioctl(vm->vcpu_fd, KVM_GET_FPU, &fpu) < 0)
		return -errno;
	if (fpu.fsw & X87_FSW_ES)
		return sregs->cr0 & X86_CR0_NE ? complete_insn(vm, regs, 0, 16) : -ENOTSUP;
	return complete_insn(vm, regs, 1, -1);
}

static const struct insn_completion {
	uint8_t opcode;
	const char *name;
	int (*complete)(struct vm *vm, struct kvm_regs *regs, const struct kvm_sregs *sregs);
} insn_completions[VM_INSN_COMPLETIONS] = {
	{ 0xcc, "int3", complete_int3 },
	{ 0x9b, "fwait", complete_fwait },
};

bool vm_insn_completed(struct vm *vm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t op;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0 ||
	    read_virt(vm, sregs.cs.base + regs.rip, &op, 1) != 1)
		return false;
	for (unsigned i = 0; i < VM_INSN_COMPLETIONS; i++)
		if (insn_completions[i].opcode == op)
			return true;
	return false;
}

static int exit_internal_error(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_run *run = vm->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t insn[15];
	unsigned n = 0;
	char bytes[15 * 3 + 1] = "";

	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
		snprintf(err, errlen, "KVM internal error (suberror %u)", run->internal.suberror);
		return -EIO;
	}
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(err, errlen, "KVM emulation failure, and the registers cannot be read: %s",
			 strerror(errno));
		return -EIO;
	}
	if ((run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size) {
		n = run->emulation_failure.insn_size;
		if (n > sizeof(insn))
			n = sizeof(insn);
		memcpy(insn, run->emulation_failure.insn_bytes, n);
	} else {
		n = read_virt(vm, sregs.cs.base + regs.rip, insn, sizeof(insn));
	}
	for (unsigned i = 0; n >= 1 && i < VM_INSN_COMPLETIONS; i++) {
		const struct insn_completion *c = &insn_completions[i];
		int r;

		if (insn[0] != c->opcode)
			continue;
		r = c->complete(vm, &regs, &sregs);
		if (r == 0) {
			vm->stats.completed[i]++;
			return 0;
		}
		if (r != -ENOTSUP) {
			snprintf(err, errlen, "completing %s at RIP 0x%llx: %s", c->name,
				 (unsigned long long)regs.rip, strerror(-r));
			return r;
		}
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, "%02x ", insn[i]);
	if (n)
		bytes[3 * n - 1] = 0;
	snprintf(err, errlen, "KVM cannot emulate the instruction at RIP 0x%llx (CS base 0x%llx, CPL %u): "
		 "bytes %s", (unsigned long long)regs.rip, (unsigned long long)sregs.cs.base,
		 sregs.cs.dpl, n ? bytes : "unreadable");
	return -EIO;
}

static int exit_fail_entry(struct vm *vm, char *err, size_t errlen)
{
	snprintf(err, errlen, "KVM could not enter the guest (hardware reason 0x%llx)",
		 (unsigned long long)vm->run->fail_entry.hardware_entry_failure_reason);
	return -EIO;
}

/* Filtered MSRs raise #GP: the guest CPU model has no TSC, APERF/MPERF or KVM PV clock. */
static int exit_msr(struct vm *vm, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vm->run->msr.error = 1;
	vm->event_queued = true;	/* KVM raises #GP as it re-enters */
	vm->stats.msr_trapped++;
	return 0;
}

static int exit_intr(struct vm *vm, char *err, size_t errlen)
{
	(void)vm;
	(void)err;
	(void)errlen;
	return 0;
}

static exit_handler *const exit_handlers[VM_EXIT_REASONS] = {
	[KVM_EXIT_IO] = exit_io,
	[KVM_EXIT_MMIO] = exit_mmio,
	[KVM_EXIT_HLT] = exit_hlt,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = exit_irq_window,
	[KVM_EXIT_SHUTDOWN] = exit_shutdown,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = exit_fail_entry,
	[KVM_EXIT_X86_RDMSR] = exit_msr,
	[KVM_EXIT_X86_WRMSR] = exit_msr,
	[KVM_EXIT_INTR] = exit_intr,
};

const char *vm_exit_reason_name(unsigned reason)
{
	static const char *const names[VM_EXIT_REASONS] = {
		[KVM_EXIT_IO] = "io",
		[KVM_EXIT_MMIO] = "mmio",
		[KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq-window",
		[KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
		[KVM_EXIT_FAIL_ENTRY] = "fail-entry",
		[KVM_EXIT_X86_RDMSR] = "rdmsr",
		[KVM_EXIT_X86_WRMSR] = "wrmsr",
		[KVM_EXIT_INTR] = "intr",
	};
	return reason < VM_EXIT_REASONS && names[reason] ? names[reason] : "other";
}

int vm_handle_exit(struct vm *vm, char *err, size_t errlen)
{
	unsigned reason = vm->run->exit_reason;

	if (reason >= VM_EXIT_REASONS || !exit_handlers[reason]) {
		snprintf(err, errlen, "unexpected KVM exit reason %u", reason);
		return -EIO;
	}
	vm->stats.exits[reason]++;
	vm->rip_moved = false;
	return exit_handlers[reason](vm, err, errlen);
}

void vm_check_board_stop(struct vm *vm)
{
	if (vm->stop != VM_RUNNING)
		return;
	if (vm->board.stop == BOARD_STOP_DEBUG_EXIT) {
		vm->stop = VM_STOP_DEBUG_EXIT;
		vm->exit_code = vm->board.exit_code;
	} else if (vm->board.stop == BOARD_STOP_RESET) {
		vm->stop = VM_STOP_RESET;
	}
}

/*
 * KVM_RUN returned EINTR: a kick. If work is due, this point becomes a
 * landmark and the work applies here, interrupts enabled or not: a timer
 * edge sets IRR while IF=0 exactly as on hardware, and the window exit
 * then delivers it right after the guest's sti.
 */
#define REKICK_NS 1000000ull
#define USER_DEFER_NS 20000000ull
#define EVENT_REKICK_NS 100000ull

bool vm_event_pending(struct vm *vm)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return true;
	return ev.exception.injected || ev.exception.pending || ev.interrupt.injected ||
	       ev.nmi.injected || ev.nmi.pending;
}

#define MSR_LSTAR 0xc0000082u

static uint64_t read_msr(struct vm *vm, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	return ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m) == 1 ? m.e.data : 0;
}

/* The handler address of an interrupt or trap gate, or 0. */
static uint64_t gate_target(struct vm *vm, const struct kvm_sregs *s, const struct paging_mode *pm, unsigned vector)
{
	bool lm = s->efer & X86_EFER_LMA;
	unsigned size = lm ? 16 : 8;
	uint32_t hi = 0;
	uint64_t lo, off;

	if ((vector + 1) * size - 1 > s->idt.limit ||
	    vm_read_virt(vm, pm, s->idt.base + vector * size, &lo, 8) < 0 ||
	    (lm && vm_read_virt(vm, pm, s->idt.base + vector * size + 8, &hi, 4) < 0))
		return 0;
	/* Present, 32/64-bit interrupt (0xe) or trap (0xf) gate. */
	if (!(lo >> 47 & 1) || ((lo >> 40 & 0xf) != 0xe && (lo >> 40 & 0xf) != 0xf))
		return 0;
	off = (lo & 0xffff) | (lo >> 32 & 0xffff0000u);
	return lm ? off | (uint64_t)hi << 32 : off;
}

/*
 * The user-mode landmark problem: breakpoints do not reach user mode on
 * every host (kvm_pvm runs it natively, and delivers kicks only as the
 * vCPU returns to user mode, so a kicked user state is one replay cannot stop
 * at again unless it recurs). Instead the recorder stops where user code
 * enters the kernel -- the #PF, #GP and #UD gates and the system-call entry
 * -- with breakpoints, which fire in kernel mode on every host; that point
 * becomes the landmark. Returns how many entries were armed.
 */
static unsigned arm_entry_breakpoints(struct vm *vm, const struct kvm_sregs *s)
{
	static const uint8_t vectors[] = { 14, 13, 6 };
	struct paging_mode pm = { s->cr0, s->cr3, s->cr4, s->efer };
	uint64_t addr[4];
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(vectors); i++)
		if ((addr[n] = gate_target(vm, s, &pm, vectors[i])))
			n++;
	if ((s->efer & X86_EFER_LMA) && (s->efer & X86_EFER_SCE))
		addr[n] = read_msr(vm, MSR_LSTAR);
	else
		addr[n] = gate_target(vm, s, &pm, 0x80);
	if (addr[n])
		n++;
	if (!n || vm_set_breakpoints(vm, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, addr, n) < 0)
		return 0;
	vm->entry_bps = true;
	return n;
}

static void disarm_entry_breakpoints(struct vm *vm)
{
	/* gdb's breakpoints and stepping come back, which the entries' took the place of. */
	if (vm->entry_bps && !(vm->gdb && gdbstub_arm(vm->gdb, vm) == 0))
		vm_set_breakpoints(vm, 0, NULL, 0);
	vm->entry_bps = false;
}

static int take_landmark(struct vm *vm, uint64_t now)
{
	int r;

	/*
	 * A stop that lands between KVM queueing an event (a #PF it reflects,
	 * a #GP for a refused MSR, our interrupt) and the guest taking it is in
	 * a state replay never sees: its breakpoint fires before the event is
	 * queued, and delivering an interrupt on top of the event is where KVMs
	 * disagree. Not a position: look again a little later.
	 */
	if (vm_event_pending(vm)) {
		disarm_entry_breakpoints(vm);
		vm->rekick_at = now + EVENT_REKICK_NS;
		vm->armed = 0;
		return 0;
	}
	disarm_entry_breakpoints(vm);
	if (vm->hooks && (r = vm->hooks->landmark(vm)) < 0)
		return r;
	vm->at_position = true;
	vm->place = VM_PLACE_LANDMARK;
	return 0;
}

static bool in_user_mode(struct vm *vm, struct kvm_sregs *sregs)
{
	return ioctl(vm->vcpu_fd, KVM_GET_SREGS, sregs) == 0 && (sregs->cs.selector & 3) == 3;
}

/*
 * The guest is in user mode with work waiting: hold the work for the next
 * kernel entry (arm_entry_breakpoints) if the deadline allows. False when it
 * does not, and the landmark must be taken here after all.
 */
static bool defer_to_kernel_entry(struct vm *vm, const struct kvm_sregs *sregs, uint64_t now)
{
	if (!vm->user_defer_until)
		vm->user_defer_until = now + USER_DEFER_NS;
	if (now >= vm->user_defer_until)
		return false;
	if (!vm->entry_bps && !arm_entry_breakpoints(vm, sregs))
		vm->rekick_at = now + REKICK_NS;	/* no entries known: look again */
	else
		vm->rekick_at = vm->user_defer_until;
	vm->armed = 0;
	return true;
}

/*
 * Due work waits for a position the guest makes itself (DESIGN.md section 2):
 * up to --defer for its next exit; then, if it runs with interrupts off on a
 * KVM whose window exits are exact (vmm probe), for the window exit right
 * after its sti, where an interrupt is taken anyway and replay finds the
 * spot by a breakpoint or the window itself, not inside the loop. Only past
 * that does a kick become a landmark: a guest polling memory with interrupts
 * off would otherwise never see a completion. True while it waits.
 */
#define WINDOW_WAIT_DEFERS 4
static bool defer_for_exit(struct vm *vm, uint64_t now)
{
	uint64_t d = defer_ns(vm);

	if (!d)
		return false;
	if (!vm->due_since)
		vm->due_since = now >= tick_due(vm) ? tick_due(vm) : now;
	if (now < vm->due_since + d) {
		vm->rekick_at = vm->due_since + d;
		vm->armed = 0;
		return true;
	}
	if (vm->window_wait || vm->run->if_flag || !vm->caps || vm->caps->exact_window != KVM_YES ||
	    vm_event_pending(vm))
		return false;
	vm->window_wait = true;
	vm->run->request_interrupt_window = 1;
	vm->rekick_at = now + WINDOW_WAIT_DEFERS * d;
	vm->armed = 0;
	return true;
}

static int kicked(struct vm *vm)
{
	struct kvm_sregs sregs;
	uint64_t now;

	vm_drain_signals();
	vm->stats.kicks++;
	/*
	 * KVM refreshes ready_for_interrupt_injection on every return, EINTR too,
	 * and it is 0 while a KVM_INTERRUPT vector is still pending: that flag,
	 * not ours, says whether the last injection is out of the way.
	 */
	vm->event_queued = false;
	now = vm_now(vm);
	if (now >= vm->idle_at && vm->hooks && vm->hooks->idle)
		vm->hooks->idle(vm);
	if (!work_due(vm, now))
		return 0;
	if (defer_for_exit(vm, now))
		return 0;
	/*
	 * In user mode the landmark waits, up to USER_DEFER_NS, for the guest to
	 * enter its kernel (see arm_entry_breakpoints). A wait loop that never
	 * does takes its landmark in user mode after that, in its steady state,
	 * which replay finds again because it recurs. Without a recorder
	 * positions do not matter and the work applies at once.
	 */
	if (vm->hooks && !vm_event_pending(vm) && in_user_mode(vm, &sregs) && defer_to_kernel_entry(vm, &sregs, now))
		return 0;
	return take_landmark(vm, now);
}

/* A kernel-entry breakpoint fired: the landmark the user-mode kick waited for. */
static int entry_hit(struct vm *vm)
{
	uint64_t now = vm_now(vm);

	vm->stats.entry_landmarks++;
	if (!work_due(vm, now)) {
		disarm_entry_breakpoints(vm);
		return 0;
	}
	return take_landmark(vm, now);
}

int vm_run(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_regs before;
	bool stepping, off_position = false;	/* the guest ran since the last exit or landmark */
	int r;

	if ((r = vm_signals_init(vm, err, errlen)) < 0)
		return r;
	vm->start_ns = vm_mono_ns();
	vm->at_position = true;
	if ((r = board_start_backends(&vm->board, kick, vm)) < 0) {
		snprintf(err, errlen, "cannot start the device backends' thread: %s", strerror(-r));
		return r;
	}
	if ((r = console_start(vm->console, kick, vm)) < 0) {
		snprintf(err, errlen, "cannot start the serial input thread: %s", strerror(-r));
		return r;
	}
	while (vm->stop == VM_RUNNING) {
		/* Work and injection happen at positions only: replay decides at the same points. */
		if (vm->at_position) {
			disarm_entry_breakpoints(vm);
			vm->user_defer_until = 0;
			vm->rekick_at = 0;
			vm->due_since = 0;
			vm->window_wait = false;
			if ((r = service(vm)) < 0)
				goto hook_error;
			if (vm->stop == VM_RUNNING && (r = inject(vm, err, errlen)) < 0)
				goto error;
			vm->at_position = false;
		}
		if (stop_signal) {
			/*
			 * Stopped by a signal in an exit-less stretch: the state the end
			 * record's digest holds is no position replay knows of, unless it
			 * is journaled as a landmark to stop at.
			 */
			if (off_position && vm->hooks && !vm_event_pending(vm) && (r = vm->hooks->landmark(vm)) < 0)
				goto hook_error;
			vm->stop = VM_STOP_SIGNAL;
			vm->signal = stop_signal;
			break;
		}
		if (vm->stop != VM_RUNNING)
			break;
		if (vm->gdb && ((r = gdbstub_poll(vm->gdb, vm)) < 0 || (r = gdbstub_step_owed(vm->gdb, vm)) < 0))
			goto error_gdb;
		if (vm->stop != VM_RUNNING)
			break;
		arm_timer(vm);
		stepping = vm->gdb && gdbstub_steps(vm->gdb);
		if (stepping && ioctl(vm->vcpu_fd, KVM_GET_REGS, &before) < 0) {
			r = -errno;
			goto error_gdb;
		}
		if (vm_enter(vm, true) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if ((r = kicked(vm)) < 0)
					goto hook_error;
				off_position = !vm->at_position;
				continue;
			}
			r = -errno;
			snprintf(err, errlen, "KVM_RUN: %s", strerror(errno));
			goto error;
		}
		vm->event_queued = false;
		off_position = true;
		/* gdb's step must not leave its TF in what the guest saved (it would be journaled). */
		if (stepping && vm->run->exit_reason == KVM_EXIT_DEBUG && (r = vm_step_fixup(vm, &before)) < 0)
			goto error_gdb;
		/* One of gdb's int3s is a debug exit from here on; a #BP of the guest's own went back to it. */
		if ((r = vm_swbp_exit(vm)) == VM_SWBP_GUEST)
			continue;
		if (r < 0)
			goto error_gdb;
		/* A page gdb watches: the access is done here, and is no exit of the guest's (replay never sees it). */
		if (vm_trap_exit(vm)) {
			if (vm->gdb && (r = gdbstub_trap(vm->gdb, vm)) < 0)
				goto error_gdb;
			continue;
		}
		if (vm->gdb && (r = gdbstub_traps_failed(vm->gdb, vm)) != 0) {
			if (r < 0)
				goto error_gdb;
			continue;
		}
		if (vm->run->exit_reason == KVM_EXIT_DEBUG && vm->entry_bps) {
			if ((r = entry_hit(vm)) < 0)
				goto hook_error;
			off_position = !vm->at_position;
			continue;
		}
		if (vm->run->exit_reason == KVM_EXIT_DEBUG && vm->gdb) {
			if ((r = gdbstub_debug_exit(vm->gdb, vm)) < 0)
				goto error_gdb;
			continue;
		}
		vm->board.now = vm_now(vm);
		vm->exit_count++;
		if ((r = vm_handle_exit(vm, err, errlen)) < 0)
			goto error;
		if (vm->hooks && (r = vm->hooks->exit(vm)) < 0)
			goto hook_error;
		off_position = false;
		vm_check_board_stop(vm);
		vm->at_position = true;
		vm->place = vm->run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN ? VM_PLACE_WINDOW : VM_PLACE_EXIT;
		if (vm->gdb)
			gdbstub_io_done(vm->gdb, vm);
		if (vm->halted && (r = wait_halted(vm, err, errlen)) < 0)
			goto error;
	}
	if (stop_signal && vm->stop == VM_RUNNING) {
		vm->stop = VM_STOP_SIGNAL;
		vm->signal = stop_signal;
	}
	return 0;
error_gdb:
	snprintf(err, errlen, "gdb stub: %s", strerror(-r));
	vm->stop = VM_STOP_ERROR;
	return r;
hook_error:
	snprintf(err, errlen, "journal: %s", strerror(-r));
error:
	vm->stop = VM_STOP_ERROR;
	return r;
}

void vm_print_stats(const struct vm *vm, double seconds)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < VM_EXIT_REASONS; i++)
		total += vm->stats.exits[i];
	fprintf(stderr, "vmm: %.3f s, %llu exits (%.0f/s)", seconds, (unsigned long long)total,
		seconds > 0 ? (double)total / seconds : 0.0);
	for (unsigned i = 0; i < VM_EXIT_REASONS; i++)
		if (vm->stats.exits[i])
			fprintf(stderr, ", %s %llu", vm_exit_reason_name(i),
				(unsigned long long)vm->stats.exits[i]);
	fprintf(stderr, "; %llu interrupts injected, %llu kicks",
		(unsigned long long)vm->stats.injections, (unsigned long long)vm->stats.kicks);
	for (unsigned i = 0; i < VM_INSN_COMPLETIONS; i++)
		fprintf(stderr, ", %llu %s completed", (unsigned long long)vm->stats.completed[i],
			insn_completions[i].name);
	fprintf(stderr, ", %llu MSR accesses refused, %llu unclaimed port accesses, "
		"%llu kernel-entry stops\n", (unsigned long long)vm->stats.msr_trapped,
		(unsigned long long)vm->board.unclaimed_pio, (unsigned long long)vm->stats.entry_landmarks);
	fprintf(stderr, "vmm: events placed: %llu at exits, %llu at window exits, %llu at landmarks "
		"(--defer %llu us)\n", (unsigned long long)vm->stats.placed[VM_PLACE_EXIT],
		(unsigned long long)vm->stats.placed[VM_PLACE_WINDOW],
		(unsigned long long)vm->stats.placed[VM_PLACE_LANDMARK], (unsigned long long)vm->defer_ns / 1000);
	if (vm->caps) {
		char text[768];

		kvm_caps_describe(vm->caps, text, sizeof(text));
		fprintf(stderr, "%s", text);
	}
	for (unsigned i = 0; i < vm->board.n_virtio; i++) {
		const struct board_virtio *v = vm->board.virtio[i];
		struct netdev_stats st = { 0 };

		if (v->vd->ops->type != VIRTIO_ID_NET)
			continue;
		if (v->nd)
			netdev_stats(v->nd, &st);
		fprintf(stderr, "vmm: virtio-net at 00:%02x.0: %llu frames sent (%llu refused by the host, %llu malformed), "
			"%llu received (%llu dropped waiting for the guest, %llu too big for its buffers, "
			"%llu refused: not from the peer)\n", i + 1,
			(unsigned long long)v->u.net.tx_frames, (unsigned long long)st.tx_dropped,
			(unsigned long long)v->u.net.tx_bad, (unsigned long long)v->u.net.rx_frames,
			(unsigned long long)st.rx_dropped, (unsigned long long)v->u.net.rx_dropped,
			(unsigned long long)st.rx_foreign);
	}
}
