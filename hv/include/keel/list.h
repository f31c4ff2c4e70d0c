/*
 * Intrusive circular doubly-linked lists.  A node that is on no list points
 * at itself, so "is it queued?" is one comparison and removal is O(1).
 */
#ifndef KEEL_LIST_H
#define KEEL_LIST_H
#include <keel/types.h>

struct list {
    struct list *prev, *next;
};

static inline void list_init(struct list *l)
{
    l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
    return l->next == l;
}

/* Links n in front of `at` (at the tail when `at` is the list head). */
static inline void list_insert_before(struct list *n, struct list *at)
{
    n->next = at;
    n->prev = at->prev;
    at->prev->next = n;
    at->prev = n;
}

static inline void list_add_tail(struct list *n, struct list *head)
{
    list_insert_before(n, head);
}

static inline void list_add_head(struct list *n, struct list *head)
{
    list_insert_before(n, head->next);
}

/* Unlinks n and leaves it pointing at itself (safe to repeat). */
static inline void list_del(struct list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_init(n);
}

#define list_entry(p, type, member) container_of(p, type, member)
#define list_first(head, type, member)                                         \
    (list_empty(head) ? NULL : list_entry((head)->next, type, member))
/* Walks the list; the body may delete the current node (n is read ahead). */
#define list_for_each_safe(p, n, head)                                         \
    for ((p) = (head)->next, (n) = (p)->next; (p) != (head); (p) = (n), (n) = (p)->next)
#define list_for_each(p, head) for ((p) = (head)->next; (p) != (head); (p) = (p)->next)

#endif
