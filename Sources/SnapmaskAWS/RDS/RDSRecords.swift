import Foundation

/// What the RDS control plane says about a cluster, read from its XML (`<DBCluster>`).
public struct RDSCluster: Sendable, Equatable {
    public var identifier: String
    public var status: String
    public var engine: String
    public var endpoint: String?
    public var port: Int?
    /// The instances in it.
    public var members: [String]
    public var tags: [String: String]

    init(_ element: AWSXMLElement) {
        identifier = element.value("DBClusterIdentifier") ?? ""
        status = element.value("Status") ?? ""
        engine = element.value("Engine") ?? ""
        endpoint = element.value("Endpoint").flatMap { $0.isEmpty ? nil : $0 }
        port = element.value("Port").flatMap { Int($0) }
        members = element.child("DBClusterMembers")?.children.compactMap { $0.value("DBInstanceIdentifier") } ?? []
        tags = RDSTags.read(element.child("TagList"))
    }
}

public struct RDSInstance: Sendable, Equatable {
    public var identifier: String
    public var status: String
    public var cluster: String?
    public var instanceClass: String
    public var tags: [String: String]

    init(_ element: AWSXMLElement) {
        identifier = element.value("DBInstanceIdentifier") ?? ""
        status = element.value("DBInstanceStatus") ?? ""
        cluster = element.value("DBClusterIdentifier")
        instanceClass = element.value("DBInstanceClass") ?? ""
        tags = RDSTags.read(element.child("TagList"))
    }
}

public struct RDSClusterSnapshot: Sendable, Equatable {
    public var identifier: String
    public var cluster: String
    public var status: String
    public var engine: String
    public var type: String
    public var created: Date?

    init(_ element: AWSXMLElement) {
        identifier = element.value("DBClusterSnapshotIdentifier") ?? ""
        cluster = element.value("DBClusterIdentifier") ?? ""
        status = element.value("Status") ?? ""
        engine = element.value("Engine") ?? ""
        type = element.value("SnapshotType") ?? ""
        created = element.value("SnapshotCreateTime").flatMap(RDSTags.parseDate)
    }
}

/// Tags as RDS lists them (`<TagList><Tag><Key/><Value/></Tag>…`) and sends them (`Tags.Tag.N.Key`).
enum RDSTags {
    static func read(_ list: AWSXMLElement?) -> [String: String] {
        var tags: [String: String] = [:]
        for tag in list?.children ?? [] {
            if let key = tag.value("Key") { tags[key] = tag.value("Value") ?? "" }
        }
        return tags
    }

    /// RDS names list members after their element (`Tags.Tag.1.Key`), not `member` as most
    /// query APIs do.
    static func parameters(_ tags: [(key: String, value: String)]) -> [(name: String, value: String)] {
        tags.enumerated().flatMap { index, tag in
            [("Tags.Tag.\(index + 1).Key", tag.key), ("Tags.Tag.\(index + 1).Value", tag.value)]
        }
    }

    /// RDS dates are ISO 8601 with or without fractions of a second (moto adds a time-zone offset).
    static func parseDate(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: trimmed) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: trimmed) { return date }
        // "2026-12-05 12:37:47.745284+00:00" (moto): a space instead of T, microseconds.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in ["yyyy-MM-dd HH:mm:ss.SSSSSSZZZZZ", "yyyy-MM-dd HH:mm:ssZZZZZ"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }
}
