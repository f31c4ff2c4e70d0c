/* Dom0's console input: bytes from Keel's UART, announced with VIRQ_CONSOLE. */
#ifndef KEEL_CONSOLE_INPUT_H
#define KEEL_CONSOLE_INPUT_H
#include <keel/types.h>

struct domain;

/* Moves up to `max` waiting bytes to `out`; returns how many.  The first
 * call makes `d` the domain that gets VIRQ_CONSOLE when more arrive. */
unsigned int console_input_read(struct domain *d, char *out, unsigned int max);
#endif
