import CMongoC
import Snapmask

/// Plain copies of batches of documents, without rules: the baselines the masker is measured
/// against (Benchmarks/DocumentMaskingBenchmark). Neither is used by a restore.
public enum DocumentCopy {
    /// Decodes every element of every document, recursively, and encodes it again into a new
    /// document (type, key, value), with the same reader and writer as the masker.
    public static func reencode(_ batch: RowBatch) throws -> RowBatch {
        var output = BSONWriter(capacity: batch.data.count + 64)
        try batch.data.withUnsafeBytes { raw in
            let reader = BSONReader(raw)
            var position = 0
            while position < raw.count {
                let end = try reader.documentEnd(at: position, limit: raw.count)
                try copy(reader, start: position, end: end, into: &output)
                position = end
            }
        }
        return RowBatch(data: output.bytes, rowCount: batch.rowCount, firstRow: batch.firstRow)
    }

    private static func copy(_ reader: BSONReader, start: Int, end: Int, into output: inout BSONWriter) throws {
        let begin = output.beginDocument()
        var position = start + 4
        while position < end - 1 {
            let element = try reader.element(at: position, limit: end - 1)
            output.appendKey(type: element.type, key: reader.bytes(element.keyStart..<element.keyEnd))
            if element.type == BSONType.document || element.type == BSONType.array {
                try copy(reader, start: element.valueStart, end: element.end, into: &output)
            } else {
                output.append(reader.bytes(element.valueStart..<element.end))
            }
            position = element.end
        }
        output.endDocument(begin)
    }

    /// Decodes every document into values (a tree of fields, strings, numbers, ...) and encodes
    /// it again: what a driver that maps documents to objects does.
    public static func decodeToValues(_ batch: RowBatch) throws -> RowBatch {
        var output = BSONWriter(capacity: batch.data.count + 64)
        try batch.data.withUnsafeBytes { raw in
            let reader = BSONReader(raw)
            var position = 0
            while position < raw.count {
                let end = try reader.documentEnd(at: position, limit: raw.count)
                BSONDoc.encode(try BSONDoc.decode(reader, at: position), into: &output)
                position = end
            }
        }
        return RowBatch(data: output.bytes, rowCount: batch.rowCount, firstRow: batch.firstRow)
    }

    /// The same through libbson: `bson_iter_next` over each document and `bson_append_iter` of
    /// every top-level element into a new `bson_t` (embedded documents go over whole).
    public static func libbson(_ batch: RowBatch) throws -> RowBatch {
        var output: [UInt8] = []
        output.reserveCapacity(batch.data.count + 64)
        let document = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        let iterator = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 128)
        defer {
            document.deallocate()
            iterator.deallocate()
        }
        let copy = bson_sized_new(2048)!
        defer { bson_destroy(copy) }
        try batch.data.withUnsafeBytes { raw in
            var position = 0
            let reader = BSONReader(raw)
            while position < raw.count {
                let end = try reader.documentEnd(at: position, limit: raw.count)
                let pointer = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + position
                guard bson_init_static(OpaquePointer(document), pointer, end - position),
                      bson_iter_init(OpaquePointer(iterator), OpaquePointer(document)) else {
                    throw BSONFormatError(reason: "libbson refused a document")
                }
                bson_reinit(copy)
                while bson_iter_next(OpaquePointer(iterator)) {
                    guard bson_append_iter(copy, nil, 0, OpaquePointer(iterator)) else {
                        throw BSONFormatError(reason: "libbson could not append an element")
                    }
                }
                output.append(contentsOf: BSONDocument.bytes(of: copy))
                position = end
            }
        }
        return RowBatch(data: output, rowCount: batch.rowCount, firstRow: batch.firstRow)
    }
}
