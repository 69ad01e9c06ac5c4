/* cmocka tests of the record codecs (EXIT, virtio, notify): round trips, what a comparison checks before and after the handler, and malformed records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "exit_rec.h"

static struct rr_exit round_trip(const struct rr_exit *e, uint8_t *buf, size_t cap)
{
	struct jbuf b = { buf, 0, cap };
	struct rr_exit out;

	rr_exit_encode(e, &b);
	assert_true(b.len <= cap);
	assert_int_equal(rr_exit_decode(buf, b.len, &out), 0);
	return out;
}

static void test_io_round_trip_and_compare(void **state)
{
	static const uint8_t out_data[4] = { 0x43, 0, 0, 0 }, other[4] = { 0x58, 0, 0, 0 };
	struct rr_exit e = { .reason = KVM_EXIT_IO, .dt = 1234, .rip = 0x100e6c }, got, live;
	uint8_t buf[64];
	char text[200];

	(void)state;
	e.u.io.dir = KVM_EXIT_IO_OUT;
	e.u.io.size = 1;
	e.u.io.port = 0x3f8;
	e.u.io.count = 1;
	e.u.io.len = 1;
	e.u.io.data = out_data;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.dt, 1234);
	assert_int_equal(got.rip, 0x100e6c);
	assert_int_equal(got.u.io.port, 0x3f8);
	assert_int_equal(got.u.io.data[0], 0x43);
	live = e;
	assert_true(rr_exit_matches(&got, &live, false));
	live.u.io.data = other;		/* the guest wrote another byte */
	assert_false(rr_exit_matches(&got, &live, false));
	assert_true(rr_exit_matches(&got, &live, true));	/* OUT data is checked before the handler only */
	rr_exit_describe(&got, text, sizeof(text));
	assert_string_equal(text, "io out port 0x3f8 size 1 count 1 value 0x43 at rip 0x100e6c");
	live = e;
	live.rip++;
	assert_false(rr_exit_matches(&got, &live, false));
}

static void test_in_data_checked_after_handler(void **state)
{
	static const uint8_t was[2] = { 0x34, 0x12 }, now[2] = { 0x35, 0x12 };
	struct rr_exit e = { .reason = KVM_EXIT_IO, .rip = 0x1000 }, got, live;
	uint8_t buf[64];

	(void)state;
	e.u.io.dir = KVM_EXIT_IO_IN;
	e.u.io.size = 2;
	e.u.io.port = 0x40;
	e.u.io.count = 1;
	e.u.io.len = 2;
	e.u.io.data = was;
	got = round_trip(&e, buf, sizeof(buf));
	live = e;
	live.u.io.data = now;
	assert_true(rr_exit_matches(&got, &live, false));
	assert_false(rr_exit_matches(&got, &live, true));
}

static void test_mmio_and_msr(void **state)
{
	struct rr_exit e = { .reason = KVM_EXIT_MMIO, .dt = 5, .rip = 0x2000 }, got, live;
	uint8_t buf[64];
	char text[200];

	(void)state;
	e.u.mmio.is_write = 1;
	e.u.mmio.len = 4;
	e.u.mmio.addr = 0xfebf0014;
	memcpy(e.u.mmio.data, "\x01\x00\x00\x00", 4);
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.mmio.addr, 0xfebf0014);
	live = e;
	live.u.mmio.data[0] = 2;	/* a different value written: caught before the handler */
	assert_false(rr_exit_matches(&got, &live, false));
	live = e;
	live.u.mmio.addr += 4;
	assert_false(rr_exit_matches(&got, &live, false));
	rr_exit_describe(&got, text, sizeof(text));
	assert_string_equal(text, "mmio write addr 0xfebf0014 size 4 value 0x1 at rip 0x2000");

	memset(&e, 0, sizeof(e));
	e.reason = KVM_EXIT_X86_WRMSR;
	e.rip = 0x3000;
	e.u.msr.index = 0x6e0;
	e.u.msr.data = 77;
	e.u.msr.error = 1;
	got = round_trip(&e, buf, sizeof(buf));
	live = e;
	live.u.msr.error = 0;
	assert_true(rr_exit_matches(&got, &live, false));
	assert_false(rr_exit_matches(&got, &live, true));	/* refused then, not now */
	live.u.msr.data = 78;
	assert_false(rr_exit_matches(&got, &live, false));
}

static void test_window_carries_landmark(void **state)
{
	struct rr_exit e = { .reason = KVM_EXIT_IRQ_WINDOW_OPEN, .dt = 9, .rip = 0x100676 }, got;
	uint8_t buf[256];

	(void)state;
	e.u.window.rip = 0x100676;
	e.u.window.rflags = 0x202;
	e.u.window.gpr[2] = 0x3fd;
	e.u.window.fingerprint = 0x1122334455667788ull;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.window.rip, 0x100676);
	assert_int_equal(got.u.window.gpr[2], 0x3fd);
	assert_int_equal(got.u.window.fingerprint, 0x1122334455667788ull);
	assert_int_equal(got.u.window.cpl, 0);
}

/* The CPL byte at a landmark's end: round trip, absent (older journals), and out of range. */
static void test_landmark_cpl(void **state)
{
	struct rr_exit e = { .reason = KVM_EXIT_IRQ_WINDOW_OPEN, .dt = 1, .rip = 0x4000 }, got;
	uint8_t buf[256];
	struct jbuf b = { buf, 0, sizeof(buf) };
	size_t with;

	(void)state;
	e.u.window.rip = 0x4000;
	e.u.window.cpl = 3;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.window.cpl, 3);
	rr_exit_encode(&e, &b);
	with = b.len;
	/* A record without the byte is whole: its CPL is unknown. */
	e.u.window.cpl = -1;
	b.len = 0;
	rr_exit_encode(&e, &b);
	assert_int_equal(b.len, with - 1);
	assert_int_equal(rr_exit_decode(buf, b.len, &got), 0);
	assert_int_equal(got.u.window.cpl, -1);
	assert_int_equal(got.u.window.rip, 0x4000);
	/* No CPU has a CPL of 7. */
	buf[b.len++] = 7;
	assert_int_equal(rr_exit_decode(buf, b.len, &got), -EINVAL);
}

/* RF after the rest digest: round trip, absent (older journals: unknown), and out of range. */
static void test_landmark_rf(void **state)
{
	struct rr_exit e = { .reason = KVM_EXIT_IRQ_WINDOW_OPEN, .dt = 1, .rip = 0x5000 }, got;
	uint8_t buf[256];
	struct jbuf b = { buf, 0, sizeof(buf) };

	(void)state;
	e.u.window.rip = 0x5000;
	e.u.window.has_rest = true;
	e.u.window.rest = 0xabcdef;
	e.u.window.rf = 1;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.window.rf, 1);
	assert_int_equal(got.u.window.rest, 0xabcdef);
	e.u.window.rf = -1;
	rr_exit_encode(&e, &b);
	assert_int_equal(rr_exit_decode(buf, b.len, &got), 0);
	assert_int_equal(got.u.window.rf, -1);
	assert_true(got.u.window.has_rest);
	buf[b.len++] = 2;	/* a flag is 0 or 1 */
	assert_int_equal(rr_exit_decode(buf, b.len, &got), -EINVAL);
}

/* The interrupt shadow after RF: round trip, absent (unknown), and a value KVM never reports. */
static void test_landmark_shadow(void **state)
{
	struct rr_exit e = { .reason = KVM_EXIT_IRQ_WINDOW_OPEN, .dt = 1, .rip = 0x6000 }, got;
	uint8_t buf[256];
	struct jbuf b = { buf, 0, sizeof(buf) };

	(void)state;
	e.u.window.rip = 0x6000;
	e.u.window.has_rest = true;
	e.u.window.rf = 0;
	e.u.window.shadow = KVM_X86_SHADOW_INT_STI;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.window.shadow, KVM_X86_SHADOW_INT_STI);
	assert_int_equal(got.u.window.rf, 0);
	/* Without RF the shadow cannot be written: both unknown. */
	e.u.window.rf = -1;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.window.shadow, -1);
	e.u.window.rf = 1;
	e.u.window.shadow = -1;
	rr_exit_encode(&e, &b);
	assert_int_equal(rr_exit_decode(buf, b.len, &got), 0);
	assert_int_equal(got.u.window.shadow, -1);
	assert_int_equal(got.u.window.rf, 1);
	buf[b.len++] = 4;	/* STI and MOV SS are bits 1 and 0 */
	assert_int_equal(rr_exit_decode(buf, b.len, &got), -EINVAL);
}

/* The epoch's pages after the shadow: round trip, absent, too many, out of order, cut short. */
static void test_landmark_pages(void **state)
{
	static uint8_t a[RR_PAGE], z[RR_PAGE];
	static uint8_t buf[RR_LANDMARK_BYTES_MAX + 16];
	struct rr_exit e = { .reason = KVM_EXIT_IRQ_WINDOW_OPEN, .dt = 1, .rip = 0x7000 }, got;
	struct jbuf b = { buf, 0, sizeof(buf) };
	size_t with;

	(void)state;
	memset(a, 0xa5, sizeof(a));
	e.u.window.rip = 0x7000;
	e.u.window.has_rest = true;
	e.u.window.rf = 0;
	e.u.window.shadow = 0;
	e.u.window.npages = 2;
	e.u.window.page[0] = 3;
	e.u.window.page_data[0] = a;
	e.u.window.page[1] = 300;
	e.u.window.page_data[1] = z;
	got = round_trip(&e, buf, sizeof(buf));
	assert_int_equal(got.u.window.npages, 2);
	assert_int_equal(got.u.window.page[1], 300);
	assert_memory_equal(got.u.window.page_data[0], a, RR_PAGE);
	assert_memory_equal(got.u.window.page_data[1], z, RR_PAGE);
	rr_exit_encode(&e, &b);
	with = b.len;
	/* Cut inside the second page: refused, never read past the record. */
	assert_int_equal(rr_exit_decode(buf, with - 1, &got), -EINVAL);
	/* Pages out of the recorder's order. */
	e.u.window.page[1] = 2;
	b.len = 0;
	rr_exit_encode(&e, &b);
	assert_int_equal(rr_exit_decode(buf, b.len, &got), -EINVAL);
	/* No pages: the count byte alone. */
	e.u.window.npages = 0;
	b.len = 0;
	rr_exit_encode(&e, &b);
	assert_int_equal(b.len, with - 2 * RR_PAGE - 3);
	assert_int_equal(rr_exit_decode(buf, b.len, &got), 0);
	assert_int_equal(got.u.window.npages, 0);
	/* More than a landmark ever carries. */
	buf[b.len - 1] = RR_LANDMARK_PAGES + 1;
	assert_int_equal(rr_exit_decode(buf, b.len, &got), -EINVAL);
}

static void test_malformed(void **state)
{
	struct rr_exit e;
	/* io exit whose port does not fit 16 bits; then one cut short; then an MMIO length of 9. */
	static const uint8_t bad_port[] = { KVM_EXIT_IO, 0, 0, 1, 1, 0x80, 0x80, 0x04, 1, 0 };
	static const uint8_t short_io[] = { KVM_EXIT_IO, 0, 0, 1 };
	static const uint8_t long_mmio[] = { KVM_EXIT_MMIO, 0, 0, 1, 9, 0 };

	(void)state;
	assert_int_equal(rr_exit_decode(bad_port, sizeof(bad_port), &e), -EINVAL);
	assert_int_equal(rr_exit_decode(short_io, sizeof(short_io), &e), -EINVAL);
	assert_int_equal(rr_exit_decode(long_mmio, sizeof(long_mmio), &e), -EINVAL);
	assert_int_equal(rr_exit_decode(NULL, 0, &e), -EINVAL);
}

/* The notify record: device and queue round trip; a device or queue the board cannot have is refused. */
static void test_notify_record(void **state)
{
	struct rr_notify n = { 3, 1 }, out;
	uint8_t buf[16];
	struct jbuf b = { buf, 0, sizeof(buf) };
	static const uint8_t bad_dev[] = { BOARD_VIRTIO_MAX, 0 }, bad_q[] = { 0, VIRTIO_QUEUES_MAX },
			     trailing[] = { 0, 0, 0 }, cut[] = { 0x80 };
	struct jcur c;

	(void)state;
	rr_notify_encode(&n, &b);
	c = (struct jcur){ buf, b.len, 0, false };
	assert_int_equal(rr_notify_decode(&c, &out), 0);
	assert_int_equal(out.dev, 3);
	assert_int_equal(out.queue, 1);
	c = (struct jcur){ bad_dev, sizeof(bad_dev), 0, false };
	assert_int_equal(rr_notify_decode(&c, &out), -EINVAL);
	c = (struct jcur){ bad_q, sizeof(bad_q), 0, false };
	assert_int_equal(rr_notify_decode(&c, &out), -EINVAL);
	c = (struct jcur){ trailing, sizeof(trailing), 0, false };
	assert_int_equal(rr_notify_decode(&c, &out), -EINVAL);
	c = (struct jcur){ cut, sizeof(cut), 0, false };
	assert_int_equal(rr_notify_decode(&c, &out), -EINVAL);
}

/* The completion record's header: its length must be exactly the bytes that follow. */
static void test_virtio_record(void **state)
{
	struct rr_virtio v = { 1, 0, 7, 3, NULL }, out;
	uint8_t buf[32];
	struct jbuf b = { buf, 0, sizeof(buf) };
	struct jcur c;

	(void)state;
	rr_virtio_encode_head(&v, &b);
	memcpy(buf + b.len, "abc", 3);
	c = (struct jcur){ buf, b.len + 3, 0, false };
	assert_int_equal(rr_virtio_decode(&c, &out), 0);
	assert_int_equal(out.dev, 1);
	assert_int_equal(out.head, 7);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.data, "abc", 3);
	c = (struct jcur){ buf, b.len + 2, 0, false };	/* a byte short */
	assert_int_equal(rr_virtio_decode(&c, &out), -EINVAL);
	c = (struct jcur){ buf, b.len + 4, 0, false };	/* a byte over */
	assert_int_equal(rr_virtio_decode(&c, &out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_round_trip_and_compare),
		cmocka_unit_test(test_in_data_checked_after_handler),
		cmocka_unit_test(test_mmio_and_msr),
		cmocka_unit_test(test_window_carries_landmark),
		cmocka_unit_test(test_landmark_cpl),
		cmocka_unit_test(test_landmark_rf),
		cmocka_unit_test(test_landmark_shadow),
		cmocka_unit_test(test_landmark_pages),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_notify_record),
		cmocka_unit_test(test_virtio_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
