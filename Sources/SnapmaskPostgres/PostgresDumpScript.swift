/// A pg_dump plain-text script split into its entries (`-- Name: …; Type: INDEX; …` headers), so
/// the post-data section can be run like `pg_restore -j`: indexes and key constraints on several
/// connections at once, then foreign keys, then the rest in dump order.
struct PostgresDumpScript {
    struct Entry {
        var type: String
        var sql: String
    }

    /// The `SET` statements before the first entry, run on every connection.
    var preamble: String
    var entries: [Entry]

    init(_ text: String) {
        var preamble: [Substring] = []
        var entries: [Entry] = []
        var current: (type: String, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- Name: "), let typeRange = line.range(of: "; Type: ") {
                let rest = line[typeRange.upperBound...]
                let type = rest.range(of: "; ").map { String(rest[..<$0.lowerBound]) } ?? String(rest)
                // SET lines at the end of the previous entry (default_tablespace) belong to this one.
                var carried: [Substring] = []
                if var previous = current {
                    while let last = previous.lines.last, last.hasPrefix("SET ") || last.isEmpty || last == "--" {
                        if last.hasPrefix("SET ") { carried.insert(last, at: 0) }
                        previous.lines.removeLast()
                    }
                    entries.append(Entry(type: previous.type, sql: previous.lines.joined(separator: "\n")))
                }
                current = (type, carried)
            } else if current != nil {
                current!.lines.append(line)
            } else {
                preamble.append(line)
            }
        }
        if let last = current { entries.append(Entry(type: last.type, sql: last.lines.joined(separator: "\n"))) }
        self.preamble = preamble.joined(separator: "\n")
        self.entries = entries
    }

    /// Entries that only build indexes or key constraints of one table: safe to run at once.
    var indexes: [Entry] { entries.filter { $0.type == "INDEX" || $0.type == "CONSTRAINT" } }
    var foreignKeys: [Entry] { entries.filter { $0.type == "FK CONSTRAINT" } }
    var others: [Entry] { entries.filter { !["INDEX", "CONSTRAINT", "FK CONSTRAINT"].contains($0.type) } }
}
