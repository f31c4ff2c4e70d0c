/*
 * Memory map sanitizing and carving.  Firmware maps overlap, come unsorted
 * and use odd granularity; Keel must never hand out a frame that firmware
 * also claims, so where entries disagree the non-RAM type wins, and RAM is
 * shrunk (never grown) to whole pages.
 */
#include <keel/console.h>
#include <keel/memmap.h>

const char *e820_type_name(u32 type)
{
    switch (type) {
    case E820_RAM: return "RAM";
    case E820_RESERVED: return "reserved";
    case E820_ACPI: return "ACPI data";
    case E820_NVS: return "ACPI NVS";
    case E820_UNUSABLE: return "unusable";
    default: return "unknown";
    }
}

/* Which type wins a disputed stretch: any non-RAM over RAM; then the larger. */
static u32 winner(u32 a, u32 b)
{
    if (a == E820_RAM)
        return b;
    if (b == E820_RAM)
        return a;
    return MAX(a, b);
}

static void sort_points(u64 *p, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++) {
        u64 v = p[i];
        unsigned int j = i;
        for (; j > 0 && p[j - 1] > v; j--)
            p[j] = p[j - 1];
        p[j] = v;
    }
}

/* Entries with their end clipped to PADDR_LIMIT; empty ones dropped. */
static unsigned int clip_input(struct mem_range *dst, const struct mem_range *in,
                               unsigned int nr, struct memmap_report *rep)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < nr && n < MEMMAP_MAX / 2; i++) {
        u64 start = in[i].start, len = in[i].len;

        if (!len) {
            rep->empty++;
            continue;
        }
        if (start >= PADDR_LIMIT || len > PADDR_LIMIT - start) {
            printk(KLOG_WARN "memmap: [%#llx, +%#llx) %s reaches past %d-bit physical: "
                   "clipped\n", (unsigned long long)start, (unsigned long long)len,
                   e820_type_name(in[i].type), PADDR_BITS);
            rep->clipped++;
            if (start >= PADDR_LIMIT)
                continue;
            len = PADDR_LIMIT - start;
        }
        dst[n++] = (struct mem_range){start, len, in[i].type};
    }
    if (nr > MEMMAP_MAX / 2)
        printk(KLOG_WARN "memmap: only the first %d entries are used\n", MEMMAP_MAX / 2);
    return n;
}

static void append(struct memmap *out, u64 start, u64 end, u32 type)
{
    struct mem_range *last = out->nr ? &out->r[out->nr - 1] : NULL;

    if (last && last->type == type && range_end(last) == start) {
        last->len += end - start;
        return;
    }
    out->r[out->nr++] = (struct mem_range){start, end - start, type};
}

/*
 * Cut the line at every entry boundary; each elementary stretch gets the
 * winning type of the entries covering it, then neighbours of one type merge.
 */
static void resolve(struct memmap *out, const struct mem_range *in, unsigned int n,
                    struct memmap_report *rep)
{
    static u64 pts[MEMMAP_MAX];
    unsigned int np = 0, k = 0;

    for (unsigned int i = 0; i < n; i++) {
        pts[np++] = in[i].start;
        pts[np++] = range_end(&in[i]);
    }
    sort_points(pts, np);
    for (unsigned int i = 0; i < np; i++)
        if (!k || pts[k - 1] != pts[i])
            pts[k++] = pts[i];
    out->nr = 0;
    for (unsigned int i = 0; i + 1 < k; i++) {
        u64 a = pts[i], b = pts[i + 1];
        unsigned int cover = 0;
        u32 type = 0;

        for (unsigned int j = 0; j < n; j++)
            if (in[j].start <= a && range_end(&in[j]) >= b) {
                type = cover ? winner(type, in[j].type) : in[j].type;
                cover++;
            }
        if (!cover)
            continue;
        if (cover > 1) {
            rep->overlaps++;
            printk(KLOG_WARN "memmap: overlapping entries at [%#llx, %#llx): kept %s\n",
                   (unsigned long long)a, (unsigned long long)b, e820_type_name(type));
        }
        append(out, a, b, type);
    }
}

/* RAM shrinks to whole pages; what is left of it may vanish. */
static void page_align_ram(struct memmap *m)
{
    unsigned int k = 0;

    for (unsigned int i = 0; i < m->nr; i++) {
        struct mem_range r = m->r[i];
        if (r.type == E820_RAM) {
            u64 s = ALIGN_UP(r.start, PAGE_SIZE), e = ALIGN_DOWN(range_end(&r), PAGE_SIZE);
            if (e <= s)
                continue;
            r.start = s;
            r.len = e - s;
        }
        m->r[k++] = r;
    }
    m->nr = k;
}

static void report_holes(const struct memmap *m, struct memmap_report *rep)
{
    for (unsigned int i = 1; i < m->nr; i++) {
        u64 prev_end = range_end(&m->r[i - 1]);
        if (m->r[i].start > prev_end) {
            rep->holes++;
            printk(KLOG_INFO "memmap: hole [%#llx, %#llx)\n", (unsigned long long)prev_end,
                   (unsigned long long)m->r[i].start);
        }
    }
}

void memmap_sanitize(struct memmap *out, const struct mem_range *in, unsigned int nr,
                     struct memmap_report *rep)
{
    static struct mem_range tmp[MEMMAP_MAX / 2];
    unsigned int n;

    memset(rep, 0, sizeof(*rep));
    n = clip_input(tmp, in, nr, rep);
    resolve(out, tmp, n, rep);
    page_align_ram(out);
    report_holes(out, rep);
}

void memmap_ram(struct memmap *ram, const struct memmap *map)
{
    ram->nr = 0;
    for (unsigned int i = 0; i < map->nr; i++)
        if (map->r[i].type == E820_RAM)
            ram->r[ram->nr++] = map->r[i];
}

static int insert_at(struct memmap *m, unsigned int i, struct mem_range r)
{
    if (m->nr == MEMMAP_MAX)
        return -1;
    memmove(&m->r[i + 1], &m->r[i], (m->nr - i) * sizeof(m->r[0]));
    m->r[i] = r;
    m->nr++;
    return 0;
}

int memmap_carve(struct memmap *ram, paddr_t start, paddr_t end)
{
    u64 s = ALIGN_DOWN(start, PAGE_SIZE);
    u64 e = end > UINT64_MAX - PAGE_SIZE ? ALIGN_DOWN(UINT64_MAX, PAGE_SIZE)
                                         : ALIGN_UP(end, PAGE_SIZE);

    for (unsigned int i = 0; i < ram->nr; i++) {
        struct mem_range *r = &ram->r[i];
        u64 rs = r->start, re = range_end(r);

        if (re <= s || rs >= e)
            continue;
        if (rs < s && re > e) { /* a hole in the middle: split */
            r->len = s - rs;
            return insert_at(ram, i + 1, (struct mem_range){e, re - e, r->type});
        }
        if (rs < s) {
            r->len = s - rs;
        } else if (re > e) {
            r->start = e;
            r->len = re - e;
        } else {
            memmove(r, r + 1, (ram->nr - i - 1) * sizeof(*r));
            ram->nr--;
            i--;
        }
    }
    return 0;
}

paddr_t memmap_steal(struct memmap *ram, u64 size, u64 align, paddr_t limit)
{
    for (unsigned int i = ram->nr; i-- > 0;) {
        const struct mem_range *r = &ram->r[i];
        u64 top = MIN(range_end(r), limit), pa;

        if (top < size || top - size < r->start)
            continue;
        pa = ALIGN_DOWN(top - size, align);
        if (pa < r->start || pa == 0)
            continue;
        if (memmap_carve(ram, pa, pa + size) < 0)
            return 0;
        return pa;
    }
    return 0;
}

u64 memmap_total(const struct memmap *m, u32 type)
{
    u64 sum = 0;

    for (unsigned int i = 0; i < m->nr; i++)
        if (m->r[i].type == type)
            sum += m->r[i].len;
    return sum;
}

void memmap_print(const struct memmap *m, const char *title)
{
    printk("%s:\n", title);
    for (unsigned int i = 0; i < m->nr; i++)
        printk(" [%016llx, %016llx) %s\n", (unsigned long long)m->r[i].start,
               (unsigned long long)range_end(&m->r[i]), e820_type_name(m->r[i].type));
}
