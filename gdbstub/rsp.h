/* The GDB remote serial protocol's framing: packets, checksums, escapes, run-length replies, acks, Ctrl-C. */
#ifndef VMM_RSP_H
#define VMM_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RSP_PACKET_MAX	16384	/* payload bytes we accept; qSupported says PacketSize=4000 (hex) */

enum rsp_event {
	RSP_NONE,		/* byte taken, nothing complete yet */
	RSP_PACKET,		/* a packet with a good checksum: r->buf, r->len (unescaped, NUL-terminated) */
	RSP_BAD_PACKET,		/* checksum wrong or packet too long: answer '-' */
	RSP_ACK,		/* '+' */
	RSP_NACK,		/* '-': send the last reply again */
	RSP_INTERRUPT,		/* 0x03 outside a packet: Ctrl-C */
};

struct rsp {
	enum { RSP_IDLE, RSP_DATA, RSP_ESCAPE, RSP_CSUM1, RSP_CSUM2 } state;
	uint8_t sum;		/* running checksum of the raw packet bytes */
	uint8_t want;		/* checksum as sent */
	bool overflow;
	size_t len;
	char buf[RSP_PACKET_MAX + 1];
};

void rsp_init(struct rsp *r);
/* One byte from the client. */
enum rsp_event rsp_feed(struct rsp *r, uint8_t byte);
/*
 * Frame payload as "$...#cc" into out (cap bytes), escaping '#', '$', '}'
 * and '*', and with rle, run-length encoding runs the way gdb reads them.
 * Returns the framed length, or 0 if it does not fit.
 */
size_t rsp_frame(char *out, size_t cap, const void *payload, size_t len, bool rle);

/* Hex helpers for packet fields: 0 on success, -1 on a malformed field. */
int rsp_hex_value(char c);
size_t rsp_hex_encode(char *out, const void *data, size_t len);
int rsp_hex_decode(void *out, const char *hex, size_t len);
/* Parse a hex number up to a character in stop (or the end); *end after it. */
int rsp_parse_hex(const char *s, uint64_t *v, const char **end);

#endif
