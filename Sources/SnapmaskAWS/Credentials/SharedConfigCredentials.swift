import Foundation
import Snapmask

/// The shared files of the AWS CLI and SDKs: `~/.aws/credentials` (`[name]` sections) and
/// `~/.aws/config` (`[default]`, `[profile name]`), for a DBA running snapmask on a workstation.
/// Only static keys are read (`aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`); a profile that gets its credentials another way (`role_arn` with
/// `source_profile`, `credential_process`, SSO, `web_identity_token_file`) is refused by name
/// rather than skipped, so snapmask never silently uses other credentials than the ones meant.
public enum SharedConfigCredentials {
    public static let profileVariable = "AWS_PROFILE"
    public static let credentialsFileVariable = "AWS_SHARED_CREDENTIALS_FILE"
    public static let configFileVariable = "AWS_CONFIG_FILE"

    static let unsupportedKeys = ["role_arn", "source_profile", "credential_source", "credential_process",
                                  "sso_session", "sso_start_url", "sso_account_id", "web_identity_token_file", "login_session"]

    enum Outcome {
        case provider(StaticCredentialsProvider)
        case notConfigured(String)
    }

    static func resolve(_ environment: AWSEnvironment) throws -> Outcome {
        let explicit = environment.value(profileVariable) ?? environment.value("AWS_DEFAULT_PROFILE")
        let profile = explicit ?? "default"
        let home = environment.value("HOME")
        let credentialsPath = expand(environment.value(credentialsFileVariable) ?? home.map { "\($0)/.aws/credentials" }, home: home)
        let configPath = expand(environment.value(configFileVariable) ?? home.map { "\($0)/.aws/config" }, home: home)

        var searched: [String] = []
        // The credentials file wins over the config file for the same profile, as in the SDKs.
        for (path, section) in [(credentialsPath, profile), (configPath, profile == "default" ? "default" : "profile \(profile)")] {
            guard let path else { continue }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                searched.append("\(path) (not found)")
                continue
            }
            searched.append(path)
            guard let settings = parse(text)[section] else { continue }
            let accessKey = settings["aws_access_key_id"], secretKey = settings["aws_secret_access_key"]
            if let accessKey, let secretKey {
                let credentials = AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey,
                                                 sessionToken: settings["aws_session_token"])
                return .provider(StaticCredentialsProvider(credentials, source: "profile \(profile) in \(path)"))
            }
            if accessKey != nil || secretKey != nil {
                throw ConfigError("profile \(profile) in \(path) has \(accessKey != nil ? "aws_access_key_id" : "aws_secret_access_key") "
                                      + "but not \(accessKey != nil ? "aws_secret_access_key" : "aws_access_key_id")")
            }
            let unsupported = unsupportedKeys.filter { settings[$0] != nil }
            if !unsupported.isEmpty {
                throw ConfigError("profile \(profile) in \(path) gets its credentials with \(unsupported.joined(separator: ", ")), "
                                      + "which snapmask does not support: give the profile aws_access_key_id and "
                                      + "aws_secret_access_key, or run with web identity (IRSA) or EKS Pod Identity")
            }
        }
        if let explicit {
            throw ConfigError("\(profileVariable) names the profile \(explicit), which has no keys in "
                                  + (searched.isEmpty ? "any file (HOME is not set)" : searched.joined(separator: " or ")))
        }
        return .notConfigured(searched.isEmpty ? "HOME is not set" : "no keys for profile default in " + searched.joined(separator: ", "))
    }

    static func expand(_ path: String?, home: String?) -> String? {
        guard let path else { return nil }
        if path == "~" { return home }
        if path.hasPrefix("~/"), let home { return home + path.dropFirst() }
        return path
    }

    /// INI sections → settings. `#` and `;` start comments; indented lines belong to a nested
    /// setting (`s3 =` followed by its keys) and are skipped.
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), let close = line.lastIndex(of: "]") {
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                    .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            // An inline comment needs a blank before it, so a key holding '#' stays whole.
            if let comment = value.range(of: " #") ?? value.range(of: " ;") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            if !value.isEmpty { sections[current]?[key] = value }
        }
        return sections
    }
}
