/* The mini toolstack's hypercall wrappers, shared with tests/guests/toolstack. */
#include "../toolstack/hcalls.c"
