/// How engines without a fixed schema (DocumentDB) discover a collection's field paths: by
/// reading a sample of its documents. SQL engines read their catalog and ignore this.
public struct SchemaSampling: Sendable, Equatable {
    /// Documents read per collection by default: half the newest (by `_id`, so new fields show
    /// up), half picked at random.
    public static let defaultDocuments = 1000

    /// Documents read per collection; 0 reads every document (slow on large collections, exact).
    public var documents: Int

    public init(documents: Int = SchemaSampling.defaultDocuments) {
        self.documents = max(0, documents)
    }

    public var readsEverything: Bool { documents == 0 }
}
