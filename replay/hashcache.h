/* The SHA-256s of a journal's inputs, remembered by file identity so that a kernel is hashed once, not every run. */
#ifndef VMM_HASHCACHE_H
#define VMM_HASHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * What names a file's contents without reading them, as git's index does:
 * device, inode, size, and the modification and change times to the
 * nanosecond. Any write to the file moves its change time, which no program
 * can set back. known: fstat saw the same before and after the read.
 */
struct file_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	bool known;
};

/* The identity fstat gives (known is left to the caller). */
void file_id_from_stat(struct file_id *id, const struct stat *st);

/*
 * A file changed less than this many seconds before it was hashed is not
 * remembered: a write in the same tick of the file system's clock could leave
 * its times as they were.
 */
#define HASHCACHE_SETTLE_S 2
#define HASHCACHE_ENTRIES 64
#define HASHCACHE_FILE "input-sha256"

/*
 * out = SHA-256 of data, which was read from the file id names: taken from
 * the cache in dir when an entry there has that identity, else computed and,
 * where the file is settled, remembered there. dir NULL (no cache), an
 * unknown identity, or a cache that cannot be read or written: computed,
 * nothing else happens. Returns true when the digest came from the cache.
 */
bool hashcache_sha256(const char *dir, const struct file_id *id, const void *data, size_t len, uint8_t out[32]);

#endif
