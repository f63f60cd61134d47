/// One parser a stranger can reach, with what it starts from and what must hold of its answer.
struct FuzzTarget: Sendable {
    /// What a parser made of one input.
    enum Outcome: Equatable {
        /// Refused with an error (the expected answer to most garbage).
        case rejected
        /// Taken; such inputs join the corpus, so later mutations start from valid shapes.
        case accepted
        /// An answer that breaks the parser's contract (checked against a reference or bounds).
        case violation(String)
    }

    var name: String
    /// What the parser does, in a sentence, for the listing.
    var summary: String
    var seeds: [[UInt8]]
    /// Tokens of the format, inserted where they do not belong.
    var dictionary: [String]
    var run: @Sendable ([UInt8]) -> Outcome
}
