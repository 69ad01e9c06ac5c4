/* Host ends of virtio-net: a TAP device or a UDP socket carrying one Ethernet frame per datagram. */
#ifndef VMM_NETDEV_H
#define VMM_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETDEV_RING	64	/* received frames waiting for the guest; more are dropped */
#define NETDEV_FRAME	1518

struct netdev;

/*
 * Open the backend named by spec: "tap:NAME" or "udp:[HOST:]PORT" with an
 * optional ",peer=HOST:PORT" (then datagrams from any other address or port
 * are refused; without one, frames go to whoever sent the last datagram).
 * err says what went wrong.
 */
int netdev_open(struct netdev **out, const char *spec, char *err, size_t errlen);
/* Start reading frames; wake is called (from another thread) when one arrives. */
int netdev_start(struct netdev *nd, void (*wake)(void *ctx), void *ctx);
void netdev_close(struct netdev *nd);
/* Send one frame; dropped (and counted) if the host side cannot take it now. */
void netdev_send(struct netdev *nd, const uint8_t *frame, size_t len);
/* The oldest received frame (its length, *frame pointing at it), or 0 if none. */
size_t netdev_peek(struct netdev *nd, const uint8_t **frame);
/* Done with the frame netdev_peek returned. */
void netdev_pop(struct netdev *nd);

struct netdev_stats {
	uint64_t rx, rx_dropped, tx, tx_dropped;
	uint64_t rx_foreign;	/* datagrams refused: not from the fixed peer */
};
void netdev_stats(const struct netdev *nd, struct netdev_stats *st);

#endif
