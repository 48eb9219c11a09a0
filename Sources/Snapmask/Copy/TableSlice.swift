/// One part of a large table, read, masked and loaded beside the table's other parts, so that a
/// table much larger than the others keeps every `--jobs` session busy instead of one. The
/// engine that splits a table defines the unit of the bounds (PostgreSQL: heap pages). The
/// first slice has no lower bound and the last no upper bound, so every row falls in exactly
/// one slice even when the table grew after it was measured.
public struct TableSlice: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    /// Inclusive; nil for the first slice.
    public var lower: Int?
    /// Exclusive; nil for the last slice.
    public var upper: Int?

    public init(index: Int, count: Int, lower: Int?, upper: Int?) {
        self.index = index
        self.count = count
        self.lower = lower
        self.upper = upper
    }

    /// `count` slices of `0..<units`, as even as integer division allows.
    public static func even(units: Int, count: Int) -> [TableSlice] {
        guard count > 1, units >= count else { return [] }
        return (0..<count).map { index in
            TableSlice(index: index, count: count, lower: index == 0 ? nil : units * index / count,
                       upper: index == count - 1 ? nil : units * (index + 1) / count)
        }
    }

    public var description: String { "part \(index + 1) of \(count)" }
}
