/// The release, printed by `snapmask --version` and written into reports and snapshot manifests.
public enum SnapmaskVersion {
    public static let current = "0.1.0"
}
