import Foundation

/// The weekly job over the databases of a job file: the lock of every target first (another run
/// holding one stops everything at once, before anything is read), then each database restored
/// in order, a failure recorded and, with `continueOnError`, the others still restored. A signal
/// ends the run after the current database has cleaned up.
public struct WeeklyRun: Sendable {
    public var databases: [DatabaseJob]
    /// `the sources`, or `snapshot NAME`, for the report.
    public var origin: String
    public var continueOnError: Bool
    public var options: RestoreOptions
    /// Each database's rules, compiled before the run (a configuration error stops it earlier).
    public var rules: [String: CompiledRules]
    public var observer: any RestoreObserver
    public var makeEngine: @Sendable (DatabaseJob) throws -> any DatabaseEngine
    /// For a restore from snapshots: the one to read for a database (nil: from the source).
    public var snapshot: @Sendable (DatabaseJob) throws -> SnapshotInput?
    /// Makes the temporary clusters of managed sources (`aws-snapshot:`, `aws-clone:`) and
    /// removes them; nil when the program has none (a managed source then fails its database).
    public var provisioner: (any SourceProvisioner)?

    public init(databases: [DatabaseJob], origin: String, continueOnError: Bool, options: RestoreOptions,
                rules: [String: CompiledRules], observer: any RestoreObserver,
                makeEngine: @escaping @Sendable (DatabaseJob) throws -> any DatabaseEngine,
                snapshot: @escaping @Sendable (DatabaseJob) throws -> SnapshotInput?,
                provisioner: (any SourceProvisioner)? = nil) {
        self.provisioner = provisioner
        self.databases = databases
        self.origin = origin
        self.continueOnError = continueOnError
        self.options = options
        self.rules = rules
        self.observer = observer
        self.makeEngine = makeEngine
        self.snapshot = snapshot
    }

    /// Throws `TargetLocked` when another run holds a target; every other failure is in the report.
    public func run() throws -> RunReport {
        var result = RunReport(origin: origin)
        observer.runStarted(databases: databases.count, origin: origin)
        var targets: [String: any TargetSession] = [:]
        defer {
            for target in targets.values {
                target.unlock()
                target.close()
            }
        }
        for database in databases {
            let started = Date()
            do {
                let target = try makeEngine(database).openTarget()
                do {
                    try target.lock()
                } catch {
                    target.close()
                    throw error
                }
                targets[database.name] = target
            } catch let locked as TargetLocked {
                throw locked
            } catch {
                // A target that cannot even be reached fails its database; the others may still run.
                result.databases.append(.init(name: database.name, engine: database.engine.rawValue, succeeded: false,
                                              error: "\(error)", startedAt: started, finishedAt: Date(), restore: nil))
                observer.databaseFailed(database.name, error: error)
                if !continueOnError { break }
            }
        }
        removeLeftovers()
        for database in databases where targets[database.name] != nil {
            if (!continueOnError && !result.succeeded) || RunInterruption.shared.signal != nil { break }
            let started = Date()
            var temporarySource: TemporarySourceUsage?
            do {
                let input = try snapshot(database)
                var reading = database
                var provisioned: ProvisionedSource?
                // Deleted whatever happens below: a failure, a signal, a success.
                defer { if let provisioned { temporarySource = provisioned.release() } }
                if input == nil, database.sourcePending {
                    do {
                        provisioned = try provision(database)
                    } catch let failed as SourceProvisioningFailed {
                        temporarySource = failed.usage
                        throw failed
                    }
                    reading = provisioned!.database
                }
                let runner = RestoreRunner(database: reading, engine: try makeEngine(reading), rules: rules[database.name]!,
                                           options: options, observer: observer, snapshot: input)
                let restore = try runner.run(lockedTarget: targets[database.name])
                result.databases.append(.init(name: database.name, engine: database.engine.rawValue, succeeded: true,
                                              error: nil, startedAt: started, finishedAt: Date(), restore: restore))
                observer.databaseDone(database.name, rows: restore.rowsWritten)
            } catch {
                result.databases.append(.init(name: database.name, engine: database.engine.rawValue, succeeded: false,
                                              error: "\(error)", startedAt: started, finishedAt: Date(),
                                              restore: (error as? RestoreFailed)?.report))
                observer.databaseFailed(database.name, error: error)
            }
            if let temporarySource {
                result.databases[result.databases.count - 1].temporarySource = temporarySource
                observer.phase(database.name, temporarySource.summary)
            }
        }
        result.finishedAt = Date()
        return result
    }

    private func provision(_ database: DatabaseJob) throws -> ProvisionedSource {
        guard let provisioner else {
            throw ConfigError("database '\(database.name)' reads \(database.managedSource?.originDescription ?? "a snapshot"), "
                                  + "but this program cannot make temporary clusters", at: database.managedSource?.location)
        }
        return try provisioner.provision(database, observer: observer)
    }

    /// A run killed before it deleted its temporary cluster left it running (and billed): the
    /// next run deletes it once expired, before it makes its own. Failing to is not the run's
    /// failure; it is said, and `snapmask cleanup` can be run by hand.
    private func removeLeftovers() {
        let managed = databases.filter(\.sourcePending)
        guard let provisioner, !managed.isEmpty else { return }
        do {
            for leftover in try provisioner.removeLeftovers(of: managed, dryRun: false, observer: observer) {
                let outcome = leftover.error.map { "could not be deleted: \($0)" } ?? "deleted"
                observer.phase(managed[0].name, "temporary cluster \(leftover.cluster) (\(leftover.region)) left behind by "
                                     + "run \(leftover.runID), expired \(ISO8601DateFormatter().string(from: leftover.expires)): "
                                     + outcome)
            }
        } catch {
            observer.warning(managed[0].name, "could not look for temporary clusters left behind by earlier runs: \(error); "
                                 + "run `snapmask cleanup` to see them")
        }
    }
}
