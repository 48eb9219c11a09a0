import Foundation

/// Who keeps a rename of staging's tables waiting, described for a DBA: connection id, account,
/// client address, what it does (statements with their literals replaced by `?`, so neither
/// data nor passwords are shown).
enum MySQLBlockers {
    static func describe(_ connection: MySQLConnection, database: String, excluding ours: [UInt]) -> String {
        let db = connection.literal(database)
        let excluded = ours.map(String.init).joined(separator: ", ")
        // Exact where the server keeps metadata locks: performance_schema (MySQL 8.0, MariaDB
        // with it on), or MariaDB's METADATA_LOCK_INFO plugin.
        var holders = (try? connection.query("""
            SELECT DISTINCT t.PROCESSLIST_ID FROM performance_schema.metadata_locks m
              JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID
             WHERE m.OBJECT_SCHEMA = \(db) AND m.LOCK_STATUS = 'GRANTED' AND t.PROCESSLIST_ID NOT IN (\(excluded))
            """))?.compactMap { $0[0] } ?? []
        if holders.isEmpty {
            holders = (try? connection.query("""
                SELECT DISTINCT THREAD_ID FROM information_schema.METADATA_LOCK_INFO
                 WHERE TABLE_SCHEMA = \(db) AND THREAD_ID NOT IN (\(excluded))
                """))?.compactMap { $0[0] } ?? []
        }
        var exact = !holders.isEmpty
        if holders.isEmpty {
            // Otherwise the candidates, likeliest first: sessions in staging, statements that name
            // it, then sessions in a transaction (which keeps the lock of every table it touched
            // until it ends), idle ones first (a forgotten transaction), oldest first.
            let pattern = connection.literal("%" + database.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%")
            holders = (try? connection.query("""
                SELECT p.ID FROM information_schema.PROCESSLIST p
                  LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
                 WHERE p.ID NOT IN (\(excluded)) AND p.COMMAND NOT IN ('Daemon', 'Binlog Dump')
                   AND (t.trx_started IS NOT NULL OR p.DB = \(db) OR p.INFO LIKE \(pattern))
                   AND COALESCE(p.STATE, '') NOT LIKE 'Waiting for table metadata lock%'
                 ORDER BY COALESCE(p.DB = \(db), 0) DESC, COALESCE(p.INFO LIKE \(pattern), 0) DESC,
                          p.COMMAND = 'Sleep' DESC, t.trx_started
                """))?.compactMap { $0[0] } ?? []
            exact = false
        }
        guard !holders.isEmpty else {
            return "a session this account cannot see (the PROCESS privilege shows every session)"
        }
        let described = holders.prefix(5).map { describeSession($0, connection) }
        var text = described.joined(separator: "; ")
        if holders.count > 5 { text += "; and \(holders.count - 5) more" }
        return exact ? text : (holders.count == 1 ? "probably " : "probably one of: ") + text
    }

    static func describeSession(_ id: String, _ connection: MySQLConnection) -> String {
        guard let row = (try? connection.query("""
            SELECT p.USER, p.HOST, p.DB, p.COMMAND, p.TIME, p.INFO, t.trx_started,
                   TIMESTAMPDIFF(SECOND, t.trx_started, NOW())
              FROM information_schema.PROCESSLIST p
              LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
             WHERE p.ID = \(id)
            """))?.first else { return "connection \(id) (it ended meanwhile)" }
        var text = "connection \(id) (user \(row[0] ?? "?"), client \(row[1] ?? "?")"
        if let db = row[2] { text += ", database \(db)" }
        if let info = row[5], !info.isEmpty {
            text += ", running for \(row[4] ?? "?") s: \(statementShape(info))"
        } else {
            text += ", \(row[3] == "Sleep" ? "idle" : row[3] ?? "?") for \(row[4] ?? "?") s"
        }
        if let started = row[6] { text += ", in a transaction open since \(started) (\(row[7] ?? "?") s)" }
        return text + ")"
    }

    /// A statement without its literals and comments, at most 160 characters: what it does,
    /// never the values it carries.
    static func statementShape(_ sql: String) -> String {
        var output = ""
        let scalars = Array(sql.unicodeScalars)
        var index = 0
        var lastWasSpace = false
        func isWord(_ scalar: Unicode.Scalar) -> Bool {
            CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "$" || scalar.value >= 0x80
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "'", "\"":
                index += 1
                while index < scalars.count {
                    if scalars[index] == "\\" { index += 2; continue }
                    if scalars[index] == scalar {
                        if index + 1 < scalars.count && scalars[index + 1] == scalar { index += 2; continue }
                        break
                    }
                    index += 1
                }
                index += 1
                output += "?"
                lastWasSpace = false
            case "`":
                let start = index
                index += 1
                while index < scalars.count && scalars[index] != "`" { index += 1 }
                index += 1
                output.unicodeScalars.append(contentsOf: scalars[start..<min(index, scalars.count)])
                lastWasSpace = false
            case "#":
                while index < scalars.count && scalars[index] != "\n" { index += 1 }
            case "-" where index + 1 < scalars.count && scalars[index + 1] == "-":
                while index < scalars.count && scalars[index] != "\n" { index += 1 }
            case "/" where index + 1 < scalars.count && scalars[index + 1] == "*":
                index += 2
                while index + 1 < scalars.count && !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
                index += 2
            case _ where scalar.properties.isWhitespace:
                if !lastWasSpace && !output.isEmpty { output += " " }
                lastWasSpace = true
                index += 1
            case _ where isWord(scalar):
                let start = index
                while index < scalars.count && (isWord(scalars[index]) || scalars[index] == ".") { index += 1 }
                let word = String(String.UnicodeScalarView(scalars[start..<index]))
                // Numbers (and hex or bit literals such as 0x1F, x'..' is a string above) are values.
                output += word.first!.isNumber ? "?" : word
                lastWasSpace = false
            default:
                output.unicodeScalars.append(scalar)
                lastWasSpace = false
                index += 1
            }
        }
        output = output.trimmingCharacters(in: .whitespaces)
        return output.count > 160 ? String(output.prefix(160)) + "…" : output
    }
}
