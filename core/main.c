/* The vmm command line: the table of subcommands, vmm run, record, probe and help (what the commands share is in cli_vm.c). */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "console.h"
#include "../replay/exit_rec.h"
#include "../replay/hash.h"
#include "../replay/rr.h"
#include "../replay/pack.h"
#include "../replay/snapshot.h"
#include "status.h"
#include "vm.h"
#include "../gdbstub/gdbstub.h"
#include "kvm_caps.h"
#include "cli.h"
#include "cli_opt.h"
#include "sandbox.h"

#ifndef VMM_VERSION
#define VMM_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*usage)(FILE *f);		/* its --help, also `vmm help NAME` */
	const char *summary;
};

static int cmd_run(int argc, char **argv);
static int cmd_record(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_probe(int argc, char **argv);

static void usage_main(FILE *f);
static void usage_run(FILE *f);
static void usage_record(FILE *f);
static void usage_probe(FILE *f);

static const struct command commands[] = {
	{ "run", cmd_run, usage_run, "boot a guest kernel" },
	{ "record", cmd_record, usage_record, "boot a guest kernel and record the run into a journal" },
	{ "replay", cmd_replay, usage_replay, "re-execute a recorded run from its journal" },
	{ "hunt", cmd_hunt, usage_hunt, "record chaos runs in parallel until one fails the way asked" },
	{ "journal", cmd_journal, usage_journal, "dump, summarize or compare journals (journal dump|stat|diff)" },
	{ "probe", cmd_probe, usage_probe, "say which KVM this host has and what it can do for replay and gdb" },
	{ "help", cmd_help, usage_main, "show help for vmm or one command" },
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

/* Which parser takes an option, and which --help lists it. */
#define CMD_RUN		1u
#define CMD_RECORD	2u
#define CMD_BOTH	(CMD_RUN | CMD_RECORD)

static const struct cli_opt run_opts[] = {
	{ "memory", 'm', true, required_argument, "SIZE",
	  "guest RAM in MiB, or with a suffix M or G (default 256;\n2 MiB to 3 GiB)", CMD_BOTH, CMD_RUN },
	{ "append", 'a', false, required_argument, "CMDLINE", "kernel command line", CMD_BOTH, CMD_RUN },
	{ "initrd", 'i', false, required_argument, "FILE", "initial ramdisk (Linux) or first module (multiboot)",
	  CMD_BOTH, CMD_RUN },
	{ "serial", 's', false, required_argument, "BACKEND",
	  "where COM1 goes: stdio (default), file:PATH, none.\nOn a terminal, stdio is raw; type Ctrl-A x to quit.",
	  CMD_BOTH, CMD_RUN },
	{ "rtc", 'r', false, required_argument, "SECONDS",
	  "guest wall-clock time at power-on, in seconds since\n1970-01-01 UTC (default: the host's time)",
	  CMD_BOTH, CMD_RUN },
	{ "rng", 'R', false, no_argument, NULL, "add a virtio-rng device (entropy from the host's getrandom())",
	  CMD_BOTH, CMD_RUN },
	{ "disk", 'D', false, required_argument, "PATH[,ro]",
	  "add a virtio-blk device over the raw image PATH (locked\nwhile in use; ,ro: read-only). --rng and --disk "
	  "repeat,\nup to 8 devices, on PCI slots 1, 2, ... in that order", CMD_BOTH, CMD_RUN },
	{ "console", 'C', false, no_argument, NULL,
	  "add a virtio-console (Linux: hvc0, console=hvc0); its\noutput goes where --serial's does, and the input "
	  "goes to\nit instead of COM1. One at most", CMD_BOTH, CMD_RUN },
	{ "net", 'N', false, required_argument, "BACKEND[,mac=MAC]",
	  "add a virtio-net device (Linux: eth0), repeatable. BACKEND:\n"
	  "udp:[HOST:]PORT[,peer=HOST:PORT]  one Ethernet frame per\n"
	  "  UDP datagram, no privileges needed; HOST defaults to\n"
	  "  127.0.0.1; with peer=, only the peer's datagrams are\n"
	  "  taken; without, frames go to the sender of the last\n"
	  "  datagram received\n"
	  "tap:NAME  the host TAP interface NAME (CAP_NET_ADMIN, or\n"
	  "  one made with ip tuntap add NAME mode tap user $USER)\n"
	  "MAC defaults to 52:54:00:12:34:56, the last byte counting\n"
	  "up for each further --net", CMD_BOTH, CMD_RUN },
	{ "gdb", 'g', false, required_argument, "WHERE",
	  "serve gdb on [HOST:]PORT (host 127.0.0.1) or unix:PATH;\none client at a time, who may attach again later;\n"
	  "hbreak (4 debug registers), break (32, where this KVM\nintercepts int3: vmm probe), watch, rwatch, awatch",
	  CMD_BOTH, CMD_RUN },
	{ "gdb-wait", 'w', false, no_argument, NULL, "with --gdb: wait for gdb before the first instruction",
	  CMD_BOTH, CMD_RUN },
	{ "defer", 'd', false, required_argument, "TIME",
	  "how long a due timer tick, input or virtio completion may\nwait for the guest's next exit before vmm stops "
	  "the guest\nto deliver it: 0, or a number with ns, us, ms or s\n(default 1ms; at most half the PIT period). "
	  "Events placed\nat exits cost replay nothing; 0 delivers at once, as\nhardware would (see README, \"Where "
	  "events land\")", CMD_BOTH, CMD_RUN },
	{ "stats", 'S', false, no_argument, NULL,
	  "print exit counts by kind, and where events were placed,\nwhen the guest stops", CMD_BOTH, CMD_RUN },
	{ "verbose", 'v', true, no_argument, NULL, "say what was loaded where; report unclaimed ports once",
	  CMD_BOTH, CMD_RUN },
	{ "ioeventfd", 'e', false, no_argument, NULL,
	  "virtio notifications signal an eventfd inside KVM\n(KVM_IOEVENTFD) instead of exiting as MMIO writes; each\n"
	  "is taken at the guest's next exit, or by a kick after\n--defer. The default where two or more host CPUs are\n"
	  "free to vmm: on one, a notification waits for the guest\nto sleep", CMD_BOTH, CMD_RUN },
	{ "no-ioeventfd", 'E', false, no_argument, NULL,
	  "every virtio notification is an MMIO exit (the default on\none host CPU)", CMD_BOTH, CMD_RUN },
	{ "no-sandbox", 'Z', false, no_argument, NULL,
	  "run without the seccomp filter that, once the guest starts,\nstops vmm at any system call it does not make "
	  "(exec, open,\nfork, ...): for debugging vmm itself", CMD_BOTH, CMD_RUN },
	{ "output", 'o', true, required_argument, "JOURNAL",
	  "where to write (default vmm-YYYYMMDD-HHMMSS.vrr here)", CMD_RECORD, CMD_RECORD },
	{ "force", 'f', false, no_argument, NULL, "overwrite JOURNAL if it exists", CMD_RECORD, CMD_RECORD },
	{ "quiet", 'q', true, no_argument, NULL,
	  "no status line (shown on a terminal that the guest's serial\noutput does not go to: guest time, events, "
	  "rate)", CMD_RECORD, CMD_RECORD },
	{ "fsync", 'F', false, no_argument, NULL,
	  "put each journal frame on disk (fdatasync) as it ends, so a\npower loss keeps what a SIGKILL would (the "
	  "journal is written\nout every 100 ms of guest time either way)", CMD_RECORD, CMD_RECORD },
	{ "chaos", 'X', false, optional_argument, "SEED",
	  "perturb when asynchronous work reaches the guest, from a\nseeded generator (default seed: random; it goes "
	  "into the\njournal): timer ticks come up to a quarter period late,\nhalf of the events are delivered at once "
	  "wherever the guest\nis (inside exit-less stretches too), virtio completions,\ninput and received frames are "
	  "held back up to 2 ms. The\nrun is recorded exactly; replay needs no seed. For finding\nrare interleavings "
	  "(vmm hunt)", CMD_BOTH, CMD_RECORD },
	{ "help", 'h', true, no_argument, NULL, "show this help", CMD_BOTH, CMD_BOTH },
};
#define RUN_OPTS (sizeof(run_opts) / sizeof(run_opts[0]))

static void usage_run(FILE *f)
{
	fprintf(f, "usage: vmm run [options] KERNEL\n\n"
		   "Boot KERNEL in a new virtual machine: a multiboot v1 ELF kernel, a Linux\n"
		   "bzImage (boot protocol 2.06+) or a Linux vmlinux with a PVH entry note.\n"
		   "No firmware runs; the kernel is entered directly in 32-bit protected mode.\n\n"
		   "options:\n");
	cli_opts_help(f, run_opts, RUN_OPTS, CMD_RUN);
	fprintf(f,
		"\nexit status:\n"
		"  N    the guest wrote N to the debug-exit port 0xf4 (outl(code, 0xf4): code & 0xff)\n"
		"  %d  the guest halted for good (hlt with interrupts off): Linux poweroff\n"
		"  %d  the guest asked for a reset (i8042 0xfe, port 0xcf9, port 0x92)\n"
		"  %d  the guest triple-faulted\n"
		"  %d  vmm error (bad input file, KVM failure, instruction KVM cannot emulate)\n"
		"  %d    bad command line\n"
		"  128+N stopped by signal N (SIGINT, SIGTERM); 0 after Ctrl-A x\n",
		VMM_EXIT_POWEROFF, VMM_EXIT_RESET, VMM_EXIT_TRIPLE_FAULT, VMM_EXIT_ERROR, VMM_EXIT_USAGE);
}

static void usage_record(FILE *f)
{
	fprintf(f, "usage: vmm record [-o JOURNAL] [--force] [--fsync] [run options] KERNEL\n\n"
		   "Run KERNEL as `vmm run` does and record the run into JOURNAL, a zstd file\n"
		   "(docs/journal.md) that `vmm replay` re-executes exactly.\n\n"
		   "options:\n");
	cli_opts_help(f, run_opts, RUN_OPTS, CMD_RECORD);
	fprintf(f, "  and every option of `vmm run` (see vmm run --help).\n\n"
		   "Exit status as for vmm run.\n");
}

/* "0", or a number with ns, us, ms or s, up to 10 s. */
static int parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
	};
	unsigned long long v;
	char *end;

	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			if (v > 10000000000ull / units[i].ns)
				return -ERANGE;
			*ns = v * units[i].ns;
			return 0;
		}
	return -EINVAL;
}

static int parse_memory(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;	/* strtoull would take "-1" as a huge number */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'G' || *end == 'g') {
		if (v > (BOOT_MEM_MAX >> 30))
			return -ERANGE;	/* before multiplying: 18014398509481985G wrapped to 1G */
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

/* Host CPUs this process may run on (before record pins it to one). */
static int cli_cpus(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) < 0 ? 1 : CPU_COUNT(&set);
}

/*
 * --net BACKEND[,mac=MAC]: the MAC comes off the end; the backend is checked
 * when it is opened. The default MAC counts up from 52:54:00:12:34:56 (QEMU's).
 */
static int parse_net(char *arg, const struct virtio_spec *prev, unsigned n_prev, struct virtio_spec *v)
{
	char *mac = strstr(arg, ",mac=");
	unsigned nets = 0;

	for (unsigned i = 0; i < n_prev; i++)
		nets += !strcmp(prev[i].kind, "net");
	memcpy(v->mac, (const uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + nets) }, 6);
	if (mac) {
		unsigned m[6];
		int used = 0;

		if (sscanf(mac + 5, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &used) != 6 ||
		    used != 17 || mac[5 + used] || (m[0] & 1))
			return -EINVAL;
		for (int i = 0; i < 6; i++)
			v->mac[i] = (uint8_t)m[i];
		*mac = 0;
	}
	if (strncmp(arg, "tap:", 4) != 0 && strncmp(arg, "udp:", 4) != 0)
		return -EINVAL;
	v->net = arg;
	return 0;
}

/* How this process was started: replay re-executes it to go back (reverse execution). */
char **cli_argv;

/* Everything `run` and `record` take from the command line. */
struct run_opts {
	struct vm_config cfg;
	const char *cmdline, *initrd_path, *serial, *kernel_path;
	const char *output;	/* record: journal path */
	const char *gdb;	/* run: where the GDB stub listens */
	bool gdb_wait;
	bool force, fsync, quiet, stats, no_sandbox;
	int ioeventfd;		/* --ioeventfd 1, --no-ioeventfd 0, neither -1 */
};

/*
 * A status line on stderr: only on a terminal, and only where the guest's
 * own serial output does not go to that terminal too (it would break it up).
 */
bool cli_show_progress(const char *serial, bool quiet)
{
	return !quiet && isatty(STDERR_FILENO) && !(!strcmp(serial, "stdio") && isatty(STDOUT_FILENO));
}

/* Returns -1 to go on, else the exit status to return now. */
static int parse_run_opts(int argc, char **argv, bool record, struct run_opts *o)
{
	void (*usage)(FILE *) = record ? usage_record : usage_run;
	struct cli_getopt g;
	int c;

	memset(o, 0, sizeof(*o));
	o->cfg.mem_size = 256ull << 20;
	o->cfg.rtc_epoch = (int64_t)time(NULL);
	o->cmdline = "";
	o->serial = "stdio";
	o->cfg.defer_ns = VM_DEFER_DEFAULT_NS;
	o->ioeventfd = -1;
	if (cli_getopt_init(&g, record ? "record" : "run", record ? "vmm record [options] KERNEL" :
				"vmm run [options] KERNEL", run_opts, RUN_OPTS, record ? CMD_RECORD : CMD_RUN, false) < 0)
		return cli_fail(VMM_EXIT_ERROR, "too many options in the table%s%s", "", "");
	optind = 1;
	while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case 'm':
			if (parse_memory(optarg, &o->cfg.mem_size) < 0)
				return cli_fail(VMM_EXIT_USAGE, "--memory '%s': give MiB from 2 to 3072 (or 1G, 3G)%s",
						  optarg, "");
			break;
		case 'a':
			o->cmdline = optarg;
			break;
		case 'i':
			o->initrd_path = optarg;
			break;
		case 's':
			o->serial = optarg;
			break;
		case 'r': {
			char *end;

			errno = 0;
			o->cfg.rtc_epoch = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || o->cfg.rtc_epoch < 0)
				return cli_fail(VMM_EXIT_USAGE, "--rtc '%s': give seconds since 1970%s", optarg, "");
			break;
		}
		case 'S':
			o->stats = true;
			break;
		case 'd':
			if (parse_duration(optarg, &o->cfg.defer_ns) < 0)
				return cli_fail(VMM_EXIT_USAGE, "--defer '%s': give 0, or a number with ns, us, ms or s "
						  "(at most 10s)%s", optarg, "");
			break;
		case 'g':
		case 'w':
			if (record)
				return cli_fail(VMM_EXIT_USAGE, "--gdb is for vmm run only, for now%s%s", "", "");
			if (c == 'g')
				o->gdb = optarg;
			else
				o->gdb_wait = true;
			break;
		case 'R':
		case 'C':
		case 'N':
		case 'D': {
			struct virtio_spec *v = &o->cfg.virtio[o->cfg.n_virtio];

			if (o->cfg.n_virtio >= BOARD_VIRTIO_MAX)
				return cli_fail(VMM_EXIT_USAGE, "too many virtio devices (at most 8)%s%s", "", "");
			memset(v, 0, sizeof(*v));
			v->kind = c == 'R' ? "rng" : c == 'C' ? "console" : c == 'N' ? "net" : "blk";
			if (c == 'N' && parse_net(optarg, o->cfg.virtio, o->cfg.n_virtio, v) < 0)
				return cli_fail(VMM_EXIT_USAGE, "--net '%s': want tap:NAME or udp:[HOST:]PORT[,peer=HOST:PORT], "
						  "then [,mac=XX:XX:XX:XX:XX:XX] (a unicast address)%s", optarg, "");
			if (c == 'D') {
				size_t n = strlen(optarg);

				v->path = optarg;
				if (n >= 3 && !strcmp(optarg + n - 3, ",ro")) {
					optarg[n - 3] = 0;
					v->ro = true;
				}
				if (!*optarg)
					return cli_fail(VMM_EXIT_USAGE, "--disk needs PATH[,ro]%s%s", "", "");
			}
			o->cfg.n_virtio++;
			break;
		}
		case 'v':
			o->cfg.verbose = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'F':
			o->fsync = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'e':
		case 'E':
			o->ioeventfd = c == 'e';
			break;
		case 'Z':
			o->no_sandbox = true;
			break;
		case 'X':
			if (!record)
				return cli_fail(VMM_EXIT_USAGE, "--chaos is for vmm record (and vmm hunt)%s%s", "", "");
			o->cfg.chaos = true;
			if (!optarg) {
				if (getrandom(&o->cfg.chaos_seed, sizeof(o->cfg.chaos_seed), 0) !=
				    (ssize_t)sizeof(o->cfg.chaos_seed))
					return cli_fail(VMM_EXIT_ERROR, "--chaos: getrandom: %s%s", strerror(errno), "");
			} else {
				char *end;

				errno = 0;
				o->cfg.chaos_seed = strtoull(optarg, &end, 0);
				if (errno || end == optarg || *end || optarg[0] == '-')
					return cli_fail(VMM_EXIT_USAGE, "--chaos=%s: the seed is a number from 0 to "
							  "2^64-1 (decimal, or hex with 0x)%s", optarg, "");
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return VMM_EXIT_USAGE;	/* cli_getopt_next said what */
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vmm: %s takes exactly one KERNEL%s\n", record ? "record" : "run",
			optind < argc ? " (extra arguments given)" : "");
		cli_usage_hint(&g);
		return VMM_EXIT_USAGE;
	}
	o->kernel_path = argv[optind];
	o->cfg.ioeventfd = o->ioeventfd >= 0 ? o->ioeventfd == 1 : cli_cpus() >= 2;
	return -1;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int run_or_record(int argc, char **argv, bool record)
{
	struct kvm_caps caps;
	struct run_opts o;
	struct cli_files f;
	struct console con;
	struct recorder rec;
	struct gdbstub stub = { .fd = -1, .listen_fd = -1 };
	struct vm *vm;
	char err[BOOT_ERR_LEN + 100], default_name[64];
	struct timespec t0;
	int r, status;
	bool writer_thread = false;	/* record: zstd on a thread of its own */

	if ((status = parse_run_opts(argc, argv, record, &o)) >= 0)
		return status;
	if (console_open(&con, o.serial, err, sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_USAGE, "%s%s", err, "");
	if ((status = cli_load_files(o.kernel_path, o.initrd_path, o.cfg.mem_size, &f)) >= 0) {
		console_close(&con);
		return status;
	}
	o.cfg.console = &con;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		cli_free_files(&f);
		return cli_fail(VMM_EXIT_ERROR, "out of memory%s%s", "", "");
	}
	memset(&rec, 0, sizeof(rec));
	rec.w.fd = -1;
	if ((status = cli_setup_vm(vm, &o.cfg, &f, o.kernel_path, o.cmdline)) >= 0)
		goto out;
	/* gdb is told what this KVM cannot do; the run loop, whether window exits can carry events. */
	kvm_caps_probe(&caps);
	vm->caps = &caps;
	if (record) {
		uint8_t ksha[32], isha[32];
		struct rr_inputs in = { o.kernel_path, o.initrd_path, o.cmdline, f.kernel, f.initrd,
					f.kernel_len, f.initrd_len, o.cfg.mem_size, o.cfg.rtc_epoch, ksha, isha };
		struct journal_header h;

		cli_input_sha256(&f.kernel_id, f.kernel, f.kernel_len, ksha);
		if (f.initrd)
			cli_input_sha256(&f.initrd_id, f.initrd, f.initrd_len, isha);

		if (!o.output) {
			time_t now = time(NULL);

			strftime(default_name, sizeof(default_name), "vmm-%Y%m%d-%H%M%S.vrr", localtime(&now));
			o.output = default_name;
		}
		rr_make_header(&h, &in, VMM_VERSION);
		board_describe(&vm->board, h.board, sizeof(h.board));
		h.defer_ns = o.cfg.defer_ns;
		h.ioeventfd = vm->ioev.n > 0;	/* the KVM may have lacked it */
		h.chaos = o.cfg.chaos;
		h.chaos_seed = o.cfg.chaos_seed;
		/* vm_run pins the vCPU thread once its helpers run: they keep every CPU vmm may use. */
		h.host_cpu = vm->pin_cpu = sched_getcpu();
		if (recorder_open(&rec, vm, o.output, o.force, o.fsync, &h, err, sizeof(err)) < 0) {
			status = cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
			goto out;
		}
		/*
		 * zstd on a thread of its own where it can run beside the guest; on one
		 * CPU it could only take turns with the vCPU thread, a switch each way.
		 */
		writer_thread = cli_cpus() >= 2;
		if (writer_thread && (r = journal_writer_start_thread(&rec.w)) < 0) {
			status = cli_fail(VMM_EXIT_ERROR, "starting the journal writer thread: %s%s", strerror(-r), "");
			goto out;
		}
		rec.progress = cli_show_progress(o.serial, o.quiet);
	}
	cli_free_files(&f);
	if (o.gdb_wait && !o.gdb) {
		status = cli_fail(VMM_EXIT_USAGE, "--gdb-wait needs --gdb%s%s", "", "");
		goto out;
	}
	if (o.gdb) {
		if (gdbstub_open(&stub, o.gdb, err, sizeof(err)) < 0) {
			status = cli_fail(VMM_EXIT_USAGE, "%s%s", err, "");
			goto out;
		}
		vm->debugger = &gdbstub_debugger;
		vm->debugger_ctx = &stub;
		if (o.gdb_wait) {
			fprintf(stderr, "vmm: waiting for gdb on %s (in gdb: target remote %s%s)\n", o.gdb,
				strchr(o.gdb, ':') ? "" : "localhost:", strncmp(o.gdb, "unix:", 5) ? o.gdb : o.gdb + 5);
			/* SIGINT and SIGTERM end the wait (and remove a unix socket) like a run. */
			if (vm_signals_init(vm, err, sizeof(err)) < 0) {
				status = cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
				goto out;
			}
			if ((r = gdbstub_accept(&stub, err, sizeof(err))) < 0 ||
			    (r = gdbstub_stop(&stub, vm, 0)) < 0) {
				status = r == -EINTR ? VMM_EXIT_SIGNAL_BASE + vm_stop_signal()
						     : cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
				goto out;
			}
			if (vm->stop == VM_STOP_SIGNAL) {
				status = VMM_EXIT_SIGNAL_BASE + vm->signal;
				goto out;
			}
		}
	}
	if (!o.no_sandbox && (r = cli_enter_sandbox(vm, o.gdb, err, sizeof(err))) < 0) {
		status = cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = vm_run(vm, err, sizeof(err));
	console_close(&con);
	if (r < 0)
		fprintf(stderr, "vmm: %s\n", err);
	else if (cli_stop_message(vm))
		fprintf(stderr, "vmm: %s\n", cli_stop_message(vm));
	status = cli_stop_status(vm);
	if (o.gdb)
		gdbstub_exited(&stub, status);
	if (record) {
		uint64_t records = rec.w.records, bytes;

		if ((r = recorder_close(&rec, vm, vm->stop != VM_STOP_ERROR)) < 0) {
			fprintf(stderr, "vmm: journal '%s': %s\n", o.output, strerror(-r));
			status = VMM_EXIT_ERROR;
		}
		bytes = rec.w.file_bytes;
		fprintf(stderr, "vmm: recorded %llu events (%llu exits, %llu landmarks) in '%s', %llu bytes",
			(unsigned long long)records + 1, (unsigned long long)vm->exit_count,
			(unsigned long long)rec.rr.landmarks, o.output, (unsigned long long)bytes);
		if (o.cfg.chaos)
			fprintf(stderr, ", chaos seed %llu", (unsigned long long)o.cfg.chaos_seed);
		fputc('\n', stderr);
	}
	if (o.stats)
		vm_print_stats(vm, elapsed(&t0));
	if (o.stats && record)
		fprintf(stderr, "vmm: journal writer: %llu frames compressed and written in %.3f s %s; "
			"the recorder waited %.3f s for it; %llu frames stored as they were (zstd could not shrink them)\n",
			(unsigned long long)rec.w.frames, (double)rec.w.busy_ns / 1e9,
			writer_thread ? "on its own thread" : "by the vCPU thread (one CPU)", (double)rec.w.stall_ns / 1e9,
			(unsigned long long)rec.w.stored);
out:
	gdbstub_close(&stub);
	if (record && rec.w.fd >= 0)
		recorder_close(&rec, vm, false);
	console_close(&con);
	cli_free_files(&f);
	vm_destroy(vm);
	free(vm);
	return status;
}

static int cmd_run(int argc, char **argv)
{
	return run_or_record(argc, argv, false);
}

static int cmd_record(int argc, char **argv)
{
	return run_or_record(argc, argv, true);
}

static void usage_probe(FILE *f)
{
	fprintf(f,
		"usage: vmm probe\n\n"
		"Run a few instructions in a tiny VM to find out what this host's KVM does with\n"
		"guest debugging, and print one line per finding:\n"
		"  kvm                         the module (kvm_intel, kvm_amd, kvm_pvm), and the\n"
		"                              hypervisor under it when the host is itself a VM\n"
		"  single-step                 KVM_GUESTDBG_SINGLESTEP stops after each instruction\n"
		"  debug-register breakpoints  hbreak, and replay's landmark hunts\n"
		"  int3 intercepted            break (software breakpoints)\n"
		"  interrupt-window exits      exact: an interrupt held back by IF=0 enters right\n"
		"                              after sti's shadow\n\n"
		"exit status: 0, or %d when /dev/kvm cannot be used (the reason is printed)\n",
		VMM_EXIT_ERROR);
}

static int cmd_probe(int argc, char **argv)
{
	struct kvm_caps caps;
	char text[768];

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage_probe(stdout);
		return 0;
	}
	if (argc >= 2) {
		fprintf(stderr, "vmm probe: unexpected argument '%s'\n", argv[1]);
		usage_probe(stderr);
		return VMM_EXIT_USAGE;
	}
	kvm_caps_probe(&caps);
	kvm_caps_describe(&caps, text, sizeof(text));
	fputs(text, stdout);
	return caps.why[0] ? VMM_EXIT_ERROR : 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stdout);
		return 0;
	}
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			commands[i].usage(stdout);
			return 0;
		}
	fprintf(stderr, "vmm: help: no command '%s'\n", argv[1]);
	usage_main(stderr);
	return VMM_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	cli_argv = argv;
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
