#include "ergo_nvml.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define RESOLVE(field, symbol) *(void **)(&library->field) = dlsym(library->handle, symbol)

static const struct {
    size_t offset;
    const char *symbol;
} optional_entries[] = {
    {offsetof(ergo_nvml_library, error_string), "nvmlErrorString"},
    {offsetof(ergo_nvml_library, system_get_driver_version), "nvmlSystemGetDriverVersion"},
    {offsetof(ergo_nvml_library, device_get_name), "nvmlDeviceGetName"},
    {offsetof(ergo_nvml_library, device_get_uuid), "nvmlDeviceGetUUID"},
    {offsetof(ergo_nvml_library, device_get_pci_info_v3), "nvmlDeviceGetPciInfo_v3"},
    {offsetof(ergo_nvml_library, device_get_total_energy_consumption), "nvmlDeviceGetTotalEnergyConsumption"},
    {offsetof(ergo_nvml_library, device_get_power_usage), "nvmlDeviceGetPowerUsage"},
    {offsetof(ergo_nvml_library, device_get_utilization_rates), "nvmlDeviceGetUtilizationRates"},
    {offsetof(ergo_nvml_library, device_get_compute_running_processes_v3), "nvmlDeviceGetComputeRunningProcesses_v3"},
    {offsetof(ergo_nvml_library, device_get_process_utilization), "nvmlDeviceGetProcessUtilization"},
    {offsetof(ergo_nvml_library, device_get_mig_mode), "nvmlDeviceGetMigMode"},
};

int ergo_nvml_open(const char *path, ergo_nvml_library *library, char *error, size_t error_length) {
    memset(library, 0, sizeof *library);
    dlerror();
    library->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library->handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_length, "%s", reason ? reason : "dlopen failed");
        return -1;
    }
    RESOLVE(init_v2, "nvmlInit_v2");
    RESOLVE(shutdown, "nvmlShutdown");
    RESOLVE(device_get_count_v2, "nvmlDeviceGetCount_v2");
    RESOLVE(device_get_handle_by_index_v2, "nvmlDeviceGetHandleByIndex_v2");
    const char *missing = library->init_v2 == NULL ? "nvmlInit_v2"
                          : library->shutdown == NULL ? "nvmlShutdown"
                          : library->device_get_count_v2 == NULL ? "nvmlDeviceGetCount_v2"
                          : library->device_get_handle_by_index_v2 == NULL ? "nvmlDeviceGetHandleByIndex_v2"
                          : NULL;
    if (missing != NULL) {
        snprintf(error, error_length, "%s: no %s (not NVML, or older than R418)", path, missing);
        dlclose(library->handle);
        memset(library, 0, sizeof *library);
        return -1;
    }
    for (size_t index = 0; index < sizeof optional_entries / sizeof optional_entries[0]; index++) {
        void **field = (void **)((char *)library + optional_entries[index].offset);
        *field = dlsym(library->handle, optional_entries[index].symbol);
    }
    return 0;
}

void ergo_nvml_missing(const ergo_nvml_library *library, char *names, size_t length) {
    size_t used = 0;
    if (length > 0) names[0] = '\0';
    for (size_t index = 0; index < sizeof optional_entries / sizeof optional_entries[0]; index++) {
        void *const *field = (void *const *)((const char *)library + optional_entries[index].offset);
        if (*field != NULL || used >= length) continue;
        int written = snprintf(names + used, length - used, "%s%s", used == 0 ? "" : ", ", optional_entries[index].symbol);
        if (written > 0) used += (size_t)written;
    }
}

void ergo_nvml_close(ergo_nvml_library *library) {
    if (library->handle != NULL) dlclose(library->handle);
    memset(library, 0, sizeof *library);
}
