/* Test-guest runtime in long mode: IDT, TSS, fault catching, user mode, PIC setup, the C entry point. */
#include "guest.h"

uint32_t mb_magic;
uint32_t *mb_info;
volatile uint64_t unexpected_vectors;
uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

extern const uint64_t isr_stubs[256];
extern uint64_t gdt[];
void guest_start(uint32_t magic, uint32_t info);
void isr_dispatch(struct frame *f);

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
};

static struct tss64 tss __attribute__((aligned(16)));
static uint8_t intr_stack[16384] __attribute__((aligned(16)));
static uint64_t idt[512] __attribute__((aligned(16)));
static isr_fn handlers[256];

static volatile int fault_vector = -1;
static volatile unsigned fault_skip;
static volatile bool fault_catching;

/*
 * Kernel context saved by user_run(), resumed when user code reaches the ud2
 * at user_exit: a #UD works on every host, unlike int $N from CPL3 (kvm_pvm
 * turns that into #UD as well).
 */
struct jmp {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};
static struct jmp user_return;
int ctx_save(struct jmp *j);
void __attribute__((noreturn)) ctx_restore(struct jmp *j);
void user_trampoline(void);
extern const uint8_t user_exit[];

__asm__(".text\n"
	".globl ctx_save\n"
	"ctx_save:\n"
	"  movq %rbx, 0(%rdi)\n  movq %rbp, 8(%rdi)\n  movq %r12, 16(%rdi)\n"
	"  movq %r13, 24(%rdi)\n  movq %r14, 32(%rdi)\n  movq %r15, 40(%rdi)\n"
	"  leaq 8(%rsp), %rax\n  movq %rax, 48(%rdi)\n  movq (%rsp), %rax\n  movq %rax, 56(%rdi)\n"
	"  pushfq\n  popq 64(%rdi)\n"
	"  xorl %eax, %eax\n  ret\n"
	".globl ctx_restore\n"
	"ctx_restore:\n"
	"  movq 0(%rdi), %rbx\n  movq 8(%rdi), %rbp\n  movq 16(%rdi), %r12\n"
	"  movq 24(%rdi), %r13\n  movq 32(%rdi), %r14\n  movq 40(%rdi), %r15\n"
	"  movq 48(%rdi), %rsp\n  pushq 64(%rdi)\n  popfq\n"
	"  movl $1, %eax\n  jmpq *56(%rdi)\n"
	".globl user_trampoline\n"
	"user_trampoline:\n"
	"  movq %rsi, %rax\n  movq %rdx, %rdi\n  callq *%rax\n"
	".globl user_exit\n"
	"user_exit:\n  ud2\n");

#define VECTOR_UD 6

void idt_set_handler(unsigned vector, isr_fn fn)
{
	handlers[vector & 0xff] = fn;
}

void isr_dispatch(struct frame *f)
{
	if (f->vector == VECTOR_UD && (f->cs & 3) == 3 && f->rip == (uint64_t)user_exit)
		ctx_restore(&user_return);
	if (f->vector < 32 && fault_catching) {
		fault_vector = (int)f->vector;
		f->rip += fault_skip;
		fault_catching = false;
		return;
	}
	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	if (f->vector < 32) {
		printf("unexpected exception %u (error 0x%x) at rip 0x%lx\n", (unsigned)f->vector,
		       (unsigned)f->error, f->rip);
		report(false, "no unexpected exception");
		report_summary();
	}
	unexpected_vectors++;
}

void fault_catch_begin(unsigned insn_len)
{
	fault_vector = -1;
	fault_skip = insn_len;
	fault_catching = true;
	barrier();
}

int fault_catch_end(void)
{
	barrier();
	fault_catching = false;
	return fault_vector;
}

int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	fault_catch_begin(2);
	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = (uint64_t)hi << 32 | lo;
	return fault_catch_end();
}

int wrmsr_safe(uint32_t msr, uint64_t val)
{
	fault_catch_begin(2);
	__asm__ volatile("wrmsr" : : "a"((uint32_t)val), "d"((uint32_t)(val >> 32)), "c"(msr) : "memory");
	return fault_catch_end();
}

void user_run(void (*fn)(void *), void *arg, void *stack_top)
{
	if (ctx_save(&user_return))
		return;
	/* iretq to CPL3 with IF set; rsi/rdx carry fn and arg to the trampoline. */
	__asm__ volatile("pushq $0x1b\n\t"
			 "pushq %0\n\t"
			 "pushq $0x202\n\t"
			 "pushq $0x23\n\t"
			 "pushq %1\n\t"
			 "iretq"
			 : : "r"((uint64_t)stack_top & ~15ull), "r"((uint64_t)user_trampoline),
			   "S"(fn), "d"(arg) : "memory");
	__builtin_unreachable();
}

const char *guest_cmdline(void)
{
	if (!mb_info || !(mb_info[0] & (1u << 2)))
		return "";
	return (const char *)(uint64_t)mb_info[4];
}

bool cmdline_has(const char *word)
{
	const char *c = guest_cmdline();
	size_t n = strlen(word);

	for (; *c; c++)
		if ((c == guest_cmdline() || c[-1] == ' ') && memcmp(c, word, n) == 0 &&
		    (c[n] == 0 || c[n] == ' '))
			return true;
	return false;
}

void pic_setup(void)
{
	outb(0x20, 0x11);	/* ICW1: edge, cascade, ICW4 */
	outb(0xa0, 0x11);
	outb(0x21, IRQ_BASE);
	outb(0xa1, IRQ_BASE + 8);
	outb(0x21, 0x04);	/* slave on IR2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01);	/* 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xfb);	/* all masked but the cascade */
	outb(0xa1, 0xff);
}

void pic_unmask(unsigned irq)
{
	uint16_t port = irq < 8 ? 0x21 : 0xa1;

	outb(port, inb(port) & (uint8_t)~(1u << (irq & 7)));
}

void pic_mask(unsigned irq)
{
	uint16_t port = irq < 8 ? 0x21 : 0xa1;

	outb(port, inb(port) | (uint8_t)(1u << (irq & 7)));
}

uint8_t pic_irr(unsigned chip)
{
	outb(chip ? 0xa0 : 0x20, 0x0a);	/* OCW3: read IRR */
	return inb(chip ? 0xa0 : 0x20);
}

uint8_t pic_isr(unsigned chip)
{
	uint8_t v;

	outb(chip ? 0xa0 : 0x20, 0x0b);	/* OCW3: read ISR */
	v = inb(chip ? 0xa0 : 0x20);
	outb(chip ? 0xa0 : 0x20, 0x0a);
	return v;
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

void guest_start(uint32_t magic, uint32_t info)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { sizeof(idt) - 1, (uint64_t)idt };
	uint64_t t = (uint64_t)&tss;

	mb_magic = magic;
	mb_info = (uint32_t *)(uint64_t)info;
	tss.rsp[0] = (uint64_t)(intr_stack + sizeof(intr_stack));
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap: IOPL alone decides */
	gdt[5] = (sizeof(tss) - 1) | (t & 0xffffff) << 16 | 0x89ull << 40 | ((t >> 24) & 0xff) << 56;
	gdt[6] = t >> 32;
	__asm__ volatile("ltr %w0" : : "r"(0x28));
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = isr_stubs[v];
		/* 64-bit interrupt gate, selector 0x08, DPL 0. */
		idt[2 * v] = (a & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | ((a >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = a >> 32;
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
	serial_init();
	pic_setup();
	guest_exit((uint32_t)main());
}
