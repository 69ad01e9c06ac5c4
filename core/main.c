/* The vmm command line: a table of subcommands; the only place that prints usage and decides exit statuses. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "console.h"
#include "status.h"
#include "vm.h"

#ifndef VMM_VERSION
#define VMM_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_run(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "run", cmd_run, "boot a guest kernel" },
	{ "help", cmd_help, "show help for vmm or one command" },
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage_main(FILE *f)
{
	fprintf(f, "usage: vmm COMMAND [options]\n"
		   "       vmm --help | --version\n\n"
		   "A deterministic single-vCPU KVM virtual machine monitor.\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'vmm COMMAND --help' for a command's options.\n");
}

static void usage_run(FILE *f)
{
	fprintf(f,
		"usage: vmm run [options] KERNEL\n\n"
		"Boot KERNEL in a new virtual machine: a multiboot v1 ELF kernel, a Linux\n"
		"bzImage (boot protocol 2.06+) or a Linux vmlinux with a PVH entry note.\n"
		"No firmware runs; the kernel is entered directly in 32-bit protected mode.\n\n"
		"options:\n"
		"  -m, --memory SIZE     guest RAM in MiB, or with a suffix M or G (default 256;\n"
		"                        2 MiB to 3 GiB)\n"
		"      --append CMDLINE  kernel command line\n"
		"      --initrd FILE     initial ramdisk (Linux) or first module (multiboot)\n"
		"      --serial BACKEND  where COM1 goes: stdio (default), file:PATH, none.\n"
		"                        On a terminal, stdio is raw; type Ctrl-A x to quit.\n"
		"      --rtc SECONDS     guest wall-clock time at power-on, in seconds since\n"
		"                        1970-01-01 UTC (default: the host's time)\n"
		"      --stats           print exit counts by kind when the guest stops\n"
		"  -v, --verbose         say what was loaded where; report unclaimed ports once\n"
		"  -h, --help            show this help\n\n"
		"exit status:\n"
		"  N    the guest wrote N to the debug-exit port 0xf4 (outl(code, 0xf4): code & 0xff)\n"
		"  %d  the guest halted for good (hlt with interrupts off): Linux poweroff\n"
		"  %d  the guest asked for a reset (i8042 0xfe, port 0xcf9, port 0x92)\n"
		"  %d  the guest triple-faulted\n"
		"  %d  vmm error (bad input file, KVM failure, instruction KVM cannot emulate)\n"
		"  %d    bad command line\n"
		"  128+N stopped by signal N (SIGINT, SIGTERM); 0 after Ctrl-A x\n",
		VMM_EXIT_POWEROFF, VMM_EXIT_RESET, VMM_EXIT_TRIPLE_FAULT, VMM_EXIT_ERROR, VMM_EXIT_USAGE);
}

static int error_exit(int status, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "vmm: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return status;
}

/* Whole file into memory; refuses what cannot fit in max bytes. */
static int read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
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
		snprintf(err, errlen, "'%s' (%lld bytes) is larger than guest memory", path,
			 (long long)st.st_size);
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
	close(fd);
	*buf = p;
	*len = got;
	return 0;
}

static int parse_memory(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'G' || *end == 'g') {
		v *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		end++;
	}
	if (*end || v > (BOOT_MEM_MAX >> 20) || (v << 20) < BOOT_MEM_MIN)
		return -ERANGE;
	*bytes = v << 20;
	return 0;
}

static const char *stop_message(const struct vm *vm)
{
	switch (vm->stop) {
	case VM_STOP_POWEROFF:
		return "guest halted with interrupts disabled (powered off)";
	case VM_STOP_RESET:
		return "guest requested a reset";
	case VM_STOP_TRIPLE_FAULT:
		return "guest triple-faulted";
	case VM_STOP_QUIT:
		return "quit from the console";
	default:
		return NULL;
	}
}

static int stop_status(const struct vm *vm)
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

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "append", required_argument, NULL, 'a' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "serial", required_argument, NULL, 's' },
		{ "rtc", required_argument, NULL, 'r' },
		{ "stats", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmdline = "", *initrd_path = NULL, *serial = "stdio";
	struct vm_config cfg = { .mem_size = 256ull << 20, .rtc_epoch = (int64_t)time(NULL) };
	struct boot_config boot = { 0 };
	struct boot_entry entry;
	struct console con;
	struct vm *vm;
	uint8_t *kernel = NULL, *initrd = NULL;
	char err[BOOT_ERR_LEN + 100];
	struct timespec t0, t1;
	bool stats = false;
	int c, r, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_memory(optarg, &cfg.mem_size) < 0)
				return error_exit(VMM_EXIT_USAGE, "--memory '%s': give MiB from 2 to 3072 (or 1G, 3G)%s",
						  optarg, "");
			break;
		case 'a':
			cmdline = optarg;
			break;
		case 'i':
			initrd_path = optarg;
			break;
		case 's':
			serial = optarg;
			break;
		case 'r': {
			char *end;

			errno = 0;
			cfg.rtc_epoch = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || cfg.rtc_epoch < 0)
				return error_exit(VMM_EXIT_USAGE, "--rtc '%s': give seconds since 1970%s", optarg, "");
			break;
		}
		case 'S':
			stats = true;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage_run(stdout);
			return 0;
		default:
			usage_run(stderr);
			return VMM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vmm: run takes exactly one KERNEL%s\n", optind < argc ? " (extra arguments given)" : "");
		usage_run(stderr);
		return VMM_EXIT_USAGE;
	}
	if (console_open(&con, serial, err, sizeof(err)) < 0)
		return error_exit(VMM_EXIT_USAGE, "%s%s", err, "");
	if (read_file(argv[optind], cfg.mem_size, &kernel, &boot.kernel_len, err, sizeof(err)) < 0)
		return error_exit(VMM_EXIT_ERROR, "kernel: %s%s", err, "");
	boot.kernel = kernel;
	boot.cmdline = cmdline;
	if (initrd_path) {
		if (read_file(initrd_path, cfg.mem_size, &initrd, &boot.initrd_len, err, sizeof(err)) < 0) {
			free(kernel);
			return error_exit(VMM_EXIT_ERROR, "initrd: %s%s", err, "");
		}
		boot.initrd = initrd;
	}
	cfg.console = &con;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return error_exit(VMM_EXIT_ERROR, "out of memory%s%s", "", "");
	status = VMM_EXIT_ERROR;
	if ((r = vm_create(vm, &cfg, err, sizeof(err))) < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		goto out;
	}
	if ((r = boot_load(&vm->mem, &boot, &entry, err, sizeof(err))) < 0) {
		fprintf(stderr, "vmm: %s: %s\n", argv[optind], err);
		goto out;
	}
	if (cfg.verbose)
		fprintf(stderr, "vmm: %s kernel, entry 0x%x, %llu MiB of memory\n", boot_kind_name(entry.kind),
			entry.eip, (unsigned long long)(cfg.mem_size >> 20));
	if (cfg.verbose && initrd)
		fprintf(stderr, "vmm: initrd at 0x%llx, %zu bytes\n",
			(unsigned long long)entry.initrd_addr, boot.initrd_len);
	free(kernel);
	free(initrd);
	kernel = initrd = NULL;
	if ((r = vm_set_entry(vm, &entry, err, sizeof(err))) < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = vm_run(vm, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	console_close(&con);
	if (r < 0)
		fprintf(stderr, "vmm: %s\n", err);
	else if (stop_message(vm))
		fprintf(stderr, "vmm: %s\n", stop_message(vm));
	if (stats)
		vm_print_stats(vm, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	status = stop_status(vm);
out:
	console_close(&con);
	free(kernel);
	free(initrd);
	vm_destroy(vm);
	free(vm);
	return status;
}

static int cmd_help(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0) {
		usage_run(stdout);
		return 0;
	}
	usage_main(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return VMM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	}
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vmm: unknown command '%s'\n", argv[1]);
	usage_main(stderr);
	return VMM_EXIT_USAGE;
}
