/* vmm hunt: record chaos runs, several at a time, until one ends the way the user asked. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opt.h"
#include "status.h"

#define HUNT_JOBS_MAX 256
#define HUNT_OUTPUT_MAX (64u << 20)	/* what --until-output searches of one run's output */
#define HUNT_KILL_GRACE_S 10		/* after SIGINT, a run has this long to close its journal */

struct hunt_opts {
	unsigned long runs, jobs;
	bool status_any, has_status, has_output, has_timeout;
	int status;
	regex_t output;
	double timeout_s;
	const char *keep;
	uint64_t seed;
	bool verbose, quiet;
	char **rec_args;
	int n_rec_args;
};

struct hunt_run {
	pid_t pid;
	unsigned long index;
	uint64_t seed;
	double start;
	bool interrupted;		/* hunt sent SIGINT: its timeout, or the hunt is over */
	bool timed_out;
	char base[PATH_MAX];		/* DIR/run-SEED: .vrr, .out, .log */
};

struct hunt {
	struct hunt_opts o;
	char self[PATH_MAX];
	struct hunt_run run[HUNT_JOBS_MAX];
	unsigned running;
	unsigned long started, done, hits;
	double t0;
	bool tty;
	char hit_base[PATH_MAX], pass_base[PATH_MAX];
	char hit_why[200];
	uint64_t hit_seed;
	unsigned long hit_index;
};

static volatile sig_atomic_t hunt_signal;

static void on_signal(int sig)
{
	hunt_signal = sig;
}

static const struct cli_opt hunt_opts[] = {
	{ "runs", 'n', true, required_argument, "N", "record at most N runs (default 100)", 1, 1 },
	{ "jobs", 'j', true, required_argument, "J", "J runs at a time (default: the number of CPUs online)", 1, 1 },
	{ "until-status", 'S', false, required_argument, "S",
	  "a run fails when vmm record exits with status S: a number,\nor 'nonzero' (the default when no --until-* is "
	  "given)", 1, 1 },
	{ "until-output", 'O', false, required_argument, "REGEX",
	  "a run fails when the guest's serial output has a line\nmatching REGEX (POSIX extended, as grep -E)", 1, 1 },
	{ "until-timeout", 'T', false, required_argument, "SECONDS",
	  "a run fails when it has not ended after SECONDS (a hang):\nit is stopped with SIGINT, which closes its "
	  "journal.\nThe --until-* options combine: any one makes a run fail", 1, 1 },
	{ "keep", 'k', false, required_argument, "DIR",
	  "where journals go (default hunt-YYYYMMDD-HHMMSS here):\nDIR/fail-SEED.vrr and DIR/pass-SEED.vrr at the end, "
	  "each\nwith .out (guest serial) and .log (vmm's stderr)", 1, 1 },
	{ "seed", 's', false, required_argument, "S",
	  "chaos seeds are S+1, S+2, ... (default: random), so that\nhunts on several machines can take disjoint seeds",
	  1, 1 },
	{ "verbose", 'v', true, no_argument, NULL, "a line per finished run", 1, 1 },
	{ "quiet", 'q', true, no_argument, NULL, "no progress line on a terminal", 1, 1 },
	{ "help", 'h', true, no_argument, NULL, "show this help", 1, 1 },
};
#define HUNT_OPTS (sizeof(hunt_opts) / sizeof(hunt_opts[0]))

void usage_hunt(FILE *f)
{
	fprintf(f, "usage: vmm hunt [options] -- RECORD-ARGS... KERNEL\n\n"
		   "Record runs of a guest with `vmm record --chaos`, each with its own seed,\n"
		   "several at a time, until one ends the way asked: a failing run of a bug that\n"
		   "shows once in many. That run's journal is kept, with the last passing one (for\n"
		   "`vmm journal diff`); the others are deleted. RECORD-ARGS are what `vmm record`\n"
		   "takes (not -o, --serial, --chaos or --force: hunt sets those).\n\n"
		   "options:\n");
	cli_opts_help(f, hunt_opts, HUNT_OPTS, 1);
	fprintf(f, "\nexit status:\n"
		   "  0    a run failed as asked; its journal is kept\n"
		   "  1    no run of N failed\n"
		   "  %d    bad command line, or vmm record refused RECORD-ARGS\n"
		   "  %d  a run could not be recorded (vmm error)\n"
		   "  128+N hunt stopped by signal N\n",
		VMM_EXIT_USAGE, VMM_EXIT_ERROR);
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Options hunt sets for each run, which RECORD-ARGS must not carry. */
static const char *const hunt_owned[] = { "-o", "--output", "--serial", "--chaos", "--force" };

static int check_rec_args(const struct hunt_opts *o)
{
	for (int i = 0; i < o->n_rec_args; i++) {
		const char *a = o->rec_args[i];

		for (size_t k = 0; k < sizeof(hunt_owned) / sizeof(hunt_owned[0]); k++) {
			size_t n = strlen(hunt_owned[k]);

			if (!strncmp(a, hunt_owned[k], n) && (a[n] == 0 || a[n] == '=' || (n == 2 && a[n])))
				return cli_fail(VMM_EXIT_USAGE, "hunt: '%s' in RECORD-ARGS: hunt sets %s for every run",
						a, hunt_owned[k]);
		}
	}
	return -1;
}

static int parse_hunt(int argc, char **argv, struct hunt_opts *o)
{
	struct cli_getopt g;
	bool has_seed = false;
	char *end;
	long cpus;
	int c, r;

	memset(o, 0, sizeof(*o));
	o->runs = 100;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	o->jobs = cpus > 0 ? (unsigned long)cpus : 1;
	if (cli_getopt_init(&g, "hunt", "vmm hunt [options] -- RECORD-ARGS... KERNEL", hunt_opts, HUNT_OPTS, 1,
			    true) < 0)
		return cli_fail(VMM_EXIT_ERROR, "too many options in the table%s%s", "", "");
	optind = 1;
	while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case 'n':
		case 'j': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v == 0 ||
			    (c == 'j' && v > HUNT_JOBS_MAX))
				return cli_fail(VMM_EXIT_USAGE, "--%s '%s': give a whole number %s",
						c == 'n' ? "runs" : "jobs", optarg, c == 'j' ? "from 1 to 256" : "above 0");
			*(c == 'n' ? &o->runs : &o->jobs) = v;
			break;
		}
		case 'S':
			o->has_status = true;
			if (!strcmp(optarg, "nonzero")) {
				o->status_any = true;
				break;
			}
			errno = 0;
			o->status = (int)strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->status < 0 || o->status > 255)
				return cli_fail(VMM_EXIT_USAGE, "--until-status '%s': give 0 to 255, or nonzero%s",
						optarg, "");
			break;
		case 'O': {
			char msg[200];

			if (o->has_output)
				return cli_fail(VMM_EXIT_USAGE, "--until-output given twice: join them with |%s%s", "", "");
			if ((r = regcomp(&o->output, optarg, REG_EXTENDED | REG_NOSUB | REG_NEWLINE)) != 0) {
				regerror(r, &o->output, msg, sizeof(msg));
				return cli_fail(VMM_EXIT_USAGE, "--until-output '%s': %s", optarg, msg);
			}
			o->has_output = true;
			break;
		}
		case 'T':
			errno = 0;
			o->timeout_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->timeout_s > 0 && o->timeout_s <= 86400))
				return cli_fail(VMM_EXIT_USAGE, "--until-timeout '%s': give seconds, more than 0 and at "
						"most 86400%s", optarg, "");
			o->has_timeout = true;
			break;
		case 'k':
			o->keep = optarg;
			break;
		case 's':
			errno = 0;
			o->seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return cli_fail(VMM_EXIT_USAGE, "--seed '%s': give a number from 0 to 2^64-1%s", optarg, "");
			has_seed = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage_hunt(stdout);
			return 0;
		default:
			return VMM_EXIT_USAGE;	/* cli_getopt_next said what */
		}
	}
	if (optind >= argc || strcmp(argv[optind - 1], "--")) {
		fprintf(stderr, "vmm: hunt needs -- and then what to give vmm record (ending in the KERNEL)\n");
		cli_usage_hint(&g);
		return VMM_EXIT_USAGE;
	}
	o->rec_args = argv + optind;
	o->n_rec_args = argc - optind;
	if (!o->has_status && !o->has_output && !o->has_timeout)
		o->has_status = o->status_any = true;
	if (!has_seed && getrandom(&o->seed, sizeof(o->seed), 0) != (ssize_t)sizeof(o->seed))
		return cli_fail(VMM_EXIT_ERROR, "getrandom: %s%s", strerror(errno), "");
	return check_rec_args(o);
}

static void remove_run(const char *base)
{
	static const char *const ext[] = { ".vrr", ".out", ".log" };
	char path[PATH_MAX + 8];

	if (!base[0])
		return;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", base, ext[i]);
		unlink(path);
	}
}

/*
 * Keep a finished run under its verdict: DIR/fail-SEED or DIR/pass-SEED,
 * so that a hunt's directory reads at a glance. Its new base goes to kept.
 */
static void keep_run(const struct hunt *h, const struct hunt_run *run, const char *verdict, char *kept,
		     size_t n)
{
	static const char *const ext[] = { ".vrr", ".out", ".log" };
	char from[PATH_MAX + 8], to[PATH_MAX + 8];

	if (snprintf(kept, n, "%s/%s-%016llx", h->o.keep, verdict, (unsigned long long)run->seed) >= (int)n - 8) {
		snprintf(kept, n, "%s", run->base);	/* no room for the new name: keep it where it is */
		return;
	}
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (snprintf(from, sizeof(from), "%s%s", run->base, ext[i]) < (int)sizeof(from) &&
		    snprintf(to, sizeof(to), "%s%s", kept, ext[i]) < (int)sizeof(to))
			rename(from, to);
}

static bool file_exists(const char *base, const char *ext)
{
	char path[PATH_MAX + 16];

	return snprintf(path, sizeof(path), "%s%s", base, ext) < (int)sizeof(path) && access(path, F_OK) == 0;
}

/* Start run number h->started + 1. 0, or a (positive) status to stop the hunt with. */
static int start_run(struct hunt *h, struct hunt_run *run)
{
	char chaos[40], serial[PATH_MAX + 16], journal[PATH_MAX + 8], log[PATH_MAX + 8];
	char **argv;
	int n = 0;
	pid_t pid;

	memset(run, 0, sizeof(*run));
	run->index = ++h->started;
	run->seed = h->o.seed + run->index;
	if (snprintf(run->base, sizeof(run->base), "%s/run-%016llx", h->o.keep,
		     (unsigned long long)run->seed) >= (int)sizeof(run->base) - 8)
		return cli_fail(VMM_EXIT_USAGE, "hunt: --keep '%s': path too long%s", h->o.keep, "");
	for (const char *const *v = (const char *const[]){ "run", "fail", "pass", NULL }; *v; v++) {
		char other[PATH_MAX + 8];

		snprintf(other, sizeof(other), "%s/%s-%016llx", h->o.keep, *v, (unsigned long long)run->seed);
		if (file_exists(other, ".vrr"))
			return cli_fail(VMM_EXIT_ERROR, "hunt: %s.vrr exists (a hunt with the same --seed kept it): "
					"give another --seed or --keep", other);
	}
	snprintf(chaos, sizeof(chaos), "--chaos=%llu", (unsigned long long)run->seed);
	snprintf(serial, sizeof(serial), "file:%s.out", run->base);
	snprintf(journal, sizeof(journal), "%s.vrr", run->base);
	snprintf(log, sizeof(log), "%s.log", run->base);
	argv = calloc((size_t)h->o.n_rec_args + 10, sizeof(*argv));
	if (!argv)
		return cli_fail(VMM_EXIT_ERROR, "out of memory%s%s", "", "");
	argv[n++] = "vmm";
	argv[n++] = "record";
	argv[n++] = chaos;
	argv[n++] = "--quiet";
	argv[n++] = "-o";
	argv[n++] = journal;
	argv[n++] = "--serial";
	argv[n++] = serial;
	for (int i = 0; i < h->o.n_rec_args; i++)
		argv[n++] = h->o.rec_args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0) {
		free(argv);
		return cli_fail(VMM_EXIT_ERROR, "hunt: fork: %s%s", strerror(errno), "");
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY), err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		sigset_t none;

		/* A run never outlives its hunt. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (in < 0 || err < 0 || dup2(in, 0) < 0 || dup2(err, 1) < 0 || dup2(err, 2) < 0)
			_exit(VMM_EXIT_ERROR);
		execv(h->self, argv);
		dprintf(2, "vmm: hunt: cannot run %s: %s\n", h->self, strerror(errno));
		_exit(VMM_EXIT_ERROR);
	}
	free(argv);
	run->pid = pid;
	run->start = mono_s();
	h->running++;
	return 0;
}

/* Does the run's serial output have a line that --until-output matches? */
static bool output_matches(const struct hunt *h, const char *base)
{
	char path[PATH_MAX + 8];
	char *buf;
	ssize_t n;
	size_t len = 0;
	bool match;
	int fd;

	snprintf(path, sizeof(path), "%s.out", base);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	buf = malloc(HUNT_OUTPUT_MAX + 1);
	if (!buf) {
		close(fd);
		return false;
	}
	while (len < HUNT_OUTPUT_MAX && (n = read(fd, buf + len, HUNT_OUTPUT_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	for (size_t i = 0; i < len; i++)
		if (!buf[i])
			buf[i] = ' ';	/* a NUL would end the text regexec sees */
	buf[len] = 0;
	match = regexec(&h->o.output, buf, 0, NULL, 0) == 0;
	free(buf);
	return match;
}

/* The last line of a run's log, for a report. */
static void last_log_line(const char *base, char *out, size_t n)
{
	char path[PATH_MAX + 8], line[512];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s.log", base);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			snprintf(out, n, "%s", line);
	fclose(f);
	out[strcspn(out, "\n")] = 0;
}

/*
 * A run ended with wait status st. Says why it counts as a failure in why
 * (empty: it passed); returns a status to stop the hunt with, or -1.
 */
static int judge(struct hunt *h, struct hunt_run *run, int st, char *why, size_t n)
{
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : VMM_EXIT_ERROR;
	char line[512];

	why[0] = 0;
	if (run->timed_out) {
		snprintf(why, n, "still running after %g s", h->o.timeout_s);
		return -1;
	}
	if (run->interrupted || hunt_signal)
		return -1;	/* stopped by the hunt or by whoever stopped the hunt */
	if (status == VMM_EXIT_USAGE || (status == VMM_EXIT_ERROR && !file_exists(run->base, ".vrr"))) {
		last_log_line(run->base, line, sizeof(line));
		fprintf(stderr, "%svmm: hunt: vmm record failed (status %d): %s\n", h->tty ? "\r\033[K" : "", status,
			line[0] ? line : "no message");
		return status == VMM_EXIT_USAGE ? VMM_EXIT_USAGE : VMM_EXIT_ERROR;
	}
	if (h->o.has_status && (h->o.status_any ? status != 0 : status == h->o.status))
		snprintf(why, n, "exit status %d", status);
	else if (h->o.has_output && output_matches(h, run->base))
		snprintf(why, n, "its output matched --until-output (exit status %d)", status);
	return -1;
}

static void progress(struct hunt *h, bool force)
{
	static double last;
	double now = mono_s(), t = now - h->t0;

	if (!h->tty || (!force && now - last < 0.5))
		return;
	last = now;
	fprintf(stderr, "\r\033[Khunt: %lu/%lu runs done, %u running, %lu failed, %.2f runs/s, %.0f s",
		h->done, h->o.runs, h->running, h->hits, t > 0 ? (double)h->done / t : 0.0, t);
	fflush(stderr);
}

/* Reap finished runs. Returns a status to stop the hunt with, or -1. */
static int reap(struct hunt *h)
{
	int st, stop = -1;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct hunt_run *run = NULL;
		char why[200];
		int r;

		for (unsigned i = 0; i < h->o.jobs; i++)
			if (h->run[i].pid == pid)
				run = &h->run[i];
		if (!run)
			continue;
		run->pid = 0;
		h->running--;
		r = judge(h, run, st, why, sizeof(why));
		if (r >= 0) {
			remove_run(run->base);
			stop = r;
			continue;
		}
		if ((run->interrupted && !run->timed_out) || (hunt_signal && !why[0])) {
			remove_run(run->base);	/* stopped by hunt itself: neither pass nor fail */
			continue;
		}
		h->done++;
		if (h->o.verbose)
			fprintf(stderr, "%shunt: run %lu (seed %llu) %s%s\n", h->tty ? "\r\033[K" : "", run->index,
				(unsigned long long)run->seed, why[0] ? "failed: " : "passed", why);
		if (why[0] && !h->hit_base[0]) {
			h->hits++;
			keep_run(h, run, "fail", h->hit_base, sizeof(h->hit_base));
			snprintf(h->hit_why, sizeof(h->hit_why), "%s", why);
			h->hit_seed = run->seed;
			h->hit_index = run->index;
		} else if (why[0]) {
			h->hits++;
			remove_run(run->base);	/* the first failure is the one kept */
		} else {
			remove_run(h->pass_base);
			keep_run(h, run, "pass", h->pass_base, sizeof(h->pass_base));
		}
	}
	return stop;
}

/* Stop every run still going (SIGINT: each closes its journal), waiting for them to end. */
static void stop_all(struct hunt *h)
{
	double t0 = mono_s();
	bool killed = false;

	for (unsigned i = 0; i < h->o.jobs; i++)
		if (h->run[i].pid > 0) {
			h->run[i].interrupted = true;
			kill(h->run[i].pid, SIGINT);
		}
	while (h->running) {
		reap(h);
		if (!killed && mono_s() - t0 > HUNT_KILL_GRACE_S) {
			for (unsigned i = 0; i < h->o.jobs; i++)
				if (h->run[i].pid > 0)
					kill(h->run[i].pid, SIGKILL);
			killed = true;
		}
		usleep(20000);
	}
}

static void summary(const struct hunt *h)
{
	double t = mono_s() - h->t0;

	if (h->tty)
		fprintf(stderr, "\r\033[K");
	if (!h->hit_base[0]) {
		fprintf(stderr, "hunt: no run failed in %lu runs (%.1f s, %.2f runs/s); seeds %llu to %llu\n",
			h->done, t, t > 0 ? (double)h->done / t : 0.0, (unsigned long long)h->o.seed + 1,
			(unsigned long long)(h->o.seed + h->started));
		return;
	}
	fprintf(stderr, "hunt: run %lu (chaos seed %llu) failed: %s; %lu runs in %.1f s\n", h->hit_index,
		(unsigned long long)h->hit_seed, h->hit_why, h->done, t);
	fprintf(stderr, "hunt: kept %s.vrr (its serial output in %s.out)\n", h->hit_base, h->hit_base);
	if (h->pass_base[0])
		fprintf(stderr, "hunt: and the last passing run, %s.vrr\n", h->pass_base);
	fprintf(stderr, "next:\n  vmm replay %s.vrr\n  vmm replay --gdb 1234 %s.vrr\n", h->hit_base, h->hit_base);
	if (h->pass_base[0])
		fprintf(stderr, "  vmm journal diff %s.vrr %s.vrr\n", h->pass_base, h->hit_base);
	fprintf(stderr, "  vmm journal pack %s.vrr\n", h->hit_base);
}

int cmd_hunt(int argc, char **argv)
{
	struct hunt *h = calloc(1, sizeof(*h));
	char default_keep[64];
	struct sigaction sa;
	ssize_t n;
	int r, status = -1;

	if (!h)
		return cli_fail(VMM_EXIT_ERROR, "out of memory%s%s", "", "");
	if ((r = parse_hunt(argc, argv, &h->o)) >= 0) {
		free(h);
		return r;
	}
	if (h->o.jobs > h->o.runs)
		h->o.jobs = h->o.runs;
	n = readlink("/proc/self/exe", h->self, sizeof(h->self) - 1);
	if (n <= 0) {
		free(h);
		return cli_fail(VMM_EXIT_ERROR, "hunt: cannot find this vmm's executable: %s%s", strerror(errno), "");
	}
	h->self[n] = 0;
	if (!h->o.keep) {
		time_t now = time(NULL);

		strftime(default_keep, sizeof(default_keep), "hunt-%Y%m%d-%H%M%S", localtime(&now));
		h->o.keep = default_keep;
	}
	if (mkdir(h->o.keep, 0700) < 0 && errno != EEXIST) {
		status = cli_fail(VMM_EXIT_ERROR, "hunt: --keep '%s': %s", h->o.keep, strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	h->tty = !h->o.quiet && isatty(STDERR_FILENO);
	h->t0 = mono_s();
	fprintf(stderr, "hunt: up to %lu runs, %lu at a time, chaos seeds from %llu; journals in %s/\n", h->o.runs,
		h->o.jobs, (unsigned long long)h->o.seed + 1, h->o.keep);
	while (status < 0 && !hunt_signal && !h->hit_base[0]) {
		for (unsigned i = 0; i < h->o.jobs && h->started < h->o.runs && status < 0; i++)
			if (!h->run[i].pid && (r = start_run(h, &h->run[i])) > 0)
				status = r;
		if (status >= 0)
			break;
		if (!h->running)
			break;	/* all runs done */
		for (unsigned i = 0; i < h->o.jobs; i++) {
			struct hunt_run *run = &h->run[i];

			if (run->pid > 0 && h->o.has_timeout && !run->interrupted &&
			    mono_s() - run->start > h->o.timeout_s) {
				run->interrupted = run->timed_out = true;
				kill(run->pid, SIGINT);
			}
			if (run->pid > 0 && run->timed_out && mono_s() - run->start > h->o.timeout_s + HUNT_KILL_GRACE_S)
				kill(run->pid, SIGKILL);
		}
		status = reap(h);
		progress(h, false);
		if (status < 0 && h->running)
			usleep(20000);
	}
	stop_all(h);
	summary(h);
	if (status < 0)
		status = hunt_signal ? VMM_EXIT_SIGNAL_BASE + hunt_signal : h->hit_base[0] ? 0 : 1;
	if (status != 0 && !h->hit_base[0]) {
		remove_run(h->pass_base);
		rmdir(h->o.keep);	/* only if empty: never what was there before */
	}
out:
	if (h->o.has_output)
		regfree(&h->o.output);
	free(h);
	return status;
}
