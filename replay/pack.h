/* Packed journals: the inputs replay needs, carried inside the journal as skippable frames. */
#ifndef VMM_PACK_H
#define VMM_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"

#define JOURNAL_SKIPPABLE_INPUT	0x184d2a52u	/* nibble 2: a packed input file, before the index */
#define PACK_INPUT_MAGIC	"VMMF"
#define PACK_NAME_MAX		255

enum pack_kind { PACK_KERNEL = 1, PACK_INITRD = 2, PACK_SYMBOLS = 3, PACK_KINDS };

/* One packed file, pointing into the reader's map (or, to pack, into the caller's buffer). */
struct pack_input {
	enum pack_kind kind;
	char name[PACK_NAME_MAX + 1];	/* the file's base name */
	uint8_t sha256[32];
	const uint8_t *data;
	size_t len;
};

const char *pack_kind_name(enum pack_kind k);

/*
 * Write to out a copy of the journal open in r with these inputs added,
 * before its index. The journal must have an index (closed properly): a
 * journal cut short has no place after its last frame that replay would
 * read. Refuses an existing out unless force. 0 or -errno; err says why.
 */
int pack_write(const struct journal_reader *r, const char *out, bool force, const struct pack_input *in,
	       unsigned n, char *err, size_t errlen);

/*
 * The packed input of this kind in the journal open in r: 1 and *in filled
 * (data checked against its hash), 0 if there is none, -EINVAL with err if a
 * packed file is damaged.
 */
int pack_find(const struct journal_reader *r, enum pack_kind kind, struct pack_input *in, char *err, size_t errlen);

#endif
