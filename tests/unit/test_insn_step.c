/* cmocka tests of vmm's own steps of mov, lea, push and pop: operands decoded, memory as the CPU leaves it, the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "insn_step.h"
#include "tables.h"

#define STACK 0x21000ull	/* top of the stack page 0x20000 */

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, mem.host + gpa, 8);
	return v;
}

static struct kvm_regs regs(void)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rsp = STACK;
	r.rax = 0x30000;
	r.rbx = 0x30100;
	r.rsi = 0xfedcba9876543210ull;
	r.r12 = 0x1122334455667788ull;
	r.rflags = 0x2 | X86_RFLAGS_RF;
	return r;
}

/* Run code; it must be taken, RIP past its len bytes, RF clear. */
static struct kvm_regs step(struct kvm_regs r, unsigned cpl, const uint8_t *code, unsigned n, unsigned len)
{
	assert_int_equal(insn_step(&mem, &pm, cpl, &r, code, n), 1);
	assert_int_equal(r.rip, CODE + len);
	assert_int_equal(r.rflags & X86_RFLAGS_RF, 0);
	return r;
}

static void test_registers(void **state)
{
	static const uint8_t mov64[] = { 0x48, 0x89, 0xf2 }, mov32[] = { 0x89, 0xf2 }, movr[] = { 0x4c, 0x8b, 0xc6 };
	struct kvm_regs r = regs(), after;

	(void)state;
	after = step(r, 3, mov64, sizeof(mov64), 3);	/* mov %rsi,%rdx: no memory, any CPL */
	assert_int_equal(after.rdx, r.rsi);
	r.rdx = ~0ull;
	after = step(r, 0, mov32, sizeof(mov32), 2);	/* mov %esi,%edx zero-extends */
	assert_int_equal(after.rdx, 0x76543210);
	after = step(r, 0, movr, sizeof(movr), 3);	/* mov %rsi,%r8 (8B, REX.R) */
	assert_int_equal(after.r8, r.rsi);
}

static void test_lea(void **state)
{
	static const uint8_t rsp8[] = { 0x48, 0x8d, 0x7c, 0x24, 0x08 }, rip[] = { 0x48, 0x8d, 0x05, 0x10, 0, 0, 0 },
			     sib[] = { 0x48, 0x8d, 0x04, 0x98 }, r12[] = { 0x4a, 0x8d, 0x04, 0xa0 },
			     d32[] = { 0x48, 0x8d, 0x04, 0x25, 0x00, 0x10, 0, 0 }, lea32[] = { 0x8d, 0x04, 0x98 };
	struct kvm_regs r = regs(), after;

	(void)state;
	after = step(r, 3, rsp8, sizeof(rsp8), 5);	/* lea 8(%rsp),%rdi */
	assert_int_equal(after.rdi, STACK + 8);
	after = step(r, 0, rip, sizeof(rip), 7);		/* lea 0x10(%rip),%rax: from the next instruction */
	assert_int_equal(after.rax, CODE + 7 + 0x10);
	after = step(r, 0, sib, sizeof(sib), 4);		/* lea (%rax,%rbx,4),%rax */
	assert_int_equal(after.rax, r.rax + r.rbx * 4);
	after = step(r, 0, r12, sizeof(r12), 4);		/* lea (%rax,%r12,4),%rax: REX.X makes index 4 r12 */
	assert_int_equal(after.rax, r.rax + r.r12 * 4);
	after = step(r, 0, d32, sizeof(d32), 8);		/* lea 0x1000,%rax: SIB, no base, no index */
	assert_int_equal(after.rax, 0x1000);
	r.rax = 0xffffffff00000000ull;
	r.rbx = 1;
	after = step(r, 0, lea32, sizeof(lea32), 3);	/* lea (%rax,%rbx,4),%eax: truncated */
	assert_int_equal(after.rax, 4);
}

static void test_memory(void **state)
{
	static const uint8_t load32[] = { 0x8b, 0x74, 0x24, 0x04 }, store[] = { 0x48, 0x89, 0x03 },
			     load64[] = { 0x48, 0x8b, 0x43, 0x08 };
	struct kvm_regs r = regs(), after;

	(void)state;
	put64(STACK, 0xaabbccdd11223344ull);
	r.rsp = STACK - 4;
	r.rsi = ~0ull;
	after = step(r, 0, load32, sizeof(load32), 4);	/* mov 0x4(%rsp),%esi */
	assert_int_equal(after.rsi, 0x11223344);
	r = regs();
	r.rax = 0x0123456789abcdefull;
	after = step(r, 0, store, sizeof(store), 3);	/* mov %rax,(%rbx) */
	assert_int_equal(get64(0x30100), r.rax);
	assert_true(dirty[0x30 / 64] >> (0x30 % 64) & 1);
	put64(0x30108, 77);
	after = step(r, 0, load64, sizeof(load64), 4);	/* mov 0x8(%rbx),%rax */
	assert_int_equal(after.rax, 77);
}

static void test_push_pop(void **state)
{
	static const uint8_t push_r12[] = { 0x41, 0x54 }, pop_rbx[] = { 0x5b }, pop_rsp[] = { 0x5c },
			     push_rsp[] = { 0x54 };
	struct kvm_regs r = regs(), after;

	(void)state;
	after = step(r, 0, push_r12, sizeof(push_r12), 2);
	assert_int_equal(after.rsp, STACK - 8);
	assert_int_equal(get64(STACK - 8), r.r12);
	assert_true(dirty[0x20 / 64] >> (0x20 % 64) & 1);
	after.rip = CODE;
	after = step(after, 0, pop_rbx, sizeof(pop_rbx), 1);
	assert_int_equal(after.rbx, r.r12);
	assert_int_equal(after.rsp, STACK);
	after = step(r, 0, push_rsp, sizeof(push_rsp), 1);	/* push %rsp pushes the old value */
	assert_int_equal(get64(STACK - 8), STACK);
	put64(STACK - 8, 0x20800);
	r.rsp = STACK - 8;
	after = step(r, 0, pop_rsp, sizeof(pop_rsp), 1);	/* pop %rsp: the value read wins */
	assert_int_equal(after.rsp, 0x20800);
}

#define refused(r, cpl, code) refused_at(__LINE__, r, cpl, code, sizeof(code))
static void refused_at(int line, struct kvm_regs r, unsigned cpl, const uint8_t *code, unsigned n)
{
	struct kvm_regs before = r;
	uint8_t page[4096];

	memcpy(page, mem.host + 0x30000, sizeof(page));
	if (insn_step(&mem, &pm, cpl, &r, code, n) != 0)
		fail_msg("stepped, not refused, at line %d", line);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_memory_equal(page, mem.host + 0x30000, sizeof(page));
}

static void test_left_to_the_cpu(void **state)
{
	static const uint8_t store[] = { 0x48, 0x89, 0x03 }, load[] = { 0x48, 0x8b, 0x03 }, push[] = { 0x50 },
			     mov16[] = { 0x66, 0x89, 0xf2 }, fs_load[] = { 0x64, 0x48, 0x8b, 0x03 },
			     mov_seg[] = { 0x8e, 0xd8 }, lea_reg[] = { 0x48, 0x8d, 0xc0 }, cut[] = { 0x48, 0x8b, 0x84, 0x24 },
			     add[] = { 0x48, 0x01, 0xc3 }, rex_only[] = { 0x48 };
	struct kvm_regs r = regs();

	(void)state;
	refused(r, 3, store);			/* memory in user mode */
	refused(r, 3, push);
	refused(r, 0, mov16);			/* any prefix but REX */
	refused(r, 0, fs_load);
	refused(r, 0, mov_seg);
	refused(r, 0, lea_reg);			/* #UD */
	refused(r, 0, cut);
	refused(r, 0, add);			/* changes flags */
	refused(r, 0, rex_only);
	r.rbx = 0x30ffc;
	refused(r, 0, load);			/* across a page */
	r.rbx = RAM + 0x100;
	refused(r, 0, load);			/* outside the mapping */
	r.rbx = 0x0000800000000000ull;
	refused(r, 0, load);			/* not canonical */
	r = regs();
	map(0x30, 0x30000, PAGE_FLAGS & ~PTE_D);
	refused(r, 0, store);			/* would set a dirty bit */
	map(0x30, 0x30000, PAGE_FLAGS & ~PTE_A);
	refused(r, 0, load);			/* would set an accessed bit */
	map(0x30, 0x30000, PAGE_FLAGS & ~PTE_W);
	refused(r, 0, store);			/* read-only */
	map(0x30, RAM + 0x1000ull, PAGE_FLAGS);
	refused(r, 0, load);			/* not RAM */
	map(0x30, 0x30000, PAGE_FLAGS);
	pm.cr4 |= X86_CR4_PKS;
	refused(r, 0, load);
	pm.cr4 &= ~X86_CR4_PKS;
	pm.efer = 0;
	refused(r, 0, load);			/* not long mode */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lea, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_pop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_to_the_cpu, setup, teardown),
	};

	return cmocka_run_group_tests_name("insn_step", tests, NULL, NULL);
}
