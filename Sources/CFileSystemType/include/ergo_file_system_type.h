#ifndef ERGO_FILE_SYSTEM_TYPE_H
#define ERGO_FILE_SYSTEM_TYPE_H

/// The `f_type` magic number of the file system holding `path` (statfs(2); linux/magic.h), or
/// -1 when it cannot be asked. Glibc's Swift module exports statvfs only, which has no type.
long ergo_file_system_type(const char *path);

#endif
