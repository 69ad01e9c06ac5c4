/* Serial backend: where COM1's output goes and where its input comes from (stdio, a file, nothing). */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define CONSOLE_RING 4096
#define CONSOLE_ESCAPE 0x01	/* Ctrl-A, as in QEMU */

enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

struct console {
	enum console_kind kind;
	int out_fd;
	bool raw_tty;		/* stdin is a terminal we switched to raw mode */
	bool mute;		/* output already shown (replay re-executing for gdb): drop it */
	/* Input ring, filled by the reader thread, drained by the vCPU thread. */
	pthread_mutex_t lock;
	pthread_cond_t room;
	uint8_t ring[CONSOLE_RING];
	unsigned head, count;
	bool reader_running, quit_requested;
	pthread_t reader;
	void (*kick)(void *opaque);	/* wake the vCPU thread */
	void *kick_opaque;
};

/* spec: "stdio", "file:PATH" or "none". Returns 0 or -errno; err says why. */
int console_open(struct console *c, const char *spec, char *err, size_t errlen);
/* The same, but a file's earlier contents stay: output continues after them. */
int console_open_keep(struct console *c, const char *spec, char *err, size_t errlen);
int console_start(struct console *c, void (*kick)(void *), void *opaque);
void console_close(struct console *c);
void console_putc(struct console *c, uint8_t byte);
/* The guest's output, in as few writes as the output takes. */
void console_write(struct console *c, const uint8_t *bytes, size_t n);
/* Move queued input into the guest while accept() takes it; returns bytes moved. */
unsigned console_pump(struct console *c, int (*accept)(void *, uint8_t), void *opaque);
bool console_quit_requested(struct console *c);
/* Input is queued that the guest has not taken yet. */
bool console_pending(struct console *c);

#endif
