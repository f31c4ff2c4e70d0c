/* Foreign mappings through dom0's own L1 entries (tests/guests/toolstack). */
#include "../toolstack/foreign.c"
