/* The input-hash cache: one small text file of file identities and the SHA-256s their contents had. */
#include "hashcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

#define HASHCACHE_MAGIC "vmm input sha256 1\n"
#define NS 1000000000ll

struct hc_entry {
	struct file_id id;
	uint8_t sha[32];
};

void file_id_from_stat(struct file_id *id, const struct stat *st)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * NS + st->st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * NS + st->st_ctim.tv_nsec;
}

static bool same_file(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static bool same_id(const struct file_id *a, const struct file_id *b)
{
	return same_file(a, b) && a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* The next space-separated number of *s; false when there is none or it does not fit. */
static bool next_u64(const char **s, uint64_t *v)
{
	char *end;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	*v = strtoull(*s, &end, 10);
	if (errno || (*end != ' ' && *end != '\n'))
		return false;
	*s = *end == ' ' ? end + 1 : end;
	return true;
}

static bool next_i64(const char **s, int64_t *v)
{
	char *end;

	if ((**s < '0' || **s > '9') && **s != '-')
		return false;
	errno = 0;
	*v = strtoll(*s, &end, 10);
	if (errno || *end != ' ')
		return false;
	*s = end + 1;
	return true;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "dev ino size mtime_ns ctime_ns sha256-hex\n": false for anything else, which the cache then forgets. */
static bool parse_line(const char *s, struct hc_entry *e)
{
	if (!next_u64(&s, &e->id.dev) || !next_u64(&s, &e->id.ino) || !next_u64(&s, &e->id.size) ||
	    !next_i64(&s, &e->id.mtime_ns) || !next_i64(&s, &e->id.ctime_ns))
		return false;
	for (int i = 0; i < 32; i++) {
		int hi = hex_digit(s[2 * i]), lo = hi < 0 ? -1 : hex_digit(s[2 * i + 1]);

		if (lo < 0)
			return false;
		e->sha[i] = (uint8_t)(hi << 4 | lo);
	}
	e->id.known = true;
	return s[64] == '\n';
}

static void cache_path(char *out, size_t n, const char *dir)
{
	snprintf(out, n, "%s/%s", dir, HASHCACHE_FILE);
}

/* The cache's entries, at most max; 0 when it does not exist or is not one. */
static unsigned load(const char *dir, struct hc_entry *e, unsigned max)
{
	char path[PATH_MAX], line[256];
	unsigned n = 0;
	FILE *f;

	cache_path(path, sizeof(path), dir);
	if (!(f = fopen(path, "re")))
		return 0;
	if (fgets(line, sizeof(line), f) && !strcmp(line, HASHCACHE_MAGIC))
		while (n < max && fgets(line, sizeof(line), f))
			n += parse_line(line, &e[n]);
	fclose(f);
	return n;
}

/* dir, and the directory it is in (~/.cache for ~/.cache/vmm), private to the user. */
static void make_dirs(const char *dir)
{
	char p[PATH_MAX];
	char *slash;

	snprintf(p, sizeof(p), "%s", dir);
	slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = 0;
		(void)mkdir(p, 0700);
		*slash = '/';
	}
	(void)mkdir(p, 0700);
}

/*
 * The new entry first, then the others, the oldest falling off the end:
 * written whole to a new file and renamed over the old, so that a reader,
 * even another vmm of a hunt storing at the same moment, sees one or the
 * other whole (the slower one's entry may be lost: the file is only a cache).
 */
static void store(const char *dir, const struct hc_entry *e)
{
	struct hc_entry old[HASHCACHE_ENTRIES];
	unsigned n = load(dir, old, HASHCACHE_ENTRIES), kept = 1;
	char path[PATH_MAX], tmp[PATH_MAX];
	const struct hc_entry *w;
	FILE *f;
	int fd;

	make_dirs(dir);
	cache_path(path, sizeof(path), dir);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, HASHCACHE_FILE) >= sizeof(tmp) ||
	    (fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return;
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		unlink(tmp);
		return;
	}
	fputs(HASHCACHE_MAGIC, f);
	for (unsigned i = 0; i <= n; i++) {
		w = i == 0 ? e : &old[i - 1];
		if (i > 0 && (same_file(&w->id, &e->id) || kept++ >= HASHCACHE_ENTRIES))
			continue;
		fprintf(f, "%llu %llu %llu %lld %lld ", (unsigned long long)w->id.dev, (unsigned long long)w->id.ino,
			(unsigned long long)w->id.size, (long long)w->id.mtime_ns, (long long)w->id.ctime_ns);
		for (int j = 0; j < 32; j++)
			fprintf(f, "%02x", w->sha[j]);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

/* Changed long enough ago that a later write must move its change time. */
static bool settled(const struct file_id *id)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return id->ctime_ns <= ((int64_t)now.tv_sec - HASHCACHE_SETTLE_S) * NS + now.tv_nsec;
}

bool hashcache_sha256(const char *dir, const struct file_id *id, const void *data, size_t len, uint8_t out[32])
{
	bool usable = dir && *dir && id && id->known && id->size == len;
	struct hc_entry e[HASHCACHE_ENTRIES];
	unsigned n = usable ? load(dir, e, HASHCACHE_ENTRIES) : 0;

	for (unsigned i = 0; i < n; i++)
		if (same_id(&e[i].id, id)) {
			memcpy(out, e[i].sha, 32);
			return true;
		}
	sha256(data, len, out);
	if (usable && settled(id)) {
		struct hc_entry mine = { *id, { 0 } };

		memcpy(mine.sha, out, 32);
		store(dir, &mine);
	}
	return false;
}
