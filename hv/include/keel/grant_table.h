/* Grant tables (hv/common/grant_table.c): the frames a domain shares. */
#ifndef KEEL_GRANT_TABLE_H
#define KEEL_GRANT_TABLE_H
#include <keel/types.h>

struct domain;

/* Is mfn one of d's grant-table frames (which Keel keeps, the guest may
 * not give away)? */
bool gnttab_is_frame(const struct domain *d, mfn_t mfn);
#endif
