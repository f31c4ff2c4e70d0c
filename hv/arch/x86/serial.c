/* 16550 UART console (polled: Keel never waits on serial interrupts). */
#include <asm/io.h>
#include <keel/console.h>
#include <keel/serial.h>

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1
#define LSR_THRE 0x20
#define LSR_DR 0x01

static u16 uart_base;

static void uart_putc(char c)
{
    /* Bounded wait: a missing UART must not hang Keel forever. */
    for (int i = 0; i < 100000 && !(inb(uart_base + UART_LSR) & LSR_THRE); i++)
        __asm__ __volatile__("pause");
    outb(uart_base + UART_THR, (u8)c);
}

static void uart_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
}

static struct console_sink uart_sink = {.name = "serial", .write = uart_write};

int serial_getc(void)
{
    if (!uart_base || !(inb(uart_base + UART_LSR) & LSR_DR))
        return -1;
    return inb(uart_base + UART_THR);
}

void serial_init(u16 base, u32 baud)
{
    u16 div = (u16)(115200 / (baud ? baud : 115200));

    uart_base = base;
    outb(base + UART_IER, 0x00);
    outb(base + UART_LCR, 0x80); /* DLAB on to set the divisor */
    outb(base + UART_DLL, (u8)div);
    outb(base + UART_DLM, (u8)(div >> 8));
    outb(base + UART_LCR, 0x03); /* 8n1 */
    outb(base + UART_FCR, 0x07); /* FIFOs on and cleared */
    outb(base + UART_MCR, 0x03); /* DTR, RTS */
    console_register(&uart_sink);
}
