import Snapmask
import SnapmaskDocumentDB
import SnapmaskMySQL
import SnapmaskPostgres

/// Picks the driver for a database of the job file: the only place that knows them all.
enum Engines {
    /// `sampling`: how many documents per collection DocumentDB's check reads to find field paths.
    static func engine(for job: DatabaseJob, sampling: SchemaSampling = SchemaSampling()) throws -> any DatabaseEngine {
        // A source whose temporary cluster is not made yet: the target works, the source says why not.
        if job.sourcePending { return PendingSourceEngine(base: try driver(for: job, sampling: sampling), database: job) }
        return try driver(for: job, sampling: sampling)
    }

    private static func driver(for job: DatabaseJob, sampling: SchemaSampling) throws -> any DatabaseEngine {
        switch job.engine {
        case .postgres: return PostgresEngine(job: job)
        case .mysql: return MySQLEngine(job: job)
        case .documentdb: return DocumentDBEngine(job: job, sampling: sampling)
        }
    }
}
