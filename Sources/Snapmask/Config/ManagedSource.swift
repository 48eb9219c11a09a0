import Foundation

/// A `source:` that is not a live server but a temporary cluster snapmask makes for the run, from
/// a managed snapshot (`aws-snapshot:`) or as a copy-on-write clone of a cluster (`aws-clone:`),
/// and deletes afterwards. The core only knows what the job file says; the program installs the
/// provisioner that knows the cloud (see `SourceProvisioner`).
///
/// ```yaml
/// source:
///   aws-snapshot: latest-automated          # or latest-manual, or a snapshot identifier / ARN
///   cluster: prod-pg                        # whose snapshots (needed with latest-*)
///   url: "postgres://reader:${PW}@{endpoint}/app?sslmode=verify-full"
///   instance_class: db.r6g.large
///   subnet_group: staging-db
///   security_groups: [sg-0123456789abcdef0]
/// ```
public struct ManagedSource: Sendable, Equatable {
    public enum Origin: Sendable, Equatable {
        /// A cluster snapshot: by identifier (or ARN), or the newest of `cluster`.
        case snapshot(SnapshotChoice, cluster: String?)
        /// A copy-on-write clone of `cluster` at its latest restorable time.
        case clone(cluster: String)
    }

    public enum SnapshotChoice: Sendable, Equatable {
        case named(String)
        case latestAutomated
        case latestManual
    }

    public var origin: Origin
    /// The URL to read with, its host written `{endpoint}` (the temporary cluster's `host:port`).
    public var url: ConnectionString
    public var instanceClass: String
    public var subnetGroup: String?
    public var securityGroups: [String]
    /// The cluster parameter group (the default group of the engine otherwise).
    public var parameterGroup: String?
    /// The KMS key the temporary cluster is encrypted with (the snapshot's otherwise).
    public var kmsKey: String?
    /// The region of the snapshot or cluster (AWS_REGION otherwise).
    public var region: String?
    /// How long after its creation a temporary cluster counts as left behind: `snapmask cleanup`
    /// (and the next `run`) delete it after that.
    public var expiresAfter: TimeInterval
    public var location: SourceLocation

    /// The placeholder of the URL replaced by the temporary cluster's endpoint.
    public static let endpointPlaceholder = "{endpoint}"
    public static let defaultExpiry: TimeInterval = 24 * 3600

    /// `aws-snapshot` or `aws-clone`, as the job file says it.
    public var kind: String {
        if case .clone = origin { return "aws-clone" }
        return "aws-snapshot"
    }

    /// What the temporary cluster is made from, for messages and reports: `snapshot latest-automated of prod-pg`.
    public var originDescription: String {
        switch origin {
        case let .snapshot(.named(name), cluster):
            return "snapshot \(name)" + (cluster.map { " of \($0)" } ?? "")
        case let .snapshot(.latestAutomated, cluster):
            return "the latest automated snapshot of \(cluster ?? "?")"
        case let .snapshot(.latestManual, cluster):
            return "the latest manual snapshot of \(cluster ?? "?")"
        case let .clone(cluster):
            return "a copy-on-write clone of \(cluster)"
        }
    }

    /// The source URL with `{endpoint}` replaced by the temporary cluster's `host:port`.
    public func url(endpoint: String) throws -> ConnectionString {
        try ConnectionString(url.raw.replacingOccurrences(of: Self.endpointPlaceholder, with: endpoint), at: location)
    }
}

extension ManagedSource {
    static let keys = ["aws-snapshot", "aws-clone", "cluster", "url", "instance_class", "subnet_group", "security_groups",
                       "parameter_group", "kms_key", "region", "expires_after"]

    static let example = "source: { aws-snapshot: latest-automated, cluster: prod-pg, "
        + "url: \"postgres://reader@{endpoint}/app\", instance_class: db.r6g.large }"

    /// Whether a scalar `source:` was meant as a managed source (`source: aws-snapshot:x`).
    static func looksManaged(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.hasPrefix("aws-snapshot") || lowered.hasPrefix("aws-clone")
    }

    /// Reads the mapping form of `source:`. `authentication` is the job file's `auth:` for the source.
    static func load(_ node: YAMLNode, database: String, engine: Engine?,
                     authentication: DatabaseAuthentication?, authLocation: SourceLocation?) throws -> ManagedSource {
        let what = "the source of database '\(database)'"
        let fields = try node.fields(what, allowed: keys)
        var errors = ConfigErrors()

        var origin: Origin?
        let snapshotNode = fields["aws-snapshot"], cloneNode = fields["aws-clone"]
        let clusterNode = fields["cluster"]
        var cluster: String?
        errors.collect { cluster = try clusterNode.map { try identifier($0, "the cluster whose snapshots are used") } }
        switch (snapshotNode, cloneNode) {
        case (nil, nil):
            errors.append(node.error("\(what) is a mapping, so it needs aws-snapshot: (a snapshot identifier, latest-automated "
                                         + "or latest-manual) or aws-clone: (an Aurora cluster); e.g. \(example)"))
        case (.some, .some):
            errors.append(node.error("\(what) has both aws-snapshot: and aws-clone:; keep one"))
        case let (snapshot?, nil):
            errors.collect {
                let text = try snapshot.string("a snapshot identifier, latest-automated or latest-manual")
                let choice: SnapshotChoice
                switch text.lowercased() {
                case "latest-automated": choice = .latestAutomated
                case "latest-manual": choice = .latestManual
                case "latest":
                    throw snapshot.error("aws-snapshot: latest is ambiguous: write latest-automated (the daily backups) or "
                                             + "latest-manual (snapshots taken by hand or by a backup plan)")
                default: choice = .named(try identifier(snapshot, "a snapshot identifier", allowARN: true))
                }
                if choice != .named(text), clusterNode == nil {
                    throw snapshot.error("aws-snapshot: \(text) needs cluster: (the cluster whose snapshots to look at), "
                                             + "e.g. cluster: prod-pg")
                }
                origin = .snapshot(choice, cluster: cluster)
            }
        case let (nil, clone?):
            errors.collect {
                let name = try identifier(clone, "the Aurora cluster to clone")
                if let clusterNode {
                    throw clusterNode.error("aws-clone: names the cluster to clone itself; remove cluster:")
                }
                if engine == .documentdb {
                    throw clone.error("aws-clone: makes an Aurora copy-on-write clone, which DocumentDB does not offer; "
                                          + "use aws-snapshot: (latest-automated of the cluster) instead")
                }
                origin = .clone(cluster: name)
            }
        }

        var url: ConnectionString?
        errors.collect {
            guard let urlNode = fields["url"] else {
                throw node.error("\(what) needs url: (how to log in to the temporary cluster, its host written "
                                     + "\(endpointPlaceholder)), e.g. url: \"postgres://reader:${PROD_PG_PASSWORD}@{endpoint}/app\"")
            }
            let text = try urlNode.string("a database URL with \(endpointPlaceholder) as its host")
            var parsed = try ConnectionString(text, at: urlNode.location)
            guard parsed.hosts == endpointPlaceholder else {
                throw urlNode.error("url: must have \(endpointPlaceholder) as its host (snapmask puts the temporary "
                                        + "cluster's endpoint and port there), e.g. \(parsed.scheme)://user@{endpoint}/"
                                        + "\(parsed.database ?? "app"); it has '\(parsed.hosts)'")
            }
            if let authentication { parsed = try parsed.with(authentication, at: authLocation ?? urlNode.location) }
            url = parsed
        }

        var instanceClass: String?
        errors.collect {
            guard let classNode = fields["instance_class"] else {
                throw node.error("\(what) needs instance_class: (the temporary instance's size, e.g. db.r6g.large: it "
                                     + "decides both the restore's speed and its cost)")
            }
            let text = try classNode.string("an instance class such as db.r6g.large")
            guard text.hasPrefix("db."), text.split(separator: ".").count == 3 else {
                throw classNode.error("instance_class: '\(text)' is not an RDS instance class (such as db.r6g.large)")
            }
            instanceClass = text
        }
        var subnetGroup: String?, parameterGroup: String?, kmsKey: String?, region: String?
        errors.collect { subnetGroup = try fields["subnet_group"].map { try $0.string("a DB subnet group name") } }
        errors.collect { parameterGroup = try fields["parameter_group"].map { try $0.string("a DB cluster parameter group name") } }
        errors.collect { kmsKey = try fields["kms_key"].map { try $0.string("a KMS key id, alias or ARN") } }
        errors.collect {
            region = try fields["region"].map { regionNode in
                let text = try regionNode.string("an AWS region such as us-east-1")
                guard text.contains("-"), text.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
                    throw regionNode.error("region: '\(text)' is not an AWS region (such as us-east-1)")
                }
                return text
            }
        }
        var securityGroups: [String] = []
        errors.collect {
            guard let groups = fields["security_groups"] else { return }
            let items = groups.isSequence ? try groups.sequence("security group ids") : [groups]
            for item in items {
                let text = try item.string("a VPC security group id (sg-...)")
                guard text.hasPrefix("sg-") else {
                    throw item.error("security_groups: '\(text)' is not a VPC security group id (sg-0123456789abcdef0)")
                }
                securityGroups.append(text)
            }
        }
        var expiresAfter = defaultExpiry
        errors.collect {
            guard let expiry = fields["expires_after"] else { return }
            let text = try expiry.string("a duration such as 12h")
            guard let seconds = duration(text), seconds >= 3600, seconds <= 7 * 86400 else {
                throw expiry.error("expires_after: '\(text)' must be a duration between 1h and 7d (such as 90m, 12h, 2d): "
                                       + "longer than the longest run, since cleanup deletes a cluster after it")
            }
            expiresAfter = seconds
        }
        try errors.throwIfAny()
        return ManagedSource(origin: origin!, url: url!, instanceClass: instanceClass!, subnetGroup: subnetGroup,
                             securityGroups: securityGroups, parameterGroup: parameterGroup, kmsKey: kmsKey, region: region,
                             expiresAfter: expiresAfter, location: node.location)
    }

    /// An RDS identifier: letters, digits and hyphens (and an ARN where one is accepted).
    private static func identifier(_ node: YAMLNode, _ what: String, allowARN: Bool = false) throws -> String {
        let text = try node.string(what)
        if allowARN, text.hasPrefix("arn:") { return text }
        guard let first = text.first, first.isLetter || (allowARN && text.hasPrefix("rds:")),
              text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == ":" }) else {
            throw node.error("'\(text)' is not \(what): RDS identifiers are letters, digits and hyphens, starting with a letter")
        }
        return text
    }

    /// `90m`, `12h`, `2d`, `3600s` in seconds.
    static func duration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let number = Double(text.dropLast()), number > 0 else { return nil }
        switch unit {
        case "s": return number
        case "m": return number * 60
        case "h": return number * 3600
        case "d": return number * 86400
        default: return nil
        }
    }
}
