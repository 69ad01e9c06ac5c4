/* MC146818 RTC core: the clock is base + elapsed host time; registers are derived on read, never ticked. */
#include "rtc.h"

#include <string.h>

#define NS_PER_SEC 1000000000ull

/* Days since 1970-01-01 of a proleptic Gregorian date (era-based arithmetic). */
int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool binary_mode(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & RTC_B_DM_BINARY;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	return binary_mode(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc *r, uint8_t v)
{
	return binary_mode(r) ? v : (v >> 4) * 10u + (v & 0xf);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return enc(r, h);
	return (uint8_t)(enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc *r, uint8_t v)
{
	unsigned h;

	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return dec(r, v);
	h = dec(r, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

/* Write the guest-visible time registers for epoch second t. */
static void fields_from_time(struct rtc *r, int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, secs = t - days * 86400, y;
	unsigned m, d;

	rtc_civil_from_days(days, &y, &m, &d);
	r->cmos[RTC_SECONDS] = enc(r, (unsigned)(secs % 60));
	r->cmos[RTC_MINUTES] = enc(r, (unsigned)(secs / 60 % 60));
	r->cmos[RTC_HOURS] = enc_hour(r, (unsigned)(secs / 3600));
	r->cmos[RTC_DAY_OF_WEEK] = enc(r, (unsigned)((days % 7 + 11) % 7 + 1));	/* Sunday = 1 */
	r->cmos[RTC_DAY_OF_MONTH] = enc(r, d);
	r->cmos[RTC_MONTH] = enc(r, m);
	r->cmos[RTC_YEAR] = enc(r, (unsigned)(y % 100));
	r->cmos[RTC_CENTURY] = enc(r, (unsigned)(y / 100));
}

static int64_t time_from_fields(const struct rtc *r)
{
	int64_t y = dec(r, r->cmos[RTC_CENTURY]) * 100 + dec(r, r->cmos[RTC_YEAR]);
	unsigned m = dec(r, r->cmos[RTC_MONTH]), d = dec(r, r->cmos[RTC_DAY_OF_MONTH]);

	if (m < 1 || m > 12)
		m = 1;
	if (d < 1 || d > 31)
		d = 1;
	return rtc_days_from_civil(y, m, d) * 86400 + dec_hour(r, r->cmos[RTC_HOURS]) * 3600 +
	       dec(r, r->cmos[RTC_MINUTES]) * 60 + dec(r, r->cmos[RTC_SECONDS]);
}

static void update_irq(struct rtc *r)
{
	uint8_t c = r->cmos[RTC_REG_C] & 0x70, en = r->cmos[RTC_REG_B] & 0x70;
	int level = (c & en) != 0;

	if (level)
		r->cmos[RTC_REG_C] |= RTC_C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		r->set_irq(r->opaque, level);
	}
}

static uint64_t periodic_ns(const struct rtc *r)
{
	unsigned rate = r->cmos[RTC_REG_A] & 0x0f;

	if (rate == 0)
		return 0;
	if (rate < 3)
		rate += 7;	/* rates 1 and 2 alias 256 Hz and 128 Hz */
	return (NS_PER_SEC << (rate - 1)) / 32768;
}

static bool alarm_match(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xc0) == 0xc0 || alarm == now;	/* 11xxxxxx: don't care */
}

void rtc_service(struct rtc *r, uint64_t now)
{
	uint64_t sec = now / NS_PER_SEC, period = periodic_ns(r);

	if (!(r->cmos[RTC_REG_B] & RTC_B_SET) && sec > r->updated_sec) {
		/* Each second boundary is one update cycle; only the last can match an alarm usefully. */
		uint64_t from = sec - r->updated_sec > 86400 ? sec - 86400 : r->updated_sec + 1;

		for (uint64_t s = from; s <= sec; s++) {
			fields_from_time(r, r->base + (int64_t)s);
			r->cmos[RTC_REG_C] |= RTC_C_UF;
			if (alarm_match(r->cmos[RTC_SECONDS_ALARM], r->cmos[RTC_SECONDS]) &&
			    alarm_match(r->cmos[RTC_MINUTES_ALARM], r->cmos[RTC_MINUTES]) &&
			    alarm_match(r->cmos[RTC_HOURS_ALARM], r->cmos[RTC_HOURS]))
				r->cmos[RTC_REG_C] |= RTC_C_AF;
		}
	}
	r->updated_sec = sec;
	if (period) {
		uint64_t idx = now / period;

		if (idx > r->periodic_idx)
			r->cmos[RTC_REG_C] |= RTC_C_PF;
		r->periodic_idx = idx;
	}
	update_irq(r);
}

uint64_t rtc_next_event(const struct rtc *r, uint64_t now)
{
	uint8_t b = r->cmos[RTC_REG_B];
	uint64_t next = RTC_NEVER, period = periodic_ns(r);

	if ((b & RTC_B_PIE) && period)
		next = (now / period + 1) * period;
	if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
		uint64_t s = (now / NS_PER_SEC + 1) * NS_PER_SEC;

		if (s < next)
			next = s;
	}
	return next;
}

void rtc_init(struct rtc *r, int64_t epoch, uint64_t mem_size,
	      void (*set_irq)(void *, int), void *opaque)
{
	uint64_t ext_k, hi64k;
	unsigned sum = 0;

	memset(r, 0, sizeof(*r));
	r->set_irq = set_irq;
	r->opaque = opaque;
	r->base = epoch;
	r->cmos[RTC_REG_A] = 0x26;		/* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;		/* BCD, 24-hour, as a BIOS leaves it */
	r->cmos[RTC_REG_D] = RTC_D_VRT;
	fields_from_time(r, epoch);
	/* CMOS memory size bytes, as a PC BIOS would have filled them. */
	r->cmos[0x15] = 0x80;			/* base memory: 640 KiB */
	r->cmos[0x16] = 0x02;
	ext_k = mem_size > (1 << 20) ? (mem_size - (1 << 20)) >> 10 : 0;
	if (ext_k > 0xffff)
		ext_k = 0xffff;
	r->cmos[0x17] = r->cmos[0x30] = (uint8_t)ext_k;
	r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext_k >> 8);
	hi64k = mem_size > (16 << 20) ? (mem_size - (16 << 20)) >> 16 : 0;
	if (hi64k > 0xffff)
		hi64k = 0xffff;
	r->cmos[0x34] = (uint8_t)hi64k;
	r->cmos[0x35] = (uint8_t)(hi64k >> 8);
	r->cmos[0x14] = 0x06;			/* equipment: FPU, video by adapter */
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = (uint8_t)(sum >> 8);
	r->cmos[0x2f] = (uint8_t)sum;
}

static bool is_time_reg(unsigned idx)
{
	return idx <= RTC_YEAR || idx == RTC_CENTURY;
}

uint8_t rtc_read(struct rtc *r, unsigned port, uint64_t now)
{
	uint8_t val;

	if (!(port & 1))
		return 0xff;	/* the index register is write-only */
	switch (r->index) {
	case RTC_REG_A:
		val = r->cmos[RTC_REG_A];
		if (!(r->cmos[RTC_REG_B] & RTC_B_SET) &&
		    now % NS_PER_SEC >= NS_PER_SEC - RTC_UIP_NS)
			val |= RTC_A_UIP;
		return val;
	case RTC_REG_C:
		rtc_service(r, now);
		val = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0;
		update_irq(r);
		return val;
	default:
		if (is_time_reg(r->index) && r->index != RTC_SECONDS_ALARM &&
		    r->index != RTC_MINUTES_ALARM && r->index != RTC_HOURS_ALARM &&
		    !(r->cmos[RTC_REG_B] & RTC_B_SET))
			fields_from_time(r, r->base + (int64_t)(now / NS_PER_SEC));
		return r->cmos[r->index];
	}
}

void rtc_write(struct rtc *r, unsigned port, uint8_t val, uint64_t now)
{
	int64_t now_sec = (int64_t)(now / NS_PER_SEC);
	uint8_t idx;

	if (!(port & 1)) {
		r->index = val & 0x7f;
		r->nmi_disabled = val & RTC_NMI_DISABLE;
		return;
	}
	idx = r->index;
	switch (idx) {
	case RTC_REG_A:
		rtc_service(r, now);
		r->cmos[RTC_REG_A] = val & 0x7f;	/* UIP is read-only */
		r->periodic_idx = periodic_ns(r) ? now / periodic_ns(r) : 0;
		break;
	case RTC_REG_B:
		rtc_service(r, now);
		if (!(r->cmos[RTC_REG_B] & RTC_B_SET))
			fields_from_time(r, r->base + now_sec);
		if ((r->cmos[RTC_REG_B] & RTC_B_SET) && !(val & RTC_B_SET)) {
			/* Leaving SET: the clock restarts from what the guest wrote. */
			r->cmos[RTC_REG_B] = val;
			r->base = time_from_fields(r) - now_sec;
			r->updated_sec = (uint64_t)now_sec;
		} else {
			/* Data-mode bits change only how the time is shown: re-encode it. */
			int64_t t = time_from_fields(r);

			r->cmos[RTC_REG_B] = val;
			fields_from_time(r, t);
		}
		update_irq(r);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;		/* read-only */
	default:
		if (is_time_reg(idx) && idx != RTC_SECONDS_ALARM && idx != RTC_MINUTES_ALARM &&
		    idx != RTC_HOURS_ALARM) {
			bool set = r->cmos[RTC_REG_B] & RTC_B_SET;

			if (!set)
				fields_from_time(r, r->base + now_sec);
			r->cmos[idx] = val;
			if (!set)
				r->base = time_from_fields(r) - now_sec;
			break;
		}
		r->cmos[idx] = val;
		break;
	}
}
