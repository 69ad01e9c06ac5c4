/* cmocka tests of HLT plants: what goes in and out of guest memory around a run, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "plant.h"
#include "vm.h"

static uint8_t ram[64];

static struct plants two_plants(void)
{
	struct plants ps = { .n = 2 };

	memset(ram, 0x90, sizeof(ram));
	ram[4] = 0x48;
	ram[9] = 0xf4;	/* a HLT of the guest's own */
	ps.p[0] = (struct plant){ 0x1004, ram + 4, 0 };
	ps.p[1] = (struct plant){ 0x1009, ram + 9, 0 };
	return ps;
}

static void test_on_and_off(void **state)
{
	struct plants ps = two_plants();

	(void)state;
	plants_on(&ps);
	assert_int_equal(ram[4], 0xf4);
	assert_int_equal(ram[9], 0xf4);
	plants_off(&ps);
	assert_int_equal(ram[4], 0x48);
	assert_int_equal(ram[9], 0xf4);
	/* Off again changes nothing: the bytes are the guest's. */
	plants_off(&ps);
	assert_int_equal(ram[4], 0x48);
}

/* The guest wrote over a plant while it ran: its byte stays, not the one from before. */
static void test_guest_write_kept(void **state)
{
	struct plants ps = two_plants();

	(void)state;
	plants_on(&ps);
	ram[4] = 0xcc;
	plants_off(&ps);
	assert_int_equal(ram[4], 0xcc);
}

/* Two plants on one byte: off in reverse gives the guest's byte back, not a HLT. */
static void test_same_byte_twice(void **state)
{
	struct plants ps = two_plants();

	(void)state;
	ps.p[1] = ps.p[0];
	plants_on(&ps);
	plants_off(&ps);
	assert_int_equal(ram[4], 0x48);
}

static void test_refusals(void **state)
{
	struct plants ps = { .n = PLANTS_MAX };
	struct vm vm;

	(void)state;
	memset(&vm, 0, sizeof(vm));
	vm.vcpu_fd = -1;
	assert_int_equal(plant_add(&ps, &vm, 0x1000), -E2BIG);
	ps.n = 0;
	assert_int_equal(plant_add(&ps, &vm, 0x1000), -EBADF);	/* no vCPU to ask for its paging */
	assert_int_equal(ps.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_and_off),
		cmocka_unit_test(test_guest_write_kept),
		cmocka_unit_test(test_same_byte_twice),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
