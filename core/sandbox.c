/* The sandbox: a seccomp filter that leaves vmm only the system calls its run loop, devices and stub make. */
#include "sandbox.h"

#include <errno.h>
#include <execinfo.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "status.h"

/*
 * What vmm does once a guest runs: KVM ioctls, reads and writes of the
 * files, sockets and terminal opened before, memory for malloc and zstd,
 * threads (clone with CLONE_THREAD only), timers, signals it blocks and
 * takes, waiting, the time, the vCPU thread's pinning, entropy for virtio-rng, fdatasync for the
 * journal and disks, and the gdb stub's accept. Nothing opens, creates,
 * executes, forks or changes privileges.
 */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv, SYS_pwritev,
	SYS_close, SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_ioctl, SYS_fcntl, SYS_flock, SYS_fsync, SYS_fdatasync,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_madvise, SYS_brk,
	SYS_futex, SYS_set_robust_list, SYS_rseq, SYS_sched_yield, SYS_getcpu, SYS_sched_getaffinity,
	SYS_sched_setaffinity,	/* record pins the vCPU thread once its helpers have started */
	SYS_poll, SYS_ppoll, SYS_pselect6, SYS_select, SYS_nanosleep, SYS_clock_nanosleep, SYS_clock_gettime,
	SYS_gettimeofday, SYS_timer_settime, SYS_timer_gettime, SYS_timer_delete,
	SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigtimedwait, SYS_sigaltstack, SYS_tgkill, SYS_tkill,
	SYS_getpid, SYS_gettid, SYS_getrandom,
	SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_accept, SYS_accept4, SYS_shutdown,
	SYS_setsockopt, SYS_getsockopt,
	SYS_exit, SYS_exit_group, SYS_restart_syscall,
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
/*
 * The sanitizer build (make SANITIZE=1, never ./vmm): the sanitizers'
 * runtime reads /proc, and LeakSanitizer stops the world at exit with a
 * traced helper task that makes calls of its own, so this build turns the
 * list around: everything is allowed but what no part of vmm or the
 * runtime ever does, and the test of the filter (an execve) still stops.
 */
#define SANDBOX_DENYLIST 1
static const int denied[] = {
	SYS_execve, SYS_execveat, SYS_fork, SYS_vfork, SYS_socket, SYS_connect, SYS_bind, SYS_listen,
	SYS_creat, SYS_mount, SYS_setuid, SYS_setgid, SYS_memfd_create, SYS_rename, SYS_mkdir,
};
#endif

const char *sandbox_syscall_name(long nr)
{
	static const struct {
		long nr;
		const char *name;
	} names[] = {
		{ SYS_execve, "execve" }, { SYS_execveat, "execveat" }, { SYS_fork, "fork" }, { SYS_vfork, "vfork" },
		{ SYS_clone, "clone" }, { SYS_clone3, "clone3" }, { SYS_open, "open" }, { SYS_openat, "openat" },
		{ SYS_creat, "creat" }, { SYS_socket, "socket" }, { SYS_connect, "connect" }, { SYS_bind, "bind" },
		{ SYS_listen, "listen" }, { SYS_ptrace, "ptrace" }, { SYS_kill, "kill" }, { SYS_unlink, "unlink" },
		{ SYS_unlinkat, "unlinkat" }, { SYS_rename, "rename" }, { SYS_mkdir, "mkdir" },
		{ SYS_rt_sigaction, "rt_sigaction" }, { SYS_prctl, "prctl" }, { SYS_setuid, "setuid" },
		{ SYS_mount, "mount" }, { SYS_chmod, "chmod" }, { SYS_memfd_create, "memfd_create" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

/* Async-signal-safe: a message by write(2), then the exit status of a vmm error. */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	static const char head[] = "vmm: sandbox: system call ";
	static const char tail[] = ", which vmm never makes while a guest runs (a bug in vmm, or a guest exploiting "
				   "one): stopped. --no-sandbox turns the filter off, to debug vmm itself\n";
	char num[32], *p = num + sizeof(num);
	const char *name = sandbox_syscall_name(si->si_syscall);
	long nr = si->si_syscall;

	(void)sig;
	(void)uctx;
	*--p = ')';
	do
		*--p = (char)('0' + nr % 10);
	while ((nr /= 10) > 0 && p > num + 1);
	*--p = '(';
	if (write(2, head, sizeof(head) - 1) < 0 || (name && write(2, name, strlen(name)) < 0) ||
	    write(2, " ", 1) < 0 || write(2, p, (size_t)(num + sizeof(num) - p)) < 0 ||
	    write(2, tail, sizeof(tail) - 1) < 0)
		_exit(VMM_EXIT_ERROR);
	/* Where it was made, for the bug report (addresses: addr2line -e vmm gives the lines). */
	{
		void *frames[24];

		backtrace_symbols_fd(frames, backtrace(frames, 24), 2);
	}
	_exit(VMM_EXIT_ERROR);
}

#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define ALLOW_IF(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen)
{
	struct sock_filter f[32 + 2 * (sizeof(allowed) / sizeof(allowed[0])) + 16];
	struct sock_fprog prog;
	struct sigaction sa;
	unsigned n = 0;

	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, nr));
	/* x32 system calls: none. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
#ifdef SANDBOX_DENYLIST
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		struct sock_filter a[] = {
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		};

		memcpy(f + n, a, sizeof(a));
		n += 2;
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	(void)o;
	goto install;
#endif
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		struct sock_filter a[] = { ALLOW_IF(allowed[i]) };

		memcpy(f + n, a, sizeof(a));
		n += 2;
	}
	if (o && o->unlink) {
		struct sock_filter a[] = { ALLOW_IF(SYS_unlink), ALLOW_IF(SYS_unlinkat) };

		memcpy(f + n, a, sizeof(a));
		n += 4;
	}
	/*
	 * rt_sigaction for glibc's own two real-time signals only (SIGCANCEL,
	 * SIGSETXID), which it installs at the first pthread_create; vmm's
	 * handlers are in before the filter, and no one may change them after.
	 */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigaction, 0, 5);
	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 32, 0, 1);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 33, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, nr));
	/* clone3 passes its flags in memory, out of the filter's sight: glibc falls back to clone. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	/* clone for a thread of this process only: no fork. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);

#ifdef SANDBOX_DENYLIST
install:
#endif
	{
		/* glibc loads its unwinder at the first backtrace(), which opens files: now, not in the handler. */
		void *frame[1];

		(void)backtrace(frame, 1);
	}
	/*
	 * glibc shrinks a helper thread's malloc arena (the journal writer's, a
	 * backend's) by first reading /proc/sys/vm/overcommit_memory, once, when
	 * a free leaves enough at its top: an open no filter can let through.
	 * With a trim threshold no free reaches, it never shrinks one; large
	 * blocks are mmap'ed and go back to the system as they are freed anyway.
	 */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "sandbox: sigaction: %s", strerror(errno));
		return -errno;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "sandbox: PR_SET_NO_NEW_PRIVS: %s (--no-sandbox runs without it)",
			 strerror(errno));
		return -errno;
	}
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		int e = errno;

		snprintf(err, errlen, "sandbox: seccomp: %s (--no-sandbox runs without it)",
			 e > 0 ? strerror(e) : "another thread has a filter of its own");
		return e > 0 ? -e : -EBUSY;
	}
	return 0;
}
