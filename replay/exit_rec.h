/* The EXIT journal record: one struct, its encoder, decoder, comparison and wording, for recorder, replayer and dump. */
#ifndef VMM_EXIT_REC_H
#define VMM_EXIT_REC_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "rr.h"

#define RR_EXIT_IO_MAX 4064	/* bytes of a string I/O's data kept: its head is enough to compare */

struct rr_exit {
	uint8_t reason;			/* KVM_EXIT_* */
	uint64_t dt;			/* ns since the previous timed record */
	uint64_t rip;			/* where it exited */
	union {
		struct {
			uint8_t dir, size;
			uint16_t port;
			uint32_t count;
			uint32_t len;		/* bytes of data kept (count * size, or its head) */
			const uint8_t *data;	/* into kvm_run or the record: valid while they are */
		} io;
		struct {
			uint8_t is_write, len;
			uint64_t addr;
			uint8_t data[8];
		} mmio;
		struct {
			uint32_t index;
			uint64_t data;		/* WRMSR's value; 0 for RDMSR */
			uint8_t error;		/* refused: #GP */
		} msr;
		struct rr_landmark window;	/* KVM_EXIT_IRQ_WINDOW_OPEN: where, as a landmark's state */
	} u;
};

/* The exit in run (after its handler: IN and MMIO read data are the device's answer). */
void rr_exit_from_run(struct rr_exit *e, const struct kvm_run *run, uint64_t rip, uint64_t dt);
void rr_exit_encode(const struct rr_exit *e, struct jbuf *b);
/* 0, or -EINVAL for a truncated or malformed record. */
int rr_exit_decode(const uint8_t *p, size_t len, struct rr_exit *e);
/*
 * Does the live exit got match the recorded want? Before its handler (after
 * = false): reason, RIP and what the guest gave (port, address, MSR index,
 * OUT/write data). After it: what the device gave back (IN and MMIO read
 * data, whether an MSR access was refused).
 */
bool rr_exit_matches(const struct rr_exit *want, const struct rr_exit *got, bool after);
/* "io out port 0x3f8 size 1 count 1 value 0x43 at rip 0x100e6c" */
void rr_exit_describe(const struct rr_exit *e, char *out, size_t n);
/* journal dump's wording: "io         rip=100e6c out port=0x3f8 size=1 value=0x43" (after the time) */
void rr_exit_dump(const struct rr_exit *e, char *out, size_t n);

#endif
