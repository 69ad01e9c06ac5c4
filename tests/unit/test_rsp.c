/* cmocka tests of the GDB remote protocol framing: checksums, escapes, acks, Ctrl-C, overflow, run-length replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rsp.h"

static struct rsp r;

/* Feed a whole string; returns the last event that was not RSP_NONE. */
static enum rsp_event feed(const char *s, size_t n)
{
	enum rsp_event last = RSP_NONE, e;

	for (size_t i = 0; i < n; i++)
		if ((e = rsp_feed(&r, (uint8_t)s[i])) != RSP_NONE)
			last = e;
	return last;
}

#define FEED(s) feed(s, sizeof(s) - 1)

static void test_packets_and_checksums(void **state)
{
	(void)state;
	rsp_init(&r);
	assert_int_equal(FEED("$g#67"), RSP_PACKET);
	assert_string_equal(r.buf, "g");
	assert_int_equal(FEED("$qSupported:multiprocess+;swbreak+#8A"), RSP_BAD_PACKET);	/* wrong sum */
	assert_int_equal(FEED("$m1000,4#8e"), RSP_PACKET);
	assert_string_equal(r.buf, "m1000,4");
	assert_int_equal(r.len, 7);
	assert_int_equal(FEED("$g#6x"), RSP_BAD_PACKET);	/* not hex */
	assert_int_equal(FEED("$#00"), RSP_PACKET);		/* empty packet */
	assert_int_equal(r.len, 0);
}

static void test_acks_interrupt_and_noise(void **state)
{
	(void)state;
	rsp_init(&r);
	assert_int_equal(rsp_feed(&r, '+'), RSP_ACK);
	assert_int_equal(rsp_feed(&r, '-'), RSP_NACK);
	assert_int_equal(rsp_feed(&r, 0x03), RSP_INTERRUPT);
	assert_int_equal(FEED("garbage\r\n"), RSP_NONE);
	/* A packet cut off by a new '$' is dropped; the new one counts. */
	assert_int_equal(FEED("$m10$g#67"), RSP_PACKET);
	assert_string_equal(r.buf, "g");
	/* 0x03 inside a packet is data, not an interrupt. */
	assert_int_equal(FEED("$\x03#03"), RSP_PACKET);
	assert_int_equal(r.buf[0], 3);
}

static void test_escapes(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	rsp_init(&r);
	/* X packets carry binary: '}' then the byte xor 0x20. */
	n = rsp_frame(out, sizeof(out), "a#b$c}d*e", 9, false);
	assert_true(n > 0);
	assert_non_null(memchr(out, '}', n));
	assert_int_equal(feed(out, n), RSP_PACKET);
	assert_int_equal(r.len, 9);
	assert_memory_equal(r.buf, "a#b$c}d*e", 9);
}

static void test_overflow(void **state)
{
	static char big[RSP_PACKET_MAX + 64];
	size_t n;

	(void)state;
	rsp_init(&r);
	memset(big, 'A', sizeof(big));
	n = rsp_frame(big, sizeof(big), big, RSP_PACKET_MAX + 10, false);
	assert_int_equal(n, 0);		/* does not fit the output */
	{
		static char framed[RSP_PACKET_MAX * 2];
		static char payload[RSP_PACKET_MAX + 10];

		memset(payload, 'A', sizeof(payload));
		n = rsp_frame(framed, sizeof(framed), payload, sizeof(payload), false);
		assert_true(n > 0);
		assert_int_equal(feed(framed, n), RSP_BAD_PACKET);	/* too long for us: refused whole */
		assert_int_equal(FEED("$g#67"), RSP_PACKET);		/* and the next one is fine */
	}
}

/* Expand gdb's run-length encoding, as the client does. */
static size_t unrle(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '*' && i + 1 < n && o) {
			for (int k = 0; k < in[i + 1] - 29; k++, o++)
				out[o] = out[o - 1];
			i++;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static void test_run_length_replies(void **state)
{
	char payload[300], framed[700], body[700];
	size_t n, m;
	uint8_t sum = 0;

	(void)state;
	for (size_t len = 1; len < sizeof(payload); len += 7) {
		memset(payload, '0', len);
		if (len > 20)
			memset(payload + 10, 'f', 8);	/* a run of 8: the count may not be '#' or '$' */
		n = rsp_frame(framed, sizeof(framed), payload, len, true);
		assert_true(n > 0 && (n <= len + 4 || len < 4));
		assert_int_equal(framed[0], '$');
		assert_int_equal(framed[n - 3], '#');
		for (size_t i = 1; i < n - 3; i++) {
			assert_true(framed[i] != '#' && framed[i] != '$');
			sum = (uint8_t)(sum + framed[i]);
		}
		m = unrle(framed + 1, n - 4, body);
		assert_int_equal(m, len);
		assert_memory_equal(body, payload, len);
		sum = 0;
	}
}

static void test_hex(void **state)
{
	uint8_t bytes[4] = { 0xde, 0xad, 0x00, 0x7f }, back[4];
	char hex[9];
	uint64_t v;
	const char *end;

	(void)state;
	assert_int_equal(rsp_hex_encode(hex, bytes, 4), 8);
	assert_string_equal(hex, "dead007f");
	assert_int_equal(rsp_hex_decode(back, "DEAD007f", 4), 0);
	assert_memory_equal(back, bytes, 4);
	assert_int_equal(rsp_hex_decode(back, "de-d", 2), -1);
	assert_int_equal(rsp_parse_hex("ffffffff81000000,4", &v, &end), 0);
	assert_int_equal(v, 0xffffffff81000000ull);
	assert_int_equal(*end, ',');
	assert_int_equal(rsp_parse_hex("10000000000000000", &v, &end), -1);	/* 65 bits */
	assert_int_equal(rsp_parse_hex(",4", &v, &end), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets_and_checksums),
		cmocka_unit_test(test_acks_interrupt_and_noise),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_run_length_replies),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
