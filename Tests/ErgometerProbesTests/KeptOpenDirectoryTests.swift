import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// A directory kept open and listed again says "unchanged" exactly when its subdirectories are
/// the same ones, follows a folder removed and made again, and keeps one descriptor however
/// often it lists.
struct KeptOpenDirectoryTests {
    func make(_ path: String) throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    func names(_ listing: Result<KeptOpenDirectory.Listing, FileReadError>) throws -> [String]? {
        switch listing {
        case .success(.unchanged): return nil
        case .success(.changed(let names)): return names.sorted()
        case .failure(let error): throw error
        }
    }

    @Test func saysUnchangedOnlyWhenTheSubdirectoriesAreTheSame() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/slurmstepd.scope"
        try make(folder + "/job_1")
        try make(folder + "/job_2")
        let directory = KeptOpenDirectory(path: folder)
        #expect(try names(directory.subdirectories()) == ["job_1", "job_2"])
        #expect(try names(directory.subdirectories()) == nil)
        // A file is no subdirectory: nothing the listing reports changes.
        _ = FileManager.default.createFile(atPath: folder + "/cgroup.procs", contents: Data())
        #expect(try names(directory.subdirectories()) == nil)
        try make(folder + "/job_3")
        #expect(try names(directory.subdirectories()) == ["job_1", "job_2", "job_3"])
        #expect(try names(directory.subdirectories()) == nil)
        try FileManager.default.removeItem(atPath: folder + "/job_1")
        #expect(try names(directory.subdirectories()) == ["job_2", "job_3"])
        // The same name made again is another folder (another inode): a change.
        try FileManager.default.removeItem(atPath: folder + "/job_2")
        try make(folder + "/job_2")
        #expect(try names(directory.subdirectories()) == ["job_2", "job_3"])
        #expect(try names(directory.subdirectories()) == nil)
    }

    @Test func anEmptyFolderIsUnchangedFromItsSecondListing() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = KeptOpenDirectory(path: root)
        #expect(try names(directory.subdirectories()) == [])
        #expect(try names(directory.subdirectories()) == nil)
    }

    @Test func aFolderRemovedWhileOpenFailsAndIsFollowedWhenMadeAgain() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/system.slice"
        try make(folder + "/docker-1.scope")
        let directory = KeptOpenDirectory(path: folder)
        #expect(try names(directory.subdirectories()) == ["docker-1.scope"])
        try FileManager.default.removeItem(atPath: folder)
        guard case .failure(let error) = directory.subdirectories() else {
            Issue.record("a removed folder listed")
            return
        }
        #expect(error.errno == ENOENT)
        // Made again with the same entry: the listing after a failure is a change.
        try make(folder + "/docker-1.scope")
        #expect(try names(directory.subdirectories()) == ["docker-1.scope"])
        #expect(try names(directory.subdirectories()) == nil)
    }

    @Test func keepsOneDescriptorHoweverOftenItLists() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try make(root + "/a")
        // Descriptors open on this test's own folder (other tests open files meanwhile).
        func descriptorsOnRoot() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == root
            }.count
        }
        var directory: KeptOpenDirectory? = KeptOpenDirectory(path: root)
        for round in 0..<200 {
            if round == 100 { try make(root + "/b") }
            _ = directory!.subdirectories()
        }
        #expect(try descriptorsOnRoot() == 1)
        directory = nil
        #expect(try descriptorsOnRoot() == 0)
    }
}
