/* 8250/16550A UART core: an infinitely fast transmitter, a 16-byte receive FIFO, the PC's OUT2 interrupt gate. */
#include "uart.h"

#include <errno.h>
#include <string.h>

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

static bool fifo_enabled(const struct uart *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = fifo_enabled(u) ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_ELSI) && (u->lsr & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)))
		return fifo | UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count) {
		/*
		 * Data below the trigger level raises the character-timeout
		 * interrupt; a real chip waits four character times first, we
		 * report it at once so the result does not depend on host time.
		 */
		if (fifo_enabled(u) && u->rx_count < rx_trigger[u->fcr >> 6])
			return fifo | UART_IIR_CTI;
		return fifo | UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr & 0x0f))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
	/*
	 * On the PC, INTRPT reaches the PIC through a gate driven by OUT2; in
	 * loopback the OUT pins are forced inactive, so no interrupt leaves.
	 */
	int level = !(uart_iir(u) & UART_IIR_NO_INT) &&
		    (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;

	if (level != u->irq_level) {
		u->irq_level = level;
		u->ops->set_irq(u->opaque, level);
	}
}

/* Modem status inputs: in loopback they follow the MCR outputs, else the line is "all ready". */
static void uart_update_msr(struct uart *u)
{
	uint8_t in, old = u->msr, delta = 0;

	if (u->mcr & UART_MCR_LOOP)
		in = (uint8_t)(((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
			       ((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			       ((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
			       ((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
	else
		in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if ((in ^ old) & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if ((in ^ old) & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(in & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	if ((in ^ old) & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	u->msr = (uint8_t)(in | (old & 0x0f) | delta);
}

void uart_init(struct uart *u, const struct uart_ops *ops, void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->ops = ops;
	u->opaque = opaque;
	u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	u->dll = 12;		/* 9600 baud, as after a BIOS */
	u->lcr = 0x03;		/* 8N1 */
	uart_update_msr(u);
	u->msr &= 0xf0;		/* no deltas at power-on */
}

unsigned uart_rx_room(const struct uart *u)
{
	unsigned cap = fifo_enabled(u) ? UART_FIFO_LEN : 1;

	return u->rx_count < cap ? cap - u->rx_count : 0;
}

static void rx_push(struct uart *u, uint8_t byte)
{
	if (!uart_rx_room(u)) {
		u->lsr |= UART_LSR_OE;	/* the new byte is lost, as on the chip */
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_LEN] = byte;
	u->rx_count++;
	u->lsr |= UART_LSR_DR;
}

int uart_receive(struct uart *u, uint8_t byte)
{
	/* In loopback the receiver is disconnected from the line. */
	if ((u->mcr & UART_MCR_LOOP) || !uart_rx_room(u))
		return -EAGAIN;
	rx_push(u, byte);
	uart_update_irq(u);
	return 0;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->lsr &= (uint8_t)~UART_LSR_DR;
}

uint8_t uart_read(struct uart *u, unsigned reg)
{
	uint8_t val = 0xff;

	switch (reg & 7) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB)
			return u->dll;
		if (u->rx_count) {
			val = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_LEN;
			u->rx_count--;
		} else {
			val = 0;
		}
		if (!u->rx_count)
			u->lsr &= (uint8_t)~UART_LSR_DR;
		break;
	case UART_IER:
		return (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR:
		val = uart_iir(u);
		/* Reading IIR while it reports THRE acknowledges that interrupt. */
		if ((val & 0x0f) == UART_IIR_THRI)
			u->thr_ipending = false;
		break;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		val = u->lsr;
		u->lsr &= (uint8_t)~(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI);
		break;
	case UART_MSR:
		val = u->msr;
		u->msr &= 0xf0;
		break;
	case UART_SCR:
		return u->scr;
	}
	uart_update_irq(u);
	return val;
}

void uart_write(struct uart *u, unsigned reg, uint8_t val)
{
	switch (reg & 7) {
	case UART_THR:
		if (u->lcr & UART_LCR_DLAB) {
			u->dll = val;
			return;
		}
		if (u->mcr & UART_MCR_LOOP)
			rx_push(u, val);
		else
			u->ops->tx(u->opaque, val);
		/* The byte is gone at once: THR and the shift register are empty again. */
		u->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
		u->thr_ipending = true;
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = val;
			return;
		}
		/* Enabling ETBEI while THR is empty raises THRE at once (8250 behaviour Linux probes). */
		if (!(u->ier & UART_IER_ETBEI) && (val & UART_IER_ETBEI) && (u->lsr & UART_LSR_THRE))
			u->thr_ipending = true;
		u->ier = val & 0x0f;
		break;
	case UART_FCR:
		if ((val ^ u->fcr) & UART_FCR_ENABLE)
			rx_clear(u);	/* changing FIFO mode empties both FIFOs */
		if (val & UART_FCR_CLR_RX)
			rx_clear(u);
		u->fcr = val & (UART_FCR_ENABLE | 0xc0);
		if (!fifo_enabled(u))
			u->fcr = 0;
		break;
	case UART_LCR:
		u->lcr = val;
		return;
	case UART_MCR:
		u->mcr = val & 0x1f;
		uart_update_msr(u);
		break;
	case UART_LSR:
	case UART_MSR:
		return;		/* factory test registers; writes are undefined, ignore */
	case UART_SCR:
		u->scr = val;
		return;
	}
	uart_update_irq(u);
}
