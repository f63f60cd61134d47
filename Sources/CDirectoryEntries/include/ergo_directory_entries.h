#ifndef ERGO_DIRECTORY_ENTRIES_H
#define ERGO_DIRECTORY_ENTRIES_H

#include <stddef.h>

/// getdents64(2) on an open directory: fills `buffer` with `struct linux_dirent64` records
/// (inode, offset, record length, type, name) and returns their bytes, 0 at the end, or -1 with
/// errno. Unlike readdir(3), which glibc makes report a removed directory as empty, this says
/// ENOENT for one. Glibc's Swift module does not export getdents64, and syscall(2) is variadic.
long ergo_directory_entries(int descriptor, void *buffer, size_t size);

#endif
