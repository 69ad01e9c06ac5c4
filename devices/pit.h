/* 8254 programmable interval timer core: three channels, modes 0-5, latches, read-back; time is an argument. */
#ifndef VMM_PIT_H
#define VMM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ			1193182u
#define PIT_NEVER		UINT64_MAX

#define PIT_CW_SC_SHIFT		6	/* select counter; 3 = read-back */
#define PIT_CW_RW_SHIFT		4	/* 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB */
#define PIT_CW_M_SHIFT		1
#define PIT_CW_BCD		0x01
#define PIT_RB_NOCOUNT		0x20	/* read-back: do not latch count */
#define PIT_RB_NOSTATUS		0x10	/* read-back: do not latch status */
#define PIT_STATUS_OUT		0x80
#define PIT_STATUS_NULL		0x40

#define PIT_RW_LATCH		0
#define PIT_RW_LSB		1
#define PIT_RW_MSB		2
#define PIT_RW_WORD		3

struct pit_channel {
	uint16_t reload;	/* count register as the guest wrote it (BCD if bcd) */
	uint32_t period;	/* in input clocks: 1..65536 (binary) or 1..10000 (BCD) */
	uint8_t mode, rw, bcd;
	bool gate;
	bool counting;		/* a count is loaded (and, in modes 1/5, triggered) */
	bool frozen;		/* gate low stops the count: frozen_ticks holds it */
	bool null_count;
	uint64_t start_ns;	/* when counting (re)started */
	uint64_t frozen_ticks;
	uint64_t irq_tick;	/* ticks after start_ns of the next OUT rising edge, or PIT_NEVER */
	uint8_t write_lsb;
	bool write_msb_next, read_msb_next;
	uint16_t latch;
	uint8_t latch_bytes;	/* bytes of the latched count still to read */
	bool latch_msb_next;
	bool status_latched;
	uint8_t status;
};

struct pit {
	struct pit_channel ch[3];
	void (*set_irq)(void *opaque, int level);	/* channel 0 OUT -> IRQ0 */
	void *opaque;
};

void pit_init(struct pit *p, void (*set_irq)(void *, int), void *opaque);
uint8_t pit_read(struct pit *p, unsigned port, uint64_t now_ns);	/* port 0-3 */
void pit_write(struct pit *p, unsigned port, uint8_t val, uint64_t now_ns);
void pit_set_gate(struct pit *p, unsigned ch, bool gate, uint64_t now_ns);
bool pit_out(const struct pit *p, unsigned ch, uint64_t now_ns);
/* Raise IRQ0 edges that are due by now_ns. */
void pit_service(struct pit *p, uint64_t now_ns);
/* Host time of the next IRQ0 edge, or PIT_NEVER. */
uint64_t pit_next_event(const struct pit *p);
/* The period of a channel counting in mode 2 or 3 (a rate generator), in ns; 0 if it is not one. */
uint64_t pit_period_ns(const struct pit *p, unsigned ch);

#endif
