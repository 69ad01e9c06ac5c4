/* The test-guest library: port I/O, serial output, report(), interrupts, exit through port 0xf4. */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEBUG_EXIT_PORT 0xf4

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
/* Wait for one interrupt: sti's shadow covers hlt, so none is missed; IF is off again after. */
static inline void wait_for_interrupt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* Serial (COM1, polled) and formatted output. */
void serial_init(void);
void putc_serial(char c);
void puts_serial(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* One check: prints "ok N - name" or "not ok N - name". Returns cond. */
bool report(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* While deferred, report() keeps results (up to 32) and prints them at report_flush(): for loopback. */
void report_defer(void);
void report_flush(void);
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "N passed, N failed" and exits 0 if none failed, else 1. */
void __attribute__((noreturn)) report_summary(void);
void __attribute__((noreturn)) guest_exit(uint32_t code);

/* Interrupts and faults (64-bit; the library runs in long mode). */
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*isr_fn)(struct frame *f);
void idt_set_handler(unsigned vector, isr_fn fn);
/* Catch the next exception: the faulting instruction (insn_len bytes) is skipped. */
void fault_catch_begin(unsigned insn_len);
/* The vector caught since fault_catch_begin(), or -1. */
int fault_catch_end(void);
int rdmsr_safe(uint32_t msr, uint64_t *val);
int wrmsr_safe(uint32_t msr, uint64_t val);
extern volatile uint64_t unexpected_vectors;

/*
 * Run fn(arg) at CPL3 on the given stack with interrupts enabled; returns when
 * fn returns. User code runs natively on emulating KVMs (kvm_pvm), fast as on
 * any host; it reports through memory, since port I/O from CPL3 (IOPL 3) is
 * not honoured there.
 */
void user_run(void (*fn)(void *), void *arg, void *stack_top);

/* 8259A helpers: vectors 0x20-0x2f, everything masked. */
uint8_t pic_irr(unsigned chip);
uint8_t pic_isr(unsigned chip);
#define IRQ_BASE 0x20
void pic_setup(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);

/* The multiboot info we were entered with. */
extern uint32_t mb_magic;
extern uint32_t *mb_info;

/* The multiboot command line ("" if none); true if it contains word. */
const char *guest_cmdline(void);
bool cmdline_has(const char *word);

int main(void);

#define USER_STACK_SIZE 16384
extern uint8_t user_stack[USER_STACK_SIZE];

#endif
