public import ErgometerWire

/// Why the sampler refused a control request: the message for the caller (what went wrong
/// and what to do) and the kind, which the control API turns into its HTTP status.
public struct ControlFailure: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case badRequest, forbidden, notFound, gone, tooLarge, tooManyRequests, unavailable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The body the control API answers with.
    public var body: APIError { APIError(message) }
}
