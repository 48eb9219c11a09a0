import Foundation

/// Makes the temporary source of a database whose `source:` is managed (an AWS snapshot or
/// clone) and removes it again. The core decides when; the program installs the implementation
/// that knows the cloud, so the core stays free of it.
public protocol SourceProvisioner: Sendable {
    /// Makes the temporary cluster, waits until it answers (reporting progress through
    /// `observer`), and returns the database with its source pointing at it. A failure removes
    /// whatever was made before it is thrown, as a `SourceProvisioningFailed` when something was.
    func provision(_ database: DatabaseJob, observer: any RestoreObserver) throws -> ProvisionedSource

    /// Deletes temporary clusters that earlier runs left behind (killed before they could) and
    /// whose expiry has passed, in the regions of `databases`; never one that carries no mark of
    /// snapmask. Returns what was deleted (or, with `dryRun`, would be).
    func removeLeftovers(of databases: [DatabaseJob], dryRun: Bool, observer: any RestoreObserver) throws -> [LeftoverSource]
}

/// A temporary source that exists: where to read, and how to get rid of it.
public struct ProvisionedSource: Sendable {
    /// The database with `source` at the temporary cluster.
    public var database: DatabaseJob
    /// Deletes the temporary cluster (never throws: a failure is in the usage it returns, and the
    /// cluster's tags let `snapmask cleanup` find it).
    public var release: @Sendable () -> TemporarySourceUsage

    public init(database: DatabaseJob, release: @escaping @Sendable () -> TemporarySourceUsage) {
        self.database = database
        self.release = release
    }
}

/// Making the temporary source failed after part of it existed; it was removed again (or its
/// removal failed, which `usage` says).
public struct SourceProvisioningFailed: Error, Sendable, CustomStringConvertible {
    public var underlying: String
    public var usage: TemporarySourceUsage

    public init(underlying: String, usage: TemporarySourceUsage) {
        self.underlying = underlying
        self.usage = usage
    }

    public var description: String {
        var text = underlying
        if let error = usage.deleteError {
            text += "; and the temporary cluster \(usage.cluster) could not be deleted: \(error) (`snapmask cleanup` "
                + "deletes it once it expires, or delete it by hand)"
        } else if usage.deleteRequestedAt != nil {
            text += " (the temporary cluster \(usage.cluster) was deleted again)"
        }
        return text
    }
}

/// The lifetime of one temporary cluster and what it cost, for the report and the metrics.
public struct TemporarySourceUsage: Codable, Sendable, Equatable {
    /// `aws-snapshot` or `aws-clone`.
    public var kind: String
    /// What it was made from: a snapshot identifier, or the cloned cluster.
    public var origin: String
    public var cluster: String
    public var instance: String?
    public var instanceClass: String
    public var engine: String
    public var region: String
    public var createdAt: Date
    /// When it answered (nil when it never did).
    public var availableAt: Date?
    /// When its deletion was asked for (and accepted).
    public var deleteRequestedAt: Date?
    /// Why deleting it failed (it then stays until `snapmask cleanup` or a person deletes it).
    public var deleteError: String?

    public init(kind: String, origin: String, cluster: String, instance: String?, instanceClass: String, engine: String,
                region: String, createdAt: Date) {
        self.kind = kind
        self.origin = origin
        self.cluster = cluster
        self.instance = instance
        self.instanceClass = instanceClass
        self.engine = engine
        self.region = region
        self.createdAt = createdAt
    }

    /// From the create call to the delete call (or now, while it lives): what is billed.
    public var seconds: Double { (deleteRequestedAt ?? Date()).timeIntervalSince(createdAt) }
    /// From the create call until it answered: the wait before a row was read.
    public var secondsUntilAvailable: Double? { availableAt.map { $0.timeIntervalSince(createdAt) } }
    /// Instance minutes of `instanceClass`: price per hour × this / 60 is the instance's cost.
    public var instanceMinutes: Double { instance == nil ? 0 : seconds / 60 }

    private enum CodingKeys: String, CodingKey {
        case kind, origin, cluster, instance, instanceClass, engine, region, createdAt, availableAt, deleteRequestedAt,
             deleteError, seconds, secondsUntilAvailable, instanceMinutes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(origin, forKey: .origin)
        try container.encode(cluster, forKey: .cluster)
        try container.encodeIfPresent(instance, forKey: .instance)
        try container.encode(instanceClass, forKey: .instanceClass)
        try container.encode(engine, forKey: .engine)
        try container.encode(region, forKey: .region)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(availableAt, forKey: .availableAt)
        try container.encodeIfPresent(deleteRequestedAt, forKey: .deleteRequestedAt)
        try container.encodeIfPresent(deleteError, forKey: .deleteError)
        // Derived figures are written too, so a dashboard needs no date arithmetic.
        try container.encode((seconds * 10).rounded() / 10, forKey: .seconds)
        try container.encodeIfPresent(secondsUntilAvailable.map { ($0 * 10).rounded() / 10 }, forKey: .secondsUntilAvailable)
        try container.encode((instanceMinutes * 100).rounded() / 100, forKey: .instanceMinutes)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(String.self, forKey: .kind)
        origin = try container.decode(String.self, forKey: .origin)
        cluster = try container.decode(String.self, forKey: .cluster)
        instance = try container.decodeIfPresent(String.self, forKey: .instance)
        instanceClass = try container.decode(String.self, forKey: .instanceClass)
        engine = try container.decode(String.self, forKey: .engine)
        region = try container.decode(String.self, forKey: .region)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        availableAt = try container.decodeIfPresent(Date.self, forKey: .availableAt)
        deleteRequestedAt = try container.decodeIfPresent(Date.self, forKey: .deleteRequestedAt)
        deleteError = try container.decodeIfPresent(String.self, forKey: .deleteError)
    }

    /// One line for the summary.
    public var summary: String {
        var text = "temporary cluster \(cluster) (\(instanceClass), \(kind) from \(origin)): "
            + String(format: "%.1f", seconds / 60) + " min"
        if let wait = secondsUntilAvailable { text += ", of which " + String(format: "%.1f", wait / 60) + " min until available" }
        if let deleteError { text += "; NOT deleted: \(deleteError)" } else if deleteRequestedAt != nil { text += "; deleted" }
        return text
    }
}

/// A temporary cluster an earlier run left behind.
public struct LeftoverSource: Sendable, Equatable {
    public var cluster: String
    public var region: String
    public var runID: String
    public var expires: Date
    public var instances: [String]
    /// nil when deleted (or listed only); else why it could not be.
    public var error: String?

    public init(cluster: String, region: String, runID: String, expires: Date, instances: [String], error: String? = nil) {
        self.cluster = cluster
        self.region = region
        self.runID = runID
        self.expires = expires
        self.instances = instances
        self.error = error
    }
}

/// A managed source reached a command that needs its data without making the temporary cluster
/// (check, preview, scan, a dry run): made for `run`, `restore` and `snapshot create` only, since it takes a quarter
/// of an hour and costs money.
public struct SourceNotProvisioned: Error, Sendable, CustomStringConvertible {
    public var database: String
    public var source: String
    public var action: String

    public init(database: String, source: String, action: String) {
        self.database = database
        self.source = source
        self.action = action
    }

    public var description: String {
        "database '\(database)' reads a temporary cluster made from \(source), which only `snapmask run`, "
            + "`snapmask restore` and `snapmask snapshot create` make (it takes 10–20 minutes and is billed), so \(action) cannot read it; use "
            + "`check --offline`, or run this command with a copy of the job file whose source: is a live reader"
    }
}
