/// A chunk of whole rows (or documents) in the engine's wire format, passed from reader to
/// masker to writer. Batches are large (about a megabyte) so per-batch costs vanish.
public struct RowBatch: Sendable {
    public var data: [UInt8]
    public var rowCount: Int
    /// The index of the first row within its table, for error messages.
    public var firstRow: Int

    public init(data: [UInt8], rowCount: Int, firstRow: Int) {
        self.data = data
        self.rowCount = rowCount
        self.firstRow = firstRow
    }
}

/// Turns a batch of source rows into the batch written to the shadow copy.
public protocol BatchMasker: Sendable {
    func mask(_ batch: RowBatch) throws -> RowBatch
}

/// A value in a row that its transformer could not mask: the run stops instead of copying it.
/// The message names table, column and row, never the value.
public struct RowMaskingError: Error, Sendable, CustomStringConvertible {
    public var table: String
    public var column: String
    public var row: Int
    public var reason: MaskingError

    public var description: String {
        "\(table).\(column), row \(row + 1) of the copy: \(reason); fix the data or the rule (\(reason.transformer))"
    }
}

/// Splits and joins an engine's array literal (`{a,"b c",NULL}` in PostgreSQL) so each element
/// of an array column goes through the column's transformer.
public protocol ArrayLiteralCodec: Sendable {
    func elements(of literal: String) throws(MaskingError) -> [String?]
    func literal(of elements: [String?]) -> String
}
