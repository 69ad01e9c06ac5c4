/* The sandbox: a seccomp filter that leaves vmm only the system calls its run loop, devices and stub make. */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

struct sandbox_opts {
	bool unlink;		/* a unix socket is removed at exit (gdb on unix:PATH) */
};

/*
 * From now on, in every thread of this process and every thread it starts,
 * a system call outside the list stops vmm with a message naming it (SIGSYS,
 * then exit status 116): no exec, no new files or sockets, no fork. Setup
 * (opening files, creating the VM, listening) must be done before. 0 or
 * -errno; err says why.
 */
int sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen);

/* The name of an x86-64 system call the filter refuses, for its message ("execve"), or NULL. */
const char *sandbox_syscall_name(long nr);

#endif
