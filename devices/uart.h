/* 8250/16550A UART core: registers, FIFOs and interrupt logic; knows nothing of ports or hosts. */
#ifndef VMM_UART_H
#define VMM_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_DLL	0	/* DLAB=1 */
#define UART_IER	1	/* DLAB=0 */
#define UART_DLM	1	/* DLAB=1 */
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_ERBFI	0x01	/* received data available */
#define UART_IER_ETBEI	0x02	/* transmitter holding register empty */
#define UART_IER_ELSI	0x04	/* receiver line status */
#define UART_IER_EDSSI	0x08	/* modem status */

#define UART_IIR_NO_INT	0x01
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_CTI	0x0c	/* character timeout */
#define UART_IIR_FIFO	0xc0

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLR_RX	0x02
#define UART_FCR_CLR_TX	0x04

#define UART_LCR_DLAB	0x80

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10

#define UART_LSR_DR	0x01
#define UART_LSR_OE	0x02
#define UART_LSR_PE	0x04
#define UART_LSR_FE	0x08
#define UART_LSR_BI	0x10
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

#define UART_FIFO_LEN	16

struct uart_ops {
	void (*set_irq)(void *opaque, int level);	/* the INTRPT pin as the PC wires it */
	void (*tx)(void *opaque, uint8_t byte);		/* a byte leaves the transmitter */
};

struct uart {
	uint8_t rx[UART_FIFO_LEN];
	uint8_t rx_head, rx_count;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
	bool thr_ipending;	/* THRE interrupt pending, cleared by IIR read or THR write */
	int irq_level;
	const struct uart_ops *ops;
	void *opaque;
};

void uart_init(struct uart *u, const struct uart_ops *ops, void *opaque);
uint8_t uart_read(struct uart *u, unsigned reg);
void uart_write(struct uart *u, unsigned reg, uint8_t val);
/* Input from the line: 0, or -EAGAIN when the receive FIFO is full (the byte stays with the caller). */
int uart_receive(struct uart *u, uint8_t byte);
/* Room in the receive FIFO, for a backend that pushes input. */
unsigned uart_rx_room(const struct uart *u);

#endif
