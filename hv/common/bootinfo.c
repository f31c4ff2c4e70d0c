/*
 * The boot information Keel runs with, and how it is reported.  Module 0 is
 * the dom0 kernel and module 1 its initrd, as with Xen; the dom0 builder
 * reads them from here.
 */
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/memmap.h>

struct boot_info boot_info;

const struct boot_module *boot_dom0_kernel(void)
{
    return boot_info.nr_modules > 0 ? &boot_info.modules[0] : NULL;
}

const struct boot_module *boot_dom0_initrd(void)
{
    return boot_info.nr_modules > 1 ? &boot_info.modules[1] : NULL;
}

void boot_info_print(const struct boot_info *bi)
{
    printk("Boot loader: Multiboot %u%s%s%s\n", bi->protocol,
           bi->loader_name[0] ? " (" : "", bi->loader_name,
           bi->loader_name[0] ? ")" : "");
    printk("Command line: %s\n", boot_cmdline_args(bi, bi->cmdline));
    if (bi->rsdp_pa)
        printk("ACPI RSDP (v%u) from the loader at %#llx\n", bi->rsdp_len > 20 ? 2 : 1,
               (unsigned long long)bi->rsdp_pa);
    printk("Memory map from the loader%s:\n", bi->has_mmap ? "" : " (basic sizes only)");
    for (unsigned int i = 0; i < bi->nr_ranges; i++)
        printk(" [%016llx, %016llx) %s\n", (unsigned long long)bi->ranges[i].start,
               (unsigned long long)(bi->ranges[i].start + bi->ranges[i].len),
               e820_type_name(bi->ranges[i].type));
}

static const char *module_role(unsigned int i)
{
    return i == 0 ? " (dom0 kernel)" : i == 1 ? " (dom0 initrd)" : "";
}

void boot_modules_print(const struct boot_info *bi)
{
    if (!bi->nr_modules) {
        printk("No dom0 kernel given: booting without dom0\n");
        return;
    }
    for (unsigned int i = 0; i < bi->nr_modules; i++) {
        const struct boot_module *m = &bi->modules[i];
        printk("Module %u%s: [%#llx, %#llx) %llu KiB, command line '%s'\n", i,
               module_role(i), (unsigned long long)m->start, (unsigned long long)m->end,
               (unsigned long long)(m->end - m->start + 1023) >> 10,
               boot_cmdline_args(bi, m->cmdline));
    }
}
