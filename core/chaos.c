/* Chaos recording: a seeded generator that moves when asynchronous work reaches the guest. */
#include "chaos.h"

#include <string.h>

void chaos_init(struct chaos *c, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->on = true;
	c->seed = seed;
	c->state = seed;
}

/* splitmix64: every seed, 0 included, gives a full-period stream. */
uint64_t chaos_u64(struct chaos *c)
{
	uint64_t z = (c->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t chaos_below(struct chaos *c, uint64_t n)
{
	/* The modulo bias is below 2^-40 for any n chaos uses (at most seconds in ns). */
	return n ? chaos_u64(c) % n : 0;
}

void chaos_draw_defer(struct chaos *c, uint64_t d)
{
	c->defer_ns = chaos_u64(c) & 1 ? chaos_below(c, 2 * d + 1) : 0;
}

void chaos_draw_late(struct chaos *c, uint64_t period_ns)
{
	c->tick_late_ns = chaos_u64(c) & 1 ? chaos_below(c, period_ns / 4) : 0;
	c->late_ticks += c->tick_late_ns != 0;
}

bool chaos_hold(struct chaos *c, enum chaos_source s, uint64_t now)
{
	if (!c->on)
		return false;
	if (!c->hold_until[s]) {
		if (chaos_u64(c) & 1) {
			c->hold_until[s] = 1;
			return false;
		}
		c->hold_until[s] = now + 2 + chaos_below(c, CHAOS_HOLD_MAX_NS);
		c->held[s]++;
	}
	return now < c->hold_until[s];
}

void chaos_release(struct chaos *c, enum chaos_source s)
{
	c->hold_until[s] = 0;
}

bool chaos_released(const struct chaos *c, uint64_t now)
{
	for (unsigned s = 0; s < CHAOS_SOURCES; s++)
		if (c->hold_until[s] > 1 && now >= c->hold_until[s])
			return true;
	return false;
}

uint64_t chaos_next_release(const struct chaos *c)
{
	uint64_t t = UINT64_MAX;

	for (unsigned s = 0; s < CHAOS_SOURCES; s++)
		if (c->hold_until[s] > 1 && c->hold_until[s] < t)
			t = c->hold_until[s];
	return t;
}
