/* Shared record/replay machinery: dirty-page epochs, landmark fingerprints and capture, state digests, the header. */
#include "rr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../core/cpuid.h"
#include "hash.h"

#define PAGE RR_PAGE

static void put64(struct jbuf *b, uint64_t v);
static uint64_t get64(struct jcur *c);

static const uint8_t zero_page[PAGE];

/* A page's hash: its contents and where it is. */
static uint64_t page_at(uint64_t contents, size_t page)
{
	uint64_t h = contents ^ (page + 1) * 0x9e3779b97f4a7c15ull;

	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static uint64_t page_hash(const struct rr *rr, const uint8_t *data, size_t page)
{
	return rr->legacy_pages ? hash64(data, PAGE, page) : page_at(hash64_wide(data, PAGE), page);
}

/* The hash of page number page when it holds zeros, without reading it. */
static uint64_t zero_hash(const struct rr *rr, size_t page)
{
	return rr->legacy_pages ? hash64(zero_page, PAGE, page) : page_at(rr->zero_hash, page);
}

/*
 * Hash every page into out[] or, without out, fold the hashes into h; a page
 * never touched is not read.
 */
static uint64_t hash_all(struct rr *rr, uint64_t *out, uint64_t h)
{
	size_t pages = rr->vm->mem.size / PAGE;
	uint64_t *bm = malloc(rr->words * 8);
	bool known = bm && gmem_touched(&rr->vm->mem, bm) == 0;

	for (size_t i = 0; i < pages; i++) {
		uint64_t one = !known || bm[i / 64] >> (i % 64) & 1 ? page_hash(rr, rr->vm->mem.host + i * PAGE, i)
								    : zero_hash(rr, i);
		if (out)
			out[i] = one;
		else
			h = hash64(&one, sizeof(one), h);
	}
	free(bm);
	return h;
}

int rr_init(struct rr *rr, struct vm *vm, unsigned version, char *err, size_t errlen)
{
	size_t pages = vm->mem.size / PAGE;
	int r;

	memset(rr, 0, sizeof(*rr));
	rr->vm = vm;
	rr->legacy_pages = version < 6;
	rr->zero_hash = hash64_wide(zero_page, PAGE);
	rr->words = (pages + 63) / 64;
	rr->dirty = calloc(rr->words, 8);
	rr->fetched = calloc(rr->words, 8);
	rr->since_ckpt = calloc(rr->words, 8);
	rr->page_hash = calloc(pages ? pages : 1, 8);
	rr->dma_dirty = calloc(rr->words, 8);
	rr->epoch_hash = calloc(pages ? pages : 1, 8);
	rr->lbuf = malloc(RR_LANDMARK_BYTES_MAX);
	if (!rr->dirty || !rr->fetched || !rr->since_ckpt || !rr->page_hash || !rr->dma_dirty || !rr->epoch_hash ||
	    !rr->lbuf) {
		rr_free(rr);
		snprintf(err, errlen, "out of memory for the dirty-page bitmaps");
		return -ENOMEM;
	}
	/* The loaded image is the base the checkpoints' memory digests build on. */
	hash_all(rr, rr->page_hash, 0);
	memcpy(rr->epoch_hash, rr->page_hash, pages * 8);
	if ((r = vm_enable_dirty_log(vm, err, errlen)) < 0)
		return r;
	vm->mem.dma_dirty = rr->dma_dirty;
	return rr_epoch_reset(rr);
}

void rr_free(struct rr *rr)
{
	free(rr->dirty);
	free(rr->fetched);
	free(rr->since_ckpt);
	free(rr->page_hash);
	free(rr->epoch_hash);
	free(rr->lbuf);
	rr->lbuf = NULL;
	if (rr->vm && rr->vm->mem.dma_dirty == rr->dma_dirty)
		rr->vm->mem.dma_dirty = NULL;
	free(rr->dma_dirty);
	rr->dirty = rr->fetched = rr->since_ckpt = rr->page_hash = rr->dma_dirty = rr->epoch_hash = NULL;
}

static int fetch(struct rr *rr)
{
	int r = vm_dirty_fetch(rr->vm, rr->fetched);

	if (r < 0)
		return r;
	for (size_t i = 0; i < rr->words; i++) {
		uint64_t w = rr->fetched[i] | __atomic_exchange_n(&rr->dma_dirty[i], 0, __ATOMIC_RELAXED);

		rr->dirty[i] |= w;
		rr->since_ckpt[i] |= w;
	}
	return 0;
}

int rr_dirty_sync(struct rr *rr)
{
	return fetch(rr);
}

/* The next epoch compares with the pages as they are now. */
int rr_epoch_reset(struct rr *rr)
{
	int r = fetch(rr);

	for (size_t i = 0; i < rr->words; i++) {
		for (uint64_t w = rr->dirty[i]; w; w &= w - 1) {
			size_t page = i * 64 + (size_t)__builtin_ctzll(w);

			rr->epoch_hash[page] = page_hash(rr, rr->vm->mem.host + page * PAGE, page);
		}
	}
	memset(rr->dirty, 0, rr->words * 8);
	return r;
}

/*
 * Hash of the pages whose contents changed this epoch: tells apart turns of
 * a loop whose registers repeat. KVM may call a page dirty that nobody wrote
 * (how it maps pages depends on its MMU's history, which a VM rebuilt from a
 * snapshot does not share), so a page counts by its contents, not by the log.
 */
int rr_fingerprint_pages(struct rr *rr, uint64_t *fp, struct rr_landmark *l)
{
	uint64_t h = 0x6a09e667f3bcc908ull;
	size_t n = 0;
	int r;

	if ((r = fetch(rr)) < 0)
		return r;
	for (size_t i = 0; i < rr->words; i++) {
		uint64_t w = rr->dirty[i];

		while (w) {
			size_t page = i * 64 + (size_t)__builtin_ctzll(w);
			uint64_t now = page_hash(rr, rr->vm->mem.host + page * PAGE, page);

			w &= w - 1;
			if (now == rr->epoch_hash[page])
				continue;
			h = hash64(&now, sizeof(now), h ^ page);
			if (l && n < RR_LANDMARK_PAGES) {
				l->page[n] = page;
				l->page_data[n] = rr->vm->mem.host + page * PAGE;
			}
			n++;
		}
	}
	if (l)
		l->npages = n <= RR_LANDMARK_PAGES ? (unsigned)n : 0;
	*fp = h;
	return 0;
}

int rr_fingerprint(struct rr *rr, uint64_t *fp)
{
	return rr_fingerprint_pages(rr, fp, NULL);
}

/*
 * Memory is digested incrementally: only pages written since the last
 * checkpoint are hashed again, so a checkpoint costs the pages the guest
 * wrote, not the size of its RAM.
 */
int rr_checkpoint(struct rr *rr, struct rr_checkpoint *ck)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	int r;

	if ((r = fetch(rr)) < 0)
		return r;
	if (vm_get_regs(rr->vm, &regs) < 0 || ioctl(rr->vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	for (size_t i = 0; i < rr->words; i++) {
		for (uint64_t w = rr->since_ckpt[i]; w; w &= w - 1) {
			size_t page = i * 64 + (size_t)__builtin_ctzll(w);

			rr->page_hash[page] = page_hash(rr, rr->vm->mem.host + page * PAGE, page);
		}
		rr->since_ckpt[i] = 0;
	}
	ck->number = ++rr->checkpoints;
	ck->exits = rr->vm->exit_count;
	ck->time_ns = rr->last_now;
	ck->mem_digest = hash64(rr->page_hash, rr->vm->mem.size / PAGE * 8, 0);
	regs.rflags &= ~RR_RFLAGS_IGNORE;
	ck->cpu_digest = hash64(&regs, sizeof(regs), 0);
	ck->cpu_digest = hash64(&sregs.cr0, 8, ck->cpu_digest);
	ck->cpu_digest = hash64(&sregs.cr3, 8, ck->cpu_digest);
	ck->cpu_digest = hash64(&sregs.cr4, 8, ck->cpu_digest);
	ck->cpu_digest = hash64(&sregs.efer, 8, ck->cpu_digest);
	rr->ckpt_ns = rr->last_now;
	return 0;
}

void rr_checkpoint_encode(const struct rr_checkpoint *ck, struct jbuf *b)
{
	jbuf_varint(b, ck->number);
	jbuf_varint(b, ck->exits);
	jbuf_varint(b, ck->time_ns);
	put64(b, ck->mem_digest);
	put64(b, ck->cpu_digest);
}

int rr_checkpoint_decode(struct jcur *c, struct rr_checkpoint *ck)
{
	ck->number = jcur_varint(c);
	ck->exits = jcur_varint(c);
	ck->time_ns = jcur_varint(c);
	ck->mem_digest = get64(c);
	ck->cpu_digest = get64(c);
	return c->bad ? -EINVAL : 0;
}

void rr_virtio_encode_head(const struct rr_virtio *v, struct jbuf *b)
{
	jbuf_varint(b, v->dev);
	jbuf_varint(b, v->queue);
	jbuf_varint(b, v->head);
	jbuf_varint(b, v->len);
}

int rr_virtio_decode(struct jcur *c, struct rr_virtio *v)
{
	v->dev = jcur_varint(c);
	v->queue = jcur_varint(c);
	v->head = jcur_varint(c);
	v->len = jcur_varint(c);
	if (c->bad || v->len != c->len - c->pos || v->queue > 0xffff || v->head > 0xffff)
		return -EINVAL;
	v->data = c->p + c->pos;
	return 0;
}

void rr_notify_encode(const struct rr_notify *n, struct jbuf *b)
{
	jbuf_varint(b, n->dev);
	jbuf_varint(b, n->queue);
}

int rr_notify_decode(struct jcur *c, struct rr_notify *n)
{
	n->dev = jcur_varint(c);
	n->queue = jcur_varint(c);
	return c->bad || c->pos != c->len || n->dev >= BOARD_VIRTIO_MAX || n->queue >= VIRTIO_QUEUES_MAX ?
	       -EINVAL : 0;
}

void rr_regs_to_landmark(const struct kvm_regs *r, struct rr_landmark *l)
{
	const uint64_t g[16] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp,
				 r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };

	l->rip = r->rip;
	l->rflags = r->rflags & ~RR_RFLAGS_IGNORE;
	memcpy(l->gpr, g, sizeof(g));
	l->cpl = -1;
	l->has_rest = false;
	l->rest = 0;
	l->rf = -1;
	l->shadow = -1;
	l->npages = 0;
}

bool rr_landmark_same(const struct rr_landmark *a, const struct rr_landmark *b)
{
	return a->rip == b->rip && a->rflags == b->rflags && !memcmp(a->gpr, b->gpr, sizeof(a->gpr)) &&
	       a->fingerprint == b->fingerprint && a->cpl == b->cpl && a->has_rest == b->has_rest &&
	       a->rest == b->rest && a->rf == b->rf && a->shadow == b->shadow;
}

/* MSRs that count time or events by themselves: no part of a state's identity. */
static bool msr_ticks(uint32_t index)
{
	return index == 0x10 || index == 0xe7 || index == 0xe8 || index == 0x6e0 ||	/* TSC, MPERF, APERF, deadline */
	       (index >= 0xc1 && index <= 0xc8) || (index >= 0x309 && index <= 0x30b) ||	/* Intel counters */
	       (index >= 0xc0010004 && index <= 0xc0010007) ||				/* AMD counters */
	       (index >= 0xc0010200 && index <= 0xc001020b) ||
	       (index >= 0x40000000 && index <= 0x400000ff);	/* Hyper-V's clocks (vmm offers no Hyper-V) */
}

/*
 * The vCPU's events as they bear on what it does next. KVM reports the
 * vector, error code and payload of the last exception (and the last
 * interrupt's vector) after they were delivered, too: a #UD KVM reflected
 * in one run and a #GP in the other leave two states that differ only
 * there, and run alike.
 */
static struct kvm_vcpu_events events_that_count(const struct kvm_vcpu_events *e)
{
	struct kvm_vcpu_events c = *e;

	if (!c.exception.injected && !c.exception.pending) {
		c.exception.nr = 0;
		c.exception.has_error_code = 0;
		c.exception.error_code = 0;
		c.exception_has_payload = 0;
		c.exception_payload = 0;
	} else if (!c.exception_has_payload) {
		c.exception_payload = 0;
	}
	if (!c.interrupt.injected) {
		c.interrupt.nr = 0;
		c.interrupt.soft = 0;
	}
	return c;
}

uint64_t rr_cpu_rest(const struct vm_cpu *cpu)
{
	struct kvm_vcpu_events ev = events_that_count(&cpu->events);
	uint64_t h = hash64(&cpu->sregs, sizeof(cpu->sregs), 0);

	h = hash64(&cpu->dregs, sizeof(cpu->dregs), h);
	h = hash64(&ev, sizeof(ev), h);
	if (cpu->has_xsave) {
		/* The legacy area (x87, MXCSR, XMM) and AVX's upper halves; not the header, whose XSTATE_BV follows KVM's own handling. */
		h = hash64(cpu->xsave.region, 512, h);
		h = hash64((const uint8_t *)cpu->xsave.region + 576, 256, h);
	} else {
		h = hash64(&cpu->fpu, sizeof(cpu->fpu), h);
	}
	if (cpu->has_xcrs)
		h = hash64(&cpu->xcrs, sizeof(cpu->xcrs), h);
	for (unsigned i = 0; i < cpu->n_msrs; i++)
		if (!msr_ticks(cpu->msrs[i].index))
			h = hash64(&cpu->msrs[i], sizeof(cpu->msrs[i]), h);
	return h;
}

int rr_capture(struct rr *rr, struct rr_landmark *l, bool pages)
{
	struct vm_cpu *cpu = malloc(sizeof(*cpu));
	int r;

	if (!cpu)
		return -ENOMEM;
	/* No exit's I/O is pending at a kick or a window exit: read the vCPU as it stands. */
	if ((r = vm_cpu_read(rr->vm, cpu)) < 0) {
		free(cpu);
		return r;
	}
	rr_regs_to_landmark(&cpu->regs, l);
	/* SS.DPL is the CPL (KVM's SVM code says so explicitly): replay plants a HLT only in kernel code. */
	l->cpl = cpu->sregs.ss.dpl & 3;
	l->rest = rr_cpu_rest(cpu);
	l->has_rest = true;
	l->rf = !!(cpu->regs.rflags & RFLAGS_RF);
	l->shadow = cpu->events.interrupt.shadow & (KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS);
	free(cpu);
	return rr_fingerprint_pages(rr, &l->fingerprint, pages ? l : NULL);
}

static void put64(struct jbuf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		jbuf_u8(b, (uint8_t)(v >> (8 * i)));
}

static uint64_t get64(struct jcur *c)
{
	const uint8_t *p = jcur_bytes(c, 8);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void rr_landmark_encode(const struct rr_landmark *l, struct jbuf *b)
{
	put64(b, l->rip);
	put64(b, l->rflags);
	for (int i = 0; i < 16; i++)
		put64(b, l->gpr[i]);
	put64(b, l->fingerprint);
	if (l->cpl >= 0) {
		jbuf_u8(b, (uint8_t)l->cpl);
		if (l->has_rest) {
			put64(b, l->rest);
			if (l->rf >= 0) {
				jbuf_u8(b, (uint8_t)l->rf);
				if (l->shadow >= 0) {
					jbuf_u8(b, (uint8_t)l->shadow);
					jbuf_u8(b, (uint8_t)l->npages);
					for (unsigned i = 0; i < l->npages; i++) {
						jbuf_varint(b, l->page[i]);
						jbuf_bytes(b, l->page_data[i], PAGE);
					}
				}
			}
		}
	}
}

int rr_landmark_decode(struct jcur *c, struct rr_landmark *l)
{
	l->rip = get64(c);
	l->rflags = get64(c);
	for (int i = 0; i < 16; i++)
		l->gpr[i] = get64(c);
	l->fingerprint = get64(c);
	/* The CPL byte came later: a record without it is whole. */
	l->cpl = c->pos < c->len ? jcur_u8(c) : -1;
	if (l->cpl > 3)
		return -EINVAL;
	l->has_rest = c->pos < c->len;
	l->rest = l->has_rest ? get64(c) : 0;
	l->rf = l->has_rest && c->pos < c->len ? jcur_u8(c) : -1;
	if (l->rf > 1)
		return -EINVAL;
	l->shadow = l->rf >= 0 && c->pos < c->len ? jcur_u8(c) : -1;
	if (l->shadow > (KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS))
		return -EINVAL;
	/* The pages came with the shadow byte's journals, but a record may end before them. */
	l->npages = l->shadow >= 0 && c->pos < c->len ? jcur_u8(c) : 0;
	if (l->npages > RR_LANDMARK_PAGES)
		return -EINVAL;
	for (unsigned i = 0; i < l->npages; i++) {
		l->page[i] = jcur_varint(c);
		if (!(l->page_data[i] = jcur_bytes(c, PAGE)) || (i && l->page[i] <= l->page[i - 1]) ||
		    l->page[i] > UINT64_MAX / PAGE)
			return -EINVAL;	/* cut short, out of the recorder's order, or no page of an address space */
	}
	return c->bad ? -EINVAL : 0;
}

uint64_t rr_state_digest(struct rr *rr)
{
	struct vm *vm = rr->vm;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t h = 0;

	memset(&regs, 0, sizeof(regs));
	memset(&sregs, 0, sizeof(sregs));
	vm_get_regs(vm, &regs);
	ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs);
	regs.rflags &= ~RR_RFLAGS_IGNORE;
	h = hash64(&regs, sizeof(regs), h);
	h = hash64(&sregs.cr0, 8, h);
	h = hash64(&sregs.cr3, 8, h);
	h = hash64(&sregs.cr4, 8, h);
	h = hash64(&sregs.efer, 8, h);
	/*
	 * Every page by its contents, read afresh rather than taken from the
	 * dirty log: the end digest checks what the checkpoints trust.
	 */
	if (!rr->legacy_pages)
		return hash_all(rr, NULL, h);
	for (uint64_t off = 0; off < vm->mem.size; off += 1u << 20)
		h = hash64(vm->mem.host + off, 1u << 20, h);
	return h;
}

void rr_print_regs(FILE *f, const struct kvm_regs *r)
{
	fprintf(f, "  rip %016llx rflags %016llx\n"
		   "  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		   "  rsi %016llx rdi %016llx rsp %016llx rbp %016llx\n"
		   "  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		   "  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n",
		(unsigned long long)r->rip, (unsigned long long)r->rflags,
		(unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
		(unsigned long long)r->rdx, (unsigned long long)r->rsi, (unsigned long long)r->rdi,
		(unsigned long long)r->rsp, (unsigned long long)r->rbp, (unsigned long long)r->r8,
		(unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11,
		(unsigned long long)r->r12, (unsigned long long)r->r13, (unsigned long long)r->r14,
		(unsigned long long)r->r15);
}

void rr_make_header(struct journal_header *h, const struct rr_inputs *in, const char *version)
{
	struct cpuid_leaf t[CPUID_MAX_LEAVES];
	size_t n = cpuid_table(t, CPUID_MAX_LEAVES);

	memset(h, 0, sizeof(*h));
	h->host_cpu = -1;
	h->version = JOURNAL_VERSION;
	h->mem_size = in->mem_size;
	h->rtc_epoch = in->rtc_epoch;
	snprintf(h->cmdline, sizeof(h->cmdline), "%s", in->cmdline);
	snprintf(h->kernel_path, sizeof(h->kernel_path), "%s", in->kernel_path);
	if (in->kernel_sha256)
		memcpy(h->kernel_sha256, in->kernel_sha256, 32);
	else
		sha256(in->kernel, in->kernel_len, h->kernel_sha256);
	if (in->initrd) {
		h->has_initrd = true;
		snprintf(h->initrd_path, sizeof(h->initrd_path), "%s", in->initrd_path);
		if (in->initrd_sha256)
			memcpy(h->initrd_sha256, in->initrd_sha256, 32);
		else
			sha256(in->initrd, in->initrd_len, h->initrd_sha256);
	}
	for (size_t i = 0; i < n && (i + 1) * 28 <= sizeof(h->cpuid); i++) {
		const uint32_t w[7] = { t[i].function, t[i].index, t[i].flags, t[i].eax, t[i].ebx, t[i].ecx, t[i].edx };

		for (int j = 0; j < 7; j++)
			for (int k = 0; k < 4; k++)
				h->cpuid[h->cpuid_len++] = (uint8_t)(w[j] >> (8 * k));
	}
	snprintf(h->board, sizeof(h->board), "pic,pit,i8042,port61,rtc,post,port92,debug-exit,com1,elcr,pci;1");
	snprintf(h->vmm_version, sizeof(h->vmm_version), "%s", version);
}
