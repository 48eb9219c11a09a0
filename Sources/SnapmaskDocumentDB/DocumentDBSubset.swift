import Snapmask

/// DocumentDB declares no references: a subset follows those its rules declare (`user_id` of
/// orders → `_id` of users), reading the key paths from the same cursor form as the copy.
extension DocumentDBSource: SubsetReadingSource {
    func foreignKeys() throws -> [ForeignKeyShape] { [] }

    func fieldSelector(for plan: TablePlan, fields: [String]) throws -> any RowFieldSelector {
        try DocumentFieldSelector(collection: plan.name, fields: fields)
    }
}

/// Reads key paths out of a batch of BSON documents; a kept document is copied byte for byte.
struct DocumentFieldSelector: RowFieldSelector {
    let collection: String
    let fields: [(name: String, path: FieldPath, elements: FieldPath?)]

    init(collection: String, fields: [String]) throws {
        self.collection = collection
        self.fields = try fields.map { name in
            do { return (name, try FieldPath(name), try? FieldPath(name + "[]")) } catch {
                throw SubsetPlanError("the subset reads '\(name)' of \(collection), which is not a field path: \(error)")
            }
        }
    }

    func select(_ batch: RowBatch, _ decide: ([String?]) throws -> RowDecision) throws -> RowBatch {
        var output: [UInt8] = []
        var kept = 0
        try batch.data.withUnsafeBytes { bytes in
            var offset = 0
            var row = batch.firstRow
            while offset + 4 <= bytes.count {
                let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self).littleEndian)
                guard length >= 5, offset + length <= bytes.count else {
                    throw SubsetPlanError("a document of \(collection) is cut short in its batch")
                }
                let document = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
                var values: [String?] = []
                for field in fields {
                    let found = try PathValues.values(at: field.path, in: document)
                    // A reference through an array would need one parent per element; refusing it
                    // keeps the subset from leaving some of them behind.
                    let elements = try field.elements.map { try PathValues.values(at: $0, in: document).count } ?? 0
                    guard found.count <= 1, !(found.isEmpty && elements > 0) else {
                        throw SubsetPlanError("\(collection), document \(row + 1): '\(field.name)' holds \(max(found.count, elements)) values "
                                                  + "(an array); a subset follows references held in single fields only")
                    }
                    values.append(found.first?.text)
                }
                switch try decide(values) {
                case .drop: break
                case .keep, .keepNulling:
                    output.append(contentsOf: document)
                    kept += 1
                }
                offset += length
                row += 1
            }
        }
        return RowBatch(data: output, rowCount: kept, firstRow: batch.firstRow)
    }
}
