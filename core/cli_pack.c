/* vmm journal pack|unpack: one file that replays anywhere, and the files back out of it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opt.h"
#include "status.h"
#include "../replay/hash.h"
#include "../replay/journal.h"
#include "../replay/pack.h"

#define PACK_FILE_MAX (4ull << 30)	/* what one packed file may hold */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int load_input(struct pack_input *in, enum pack_kind kind, const char *path, const uint8_t *want,
		      uint8_t **buf)
{
	char err[PATH_MAX + 100];
	struct file_id id;
	uint8_t got[32];

	memset(in, 0, sizeof(*in));
	in->kind = kind;
	if (cli_read_file(path, PACK_FILE_MAX, "what a pack holds", buf, &in->len, &id, err, sizeof(err)) < 0)
		return cli_fail(VMM_EXIT_ERROR, "journal pack: %s: %s", pack_kind_name(kind), err);
	in->data = *buf;
	snprintf(in->name, sizeof(in->name), "%s", base_name(path));
	if (!in->name[0] || !strcmp(in->name, ".") || !strcmp(in->name, ".."))
		return cli_fail(VMM_EXIT_USAGE, "journal pack: '%s' does not name a file%s", path, "");
	if (want) {
		cli_input_sha256(&id, in->data, in->len, got);
		if (memcmp(got, want, 32) != 0)
			return cli_fail(VMM_EXIT_ERROR, "journal pack: %s '%s' is not the one recorded (SHA-256 differs): "
					"give the recorded one with --%s", pack_kind_name(kind), path,
					pack_kind_name(kind));
	}
	if (kind == PACK_SYMBOLS && (in->len < 4 || memcmp(in->data, "\177ELF", 4) != 0))
		return cli_fail(VMM_EXIT_USAGE, "journal pack: --symbols '%s' is not an ELF file%s", path, "");
	return -1;
}

int journal_pack(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "output", 'o', true, required_argument, "FILE", NULL, 1, 0 },
		{ "kernel", 'k', false, required_argument, "FILE", NULL, 1, 0 },
		{ "initrd", 'i', false, required_argument, "FILE", NULL, 1, 0 },
		{ "symbols", 's', false, required_argument, "ELF", NULL, 1, 0 },
		{ "force", 'f', false, no_argument, NULL, NULL, 1, 0 },
		{ "help", 'h', true, no_argument, NULL, NULL, 1, 0 },
	};
	struct cli_getopt g;
	const char *out = NULL, *kernel = NULL, *initrd = NULL, *symbols = NULL;
	struct pack_input in[3], old;
	uint8_t *bufs[3] = { NULL, NULL, NULL };
	struct journal_header *h = NULL;
	struct journal_reader jr;
	char err[PATH_MAX + 200], default_out[PATH_MAX];
	bool force = false, open_ok = false;
	unsigned n = 0;
	int c, status = -1;

	cli_getopt_init(&g, "journal pack", "vmm journal pack JOURNAL [-o FILE] [--kernel FILE] [--initrd FILE] "
			"[--symbols ELF] [--force]", opts, sizeof(opts) / sizeof(opts[0]), 1, false);
	optind = 1;
	while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 's': symbols = optarg; break;
		case 'f': force = true; break;
		case 'h': usage_journal(stdout); return 0;
		default: return VMM_EXIT_USAGE;	/* cli_getopt_next said what */
		}
	}
	if (optind != argc - 1)
		return cli_fail(VMM_EXIT_USAGE, "journal pack takes one JOURNAL%s (see vmm journal --help)",
				optind < argc ? ", and options before or after it" : "");
	if (!(h = calloc(1, sizeof(*h))))
		return VMM_EXIT_ERROR;
	if (journal_reader_open(&jr, argv[optind], h, err, sizeof(err)) < 0) {
		status = cli_fail(VMM_EXIT_ERROR, "%s: %s", argv[optind], err);
		goto out;
	}
	open_ok = true;
	if (pack_find(&jr, PACK_KERNEL, &old, err, sizeof(err)) != 0) {
		status = cli_fail(VMM_EXIT_USAGE, "%s: already packed (vmm journal unpack --list names what it holds)%s",
				  argv[optind], "");
		goto out;
	}
	if (initrd && !h->has_initrd) {
		status = cli_fail(VMM_EXIT_USAGE, "journal pack: --initrd: %s was recorded without an initrd%s",
				  argv[optind], "");
		goto out;
	}
	if ((status = load_input(&in[n], PACK_KERNEL, kernel ? kernel : h->kernel_path, h->kernel_sha256,
				 &bufs[n])) >= 0)
		goto out;
	n++;
	if (h->has_initrd) {
		if ((status = load_input(&in[n], PACK_INITRD, initrd ? initrd : h->initrd_path, h->initrd_sha256,
					 &bufs[n])) >= 0)
			goto out;
		n++;
	}
	if (symbols) {
		if ((status = load_input(&in[n], PACK_SYMBOLS, symbols, NULL, &bufs[n])) >= 0)
			goto out;
		/* A kernel that is its own symbol file (an ELF test kernel) is packed once. */
		if (in[n].len == in[0].len && !memcmp(in[n].data, in[0].data, in[0].len)) {
			free(bufs[n]);
			bufs[n] = NULL;
			fprintf(stderr, "vmm: journal pack: --symbols '%s' is the kernel itself: packed once\n", symbols);
		} else {
			n++;
		}
	}
	if (!out) {
		size_t len = strlen(argv[optind]);
		int k = len > 4 && !strcmp(argv[optind] + len - 4, ".vrr") ?
			snprintf(default_out, sizeof(default_out), "%.*s.packed.vrr", (int)(len - 4), argv[optind]) :
			snprintf(default_out, sizeof(default_out), "%s.packed", argv[optind]);

		if (k < 0 || (size_t)k >= sizeof(default_out)) {
			status = cli_fail(VMM_EXIT_USAGE, "journal pack: name the output with -o%s%s", "", "");
			goto out;
		}
		out = default_out;
	}
	if (pack_write(&jr, out, force, in, n, err, sizeof(err)) < 0) {
		status = cli_fail(VMM_EXIT_ERROR, "journal pack: %s%s", err, "");
		goto out;
	}
	printf("%s: the journal (%zu bytes) and", out, jr.size);
	for (unsigned i = 0; i < n; i++)
		printf("%s %s %s (%zu bytes)", i ? (i + 1 == n ? " and" : ",") : "", pack_kind_name(in[i].kind),
		       in[i].name, in[i].len);
	printf("; replay it with: vmm replay %s\n", out);
	status = 0;
out:
	for (unsigned i = 0; i < 3; i++)
		free(bufs[i]);
	if (open_ok)
		journal_reader_close(&jr);
	free(h);
	return status;
}

int journal_unpack(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "directory", 'C', true, required_argument, "DIR", NULL, 1, 0 },
		{ "list", 'l', false, no_argument, NULL, NULL, 1, 0 },
		{ "help", 'h', true, no_argument, NULL, NULL, 1, 0 },
	};
	struct cli_getopt g;
	const char *dir = ".";
	struct journal_header *h;
	struct journal_reader jr;
	char err[PATH_MAX + 200], path[PATH_MAX];
	bool list = false;
	unsigned found = 0;
	int c, status = 0;

	cli_getopt_init(&g, "journal unpack", "vmm journal unpack PACKED [-C DIR] [--list]", opts,
			sizeof(opts) / sizeof(opts[0]), 1, false);
	optind = 1;
	while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'l': list = true; break;
		case 'h': usage_journal(stdout); return 0;
		default: return VMM_EXIT_USAGE;	/* cli_getopt_next said what */
		}
	}
	if (optind != argc - 1)
		return cli_fail(VMM_EXIT_USAGE, "journal unpack takes one packed JOURNAL%s%s", "", "");
	if (!(h = calloc(1, sizeof(*h))))
		return VMM_EXIT_ERROR;
	if (journal_reader_open(&jr, argv[optind], h, err, sizeof(err)) < 0) {
		free(h);
		return cli_fail(VMM_EXIT_ERROR, "%s: %s", argv[optind], err);
	}
	for (enum pack_kind k = PACK_KERNEL; k < PACK_KINDS && status == 0; k++) {
		struct pack_input in;
		int r = pack_find(&jr, k, &in, err, sizeof(err)), fd;

		if (r < 0) {
			status = cli_fail(VMM_EXIT_ERROR, "%s: %s", argv[optind], err);
			break;
		}
		if (!r)
			continue;
		found++;
		if (list) {
			printf("%-8s %s (%zu bytes)\n", pack_kind_name(k), in.name, in.len);
			continue;
		}
		if (snprintf(path, sizeof(path), "%s/%s", dir, in.name) >= (int)sizeof(path)) {
			status = cli_fail(VMM_EXIT_USAGE, "journal unpack: -C '%s': path too long%s", dir, "");
			break;
		}
		/* Never over a file that is there: it may be the user's own build of it. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			status = cli_fail(VMM_EXIT_ERROR, "journal unpack: cannot create '%s': %s", path,
					  errno == EEXIST ? "it exists (not overwritten)" : strerror(errno));
			break;
		}
		for (size_t off = 0; off < in.len;) {
			ssize_t w = write(fd, in.data + off, in.len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				status = cli_fail(VMM_EXIT_ERROR, "journal unpack: writing '%s': %s", path,
						  w < 0 ? strerror(errno) : "no progress");
				break;
			}
			off += (size_t)w;
		}
		if (close(fd) < 0 && status == 0)
			status = cli_fail(VMM_EXIT_ERROR, "journal unpack: writing '%s': %s", path, strerror(errno));
		if (status) {
			unlink(path);
			break;
		}
		printf("%-8s %s (%zu bytes)\n", pack_kind_name(k), path, in.len);
	}
	if (status == 0 && !found)
		status = cli_fail(VMM_EXIT_USAGE, "%s: not a packed journal (vmm journal pack makes one)%s",
				  argv[optind], "");
	journal_reader_close(&jr);
	free(h);
	return status;
}
