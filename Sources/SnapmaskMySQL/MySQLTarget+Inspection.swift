import Snapmask

/// After a failure: removing the shadow copy, and finding out from the server what staging holds.
extension MySQLTarget {
    /// A connection to look at the server after a failure: the admin connection if it still
    /// works, else a new one (the lost one may be why we are here). nil and why when the server
    /// cannot be reached.
    private func inspectionConnection() -> (MySQLConnection?, String?) {
        if (try? admin.query("SELECT 1")) != nil { return (admin, nil) }
        do {
            return (try MySQLConnection(url: url, database: .none, connectTimeout: 10, purpose: Self.purpose(database)), nil)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Waits until no swap batch runs on the server any more (one may go on after its client was
    /// killed or lost its connection). False when one still runs after the wait.
    private func settle(_ connection: MySQLConnection) -> Bool {
        let name = connection.literal(swapLockName)
        guard (try? connection.scalar("SELECT GET_LOCK(\(name), \(Self.swapSettleSeconds))")) == "1" else { return false }
        _ = try? connection.query("SELECT RELEASE_LOCK(\(name))")
        return true
    }

    /// Removes the shadow database, and the old copy once staging is whole again (all old, or all
    /// new with its triggers). After a half-finished swap everything is left as it is, for a DBA.
    func discardShadow() {
        // An index build still running (the copy of another table failed) would hold up the DROP
        // DATABASE until it ended. Nothing else runs then: the swap has not begun.
        if indexBuilds.isRunning { interrupt() }
        indexBuilds.settle()
        verifier.drop()
        mutex.lock()
        defer { mutex.unlock() }
        guard shadowExists else { return }
        let (found, _) = inspectionConnection()
        guard let connection = found, settle(connection),
              let seen = try? observeTables(on: connection)
        else { return }
        observation = seen
        guard seen.temporaryTables.isEmpty else { return }
        if case .swapped(problem: .some) = swapOutcome {
            // New tables, but views or routines are missing: keep the previous tables for now.
        } else {
            _ = try? connection.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(oldName))")
        }
        if (try? connection.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(shadowName))")) != nil {
            shadowExists = false
        }
    }

    /// What staging holds now, from what this run did and what the server shows: the shadow
    /// database still holding the run's tables means the swap never happened; the shadow empty
    /// (or gone) with the tables in staging means it did; tables under temporary names mean the
    /// server stopped inside the swap.
    func inspectStaging(swapStarted: Bool) -> StagingState {
        mutex.lock()
        defer { mutex.unlock() }
        let tables = objects?.tables.map(\.name) ?? []
        let (found, unreachable) = inspectionConnection()
        let settled = found.map(settle) ?? false
        let now = found.flatMap { try? self.observeTables(on: $0) }
        let shadow: StagingState.Shadow
        if let now {
            shadow = now.shadowTables == nil ? (shadowCreated ? .removed : .none) : .left
        } else {
            shadow = shadowCreated ? .unknown : .none
        }
        guard swapStarted else { return StagingState(data: .previous, shadow: shadow) }
        switch swapOutcome {
        case .notStarted, .unchanged:
            return StagingState(data: .previous, shadow: shadow)
        case let .swapped(problem):
            return StagingState(data: .new, shadow: shadow, detail: problem.map { "but \($0); the previous tables are in \(oldName)" })
        case let .unknown(why):
            // What discardShadow saw before it removed anything, else what is there now.
            guard let seen = observation ?? now else {
                return StagingState(data: .unknown, shadow: shadow,
                                    detail: "\(why); the server cannot be reached now: \(unreachable ?? "no answer")")
            }
            if !seen.temporaryTables.isEmpty {
                return StagingState(data: .partlyReplaced, shadow: shadow,
                                    detail: halfSwapped(seen))
            }
            if !settled {
                return StagingState(data: .unknown, shadow: shadow,
                                    detail: "\(why); the server was still running the swap \(Self.swapSettleSeconds) s later")
            }
            if let inShadow = seen.shadowTables, !tables.isEmpty, Set(tables).isSubset(of: inShadow) {
                return StagingState(data: .previous, shadow: shadow, detail: "\(why); the server did not run the swap")
            }
            if Set(tables).isSubset(of: seen.stagingTables) {
                return StagingState(data: .new, shadow: shadow, detail: "\(why); the server finished the swap")
            }
            return StagingState(data: .unknown, shadow: shadow,
                                detail: "\(why); staging holds \(seen.stagingTables.count) tables, the shadow "
                                    + "\(seen.shadowTables?.count ?? 0), \(oldName) \(seen.oldTables?.count ?? 0)")
        }
    }
}
