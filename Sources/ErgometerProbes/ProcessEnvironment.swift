/// One variable of a process's environment as it was at exec (`/proc/<pid>/environ`, NUL
/// separated; readable by root and the process's owner). Nil when unset or unreadable.
public enum ProcessEnvironment {
    public static func value(of name: String, pid: Int32, procfs: ProcFS) -> String? {
        let key = Array((name + "=").utf8)
        return try? SysfsFile.withContents(procfs.path("\(pid)/environ")) { bytes -> String? in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0 { end += 1 }
                if end - start >= key.count, bytes[start..<start + key.count].elementsEqual(key) {
                    return String(decoding: bytes[(start + key.count)..<end], as: UTF8.self)
                }
                start = end + 1
            }
            return nil
        }.get()
    }
}
