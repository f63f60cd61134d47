public import ErgometerWire
import Foundation

/// Typed calls to ergod's control API over its Unix socket.
public struct ControlClient: Sendable {
    public let http: UnixHTTPClient

    public init(socketPath: String, timeoutSeconds: Int = 10) {
        http = UnixHTTPClient(socketPath: socketPath, timeoutSeconds: timeoutSeconds)
    }

    /// `--socket PATH`, else `$ERGOMETER_SOCKET`, else the default path.
    public static func socketPath(flag: String?, environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        return flag ?? environment[ControlAPI.socketEnvironment].flatMap { $0.isEmpty ? nil : $0 } ?? ControlAPI.defaultSocketPath
    }

    public var socketPath: String { http.socketPath }

    public func register(_ request: RegisterJobRequest) throws(ControlClientError) -> RegisterJobResponse {
        try call("POST", ControlAPI.jobsPath, body: request)
    }

    public func end(id: String, exitStatus: Int32) throws(ControlClientError) -> JobReport {
        try call("POST", ControlAPI.endJobPath(id), body: EndJobRequest(exitStatus: exitStatus))
    }

    /// Sends a training program's progress; ergod answers 204 without a body.
    public func progress(id: String, _ progress: JobProgress) throws(ControlClientError) {
        let _: Empty = try call("POST", ControlAPI.progressPath(id), body: progress)
    }

    /// The empty answer of a 204.
    struct Empty: Decodable {}

    public func jobs(all: Bool) throws(ControlClientError) -> [JobSummary] {
        try call("GET", ControlAPI.jobsPath + (all ? "?all=1" : ""), body: Optional<EndJobRequest>.none)
    }

    public func report(id: String) throws(ControlClientError) -> JobReport {
        try call("GET", ControlAPI.jobPath(id), body: Optional<EndJobRequest>.none)
    }

    public func series(id: String) throws(ControlClientError) -> JobSeries {
        try call("GET", ControlAPI.seriesPath(id), body: Optional<EndJobRequest>.none)
    }

    public func ledger() throws(ControlClientError) -> Ledger {
        try call("GET", ControlAPI.ledgerPath, body: Optional<EndJobRequest>.none)
    }

    public func storeStatus() throws(ControlClientError) -> StoreStatus {
        try call("GET", ControlAPI.storePath, body: Optional<EndJobRequest>.none)
    }

    public func live() throws(ControlClientError) -> LiveView {
        try call("GET", ControlAPI.livePath, body: Optional<EndJobRequest>.none)
    }

    private func call<Body: Encodable, Answer: Decodable>(_ method: String, _ path: String, body: Body?) throws(ControlClientError) -> Answer {
        var bytes: [UInt8]?
        if let body {
            do { bytes = Array(try JSONEncoder().encode(body)) } catch { throw .malformed("cannot encode the request: \(error)") }
        }
        let response: UnixHTTPClient.Response
        do {
            response = try http.request(method: method, path: path, body: bytes)
        } catch {
            throw error.daemonAbsent ? .daemonAbsent(socketPath: socketPath) : .transport(error)
        }
        let data = Data(response.body)
        guard (200..<300).contains(response.status) else {
            let message = (try? JSONDecoder().decode(APIError.self, from: data))?.error ?? String(decoding: response.body, as: UTF8.self)
            throw .refused(status: response.status, message: message)
        }
        if response.status == 204, let empty = Empty() as? Answer { return empty }
        do {
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw .malformed("ergod answered \(path) with something this ergo cannot read (\(error)); are ergo and ergod the same version?")
        }
    }
}

/// Why a control call failed, in words a user can act on.
public enum ControlClientError: Error, CustomStringConvertible, Sendable {
    /// Nothing listens on the socket: no daemon (ergo then works standalone where it can).
    case daemonAbsent(socketPath: String)
    case transport(UnixHTTPClient.TransportError)
    case refused(status: Int, message: String)
    case malformed(String)

    public var description: String {
        switch self {
        case .daemonAbsent(let path): "no ergod answers on \(path) (start it with `systemctl start ergod`, or give --socket)"
        case .transport(let error): "\(error)"
        case .refused(let status, let message): "ergod refused (\(status)): \(message)"
        case .malformed(let message): message
        }
    }
}
