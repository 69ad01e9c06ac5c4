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
#include "console.h"

#define BOARD_IRQ_PIT	0
#define BOARD_IRQ_COM1	4
#define BOARD_IRQ_RTC	8
#define BOARD_COM1	0x3f8

enum board_stop { BOARD_RUNNING, BOARD_STOP_DEBUG_EXIT, BOARD_STOP_RESET };

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
	uint8_t pio_reported[65536 / 8];
};

void board_init(struct board *b, uint64_t mem_size, int64_t rtc_epoch, struct console *con);
uint32_t board_pio_read(struct board *b, uint16_t port, unsigned size);
void board_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val);
uint64_t board_mmio_read(struct board *b, uint64_t addr, unsigned size);
void board_mmio_write(struct board *b, uint64_t addr, unsigned size, uint64_t val);
/* Run device timers due at now (b->now); recomputes b->deadline. */
void board_service(struct board *b);
/* Name of the device at port, or NULL. */
const char *board_pio_name(const struct board *b, uint16_t port);

#endif
