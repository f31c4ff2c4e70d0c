/*
 * A domain's frame list and its relinquishment (see keel/domain_mem.h).
 * The lock is taken with interrupts off: the last put_page of a frame can
 * happen in any context.
 */
#include <keel/console.h>
#include <keel/domain_mem.h>

void dmem_init(struct domain_mem *m)
{
    *m = (struct domain_mem){
        .lock = SPINLOCK_INIT,
        .head = PG_LIST_NONE,
        .tail = PG_LIST_NONE,
    };
}

static void list_append(struct domain_mem *m, struct page_info *pg)
{
    u32 mfn = (u32)page_to_mfn(pg);

    pg->list_next = PG_LIST_NONE;
    pg->list_prev = m->tail;
    if (m->tail != PG_LIST_NONE)
        mfn_to_page(m->tail)->list_next = mfn;
    else
        m->head = mfn;
    m->tail = mfn;
    m->nr_listed++;
}

static void list_unlink(struct domain_mem *m, struct page_info *pg)
{
    if (pg->list_prev != PG_LIST_NONE)
        mfn_to_page(pg->list_prev)->list_next = pg->list_next;
    else
        m->head = pg->list_next;
    if (pg->list_next != PG_LIST_NONE)
        mfn_to_page(pg->list_next)->list_prev = pg->list_prev;
    else
        m->tail = pg->list_prev;
    pg->list_next = PG_LIST_NONE;
    pg->list_prev = PG_LIST_OFF;
    m->nr_listed--;
}

int dmem_assign(struct domain_mem *m, struct page_info *pg, struct domain *d, bool *first)
{
    unsigned long f = spin_lock_irqsave(&m->lock);

    if (m->closed) {
        spin_unlock_irqrestore(&m->lock, f);
        return -1;
    }
    /* Listed before it is published: relinquish can never miss it. */
    list_append(m, pg);
    page_set_owner(pg, d);
    *first = m->nr_owned++ == 0;
    spin_unlock_irqrestore(&m->lock, f);
    return 0;
}

bool dmem_release(struct domain_mem *m, struct page_info *pg)
{
    unsigned long f = spin_lock_irqsave(&m->lock);
    bool last;

    if (pg->list_prev != PG_LIST_OFF)
        list_unlink(m, pg);
    BUG_ON(m->nr_owned == 0);
    last = --m->nr_owned == 0;
    spin_unlock_irqrestore(&m->lock, f);
    return last;
}

void dmem_close(struct domain_mem *m)
{
    unsigned long f = spin_lock_irqsave(&m->lock);

    m->closed = true;
    spin_unlock_irqrestore(&m->lock, f);
}

/*
 * The first listed frame, off the list and with a reference of ours; NULL
 * when the list is empty.  A frame whose count is already 0 is being freed
 * right now (its release waits for our lock): it is only taken off.
 */
static struct page_info *take_head(struct domain_mem *m, struct domain *d, bool *empty)
{
    unsigned long f = spin_lock_irqsave(&m->lock);
    struct page_info *pg = NULL;

    *empty = m->head == PG_LIST_NONE;
    if (!*empty) {
        pg = mfn_to_page(m->head);
        list_unlink(m, pg);
        if (!get_page(pg, d))
            pg = NULL;
    }
    spin_unlock_irqrestore(&m->lock, f);
    return pg;
}

unsigned long dmem_relinquish(struct domain_mem *m, struct domain *d, unsigned long budget,
                              void (*each)(struct page_info *pg, void *ctx), void *ctx)
{
    unsigned long left;
    unsigned long f;

    /* One caller at a time (the dying domain's destroyer): m->later is
     * not locked. */
    for (unsigned long n = 0; n < budget; n++) {
        bool empty;
        struct page_info *pg;

        if (page_put_later_run(&m->later, true) == -KEEL_ERESTART)
            break;
        pg = take_head(m, d, &empty);
        if (empty)
            break;
        if (!pg)
            continue;
        /* Unpinning a table releases what its entries hold, tables below
         * it included: their frames may be freed (and leave the list).
         * A release that stops keeps the frame (the parked reference). */
        page_unpin_later(pg, &m->later);
        if (!m->later.pg)
            page_drop_partial(pg); /* a validation stopped part-way */
        if (page_clear_allocated(pg)) {
            if (each)
                each(pg, ctx);
            put_page(pg); /* the reference PGC_allocated held */
        }
        put_page(pg); /* ours: the frame goes unless mapped elsewhere */
    }
    f = spin_lock_irqsave(&m->lock);
    left = m->nr_listed;
    spin_unlock_irqrestore(&m->lock, f);
    return left + (m->later.pg != NULL);
}

int dmem_verify(struct domain_mem *m, const struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&m->lock);
    unsigned long n = 0;
    u32 prev = PG_LIST_NONE;
    int rc = 0;

    for (u32 mfn = m->head; mfn != PG_LIST_NONE; mfn = mfn_to_page(mfn)->list_next) {
        const struct page_info *pg = mfn_to_page(mfn);
        if (pg->owner != d || pg->list_prev != prev || n > m->nr_listed) {
            rc = -1;
            break;
        }
        prev = mfn;
        n++;
    }
    if (!rc && (n != m->nr_listed || m->tail != prev || m->nr_listed > m->nr_owned))
        rc = -1;
    spin_unlock_irqrestore(&m->lock, f);
    return rc;
}
