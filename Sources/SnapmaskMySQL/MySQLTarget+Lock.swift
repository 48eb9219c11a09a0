import Snapmask

/// The one-run-at-a-time lock of a target: `GET_LOCK('snapmask:<db>')`, held by the
/// administrative connection for the whole run; a second run is refused, naming the holder.
extension MySQLTarget {
    /// User lock names are at most 64 characters (MySQL 5.7+).
    static func lockName(for database: String, kind: String = "") -> String {
        let name = "snapmask:" + kind + database
        if name.count <= 64 { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in database.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(name.prefix(47)) + ":" + String(hash, radix: 16)
    }

    func lock() throws {
        try withAdmin { admin in
            guard try admin.scalar("SELECT GET_LOCK(\(admin.literal(lockName)), 0)") == "1" else {
                throw TargetLocked(target: "\(database) on \(url.primaryHost.host)", holder: Self.holder(of: lockName, admin))
            }
            locked = true
            // A run that died during its swap released the lock at once, but the server may still
            // be finishing that run's swap batch (milliseconds): wait for it before looking.
            guard try admin.scalar("SELECT GET_LOCK(\(admin.literal(swapLockName)), \(Self.swapSettleSeconds))") == "1" else {
                let holder = Self.holder(of: swapLockName, admin)
                _ = try? admin.query("SELECT RELEASE_LOCK(\(admin.literal(lockName)))")
                locked = false
                throw TargetLocked(target: "\(database) on \(url.primaryHost.host)",
                                   holder: "the swap of an earlier run is still running on the server after "
                                       + "\(Self.swapSettleSeconds) s: \(holder)")
            }
            try admin.query("SELECT RELEASE_LOCK(\(admin.literal(swapLockName)))")
        }
    }

    /// Who holds a user lock: the connection (IS_USED_LOCK), its account, client and idle time from
    /// the process list, and snapmask's own description where performance_schema keeps it.
    static func holder(of lockName: String, _ admin: MySQLConnection) -> String {
        guard let id = (try? admin.scalar("SELECT IS_USED_LOCK(\(admin.literal(lockName)))")) ?? nil else {
            return "another session (it ended meanwhile: try again)"
        }
        var text = "connection \(id)"
        if let row = (try? admin.query("""
            SELECT USER, HOST, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = \(id)
            """))?.first {
            text += " (user \(row[0] ?? "?"), client \(row[1] ?? "?"), \(row[2] ?? "?") for \(row[3] ?? "?") s)"
        } else {
            text += " (not in the process list this account can see: the PROCESS privilege shows it)"
        }
        if let purpose = (try? admin.scalar("""
            SELECT ATTR_VALUE FROM performance_schema.session_connect_attrs
             WHERE PROCESSLIST_ID = \(id) AND ATTR_NAME = 'snapmask_purpose'
            """)) ?? nil {
            text = "\(purpose), " + text
        }
        return text
    }

    func unlock() {
        _ = try? withAdmin { admin in
            if locked { try admin.query("SELECT RELEASE_LOCK(\(admin.literal(lockName)))") }
            locked = false
        }
    }
}
