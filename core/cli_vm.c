/* What the commands share once options are parsed: reading the guest's files, creating and loading the VM, pinning, the sandbox, the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "cli.h"
#include "sandbox.h"
#include "status.h"
#include "vm.h"

/* Whole file into memory; refuses what cannot fit in max bytes. */
int cli_read_file(const char *path, size_t max, const char *max_what, uint8_t **buf, size_t *len,
		  struct file_id *id, char *err, size_t errlen)
{
	struct stat st, after;
	uint8_t *p;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "'%s' is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "'%s' (%lld bytes) is larger than %s (%llu bytes)", path,
			 (long long)st.st_size, max_what, (unsigned long long)max);
		close(fd);
		return -E2BIG;
	}
	p = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!p) {
		close(fd);
		snprintf(err, errlen, "out of memory reading '%s'", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read '%s': %s", path, n < 0 ? strerror(errno) : "file shrank");
			free(p);
			close(fd);
			return -EIO;
		}
		got += (size_t)n;
	}
	if (id) {
		/* The bytes read are the ones this identity names only if nothing changed the file meanwhile. */
		file_id_from_stat(id, &st);
		id->known = fstat(fd, &after) == 0;
		if (id->known) {
			struct file_id now;

			file_id_from_stat(&now, &after);
			id->known = now.size == id->size && now.mtime_ns == id->mtime_ns && now.ctime_ns == id->ctime_ns;
		}
	}
	close(fd);
	*buf = p;
	*len = got;
	return 0;
}

const char *cli_stop_message(const struct vm *vm)
{
	switch (vm->stop) {
	case VM_STOP_POWEROFF:
		return "guest halted with interrupts disabled (powered off)";
	case VM_STOP_RESET:
		return "guest requested a reset";
	case VM_STOP_TRIPLE_FAULT:
		return "guest triple-faulted";
	case VM_STOP_QUIT:
		return "quit (Ctrl-A x on the console, or kill from gdb)";
	default:
		return NULL;
	}
}

int cli_stop_status(const struct vm *vm)
{
	switch (vm->stop) {
	case VM_STOP_DEBUG_EXIT:
		return (int)(vm->exit_code & 0xff);
	case VM_STOP_POWEROFF:
		return VMM_EXIT_POWEROFF;
	case VM_STOP_RESET:
		return VMM_EXIT_RESET;
	case VM_STOP_TRIPLE_FAULT:
		return VMM_EXIT_TRIPLE_FAULT;
	case VM_STOP_SIGNAL:
		return VMM_EXIT_SIGNAL_BASE + vm->signal;
	case VM_STOP_QUIT:
		return 0;
	default:
		return VMM_EXIT_ERROR;
	}
}

/*
 * Keep the vCPU thread on one host CPU. Some KVMs (kvm_pvm) run guest
 * user-mode CPUID on the host CPU itself, so a guest program sees that CPU's
 * APIC ID (glibc stores it at startup): record and replay must agree on it.
 */
int cli_pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

const char *cli_cache_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("VMM_CACHE_DIR");
	size_t n;

	if (env)
		n = (size_t)snprintf(dir, sizeof(dir), "%s", env);
	else if ((env = getenv("XDG_CACHE_HOME")) && *env == '/')
		n = (size_t)snprintf(dir, sizeof(dir), "%s/vmm", env);
	else if ((env = getenv("HOME")) && *env == '/')
		n = (size_t)snprintf(dir, sizeof(dir), "%s/.cache/vmm", env);
	else
		return NULL;
	return n > 0 && n < sizeof(dir) ? dir : NULL;
}

void cli_input_sha256(const struct file_id *id, const uint8_t *data, size_t len, uint8_t out[32])
{
	(void)hashcache_sha256(cli_cache_dir(), id, data, len, out);
}

void cli_free_files(struct cli_files *f)
{
	free(f->kernel);
	free(f->initrd);
	f->kernel = f->initrd = NULL;
}

int cli_load_files(const char *kernel, const char *initrd, uint64_t max, struct cli_files *f)
{
	char err[BOOT_ERR_LEN + 100];

	memset(f, 0, sizeof(*f));
	if (kernel && cli_read_file(kernel, max, "guest memory", &f->kernel, &f->kernel_len, &f->kernel_id, err,
				    sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_ERROR, "kernel: %s%s", err, "");
	if (initrd && cli_read_file(initrd, max, "guest memory", &f->initrd, &f->initrd_len, &f->initrd_id, err,
				    sizeof(err)) < 0) {
		cli_free_files(f);
		return cli_fail(VMM_EXIT_ERROR, "initrd: %s%s", err, "");
	}
	return -1;
}

/* Create the VM and load the guest into it. Returns -1 on success, else an exit status. */
int cli_setup_vm(struct vm *vm, const struct vm_config *cfg, const struct cli_files *f,
		    const char *kernel_path, const char *cmdline)
{
	struct boot_config boot = { .kernel = f->kernel, .kernel_len = f->kernel_len,
				    .initrd = f->initrd, .initrd_len = f->initrd_len, .cmdline = cmdline };
	struct boot_entry entry;
	char err[BOOT_ERR_LEN + 100];

	if (vm_create(vm, cfg, err, sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
	if (boot_load(&vm->mem, &boot, &entry, err, sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_ERROR, "%s: %s", kernel_path, err);
	if (cfg->verbose) {
		fprintf(stderr, "vmm: %s kernel, entry 0x%x, %llu MiB of memory\n", boot_kind_name(entry.kind),
			entry.eip, (unsigned long long)(cfg->mem_size >> 20));
		if (f->initrd)
			fprintf(stderr, "vmm: initrd at 0x%llx, %zu bytes\n",
				(unsigned long long)entry.initrd_addr, f->initrd_len);
	}
	if (vm_set_entry(vm, &entry, err, sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
	return -1;
}

/*
 * Everything is open and set up: from here on, a system call vmm does not
 * make while a guest runs ends it (core/sandbox.c). The signal handlers go
 * in first, since sigaction is not on the list. VMM_TEST_FORBIDDEN_SYSCALL
 * makes the guest's next write to port 0x80 call execve, for the test that
 * shows the filter stops it.
 */
int cli_enter_sandbox(struct vm *vm, const char *gdb, char *err, size_t errlen)
{
	struct sandbox_opts so = { .unlink = gdb && !strncmp(gdb, "unix:", 5) };
	int r;

	if ((r = vm_signals_init(vm, err, errlen)) < 0)
		return r;
	vm->test_forbidden_syscall = getenv("VMM_TEST_FORBIDDEN_SYSCALL") != NULL;
	return sandbox_enter(&so, err, errlen);
}
