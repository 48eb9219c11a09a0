/// What staging holds after a run stopped, as the target found it: the message and the report
/// say exactly this, never a guess.
public struct StagingState: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Data: String, Sendable, Codable {
        /// The data from before the run: the swap never changed it.
        case previous
        /// The new copy: the swap completed before the run stopped.
        case new
        /// Some tables or collections new, others old.
        case partlyReplaced = "partly replaced"
        /// The server could not be asked.
        case unknown
    }

    public enum Shadow: String, Sendable, Codable {
        /// None was made (the run stopped before it).
        case none
        case removed, left, unknown
    }

    public var data: Data
    public var shadow: Shadow
    /// Which parts are new and which old, or why the state is unknown.
    public var detail: String?

    public init(data: Data, shadow: Shadow, detail: String? = nil) {
        self.data = data
        self.shadow = shadow
        self.detail = detail
    }

    public var description: String {
        var text: String
        switch data {
        case .previous: text = "staging is unchanged (it holds the data from before this run)"
        case .new: text = "staging holds the new copy: the swap completed before the run stopped"
        case .partlyReplaced: text = "staging was partly replaced"
        case .unknown: text = "what staging holds could not be checked"
        }
        if let detail { text += " (\(detail))" }
        switch shadow {
        case .none: break
        case .removed: text += "; the shadow copy was removed"
        case .left: text += "; the shadow copy is still there (the next run removes it)"
        case .unknown: text += "; whether the shadow copy is left could not be checked (the next run removes it)"
        }
        switch data {
        case .partlyReplaced: text += "; run the restore again to replace staging completely"
        case .unknown: text += "; check staging before using it, and run the restore again"
        case .previous, .new: break
        }
        return text
    }
}
