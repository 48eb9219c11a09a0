import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The run's outcome in the Prometheus text exposition format (version 0.0.4), for the
/// node_exporter textfile collector (`--metrics-file`) or a Pushgateway (`--pushgateway`).
///
/// A handful of gauges written once per run needs no metrics library: the format is a few
/// lines of text. `snapmask_last_success_timestamp_seconds` and `snapmask_failures_total` of
/// a database that failed this time are carried over from the previous metrics file, so an
/// alert on "no success for 8 days" keeps working through failures.
public struct PrometheusMetrics: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var database: String
        public var value: Double
        /// Labels besides `database` (the temporary cluster's `instance_class`).
        public var labels: [String: String] = [:]
    }

    static let help: [(name: String, type: String, text: String)] = [
        ("snapmask_last_success_timestamp_seconds", "gauge", "Unix time of the last successful restore of the database."),
        ("snapmask_last_run_timestamp_seconds", "gauge", "Unix time the last run of the database ended."),
        ("snapmask_last_run_success", "gauge", "1 if the last run of the database succeeded, 0 if it failed."),
        ("snapmask_run_duration_seconds", "gauge", "Duration of the last run of the database."),
        ("snapmask_rows_written", "gauge", "Rows written to staging by the last run of the database."),
        ("snapmask_leak_check_hits", "gauge", "Original values found in staging by the last run's leak check."),
        ("snapmask_failures_total", "counter", "Failed runs of the database."),
        ("snapmask_temporary_cluster_seconds", "gauge",
         "Lifetime of the last run's temporary cluster (aws-snapshot/aws-clone source), create to delete: instance class x time is its cost."),
        ("snapmask_temporary_cluster_wait_seconds", "gauge",
         "Time from creating the last run's temporary cluster until it was available."),
        ("snapmask_temporary_cluster_deleted", "gauge",
         "1 if the last run deleted its temporary cluster, 0 if it was left behind (snapmask cleanup deletes it once expired)."),
        ("snapmask_unruled_columns", "gauge", "Tables, columns and paths of the source without a rule (check)."),
        ("snapmask_check_problems", "gauge", "Differences between the source's schema and the rules (check)."),
        ("snapmask_kept_personal_columns", "gauge", "Kept columns and paths whose sampled values look personal (check)."),
        ("snapmask_last_check_success", "gauge", "1 if the last check found nothing that would stop a run, 0 if not."),
        ("snapmask_last_check_timestamp_seconds", "gauge", "Unix time of the last check of the database."),
    ]

    public var samples: [Sample] = []

    public init(report: RunReport, previous: String? = nil) {
        let carried = previous.map(Self.parse) ?? [:]
        for database in report.databases {
            let ended = database.finishedAt.timeIntervalSince1970
            func add(_ name: String, _ value: Double) { samples.append(Sample(name: name, database: database.name, value: value)) }
            let lastSuccess = database.succeeded ? ended : carried["snapmask_last_success_timestamp_seconds|\(database.name)"]
            if let lastSuccess { add("snapmask_last_success_timestamp_seconds", lastSuccess) }
            add("snapmask_last_run_timestamp_seconds", ended)
            add("snapmask_last_run_success", database.succeeded ? 1 : 0)
            add("snapmask_run_duration_seconds", database.seconds)
            add("snapmask_rows_written", Double(database.restore?.rowsWritten ?? 0))
            add("snapmask_leak_check_hits", Double(database.leaks))
            let failures = carried["snapmask_failures_total|\(database.name)"] ?? 0
            add("snapmask_failures_total", failures + (database.succeeded ? 0 : 1))
            if let temporary = database.temporarySource {
                let labels = ["instance_class": temporary.instanceClass]
                samples.append(Sample(name: "snapmask_temporary_cluster_seconds", database: database.name,
                                      value: temporary.seconds, labels: labels))
                if let wait = temporary.secondsUntilAvailable {
                    samples.append(Sample(name: "snapmask_temporary_cluster_wait_seconds", database: database.name,
                                          value: wait, labels: labels))
                }
                let deleted: Double = temporary.deleteRequestedAt != nil && temporary.deleteError == nil ? 1 : 0
                samples.append(Sample(name: "snapmask_temporary_cluster_deleted", database: database.name, value: deleted,
                                      labels: labels))
            }
        }
    }

    /// A `check`'s findings: a daily check makes drift visible days before the weekly run.
    public init(check: CheckReport) {
        for database in check.databases where database.status != .offline {
            func add(_ name: String, _ value: Double) { samples.append(Sample(name: name, database: database.database, value: value)) }
            if database.status != .failed {
                add("snapmask_unruled_columns", Double(database.unruled))
                add("snapmask_check_problems", Double(database.problems.count))
                add("snapmask_kept_personal_columns", Double(database.keptPersonal.count))
            }
            add("snapmask_last_check_success", database.failed ? 0 : 1)
            add("snapmask_last_check_timestamp_seconds", check.checkedAt.timeIntervalSince1970)
        }
    }

    /// The exposition text: HELP and TYPE once per metric, one sample per database.
    public var text: String {
        var lines: [String] = []
        for metric in Self.help {
            let matching = samples.filter { $0.name == metric.name }
            guard !matching.isEmpty else { continue }
            lines.append("# HELP \(metric.name) \(metric.text)")
            lines.append("# TYPE \(metric.name) \(metric.type)")
            for sample in matching {
                let extra = sample.labels.sorted { $0.key < $1.key }.map { ",\($0.key)=\"\(Self.escaped($0.value))\"" }.joined()
                lines.append("\(metric.name){database=\"\(Self.escaped(sample.database))\"\(extra)} \(Self.number(sample.value))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the file atomically (the textfile collector must never read half a file).
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try Data(text.utf8).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw PushFailed(message: "cannot write the metrics file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// PUTs the metrics to `<gateway>/metrics/job/<job>`, replacing the group's previous ones
    /// (`check` pushes to its own group so that it never replaces the run's).
    public func push(to gateway: String, job: String = "snapmask", timeout: TimeInterval = 15) throws {
        guard let base = URL(string: gateway), base.scheme == "http" || base.scheme == "https" else {
            throw ConfigError("--pushgateway must be an http(s) URL, e.g. http://prometheus-pushgateway:9091")
        }
        var request = URLRequest(url: base.appendingPathComponent("metrics/job/\(job)"), timeoutInterval: timeout)
        request.httpMethod = "PUT"
        request.setValue("text/plain; version=0.0.4", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(text.utf8)
        let outcome = BlockingHTTP.send(request)
        if let error = outcome.error {
            throw PushFailed(message: "cannot push metrics to \(gateway): \(error.localizedDescription)")
        }
        guard let status = outcome.status, (200..<300).contains(status) else {
            throw PushFailed(message: "the pushgateway \(gateway) answered HTTP \(outcome.status ?? 0): \(outcome.body)")
        }
    }

    public struct PushFailed: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// `metric|database` → value, from a previous exposition file.
    static func parse(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"),
                  let valueText = line[line.index(after: close)...].split(separator: " ").first, let value = Double(valueText),
                  let start = line.range(of: "database=\"") else { continue }
            let name = String(line[..<brace])
            let database = line[start.upperBound...].prefix { $0 != "\"" }
            values["\(name)|\(database)"] = value
        }
        return values
    }

    static func escaped(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// One HTTP request, waited for (the callers are plain threads).
enum BlockingHTTP {
    struct Outcome: @unchecked Sendable {
        var status: Int?
        var body: String = ""
        var error: Error?
    }

    static func send(_ request: URLRequest) -> Outcome {
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox()
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.value = Outcome(status: (response as? HTTPURLResponse)?.statusCode,
                                body: data.map { String(decoding: $0.prefix(500), as: UTF8.self) } ?? "", error: error)
            done.signal()
        }.resume()
        done.wait()
        return box.value
    }

    final class OutcomeBox: @unchecked Sendable {
        var value = Outcome()
    }
}
