/* The registers gdb sees: one table per mode gives the 'g' layout, 'p'/'P' numbers and target.xml. */
#ifndef VMM_GDB_REGS_H
#define VMM_GDB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Everything both layouts can show; gpr[] in amd64 order: rax rbx rcx rdx rsi rdi rbp rsp r8-r15. */
struct gdb_regs {
	uint64_t gpr[16];
	uint64_t rip, rflags;
	uint64_t seg[6];		/* cs ss ds es fs gs selectors */
	uint64_t fs_base, gs_base;
	uint8_t st[8][10];		/* x87 registers, 80-bit */
	uint64_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];
	uint64_t mxcsr;
};

/* i386:x86-64 once the guest is in long mode, i386 before. */
enum gdb_arch { GDB_ARCH_I386, GDB_ARCH_X86_64 };

/* The target description gdb reads through qXfer:features:read:target.xml. */
const char *gdb_target_xml(enum gdb_arch arch);
/* Number of registers in the layout, and the hex length of a 'g' reply. */
unsigned gdb_reg_count(enum gdb_arch arch);
size_t gdb_regs_hex_len(enum gdb_arch arch);
/* 'g': every register, target byte order, as hex into out (gdb_regs_hex_len + 1 bytes). */
size_t gdb_regs_to_hex(const struct gdb_regs *r, enum gdb_arch arch, char *out);
/* 'G': -1 if the length or a digit is wrong; r is untouched then. */
int gdb_regs_from_hex(struct gdb_regs *r, enum gdb_arch arch, const char *hex, size_t len);
/* 'p' and 'P' for register n: -1 for a number outside the layout or bad hex. */
int gdb_reg_to_hex(const struct gdb_regs *r, enum gdb_arch arch, unsigned n, char *out);
int gdb_reg_from_hex(struct gdb_regs *r, enum gdb_arch arch, unsigned n, const char *hex, size_t len);

#endif
