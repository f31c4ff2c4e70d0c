/*
 * The fuzz guest racing itself: vCPUs 0 and 1 both run ../fuzz's random
 * calls at once on the same domain (pool frames, scratch L1 and pages,
 * windows, event channels, grant table), each with its own PRNG stream from
 * the seed (-DFUZZ_RACE).  The end gives back everything the domain may
 * still own and checks frames, types, ports, grant state and our own image.
 * Which vCPU's call lands first is timing: the hypercall log stays off.
 */
#include "../fuzz/fuzz.c"
