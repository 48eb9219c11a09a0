import ArgumentParser
import Foundation
import Snapmask
import SnapmaskAWS

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Deletes the temporary clusters that killed runs left behind (aws-snapshot: and aws-clone: sources).",
        discussion: """
            A database whose source: is { aws-snapshot: ... } or { aws-clone: ... } is read from a temporary Aurora \
            or DocumentDB cluster that snapmask makes for the run and deletes afterwards, also when the restore \
            fails or SIGTERM stops it. Only a run that could not clean up (SIGKILL, a lost node, a second Ctrl-C) \
            leaves one running, and billed.

            Every temporary cluster and its instance carry the tags snapmask:run-id and snapmask:expires (creation \
            time + expires_after:, 24h by default). This command lists the clusters of the job file's regions \
            (each managed source's region:, else AWS_REGION) and deletes those with both tags whose expiry has \
            passed: first their instances, then the cluster, without a final snapshot (the snapshot it was made \
            from still exists). A cluster without the snapmask:run-id tag is never touched, nor one whose expiry \
            has not passed (a run may be using it), nor one with an instance someone added by hand.

            `snapmask run` does the same before it makes its own clusters. Use --dry-run to see what would go.

            Needs rds:DescribeDBClusters, rds:DescribeDBInstances, rds:DeleteDBInstance and rds:DeleteDBCluster \
            (see the README's IAM policy). Exit 0 when every expired cluster was deleted (or none was found), 1 when \
            one could not be, 2 for bad usage or configuration.

            Examples:
              snapmask cleanup --config snapmask.yaml --dry-run
              snapmask cleanup --config snapmask.yaml --region eu-west-1
            """)

    @Option(name: .shortAndLong, help: "The job file (YAML): its managed sources name the regions to look in.")
    var config: String

    @Option(help: ArgumentHelp("Also look in this region (repeat for more).", valueName: "region"))
    var region: [String] = []

    @Flag(help: "Only list the expired temporary clusters; delete nothing.")
    var dryRun = false

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let job = try JobFile.load(path: config, environment: environment)
        let provisioner = try AWSSourceProvisioner(environment: environment)
        var regions: [String] = []
        for database in job.databases {
            guard let managed = database.managedSource else { continue }
            let name = try provisioner.region(of: managed)
            if !regions.contains(name) { regions.append(name) }
        }
        for name in region where !regions.contains(name) { regions.append(name) }
        guard !regions.isEmpty else {
            throw ValidationError("\(config) has no aws-snapshot: or aws-clone: source, so there is no region to look in; "
                                      + "name one with --region")
        }
        let leftovers = try provisioner.removeLeftovers(regions: regions, dryRun: dryRun)
        let formatter = ISO8601DateFormatter()
        print("\(leftovers.count) expired temporary cluster\(leftovers.count == 1 ? "" : "s") in "
                  + regions.joined(separator: ", ") + (dryRun ? " (dry run: nothing deleted)" : ""))
        for leftover in leftovers {
            let outcome = dryRun ? "would be deleted" : leftover.error.map { "NOT deleted: \($0)" } ?? "deleted"
            let instances = leftover.instances.isEmpty ? "no instance" : leftover.instances.joined(separator: ", ")
            print("  \(leftover.cluster) (\(leftover.region), run \(leftover.runID), expired "
                      + "\(formatter.string(from: leftover.expires)), \(instances)): \(outcome)")
        }
        if leftovers.contains(where: { $0.error != nil }) { throw CommandFailed(status: .failed) }
    }
}
