/* GDB remote protocol framing: a byte-at-a-time parser that never trusts the client, and the reply encoder. */
#include "rsp.h"

#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

void rsp_init(struct rsp *r)
{
	memset(r, 0, sizeof(*r));
}

int rsp_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put(struct rsp *r, char c)
{
	if (r->len < RSP_PACKET_MAX)
		r->buf[r->len++] = c;
	else
		r->overflow = true;
}

enum rsp_event rsp_feed(struct rsp *r, uint8_t byte)
{
	int v;

	switch (r->state) {
	case RSP_IDLE:
		if (byte == '$') {
			r->state = RSP_DATA;
			r->len = 0;
			r->sum = 0;
			r->overflow = false;
			return RSP_NONE;
		}
		if (byte == '+')
			return RSP_ACK;
		if (byte == '-')
			return RSP_NACK;
		if (byte == 0x03)
			return RSP_INTERRUPT;
		return RSP_NONE;	/* noise between packets is ignored, as gdbserver does */
	case RSP_DATA:
		if (byte == '#') {
			r->state = RSP_CSUM1;
			return RSP_NONE;
		}
		if (byte == '$') {	/* a new packet started: the old one was cut off */
			r->len = 0;
			r->sum = 0;
			r->overflow = false;
			return RSP_NONE;
		}
		r->sum = (uint8_t)(r->sum + byte);
		if (byte == '}')
			r->state = RSP_ESCAPE;
		else
			put(r, (char)byte);
		return RSP_NONE;
	case RSP_ESCAPE:
		r->sum = (uint8_t)(r->sum + byte);
		put(r, (char)(byte ^ 0x20));
		r->state = RSP_DATA;
		return RSP_NONE;
	case RSP_CSUM1:
		if ((v = rsp_hex_value((char)byte)) < 0) {
			r->state = RSP_IDLE;
			return RSP_BAD_PACKET;
		}
		r->want = (uint8_t)(v << 4);
		r->state = RSP_CSUM2;
		return RSP_NONE;
	case RSP_CSUM2:
		r->state = RSP_IDLE;
		if ((v = rsp_hex_value((char)byte)) < 0 || (uint8_t)(r->want | v) != r->sum || r->overflow)
			return RSP_BAD_PACKET;
		r->buf[r->len] = 0;
		return RSP_PACKET;
	}
	r->state = RSP_IDLE;
	return RSP_NONE;
}

/* Append one payload byte, escaped if the protocol reserves it. */
static bool emit(char *out, size_t cap, size_t *n, uint8_t *sum, uint8_t c)
{
	if (c == '#' || c == '$' || c == '}' || c == '*') {
		if (*n + 2 > cap)
			return false;
		out[(*n)++] = '}';
		out[(*n)++] = (char)(c ^ 0x20);
		*sum = (uint8_t)(*sum + '}' + (c ^ 0x20));
		return true;
	}
	if (*n + 1 > cap)
		return false;
	out[(*n)++] = (char)c;
	*sum = (uint8_t)(*sum + c);
	return true;
}

size_t rsp_frame(char *out, size_t cap, const void *payload, size_t len, bool rle)
{
	const uint8_t *p = payload;
	uint8_t sum = 0;
	size_t n = 0;

	if (cap < 4)
		return 0;
	out[n++] = '$';
	for (size_t i = 0; i < len;) {
		size_t run = 1;

		/* Runs of escaped bytes stay literal: a count repeats the byte before it, the escaped one. */
		while (rle && i + run < len && p[i + run] == p[i] && run < 98 && p[i] != '#' && p[i] != '$' &&
		       p[i] != '}' && p[i] != '*')
			run++;
		if (!emit(out, cap - 3, &n, &sum, p[i]))
			return 0;
		/*
		 * "c*N" repeats c N-29 more times; N must be printable and must not
		 * be '#' or '$' (35, 36), so runs of 7 or 8 are sent one shorter.
		 */
		if (run > 3) {
			size_t extra = run - 1;

			if (extra == 6 || extra == 7)
				extra = 5;
			if (n + 2 > cap - 3)
				return 0;
			out[n++] = '*';
			out[n++] = (char)(extra + 29);
			sum = (uint8_t)(sum + '*' + extra + 29);
			i += extra + 1;
		} else {
			i++;
		}
	}
	out[n++] = '#';
	out[n++] = hexdigits[sum >> 4];
	out[n++] = hexdigits[sum & 15];
	return n;
}

size_t rsp_hex_encode(char *out, const void *data, size_t len)
{
	const uint8_t *d = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexdigits[d[i] >> 4];
		out[2 * i + 1] = hexdigits[d[i] & 15];
	}
	out[2 * len] = 0;
	return 2 * len;
}

int rsp_hex_decode(void *out, const char *hex, size_t len)
{
	uint8_t *o = out;

	for (size_t i = 0; i < len; i++) {
		int hi = rsp_hex_value(hex[2 * i]), lo = hi < 0 ? -1 : rsp_hex_value(hex[2 * i + 1]);

		if (lo < 0)
			return -1;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int rsp_parse_hex(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	int d, n = 0;

	while ((d = rsp_hex_value(*s)) >= 0) {
		if (++n > 16)
			return -1;	/* more than 64 bits */
		x = x << 4 | (uint64_t)d;
		s++;
	}
	if (!n)
		return -1;
	*v = x;
	if (end)
		*end = s;
	return 0;
}
