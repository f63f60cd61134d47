// A fake NVML for the tests and the benchmark: exports the entry points Ergometer resolves, and
// answers from a script, `<this library's path>.script`, re-read when it changes (checked at most
// once per millisecond). Built by the test suite: cc -shared -fPIC -o libnvidia-ml.so.1 fake_nvml.c
// (-DFAKE_NVML_NO_PROCESS_UTILIZATION leaves nvmlDeviceGetProcessUtilization out).
//
// Script lines:
//   clock <ms>                      virtual time; without it, the monotonic clock
//   gpu <index> uuid=<UUID> name=<Name_With_Underscores> pci=<0000:3b:00.0> watts=<W>
//       [energy=no] [power=no] [mig=1] [lost=1] [reload=<generation>]
//   process <gpu> <pid> <sm %>      a compute process; sm < 0: it holds the GPU, no sample
//   phantoms <gpu> <n>              n more processes without samples (pids 4000000 + i)
// Energy follows the scripted power over time, in integer µJ: mW × ms, exactly. Like a driver's,
// the counters outlive the processes that read them: kept in `<library>.state` at each script
// change, taken up by the next process that loads the library.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../../Sources/CNVML/include/ergo_nvml.h"

#define MAX_GPUS 64
#define MAX_PROCESSES 256

typedef struct {
    int present, energy_supported, power_supported, mig, lost;
    long reload;
    char uuid[80], name[96], pci[32];
    unsigned long long milliwatts;
    unsigned long long energy_uj;  // since the last reload
    int process_count;
    unsigned int pids[MAX_PROCESSES];
    int sm[MAX_PROCESSES];
} fake_gpu;

static fake_gpu gpus[MAX_GPUS];
static int gpu_count;
static int virtual_clock;
static unsigned long long clock_ms;         // virtual time, or the monotonic clock at the last advance
static char script_path[4096];
static char state_path[4096];
static struct stat script_stat;
static unsigned long long last_check_ns;
static int loaded;

static unsigned long long monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec;
}

/// Energy up to `now_ms` at each GPU's current power.
static void advance(unsigned long long now_ms) {
    if (!loaded) clock_ms = now_ms;  // time starts with the first script
    if (now_ms <= clock_ms) return;
    for (int index = 0; index < gpu_count; index++) gpus[index].energy_uj += gpus[index].milliwatts * (now_ms - clock_ms);
    clock_ms = now_ms;
}

static void load_script(void) {
    FILE *file = fopen(script_path, "r");
    if (file == NULL) return;
    char line[512];
    fake_gpu next[MAX_GPUS];
    memcpy(next, gpus, sizeof next);
    for (int index = 0; index < MAX_GPUS; index++) next[index].present = 0, next[index].process_count = 0;
    int count = 0, reset[MAX_GPUS] = {0};
    long long new_clock = -1;
    while (fgets(line, sizeof line, file)) {
        char *word = strtok(line, " \t\n");
        if (word == NULL || word[0] == '#') continue;
        if (strcmp(word, "clock") == 0) {
            new_clock = atoll(strtok(NULL, " \t\n"));
        } else if (strcmp(word, "gpu") == 0) {
            int index = atoi(strtok(NULL, " \t\n"));
            if (index < 0 || index >= MAX_GPUS) continue;
            fake_gpu *gpu = &next[index];
            long old_reload = gpu->reload;
            int was_present = gpus[index].present;
            gpu->present = 1, gpu->energy_supported = 1, gpu->power_supported = 1, gpu->mig = 0, gpu->lost = 0, gpu->reload = 0;
            for (char *field = strtok(NULL, " \t\n"); field; field = strtok(NULL, " \t\n")) {
                char *value = strchr(field, '=');
                if (value == NULL) continue;
                *value++ = '\0';
                if (strcmp(field, "uuid") == 0) snprintf(gpu->uuid, sizeof gpu->uuid, "%s", value);
                else if (strcmp(field, "name") == 0) {
                    snprintf(gpu->name, sizeof gpu->name, "%s", value);
                    for (char *c = gpu->name; *c; c++) if (*c == '_') *c = ' ';
                } else if (strcmp(field, "pci") == 0) snprintf(gpu->pci, sizeof gpu->pci, "%s", value);
                else if (strcmp(field, "watts") == 0) gpu->milliwatts = (unsigned long long)(atof(value) * 1000 + 0.5);
                else if (strcmp(field, "energy") == 0) gpu->energy_supported = strcmp(value, "no") != 0;
                else if (strcmp(field, "power") == 0) gpu->power_supported = strcmp(value, "no") != 0;
                else if (strcmp(field, "mig") == 0) gpu->mig = atoi(value);
                else if (strcmp(field, "lost") == 0) gpu->lost = atoi(value);
                else if (strcmp(field, "reload") == 0) gpu->reload = atol(value);
            }
            reset[index] = was_present && gpu->reload != old_reload;  // the driver loaded again
            if (index + 1 > count) count = index + 1;
        } else if (strcmp(word, "process") == 0 || strcmp(word, "phantoms") == 0) {
            int index = atoi(strtok(NULL, " \t\n"));
            if (index < 0 || index >= MAX_GPUS) continue;
            fake_gpu *gpu = &next[index];
            int phantoms = strcmp(word, "phantoms") == 0;
            int repeat = phantoms ? atoi(strtok(NULL, " \t\n")) : 1;
            unsigned int pid = phantoms ? 4000000u : (unsigned int)atoi(strtok(NULL, " \t\n"));
            int sm = phantoms ? -1 : atoi(strtok(NULL, " \t\n"));
            for (int n = 0; n < repeat && gpu->process_count < MAX_PROCESSES; n++) {
                gpu->pids[gpu->process_count] = pid + (unsigned int)n;
                gpu->sm[gpu->process_count++] = sm;
            }
        }
    }
    fclose(file);
    // Energy so far at the old power, then the new script.
    if (new_clock >= 0) {
        virtual_clock = 1;
        advance((unsigned long long)new_clock);
    } else {
        virtual_clock = 0;
        advance(monotonic_ns() / 1000000ull);
    }
    for (int index = 0; index < MAX_GPUS; index++) next[index].energy_uj = reset[index] ? 0 : gpus[index].energy_uj;
    memcpy(gpus, next, sizeof gpus);
    gpu_count = count;
    loaded = 1;
    FILE *state = fopen(state_path, "w");
    if (state != NULL) {
        fprintf(state, "%llu %d\n", clock_ms, virtual_clock);
        for (int index = 0; index < gpu_count; index++) fprintf(state, "%d %llu %ld %llu\n", index, gpus[index].energy_uj, gpus[index].reload, gpus[index].milliwatts);
        fclose(state);
    }
}

static void refresh(void) {
    unsigned long long now = monotonic_ns();
    if (!virtual_clock) advance(now / 1000000ull);
    if (now - last_check_ns < 1000000ull && last_check_ns != 0) return;
    last_check_ns = now;
    struct stat current;
    if (stat(script_path, &current) != 0) return;
    if (current.st_ino == script_stat.st_ino && current.st_mtim.tv_sec == script_stat.st_mtim.tv_sec &&
        current.st_mtim.tv_nsec == script_stat.st_mtim.tv_nsec && current.st_size == script_stat.st_size)
        return;
    script_stat = current;
    load_script();
}

static fake_gpu *gpu_of(ergo_nvml_device device, ergo_nvml_return *status) {
    refresh();
    long index = (long)(size_t)device - 1;
    if (index < 0 || index >= gpu_count || !gpus[index].present) { *status = ERGO_NVML_ERROR_INVALID_ARGUMENT; return NULL; }
    if (gpus[index].lost) { *status = ERGO_NVML_ERROR_GPU_IS_LOST; return NULL; }
    *status = ERGO_NVML_SUCCESS;
    return &gpus[index];
}
#define GPU_OR_RETURN(device) ergo_nvml_return status; fake_gpu *gpu = gpu_of(device, &status); if (gpu == NULL) return status

ergo_nvml_return nvmlInit_v2(void) {
    Dl_info info;
    if (dladdr((void *)nvmlInit_v2, &info) == 0 || info.dli_fname == NULL) return ERGO_NVML_ERROR_UNKNOWN;
    snprintf(script_path, sizeof script_path, "%s.script", info.dli_fname);
    snprintf(state_path, sizeof state_path, "%s.state", info.dli_fname);
    FILE *state = loaded ? NULL : fopen(state_path, "r");
    if (state != NULL) {  // the driver's counters as the last process left them
        int index;
        unsigned long long energy, milliwatts;
        long reload;
        if (fscanf(state, "%llu %d", &clock_ms, &virtual_clock) == 2) {
            loaded = 1;
            while (fscanf(state, "%d %llu %ld %llu", &index, &energy, &reload, &milliwatts) == 4) {
                if (index < 0 || index >= MAX_GPUS) continue;
                gpus[index].present = 1, gpus[index].energy_uj = energy, gpus[index].reload = reload, gpus[index].milliwatts = milliwatts;
                if (index + 1 > gpu_count) gpu_count = index + 1;
            }
        }
        fclose(state);
    }
    memset(&script_stat, 0, sizeof script_stat);
    last_check_ns = 0;
    if (access(script_path, R_OK) != 0) return 9;  // NVML_ERROR_DRIVER_NOT_LOADED
    refresh();
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlShutdown(void) { return ERGO_NVML_SUCCESS; }
const char *nvmlErrorString(ergo_nvml_return result) {
    switch (result) {
    case ERGO_NVML_SUCCESS: return "Success";
    case ERGO_NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case ERGO_NVML_ERROR_NOT_FOUND: return "Not Found";
    case ERGO_NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case ERGO_NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case 9: return "Driver Not Loaded";
    default: return "Unknown Error";
    }
}
ergo_nvml_return nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    snprintf(version, length, "550.54.15-fake");
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetCount_v2(unsigned int *count) {
    refresh();
    *count = (unsigned int)gpu_count;
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetHandleByIndex_v2(unsigned int index, ergo_nvml_device *device) {
    refresh();
    if (index >= (unsigned int)gpu_count) return ERGO_NVML_ERROR_INVALID_ARGUMENT;
    if (gpus[index].lost) return ERGO_NVML_ERROR_GPU_IS_LOST;
    *device = (ergo_nvml_device)(size_t)(index + 1);
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetName(ergo_nvml_device device, char *name, unsigned int length) {
    GPU_OR_RETURN(device);
    snprintf(name, length, "%s", gpu->name);
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetUUID(ergo_nvml_device device, char *uuid, unsigned int length) {
    GPU_OR_RETURN(device);
    snprintf(uuid, length, "%s", gpu->uuid);
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetPciInfo_v3(ergo_nvml_device device, ergo_nvml_pci_info *pci) {
    GPU_OR_RETURN(device);
    unsigned int domain = 0, bus = 0, slot = 0, function = 0;
    if (sscanf(gpu->pci, "%x:%x:%x.%x", &domain, &bus, &slot, &function) != 4) return ERGO_NVML_ERROR_NOT_SUPPORTED;
    memset(pci, 0, sizeof *pci);
    pci->domain = domain, pci->bus = bus, pci->device = slot;
    snprintf(pci->bus_id, sizeof pci->bus_id, "%08X:%02X:%02X.%X", domain, bus, slot, function);
    snprintf(pci->bus_id_legacy, sizeof pci->bus_id_legacy, "%04X:%02X:%02X.%X", domain, bus, slot, function);
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetTotalEnergyConsumption(ergo_nvml_device device, unsigned long long *millijoules) {
    GPU_OR_RETURN(device);
    if (!gpu->energy_supported) return ERGO_NVML_ERROR_NOT_SUPPORTED;
    *millijoules = gpu->energy_uj / 1000;
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetPowerUsage(ergo_nvml_device device, unsigned int *milliwatts) {
    GPU_OR_RETURN(device);
    if (!gpu->power_supported) return ERGO_NVML_ERROR_NOT_SUPPORTED;
    *milliwatts = (unsigned int)gpu->milliwatts;
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetUtilizationRates(ergo_nvml_device device, ergo_nvml_utilization *utilization) {
    GPU_OR_RETURN(device);
    unsigned int sum = 0;
    for (int n = 0; n < gpu->process_count; n++) if (gpu->sm[n] > 0) sum += (unsigned int)gpu->sm[n];
    utilization->gpu = sum > 100 ? 100 : sum;
    utilization->memory = utilization->gpu / 2;
    return ERGO_NVML_SUCCESS;
}
ergo_nvml_return nvmlDeviceGetComputeRunningProcesses_v3(ergo_nvml_device device, unsigned int *count, ergo_nvml_process_info *infos) {
    GPU_OR_RETURN(device);
    if (*count < (unsigned int)gpu->process_count) {
        *count = (unsigned int)gpu->process_count;
        return ERGO_NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (int n = 0; n < gpu->process_count; n++) {
        infos[n].pid = gpu->pids[n];
        infos[n].used_gpu_memory = 512ull << 20;
        infos[n].gpu_instance_id = 0xFFFFFFFFu;
        infos[n].compute_instance_id = 0xFFFFFFFFu;
    }
    *count = (unsigned int)gpu->process_count;
    return ERGO_NVML_SUCCESS;
}
#ifndef FAKE_NVML_NO_PROCESS_UTILIZATION
ergo_nvml_return nvmlDeviceGetProcessUtilization(ergo_nvml_device device, ergo_nvml_process_sample *samples, unsigned int *count,
                                                 unsigned long long last_seen) {
    GPU_OR_RETURN(device);
    if (gpu->mig) return ERGO_NVML_ERROR_NOT_SUPPORTED;
    unsigned long long now_us = clock_ms * 1000ull;
    unsigned int sampled = 0;
    for (int n = 0; n < gpu->process_count; n++) if (gpu->sm[n] >= 0) sampled++;
    if (sampled == 0 || now_us <= last_seen) return ERGO_NVML_ERROR_NOT_FOUND;
    if (samples == NULL || *count < sampled) {
        *count = sampled;
        return ERGO_NVML_ERROR_INSUFFICIENT_SIZE;
    }
    unsigned int written = 0;
    for (int n = 0; n < gpu->process_count; n++) {
        if (gpu->sm[n] < 0) continue;
        samples[written].pid = gpu->pids[n];
        samples[written].timestamp = now_us;
        samples[written].sm_util = (unsigned int)gpu->sm[n];
        samples[written].mem_util = (unsigned int)gpu->sm[n] / 2;
        samples[written].enc_util = 0, samples[written].dec_util = 0;
        written++;
    }
    *count = written;
    return ERGO_NVML_SUCCESS;
}
#endif
ergo_nvml_return nvmlDeviceGetMigMode(ergo_nvml_device device, unsigned int *current, unsigned int *pending) {
    GPU_OR_RETURN(device);
    *current = (unsigned int)gpu->mig;
    *pending = (unsigned int)gpu->mig;
    return ERGO_NVML_SUCCESS;
}
