#include "ergo_file_system_type.h"

#ifdef __linux__
#include <sys/vfs.h>

long ergo_file_system_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}
#else
long ergo_file_system_type(const char *path) {
    (void)path;
    return -1;
}
#endif
