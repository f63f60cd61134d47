#ifndef ERGO_NVML_H
#define ERGO_NVML_H

#include <stddef.h>

/// The part of NVIDIA's NVML API Ergometer uses, declared from its documentation: there is no
/// build-time dependency on NVIDIA's headers or library. `ergo_nvml_open` loads the library at
/// run time (dlopen) and resolves each entry point with dlsym.

typedef int ergo_nvml_return;
#define ERGO_NVML_SUCCESS 0
#define ERGO_NVML_ERROR_UNINITIALIZED 1
#define ERGO_NVML_ERROR_INVALID_ARGUMENT 2
#define ERGO_NVML_ERROR_NOT_SUPPORTED 3
#define ERGO_NVML_ERROR_NOT_FOUND 6
#define ERGO_NVML_ERROR_INSUFFICIENT_SIZE 7
#define ERGO_NVML_ERROR_FUNCTION_NOT_FOUND 13
#define ERGO_NVML_ERROR_GPU_IS_LOST 15
#define ERGO_NVML_ERROR_UNKNOWN 999

/// nvmlDevice_t: an opaque handle.
typedef struct ergo_nvml_device_st *ergo_nvml_device;

/// nvmlPciInfo_t (v3).
typedef struct {
    char bus_id_legacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    char bus_id[32];
} ergo_nvml_pci_info;

/// nvmlUtilization_t: percent over the driver's last sample period.
typedef struct {
    unsigned int gpu;
    unsigned int memory;
} ergo_nvml_utilization;

/// nvmlProcessInfo_t, as the `_v3` running-process calls fill it.
typedef struct {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
} ergo_nvml_process_info;

/// nvmlProcessUtilizationSample_t: one process's utilization at `timestamp` (µs), percent.
typedef struct {
    unsigned int pid;
    unsigned long long timestamp;
    unsigned int sm_util;
    unsigned int mem_util;
    unsigned int enc_util;
    unsigned int dec_util;
} ergo_nvml_process_sample;

/// The entry points, resolved by dlsym; an optional one that the library lacks is NULL.
typedef struct {
    void *handle;
    ergo_nvml_return (*init_v2)(void);
    ergo_nvml_return (*shutdown)(void);
    const char *(*error_string)(ergo_nvml_return);
    ergo_nvml_return (*system_get_driver_version)(char *version, unsigned int length);
    ergo_nvml_return (*device_get_count_v2)(unsigned int *count);
    ergo_nvml_return (*device_get_handle_by_index_v2)(unsigned int index, ergo_nvml_device *device);
    ergo_nvml_return (*device_get_name)(ergo_nvml_device device, char *name, unsigned int length);
    ergo_nvml_return (*device_get_uuid)(ergo_nvml_device device, char *uuid, unsigned int length);
    ergo_nvml_return (*device_get_pci_info_v3)(ergo_nvml_device device, ergo_nvml_pci_info *pci);
    ergo_nvml_return (*device_get_total_energy_consumption)(ergo_nvml_device device, unsigned long long *millijoules);
    ergo_nvml_return (*device_get_power_usage)(ergo_nvml_device device, unsigned int *milliwatts);
    ergo_nvml_return (*device_get_utilization_rates)(ergo_nvml_device device, ergo_nvml_utilization *utilization);
    ergo_nvml_return (*device_get_compute_running_processes_v3)(ergo_nvml_device device, unsigned int *count,
                                                                 ergo_nvml_process_info *infos);
    ergo_nvml_return (*device_get_process_utilization)(ergo_nvml_device device, ergo_nvml_process_sample *samples,
                                                        unsigned int *count, unsigned long long last_seen_timestamp);
    ergo_nvml_return (*device_get_mig_mode)(ergo_nvml_device device, unsigned int *current, unsigned int *pending);
} ergo_nvml_library;

/// Loads the library at `path` (a file name is looked up as dlopen does) and resolves every entry
/// point. The required ones are nvmlInit_v2, nvmlShutdown, nvmlDeviceGetCount_v2 and
/// nvmlDeviceGetHandleByIndex_v2. Returns 0, or -1 with the reason in `error` (nothing stays
/// loaded). Does not call nvmlInit_v2.
int ergo_nvml_open(const char *path, ergo_nvml_library *library, char *error, size_t error_length);

/// Writes into `names` (comma separated) the optional entry points the library lacks.
void ergo_nvml_missing(const ergo_nvml_library *library, char *names, size_t length);

/// Unloads the library (after nvmlShutdown).
void ergo_nvml_close(ergo_nvml_library *library);

#endif
