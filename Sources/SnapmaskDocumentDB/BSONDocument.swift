import CMongoC
import Foundation

/// One heap `bson_t *` from bson_new()/bson_new_from_json(), destroyed in `deinit`.
/// libbson aligns bson_t to 128 bytes, so Swift never holds one by value.
public final class BSONDocument {
    let handle: OpaquePointer

    public init() {
        handle = bson_new()
    }

    init(taking handle: OpaquePointer) {
        self.handle = handle
    }

    /// Parses (relaxed or canonical) extended JSON.
    public init(json: String) throws {
        var error = bson_error_t()
        guard let parsed = json.withCString({ bson_new_from_json($0, -1, &error) }) else {
            throw DocumentDBError(Self.message(of: &error), domain: error.domain, code: error.code,
                                  context: "not a valid JSON document")
        }
        handle = parsed
    }

    /// Copies BSON bytes into a new document.
    init(bytes: [UInt8]) throws {
        guard let parsed = bytes.withUnsafeBufferPointer({ bson_new_from_data($0.baseAddress, $0.count) }) else {
            throw DocumentDBError("not a valid BSON document (\(bytes.count) bytes)")
        }
        handle = parsed
    }

    deinit { bson_destroy(handle) }

    /// The document's BSON bytes.
    var bytes: [UInt8] { Self.bytes(of: handle) }

    /// The bytes of any `bson_t *` (its length is the first four bytes of its data).
    static func bytes(of document: OpaquePointer) -> [UInt8] {
        guard let data = bson_get_data(document) else { return [] }
        let length = Int(Int32(littleEndian: UnsafeRawPointer(data).loadUnaligned(as: Int32.self)))
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    /// Canonical extended JSON: every type spelled out (`{"$numberInt": "7"}`), for keys and tests.
    public var canonicalJSON: String {
        guard let text = bson_as_canonical_extended_json(handle, nil) else { return "{}" }
        defer { bson_free(text) }
        return String(cString: text)
    }

    /// Relaxed extended JSON, for messages and tests.
    public var json: String {
        guard let text = bson_as_relaxed_extended_json(handle, nil) else { return "{}" }
        defer { bson_free(text) }
        return String(cString: text)
    }

    static func message(of error: inout bson_error_t) -> String {
        withUnsafeBytes(of: &error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// Storage for a `bson_t` that libmongoc fills in (a command's reply): 128-byte aligned,
/// never moved, destroyed and freed in `deinit`.
final class BSONOutput {
    let raw: UnsafeMutableRawPointer
    var pointer: OpaquePointer { OpaquePointer(raw) }
    private var initialized = false

    init() {
        raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
    }

    /// Marks the storage as holding an initialized bson_t (libmongoc always initializes replies).
    func markInitialized() { initialized = true }

    var json: String {
        guard let text = bson_as_relaxed_extended_json(pointer, nil) else { return "{}" }
        defer { bson_free(text) }
        return String(cString: text)
    }

    deinit {
        if initialized { bson_destroy(pointer) }
        raw.deallocate()
    }
}
