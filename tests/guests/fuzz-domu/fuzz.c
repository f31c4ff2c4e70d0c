/*
 * The fuzz guest built as a domU for `xl create` (tests/toolstack/hostile.sh):
 * the same random calls as ../fuzz (with other domains' ids among the
 * values, -DFUZZ_DOMU), after the aimed probes of foreign.c; output goes to
 * the console ring (-DRT_PV_CONSOLE), the hypercall log stays off.
 */
#include "../fuzz/fuzz.c"
