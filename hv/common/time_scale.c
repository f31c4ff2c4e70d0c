/* Fixed-point rate conversion in the format of Xen's vcpu_time_info. */
#include <keel/time.h>

void time_scale_init(struct time_scale *s, u64 from_hz, u64 to_hz)
{
    u64 num = to_hz, den = from_hz;
    int shift = 0;
    u32 mul = 0;

    /* Nonsense rates give a scale that maps everything to 0. */
    if (!from_hz || !to_hz || (from_hz >> 60) || (to_hz >> 60)) {
        s->mul = 0;
        s->shift = 0;
        return;
    }
    /* Normalise num/den into [1/2, 1): the shift carries the rest. */
    while (num >= den) {
        den <<= 1;
        shift++;
    }
    while (num < den / 2) {
        num <<= 1;
        shift--;
    }
    /* mul = num * 2^32 / den by long division: num < den keeps it 32-bit,
     * and den stays well below 2^63 for any plausible clock. */
    for (int i = 0; i < 32; i++) {
        num <<= 1;
        mul <<= 1;
        if (num >= den) {
            num -= den;
            mul |= 1;
        }
    }
    s->mul = mul;
    s->shift = (s8)shift;
}
