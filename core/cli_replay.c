/* vmm replay: its options, and re-executing a journal, with gdb or without. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "boot.h"
#include "cli.h"
#include "cli_opt.h"
#include "console.h"
#include "kvm_caps.h"
#include "status.h"
#include "vm.h"
#include "../gdbstub/gdbstub.h"
#include "../replay/hash.h"
#include "../replay/pack.h"
#include "../replay/rr.h"
#include "../replay/snapshot.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const struct cli_opt replay_opts[] = {
	{ "kernel", 'k', false, required_argument, "FILE", "the kernel, instead of the path in the journal", 1, 1 },
	{ "initrd", 'i', false, required_argument, "FILE", "the initrd, instead of the path in the journal", 1, 1 },
	{ "force", 'f', false, no_argument, NULL, "replay even if an input file's SHA-256 differs", 1, 1 },
	{ "serial", 's', false, required_argument, "BACKEND",
	  "where the guest's serial output goes: stdio (default),\nfile:PATH, none; input comes from the journal", 1, 1 },
	{ "verify", 'V', false, no_argument, NULL,
	  "fail (status " STR(VMM_EXIT_DIVERGENCE) ") if the final state digest differs", 1, 1 },
	{ "gdb", 'g', false, required_argument, "WHERE",
	  "serve gdb on [HOST:]PORT (host 127.0.0.1) or unix:PATH:\nwait for it before the first event, then replay as "
	  "it\ncontinues and steps, forward and backward (reverse-\ncontinue, reverse-stepi: replay runs again from "
	  "the\nnewest snapshot before the point, output shown once);\nbreakpoints (hbreak: 2, replay keeps 2 debug "
	  "registers;\nbreak: 32, where this KVM intercepts int3), watchpoints\n(watch, rwatch, awatch); memory and "
	  "registers are\nread-only; the end of the journal is a stop;\n'monitor help' lists the replay's commands",
	  1, 1 },
	{ "goto", 'G', false, required_argument, "EVENT|end",
	  "first replay to the point where EVENT events are replayed\n(vmm journal dump numbers records; monitor when "
	  "says\nwhere gdb is), then: with --gdb, wait for gdb there\ninstead of before the first event; without, stop "
	  "and\nprint the registers (status 0); 'end': the end", 1, 1 },
	{ "snapshot-interval", 'S', false, required_argument, "SECONDS",
	  "with --gdb: fork a copy-on-write snapshot of the\nreplay every SECONDS of replaying (default 1; at most\n"
	  STR(SNAP_MAX) " are kept, thinned out evenly); 0: none, going back\nreplays from the start", 1, 1 },
	{ "patience", 'P', false, required_argument, "SECONDS",
	  "how long replay looks for one landmark (an interrupt's\nposition between exits) before it reports a divergence\n"
	  "that names it (default " STR(LANDMARK_STEP_PATIENCE_S) "; where debug registers\nwork, "
	  STR(LANDMARK_PATIENCE_S) " while no breakpoint at its rip has fired);\nan exit is waited for this long, "
	  "and at least " STR(EXIT_WAIT_FACTOR) "\ntimes as long as the recording took to reach it", 1, 1 },
	{ "quiet", 'q', true, no_argument, NULL,
	  "no status line (shown on a terminal that the guest's serial\noutput does not go to: percent of the journal, "
	  "counts,\ntime left)", 1, 1 },
	{ "verbose", 'v', true, no_argument, NULL, "say what was loaded where", 1, 1 },
	{ "no-sandbox", 'Z', false, no_argument, NULL,
	  "replay without the seccomp filter (on unless --gdb: going\nback forks and re-executes replay)", 1, 1 },
	{ "help", 'h', true, no_argument, NULL, "show this help", 1, 1 },
};
#define REPLAY_OPTS (sizeof(replay_opts) / sizeof(replay_opts[0]))

void usage_replay(FILE *f)
{
	fprintf(f, "usage: vmm replay [options] JOURNAL\n\n"
		   "Re-execute the run recorded in JOURNAL: the same guest, the same inputs at the\n"
		   "same instructions. Every exit is checked against the journal; the first\n"
		   "difference stops replay with a divergence report. A disk image is never\n"
		   "opened: every byte the guest read from it is in the journal. The kernel and\n"
		   "initrd must have the SHA-256s the journal holds; vmm remembers a file's digest\n"
		   "by its identity (device, inode, size, times) in $VMM_CACHE_DIR (default\n"
		   "~/.cache/vmm; empty: off), so an unchanged file is not hashed again.\n\n"
		   "options:\n");
	cli_opts_help(f, replay_opts, REPLAY_OPTS, 1);
	fprintf(f, "\nexit status: the recorded run's status; %d on divergence; %d on error;\n"
		   "0 when gdb killed the replay before its end (a detached one runs to its end).\n",
		VMM_EXIT_DIVERGENCE, VMM_EXIT_ERROR);
}


static int board_from_header(const char *board, struct vm_config *cfg)
{
	static const char legacy[] = "pic,pit,i8042,port61,rtc,post,port92,debug-exit,com1,elcr,pci;1";
	const char *p = board + sizeof(legacy) - 1;

	if (strncmp(board, legacy, sizeof(legacy) - 1) != 0)
		return -EINVAL;
	while (*p) {
		struct virtio_spec *v = &cfg->virtio[cfg->n_virtio];

		if (strncmp(p, ";virtio-", 8) != 0 || cfg->n_virtio >= BOARD_VIRTIO_MAX)
			return -EINVAL;
		p += 8;
		memset(v, 0, sizeof(*v));
		if (!strncmp(p, "rng", 3) && (p[3] == ';' || !p[3])) {
			v->kind = "rng";
			p += 3;
		} else if (!strncmp(p, "console", 7) && (p[7] == ';' || !p[7])) {
			v->kind = "console";
			p += 7;
		} else if (!strncmp(p, "net=", 4)) {
			unsigned m[6];
			int used = 0;

			v->kind = "net";
			if (sscanf(p + 4, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
				   &used) != 6 || used != 17)
				return -EINVAL;
			for (int i = 0; i < 6; i++)
				v->mac[i] = (uint8_t)m[i];
			p += 4 + used;
			if (*p && *p != ';')
				return -EINVAL;
		} else if (!strncmp(p, "blk=", 4)) {
			char *end;

			errno = 0;
			v->kind = "blk";
			v->sectors = strtoull(p + 4, &end, 10);
			if (errno || end == p + 4 || !v->sectors)
				return -EINVAL;
			p = end;
			if (!strncmp(p, ",ro", 3)) {
				v->ro = true;
				p += 3;
			}
			if (*p && *p != ';')
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		cfg->n_virtio++;
	}
	return 0;
}

static int status_of(uint8_t stop, uint32_t code, int signal)
{
	struct vm v = { .stop = (enum vm_stop)stop, .exit_code = code, .signal = signal };

	return cli_stop_status(&v);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d)
		memcpy(d, p, n);
	return d;
}

/* An input named by the journal, or overridden: it must hash as recorded unless forced. */
static int check_input(const char *what, const char *path, const uint8_t *want, const uint8_t *data, size_t len,
		       const struct file_id *id, bool force)
{
	uint8_t got[32];

	cli_input_sha256(id, data, len, got);
	if (memcmp(got, want, 32) == 0)
		return 0;
	if (force) {
		fprintf(stderr, "vmm: warning: %s '%s' differs from the recorded one; replaying anyway (--force)\n",
			what, path);
		return 0;
	}
	fprintf(stderr, "vmm: %s '%s' is not the one recorded (SHA-256 differs); give the right file "
		"or --force to replay anyway\n", what, path);
	return -1;
}

/*
 * Going back from the start: this program again, as it was started, with the
 * goal in VMM_REPLAY_RESUME and gdb's connection left open across the exec.
 * Returns only on failure, said.
 */
static void reexec(const char *resume, int gdb_fd)
{
	int flags;

	if (setenv("VMM_REPLAY_RESUME", resume, 1) < 0 || (flags = fcntl(gdb_fd, F_GETFD)) < 0 ||
	    fcntl(gdb_fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
		fprintf(stderr, "vmm: cannot re-execute for reverse execution: %s\n", strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	execv("/proc/self/exe", cli_argv);
	fprintf(stderr, "vmm: cannot re-execute for reverse execution: %s\n", strerror(errno));
}

int cmd_replay(int argc, char **argv)
{
	const char *kernel = NULL, *initrd = NULL, *serial = "stdio", *gdb = NULL, *resume_text;
	struct pack_input packed[2];
	char kernel_label[PACK_NAME_MAX + 16], initrd_label[PACK_NAME_MAX + 16];
	int kp = 0, ip = 0;
	double snapshot_interval = 1.0;
	unsigned long ul;
	char *end;
	struct replay_resume resume;
	struct kvm_caps caps;
	struct replay_ctl ctl = { 0 };
	struct gdbstub stub;
	bool force = false, verify = false, verbose = false, quiet = false, no_sandbox = false;
	struct journal_header *h;
	struct journal_reader jr;
	struct replay_result res = { 0 };
	struct cli_files f;
	struct vm_config cfg;
	struct console con;
	struct vm *vm = NULL;
	char err[BOOT_ERR_LEN + 200];
	struct cli_getopt g;
	int c, r, status = VMM_EXIT_ERROR;

	if (cli_getopt_init(&g, "replay", "vmm replay [options] JOURNAL", replay_opts, REPLAY_OPTS, 1, false) < 0)
		return cli_fail(VMM_EXIT_ERROR, "too many options in the table%s%s", "", "");
	optind = 1;
	while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 's': serial = optarg; break;
		case 'f': force = true; break;
		case 'V': verify = true; break;
		case 'v': verbose = true; break;
		case 'q': quiet = true; break;
		case 'Z': no_sandbox = true; break;
		case 'g': gdb = optarg; break;
		case 'S':
			errno = 0;
			snapshot_interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(snapshot_interval >= 0 && snapshot_interval <= 86400))
				return cli_fail(VMM_EXIT_USAGE, "--snapshot-interval '%s': not a number of seconds "
						  "from 0 to 86400%s", optarg, "");
			break;
		case 'P':
			errno = 0;
			ul = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !isdigit((unsigned char)optarg[0]) || ul < 1 || ul > 86400)
				return cli_fail(VMM_EXIT_USAGE, "--patience '%s': not a number of seconds from 1 to "
						  "86400%s", optarg, "");
			ctl.patience = (unsigned)ul;
			break;
		case 'G':
			ctl.go_to = true;
			errno = 0;
			if (!strcmp(optarg, "end"))
				ctl.go_to_events = UINT64_MAX;
			else if (!isdigit((unsigned char)optarg[0]) ||
				 ((ctl.go_to_events = strtoull(optarg, &end, 10)), errno || *end))
				return cli_fail(VMM_EXIT_USAGE, "--goto '%s': give an event number or 'end'%s",
						  optarg, "");
			break;
		case 'h': usage_replay(stdout); return 0;
		default: return VMM_EXIT_USAGE;	/* cli_getopt_next said what */
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vmm: replay takes exactly one JOURNAL\n");
		cli_usage_hint(&g);
		return VMM_EXIT_USAGE;
	}
	/*
	 * gdb went back: this process is the replay re-executed from the start
	 * (replay.c, replay_exec), toward the point described here, with the
	 * client's connection still open. Output shown before stays.
	 */
	if ((resume_text = getenv("VMM_REPLAY_RESUME"))) {
		if (!gdb || replay_resume_parse(resume_text, &resume) < 0 || gdbstub_restore(&stub, resume.gdb) < 0)
			return cli_fail(VMM_EXIT_ERROR, "VMM_REPLAY_RESUME: not a state this vmm left%s%s", "", "");
		unsetenv("VMM_REPLAY_RESUME");
		fcntl(stub.fd, F_SETFD, FD_CLOEXEC);
	}
	if ((resume_text ? console_open_keep : console_open)(&con, serial, err, sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_USAGE, "%s%s", err, "");
	h = calloc(1, sizeof(*h));
	if (!h)
		return cli_fail(VMM_EXIT_ERROR, "out of memory%s%s", "", "");
	if (journal_reader_open(&jr, argv[optind], h, err, sizeof(err)) < 0) {
		free(h);
		return cli_fail(VMM_EXIT_ERROR, "%s: %s", argv[optind], err);
	}
	/* A packed journal carries its kernel and initrd: used unless others are given. */
	if (!kernel && (kp = pack_find(&jr, PACK_KERNEL, &packed[0], err, sizeof(err))) < 0) {
		fprintf(stderr, "vmm: %s: %s\n", argv[optind], err);
		goto out_reader;
	}
	if (!initrd && h->has_initrd && (ip = pack_find(&jr, PACK_INITRD, &packed[1], err, sizeof(err))) < 0) {
		fprintf(stderr, "vmm: %s: %s\n", argv[optind], err);
		goto out_reader;
	}
	if (kp) {
		snprintf(kernel_label, sizeof(kernel_label), "%s (packed)", packed[0].name);
		kernel = kernel_label;
	}
	if (ip) {
		snprintf(initrd_label, sizeof(initrd_label), "%s (packed)", packed[1].name);
		initrd = initrd_label;
	}
	if (!kernel)
		kernel = h->kernel_path;
	if (!initrd && h->has_initrd)
		initrd = h->initrd_path;
	if (!!initrd != h->has_initrd) {
		fprintf(stderr, "vmm: the journal was recorded %s an initrd\n", h->has_initrd ? "with" : "without");
		goto out_reader;
	}
	if (h->mem_size < BOOT_MEM_MIN || h->mem_size > BOOT_MEM_MAX) {
		fprintf(stderr, "vmm: %s: header names %llu bytes of memory, outside what vmm supports\n",
			argv[optind], (unsigned long long)h->mem_size);
		goto out_reader;
	}
	if ((status = cli_load_files(kp ? NULL : kernel, ip ? NULL : initrd, h->mem_size, &f)) >= 0)
		goto out_reader;
	status = VMM_EXIT_ERROR;
	if ((kp && !(f.kernel = dup_bytes(packed[0].data, f.kernel_len = packed[0].len))) ||
	    (ip && !(f.initrd = dup_bytes(packed[1].data, f.initrd_len = packed[1].len)))) {
		fprintf(stderr, "vmm: out of memory\n");
		goto out_files;
	}
	if (check_input("kernel", kernel, h->kernel_sha256, f.kernel, f.kernel_len, &f.kernel_id, force) < 0 ||
	    (initrd && check_input("initrd", initrd, h->initrd_sha256, f.initrd, f.initrd_len, &f.initrd_id, force) < 0))
		goto out_files;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mem_size = h->mem_size;
	cfg.rtc_epoch = h->rtc_epoch;
	cfg.verbose = verbose;
	cfg.replay = true;
	cfg.ioeventfd = h->ioeventfd;
	cfg.inject_at_sti_hlt = h->version < 5;
	cfg.console = &con;
	if (h->host_cpu >= 0 && (r = cli_pin_to_cpu(h->host_cpu)) < 0)
		fprintf(stderr, "vmm: warning: cannot run on host CPU %d as the recording did (%s); a guest whose "
			"user code runs CPUID may diverge on KVMs that do not trap it there (kvm_pvm)\n",
			h->host_cpu, strerror(-r));
	if (board_from_header(h->board, &cfg) < 0) {
		fprintf(stderr, "vmm: %s: the journal's board '%s' is not one this vmm builds\n", argv[optind], h->board);
		goto out_files;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		goto out_files;
	if ((r = cli_setup_vm(vm, &cfg, &f, kernel, h->cmdline)) >= 0) {
		status = r;
		goto out_vm;
	}
	kvm_caps_probe(&caps);	/* how landmarks can be found on this KVM */
	vm->caps = &caps;
	cli_free_files(&f);
	if (gdb && !resume_text) {
		if (gdbstub_open(&stub, gdb, err, sizeof(err)) < 0) {
			status = cli_fail(VMM_EXIT_USAGE, "%s%s", err, "");
			goto out_vm;
		}
		struct pack_input sym;
		bool packed_sym = pack_find(&jr, PACK_SYMBOLS, &sym, err, sizeof(err)) > 0;

		fprintf(stderr, "vmm: replay paused before event 0, waiting for gdb on %s; attach with:\n"
			"  gdb -ex 'target remote %s%s' %s\n", gdb, strchr(gdb, ':') ? "" : "localhost:",
			strncmp(gdb, "unix:", 5) ? gdb : gdb + 5,
			packed_sym ? sym.name : kp ? packed[0].name : kernel);
		if (kp || packed_sym)
			fprintf(stderr, "  (vmm journal unpack %s writes the packed files here)\n", argv[optind]);
	}
	ctl.gdb = gdb ? &stub : NULL;
	ctl.resume = resume_text ? &resume : NULL;
	ctl.argv = cli_argv;
	ctl.snapshot_interval = snapshot_interval;
	ctl.journal_version = h->version;
	/*
	 * Under gdb, replay forks snapshots and may re-execute itself to go
	 * back: that replay runs without the filter (README, "The sandbox").
	 */
	if (!no_sandbox && !gdb && (r = cli_enter_sandbox(vm, NULL, err, sizeof(err))) < 0) {
		status = cli_fail(VMM_EXIT_ERROR, "%s%s", err, "");
		goto out_vm;
	}
	r = replay_run(vm, &jr, cli_show_progress(serial, quiet), &ctl, &res, err, sizeof(err));
	if (res.then == REPLAY_THEN_VANISH)
		_exit(0);	/* a fork of a snapshot, replaced by another: the first process's exit handlers are not its own */
	if (res.then == REPLAY_THEN_EXEC)
		reexec(res.resume, stub.fd);	/* returns only on failure */
	console_close(&con);
	if (res.then) {
		/* A snapshot replays on and has gdb (snap_wait, below, gives its status), or the exec failed. */
		status = VMM_EXIT_ERROR;
		if (gdb)
			gdbstub_close(&stub);
	} else if (res.killed) {
		fprintf(stderr, "replay: ended by gdb at event %llu\n", (unsigned long long)res.events);
		status = 0;
	} else if (res.diverged) {
		status = VMM_EXIT_DIVERGENCE;
	} else if (r == 0 && res.stopped_at_goto) {
		struct kvm_regs regs;

		fprintf(stderr, "replay: stopped at event %llu (--goto), %llu exits, %llu landmarks in\n",
			(unsigned long long)res.events, (unsigned long long)res.exits,
			(unsigned long long)res.landmarks);
		if (vm_get_regs(vm, &regs) == 0)
			rr_print_regs(stderr, &regs);
		status = 0;
	} else if (r < 0) {
		fprintf(stderr, "vmm: %s: %s\n", argv[optind], err);
		status = r == -EINTR ? VMM_EXIT_SIGNAL_BASE + vm_stop_signal() : VMM_EXIT_ERROR;
	} else if (!res.ended) {
		fprintf(stderr, "replay: %llu events; the journal ends without an end record at offset %llu "
			"(the recording was cut short)\n", (unsigned long long)res.events,
			(unsigned long long)(jr.truncated ? jr.truncated_at : jr.size));
		status = 0;
	} else {
		char planted[512] = "";
		size_t n = 0;

		if (res.landmark_plants)
			n += (size_t)snprintf(planted + n, sizeof(planted) - n, ", %llu by a planted HLT",
					      (unsigned long long)res.landmark_plants);
		if (res.landmark_states)
			n += (size_t)snprintf(planted + n, sizeof(planted) - n, ", %llu by state, not run to",
					      (unsigned long long)res.landmark_states);
		if (res.landmark_pages)
			n += (size_t)snprintf(planted + n, sizeof(planted) - n, " (%llu with the journal's pages)",
					      (unsigned long long)res.landmark_pages);
		if (res.landmark_reps)
			n += (size_t)snprintf(planted + n, sizeof(planted) - n, ", %llu inside a rep string",
					      (unsigned long long)res.landmark_reps);
		if (res.rep_runs)
			n += (size_t)snprintf(planted + n, sizeof(planted) - n, ", %llu rep strings run by vmm",
					      (unsigned long long)res.rep_runs);
		if (res.landmark_shadows)
			n += (size_t)snprintf(planted + n, sizeof(planted) - n, ", %llu with an interrupt shadow restored",
					      (unsigned long long)res.landmark_shadows);
		if (res.landmark_skips && n < sizeof(planted))
			snprintf(planted + n, sizeof(planted) - n, "; %llu user-mode stretches run to a kernel entry",
				 (unsigned long long)res.landmark_skips);
		char windows[64] = "";

		if (res.window_exits)
			snprintf(windows, sizeof(windows), " and %llu window exits",
				 (unsigned long long)res.window_exits);
		fprintf(stderr, "replay: %llu events, %llu exits, %llu landmarks%s (%llu breakpoint hits, %llu found "
			"by kicks%s), %llu checkpoints verified, final state %s\n", (unsigned long long)res.events,
			(unsigned long long)res.exits, (unsigned long long)res.landmarks, windows,
			(unsigned long long)res.landmark_hits, (unsigned long long)res.landmark_kicks, planted,
			(unsigned long long)res.checkpoints,
			res.digest_match ? "matches" : "DIFFERS from the recording");
		status = verify && !res.digest_match ? VMM_EXIT_DIVERGENCE
						     : status_of(res.end_stop, res.end_code, res.end_signal);
	}
	if (gdb && !res.then) {
		if (!res.killed)
			gdbstub_exited(&stub, status);
		gdbstub_close(&stub);
	}
out_vm:
	vm_destroy(vm);
	free(vm);
out_files:
	cli_free_files(&f);
out_reader:
	journal_reader_close(&jr);
	free(h);
	console_close(&con);
	if (res.then == REPLAY_THEN_WAIT)
		status = snap_wait();	/* with the VM and gdb let go of */
	free(res.resume);
	return snap_finish(status);	/* a replay that went back by a snapshot ends in another process */
}

