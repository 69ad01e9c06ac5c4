/*
 * Waking the vCPU thread. Signals that wake it (VM_KICK_SIGNAL, SIGINT,
 * SIGTERM) are blocked except inside KVM_RUN and the HLT wait, so no wake-up
 * is ever lost; the host timer and the device threads' kicks arrive as
 * VM_KICK_SIGNAL. The handler's state is global because a signal handler
 * cannot be given a struct.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

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

uint64_t vm_now(const struct vm *vm)
{
	return vm_mono_ns() - vm->start_ns;
}

void vm_kick(void *opaque)
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

void vm_drop_kick(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VM_KICK_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	atomic_store(&kick_pending, 0);
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
	vm->watchdog_ns = 0;
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
	vm->rearm_ns = 0;
	vm->watchdog_ns = period_ns;
}

void vm_rearm_watchdog(struct vm *vm, uint64_t period_ns)
{
	vm->rearm_ns = period_ns;
}

bool vm_kick_take(void)
{
	/* Every exit asks: a plain load first, the locked exchange only when a kick came. */
	return atomic_load_explicit(&kick_pending, memory_order_relaxed) && atomic_exchange(&kick_pending, 0);
}

bool vm_kick_pending(void)
{
	return atomic_load_explicit(&kick_pending, memory_order_relaxed);
}

int vm_stop_signal(void)
{
	return stop_signal;
}

