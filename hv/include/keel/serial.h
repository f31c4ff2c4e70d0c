#ifndef KEEL_SERIAL_H
#define KEEL_SERIAL_H
#include <keel/types.h>
void serial_init(u16 base, u32 baud);
/* Returns a received byte, or -1 when none is waiting. */
int serial_getc(void);
#endif
