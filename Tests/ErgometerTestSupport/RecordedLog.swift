import Logging
import Synchronization

/// Log lines (level, message and metadata), to check what ergod says about a fault; all of
/// them, or the last `limit` (a long soak).
public final class RecordedLog: Sendable {
    private let lines = Mutex<[String]>([])
    private let limit: Int?

    public init(keepingLast limit: Int? = nil) {
        self.limit = limit
    }

    public var recorded: [String] { lines.withLock { $0 } }
    public func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }

    /// A logger that writes here, from `level` up.
    public func logger(label: String, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = level
        return logger
    }

    public struct Handler: LogHandler {
        let log: RecordedLog
        public var metadata: Logger.Metadata = [:]
        public var logLevel: Logger.Level = .info

        public init(log: RecordedLog) { self.log = log }

        public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        public func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            let limit = log.limit
            log.lines.withLock {
                $0.append("\(event.level) \(event.message) \(fields)")
                if let limit, $0.count > limit { $0.removeFirst($0.count - limit) }
            }
        }
    }
}
