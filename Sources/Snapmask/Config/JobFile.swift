import Foundation

/// The database engines snapmask drives.
public enum Engine: String, Sendable, Codable, CaseIterable {
    case postgres, mysql, documentdb

    static func named(_ text: String) -> Engine? {
        switch text.lowercased() {
        case "postgres", "postgresql": return .postgres
        case "mysql", "mariadb": return .mysql
        case "documentdb", "mongodb", "mongo": return .documentdb
        default: return nil
        }
    }

    var ruleKind: RuleSet.Kind { self == .documentdb ? .collections : .tables }
}

/// One database of the job file: where it comes from, where it goes, and its rules.
public struct DatabaseJob: Sendable {
    public var name: String
    public var engine: Engine
    public var source: ConnectionString
    public var target: ConnectionString
    public var rules: RuleSet
    public var overrides: OverrideList
    public var location: SourceLocation
    /// For `source: { aws-snapshot: … }` or `{ aws-clone: … }`: the temporary cluster to make.
    /// `source` is then its URL with the host `{endpoint}` until the cluster exists.
    public var managedSource: ManagedSource?
    /// Whether `source` still waits for its temporary cluster (a managed source before
    /// `provisioned(source:)`): nothing may connect to it yet.
    public private(set) var sourcePending: Bool

    init(name: String, engine: Engine, source: ConnectionString, target: ConnectionString, rules: RuleSet,
         overrides: OverrideList, location: SourceLocation, managedSource: ManagedSource? = nil) {
        self.name = name
        self.engine = engine
        self.source = source
        self.target = target
        self.rules = rules
        self.overrides = overrides
        self.location = location
        self.managedSource = managedSource
        sourcePending = managedSource != nil
    }

    /// The same database read from its temporary cluster, now that it exists.
    public func provisioned(source url: ConnectionString) -> DatabaseJob {
        var job = self
        job.source = url
        job.sourcePending = false
        return job
    }
}

/// Where `run` restores from when its command line does not say.
public enum RestoreOrigin: String, Sendable {
    /// Straight from the source databases.
    case source
    /// From the latest sanitized snapshot in the store.
    case snapshot
}

/// The job file: the masking key, the snapshot store and the databases.
public struct JobFile: Sendable {
    public var path: String
    /// The masking key, or why there is none. Only commands that mask need it (a restore from the
    /// source, `snapshot create`, `check`, `preview`): a restore from a sanitized snapshot masks
    /// nothing, so staging can run without the key (it stays on the production side).
    var maskingKeyResult: Result<MaskingKey, ConfigError>
    public var store: String?
    /// The key sealing snapshot parts (`archive_key:`, usually `${SNAPMASK_ARCHIVE_KEY}`).
    public var archiveKey: SecretText?
    public var restoreFrom: RestoreOrigin
    public var databases: [DatabaseJob]

    /// The masking key; fails, saying which commands need it and how to set it, when the job file
    /// has no `masking_key:` or its `${VAR}` is not set.
    public var maskingKey: MaskingKey {
        get throws { try maskingKeyResult.get() }
    }

    /// Whether the job file gives a masking key (a usable one).
    public var hasMaskingKey: Bool {
        if case .success = maskingKeyResult { return true }
        return false
    }

    public func database(named name: String) throws -> DatabaseJob {
        guard let database = databases.first(where: { $0.name == name }) else {
            throw ConfigError("the job file \(path) has no database '\(name)'; it has: "
                                  + databases.map(\.name).joined(separator: ", "))
        }
        return database
    }

    /// Loads the job file with its rule and override files. Relative paths are relative to the
    /// job file; `${VAR}` comes from `environment`. Every problem found is reported.
    /// `skippingRules`: the rule files are not read and count as empty (for `scan`, which writes a
    /// whole new one: the file may not exist yet, or be the broken draft it replaces).
    public static func load(path: String, environment: [String: String], skippingRules: Bool = false) throws -> JobFile {
        let interpolator = Interpolator(environment: environment)
        let root: YAMLNode
        do {
            root = try YAMLNode.load(path: path, displayPath: path, interpolator: interpolator)
        } catch { throw error }
        let directory = FilePaths.directory(of: path)
        var errors = ConfigErrors()

        let fields: YAMLNode.Fields
        do {
            fields = try root.fields("the job file", allowed: ["masking_key", "store", "archive_key", "restore_from", "databases"])
        } catch { throw error }

        var maskingKey: Result<MaskingKey, ConfigError>?
        errors.collect { maskingKey = try loadMaskingKey(fields["masking_key"], path: path, environment: environment) }
        var store: String?
        errors.collect {
            if let node = fields["store"] {
                let text = try node.string("a store URL (file:///path or s3://bucket/prefix)")
                guard text.hasPrefix("file://") || text.hasPrefix("s3://") || text.hasPrefix("/") else {
                    throw node.error("store must be file:///path, /path or s3://bucket/prefix")
                }
                store = text
            }
        }
        var archiveKey: SecretText?
        errors.collect {
            if let node = fields["archive_key"] {
                archiveKey = SecretText(try node.string("the archive key, e.g. ${SNAPMASK_ARCHIVE_KEY}"))
            } else if let value = environment["SNAPMASK_ARCHIVE_KEY"], !value.isEmpty {
                archiveKey = SecretText(value)
            }
        }
        var restoreFrom = RestoreOrigin.source
        errors.collect {
            if let node = fields["restore_from"] {
                guard let origin = RestoreOrigin(rawValue: try node.string("source or snapshot")) else {
                    throw node.error("restore_from must be 'source' (straight from the databases) or 'snapshot' (the latest sanitized snapshot)")
                }
                restoreFrom = origin
            }
        }
        var databases: [DatabaseJob] = []
        do {
            let databasesNode = try fields.required("databases")
            let entries = try databasesNode.entries("databases: (name: { engine, source, target, rules })")
            let sourceVariables = Self.sourceVariables(entries)
            for entry in entries {
                do {
                    databases.append(try loadDatabase(entry, directory: directory, environment: environment,
                                                      skippingRules: skippingRules,
                                                      sourceVariables: sourceVariables))
                } catch { errors.append(error) }
            }
            if databases.isEmpty && errors.errors.isEmpty {
                throw databasesNode.error("databases: names no database; add one (name: { engine, source, target, rules })")
            }
        } catch { errors.append(error) }

        errors.append(crossCheck(databases))
        try errors.throwIfAny()
        return JobFile(path: path, maskingKeyResult: maskingKey!, store: store, archiveKey: archiveKey, restoreFrom: restoreFrom,
                       databases: databases)
    }

    /// The masking key is needed lazily: a missing `masking_key:`, or one whose `${VAR}` is not set
    /// (the staging side, which restores from snapshots), loads, and fails only where something is
    /// masked. A key that is given but unusable (too short, a malformed reference) is a mistake
    /// worth stopping for at once.
    private static func loadMaskingKey(_ node: YAMLNode?, path: String,
                                       environment: [String: String]) throws -> Result<MaskingKey, ConfigError> {
        let needed = "a restore from the source, `snapshot create`, `check` and `preview` mask rows and need it; "
            + "a restore from a sanitized snapshot does not"
        guard let node else {
            return .failure(ConfigError("the job file \(path) has no masking_key: (the HMAC key of deterministic masking); "
                                            + needed + ". Add masking_key: ${SNAPMASK_MASKING_KEY} and set that variable "
                                            + "where snapshots are made"))
        }
        let unset = unsetVariables(in: node.rawScalar ?? "", environment: environment)
        if !unset.isEmpty {
            return .failure(ConfigError("the masking key is not set: masking_key: refers to \(unset.joined(separator: ", ")), "
                                            + "which \(unset.count == 1 ? "is" : "are") not set in the environment; " + needed
                                            + ". Export \(unset[0]) (e.g. from `openssl rand -base64 32`, the same everywhere "
                                            + "snapshots are made)", at: node.location))
        }
        let text = try node.string("the masking key, e.g. ${SNAPMASK_MASKING_KEY}")
        if text.isEmpty {
            return .failure(ConfigError("masking_key: is empty; " + needed + ". Set it where snapshots are made", at: node.location))
        }
        return .success(try MaskingKey(text, at: node.location))
    }

    /// The `${NAME}` references of a scalar (without a `:-` default) whose variable is unset or empty.
    private static func unsetVariables(in text: String, environment: [String: String]) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            let body = rest[start.upperBound..<end]
            if !body.contains(":-"), !body.isEmpty, (environment[String(body)] ?? "").isEmpty { names.append(String(body)) }
            rest = rest[rest.index(after: end)...]
        }
        return names
    }

    /// The variables every database's `source:` uses (name → database), which override files may
    /// not expand.
    private static func sourceVariables(_ entries: [YAMLNode.Entry]) -> [String: String] {
        var variables: [String: String] = [:]
        for entry in entries {
            guard let source = (try? entry.value.fields("", allowed: databaseKeys))?["source"] else { continue }
            // A managed source's credentials are in its url:.
            let urlNode = source.isMapping ? (try? source.fields("", allowed: ManagedSource.keys))?["url"] : source
            guard let raw = urlNode?.rawScalar else { continue }
            for name in Interpolator.variables(in: raw) where variables[name] == nil { variables[name] = entry.key }
        }
        return variables
    }

    private static func loadDatabase(_ entry: YAMLNode.Entry, directory: String, environment: [String: String],
                                     skippingRules: Bool = false, sourceVariables: [String: String]) throws -> DatabaseJob {
        var errors = ConfigErrors()
        let fields: YAMLNode.Fields
        do {
            fields = try entry.value.fields("database '\(entry.key)'", allowed: databaseKeys)
        } catch { throw error }

        var engine: Engine?
        var source: ConnectionString?
        var managedSource: ManagedSource?
        var target: ConnectionString?
        var rules: RuleSet?
        var overrides = OverrideList()
        errors.collect {
            let node = try fields.required("engine")
            let text = try node.string("an engine (postgres, mysql or documentdb)")
            guard let value = Engine.named(text) else {
                throw node.error("unknown engine '\(text)'; use postgres, mysql or documentdb")
            }
            engine = value
        }
        var authentication: [String: DatabaseAuthentication] = [:]
        if let node = fields["auth"] {
            errors.collect { authentication = try loadAuthentication(node, database: entry.key) }
        }
        for (key, assign) in [("source", { (url: ConnectionString) in source = url }),
                              ("target", { (url: ConnectionString) in target = url })] {
            errors.collect {
                let node = try fields.required(key)
                if key == "source", node.isMapping {
                    let managed = try ManagedSource.load(node, database: entry.key, engine: engine,
                                                         authentication: authentication[key], authLocation: fields["auth"]?.location)
                    managedSource = managed
                    assign(managed.url)
                    return
                }
                if key == "source", let text = node.rawScalar, ManagedSource.looksManaged(text) {
                    throw node.error("a source made from a snapshot or a clone is written as a mapping, e.g. "
                                         + ManagedSource.example)
                }
                var url = try ConnectionString(try node.string("a database URL"), at: node.location)
                if let chosen = authentication[key] { url = try url.with(chosen, at: fields["auth"]?.location ?? node.location) }
                assign(url)
            }
        }
        errors.collect {
            let node = try fields.required("rules")
            let relative = try node.string("the path of a rule file")
            let full = FilePaths.resolve(relative, against: directory)
            if skippingRules, let engine {
                rules = RuleSet(path: full, kind: engine.ruleKind, tables: [])
            } else {
                rules = try RuleSet.load(path: full, displayPath: full, environment: environment)
            }
        }
        if let node = fields["overrides"] {
            errors.collect {
                let relative = try node.string("the path of an override file")
                let full = FilePaths.resolve(relative, against: directory)
                overrides = try OverrideList.load(path: full, displayPath: full, environment: environment,
                                                  sourceVariables: sourceVariables) {
                    try String(contentsOfFile: $0, encoding: .utf8)
                }
            }
        }
        try errors.throwIfAny()
        let job = DatabaseJob(name: entry.key, engine: engine!, source: source!, target: target!, rules: rules!,
                              overrides: overrides, location: entry.keyLocation, managedSource: managedSource)
        try validate(job).throwIfAny()
        return job
    }

    static let databaseKeys = ["engine", "source", "target", "rules", "overrides", "auth"]

    /// `auth: iam` (source and target log in with IAM tokens), `auth: password` (the default), or
    /// per side: `auth: { source: iam, target: password }` (production and staging are different
    /// servers, often set up differently).
    private static func loadAuthentication(_ node: YAMLNode, database: String) throws -> [String: DatabaseAuthentication] {
        let expected = "iam (an IAM token per connection) or password (the URL's)"
        func value(_ node: YAMLNode) throws -> DatabaseAuthentication {
            let text = try node.string(expected)
            guard let chosen = DatabaseAuthentication(rawValue: text.lowercased()) else {
                throw node.error("auth: must be \(expected), not '\(text)'")
            }
            return chosen
        }
        if node.isMapping {
            let sides = try node.fields("auth: of database '\(database)'", allowed: ["source", "target"])
            var result: [String: DatabaseAuthentication] = [:]
            for side in ["source", "target"] { if let given = sides[side] { result[side] = try value(given) } }
            return result
        }
        let both = try value(node)
        return ["source": both, "target": both]
    }

    /// Checks that need the whole database entry: rule kind and override steps fit the engine.
    private static func validate(_ job: DatabaseJob) -> ConfigErrors {
        var errors = ConfigErrors()
        let expected = job.engine.ruleKind
        if job.rules.kind != expected {
            errors.append(ConfigError("database '\(job.name)' is \(job.engine.rawValue), so its rule file \(job.rules.path) "
                                          + "must list \(expected.rawValue):, not \(job.rules.kind.rawValue):", at: job.location))
        }
        for step in job.overrides.steps {
            switch step {
            case let .update(update) where update.isCollection != (job.engine == .documentdb):
                errors.append(ConfigError(job.engine == .documentdb
                    ? "database '\(job.name)' is documentdb: override steps name a collection: with filter:, not a table:"
                    : "database '\(job.name)' is \(job.engine.rawValue): override steps name a table: with where:, not a collection:",
                    at: update.location))
            case let .sql(sql) where job.engine == .documentdb:
                errors.append(ConfigError("database '\(job.name)' is documentdb: SQL override files do not apply", at: sql.location))
            default: break
            }
        }
        let scheme = job.source.scheme, targetScheme = job.target.scheme
        let schemes: [Engine: [String]] = [.postgres: ["postgres", "postgresql"], .mysql: ["mysql", "mariadb"],
                                           .documentdb: ["mongodb", "mongodb+srv"]]
        for (role, value) in [("source", scheme), ("target", targetScheme)] where !(schemes[job.engine] ?? []).contains(value) {
            errors.append(ConfigError("the \(role) of database '\(job.name)' is a \(value):// URL, but its engine is "
                                          + "\(job.engine.rawValue); expected \((schemes[job.engine] ?? []).map { "\($0)://" }.joined(separator: " or "))",
                                      at: job.location))
        }
        return errors
    }

    /// No target may be a source: writing into production is the one mistake snapmask must never make.
    private static func crossCheck(_ databases: [DatabaseJob]) -> ConfigErrors {
        var errors = ConfigErrors()
        let sources = databases.map { ($0.name, DatabaseIdentity($0.source)) }
        for job in databases {
            let target = DatabaseIdentity(job.target)
            for (name, source) in sources where source == target {
                errors.append(ConfigError("the target of database '\(job.name)' (\(job.target)) is the source of '\(name)'; "
                                              + "snapmask never writes into a source: point target at the staging server",
                                          at: job.location))
            }
        }
        return errors
    }
}

/// Server and database of a URL, for "is this the same database?" comparisons.
public struct DatabaseIdentity: Hashable, Sendable {
    public var host: String
    public var port: Int?
    public var database: String?

    public init(_ url: ConnectionString) {
        let primary = url.primaryHost
        var host = primary.host.lowercased()
        if host == "localhost" || host == "::1" || host.isEmpty { host = "127.0.0.1" }
        self.host = host
        self.port = primary.port ?? Self.defaultPorts[url.scheme]
        self.database = url.database
    }

    private static let defaultPorts = ["postgres": 5432, "postgresql": 5432, "mysql": 3306, "mariadb": 3306,
                                       "mongodb": 27017]
}
