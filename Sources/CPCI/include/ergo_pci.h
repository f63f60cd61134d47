#ifndef ERGO_PCI_H
#define ERGO_PCI_H

#include <stddef.h>
#include <stdint.h>

/// One PCI function as libpci sees it, with names already looked up in pci.ids.
/// Name fields are empty strings when pci.ids has no entry.
typedef struct ergo_pci_device {
    int32_t domain;
    uint8_t bus;
    uint8_t device;
    uint8_t function;
    uint16_t vendor_id;
    uint16_t device_id;
    /// base class << 16 | subclass << 8 | programming interface
    uint32_t class_code;
    char vendor_name[128];
    char device_name[256];
    char class_name[128];
} ergo_pci_device;

/// Lists the PCI functions under `sysfs_bus_pci` (the `bus/pci` directory of a sysfs tree) through
/// libpci's sysfs back end only, so a fixture path never falls back to the real hardware.
///
/// libpci's own error handler calls exit(1); this one records the message and unwinds instead.
/// Returns the number of devices found (which may exceed `capacity`; only `capacity` are written),
/// or -1 with a message in `error`.
int ergo_pci_list(const char *sysfs_bus_pci, const char *ids_file, ergo_pci_device *out, int capacity,
                  char *error, size_t error_len);

#endif
