#if canImport(Glibc)
import Glibc
#endif

/// Who sent a control request, from the socket's peer credentials (SO_PEERCRED): the kernel's
/// word, not the client's. `isAdmin` (root, or a member of `control.admin_group`) lets the
/// caller list, report and end every user's jobs; nobody but root and a process's owner may
/// have ergod move that process into a job.
public struct ControlCaller: Sendable, Equatable {
    public var uid: Int
    public var gid: Int
    public var pid: Int32
    public var user: String
    public var isAdmin: Bool

    public init(uid: Int, gid: Int, pid: Int32, user: String, isAdmin: Bool) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.user = user
        self.isAdmin = isAdmin
    }

    /// The caller as the configuration sees it: root, a member of the admin group, or neither.
    public init(uid: Int, gid: Int, pid: Int32, adminGroup: String) {
        let user = UserDatabase.userName(uid: uid)
        let admin = uid == 0 || (!adminGroup.isEmpty && UserDatabase.isMember(uid: uid, gid: gid, user: user, ofGroup: adminGroup))
        self.init(uid: uid, gid: gid, pid: pid, user: user, isAdmin: admin)
    }

    /// This process's own user (`ergo run` without ergod): it sees its own store.
    public static var current: ControlCaller {
        ControlCaller(uid: Int(getuid()), gid: Int(getgid()), pid: getpid(), user: UserDatabase.userName(uid: Int(getuid())), isAdmin: true)
    }

    /// May this caller see, report on and end a job owned by `owner`?
    public func mayAccess(jobOwnedBy owner: Int) -> Bool { isAdmin || owner == uid }
}

/// The system's user and group database (NSS: /etc/passwd, /etc/group, LDAP...).
public enum UserDatabase {
    /// The user's login name, or the uid as text when it has none.
    public static func userName(uid: Int) -> String {
        withUser(uid: uid) { String(cString: $0.pw_name!) } ?? String(uid)
    }

    /// The gid of a group, nil when there is no such group.
    public static func groupID(named name: String) -> Int? {
        withGroup(named: name) { Int($0.gr_gid) }
    }

    /// Member of `group`: as the connection's group (SO_PEERCRED's gid), the user's primary
    /// group, or listed in the group's members.
    public static func isMember(uid: Int, gid: Int, user: String, ofGroup group: String) -> Bool {
        withGroup(named: group) { entry in
            if Int(entry.gr_gid) == gid || primaryGroup(uid: uid) == Int(entry.gr_gid) { return true }
            var member = entry.gr_mem
            while let name = member?.pointee {
                if String(cString: name) == user { return true }
                member = member?.advanced(by: 1)
            }
            return false
        } ?? false
    }

    static func primaryGroup(uid: Int) -> Int? {
        withUser(uid: uid) { Int($0.pw_gid) }
    }

    /// Calls `body` with the user's entry while the buffer its strings point into is alive.
    private static func withUser<T>(uid: Int, _ body: (passwd) -> T) -> T? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { storage in
            guard getpwuid_r(uid_t(uid), &entry, storage.baseAddress!, storage.count, &result) == 0, result != nil,
                entry.pw_name != nil
            else { return nil }
            return body(entry)
        }
    }

    /// Calls `body` with the group's entry while the buffer its strings point into is alive
    /// (growing the buffer for groups with many members).
    private static func withGroup<T>(named name: String, _ body: (group) -> T) -> T? {
        var size = 16 * 1024
        while size <= 1 << 22 {
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            var buffer = [CChar](repeating: 0, count: size)
            let outcome: T?? = buffer.withUnsafeMutableBufferPointer { storage in
                let status = getgrnam_r(name, &entry, storage.baseAddress!, storage.count, &result)
                if status == ERANGE { return .none }
                guard status == 0, result != nil else { return .some(nil) }
                return .some(body(entry))
            }
            if let outcome { return outcome }
            size *= 4
        }
        return nil
    }
}
