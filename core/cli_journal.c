/* vmm journal: dump and stat a journal, and diff two (where two runs of one guest part ways). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../replay/pack.h"
#include "kvm_caps.h"
#include "status.h"
#include "vm.h"
#include "../replay/exit_rec.h"
#include "../replay/journal.h"
#include "../replay/rr.h"

int cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

void usage_journal(FILE *f)
{
	fprintf(f,
		"usage: vmm journal dump JOURNAL [--from N] [--count K]\n"
		"       vmm journal stat JOURNAL\n"
		"       vmm journal diff A B\n"
		"       vmm journal pack JOURNAL [-o FILE] [--kernel FILE] [--initrd FILE]\n"
		"                        [--symbols ELF] [--force]\n"
		"       vmm journal unpack PACKED [-C DIR] [--list]\n\n"
		"dump    one line per record (number, kind, guest time, details), from record N\n"
		"        (default 0), K records (default all)\n"
		"stat    the header, record counts, guest time, how events were placed, how\n"
		"        the run ended\n"
		"diff    where two journals of the same guest and inputs part ways: the first\n"
		"        event that differs, with the records before it and the differing ones\n"
		"        from each. Checkpoints are left out (they fall by guest time).\n"
		"pack    one file that replays on another machine with nothing else: the\n"
		"        journal with the kernel and initrd it names (checked against the\n"
		"        SHA-256 the journal keeps; --kernel, --initrd: take them from here\n"
		"        instead of the recorded paths), and with --symbols an ELF for gdb\n"
		"        (vmlinux). Written to -o FILE (default JOURNAL with .packed.vrr), never\n"
		"        over an existing file without --force. A packed journal is still a\n"
		"        journal: vmm replay, dump, stat and diff take it as it is\n"
		"unpack  write the files packed in PACKED into DIR (default .), never over an\n"
		"        existing file; --list only names them\n\n"
		"Exit status: 0 (diff: the journals agree), 1 (diff: they differ), %d bad\n"
		"command line, %d a journal cannot be read.\n", VMM_EXIT_USAGE, VMM_EXIT_ERROR);
}

/* A whole decimal (or 0x hex) number, nothing else. */
static int parse_count(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int journal_diff(int argc, char **argv);

static const char *sha_hex(const uint8_t sha[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
	return out;
}

/* How a recorded run ended, in words. */
static const char *end_reason(const struct vm *end)
{
	static char text[80];

	switch (end->stop) {
	case VM_STOP_DEBUG_EXIT:
		snprintf(text, sizeof(text), "the guest's debug exit, code %u", end->exit_code);
		return text;
	case VM_STOP_POWEROFF:
		return "the guest halted with interrupts off (powered off)";
	case VM_STOP_RESET:
		return "the guest asked for a reset";
	case VM_STOP_TRIPLE_FAULT:
		return "the guest triple-faulted";
	case VM_STOP_SIGNAL:
		snprintf(text, sizeof(text), "vmm was stopped by signal %d", end->signal);
		return text;
	case VM_STOP_QUIT:
		return "quit (Ctrl-A x, or kill from gdb)";
	default:
		return "an error in vmm";
	}
}

/* One line per record: index, kind, details. */
static void dump_record(const struct journal_record *rec, uint64_t *now)
{
	struct jcur c = { rec->data, rec->len, 0, false };

	printf("%8llu %-8s", (unsigned long long)rec->index, journal_record_name(rec->type));
	switch (rec->type) {
	case JREC_EXIT: {
		struct rr_exit e;
		char text[200];

		if (rr_exit_decode(rec->data, rec->len, &e) < 0) {
			printf(" (malformed exit record)");
			break;
		}
		*now += e.dt;
		rr_exit_dump(&e, text, sizeof(text));
		printf(" t=%.6f %s", (double)*now / 1e9, text);
		break;
	}
	case JREC_TICK:
		*now += jcur_varint(&c);
		printf(" t=%.6f", (double)*now / 1e9);
		break;
	case JREC_INJECT:
		printf(" vector=0x%x", rec->len ? rec->data[0] : 0);
		break;
	case JREC_INPUT:
		printf(" %zu bytes", rec->len);
		break;
	case JREC_LANDMARK: {
		struct rr_landmark l;

		if (rr_landmark_decode(&c, &l) == 0) {
			printf(" rip=%llx rcx=%llx fp=%016llx", (unsigned long long)l.rip,
			       (unsigned long long)l.gpr[2], (unsigned long long)l.fingerprint);
			if (l.cpl >= 0)
				printf(" cpl=%d", l.cpl);
			if (l.rf > 0)
				printf(" rf");
			if (l.shadow > 0)
				printf(" shadow=%s", l.shadow & KVM_X86_SHADOW_INT_MOV_SS ? "mov-ss" : "sti");
			if (l.npages)
				printf(" pages=%u", l.npages);
		}
		break;
	}
	case JREC_END: {
		unsigned stop = jcur_u8(&c);	/* read in order: arguments are evaluated in any */
		unsigned long long code = jcur_varint(&c);

		printf(" stop=%u code=%llu", stop, code);
		break;
	}
	case JREC_VIRTIO: {
		struct rr_virtio v;

		if (rr_virtio_decode(&c, &v) == 0)
			printf(" device=%llu queue=%llu head=%llu len=%llu", (unsigned long long)v.dev,
			       (unsigned long long)v.queue, (unsigned long long)v.head, (unsigned long long)v.len);
		break;
	}
	case JREC_NOTIFY: {
		struct rr_notify n;

		if (rr_notify_decode(&c, &n) == 0)
			printf(" device=%llu queue=%llu", (unsigned long long)n.dev, (unsigned long long)n.queue);
		break;
	}
	case JREC_CHECKPOINT: {
		struct rr_checkpoint ck;

		if (rr_checkpoint_decode(&c, &ck) == 0)
			printf(" #%llu exit=%llu t=%.6f memory=%016llx cpu=%016llx", (unsigned long long)ck.number,
			       (unsigned long long)ck.exits, (double)ck.time_ns / 1e9,
			       (unsigned long long)ck.mem_digest, (unsigned long long)ck.cpu_digest);
		break;
	}
	}
	printf("\n");
}

/* The guest time a timed record (an exit or a tick) moves the clock by; 0 for the rest. */
static uint64_t record_dt(const struct journal_record *rec)
{
	struct jcur c = { rec->data, rec->len, 0, false };
	struct rr_exit e;

	if (rec->type == JREC_EXIT)
		return rr_exit_decode(rec->data, rec->len, &e) == 0 ? e.dt : 0;
	return rec->type == JREC_TICK ? jcur_varint(&c) : 0;
}

int cmd_journal(int argc, char **argv)
{
	struct journal_header *h;
	struct journal_reader jr;
	struct journal_record rec;
	uint64_t from = 0, count = ~0ull;
	uint64_t now = 0, kinds[JREC_MAX] = { 0 }, bytes[JREC_MAX] = { 0 }, placed[VM_PLACES] = { 0 }, host_ns = 0;
	enum vm_place place = VM_PLACE_EXIT;
	struct journal_index_entry *index = NULL;
	size_t nindex = 0;
	char err[300];
	const char *path;
	struct vm end = { .stop = VM_RUNNING };
	bool dump;
	int r;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage_journal(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return journal_diff(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "pack"))
		return journal_pack(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "unpack"))
		return journal_unpack(argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "dump") != 0 && strcmp(argv[1], "stat") != 0)) {
		if (argc >= 2)
			fprintf(stderr, "vmm: journal: unknown subcommand '%s'\n", argv[1]);
		usage_journal(stderr);
		return VMM_EXIT_USAGE;
	}
	dump = strcmp(argv[1], "dump") == 0;
	path = NULL;
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			usage_journal(stdout);
			return 0;
		}
		if (opt[0] != '-' || !opt[1]) {
			if (path)
				return cli_fail(VMM_EXIT_USAGE, "journal %s takes one JOURNAL, not also '%s'", argv[1], opt);
			path = opt;
			continue;
		}
		if (!dump || (strcmp(opt, "--from") != 0 && strcmp(opt, "--count") != 0))
			return cli_fail(VMM_EXIT_USAGE, "journal %s: unknown option '%s' (see vmm journal --help)",
					argv[1], opt);
		if (i + 1 >= argc)
			return cli_fail(VMM_EXIT_USAGE, "journal dump: %s needs a record number", opt);
		if (parse_count(argv[++i], !strcmp(opt, "--from") ? &from : &count) < 0)
			return cli_fail(VMM_EXIT_USAGE, "journal dump: %s '%s': give a whole number", opt, argv[i]);
	}
	if (!path)
		return cli_fail(VMM_EXIT_USAGE, "journal %s needs a JOURNAL (see vmm journal --help)", argv[1]);
	h = calloc(1, sizeof(*h));
	if (!h)
		return VMM_EXIT_ERROR;
	if (journal_reader_open(&jr, path, h, err, sizeof(err)) < 0) {
		free(h);
		return cli_fail(VMM_EXIT_ERROR, "%s: %s", path, err);
	}
	if ((r = journal_read_index(&jr, &index, &nindex, err, sizeof(err))) < 0) {
		journal_reader_close(&jr);
		free(h);
		return cli_fail(VMM_EXIT_ERROR, "%s: %s", path, err);
	}
	if (!dump)
		printf("journal:   %s\nversion:   %u (vmm %s)\nkernel:    %s\ninitrd:    %s\ncmdline:   %s\n"
		       "memory:    %llu MiB\nrtc epoch: %lld\nhost CPU:  %d\n", path, h->version, h->vmm_version, h->kernel_path,
		       h->has_initrd ? h->initrd_path : "(none)", h->cmdline,
		       (unsigned long long)(h->mem_size >> 20), (long long)h->rtc_epoch, h->host_cpu);
	if (!dump) {
		char hex[65];

		printf("devices:   %s%s\n", h->board, h->ioeventfd ? " (notifications by ioeventfd)" : "");
		if (h->chaos)
			printf("chaos:     seed %llu (vmm record --chaos; replay does not need it)\n",
			       (unsigned long long)h->chaos_seed);
		else
			printf("chaos:     off\n");
		printf("kernel sha256: %s\n", sha_hex(h->kernel_sha256, hex));
		if (h->has_initrd)
			printf("initrd sha256: %s\n", sha_hex(h->initrd_sha256, hex));
		for (enum pack_kind k = PACK_KERNEL; k < PACK_KINDS; k++) {
			struct pack_input in;
			char perr[200];
			int pr = pack_find(&jr, k, &in, perr, sizeof(perr));

			if (pr > 0)
				printf("packed:    %s %s (%zu bytes)\n", pack_kind_name(k), in.name, in.len);
			else if (pr < 0)
				printf("packed:    %s\n", perr);
		}
	}
	/* The index lets a dump start at the last checkpoint before --from instead of the beginning. */
	for (size_t i = nindex; dump && i-- > 0;)
		if (index[i].record <= from) {
			journal_seek(&jr, &index[i]);
			now = index[i].time_ns;
			break;
		}
	while ((r = journal_read(&jr, &rec, err, sizeof(err))) > 0) {
		if (rec.type == JREC_END) {
			struct jcur e = { rec.data, rec.len, 0, false };

			end.stop = (enum vm_stop)jcur_u8(&e);
			end.exit_code = (uint32_t)jcur_varint(&e);
			end.signal = (int)jcur_varint(&e);
			for (int i = 0; i < 8; i++)	/* the state digest */
				(void)jcur_u8(&e);
			(void)jcur_varint(&e);		/* exit count */
			if (e.pos < e.len)		/* host time: journals since 2026-12 */
				host_ns = jcur_varint(&e);
		}
		kinds[rec.type]++;
		bytes[rec.type] += rec.len + 2;
		/* Where each event was placed: the position the record before it made. */
		if (rec.type == JREC_EXIT)
			place = rec.len && rec.data[0] == KVM_EXIT_IRQ_WINDOW_OPEN ? VM_PLACE_WINDOW : VM_PLACE_EXIT;
		else if (rec.type == JREC_LANDMARK)
			place = VM_PLACE_LANDMARK;
		else if (rec.type == JREC_TICK || rec.type == JREC_INPUT || rec.type == JREC_VIRTIO ||
			 rec.type == JREC_NOTIFY)
			placed[place]++;
		if (dump) {
			if (rec.index >= from && rec.index - from < count)
				dump_record(&rec, &now);
			else
				now += record_dt(&rec);
		} else {
			now += record_dt(&rec);
		}
	}
	if (r < 0)
		fprintf(stderr, "vmm: %s: %s\n", path, err);
	if (!dump) {
		double secs = (double)now / 1e9;

		printf("records:\n");
		for (int t = 1; t < JREC_MAX; t++)
			printf("  %-9s %10llu  %10llu bytes raw\n", journal_record_name((uint8_t)t),
			       (unsigned long long)kinds[t], (unsigned long long)bytes[t]);
		printf("file:      %zu bytes%s\nguest time: %.3f s; %.0f exits/s\n", jr.size,
		       jr.truncated ? " (truncated: no end record)" : "", secs,
		       secs > 0 ? (double)kinds[JREC_EXIT] / secs : 0.0);
		if (host_ns)
			printf("host time: %.3f s to record (the guest ran at %.2fx real time)\n", (double)host_ns / 1e9,
			       secs / ((double)host_ns / 1e9));
		else
			printf("host time: not recorded (%s)\n", kinds[JREC_END] ? "a journal from before 2026-12"
										 : "no end record");
		if (nindex)
			printf("index:     %zu checkpoints, the last at record %llu (guest time %.3f s)\n", nindex,
			       (unsigned long long)index[nindex - 1].record, (double)index[nindex - 1].time_ns / 1e9);
		else if (kinds[JREC_END])
			printf("index:     no checkpoints (the run covered under 1 s of guest time)\n");
		else
			printf("index:     none (a recording that did not end cleanly)\n");
		printf("events:    %llu placed at exits, %llu at window exits, %llu at landmarks",
		       (unsigned long long)placed[VM_PLACE_EXIT], (unsigned long long)placed[VM_PLACE_WINDOW],
		       (unsigned long long)placed[VM_PLACE_LANDMARK]);
		if (h->version >= 3)
			printf(" (--defer %llu us)\n", (unsigned long long)h->defer_ns / 1000);
		else
			printf(" (a version %u journal: --defer not recorded)\n", h->version);
		if (kinds[JREC_END])
			printf("ended:     %s (vmm status %d)\n", end_reason(&end), cli_stop_status(&end));
		else
			printf("ended:     not cleanly: no end record (the recorder was killed or failed)\n");
		if (kinds[JREC_LANDMARK]) {
			struct kvm_caps caps;
			char name[48];

			kvm_caps_probe(&caps);
			printf("landmarks: %llu, found here (%s) by %s\n", (unsigned long long)kinds[JREC_LANDMARK],
			       kvm_caps_name(&caps, name, sizeof(name)),
			       caps.hw_bp == KVM_YES ? "debug-register breakpoints" :
			       caps.hw_bp == KVM_NO ? "single-stepping from the exit before each (no debug-register "
						      "breakpoint fires: slow, and a long stretch is not reached)" :
			       "nothing: this host has no usable KVM");
		}
	}
	free(index);
	journal_reader_close(&jr);
	free(h);
	return r < 0 ? VMM_EXIT_ERROR : 0;
}


/* One journal being walked by diff: its reader, its clock, and the last records it read. */
#define DIFF_CONTEXT 3
struct side {
	const char *name, *path;
	struct journal_header h;
	struct journal_reader r;
	struct journal_record rec;
	uint64_t now, events;
	int status;			/* of the last journal_read: 1 a record, 0 the end, <0 an error */
	char err[300];
	struct {
		struct journal_record rec;
		uint8_t *data;
		uint64_t now;		/* the clock before it */
	} ctx[DIFF_CONTEXT];
	unsigned n_ctx;
};

/* The next record that is an event of the guest's (checkpoints fall by guest time: not compared). */
static void side_next(struct side *s)
{
	do {
		if (s->status > 0) {
			/* Keep the one just compared as context, with its own copy of the bytes. */
			unsigned i;

			if (s->n_ctx == DIFF_CONTEXT) {
				free(s->ctx[0].data);
				memmove(&s->ctx[0], &s->ctx[1], sizeof(s->ctx[0]) * (DIFF_CONTEXT - 1));
				s->n_ctx--;
			}
			i = s->n_ctx++;
			s->ctx[i].rec = s->rec;
			s->ctx[i].data = malloc(s->rec.len ? s->rec.len : 1);
			if (s->ctx[i].data)
				memcpy(s->ctx[i].data, s->rec.data, s->rec.len);
			s->ctx[i].rec.data = s->ctx[i].data;
			s->ctx[i].now = s->now;
			s->now += record_dt(&s->rec);
		}
		s->status = journal_read(&s->r, &s->rec, s->err, sizeof(s->err));
	} while (s->status > 0 && s->rec.type == JREC_CHECKPOINT);
}

/* Do a and b record the same thing the guest saw (times aside)? */
static bool same_event(const struct journal_record *a, const struct journal_record *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == JREC_TICK)
		return true;		/* its payload is only the time */
	if (a->type == JREC_EXIT) {
		struct rr_exit x, y;

		if (rr_exit_decode(a->data, a->len, &x) < 0 || rr_exit_decode(b->data, b->len, &y) < 0)
			return a->len == b->len && !memcmp(a->data, b->data, a->len);
		if (!rr_exit_matches(&x, &y, false) || !rr_exit_matches(&x, &y, true))
			return false;
		/* By value: a window's decoded pages are pointers into each record. */
		return x.reason != KVM_EXIT_IRQ_WINDOW_OPEN || rr_landmark_same(&x.u.window, &y.u.window);
	}
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/* What differs, in a driver developer's words. */
static void explain(const struct side *a, const struct side *b)
{
	const struct journal_record *x = &a->rec, *y = &b->rec;
	bool x_async = x->type != JREC_EXIT && x->type != JREC_END, y_async = y->type != JREC_EXIT && y->type != JREC_END;

	struct jcur c = { x->data, x->len, 0, false }, d = { y->data, y->len, 0, false };
	struct rr_virtio xv, yv;

	if (x->type == JREC_VIRTIO && y->type == JREC_VIRTIO && rr_virtio_decode(&c, &xv) == 0 &&
	    rr_virtio_decode(&d, &yv) == 0) {
		if (xv.dev != yv.dev || xv.queue != yv.queue || xv.head != yv.head)
			printf("completions came in another order: %s completed device %llu queue %llu head %llu, "
			       "%s device %llu queue %llu head %llu\n", a->name, (unsigned long long)xv.dev,
			       (unsigned long long)xv.queue, (unsigned long long)xv.head, b->name,
			       (unsigned long long)yv.dev, (unsigned long long)yv.queue, (unsigned long long)yv.head);
		else
			printf("the same request completed with different bytes for the guest\n");
	} else if (x_async && !y_async) {
		printf("in %s, a %s came before the guest's next exit; in %s the guest went on first "
		       "(the event came later there)\n", a->name, journal_record_name(x->type), b->name);
	} else if (!x_async && y_async) {
		printf("in %s, a %s came before the guest's next exit; in %s the guest went on first "
		       "(the event came later there)\n", b->name, journal_record_name(y->type), a->name);
	} else if (x->type == JREC_LANDMARK && y->type == JREC_LANDMARK) {
		printf("an event came at a different point of an exit-less stretch\n");
	} else if (x->type == JREC_EXIT && y->type == JREC_EXIT) {
		printf("the guest itself did something else here (an earlier difference in what it read, "
		       "or in when events came, shows only now)\n");
	} else {
		printf("%s has a %s where %s has a %s\n", a->name, journal_record_name(x->type), b->name,
		       journal_record_name(y->type));
	}
}

static void show_side(struct side *s, bool at)
{
	uint64_t now;

	printf("%s (%s):\n", s->name, s->path);
	for (unsigned i = 0; i < s->n_ctx; i++) {
		now = s->ctx[i].now;
		printf("    ");
		dump_record(&s->ctx[i].rec, &now);
	}
	if (!at)
		return;
	if (s->status > 0) {
		now = s->now;
		printf("  > ");
		dump_record(&s->rec, &now);
	} else {
		printf("  > (the journal ends here%s)\n", s->r.truncated ? ": cut short" : "");
	}
}

static int open_side(struct side *s, const char *name, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->path = path;
	if (journal_reader_open(&s->r, path, &s->h, s->err, sizeof(s->err)) < 0)
		return cli_fail(VMM_EXIT_ERROR, "%s: %s", path, s->err);
	s->status = 0;
	side_next(s);
	return 0;
}

static void close_side(struct side *s)
{
	for (unsigned i = 0; i < s->n_ctx; i++)
		free(s->ctx[i].data);
	journal_reader_close(&s->r);
}

/* Inputs that should be the same for a diff to mean something: say which are not. */
static void compare_headers(const struct side *a, const struct side *b)
{
	const struct journal_header *x = &a->h, *y = &b->h;
	const char *what[6];
	unsigned n = 0;

	if (memcmp(x->kernel_sha256, y->kernel_sha256, 32))
		what[n++] = "kernel";
	if (x->has_initrd != y->has_initrd || (x->has_initrd && memcmp(x->initrd_sha256, y->initrd_sha256, 32)))
		what[n++] = "initrd";
	if (strcmp(x->cmdline, y->cmdline))
		what[n++] = "command line";
	if (strcmp(x->board, y->board))
		what[n++] = "devices";
	if (x->mem_size != y->mem_size)
		what[n++] = "memory size";
	if (x->rtc_epoch != y->rtc_epoch)
		what[n++] = "RTC time";
	if (!n) {
		printf("same guest and inputs: kernel, initrd, command line, devices, memory, RTC time\n");
		return;
	}
	printf("note: not the same guest and inputs: the");
	for (unsigned i = 0; i < n; i++)
		printf("%s %s", i ? (i + 1 == n ? " and" : ",") : "", what[i]);
	printf(" differ%s, so the runs may part ways for that reason alone\n", n == 1 ? "s" : "");
}

static int journal_diff(int argc, char **argv)
{
	struct side *a, *b;
	int status;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage_journal(stdout);
		return 0;
	}
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cli_fail(VMM_EXIT_USAGE, "usage: vmm journal diff A B");
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return cli_fail(VMM_EXIT_ERROR, "out of memory");
	}
	if ((status = open_side(a, "A", argv[1])) || (status = open_side(b, "B", argv[2]))) {
		free(a);
		free(b);
		return status;
	}
	compare_headers(a, b);
	while (a->status > 0 && b->status > 0 && same_event(&a->rec, &b->rec)) {
		a->events++;
		side_next(a);
		side_next(b);
	}
	if (a->status < 0 || b->status < 0) {
		struct side *bad = a->status < 0 ? a : b;

		status = cli_fail(VMM_EXIT_ERROR, "%s: %s (after %llu events that agree)", bad->path, bad->err,
				  (unsigned long long)a->events);
	} else if (a->status == 0 && b->status == 0) {
		printf("the journals agree: %llu events, the same in both%s\n", (unsigned long long)a->events,
		       a->r.truncated || b->r.truncated ? " (as far as the shorter one goes: it was cut short)" : "");
		status = 0;
	} else {
		printf("they part ways after %llu events that agree: at record %llu of A (guest time %.6f s), "
		       "record %llu of B (%.6f s)\n", (unsigned long long)a->events,
		       (unsigned long long)a->rec.index, (double)a->now / 1e9, (unsigned long long)b->rec.index,
		       (double)b->now / 1e9);
		if (a->status > 0 && b->status > 0)
			explain(a, b);
		else
			printf("%s ends there; %s goes on\n", a->status ? b->name : a->name, a->status ? a->name : b->name);
		show_side(a, true);
		show_side(b, true);
		status = 1;
	}
	close_side(a);
	close_side(b);
	free(a);
	free(b);
	return status;
}
