/*
 * platform_op: dom0 asking about (or acting on) the machine.  The hypercall
 * table admits dom0 only.  Keel owns no firmware services of the kind Xen
 * relays (BIOS EDD, VBE, EFI), so those say "no such entry" and Linux goes
 * on without them; what it implements: the physical CPU list, setting the
 * wall clock, and powering off.
 */
#include <asm/pv.h>
#include <asm/smp.h>
#include <keel/acpi.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/shutdown.h>
#include <xen/platform.h>

#define NSEC_PER_SEC 1000000000ULL
#define ACPI_SLP_EN (1U << 13)

static long pf_firmware_info(const struct xenpf_firmware_info *fw);
static long pf_get_cpuinfo(struct xenpf_pcpuinfo *ci);
static long pf_settime(u64 secs, u32 nsecs, u64 system_time);
static long pf_enter_acpi_sleep(const struct xenpf_enter_acpi_sleep *s);

long do_platform_op(struct hcall *h)
{
    struct xen_platform_op op;
    long rc;

    if (copy_from_guest_obj(&op, h->arg[0]))
        return -XEN_EFAULT;
    if (op.interface_version != XENPF_INTERFACE_VERSION)
        return -XEN_EACCES;
    switch (op.cmd) {
    case XENPF_firmware_info:
        return pf_firmware_info(&op.u.firmware_info);
    case XENPF_get_cpuinfo:
        rc = pf_get_cpuinfo(&op.u.pcpu_info);
        return rc ? rc : copy_to_guest_obj(h->arg[0], &op);
    case XENPF_settime64:
        if (op.u.settime64.mbz)
            return -XEN_EINVAL;
        return pf_settime(op.u.settime64.secs, op.u.settime64.nsecs,
                          op.u.settime64.system_time);
    case XENPF_settime32:
        return pf_settime(op.u.settime32.secs, op.u.settime32.nsecs,
                          op.u.settime32.system_time);
    case XENPF_enter_acpi_sleep:
        return pf_enter_acpi_sleep(&op.u.enter_acpi_sleep);
    default:
        return -XEN_ENOSYS;
    }
}

/* Linux ends its EDD loops on -ESRCH and treats EFI as absent on -ENOSYS. */
static long pf_firmware_info(const struct xenpf_firmware_info *fw)
{
    switch (fw->type) {
    case XEN_FW_EFI_INFO:
        return -XEN_ENOSYS; /* not booted through EFI */
    case XEN_FW_DISK_INFO:
    case XEN_FW_DISK_MBR_SIGNATURE:
    case XEN_FW_VBEDDC_INFO:
    case XEN_FW_KBD_SHIFT_FLAGS:
        return -XEN_ESRCH; /* Keel collected nothing from the BIOS */
    default:
        return -XEN_EINVAL;
    }
}

/* The ACPI processor UID of the CPU with this APIC id (cpu if unknown). */
static u32 acpi_uid_of(u32 apic_id, unsigned int cpu)
{
    const struct acpi_info *ai = acpi_get_info();

    for (unsigned int i = 0; ai && i < ai->nr_cpus && i < ACPI_MAX_CPUS; i++)
        if (ai->cpus[i].apic_id == apic_id)
            return ai->cpus[i].uid;
    return cpu;
}

static long pf_get_cpuinfo(struct xenpf_pcpuinfo *ci)
{
    unsigned int cpu = ci->xen_cpuid, c;

    ci->max_present = 0;
    for_each_online_cpu(c)
        ci->max_present = c;
    ci->flags = 0;
    ci->apic_id = ci->acpi_id = 0;
    if (!cpu_online(cpu)) {
        /* Keel knows only the CPUs it brought up. */
        ci->flags = XEN_PCPU_FLAGS_INVALID;
        return 0;
    }
    ci->flags = XEN_PCPU_FLAGS_ONLINE;
    ci->apic_id = cpu_to_apic_id[cpu];
    ci->acpi_id = acpi_uid_of(ci->apic_id, cpu);
    return 0;
}

/* dom0 says the wall clock read secs.nsecs at Keel system time system_time. */
static long pf_settime(u64 secs, u32 nsecs, u64 system_time)
{
    u64 wall;

    if (nsecs >= NSEC_PER_SEC || secs > (~0ULL - nsecs) / NSEC_PER_SEC)
        return -XEN_EINVAL;
    wall = secs * NSEC_PER_SEC + nsecs;
    if (wall <= system_time)
        return -XEN_EINVAL; /* before 1970 at boot: not a real clock */
    pv_set_wallclock(wall - system_time);
    return 0;
}

/* dom0 hands over the PM1 control values it would have written (Xen's
 * checks, in Xen's order). */
static long pf_enter_acpi_sleep(const struct xenpf_enter_acpi_sleep *s)
{
    const struct acpi_info *ai = acpi_get_info();

    if (s->flags & XENPF_ACPI_SLEEP_EXTENDED)
        return -XEN_EPERM; /* no hardware-reduced ACPI sleep registers */
    if (!ai || !ai->pm1a_cnt)
        return -XEN_EPERM;
    if (s->val_b && ((s->val_a ^ s->val_b) & ACPI_SLP_EN))
        return -XEN_EINVAL;
    if (s->flags)
        return -XEN_EINVAL;
    if (s->sleep_state != 5)
        return -XEN_ENOSYS; /* no suspend to RAM or disk */
    printk("dom0 asked for ACPI S5: powering off\n");
    machine_power_off(s->val_a, s->val_b);
}
