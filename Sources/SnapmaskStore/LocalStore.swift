import Foundation

/// A snapshot store in a local folder (`file:///var/lib/snapmask/snapshots` or a plain path).
/// Objects are written to a temporary name and renamed, so a reader never sees half a file.
public struct LocalStore: ObjectStore {
    public let root: URL

    public init(path: String) {
        root = URL(fileURLWithPath: path, isDirectory: true)
    }

    public var location: String { "file://\(root.path)" }

    private func url(_ key: String) -> URL { root.appendingPathComponent(key) }

    public func put(_ key: String, data: Data) throws {
        let destination = url(key)
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).partial-\(UInt32.random(in: 0...UInt32.max))")
            try data.write(to: temporary)
            if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
            try FileManager.default.moveItem(at: temporary, to: destination)
        } catch {
            throw StoreError(.failed, "cannot write \(key) in \(location): \(error.localizedDescription)")
        }
    }

    public func get(_ key: String) throws -> Data {
        let source = url(key)
        guard FileManager.default.fileExists(atPath: source.path) else { throw StoreError.notFound(key, in: location) }
        do {
            return try Data(contentsOf: source)
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
            let file = url(key)
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
