import Foundation
import Testing
@testable import SnapmaskStore

/// What every `ObjectStore` must do, checked the same way for the local folder and for S3
/// (S3StoreTests). `store` must be empty: a fresh folder or a fresh prefix.
enum ObjectStoreContract {
    /// More objects than one S3 listing page in the S3 test (it asks for pages of 7).
    static let manyCount = 23

    static func check(_ store: any ObjectStore) throws {
        #expect(try store.list(prefix: "").isEmpty, "the store under test must start empty")
        let started = Date()

        // Put and get.
        let text = Data("hello, snapshots\n".utf8)
        try store.put("a/one.txt", data: text)
        #expect(try store.get("a/one.txt") == text)

        // A missing object is `notFound`, named in the message.
        do {
            _ = try store.get("a/missing.txt")
            Issue.record("get of a missing key returned data")
        } catch let error as StoreError {
            #expect(error.kind == .notFound)
            #expect(error.message.contains("a/missing.txt"))
            #expect(error.message.contains(store.location))
        }

        // Overwrite: the new bytes, and still one object.
        let longer = Data("a longer second version of the same object".utf8)
        try store.put("a/one.txt", data: longer)
        #expect(try store.get("a/one.txt") == longer)
        #expect(try store.list(prefix: "a/").map(\.key) == ["a/one.txt"])
        #expect(try store.list(prefix: "a/").first?.size == longer.count)

        // Every byte value, and an empty object.
        var binary = Data()
        for round in 0..<4 { binary.append(contentsOf: (0...255).map { UInt8(($0 + round * 7) & 0xFF) }) }
        try store.put("bin/all-bytes.bin", data: binary)
        #expect(try store.get("bin/all-bytes.bin") == binary)
        try store.put("bin/empty", data: Data())
        #expect(try store.get("bin/empty") == Data())

        // Keys with spaces, non-ASCII letters and characters that mean something in URLs.
        let oddKeys = [
            "odd dir/naïve Ünïcødé ✓ 日本語.bin",
            "odd dir/a+b%20c&d=e?f#g'h;i,j(k)l!m*n~o@p$q.bin",
        ]
        for (index, key) in oddKeys.enumerated() {
            try store.put(key, data: Data("odd \(index)".utf8))
        }
        for (index, key) in oddKeys.enumerated() {
            #expect(try store.get(key) == Data("odd \(index)".utf8), "key \(key)")
        }
        #expect(try store.list(prefix: "odd dir/").map(\.key) == oddKeys.sorted())

        // Many objects, listed in key order (several S3 pages).
        let many = (0..<manyCount).map { String(format: "many/part-%05d.zst", $0) }
        for key in many.shuffled() { try store.put(key, data: Data(key.utf8)) }
        let listed = try store.list(prefix: "many/")
        #expect(listed.map(\.key) == many)
        #expect(listed.allSatisfy { $0.size == $0.key.utf8.count })
        #expect(listed.allSatisfy { ($0.modified ?? .distantPast) > started.addingTimeInterval(-300) })

        // A prefix is a string prefix, not a folder: part of a name counts.
        #expect(try store.list(prefix: "many/part-0001").map(\.key) == many.filter { $0.hasPrefix("many/part-0001") })
        #expect(try store.list(prefix: "nothing-here/").isEmpty)
        let all = try store.list(prefix: "")
        #expect(all.map(\.key) == (["a/one.txt", "bin/all-bytes.bin", "bin/empty"] + oddKeys + many).sorted())

        // Delete: keys that do not exist are ignored; deleted objects are gone.
        try store.delete([])
        try store.delete(["a/one.txt", "a/never-written.txt", oddKeys[1]] + many.prefix(5))
        #expect(throws: StoreError.self) { try store.get("a/one.txt") }
        #expect(try store.list(prefix: "a/").isEmpty)
        #expect(try store.list(prefix: "many/").map(\.key) == Array(many.dropFirst(5)))
        #expect(try store.get(oddKeys[0]) == Data("odd 0".utf8))

        // Bounded reads: up to the limit the object, beyond it a refusal without reading it whole.
        try store.put("bounded/ten", data: Data(repeating: 7, count: 10))
        #expect(try store.get("bounded/ten", maxBytes: 10) == Data(repeating: 7, count: 10))
        #expect(try store.get("bounded/ten", maxBytes: 1000) == Data(repeating: 7, count: 10))
        do {
            _ = try store.get("bounded/ten", maxBytes: 9)
            Issue.record("a 10-byte object was read with a 9-byte limit")
        } catch let error as StoreError {
            #expect(error.kind == .tooLarge && error.message.contains("bounded/ten") && error.message.contains("9 bytes"))
        }
        #expect(try store.get("bin/empty", maxBytes: 5) == Data())
        #expect(throws: StoreError.self) { try store.get("bounded/missing", maxBytes: 5) }

        try store.delete(try store.list(prefix: "").map(\.key))
        #expect(try store.list(prefix: "").isEmpty)
    }
}

@Suite struct LocalStoreTests {
    static func scratchFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("snapmask-localstore-\(UUID().uuidString)").path
    }

    @Test func contract() throws {
        let path = Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ObjectStoreContract.check(LocalStore(path: path))
    }

    /// Snapshots are for snapmask's user only, even under a permissive umask.
    @Test func foldersAre0700AndFiles0600WhateverTheUmask() throws {
        let path = Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let previous = umask(0)
        defer { umask(previous) }
        let store = LocalStore(path: path)
        try store.put("snap-1/parts/0001/000001.zst.aes", data: Data("sealed".utf8))
        try store.put("snap-1/manifest.json", data: Data("{}".utf8))
        try store.put("snap-1/manifest.json", data: Data("{\"again\": 1}".utf8))
        func mode(_ relative: String) throws -> Int {
            let attributes = try FileManager.default.attributesOfItem(atPath: relative.isEmpty ? path : path + "/" + relative)
            return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        for folder in ["", "snap-1", "snap-1/parts", "snap-1/parts/0001"] {
            #expect(try mode(folder) == 0o700, "folder \(folder.isEmpty ? "(root)" : folder)")
        }
        for file in ["snap-1/parts/0001/000001.zst.aes", "snap-1/manifest.json"] {
            #expect(try mode(file) == 0o600, "file \(file)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: path + "/snap-1").sorted() == ["manifest.json", "parts"],
                "no temporary file is left")
    }

    /// A key never leads outside the store.
    @Test func keysCannotLeaveTheFolder() throws {
        let parent = Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let store = LocalStore(path: parent + "/store")
        for key in ["../escape", "a/../../escape", "/etc/passwd", "a//b", "./a", "a/.", "", "bell\u{7}", "new\nline"] {
            #expect(throws: StoreError.self, "put \(key.debugDescription)") { try store.put(key, data: Data("x".utf8)) }
            #expect(throws: StoreError.self, "get \(key.debugDescription)") { try store.get(key) }
            #expect(throws: StoreError.self, "delete \(key.debugDescription)") { try store.delete([key]) }
        }
        #expect(!FileManager.default.fileExists(atPath: parent + "/escape"))
    }

    @Test func locationIsAFileURL() {
        #expect(LocalStore(path: "/var/lib/snapmask/snapshots").location == "file:///var/lib/snapmask/snapshots")
    }
}
