/* MC146818 CMOS real-time clock core: time registers, A-D, periodic/alarm/update interrupts, CMOS RAM. */
#ifndef VMM_RTC_H
#define VMM_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_SECONDS		0x00
#define RTC_SECONDS_ALARM	0x01
#define RTC_MINUTES		0x02
#define RTC_MINUTES_ALARM	0x03
#define RTC_HOURS		0x04
#define RTC_HOURS_ALARM		0x05
#define RTC_DAY_OF_WEEK		0x06
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
#define RTC_CENTURY		0x32
#define RTC_CMOS_SIZE		128

#define RTC_A_UIP		0x80
#define RTC_B_SET		0x80
#define RTC_B_PIE		0x40
#define RTC_B_AIE		0x20
#define RTC_B_UIE		0x10
#define RTC_B_DM_BINARY		0x04
#define RTC_B_24H		0x02
#define RTC_C_IRQF		0x80
#define RTC_C_PF		0x40
#define RTC_C_AF		0x20
#define RTC_C_UF		0x10
#define RTC_D_VRT		0x80
#define RTC_NMI_DISABLE		0x80	/* bit 7 of the index port */
#define RTC_UIP_NS		244000	/* UIP is set this long before each update */
#define RTC_NEVER		UINT64_MAX

struct rtc {
	uint8_t cmos[RTC_CMOS_SIZE];
	uint8_t index;
	bool nmi_disabled;
	int64_t base;		/* guest epoch seconds at host time 0 */
	uint64_t updated_sec;	/* last whole second whose update cycle ran */
	uint64_t periodic_idx;	/* periodic ticks accounted so far */
	int irq_level;
	void (*set_irq)(void *opaque, int level);
	void *opaque;
};

/* epoch: guest wall-clock time (seconds since 1970, UTC) at now_ns = 0. */
void rtc_init(struct rtc *r, int64_t epoch, uint64_t mem_size,
	      void (*set_irq)(void *, int), void *opaque);
uint8_t rtc_read(struct rtc *r, unsigned port, uint64_t now_ns);	/* port 0: index, 1: data */
void rtc_write(struct rtc *r, unsigned port, uint8_t val, uint64_t now_ns);
void rtc_service(struct rtc *r, uint64_t now_ns);
uint64_t rtc_next_event(const struct rtc *r, uint64_t now_ns);

/* Civil-calendar conversion, exposed for the tests. */
int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d);
void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
