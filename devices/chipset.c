/* Small motherboard registers: the PC's reset paths, system control port B, POST and the debug-exit port. */
#include "chipset.h"

#include <string.h>

void chipset_init(struct chipset *c, const struct chipset_ops *ops, void *opaque)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->opaque = opaque;
	c->port_a = CHIPSET_PORTA_A20;	/* A20 is always on for a guest entered in protected mode */
}

uint32_t chipset_read(struct chipset *c, uint16_t port, unsigned size)
{
	uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	switch (port) {
	case 0x61:
		/* Refresh toggles on every read: deterministic, and enough for delay loops. */
		c->port61 ^= CHIPSET_P61_REFRESH;
		return (c->port61 & (CHIPSET_P61_GATE2 | CHIPSET_P61_SPKR | CHIPSET_P61_REFRESH)) |
		       (c->ops->get_out2(c->opaque) ? CHIPSET_P61_OUT2 : 0);
	case 0x80:
		return c->post;
	case 0x92:
		return c->port_a;
	case 0x60:
		return 0;	/* no keyboard: output buffer empty */
	case 0x64:
		return 0;	/* status: input and output buffers empty */
	case 0xcf9:
		return c->rcr;
	}
	return ones;
}

void chipset_write(struct chipset *c, uint16_t port, unsigned size, uint32_t val)
{
	uint8_t b = (uint8_t)val;

	switch (port) {
	case 0x61:
		c->port61 = b & (CHIPSET_P61_GATE2 | CHIPSET_P61_SPKR);
		c->ops->set_gate2(c->opaque, b & CHIPSET_P61_GATE2);
		break;
	case 0x80:
		c->post = b;
		break;
	case 0x92:
		if ((b & CHIPSET_PORTA_RESET) && !(c->port_a & CHIPSET_PORTA_RESET))
			c->ops->event(c->opaque, CHIPSET_RESET, 0);
		c->port_a = (b & CHIPSET_PORTA_RESET) | CHIPSET_PORTA_A20;
		break;
	case 0x64:
		if (b == CHIPSET_I8042_RESET)
			c->ops->event(c->opaque, CHIPSET_RESET, 0);
		break;
	case 0xcf9:
		if (size == 1) {
			if ((b & CHIPSET_RCR_RST_CPU) && !(c->rcr & CHIPSET_RCR_RST_CPU))
				c->ops->event(c->opaque, CHIPSET_RESET, 0);
			c->rcr = b & CHIPSET_RCR_SYS_RST;
		}
		break;
	case 0xf4:
		c->ops->event(c->opaque, CHIPSET_DEBUG_EXIT, val);
		break;
	}
}
