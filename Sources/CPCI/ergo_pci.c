// The libpci binding. Kept in C because libpci reports fatal errors through a variadic,
// noreturn callback (its default calls exit(1)) and names through the variadic
// pci_lookup_name, neither of which Swift can express.
#include "ergo_pci.h"

#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local jmp_buf *ergo_pci_unwind;
static _Thread_local char ergo_pci_message[512];

static void __attribute__((noreturn, format(printf, 1, 2))) ergo_pci_error(char *msg, ...) {
    va_list args;
    va_start(args, msg);
    vsnprintf(ergo_pci_message, sizeof ergo_pci_message, msg, args);
    va_end(args);
    longjmp(*ergo_pci_unwind, 1);
}

static void __attribute__((format(printf, 1, 2))) ergo_pci_quiet(char *msg, ...) {
    (void)msg;
}

static void ergo_copy_name(char *dst, size_t dst_len, const char *src) {
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    snprintf(dst, dst_len, "%s", src);
}

static void ergo_pci_describe(struct pci_access *access, struct pci_dev *dev, ergo_pci_device *out) {
    char buffer[256];
    const int flags = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
    out->domain = dev->domain;
    out->bus = dev->bus;
    out->device = dev->dev;
    out->function = dev->func;
    out->vendor_id = dev->vendor_id;
    out->device_id = dev->device_id;
    out->class_code = ((uint32_t)dev->device_class << 8) | dev->prog_if;
    ergo_copy_name(out->vendor_name, sizeof out->vendor_name,
                   pci_lookup_name(access, buffer, sizeof buffer, flags | PCI_LOOKUP_VENDOR, dev->vendor_id));
    ergo_copy_name(out->device_name, sizeof out->device_name,
                   pci_lookup_name(access, buffer, sizeof buffer, flags | PCI_LOOKUP_DEVICE, dev->vendor_id,
                                   dev->device_id));
    ergo_copy_name(out->class_name, sizeof out->class_name,
                   pci_lookup_name(access, buffer, sizeof buffer, flags | PCI_LOOKUP_CLASS, dev->device_class));
}

int ergo_pci_list(const char *sysfs_bus_pci, const char *ids_file, ergo_pci_device *out, int capacity,
                  char *error, size_t error_len) {
    struct pci_access *access = pci_alloc();
    if (access == NULL) {
        snprintf(error, error_len, "libpci could not allocate its state");
        return -1;
    }
    access->error = ergo_pci_error;
    access->warning = ergo_pci_quiet;
    access->debug = ergo_pci_quiet;
    // Only the sysfs back end: with auto-detection a bad fixture path silently reads real hardware.
    access->method = PCI_ACCESS_SYS_BUS_PCI;

    jmp_buf unwind;
    jmp_buf *volatile outer = ergo_pci_unwind;
    ergo_pci_unwind = &unwind;
    volatile int count = 0;
    if (setjmp(unwind) != 0) {
        snprintf(error, error_len, "%s", ergo_pci_message);
        ergo_pci_unwind = outer;
        pci_cleanup(access);
        return -1;
    }
    pci_set_param(access, "sysfs.path", (char *)sysfs_bus_pci);
    if (ids_file != NULL) {
        pci_set_name_list_path(access, (char *)ids_file, 0);
    }
    pci_init(access);
    pci_scan_bus(access);
    for (struct pci_dev *dev = access->devices; dev != NULL; dev = dev->next) {
        pci_fill_info(dev, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT);
        if (count < capacity) {
            ergo_pci_describe(access, dev, &out[count]);
        }
        count++;
    }
    ergo_pci_unwind = outer;
    pci_cleanup(access);
    return count;
}
