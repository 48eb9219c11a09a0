/// Masks batches of tab-separated rows (PostgreSQL COPY text, MySQL LOAD DATA): the fields of
/// masked columns are decoded, masked and re-escaped; every other byte is copied as it came.
public struct DelimitedRowMasker: BatchMasker {
    /// A class, so looking a field up per row costs one reference count, not one per member.
    final class Field: Sendable {
        let column: CompiledColumn
        let arrays: (any ArrayLiteralCodec)?

        init(column: CompiledColumn, arrays: (any ArrayLiteralCodec)?) {
            self.column = column
            self.arrays = arrays
        }
    }

    let table: String
    /// Per field position: the mask to apply, or nil to copy the field as is.
    let fields: [Field?]
    let dialect: DelimitedText.Dialect
    /// Memos of recent outputs for the masked fields (`FieldMemo`), one set per masking thread.
    let memos: FieldMemoShelf

    public init(plan: TablePlan, dialect: DelimitedText.Dialect, arrays: (any ArrayLiteralCodec)? = nil) {
        table = plan.table.name
        fields = plan.columns.indices.map { index in
            plan.masks[index].map { Field(column: $0, arrays: $0.rule.perElement ? arrays : nil) }
        }
        self.dialect = dialect
        memos = FieldMemoShelf(columns: fields.map { $0?.column.transformer.role == .masking })
    }

    public var masksNothing: Bool { fields.allSatisfy { $0 == nil } }

    public func mask(_ batch: RowBatch) throws -> RowBatch {
        if masksNothing { return batch }
        var output: [UInt8] = []
        output.reserveCapacity(batch.data.count + batch.data.count / 4)
        var row = batch.firstRow
        let memos = memos.take()
        defer { self.memos.putBack(memos) }
        try batch.data.withUnsafeBufferPointer { input in
            var position = 0
            while position < input.count {
                // One row: copy untouched stretches, replace masked fields.
                var field = 0
                var fieldStart = position
                var copiedUpTo = position
                while true {
                    let end = DelimitedText.fieldEnd(input, from: fieldStart)
                    if field < fields.count, let mask = fields[field] {
                        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copiedUpTo..<fieldStart]))
                        try append(UnsafeBufferPointer(rebasing: input[fieldStart..<end]), mask, memo: memos[field], row: row,
                                   to: &output)
                        copiedUpTo = end
                    }
                    field += 1
                    if end >= input.count || input[end] == DelimitedText.newline {
                        let rowEnd = min(end + 1, input.count)
                        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copiedUpTo..<rowEnd]))
                        position = rowEnd
                        break
                    }
                    fieldStart = end + 1
                }
                row += 1
            }
        }
        return RowBatch(data: output, rowCount: batch.rowCount, firstRow: batch.firstRow)
    }

    private func append(_ raw: UnsafeBufferPointer<UInt8>, _ field: Field, memo: FieldMemo?, row: Int,
                        to output: inout [UInt8]) throws {
        if let memo, let remembered = memo.output(for: raw) {
            output.append(contentsOf: remembered)
            return
        }
        let start = output.count
        var masked = false
        if field.arrays == nil && field.column.transformer.masksASCIIInPlace {
            masked = try maskASCII(raw, field, row: row, to: &output)
        }
        if !masked { try maskDecoded(raw, field, row: row, to: &output) }
        // Only here, after masking succeeded: a failure is never remembered.
        if let memo, memo.isEnabled {
            output.withUnsafeBufferPointer { memo.remember(raw, wrote: UnsafeBufferPointer(rebasing: $0[start...])) }
        }
    }

    /// The field decoded into a string, masked, and escaped again.
    private func maskDecoded(_ raw: UnsafeBufferPointer<UInt8>, _ field: Field, row: Int, to output: inout [UInt8]) throws {
        let value = DelimitedText.decode(raw, dialect: dialect)
        let masked: String?
        do {
            if let arrays = field.arrays, let value {
                masked = arrays.literal(of: try arrays.elements(of: value).map { element throws(MaskingError) in
                    try field.column.transformer.mask(element)
                })
            } else {
                masked = try field.column.transformer.mask(value)
            }
        } catch {
            throw RowMaskingError(table: table, column: field.column.name, row: row, reason: error)
        }
        if let masked {
            DelimitedText.appendEscaped(masked, to: &output, dialect: dialect)
        } else {
            DelimitedText.appendNull(to: &output)
        }
    }

    /// A field with no escape (its bytes are the value) and ASCII, through a transformer that
    /// masks such values in place: no strings made. The output is escaped like any other, so
    /// whatever the transformer writes reaches the text safely. False: the string path masks it.
    private func maskASCII(_ raw: UnsafeBufferPointer<UInt8>, _ field: Field, row: Int,
                           to output: inout [UInt8]) throws -> Bool {
        guard !raw.contains(where: { $0 >= 0x80 || $0 == DelimitedText.backslash }) else { return false }
        let transformer = field.column.transformer
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, transformer.maskedLength(ofASCII: raw.count))) {
            buffer in
            let written: Int?
            do throws(MaskingError) {
                written = try transformer.maskASCII(raw, into: buffer)
            } catch {
                throw RowMaskingError(table: table, column: field.column.name, row: row, reason: error)
            }
            guard let written else { return false }
            DelimitedText.appendEscaped(UnsafeBufferPointer(rebasing: buffer[..<written]), to: &output, dialect: dialect)
            return true
        }
    }
}
