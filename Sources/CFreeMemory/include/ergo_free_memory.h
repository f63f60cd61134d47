#ifndef ERGO_FREE_MEMORY_H
#define ERGO_FREE_MEMORY_H

/// Gives the memory the allocator holds free (in every thread's arena) back to the system:
/// glibc's malloc_trim(0); nothing elsewhere. Returns whether any was released.
int ergo_release_free_memory(void);

#endif
