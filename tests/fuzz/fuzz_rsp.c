/*
 * Fuzz target for the GDB remote protocol framing: any bytes from a client
 * must give packets, refusals or nothing, never a crash; every packet parsed
 * must frame again (with and without run-length encoding) to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rsp.h"

const char fuzz_name[] = "fuzz_rsp";

static char framed[2 * RSP_PACKET_MAX + 8];

static void round_trip(const struct rsp *r, bool rle)
{
	static struct rsp back;
	size_t n = rsp_frame(framed, sizeof(framed), r->buf, r->len, rle);
	enum rsp_event e = RSP_NONE;

	if (!n)
		abort();
	rsp_init(&back);
	for (size_t i = 0; i < n; i++)
		e = rsp_feed(&back, (uint8_t)framed[i]);
	/* RLE is for replies, which our parser (a stub's) does not expand: compare plain frames only. */
	if (!rle && (e != RSP_PACKET || back.len != r->len || memcmp(back.buf, r->buf, r->len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rsp r;

	rsp_init(&r);
	for (size_t i = 0; i < size; i++) {
		if (rsp_feed(&r, data[i]) != RSP_PACKET)
			continue;
		/* The field parsers the stub will use, on whatever came. */
		{
			uint64_t v;
			const char *end;
			uint8_t bytes[64];

			rsp_parse_hex(r.buf + (r.len > 0), &v, &end);
			rsp_hex_decode(bytes, r.buf, r.len / 2 < sizeof(bytes) ? r.len / 2 : sizeof(bytes));
		}
		round_trip(&r, false);
		round_trip(&r, true);
	}
	return 0;
}

/* Sessions of real packets, framed here so that their checksums are right. */
uint8_t *fuzz_seed(unsigned i, size_t *len)
{
	static const char *const sessions[4][4] = {
		{ "qSupported:multiprocess+;swbreak+;hwbreak+", "?", "g", "qXfer:features:read:target.xml:0,ffb" },
		{ "m100000,40", "Z0,100010,1", "c", "vCont;s:1" },
		{ "X100000,4:\x03#$}", "p10", "P10=0011223344556677", "z1,ffffffff81000000,1" },
		{ "M100000,2:abcd", "qRcmd,6d6f6e69746f72", "vCont?", "D" },
	};
	char *out = malloc(4096);
	size_t n = 0;

	if (!out)
		return NULL;
	for (int k = 0; k < 4; k++) {
		out[n++] = '+';
		n += rsp_frame(out + n, 4096 - n, sessions[i % 4][k], strlen(sessions[i % 4][k]), false);
	}
	out[n++] = 0x03;
	*len = n;
	return (uint8_t *)out;
}
