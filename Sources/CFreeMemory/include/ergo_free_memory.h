#ifndef ERGO_FREE_MEMORY_H
#define ERGO_FREE_MEMORY_H

/// ergod's allocator, set once: glibc gets one arena for every thread (a constructor in
/// ergo_free_memory.c runs `mallopt(M_ARENA_MAX, 1)` before main, before any thread exists).
/// With an arena per thread, the concurrency pool's threads spread a long-running daemon's
/// allocations over several heaps whose free pages fragment: measured by the soak, private
/// memory 11 → 15 MiB over three simulated days with the default, 9 MiB flat with one arena.
/// ergod's work is one actor at a time, so the arena is never contended.

/// Gives the memory the allocator holds free back to the system: glibc's malloc_trim(0);
/// nothing elsewhere. Returns whether any was released.
int ergo_release_free_memory(void);

/// Bytes the process's allocations hold now, as the allocator counts them (glibc's
/// mallinfo2: chunks in use in the arenas plus mapped ones), whatever pages the heap keeps
/// around them: what a leak grows. -1 elsewhere.
long long ergo_heap_in_use_bytes(void);

#endif
