/* cmocka tests of configuration mechanism #1 and the host bridge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "pci.h"

static unsigned written_off, written_size;

static void on_write(struct pci_dev *dev, unsigned off, unsigned size)
{
	(void)dev;
	written_off = off;
	written_size = size;
}

static void setup(struct pci_bus *bus, struct pci_dev *bridge)
{
	pci_bus_init(bus);
	pci_host_bridge_init(bridge);
	assert_int_equal(pci_bus_add(bus, 0, bridge), 0);
}

static void select_reg(struct pci_bus *bus, unsigned dev, unsigned fn, unsigned reg)
{
	pci_io_write(bus, 0, 4, PCI_CONFIG_ENABLE | dev << 11 | fn << 8 | reg);
}

static void test_config_address(void **state)
{
	struct pci_bus bus;
	struct pci_dev br;

	(void)state;
	setup(&bus, &br);
	pci_io_write(&bus, 0, 4, 0xffffffff);
	assert_int_equal(pci_io_read(&bus, 0, 4), 0x80fffffc);
	pci_io_write(&bus, 3, 1, 0x01);		/* byte write to 0xcfb: not CONFIG_ADDRESS */
	assert_int_equal(pci_io_read(&bus, 0, 4), 0x80fffffc);
	assert_int_equal(pci_io_read(&bus, 0, 2), 0xffff);
}

static void test_host_bridge_reads(void **state)
{
	struct pci_bus bus;
	struct pci_dev br;

	(void)state;
	setup(&bus, &br);
	select_reg(&bus, 0, 0, 0);
	assert_int_equal(pci_io_read(&bus, 4, 4), 0x00081b36);
	assert_int_equal(pci_io_read(&bus, 6, 2), 0x0008);
	assert_int_equal(pci_io_read(&bus, 5, 1), 0x1b);
	select_reg(&bus, 0, 0, 8);
	assert_int_equal(pci_io_read(&bus, 4, 4) >> 16, PCI_CLASS_BRIDGE_HOST);
	assert_int_equal(pci_io_read(&bus, 7, 2), 0xff06);	/* straddles the end of the dword */
}

static void test_absent_and_disabled(void **state)
{
	struct pci_bus bus;
	struct pci_dev br;

	(void)state;
	setup(&bus, &br);
	select_reg(&bus, 5, 0, 0);
	assert_int_equal(pci_io_read(&bus, 4, 4), 0xffffffff);
	select_reg(&bus, 0, 3, 0);
	assert_int_equal(pci_io_read(&bus, 4, 2), 0xffff);
	pci_io_write(&bus, 0, 4, PCI_CONFIG_ENABLE | 1 << 16);
	assert_int_equal(pci_io_read(&bus, 4, 1), 0xff);
	pci_io_write(&bus, 0, 4, 0);
	assert_int_equal(pci_io_read(&bus, 4, 4), 0xffffffff);
	pci_io_write(&bus, 4, 4, 0x12345678);	/* goes nowhere */
}

static void test_write_masks(void **state)
{
	struct pci_bus bus;
	struct pci_dev br;

	(void)state;
	setup(&bus, &br);
	br.cfg_written = on_write;
	select_reg(&bus, 0, 0, 4);
	pci_io_write(&bus, 4, 2, 0xffff);
	assert_int_equal(pci_io_read(&bus, 4, 2), 0x0007);
	assert_int_equal(written_off, 4);
	assert_int_equal(written_size, 2);
	select_reg(&bus, 0, 0, 0);
	pci_io_write(&bus, 4, 4, 0);
	assert_int_equal(pci_io_read(&bus, 4, 4), 0x00081b36);
	/* Direct accessors clip at the end of config space. */
	assert_int_equal(pci_cfg_read(&br, 254, 4), 0xffff0000);
	pci_cfg_write(&br, 255, 4, 0xffffffff);
}

static void test_slots(void **state)
{
	struct pci_bus bus;
	struct pci_dev br, other;

	(void)state;
	setup(&bus, &br);
	assert_int_equal(pci_bus_add(&bus, 0, &other), -EBUSY);
	assert_int_equal(pci_bus_add(&bus, 32, &other), -EINVAL);
	assert_int_equal(pci_bus_add(&bus, 31, &other), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_address),
		cmocka_unit_test(test_host_bridge_reads),
		cmocka_unit_test(test_absent_and_disabled),
		cmocka_unit_test(test_write_masks),
		cmocka_unit_test(test_slots),
	};
	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
