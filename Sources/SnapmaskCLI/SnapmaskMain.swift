import ArgumentParser
import Foundation
import Snapmask
import SnapmaskAWS

/// Runs the command and turns every outcome into the documented exit codes:
/// 0 success, 1 the job or check failed, 2 bad usage or configuration.
@main
enum SnapmaskMain {
    static func main() async {
        SignalHandling.install()
        // `auth: iam` databases log in with RDS IAM tokens made from the process's AWS
        // credentials (resolved at the first token, so other jobs never need any).
        DatabaseTokens.install(RDSTokenIssuer(environment: ProcessInfo.processInfo.environment))
        do {
            var command = try RootCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            // A signal that arrived once the swap had begun let the run finish: it succeeded.
            exit(0)
        } catch {
            let status = Failure.report(error)
            exit(SignalHandling.interruptedStatus ?? status)
        }
    }
}

struct RootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapmask",
        abstract: "Restores sanitized copies of production databases into staging.",
        discussion: """
            Every value of a personal-data column goes through a deterministic transformer keyed by the masking \
            key (SNAPMASK_MASKING_KEY), so the same input gives the same fake in every table, engine and run.

            Start with:
              snapmask transformers              what each transformer does
              snapmask try email jane@corp.io    a transformer on your values
              snapmask check -c snapmask.yaml    validate job, rules, overrides

            Exit codes: 0 success, 1 the job or check failed, 2 bad usage or configuration.
            """,
        version: SnapmaskVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, ScanCommand.self, PreviewCommand.self, RestoreCommand.self, SubsetCommand.self, SnapshotCommand.self,
                      OverridesCommand.self, ReportCommand.self, CleanupCommand.self,
                      TransformersCommand.self, TryCommand.self])
}
