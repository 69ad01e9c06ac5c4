/* The journal file: a zstd stream whose header is a skippable frame and whose records are typed and length-prefixed. */
#ifndef VMM_JOURNAL_H
#define VMM_JOURNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAGIC		"VMMJ"
#define JOURNAL_VERSION		6	/* 2: landmark fingerprints count pages by contents; 3: --defer; 4: ioeventfd;
					   5: no injection on the hlt of an sti; hlt (older ones replay as recorded);
					   6: pages hashed in four lanes, never-touched ones without reading them */
#define JOURNAL_VERSION_OLDEST	2	/* what a version 2 journal means has not changed */
#define JOURNAL_SKIPPABLE_HEADER 0x184d2a50u	/* zstd skippable frame, nibble 0: our header */
#define JOURNAL_SKIPPABLE_INDEX	0x184d2a51u	/* nibble 1: the checkpoint index, last in the file */
#define JOURNAL_INDEX_MAGIC	"VMMI"
#define JOURNAL_ZSTD_MAGIC	0xfd2fb528u
#define JOURNAL_FLUSH_NS	100000000ull	/* a frame ends at least every 100 ms of recording */
#define JOURNAL_IDLE_NS		10000000ull	/* ... at its first record past that, or by a kick this much later */
#define JOURNAL_FRAME_MAX	(1u << 20)	/* ... or every MiB of records */

/* Record types. Their order in the stream is their position (docs/journal.md). */
enum jrec {
	JREC_EXIT = 1,		/* one handled KVM exit */
	JREC_TICK = 2,		/* device timers serviced at a time */
	JREC_INPUT = 3,		/* serial input bytes entered COM1 */
	JREC_INJECT = 4,	/* an interrupt vector injected */
	JREC_LANDMARK = 5,	/* a point between exits where the recorder kicked the vCPU */
	JREC_END = 6,		/* clean end: why, and the final state digest */
	JREC_CHECKPOINT = 7,	/* state digests at a position; starts a frame; listed in the index */
	JREC_VIRTIO = 8,	/* a virtio backend's result: device, queue, chain head, bytes for the guest */
	JREC_NOTIFY = 9,	/* a driver's queue notification, taken from its ioeventfd: device, queue */
	JREC_MAX
};

/* Header fields (TLV inside the skippable frame). */
enum jhdr {
	JHDR_MEM_SIZE = 1,
	JHDR_RTC_EPOCH = 2,
	JHDR_CMDLINE = 3,
	JHDR_KERNEL_PATH = 4,
	JHDR_KERNEL_SHA256 = 5,
	JHDR_INITRD_PATH = 6,
	JHDR_INITRD_SHA256 = 7,
	JHDR_CPUID = 8,
	JHDR_BOARD = 9,
	JHDR_VMM_VERSION = 10,
	JHDR_HOST_CPU = 11,
	JHDR_DEFER = 12,		/* ns due work could wait for an exit (record --defer) */
	JHDR_CHAOS = 13,		/* record --chaos: the seed (absent: no chaos) */
	JHDR_IOEVENTFD = 14,		/* 1: virtio notifications went through KVM_IOEVENTFD (absent: 0) */
};

#define JOURNAL_STR_MAX 4096

struct journal_header {
	uint16_t version;
	uint64_t mem_size;
	int64_t rtc_epoch;
	char cmdline[JOURNAL_STR_MAX];
	char kernel_path[JOURNAL_STR_MAX];
	uint8_t kernel_sha256[32];
	bool has_initrd;
	char initrd_path[JOURNAL_STR_MAX];
	uint8_t initrd_sha256[32];
	uint8_t cpuid[1024];		/* the CPUID table, 28 bytes a leaf */
	size_t cpuid_len;
	char board[512];		/* device list, in board order */
	char vmm_version[64];
	/*
	 * The host CPU the vCPU thread was pinned to, or -1. Some KVMs (kvm_pvm)
	 * let guest user mode run CPUID on the host CPU itself, so the guest
	 * sees that CPU's APIC ID: replay must run on the same one.
	 */
	int32_t host_cpu;
	uint64_t defer_ns;
	bool chaos;			/* recorded with --chaos ... */
	uint64_t chaos_seed;		/* ... from this seed (replay needs neither) */
	/*
	 * The notify registers were ioeventfds: their writes made no exit, so
	 * replay registers them too (and takes JREC_NOTIFY records).
	 */
	bool ioeventfd;
};

/* A checkpoint as the index lists it: where its frame starts and where the run was. */
struct journal_index_entry {
	uint64_t offset;		/* file offset of the frame that starts with the checkpoint */
	uint64_t record;		/* its record number */
	uint64_t exits;			/* exit ordinal at the checkpoint */
	uint64_t time_ns;		/* guest time of the exit or tick before it */
};

/*
 * Records are gathered into frames on the recording thread; a writer thread
 * compresses each frame whole and writes it (replay/journal_write.c), so
 * zstd runs beside the guest rather than in its exits. Without the thread
 * (one CPU, where it could only take turns with the guest) the recording
 * thread does it as each frame ends.
 */
/*
 * A frame of at least JOURNAL_STORE_MIN bytes is stored, not compressed,
 * when zstd shrinks JOURNAL_PROBES slices of JOURNAL_PROBE_BYTES spread
 * across it by less than 1/32.
 */
#define JOURNAL_STORE_MIN	(64u * 1024)
#define JOURNAL_PROBES		4
#define JOURNAL_PROBE_BYTES	4096
#define JOURNAL_QUEUE 4		/* frames waiting for the writer before a recorder waits too */
struct jframe;
struct journal_writer {
	int fd;
	bool sync;			/* fdatasync after every frame, before the recorder goes on */
	/* The recording thread's. */
	struct jframe *cur;		/* the open frame, or NULL */
	bool frame_open;
	uint64_t frame_start_ns;
	uint64_t raw_bytes, records;
	/* Shared, under lock. */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cv;		/* a frame queued, written, or the writer told to stop */
	bool ready, thread_on, lock_init, busy, stopping;
	struct jframe *queue[JOURNAL_QUEUE];
	unsigned head, queued;
	struct jframe *free[JOURNAL_QUEUE + 1];
	unsigned nfree;
	int error;			/* the writer's first failure, sticky */
	uint64_t frames, busy_ns;	/* frames written, time the writer spent on them */
	uint64_t stored;		/* frames of them written as they were, not compressed */
	uint64_t stall_ns;		/* time the recorder waited for the writer */
	/* The writer thread's (the recorder's after close). */
	void *cctx;			/* ZSTD_CCtx */
	uint8_t *out;
	size_t out_cap;
	uint64_t file_bytes;
	struct journal_index_entry *index;
	size_t index_len, index_cap;
};

struct journal_record {
	uint8_t type;
	const uint8_t *data;
	size_t len;
	uint64_t offset;		/* file offset of the frame that holds it */
	uint64_t index;			/* record number from 0 */
};

struct journal_reader {
	uint8_t *map;
	size_t size;
	size_t next;			/* file offset of the next frame */
	size_t frame_off;		/* file offset of the current frame */
	void *dctx;			/* ZSTD_DCtx */
	uint8_t *buf;			/* the current frame, decompressed */
	size_t buf_len, buf_cap, pos;
	uint64_t records;
	bool truncated;			/* the file ends inside a frame (a killed recorder) */
	size_t frames_end;		/* where the index frame starts, or the file's size without one */
	uint64_t truncated_at;
};

/* Writer. Refuses an existing file unless force. */
int journal_writer_open(struct journal_writer *w, const char *path, bool force,
			const struct journal_header *h, char *err, size_t errlen);
int journal_write(struct journal_writer *w, uint8_t type, const void *payload, size_t len,
		  uint64_t now_ns);
/* One record whose payload is head then data: a large payload goes into the frame with one copy. */
int journal_write2(struct journal_writer *w, uint8_t type, const void *head, size_t hlen,
		   const void *data, size_t len, uint64_t now_ns);
/* End the open frame and hand it to the writer (with sync: and wait until it is on disk). */
int journal_flush(struct journal_writer *w);
/* File bytes written so far, from any thread. */
uint64_t journal_written(const struct journal_writer *w);
/* Write a checkpoint record at the start of a new frame and list it in the index. */
int journal_write_checkpoint(struct journal_writer *w, const void *payload, size_t len,
			     uint64_t now_ns, uint64_t exits, uint64_t time_ns);
/*
 * Compress and write frames on a thread of their own from now on (else the
 * recording thread does it as each frame ends). 0 or -errno.
 */
int journal_writer_start_thread(struct journal_writer *w);
int journal_writer_close(struct journal_writer *w);

/* write(2) all n bytes, through EINTR and short writes. 0 or -errno. */
int journal_write_all(int fd, const void *p, size_t n);

/* Reader. Every error names the file offset and what was expected. */
int journal_reader_open(struct journal_reader *r, const char *path, struct journal_header *h,
			char *err, size_t errlen);
/* 1: a record; 0: end of file; <0: error (err says where). */
int journal_read(struct journal_reader *r, struct journal_record *rec, char *err, size_t errlen);
void journal_reader_close(struct journal_reader *r);
/*
 * The index of a cleanly closed journal: *n entries in *e (malloc'ed), or
 * *n = 0 when the file has none (a killed recorder). <0: a damaged index.
 */
int journal_read_index(struct journal_reader *r, struct journal_index_entry **e, size_t *n,
		       char *err, size_t errlen);
/* Continue reading at an index entry: its checkpoint is the next record. */
void journal_seek(struct journal_reader *r, const struct journal_index_entry *e);
const char *journal_record_name(uint8_t type);

/* Varint and fixed-width helpers for payloads. */
struct jbuf {
	uint8_t *p;
	size_t len, cap;
};
void jbuf_u8(struct jbuf *b, uint8_t v);
void jbuf_varint(struct jbuf *b, uint64_t v);
void jbuf_bytes(struct jbuf *b, const void *d, size_t n);

struct jcur {
	const uint8_t *p;
	size_t len, pos;
	bool bad;		/* read past the end: the record is malformed */
};
uint8_t jcur_u8(struct jcur *c);
uint64_t jcur_varint(struct jcur *c);
const uint8_t *jcur_bytes(struct jcur *c, size_t n);

#endif
