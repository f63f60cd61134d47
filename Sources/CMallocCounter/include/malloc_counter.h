#ifndef ERGOMETER_MALLOC_COUNTER_H
#define ERGOMETER_MALLOC_COUNTER_H

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by the
/// whole process since it started, and the bytes they asked for. Linked only into the benchmark
/// executable, whose malloc family it interposes in front of glibc's.
unsigned long long ergometer_allocations(void);
unsigned long long ergometer_allocated_bytes(void);

#endif
