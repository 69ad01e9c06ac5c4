/* Small motherboard registers: reset sources (0xcf9, 0x92, i8042 0x64), port 0x61, POST 0x80, debug-exit 0xf4. */
#ifndef VMM_CHIPSET_H
#define VMM_CHIPSET_H

#include <stdbool.h>
#include <stdint.h>

#define CHIPSET_RCR_SYS_RST	0x02	/* 0xcf9: hard (system) reset when RST_CPU goes 0 -> 1 */
#define CHIPSET_RCR_RST_CPU	0x04
#define CHIPSET_PORTA_RESET	0x01	/* 0x92: fast reset */
#define CHIPSET_PORTA_A20	0x02
#define CHIPSET_I8042_RESET	0xfe	/* i8042 command: pulse the reset line */
#define CHIPSET_P61_GATE2	0x01
#define CHIPSET_P61_SPKR	0x02
#define CHIPSET_P61_REFRESH	0x10
#define CHIPSET_P61_OUT2	0x20

enum chipset_event { CHIPSET_RESET, CHIPSET_DEBUG_EXIT };

struct chipset_ops {
	void (*event)(void *opaque, enum chipset_event ev, uint32_t code);
	void (*set_gate2)(void *opaque, bool level);
	bool (*get_out2)(void *opaque);
};

struct chipset {
	uint8_t rcr, port_a, port61, post;
	const struct chipset_ops *ops;
	void *opaque;
};

void chipset_init(struct chipset *c, const struct chipset_ops *ops, void *opaque);
/* port is the absolute I/O port; size 1, 2 or 4. */
uint32_t chipset_read(struct chipset *c, uint16_t port, unsigned size);
void chipset_write(struct chipset *c, uint16_t port, unsigned size, uint32_t val);

#endif
