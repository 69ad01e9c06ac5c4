/* 8254 PIT core: each channel's count and OUT are computed from the clocks elapsed since it started. */
#include "pit.h"

#include <string.h>

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

/* The first nanosecond at which ns_to_ticks() reaches t. */
static uint64_t ticks_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static uint32_t from_bcd(uint16_t v)
{
	return (v >> 12 & 0xf) * 1000u + (v >> 8 & 0xf) * 100u + (v >> 4 & 0xf) * 10u + (v & 0xf);
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	if (c->frozen)
		return c->frozen_ticks;
	return now > c->start_ns ? ns_to_ticks(now - c->start_ns) : 0;
}

static uint32_t counter_value(const struct pit_channel *c, uint64_t now)
{
	uint32_t n = c->period, modulus = c->bcd ? 10000 : 65536, v;
	uint64_t d;

	if (!c->counting)
		return c->bcd ? from_bcd(c->reload) : c->reload;
	d = elapsed(c, now);
	switch (c->mode) {
	case 2:
		v = n - (uint32_t)(d % n);
		break;
	case 3:
		/* Counts down by two, twice per period. */
		v = (n - (uint32_t)((2 * d) % n)) & ~1u;
		break;
	default:	/* 0, 1, 4, 5: count down and wrap */
		v = (uint32_t)((n + modulus - d % modulus) % modulus);
		break;
	}
	return v % modulus;
}

static bool channel_out(const struct pit_channel *c, uint64_t now)
{
	uint32_t n = c->period;
	uint64_t d;

	if (!c->counting)
		return c->mode != 0;
	if (c->frozen && (c->mode == 2 || c->mode == 3))
		return true;	/* gate low forces OUT high in modes 2 and 3 */
	d = elapsed(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return n == 1 || d % n != n - 1;
	case 3:
		return d % n < (n + 1) / 2;
	default:	/* 4, 5: one clock low when the count reaches zero */
		return d != n;
	}
}

/* The next OUT rising edge strictly after elapsed tick d. */
static uint64_t next_edge(const struct pit_channel *c, uint64_t d)
{
	uint64_t n = c->period;

	if (!c->counting || c->frozen)
		return PIT_NEVER;
	switch (c->mode) {
	case 0:
	case 1:
		return d < n ? n : PIT_NEVER;
	case 2:
	case 3:
		return (d / n + 1) * n;
	default:
		return d < n + 1 ? n + 1 : PIT_NEVER;
	}
}

static void channel_start(struct pit_channel *c, uint64_t now)
{
	c->counting = true;
	c->start_ns = now;
	c->frozen = false;
	c->irq_tick = next_edge(c, 0);
}

static void load_count(struct pit_channel *c, uint16_t val, uint64_t now)
{
	c->reload = val;
	c->period = c->bcd ? from_bcd(val) : val;
	if (c->period == 0)
		c->period = c->bcd ? 10000 : 65536;
	c->null_count = false;
	if (c->mode == 1 || c->mode == 5) {
		/* Hardware-triggered modes wait for a gate rising edge. */
		return;
	}
	channel_start(c, now);
	if (!c->gate) {
		c->frozen = true;
		c->frozen_ticks = 0;
		c->irq_tick = PIT_NEVER;
	}
}

void pit_init(struct pit *p, void (*set_irq)(void *, int), void *opaque)
{
	memset(p, 0, sizeof(*p));
	p->set_irq = set_irq;
	p->opaque = opaque;
	for (unsigned i = 0; i < 3; i++) {
		p->ch[i].gate = i != 2;	/* channel 2's gate is port 0x61 bit 0, low at reset */
		p->ch[i].rw = PIT_RW_WORD;
		p->ch[i].irq_tick = PIT_NEVER;
	}
}

static uint8_t channel_status(const struct pit_channel *c, uint64_t now)
{
	return (uint8_t)((channel_out(c, now) ? PIT_STATUS_OUT : 0) |
			 (c->null_count ? PIT_STATUS_NULL : 0) |
			 c->rw << PIT_CW_RW_SHIFT | c->mode << PIT_CW_M_SHIFT | c->bcd);
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	uint32_t v;

	if (c->latch_bytes)
		return;		/* a latched count is held until read */
	v = counter_value(c, now);
	c->latch = c->bcd ? to_bcd(v) : (uint16_t)v;
	c->latch_bytes = c->rw == PIT_RW_WORD ? 2 : 1;
	c->latch_msb_next = c->rw == PIT_RW_MSB;
}

static void control_word(struct pit *p, uint8_t val, uint64_t now)
{
	unsigned sc = val >> PIT_CW_SC_SHIFT, rw = (val >> PIT_CW_RW_SHIFT) & 3;
	struct pit_channel *c;

	if (sc == 3) {
		for (unsigned i = 0; i < 3; i++) {
			if (!(val & (2u << i)))
				continue;
			c = &p->ch[i];
			if (!(val & PIT_RB_NOSTATUS) && !c->status_latched) {
				c->status = channel_status(c, now);
				c->status_latched = true;
			}
			if (!(val & PIT_RB_NOCOUNT))
				latch_count(c, now);
		}
		return;
	}
	c = &p->ch[sc];
	if (rw == PIT_RW_LATCH) {
		latch_count(c, now);
		return;
	}
	c->rw = (uint8_t)rw;
	c->mode = (val >> PIT_CW_M_SHIFT) & 7;
	if (c->mode > 5)
		c->mode -= 4;	/* 6 and 7 are aliases of 2 and 3 */
	c->bcd = val & PIT_CW_BCD;
	c->counting = false;
	c->frozen = false;
	c->null_count = true;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->irq_tick = PIT_NEVER;
}

uint8_t pit_read(struct pit *p, unsigned port, uint64_t now)
{
	struct pit_channel *c;
	uint32_t v;
	uint8_t out;

	if (port >= 3)
		return 0xff;	/* the control word register is write-only */
	c = &p->ch[port];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_bytes) {
		out = c->latch_msb_next ? (uint8_t)(c->latch >> 8) : (uint8_t)c->latch;
		c->latch_msb_next = !c->latch_msb_next;
		c->latch_bytes--;
		return out;
	}
	v = counter_value(c, now);
	if (c->bcd)
		v = to_bcd(v);
	switch (c->rw) {
	case PIT_RW_LSB:
		return (uint8_t)v;
	case PIT_RW_MSB:
		return (uint8_t)(v >> 8);
	default:
		out = c->read_msb_next ? (uint8_t)(v >> 8) : (uint8_t)v;
		c->read_msb_next = !c->read_msb_next;
		return out;
	}
}

void pit_write(struct pit *p, unsigned port, uint8_t val, uint64_t now)
{
	struct pit_channel *c;

	if (port == 3) {
		control_word(p, val, now);
		return;
	}
	if (port > 3)
		return;
	c = &p->ch[port];
	switch (c->rw) {
	case PIT_RW_LSB:
		load_count(c, val, now);
		break;
	case PIT_RW_MSB:
		load_count(c, (uint16_t)(val << 8), now);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = val;
			c->write_msb_next = true;
			if (c->mode == 0)
				c->counting = false;	/* mode 0: the first byte stops the count */
		} else {
			c->write_msb_next = false;
			load_count(c, (uint16_t)(c->write_lsb | val << 8), now);
		}
		break;
	}
}

void pit_set_gate(struct pit *p, unsigned ch, bool gate, uint64_t now)
{
	struct pit_channel *c = &p->ch[ch];
	bool rising = gate && !c->gate;

	if (gate == c->gate)
		return;
	c->gate = gate;
	if (c->null_count && c->mode != 1 && c->mode != 5)
		return;		/* no count loaded yet */
	switch (c->mode) {
	case 0:
	case 4:
		if (!c->counting)
			return;
		if (!gate) {
			c->frozen_ticks = elapsed(c, now);
			c->frozen = true;
			c->irq_tick = PIT_NEVER;
		} else if (c->frozen) {
			/* Resume where the count stopped. */
			c->frozen = false;
			c->start_ns = now - (now > ticks_to_ns(c->frozen_ticks) ? ticks_to_ns(c->frozen_ticks) : now);
			c->irq_tick = next_edge(c, c->frozen_ticks);
		}
		break;
	case 2:
	case 3:
		if (!gate) {
			c->frozen = true;
			c->frozen_ticks = 0;
			c->irq_tick = PIT_NEVER;
		} else {
			channel_start(c, now);	/* rising gate reloads the count */
		}
		break;
	default:	/* 1, 5: a rising gate (re)triggers */
		if (rising && !c->null_count)
			channel_start(c, now);
		break;
	}
}

bool pit_out(const struct pit *p, unsigned ch, uint64_t now)
{
	return channel_out(&p->ch[ch], now);
}

void pit_service(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t d;

	if (c->irq_tick == PIT_NEVER || now < c->start_ns)
		return;
	d = elapsed(c, now);
	if (d < c->irq_tick)
		return;
	/* Edges missed while the host was late coalesce into one, as IRR would. */
	p->set_irq(p->opaque, 1);
	p->set_irq(p->opaque, 0);
	c->irq_tick = next_edge(c, d);
}

uint64_t pit_next_event(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];

	if (c->irq_tick == PIT_NEVER)
		return PIT_NEVER;
	return c->start_ns + ticks_to_ns(c->irq_tick);
}

uint64_t pit_period_ns(const struct pit *p, unsigned ch)
{
	const struct pit_channel *c = &p->ch[ch];

	if (!c->counting || !(c->mode & 2) || c->frozen)	/* modes 2, 3 (and their aliases 6, 7) */
		return 0;
	return (uint64_t)c->period * 1000000000u / PIT_HZ;
}
