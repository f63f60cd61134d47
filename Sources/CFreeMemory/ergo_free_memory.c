#include "ergo_free_memory.h"

#include <stdlib.h>  // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>

/// One arena for the whole process, before main (see the header).
__attribute__((constructor)) static void ergo_use_one_arena(void) {
    mallopt(M_ARENA_MAX, 1);
}
#endif

int ergo_release_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

long long ergo_heap_in_use_bytes(void) {
#if defined(__GLIBC__)
    struct mallinfo2 info = mallinfo2();
    return (long long)(info.uordblks + info.hblkhd);
#else
    return -1;
#endif
}
