/* Two cascaded 8259A programmable interrupt controllers plus the ELCR; a bus-free core. */
#ifndef VMM_PIC_H
#define VMM_PIC_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_ICW1		0x10	/* command-port write with bit 4: initialization */
#define PIC_ICW1_IC4		0x01
#define PIC_ICW1_SNGL		0x02
#define PIC_ICW1_LTIM		0x08
#define PIC_ICW4_AEOI		0x02
#define PIC_ICW4_SFNM		0x10
#define PIC_OCW3		0x08	/* command-port write with bits 4:3 = 01 */
#define PIC_OCW3_RIS		0x01
#define PIC_OCW3_RR		0x02
#define PIC_OCW3_P		0x04
#define PIC_OCW3_SMM		0x20
#define PIC_OCW3_ESMM		0x40
#define PIC_OCW2_EOI		0x20
#define PIC_OCW2_SL		0x40
#define PIC_OCW2_R		0x80
#define PIC_CASCADE_IRQ		2

struct i8259 {
	uint8_t irr, isr, imr;
	uint8_t last_irr;	/* edge-sense latch: line level last seen */
	uint8_t elcr, elcr_mask;
	uint8_t vector_base;	/* ICW2 & 0xf8 */
	uint8_t lowest;		/* the IR with the lowest priority (rotation) */
	uint8_t init_step;	/* 0: operational, 1-3: expecting ICW2-ICW4 */
	bool icw4, single, ltim, auto_eoi, rotate_aeoi, sfnm;
	bool read_isr, poll, special_mask;
};

struct pic {
	struct i8259 chip[2];	/* [0] master at 0x20, [1] slave at 0xa0 */
	bool intr;		/* the master's INT output */
};

void pic_init(struct pic *p);
/* Drive IR line irq (0-15) to level. */
void pic_set_irq(struct pic *p, unsigned irq, int level);
/* The INTA cycle: returns the vector the CPU receives (spurious IRQ7/15 included). */
uint8_t pic_ack(struct pic *p);
uint8_t pic_read(struct pic *p, unsigned chip, unsigned a0);
void pic_write(struct pic *p, unsigned chip, unsigned a0, uint8_t val);
uint8_t pic_elcr_read(struct pic *p, unsigned chip);
void pic_elcr_write(struct pic *p, unsigned chip, uint8_t val);

#endif
