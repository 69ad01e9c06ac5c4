/* Serial output, a small printf and report(): shared by the 32-bit guests and the 64-bit user-mode part. */
#include "guest.h"

#define COM1 0x3f8

static unsigned passed, failed;

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void serial_init(void)
{
	outb(COM1 + 1, 0x00);	/* no interrupts */
	outb(COM1 + 3, 0x80);	/* DLAB */
	outb(COM1 + 0, 0x01);	/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0x07);	/* FIFO on, cleared */
}

void putc_serial(char c)
{
	if (c == '\n')
		putc_serial('\r');
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

struct out {
	char *buf;
	size_t n, len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->n)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_num(struct out *o, unsigned long long v, unsigned base, int width, char pad, bool neg)
{
	char tmp[24];
	int i = 0;

	do {
		unsigned d;
		/* Base 16 by shifts; base 10 by a division libgcc provides. */
		if (base == 16) {
			d = (unsigned)(v & 15);
			v >>= 4;
		} else {
			d = (unsigned)(v % 10);
			v /= 10;
		}
		tmp[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
	} while (v && i < (int)sizeof(tmp));
	if (neg)
		tmp[i++] = '-';
	while (i < width--)
		emit(o, pad);
	while (i)
		emit(o, tmp[--i]);
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct out o = { buf, n, 0 };

	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			emit(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long long v = longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);

			emit_num(&o, v < 0 ? (unsigned long long)-v : (unsigned long long)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = longs >= 2 ? va_arg(ap, unsigned long long)
					     : longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);

			emit_num(&o, v, *fmt == 'x' ? 16 : 10, width, pad, false);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (*s)
				emit(&o, *s++);
			break;
		}
		case 'c':
			emit(&o, (char)va_arg(ap, int));
			break;
		case '%':
			emit(&o, '%');
			break;
		default:
			emit(&o, '?');
			break;
		}
	}
	if (n)
		buf[o.len < n ? o.len : n - 1] = 0;
	return (int)o.len;
}

int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	puts_serial(buf);
	return r;
}

static bool deferring;
static unsigned deferred_count;
static struct { bool cond; char text[96]; } deferred[32];

bool report(bool cond, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cond)
		passed++;
	else
		failed++;
	if (deferring && deferred_count < 32) {
		deferred[deferred_count].cond = cond;
		size_t n = strlen(buf) < sizeof(deferred[0].text) - 1 ? strlen(buf) : sizeof(deferred[0].text) - 1;

		memcpy(deferred[deferred_count].text, buf, n);
		deferred[deferred_count].text[n] = 0;
		deferred_count++;
		return cond;
	}
	printf("%s %u - %s\n", cond ? "ok" : "not ok", passed + failed, buf);
	return cond;
}

void report_defer(void)
{
	deferring = true;
}

void report_flush(void)
{
	unsigned first = passed + failed - deferred_count;

	deferring = false;
	for (unsigned i = 0; i < deferred_count; i++)
		printf("%s %u - %s\n", deferred[i].cond ? "ok" : "not ok", first + i + 1, deferred[i].text);
	deferred_count = 0;
}

void report_info(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s\n", buf);
}

void guest_exit(uint32_t code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void report_summary(void)
{
	printf("%u passed, %u failed\n", passed, failed);
	guest_exit(failed ? 1 : 0);
}
