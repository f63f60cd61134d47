import ErgometerCore

/// The performance goals `make bench` checks (issue "lighter than node_exporter"): each figure
/// of this run against its bound, printed "met" or "missed" with the ratio figure / bound.
struct BenchGoal {
    var name: String
    var measured: Double
    var bound: Double
    var unit: String

    var met: Bool { measured < bound }

    static func print(_ goals: [BenchGoal]) {
        Swift.print("goals (this run):")
        for goal in goals {
            let figure = FixedDecimal.string(goal.measured, goal.measured < 10 ? 2 : 1)
            let bound = FixedDecimal.string(goal.bound, goal.bound < 10 ? 2 : 0)
            Swift.print(
                "  \(goal.met ? "met   " : "missed") \(goal.name): \(figure) \(goal.unit), goal < \(bound) \(goal.unit) "
                    + "(\(FixedDecimal.string(goal.measured / goal.bound, 2)) × the goal)")
        }
    }
}
