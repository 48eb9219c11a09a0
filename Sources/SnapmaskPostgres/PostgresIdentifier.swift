/// Quoting for PostgreSQL identifiers and literals, so names from rules and catalogs never
/// change the meaning of a statement.
enum PostgresIdentifier {
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `public.users` → `"public"."users"`; an unqualified name is in `public`.
    static func qualified(_ name: String) -> String {
        let (schema, table) = split(name)
        return quoted(schema) + "." + quoted(table)
    }

    static func split(_ name: String) -> (schema: String, table: String) {
        guard let dot = name.firstIndex(of: ".") else { return ("public", name) }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func columnList(_ names: [String]) -> String {
        names.map(quoted).joined(separator: ", ")
    }
}
