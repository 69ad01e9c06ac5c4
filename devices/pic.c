/* Two cascaded 8259A PICs: edge/level sensing, priorities with rotation, EOI modes, poll, special mask. */
#include "pic.h"

#include <string.h>

/* Priority rank (0 highest) of the best IR set in mask, or 8 if none. */
static unsigned priority(const struct i8259 *c, uint8_t mask)
{
	for (unsigned rank = 0; rank < 8; rank++)
		if (mask & (1u << ((c->lowest + 1 + rank) & 7)))
			return rank;
	return 8;
}

static unsigned rank_to_irq(const struct i8259 *c, unsigned rank)
{
	return (c->lowest + 1 + rank) & 7;
}

/* The IR this chip would signal now, or -1. */
static int chip_pending(const struct i8259 *c, bool master)
{
	unsigned req = priority(c, c->irr & (uint8_t)~c->imr), cur;
	uint8_t in_service = c->isr;

	if (req == 8)
		return -1;
	/* Special mask mode: a masked IR in service does not hold off the others. */
	if (c->special_mask)
		in_service &= (uint8_t)~c->imr;
	/* Special fully nested: the slave may interrupt its own in-service request. */
	if (master && c->sfnm)
		in_service &= (uint8_t)~(1u << PIC_CASCADE_IRQ);
	cur = priority(c, in_service);
	return req < cur ? (int)rank_to_irq(c, req) : -1;
}

static void pic_update(struct pic *p)
{
	struct i8259 *m = &p->chip[0];
	uint8_t bit = 1u << PIC_CASCADE_IRQ;

	/* The slave's INT is wired to master IR2, which follows it as a level. */
	if (chip_pending(&p->chip[1], false) >= 0)
		m->irr |= bit;
	else
		m->irr &= (uint8_t)~bit;
	p->intr = chip_pending(m, true) >= 0;
}

static bool level_mode(const struct i8259 *c, uint8_t bit)
{
	return c->ltim || (c->elcr & bit);
}

static void chip_set_irq(struct i8259 *c, unsigned irq, int level)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (level_mode(c, bit)) {
		if (level) {
			c->irr |= bit;
			c->last_irr |= bit;
		} else {
			c->irr &= (uint8_t)~bit;
			c->last_irr &= (uint8_t)~bit;
		}
		return;
	}
	if (level) {
		if (!(c->last_irr & bit))
			c->irr |= bit;	/* rising edge */
		c->last_irr |= bit;
	} else {
		c->last_irr &= (uint8_t)~bit;
	}
}

void pic_set_irq(struct pic *p, unsigned irq, int level)
{
	if (irq >= 16 || (irq == PIC_CASCADE_IRQ))
		return;
	chip_set_irq(&p->chip[irq >> 3], irq & 7, level);
	pic_update(p);
}

/* Acknowledge IR irq on chip c: ISR set (unless auto-EOI), edge request consumed. */
static void chip_intack(struct i8259 *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)irq;
	} else {
		c->isr |= bit;
	}
	if (!level_mode(c, bit))
		c->irr &= (uint8_t)~bit;
}

uint8_t pic_ack(struct pic *p)
{
	struct i8259 *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_pending(m, true), irq2;
	uint8_t vec;

	if (irq < 0) {
		/* INT went away before INTA: the 8259A answers with IR7, ISR untouched. */
		vec = m->vector_base | 7;
	} else if (irq == PIC_CASCADE_IRQ) {
		irq2 = chip_pending(s, false);
		if (irq2 >= 0) {
			chip_intack(s, (unsigned)irq2);
			vec = (uint8_t)(s->vector_base | irq2);
		} else {
			vec = s->vector_base | 7;	/* spurious IRQ15 */
		}
		chip_intack(m, PIC_CASCADE_IRQ);
	} else {
		chip_intack(m, (unsigned)irq);
		vec = (uint8_t)(m->vector_base | irq);
	}
	pic_update(p);
	return vec;
}

static void chip_reset(struct i8259 *c)
{
	uint8_t elcr = c->elcr, mask = c->elcr_mask;
	/* A level-triggered line that is high stays requested across ICW1. */
	uint8_t level = c->last_irr & elcr;

	memset(c, 0, sizeof(*c));
	c->elcr = elcr;
	c->elcr_mask = mask;
	c->irr = c->last_irr = level;
	c->lowest = 7;
}

void pic_init(struct pic *p)
{
	memset(p, 0, sizeof(*p));
	/* IRQ0-2 (timer, keyboard, cascade) and IRQ8, IRQ13 are edge-only on the PIIX. */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
	chip_reset(&p->chip[0]);
	chip_reset(&p->chip[1]);
}

static uint8_t chip_poll(struct i8259 *c, bool master)
{
	int irq = chip_pending(c, master);

	if (irq < 0)
		return 0;
	chip_intack(c, (unsigned)irq);
	return (uint8_t)(0x80 | irq);
}

uint8_t pic_read(struct pic *p, unsigned chip, unsigned a0)
{
	struct i8259 *c = &p->chip[chip & 1];
	uint8_t val;

	if (a0 & 1)
		return c->imr;
	if (c->poll) {
		c->poll = false;
		val = chip_poll(c, chip == 0);
		pic_update(p);
		return val;
	}
	return c->read_isr ? c->isr : c->irr;
}

static void chip_eoi(struct i8259 *c, uint8_t ocw2)
{
	unsigned irq;

	if (ocw2 & PIC_OCW2_SL) {
		irq = ocw2 & 7;
	} else {
		unsigned rank = priority(c, c->isr);

		if (rank == 8)
			return;
		irq = rank_to_irq(c, rank);
	}
	c->isr &= (uint8_t)~(1u << irq);
	if (ocw2 & PIC_OCW2_R)
		c->lowest = (uint8_t)irq;
}

static void chip_ocw2(struct i8259 *c, uint8_t val)
{
	switch (val & (PIC_OCW2_R | PIC_OCW2_SL | PIC_OCW2_EOI)) {
	case 0x00:				/* rotate in auto-EOI mode: clear */
		c->rotate_aeoi = false;
		break;
	case PIC_OCW2_R:			/* rotate in auto-EOI mode: set */
		c->rotate_aeoi = true;
		break;
	case PIC_OCW2_SL:			/* no operation */
		break;
	case PIC_OCW2_R | PIC_OCW2_SL:		/* set priority: IR val&7 becomes lowest */
		c->lowest = val & 7;
		break;
	default:				/* the four EOI forms */
		chip_eoi(c, val);
		break;
	}
}

void pic_write(struct pic *p, unsigned chip, unsigned a0, uint8_t val)
{
	struct i8259 *c = &p->chip[chip & 1];

	if (a0 & 1) {
		switch (c->init_step) {
		case 0:
			c->imr = val;		/* OCW1 */
			break;
		case 1:
			c->vector_base = val & 0xf8;
			c->init_step = c->single ? (c->icw4 ? 3 : 0) : 2;
			break;
		case 2:				/* ICW3: the cascade wiring is fixed */
			c->init_step = c->icw4 ? 3 : 0;
			break;
		case 3:
			c->auto_eoi = val & PIC_ICW4_AEOI;
			c->sfnm = val & PIC_ICW4_SFNM;
			c->init_step = 0;
			break;
		}
	} else if (val & PIC_ICW1) {
		chip_reset(c);
		c->init_step = 1;
		c->icw4 = val & PIC_ICW1_IC4;
		c->single = val & PIC_ICW1_SNGL;
		c->ltim = val & PIC_ICW1_LTIM;
	} else if (val & PIC_OCW3) {
		if (val & PIC_OCW3_P)
			c->poll = true;
		if (val & PIC_OCW3_RR)
			c->read_isr = val & PIC_OCW3_RIS;
		if (val & PIC_OCW3_ESMM)
			c->special_mask = val & PIC_OCW3_SMM;
	} else {
		chip_ocw2(c, val);
	}
	pic_update(p);
}

uint8_t pic_elcr_read(struct pic *p, unsigned chip)
{
	return p->chip[chip & 1].elcr;
}

void pic_elcr_write(struct pic *p, unsigned chip, uint8_t val)
{
	struct i8259 *c = &p->chip[chip & 1];

	c->elcr = val & c->elcr_mask;
	pic_update(p);
}
