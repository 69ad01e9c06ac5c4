/* Chaos recording: a seeded generator that moves when asynchronous work reaches the guest. */
#ifndef VMM_CHAOS_H
#define VMM_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

/* Sources of work that chaos can hold back; ticks are made late instead. */
enum chaos_source { CHAOS_COMPLETION, CHAOS_INPUT, CHAOS_NET, CHAOS_SOURCES };

/*
 * How long chaos may hold a virtio completion or an input back: within what
 * a real disk, link or UART gives a driver (hundreds of microseconds to
 * milliseconds), short of any driver timeout.
 */
#define CHAOS_HOLD_MAX_NS 2000000ull

/*
 * Everything chaos decides is a choice of when the recorder applies work
 * that is journaled anyway: replay needs neither the seed nor this state.
 */
struct chaos {
	bool on;
	uint64_t seed;
	uint64_t state;			/* splitmix64 */
	uint64_t defer_ns;		/* the current wait for an exit before a kick */
	uint64_t tick_late_ns;		/* how late the next timer tick is delivered */
	/* Per source: 0 undecided, 1 goes at the next position, else held until then (guest ns). */
	uint64_t hold_until[CHAOS_SOURCES];
	uint64_t held[CHAOS_SOURCES];	/* holds so far, for --stats */
	uint64_t late_ticks;
};

void chaos_init(struct chaos *c, uint64_t seed);
uint64_t chaos_u64(struct chaos *c);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t chaos_below(struct chaos *c, uint64_t n);
/*
 * A new wait for an exit, from --defer d: none half the time, so that the
 * kick comes at once and the work lands inside an exit-less stretch (where
 * a check-then-hlt race lives), else anything up to 2d.
 */
void chaos_draw_defer(struct chaos *c, uint64_t d);
/* How late the next tick of a timer with this period comes: on time half the time, else up to a quarter period. */
void chaos_draw_late(struct chaos *c, uint64_t period_ns);
/* Work from s is ready at now: true while chaos holds it back. */
bool chaos_hold(struct chaos *c, enum chaos_source s, uint64_t now);
/* s's work was applied: the next work from it gets a fresh draw. */
void chaos_release(struct chaos *c, enum chaos_source s);
/* Held work whose time has come by now. */
bool chaos_released(const struct chaos *c, uint64_t now);
/* When held work next comes free (guest ns), or UINT64_MAX. */
uint64_t chaos_next_release(const struct chaos *c);

#endif
