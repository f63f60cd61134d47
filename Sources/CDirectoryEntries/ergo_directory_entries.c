#include "ergo_directory_entries.h"

#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>

long ergo_directory_entries(int descriptor, void *buffer, size_t size) {
    return syscall(SYS_getdents64, descriptor, buffer, size);
}
#else
#include <errno.h>

long ergo_directory_entries(int descriptor, void *buffer, size_t size) {
    (void)descriptor;
    (void)buffer;
    (void)size;
    errno = ENOSYS;
    return -1;
}
#endif
