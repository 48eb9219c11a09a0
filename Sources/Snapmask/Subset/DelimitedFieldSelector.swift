/// Picks fields out of tab-separated rows (PostgreSQL COPY text, MySQL LOAD DATA) and keeps the
/// rows a subset selects; kept rows are copied byte for byte except for fields set to NULL.
public struct DelimitedFieldSelector: RowFieldSelector {
    /// For each field asked for, its position in the row.
    let positions: [Int]
    /// For a field that is a key inside a JSON column: how to find it there.
    let jsonKeys: [JSONKeyField?]
    let table: String
    let dialect: DelimitedText.Dialect

    public init(plan: TablePlan, fields: [String], dialect: DelimitedText.Dialect) throws {
        let jsonKeys = fields.map { JSONKeyField(field: $0, in: plan.table) }
        positions = try zip(fields, jsonKeys).map { field, json in
            let column = json?.column ?? field
            guard let position = plan.columns.firstIndex(where: { $0.name == column }) else {
                throw SubsetPlanError("table \(plan.name) has no column '\(column)' to read for its subset")
            }
            return position
        }
        self.jsonKeys = jsonKeys
        table = plan.name
        self.dialect = dialect
    }

    public func select(_ batch: RowBatch, _ decide: ([String?]) throws -> RowDecision) throws -> RowBatch {
        var output: [UInt8] = []
        var kept = 0
        let wanted = positions.max().map { $0 + 1 } ?? 0
        var starts = [Int](repeating: 0, count: wanted)
        var ends = [Int](repeating: 0, count: wanted)
        var values = [String?](repeating: nil, count: positions.count)
        try batch.data.withUnsafeBufferPointer { input in
            var position = 0
            while position < input.count {
                let rowStart = position
                var field = 0
                var fieldStart = position
                var rowEnd = input.count
                while true {
                    var end = fieldStart
                    while end < input.count, input[end] != DelimitedText.tab, input[end] != DelimitedText.newline { end += 1 }
                    if field < wanted {
                        starts[field] = fieldStart
                        ends[field] = end
                    }
                    field += 1
                    if end >= input.count || input[end] == DelimitedText.newline {
                        rowEnd = min(end + 1, input.count)
                        break
                    }
                    fieldStart = end + 1
                }
                position = rowEnd
                guard field >= wanted else {
                    throw SubsetPlanError("a row of the source has \(field) fields where the subset reads field \(wanted)")
                }
                for (index, column) in positions.enumerated() {
                    let text = DelimitedText.decode(UnsafeBufferPointer(rebasing: input[starts[column]..<ends[column]]),
                                                    dialect: dialect)
                    values[index] = try jsonKeys[index].map { try $0.value(in: text, table: table) } ?? text
                }
                switch try decide(values) {
                case .drop:
                    continue
                case .keep:
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: input[rowStart..<rowEnd]))
                case let .keepNulling(fields):
                    let nulled = Set(fields.map { positions[$0] })
                    var copied = rowStart
                    for column in nulled.sorted() {
                        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<starts[column]]))
                        DelimitedText.appendNull(to: &output)
                        copied = ends[column]
                    }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<rowEnd]))
                }
                kept += 1
            }
        }
        return RowBatch(data: output, rowCount: kept, firstRow: batch.firstRow)
    }
}
