/* Serial backend: stdio (raw terminal, Ctrl-A x quits), file or none; input arrives on a reader thread. */
#include "console.h"
#include "thread.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_tio;
static int saved_tio_valid;

static void restore_tty(void)
{
	if (saved_tio_valid)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	saved_tio_valid = 0;
}

static int open_console(struct console *c, const char *spec, bool keep, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->room, NULL);
	c->out_fd = -1;
	if (strcmp(spec, "stdio") == 0) {
		c->kind = CONSOLE_STDIO;
		c->out_fd = STDOUT_FILENO;
	} else if (strcmp(spec, "none") == 0) {
		c->kind = CONSOLE_NONE;
	} else if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
		c->kind = CONSOLE_FILE;
		c->out_fd = open(spec + 5, O_WRONLY | O_CREAT | (keep ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			int e = errno;

			snprintf(err, errlen, "cannot open serial output '%s': %s", spec + 5, strerror(e));
			return -e;
		}
	} else {
		snprintf(err, errlen, "--serial takes stdio, file:PATH or none, not '%s'", spec);
		return -EINVAL;
	}
	return 0;
}

int console_open(struct console *c, const char *spec, char *err, size_t errlen)
{
	return open_console(c, spec, false, err, errlen);
}

int console_open_keep(struct console *c, const char *spec, char *err, size_t errlen)
{
	return open_console(c, spec, true, err, errlen);
}

void console_write(struct console *c, const uint8_t *bytes, size_t n)
{
	if (c->out_fd < 0 || c->mute)
		return;
	while (n) {
		ssize_t w = write(c->out_fd, bytes, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a closed or full output loses the guest's bytes, never the run */
		bytes += w;
		n -= (size_t)w;
	}
}

void console_putc(struct console *c, uint8_t byte)
{
	console_write(c, &byte, 1);
}

static void push_input(struct console *c, uint8_t byte)
{
	pthread_mutex_lock(&c->lock);
	while (c->count == CONSOLE_RING && !c->quit_requested)
		pthread_cond_wait(&c->room, &c->lock);	/* the guest is not reading: hold the sender */
	if (c->count < CONSOLE_RING) {
		c->ring[(c->head + c->count) % CONSOLE_RING] = byte;
		c->count++;
	}
	pthread_mutex_unlock(&c->lock);
}

static void *reader_main(void *arg)
{
	struct console *c = arg;
	bool escape = false;
	uint8_t buf[256];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EOF: the guest simply gets no more input */
		for (ssize_t i = 0; i < n; i++) {
			uint8_t b = buf[i];

			if (c->raw_tty && escape) {
				escape = false;
				if (b == 'x' || b == 'X') {
					pthread_mutex_lock(&c->lock);
					c->quit_requested = true;
					pthread_mutex_unlock(&c->lock);
					c->kick(c->kick_opaque);
					return NULL;
				}
				if (b != CONSOLE_ESCAPE)
					continue;	/* unknown escape: swallowed */
			} else if (c->raw_tty && b == CONSOLE_ESCAPE) {
				escape = true;
				continue;
			}
			push_input(c, b);
		}
		c->kick(c->kick_opaque);
	}
	return NULL;
}

int console_start(struct console *c, void (*kick)(void *), void *opaque)
{
	int r;

	c->kick = kick;
	c->kick_opaque = opaque;
	if (c->kind != CONSOLE_STDIO)
		return 0;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios tio = saved_tio;

		/* Raw input so Ctrl-C reaches the guest; keep output processing for \n. */
		tio.c_iflag &= (tcflag_t)~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
		tio.c_lflag &= (tcflag_t)~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
		tio.c_cc[VMIN] = 1;
		tio.c_cc[VTIME] = 0;
		saved_tio_valid = 1;
		atexit(restore_tty);
		tcsetattr(STDIN_FILENO, TCSANOW, &tio);
		c->raw_tty = true;
	}
	if ((r = thread_start_quiet(&c->reader, reader_main, c)) < 0)
		return r;
	pthread_detach(c->reader);
	c->reader_running = true;
	return 0;
}

unsigned console_pump(struct console *c, int (*accept)(void *, uint8_t), void *opaque)
{
	unsigned moved = 0;

	if (c->kind != CONSOLE_STDIO)
		return 0;
	pthread_mutex_lock(&c->lock);
	while (c->count && accept(opaque, c->ring[c->head]) == 0) {
		c->head = (c->head + 1) % CONSOLE_RING;
		c->count--;
		moved++;
	}
	if (moved)
		pthread_cond_signal(&c->room);
	pthread_mutex_unlock(&c->lock);
	return moved;
}

bool console_quit_requested(struct console *c)
{
	bool q;

	pthread_mutex_lock(&c->lock);
	q = c->quit_requested;
	pthread_mutex_unlock(&c->lock);
	return q;
}

bool console_pending(struct console *c)
{
	bool p;

	if (c->kind != CONSOLE_STDIO)
		return false;
	pthread_mutex_lock(&c->lock);
	p = c->count != 0;
	pthread_mutex_unlock(&c->lock);
	return p;
}

void console_close(struct console *c)
{
	restore_tty();
	if (c->kind == CONSOLE_FILE && c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	/* The reader thread may sit in read(); it is detached and dies with the process. */
}
