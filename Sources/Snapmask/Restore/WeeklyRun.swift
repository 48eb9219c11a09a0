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

    public init(databases: [DatabaseJob], origin: String, continueOnError: Bool, options: RestoreOptions,
                rules: [String: CompiledRules], observer: any RestoreObserver,
                makeEngine: @escaping @Sendable (DatabaseJob) throws -> any DatabaseEngine,
                snapshot: @escaping @Sendable (DatabaseJob) throws -> SnapshotInput?) {
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
        for database in databases where targets[database.name] != nil {
            if (!continueOnError && !result.succeeded) || RunInterruption.shared.signal != nil { break }
            let started = Date()
            do {
                let runner = RestoreRunner(database: database, engine: try makeEngine(database), rules: rules[database.name]!,
                                           options: options, observer: observer, snapshot: try snapshot(database))
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
        }
        result.finishedAt = Date()
        return result
    }
}
