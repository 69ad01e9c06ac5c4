/* Register layouts as tables: the 'g' packet, 'p'/'P' numbering and target.xml all come from the same rows. */
#include "regs.h"

#include <stdio.h>
#include <string.h>

#include "rsp.h"

struct reg_row {
	const char *name;
	unsigned size;		/* bytes gdb transfers */
	size_t offset;		/* into struct gdb_regs */
	const char *type;	/* target.xml type */
	const char *feature;	/* which target.xml feature it belongs to */
};

#define GPR(i) offsetof(struct gdb_regs, gpr) + 8 * (i)
#define F(m) offsetof(struct gdb_regs, m)
#define ST(i) offsetof(struct gdb_regs, st) + 10 * (i)
#define XMM(i) offsetof(struct gdb_regs, xmm) + 16 * (i)
#define CORE "org.gnu.gdb.i386.core"
#define SSE "org.gnu.gdb.i386.sse"
#define SEGS "org.gnu.gdb.i386.segments"

#define X87_ROWS \
	{ "st0", 10, ST(0), "i387_ext", CORE }, { "st1", 10, ST(1), "i387_ext", CORE }, \
	{ "st2", 10, ST(2), "i387_ext", CORE }, { "st3", 10, ST(3), "i387_ext", CORE }, \
	{ "st4", 10, ST(4), "i387_ext", CORE }, { "st5", 10, ST(5), "i387_ext", CORE }, \
	{ "st6", 10, ST(6), "i387_ext", CORE }, { "st7", 10, ST(7), "i387_ext", CORE }, \
	{ "fctrl", 4, F(fctrl), "int", CORE }, { "fstat", 4, F(fstat), "int", CORE }, \
	{ "ftag", 4, F(ftag), "int", CORE }, { "fiseg", 4, F(fiseg), "int", CORE }, \
	{ "fioff", 4, F(fioff), "int", CORE }, { "foseg", 4, F(foseg), "int", CORE }, \
	{ "fooff", 4, F(fooff), "int", CORE }, { "fop", 4, F(fop), "int", CORE }

#define SEG_ROWS \
	{ "cs", 4, F(seg[0]), "int32", CORE }, { "ss", 4, F(seg[1]), "int32", CORE }, \
	{ "ds", 4, F(seg[2]), "int32", CORE }, { "es", 4, F(seg[3]), "int32", CORE }, \
	{ "fs", 4, F(seg[4]), "int32", CORE }, { "gs", 4, F(seg[5]), "int32", CORE }

#define XMM_ROW(i) { "xmm" #i, 16, XMM(i), "vec128", SSE }

/* gdb's amd64 order: the 'g' packet of a 64-bit guest. */
static const struct reg_row amd64_rows[] = {
	{ "rax", 8, GPR(0), "int64", CORE }, { "rbx", 8, GPR(1), "int64", CORE },
	{ "rcx", 8, GPR(2), "int64", CORE }, { "rdx", 8, GPR(3), "int64", CORE },
	{ "rsi", 8, GPR(4), "int64", CORE }, { "rdi", 8, GPR(5), "int64", CORE },
	{ "rbp", 8, GPR(6), "data_ptr", CORE }, { "rsp", 8, GPR(7), "data_ptr", CORE },
	{ "r8", 8, GPR(8), "int64", CORE }, { "r9", 8, GPR(9), "int64", CORE },
	{ "r10", 8, GPR(10), "int64", CORE }, { "r11", 8, GPR(11), "int64", CORE },
	{ "r12", 8, GPR(12), "int64", CORE }, { "r13", 8, GPR(13), "int64", CORE },
	{ "r14", 8, GPR(14), "int64", CORE }, { "r15", 8, GPR(15), "int64", CORE },
	{ "rip", 8, F(rip), "code_ptr", CORE }, { "eflags", 4, F(rflags), "i386_eflags", CORE },
	SEG_ROWS, X87_ROWS,
	XMM_ROW(0), XMM_ROW(1), XMM_ROW(2), XMM_ROW(3), XMM_ROW(4), XMM_ROW(5), XMM_ROW(6), XMM_ROW(7),
	XMM_ROW(8), XMM_ROW(9), XMM_ROW(10), XMM_ROW(11), XMM_ROW(12), XMM_ROW(13), XMM_ROW(14), XMM_ROW(15),
	{ "mxcsr", 4, F(mxcsr), "i386_mxcsr", SSE },
	{ "fs_base", 8, F(fs_base), "int", SEGS }, { "gs_base", 8, F(gs_base), "int", SEGS },
};

/* gdb's i386 order (eax ecx edx ebx esp ebp esi edi): the low halves of the same registers. */
static const struct reg_row i386_rows[] = {
	{ "eax", 4, GPR(0), "int32", CORE }, { "ecx", 4, GPR(2), "int32", CORE },
	{ "edx", 4, GPR(3), "int32", CORE }, { "ebx", 4, GPR(1), "int32", CORE },
	{ "esp", 4, GPR(7), "data_ptr", CORE }, { "ebp", 4, GPR(6), "data_ptr", CORE },
	{ "esi", 4, GPR(4), "int32", CORE }, { "edi", 4, GPR(5), "int32", CORE },
	{ "eip", 4, F(rip), "code_ptr", CORE }, { "eflags", 4, F(rflags), "i386_eflags", CORE },
	SEG_ROWS, X87_ROWS,
	XMM_ROW(0), XMM_ROW(1), XMM_ROW(2), XMM_ROW(3), XMM_ROW(4), XMM_ROW(5), XMM_ROW(6), XMM_ROW(7),
	{ "mxcsr", 4, F(mxcsr), "i386_mxcsr", SSE },
};

static const struct reg_row *rows(enum gdb_arch arch, unsigned *n)
{
	if (arch == GDB_ARCH_X86_64) {
		*n = sizeof(amd64_rows) / sizeof(amd64_rows[0]);
		return amd64_rows;
	}
	*n = sizeof(i386_rows) / sizeof(i386_rows[0]);
	return i386_rows;
}

unsigned gdb_reg_count(enum gdb_arch arch)
{
	unsigned n;

	rows(arch, &n);
	return n;
}

size_t gdb_regs_hex_len(enum gdb_arch arch)
{
	unsigned n;
	const struct reg_row *t = rows(arch, &n);
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += 2 * t[i].size;
	return len;
}

/* The struct fields are little-endian like the target, so a register is its first size bytes. */
int gdb_reg_to_hex(const struct gdb_regs *r, enum gdb_arch arch, unsigned n, char *out)
{
	unsigned count;
	const struct reg_row *t = rows(arch, &count);

	if (n >= count)
		return -1;
	rsp_hex_encode(out, (const uint8_t *)r + t[n].offset, t[n].size);
	return (int)(2 * t[n].size);
}

int gdb_reg_from_hex(struct gdb_regs *r, enum gdb_arch arch, unsigned n, const char *hex, size_t len)
{
	unsigned count;
	const struct reg_row *t = rows(arch, &count);
	uint8_t v[16];

	if (n >= count || len != 2 * t[n].size || rsp_hex_decode(v, hex, t[n].size) < 0)
		return -1;
	memcpy((uint8_t *)r + t[n].offset, v, t[n].size);
	return 0;
}

size_t gdb_regs_to_hex(const struct gdb_regs *r, enum gdb_arch arch, char *out)
{
	unsigned n;
	size_t len = 0;

	rows(arch, &n);
	for (unsigned i = 0; i < n; i++)
		len += (size_t)gdb_reg_to_hex(r, arch, i, out + len);
	return len;
}

int gdb_regs_from_hex(struct gdb_regs *r, enum gdb_arch arch, const char *hex, size_t len)
{
	struct gdb_regs tmp = *r;
	unsigned n;
	const struct reg_row *t = rows(arch, &n);
	size_t at = 0;

	if (len != gdb_regs_hex_len(arch))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (gdb_reg_from_hex(&tmp, arch, i, hex + at, 2 * t[i].size) < 0)
			return -1;
		at += 2 * t[i].size;
	}
	*r = tmp;
	return 0;
}

/* Built once per arch from the table, so the description and the 'g' layout cannot disagree. */
const char *gdb_target_xml(enum gdb_arch arch)
{
	static char xml[2][8192];
	char *x = xml[arch == GDB_ARCH_X86_64];
	unsigned n;
	const struct reg_row *t = rows(arch, &n);
	const char *open = NULL;
	size_t len;

	if (x[0])
		return x;
	len = (size_t)snprintf(x, sizeof(xml[0]),
			       "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
			       "<target><architecture>%s</architecture>",
			       arch == GDB_ARCH_X86_64 ? "i386:x86-64" : "i386");
	for (unsigned i = 0; i < n && len < sizeof(xml[0]); i++) {
		if (!open || strcmp(open, t[i].feature) != 0) {
			if (open)
				len += (size_t)snprintf(x + len, sizeof(xml[0]) - len, "</feature>");
			open = t[i].feature;
			len += (size_t)snprintf(x + len, sizeof(xml[0]) - len, "<feature name=\"%s\">", open);
			if (!strcmp(open, CORE))
				len += (size_t)snprintf(x + len, sizeof(xml[0]) - len,
					"<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
					"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
					"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
					"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
					"</flags>");
			if (!strcmp(open, SSE))
				len += (size_t)snprintf(x + len, sizeof(xml[0]) - len,
					"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
					"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
					"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
					"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
					"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
					"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
					"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
					"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
					"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
					"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>"
					"</union><flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/>"
					"</flags>");
		}
		len += (size_t)snprintf(x + len, sizeof(xml[0]) - len,
					"<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"/>",
					t[i].name, 8 * t[i].size, t[i].type, i);
	}
	if (len < sizeof(xml[0]))
		snprintf(x + len, sizeof(xml[0]) - len, "</feature></target>");
	return x;
}
