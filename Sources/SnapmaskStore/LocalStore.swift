import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A snapshot store in a local folder (`file:///var/lib/snapmask/snapshots` or a plain path).
/// Objects are written to a temporary name and renamed, so a reader never sees half a file.
///
/// Snapshots are for snapmask and its operator only: every folder it makes is 0700 and every
/// file 0600, set explicitly, whatever the process's umask. Keys are checked before they become
/// paths: no absolute path, no `.` or `..` segment, no empty segment, no control character, so a
/// key can never point outside the store.
public struct LocalStore: ObjectStore {
    public let root: URL

    public init(path: String) {
        root = URL(fileURLWithPath: path, isDirectory: true)
    }

    public var location: String { "file://\(root.path)" }

    static let folderMode: mode_t = 0o700
    static let fileMode: mode_t = 0o600

    private func url(_ key: String) throws -> URL {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, key.utf8.count <= 1024, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw StoreError(.failed, "'\(key.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined())' "
                                 + "is not a key of \(location): keys are relative paths without '.', '..' or empty segments "
                                 + "and without control characters")
        }
        return root.appendingPathComponent(key)
    }

    public func put(_ key: String, data: Data) throws {
        let destination = try url(key)
        do {
            try makeFolders(down: destination.deletingLastPathComponent())
            let temporary = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).partial-\(UInt32.random(in: 0...UInt32.max))")
            try PrivateFile.create(temporary.path, holding: data, mode: Self.fileMode)
            // rename(2) replaces the destination in one step: a reader sees the old file or the new one.
            guard rename(temporary.path, destination.path) == 0 else {
                let reason = PrivateFile.lastError()
                unlink(temporary.path)
                throw StoreError(.failed, "cannot write \(key) in \(location): \(reason)")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.failed, "cannot write \(key) in \(location): \(error)")
        }
    }

    /// Creates the missing folders from the root down to `folder`, each 0700.
    private func makeFolders(down folder: URL) throws {
        var missing: [URL] = []
        var current = folder.standardizedFileURL
        while !FileManager.default.fileExists(atPath: current.path) {
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        for folder in missing.reversed() {
            if mkdir(folder.path, Self.folderMode) != 0 && errno != EEXIST {
                throw StoreError(.failed, "cannot create the folder \(folder.path) of \(location): \(PrivateFile.lastError())")
            }
            // mkdir's mode passes through the umask; a restrictive one could even drop our own access.
            chmod(folder.path, Self.folderMode)
        }
    }

    public func get(_ key: String) throws -> Data {
        try get(key, maxBytes: nil)
    }

    public func get(_ key: String, maxBytes: Int) throws -> Data {
        try get(key, maxBytes: Optional(maxBytes))
    }

    private func get(_ key: String, maxBytes: Int?) throws -> Data {
        let source = try url(key)
        guard FileManager.default.fileExists(atPath: source.path) else { throw StoreError.notFound(key, in: location) }
        do {
            let handle = try FileHandle(forReadingFrom: source)
            defer { try? handle.close() }
            // The size of the open file, so a file swapped meanwhile cannot make it read more.
            let size = Int(try handle.seekToEnd())
            if let maxBytes, size > maxBytes { throw StoreError.tooLarge(key, in: location, limit: maxBytes) }
            try handle.seek(toOffset: 0)
            let data = try handle.read(upToCount: size) ?? Data()
            return data
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.failed, "cannot read \(key) in \(location): \(error.localizedDescription)")
        }
    }

    public func list(prefix: String) throws -> [StoredObject] {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]) else {
            return []
        }
        var objects: [StoredObject] = []
        let rootPath = root.standardizedFileURL.path
        for case let file as URL in enumerator {
            let values = try? file.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey])
            guard values?.isRegularFile == true, !file.lastPathComponent.hasPrefix(".") else { continue }
            var key = file.standardizedFileURL.path
            guard key.hasPrefix(rootPath + "/") else { continue }
            key.removeFirst(rootPath.count + 1)
            if key.hasPrefix(prefix) {
                objects.append(StoredObject(key: key, size: values?.fileSize ?? 0, modified: values?.contentModificationDate))
            }
        }
        return objects.sorted { $0.key < $1.key }
    }

    public func delete(_ keys: [String]) throws {
        var folders = Set<URL>()
        for key in keys {
            let file = try url(key)
            if FileManager.default.fileExists(atPath: file.path) {
                do { try FileManager.default.removeItem(at: file) } catch {
                    throw StoreError(.failed, "cannot delete \(key) in \(location): \(error.localizedDescription)")
                }
            }
            folders.insert(file.deletingLastPathComponent())
        }
        // Remove folders left empty, deepest first, never the root.
        for folder in folders.sorted(by: { $0.path.count > $1.path.count }) where folder.path != root.path {
            if (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.allSatisfy({ $0.hasPrefix(".") }) == true {
                try? FileManager.default.removeItem(at: folder)
            }
        }
    }
}

/// The one place the local store touches file descriptors: a new file, created with its final
/// mode (never readable by others, not even for an instant), written whole and flushed.
enum PrivateFile {
    static func create(_ path: String, holding data: Data, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw StoreError(.failed, "cannot create \(path): \(lastError())") }
        var failure: String?
        // open's mode passes through the umask; the file must be exactly 0600 either way.
        if fchmod(descriptor, mode) != 0 { failure = "cannot set its mode: \(lastError())" }
        if failure == nil {
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        failure = lastError()
                        return
                    }
                    offset += written
                }
            }
        }
        if failure == nil && fsync(descriptor) != 0 { failure = lastError() }
        close(descriptor)
        if let failure {
            unlink(path)
            throw StoreError(.failed, "cannot write \(path): \(failure)")
        }
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}
