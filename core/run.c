/*
 * The vCPU run loop and its exit handlers. The vCPU thread is the only one
 * that changes guest state (DESIGN.md section 1): timers and the serial
 * reader only wake it (wake.c).
 *
 * Asynchronous work (a due timer, input, a device completion) is applied only
 * at a journal position: right after a handled exit, at a window exit, or
 * where a kick stopped the guest, which the hooks record as a landmark
 * (place.c). `run` and `record` follow the same policy, so a recording
 * behaves as a plain run does.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "loop.h"
#include "netdev.h"

static int service_timers(struct vm *vm)
{
	int r;

	vm->board.now = vm_now(vm);
	if (vm->board.now < vm_tick_due(vm))
		return 0;
	/*
	 * Chaos chose delivery at once: an exit before the kick lands does not
	 * take the tick (the host timer may fire late; up to CHAOS_HOLD_MAX_NS),
	 * so that it lands where the kick finds the guest, mid-stretch.
	 */
	if (vm->chaos.on && !vm->chaos.defer_ns && vm->place != VM_PLACE_LANDMARK && !vm->halted &&
	    vm->board.now < vm_tick_due(vm) + CHAOS_HOLD_MAX_NS)
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

	bool kicked = vm_kick_take();

	if (!vm->input_waiting && !kicked)
		return 0;
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

/*
 * The queues drivers notified through ioeventfds since the last position:
 * journaled, then taken as the notify register's exit would have been.
 */
static int service_notifies(struct vm *vm)
{
	struct board *b = &vm->board;
	int r;

	for (unsigned d = 0; d < b->n_virtio; d++) {
		unsigned bits = ioevent_take(&vm->ioev, d);

		for (unsigned q = 0; bits; q++, bits >>= 1) {
			if (!(bits & 1))
				continue;
			if (vm->hooks && vm->hooks->notify && (r = vm->hooks->notify(vm, d, q)) < 0)
				return r;
			virtio_queue_notify(b->virtio[d]->vd, q);
			vm->stats.notified++;
			vm->applied++;
		}
	}
	return 0;
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
	if (r >= 0 && vm->ioev.n)
		r = service_notifies(vm);
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

/*
 * The vCPU stands on the hlt of an sti; hlt. An interrupt there would be taken
 * inside the STI shadow, and the guest would then halt for good: a lost
 * wakeup that hardware rules out. The nested kvm_amd under TCG has opened
 * windows there and called them injectable (README). Let the hlt run: its
 * exit, a position in record and replay alike, takes the interrupt. An iret
 * onto such a hlt is the one legal way to stand there; it gets the same
 * treatment, which only trades taking the interrupt before the hlt (and
 * halting for the next) for waking the hlt with it.
 */
#define OPCODE_STI 0xfb

static bool at_sti_hlt(struct vm *vm)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct paging_mode pm;
	uint8_t code[2];

	/* At CPL 3 a hlt raises #GP instead of exiting: no position would follow it. */
	if (vm_get_regs(vm, &r) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0 || !r.rip ||
	    (s.ss.dpl & 3))
		return false;
	pm = (struct paging_mode){ s.cr0, s.cr3, s.cr4, s.efer };
	return vm_read_virt(vm, &pm, s.cs.base + r.rip - 1, code, sizeof(code)) == 0 &&
	       code[0] == OPCODE_STI && code[1] == OPCODE_HLT;
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
	if (!vm->inject_at_sti_hlt && at_sti_hlt(vm)) {
		run->request_interrupt_window = 0;
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
			/* A PCI config write may move a notify register (a BAR) or stop its decoding. */
			if (vm->ioev.n && run->io.port >= PCI_CONFIG_DATA && run->io.port < PCI_CONFIG_DATA + 4) {
				int r = ioevent_sync(&vm->ioev, &vm->board);

				if (r < 0) {
					snprintf(err, errlen, "KVM_IOEVENTFD for a moved virtio BAR: %s", strerror(-r));
					return r;
				}
			}
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
	struct pollfd pfd[IOEVENT_MAX];
	unsigned n;
	int r = 0;

	/* Before service() takes the notifications: one that comes after wakes this thread (ioevent.c). */
	ioevent_sleeping(&vm->ioev, true);
	while (!vm->board.pic.intr && vm->stop == VM_RUNNING && !vm_stop_signal()) {
		struct timespec ts, *tsp = NULL;

		if ((r = service(vm)) < 0) {
			snprintf(err, errlen, "journal: %s", strerror(-r));
			break;
		}
		if (vm->board.pic.intr || vm->stop != VM_RUNNING)
			break;
		if (vm->hooks && vm->hooks->idle)
			vm->hooks->idle(vm);
		if (vm_work_due_at(vm) != NEVER) {
			uint64_t due = vm_work_due_at(vm), wait = due > vm->board.now ? due - vm->board.now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tsp = &ts;
		}
		/* The only place these signals get through; a notification wakes it too. */
		n = ioevent_pollfds(&vm->ioev, pfd);
		if (ppoll(pfd, n, tsp, &vm->run_mask) > 0)
			ioevent_collect(&vm->ioev, pfd, n);
	}
	ioevent_sleeping(&vm->ioev, false);
	vm->halted = false;
	vm_ran_mark(vm);	/* the sleep was the guest's: --defer counts from its end */
	return r;
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
	[KVM_EXIT_INTERNAL_ERROR] = vm_exit_internal_error,
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

void vm_exit_taken(struct vm *vm, unsigned reason, uint64_t now)
{
	vm->board.now = now;
	vm->exit_count++;
	vm->stats.exits[reason]++;
}

int vm_handle_exit(struct vm *vm, uint64_t now, char *err, size_t errlen)
{
	unsigned reason = vm->run->exit_reason;

	if (reason >= VM_EXIT_REASONS || !exit_handlers[reason]) {
		snprintf(err, errlen, "unexpected KVM exit reason %u", reason);
		return -EIO;
	}
	vm_exit_taken(vm, reason, now);
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

int vm_run(struct vm *vm, char *err, size_t errlen)
{
	bool stepping, off_position = false;	/* the guest ran since the last exit or landmark */
	int r;

	if ((r = vm_signals_init(vm, err, errlen)) < 0)
		return r;
	vm->start_ns = vm_mono_ns();
	vm->at_position = true;
	if ((r = board_start_backends(&vm->board, vm_kick, vm)) < 0) {
		snprintf(err, errlen, "cannot start the device backends' thread: %s", strerror(-r));
		return r;
	}
	if ((r = ioevent_start(&vm->ioev, vm_kick, vm, vm->defer_ns)) < 0) {
		snprintf(err, errlen, "cannot start the virtio notifications' thread: %s", strerror(-r));
		return r;
	}
	if ((r = console_start(vm->console, vm_kick, vm)) < 0) {
		snprintf(err, errlen, "cannot start the serial input thread: %s", strerror(-r));
		return r;
	}
	/* Only now: a thread inherits its creator's CPUs, and the helpers must not share the vCPU's one. */
	if (vm->pin_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(vm->pin_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			snprintf(err, errlen, "cannot run on host CPU %d, which the journal names: %s", vm->pin_cpu,
				 strerror(errno));
			return -errno;
		}
	}
	while (vm->stop == VM_RUNNING) {
		/* Work and injection happen at positions only: replay decides at the same points. */
		if (vm->at_position) {
			vm_disarm_entry_breakpoints(vm);
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
		if (vm_stop_signal()) {
			/*
			 * Stopped by a signal in an exit-less stretch: the state the end
			 * record's digest holds is no position replay knows of, unless it
			 * is journaled as a landmark to stop at.
			 */
			if (off_position && vm->hooks && !vm_event_pending(vm) && (r = vm->hooks->landmark(vm)) < 0)
				goto hook_error;
			vm->stop = VM_STOP_SIGNAL;
			vm->signal = vm_stop_signal();
			break;
		}
		if (vm->stop != VM_RUNNING)
			break;
		if (vm->debugger && (r = vm->debugger->poll(vm->debugger_ctx, vm)) < 0)
			goto error_gdb;
		if (vm->stop != VM_RUNNING)
			break;
		vm_arm_timer(vm);
		stepping = vm->debugger && vm->debugger->steps(vm->debugger_ctx);
		r = vm_enter_once(vm, stepping, true, vm->debugger, vm->debugger_ctx);
		if (r == -EINTR || r == -EAGAIN) {
			if ((r = vm_kicked(vm)) < 0)
				goto hook_error;
			off_position = !vm->at_position;
			continue;
		}
		if (r < 0) {
			snprintf(err, errlen, "KVM_RUN: %s", strerror(-r));
			goto error;
		}
		off_position = true;
		if (r == VM_ENTRY_AGAIN)
			continue;
		if (vm->entry_bps && (r = plant_hit(&vm->entry_plants, vm)) != 0) {
			if (r < 0) {
				snprintf(err, errlen, "a kernel entry's stop: %s", strerror(-r));
				goto error;
			}
			if ((r = vm_entry_hit(vm)) < 0)
				goto hook_error;
			off_position = !vm->at_position;
			continue;
		}
		if (vm->run->exit_reason == KVM_EXIT_DEBUG && vm->entry_bps) {
			if ((r = vm_entry_hit(vm)) < 0)
				goto hook_error;
			off_position = !vm->at_position;
			continue;
		}
		if (vm->run->exit_reason == KVM_EXIT_DEBUG && vm->debugger) {
			if ((r = vm->debugger->debug_exit(vm->debugger_ctx, vm)) < 0)
				goto error_gdb;
			continue;
		}
		if ((r = vm_handle_exit(vm, vm_now(vm), err, errlen)) < 0)
			goto error;
		if (vm->hooks && (r = vm->hooks->exit(vm)) < 0)
			goto hook_error;
		off_position = false;
		vm_check_board_stop(vm);
		vm->at_position = true;
		vm->place = vm->run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN ? VM_PLACE_WINDOW : VM_PLACE_EXIT;
		if (vm->debugger)
			vm->debugger->exit_done(vm->debugger_ctx, vm);
		if (vm->halted && (r = wait_halted(vm, err, errlen)) < 0)
			goto error;
	}
	if (vm_stop_signal() && vm->stop == VM_RUNNING) {
		vm->stop = VM_STOP_SIGNAL;
		vm->signal = vm_stop_signal();
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
	fprintf(stderr, "; %llu interrupts injected, %llu kicks (%llu after a host stall, waited on)",
		(unsigned long long)vm->stats.injections, (unsigned long long)vm->stats.kicks,
		(unsigned long long)vm->stats.stall_waits);
	for (unsigned i = 0; i < VM_INSN_COMPLETIONS; i++)
		fprintf(stderr, ", %llu %s completed", (unsigned long long)vm->stats.completed[i],
			vm_insn_name(i));
	fprintf(stderr, ", %llu MSR accesses refused, %llu unclaimed port accesses, "
		"%llu kernel-entry stops, %llu user-mode waits found steady\n",
		(unsigned long long)vm->stats.msr_trapped, (unsigned long long)vm->board.unclaimed_pio,
		(unsigned long long)vm->stats.entry_landmarks, (unsigned long long)vm->stats.steady_landmarks);
	fprintf(stderr, "vmm: events placed: %llu at exits, %llu at window exits, %llu at landmarks "
		"(--defer %llu us)\n", (unsigned long long)vm->stats.placed[VM_PLACE_EXIT],
		(unsigned long long)vm->stats.placed[VM_PLACE_WINDOW],
		(unsigned long long)vm->stats.placed[VM_PLACE_LANDMARK], (unsigned long long)vm->defer_ns / 1000);
	if (vm->board.n_virtio)
		fprintf(stderr, "vmm: virtio notifications: %llu taken from ioeventfds%s\n",
			(unsigned long long)vm->stats.notified,
			vm->ioev.n ? "" : " (off: --no-ioeventfd, or this KVM lacks KVM_IOEVENTFD; each is an MMIO exit)");
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
