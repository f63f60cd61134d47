import Testing

/// Suites that burn CPU on purpose (the demo's training runs, scrape loads, ergod at a 0.1 s
/// tick beside a Prometheus server, Chromium rendering the charts) or measure energy shares
/// that a busy machine blurs (two jobs' ratio within 5 %): nested here, they run one after
/// another, never beside each other.
@Suite(.serialized)
enum LoadSensitiveSuites {}
