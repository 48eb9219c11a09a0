import Dispatch
import Foundation
import Snapmask

/// SIGTERM (Kubernetes: pod deletion, node drain, activeDeadlineSeconds) and SIGINT (Ctrl-C) ask
/// the run to stop rather than kill it: the run stops reading, removes its shadow copy, releases
/// its locks and says what staging holds. A second SIGINT ends the process at once.
enum SignalHandling {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGINT, RunInterruption.shared.signal != nil {
                    printError("snapmask: second interrupt; stopping now without cleaning up (the next run removes "
                                   + "what this one left)")
                    exit(128 + number)
                }
                printError("snapmask: \(number == SIGTERM ? "SIGTERM" : "SIGINT") received; stopping at the next safe "
                               + "point and cleaning up")
                RunInterruption.shared.request(signal: number)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The exit status after a run that a signal stopped (128 + the signal, as shells report it).
    static var interruptedStatus: Int32? {
        RunInterruption.shared.signal.map { 128 + $0 }
    }
}
