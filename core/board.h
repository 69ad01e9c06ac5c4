/* The PC board: which device sits at which port and IRQ, in one table whose order is part of the replay contract. */
#ifndef VMM_BOARD_H
#define VMM_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "../devices/chipset.h"
#include "../devices/pci.h"
#include "../devices/pic.h"
#include "../devices/pit.h"
#include "../devices/rtc.h"
#include "../devices/uart.h"
#include "../devices/virtio/blk.h"
#include "../devices/virtio/console.h"
#include "../devices/virtio/net.h"
#include "../devices/virtio/rng.h"
#include "../devices/virtio/virtio_pci.h"
#include "console.h"
#include "worker.h"

#define BOARD_IRQ_PIT	0
#define BOARD_IRQ_COM1	4
#define BOARD_IRQ_RTC	8
#define BOARD_COM1	0x3f8

enum board_stop { BOARD_RUNNING, BOARD_STOP_DEBUG_EXIT, BOARD_STOP_RESET };

/*
 * virtio devices sit on PCI bus 0 from slot 1 in command-line order (the
 * index is the journal's device number), each with its own IRQ, BARs
 * assigned as firmware would.
 */
#define BOARD_VIRTIO_MAX	8
#define BOARD_VIRTIO_IO_BASE	0xc000u
#define BOARD_VIRTIO_MEM_BASE	0xe0000000u

/* A virtio device as the command line (or a journal's header) asks for it. */
struct virtio_spec {
	const char *kind;	/* "rng", "blk", "console", "net" */
	const char *path;	/* blk: the raw image (run, record); NULL in replay */
	bool ro;		/* blk: read-only */
	uint64_t sectors;	/* blk: capacity in 512-byte sectors (from the image, or the header) */
	const char *net;	/* net: the backend, "tap:NAME" or "udp:..." (run, record); NULL in replay */
	uint8_t mac[6];		/* net */
};

struct board_virtio {
	struct virtio_pci pci;
	struct virtio_dev *vd;
	uint8_t irq;
	const char *name;
	union {
		struct virtio_rng rng;
		struct virtio_blk blk;
		struct virtio_console con;
		struct virtio_net net;
	} u;
	struct netdev *nd;	/* net: the host end (run, record) */
};

struct board {
	struct pic pic;
	struct pit pit;
	struct rtc rtc;
	struct uart com1;
	struct pci_bus pci;
	struct pci_dev host_bridge;
	struct chipset chipset;
	struct console *console;
	uint64_t now;		/* guest-visible time of the exit being handled, ns */
	uint64_t deadline;	/* next timer event (PIT, RTC), ns; UINT64_MAX if none */
	enum board_stop stop;
	uint32_t exit_code;
	bool verbose;
	uint64_t unclaimed_pio, unclaimed_mmio;
	uint8_t pio_map[65536];	/* port -> index into the region table + 1; 0 = unclaimed */
	const struct guest_mem *mem;
	struct board_virtio *virtio[BOARD_VIRTIO_MAX];
	unsigned n_virtio;
	struct worker worker;		/* the backends' thread (run and record) */
	struct virtio_backend backend;
	bool replay;			/* no backends: completions come from the journal */
	int hvc;			/* index of the virtio console, which takes the input, or -1 */
	unsigned netdevs;		/* virtio-net devices with a host end: 0 keeps them off the exit path */
	uint8_t pio_reported[65536 / 8];
};

void board_init(struct board *b, uint64_t mem_size, int64_t rtc_epoch, struct console *con);
void board_free(struct board *b);
/*
 * Add a virtio device before the guest runs. A disk image is opened (and
 * locked against a second writer) here; err says what went wrong.
 */
int board_add_virtio(struct board *b, const struct guest_mem *mem, const struct virtio_spec *spec, char *err,
		     size_t errlen);
/* Start the backends' worker; wake is called when a result is ready. Not in replay. */
int board_start_backends(struct board *b, void (*wake)(void *ctx), void *ctx);
/*
 * Hand received frames to the guest's receive buffers, each through deliver
 * (which applies it with board_virtio_complete and journals it); frames that
 * cannot fit a buffer are dropped. Returns deliver's first error.
 */
/* A received frame waits in some network backend. */
bool board_net_waiting(struct board *b);
int board_net_receive(struct board *b, int (*deliver)(void *ctx, unsigned dev, uint16_t head,
						       const uint8_t *data, uint32_t len), void *ctx);
/* Apply a finished backend request to its device. -EINVAL: no such request (dropped). */
int board_virtio_complete(struct board *b, unsigned dev, unsigned queue, uint16_t head, const uint8_t *data,
			  uint32_t len);
/* The board's device list for the journal header, e.g. "...,pci;1;virtio-rng;virtio-blk=2048,ro". */
void board_describe(const struct board *b, char *out, size_t n);
uint32_t board_pio_read(struct board *b, uint16_t port, unsigned size);
void board_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val);
uint64_t board_mmio_read(struct board *b, uint64_t addr, unsigned size);
void board_mmio_write(struct board *b, uint64_t addr, unsigned size, uint64_t val);
/* Run device timers due at now (b->now); recomputes b->deadline. */
void board_service(struct board *b);
/* Name of the device at port, or NULL. */
const char *board_pio_name(const struct board *b, uint16_t port);

#endif
