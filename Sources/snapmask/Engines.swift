import Snapmask
import SnapmaskPostgres

/// Picks the driver for a database of the job file: the only place that knows them all.
enum Engines {
    static func engine(for job: DatabaseJob) throws -> any DatabaseEngine {
        switch job.engine {
        case .postgres: return PostgresEngine(job: job)
        case .mysql, .documentdb:
            throw ConfigError("engine \(job.engine.rawValue) (database '\(job.name)') is not available in this build yet",
                              at: job.location)
        }
    }
}
