/* The Xen interface version Keel implements (reported to guests). */
#ifndef KEEL_VERSION_H
#define KEEL_VERSION_H
#define KEEL_XEN_MAJOR 4
#define KEEL_XEN_MINOR 17
#define KEEL_XEN_EXTRAVERSION ".0-keel"
#define KEEL_VERSION_STRING "0.1"
#endif
