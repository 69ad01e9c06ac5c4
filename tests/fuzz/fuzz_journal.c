/*
 * Fuzz target for the journal reader: any bytes, read as a journal, must give
 * records or one clean error, never a crash or an out-of-bounds access.
 * LLVMFuzzerTestOneInput is the libFuzzer entry point; tests/fuzz/driver.c
 * drives it without libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "journal.h"
#include "rr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct journal_header h;
	struct journal_reader r;
	struct journal_record rec;
	char path[64], err[300];
	int fd = memfd_create("journal", 0), rc;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (journal_reader_open(&r, path, &h, err, sizeof(err)) == 0) {
		struct journal_index_entry *e, first = { .offset = r.next };
		size_t n;

		/* The index as `journal dump --from` uses it: a seek to any entry must read safely. */
		if (journal_read_index(&r, &e, &n, err, sizeof(err)) == 0 && n) {
			journal_seek(&r, &e[size % n]);
			journal_read(&r, &rec, err, sizeof(err));
			journal_seek(&r, &first);
		}
		free(e);
		while ((rc = journal_read(&r, &rec, err, sizeof(err))) > 0) {
			struct jcur c = { rec.data, rec.len, 0, false };
			struct rr_landmark l;
			struct rr_checkpoint ck;

			/* Decode the way replay does: every field through the bounds-checked cursor. */
			if (rec.type == JREC_LANDMARK)
				rr_landmark_decode(&c, &l);
			else if (rec.type == JREC_CHECKPOINT)
				rr_checkpoint_decode(&c, &ck);
			else
				while (!c.bad && c.pos < c.len)
					jcur_varint(&c);
		}
		journal_reader_close(&r);
	}
	close(fd);
	return 0;
}
