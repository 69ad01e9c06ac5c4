/* A rep stos or rep movs run by vmm itself: a landmark hunt's stop at one costs no entry to run it whole. */
#include "rep_string.h"

#include <stdbool.h>
#include <string.h>

#include "vm.h"

/*
 * Host bytes for [gva, gva+len), in the pieces pages cut it into; false as
 * soon as the CPU would fault, set an accessed or dirty bit, or leave RAM.
 * With out NULL, only checks.
 */
struct piece {
	uint8_t *host;
	uint64_t gpa, len;
	uint64_t entry[5];	/* the page-table entries the CPU reads to reach it */
	unsigned n;
};

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}


static bool reach(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva, uint64_t len,
		  bool write, struct piece *out, unsigned *np, unsigned max)
{
	uint64_t need = PTE_P | PTE_A | (write ? PTE_W : 0);

	*np = 0;
	if (len && (!paging_canonical(pm, gva) || !paging_canonical(pm, gva + len - 1)))
		return false;
	while (len) {
		struct paging_flags f;
		uint64_t gpa, left;
		uint8_t *host;

		if (paging_translate_flags(m, pm, gva, &gpa, &left, &f) < 0 || (f.all & need) != need ||
		    (f.all & PTE_U) || (write && !(f.leaf & PTE_D)))
			return false;
		if (left > len)
			left = len;
		if (!(host = gmem_ptr(m, gpa, left)) || *np >= max)
			return false;
		out[*np] = (struct piece){ host, gpa, left, { 0 }, f.n };
		memcpy(out[(*np)++].entry, f.entry, sizeof(f.entry));
		gva += left;
		len -= left;
	}
	return true;
}

#define PIECES_MAX (REP_RUN_MAX / 4096 + 2)

int rep_string_run(const struct guest_mem *m, const struct paging_mode *pm, unsigned cpl, struct kvm_regs *r,
		   const uint8_t *code, unsigned n)
{
	struct piece dst[PIECES_MAX], src[PIECES_MAX];
	struct piece code_at;
	unsigned size, len, nd, ns = 0, nc;
	uint64_t bytes;
	uint8_t val[8];
	bool movs;

	if (cpl != 0 || (pm->cr4 & X86_CR4_PKS) || (r->rflags & X86_RFLAGS_DF) ||
	    !(len = insn_rep_string(code, n, &size, &movs)))
		return 0;
	for (unsigned i = 0; i + 1 < len; i++)
		if (code[i] == 0x64 || code[i] == 0x65)
			return 0;	/* FS or GS: a segment base of their own */
	if (r->rcx > REP_RUN_MAX / size)
		return 0;
	bytes = r->rcx * size;
	if (bytes && r->rdi + bytes < r->rdi)
		return 0;
	if (bytes && movs && (r->rsi + bytes < r->rsi || (r->rsi < r->rdi + bytes && r->rdi < r->rsi + bytes)))
		return 0;	/* overlapping: element by element, not worth it */
	if (!reach(m, pm, r->rdi, bytes, true, dst, &nd, PIECES_MAX) ||
	    (movs && !reach(m, pm, r->rsi, bytes, false, src, &ns, PIECES_MAX)) ||
	    !reach(m, pm, r->rip, len, false, &code_at, &nc, 1))
		return 0;
	/*
	 * What the CPU reads while the string runs must not be what it writes:
	 * the instruction itself, the page tables it walks, and (two mappings
	 * of one page) the source.
	 */
	for (unsigned i = 0; i < nd; i++) {
		if (overlap(dst[i].gpa, dst[i].len, code_at.gpa, len))
			return 0;
		for (unsigned j = 0; j < nd + ns + 1; j++) {
			const struct piece *q = j < nd ? &dst[j] : j < nd + ns ? &src[j - nd] : &code_at;

			for (unsigned e = 0; e < q->n; e++)
				if (overlap(dst[i].gpa, dst[i].len, q->entry[e], 8))
					return 0;
			if (j >= nd && j < nd + ns && overlap(dst[i].gpa, dst[i].len, q->gpa, q->len))
				return 0;
		}
	}
	if (movs) {
		unsigned i = 0, j = 0;
		uint64_t di = 0, si = 0;

		while (i < nd && j < ns) {
			uint64_t k = dst[i].len - di < src[j].len - si ? dst[i].len - di : src[j].len - si;

			memcpy(dst[i].host + di, src[j].host + si, k);
			if ((di += k) == dst[i].len)
				i++, di = 0;
			if ((si += k) == src[j].len)
				j++, si = 0;
		}
		r->rsi += bytes;
	} else {
		uint64_t at = 0;

		memcpy(val, &r->rax, 8);
		for (unsigned i = 0; i < nd; i++)
			for (uint64_t k = 0; k < dst[i].len; k++, at++)
				dst[i].host[k] = val[at % size];
	}
	for (unsigned i = 0; i < nd; i++)
		gmem_mark_dirty(m, dst[i].gpa, dst[i].len);
	r->rdi += bytes;
	r->rcx = 0;
	r->rip += len;
	r->rflags &= ~X86_RFLAGS_RF;
	return 1;
}
