/* The EXIT journal record (docs/journal.md): the one codec the recorder, the replayer and journal dump share. */
#include "exit_rec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void rr_exit_from_run(struct rr_exit *e, const struct kvm_run *run, uint64_t rip, uint64_t dt)
{
	memset(e, 0, sizeof(*e));
	e->reason = (uint8_t)run->exit_reason;
	e->dt = dt;
	e->rip = rip;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		size_t n = (size_t)run->io.count * run->io.size;

		e->u.io.dir = run->io.direction;
		e->u.io.size = run->io.size;
		e->u.io.port = run->io.port;
		e->u.io.count = run->io.count;
		e->u.io.len = (uint32_t)(n < RR_EXIT_IO_MAX ? n : RR_EXIT_IO_MAX);
		e->u.io.data = (const uint8_t *)run + run->io.data_offset;
		break;
	}
	case KVM_EXIT_MMIO:
		e->u.mmio.is_write = run->mmio.is_write;
		e->u.mmio.len = (uint8_t)(run->mmio.len <= 8 ? run->mmio.len : 8);
		e->u.mmio.addr = run->mmio.phys_addr;
		memcpy(e->u.mmio.data, run->mmio.data, e->u.mmio.len);
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		e->u.msr.index = run->msr.index;
		e->u.msr.data = run->exit_reason == KVM_EXIT_X86_WRMSR ? run->msr.data : 0;
		e->u.msr.error = run->msr.error;
		break;
	default:
		break;
	}
}

void rr_exit_encode(const struct rr_exit *e, struct jbuf *b)
{
	jbuf_u8(b, e->reason);
	jbuf_varint(b, e->dt);
	jbuf_varint(b, e->rip);
	switch (e->reason) {
	case KVM_EXIT_IO:
		jbuf_u8(b, e->u.io.dir);
		jbuf_u8(b, e->u.io.size);
		jbuf_varint(b, e->u.io.port);
		jbuf_varint(b, e->u.io.count);
		jbuf_bytes(b, e->u.io.data, e->u.io.len);
		break;
	case KVM_EXIT_MMIO:
		jbuf_u8(b, e->u.mmio.is_write);
		jbuf_u8(b, e->u.mmio.len);
		jbuf_varint(b, e->u.mmio.addr);
		jbuf_bytes(b, e->u.mmio.data, e->u.mmio.len);
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		jbuf_varint(b, e->u.msr.index);
		jbuf_varint(b, e->u.msr.data);
		jbuf_u8(b, e->u.msr.error);
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		rr_landmark_encode(&e->u.window, b);
		break;
	default:
		break;
	}
}

int rr_exit_decode(const uint8_t *p, size_t len, struct rr_exit *e)
{
	struct jcur c = { p, len, 0, false };

	memset(e, 0, sizeof(*e));
	e->reason = jcur_u8(&c);
	e->dt = jcur_varint(&c);
	e->rip = jcur_varint(&c);
	switch (e->reason) {
	case KVM_EXIT_IO: {
		uint64_t port, count;
		size_t n;

		e->u.io.dir = jcur_u8(&c);
		e->u.io.size = jcur_u8(&c);
		port = jcur_varint(&c);
		count = jcur_varint(&c);
		if (port > 0xffff || count > UINT32_MAX || (e->u.io.size != 1 && e->u.io.size != 2 && e->u.io.size != 4))
			return -EINVAL;
		e->u.io.port = (uint16_t)port;
		e->u.io.count = (uint32_t)count;
		n = (size_t)count * e->u.io.size;
		e->u.io.len = (uint32_t)(n < RR_EXIT_IO_MAX ? n : RR_EXIT_IO_MAX);
		if (e->u.io.len > c.len - c.pos)
			e->u.io.len = (uint32_t)(c.len - c.pos);	/* a recorder before the cap kept less */
		e->u.io.data = jcur_bytes(&c, e->u.io.len);
		break;
	}
	case KVM_EXIT_MMIO: {
		const uint8_t *d;

		e->u.mmio.is_write = jcur_u8(&c);
		e->u.mmio.len = jcur_u8(&c);
		e->u.mmio.addr = jcur_varint(&c);
		if (e->u.mmio.len > 8)
			return -EINVAL;
		d = jcur_bytes(&c, e->u.mmio.len);
		if (d)
			memcpy(e->u.mmio.data, d, e->u.mmio.len);
		break;
	}
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR: {
		uint64_t index = jcur_varint(&c);

		if (index > UINT32_MAX)
			return -EINVAL;
		e->u.msr.index = (uint32_t)index;
		e->u.msr.data = jcur_varint(&c);
		e->u.msr.error = jcur_u8(&c);
		break;
	}
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		if (rr_landmark_decode(&c, &e->u.window) < 0)
			return -EINVAL;
		break;
	default:
		break;
	}
	return c.bad ? -EINVAL : 0;
}

bool rr_exit_matches(const struct rr_exit *want, const struct rr_exit *got, bool after)
{
	if (want->reason != got->reason || want->rip != got->rip)
		return false;
	switch (want->reason) {
	case KVM_EXIT_IO:
		if (want->u.io.dir != got->u.io.dir || want->u.io.size != got->u.io.size ||
		    want->u.io.port != got->u.io.port || want->u.io.count != got->u.io.count)
			return false;
		/* OUT data is the guest's, known before the handler; IN data is the device's, after it. */
		if ((want->u.io.dir == KVM_EXIT_IO_OUT) != after)
			return want->u.io.len <= got->u.io.len &&
			       (!want->u.io.len || memcmp(want->u.io.data, got->u.io.data, want->u.io.len) == 0);
		return true;
	case KVM_EXIT_MMIO:
		if (want->u.mmio.is_write != got->u.mmio.is_write || want->u.mmio.len != got->u.mmio.len ||
		    want->u.mmio.addr != got->u.mmio.addr)
			return false;
		if ((bool)want->u.mmio.is_write != after)
			return memcmp(want->u.mmio.data, got->u.mmio.data, want->u.mmio.len) == 0;
		return true;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		if (want->u.msr.index != got->u.msr.index || want->u.msr.data != got->u.msr.data)
			return false;
		return !after || want->u.msr.error == got->u.msr.error;
	default:
		return true;
	}
}

static uint64_t value_of(const uint8_t *d, size_t len)
{
	uint64_t v = 0;

	if (d)
		memcpy(&v, d, len <= 8 ? len : 8);
	return v;
}

void rr_exit_describe(const struct rr_exit *e, char *out, size_t n)
{
	switch (e->reason) {
	case KVM_EXIT_IO:
		snprintf(out, n, "io %s port 0x%x size %u count %u value 0x%llx at rip 0x%llx",
			 e->u.io.dir == KVM_EXIT_IO_OUT ? "out" : "in", e->u.io.port, e->u.io.size, e->u.io.count,
			 (unsigned long long)value_of(e->u.io.data, e->u.io.len < e->u.io.size ? e->u.io.len : e->u.io.size),
			 (unsigned long long)e->rip);
		break;
	case KVM_EXIT_MMIO:
		snprintf(out, n, "mmio %s addr 0x%llx size %u value 0x%llx at rip 0x%llx",
			 e->u.mmio.is_write ? "write" : "read", (unsigned long long)e->u.mmio.addr, e->u.mmio.len,
			 (unsigned long long)value_of(e->u.mmio.data, e->u.mmio.len), (unsigned long long)e->rip);
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		snprintf(out, n, "%s msr 0x%x value 0x%llx%s at rip 0x%llx",
			 e->reason == KVM_EXIT_X86_WRMSR ? "wrmsr" : "rdmsr", e->u.msr.index,
			 (unsigned long long)e->u.msr.data, e->u.msr.error ? " (refused)" : "",
			 (unsigned long long)e->rip);
		break;
	default:
		snprintf(out, n, "%s exit at rip 0x%llx", vm_exit_reason_name(e->reason), (unsigned long long)e->rip);
		break;
	}
}

void rr_exit_dump(const struct rr_exit *e, char *out, size_t n)
{
	int k = snprintf(out, n, "%-10s rip=%llx", vm_exit_reason_name(e->reason), (unsigned long long)e->rip);

	if (k < 0 || (size_t)k >= n)
		return;
	out += k;
	n -= (size_t)k;
	switch (e->reason) {
	case KVM_EXIT_IO:
		snprintf(out, n, " %s port=0x%x size=%u%s value=0x%llx", e->u.io.dir == KVM_EXIT_IO_OUT ? "out" : "in",
			 e->u.io.port, e->u.io.size, e->u.io.count > 1 ? " rep" : "",
			 (unsigned long long)value_of(e->u.io.data, e->u.io.len < e->u.io.size ? e->u.io.len : e->u.io.size));
		break;
	case KVM_EXIT_MMIO:
		snprintf(out, n, " %s addr=0x%llx size=%u value=0x%llx", e->u.mmio.is_write ? "write" : "read",
			 (unsigned long long)e->u.mmio.addr, e->u.mmio.len,
			 (unsigned long long)value_of(e->u.mmio.data, e->u.mmio.len));
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		snprintf(out, n, " msr=0x%x value=0x%llx%s", e->u.msr.index, (unsigned long long)e->u.msr.data,
			 e->u.msr.error ? " refused" : "");
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		if (e->u.window.npages)
			snprintf(out, n, " pages=%u", e->u.window.npages);
		break;
	default:
		break;
	}
}
