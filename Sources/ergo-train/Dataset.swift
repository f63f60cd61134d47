import Foundation

/// A classification task with a known best achievable error. Inputs are Gaussian; a fixed
/// random "teacher" network (features → 32 tanh units → classes) labels them by its largest
/// output; then each label is, with probability `noise`, replaced by a class drawn uniformly.
/// The teacher's label is then the most likely one for every input, so the best any model can
/// do is to predict it, and its error is exactly noise × (classes − 1) / classes.
struct Dataset {
    let features: Int
    let classes: Int
    let noise: Double
    var trainInputs: Matrix
    var trainLabels: [Int]
    var testInputs: Matrix
    var testLabels: [Int]

    var bestAchievableError: Double { noise * Double(classes - 1) / Double(classes) }

    init(trainSamples: Int, testSamples: Int, features: Int, classes: Int, noise: Double, seed: UInt64) {
        self.features = features
        self.classes = classes
        self.noise = noise
        var random = SeededGenerator(seed: seed ^ 0x7EAC_4E25)
        let hidden = 32
        var w1 = Matrix(rows: features, columns: hidden)
        for index in w1.values.indices { w1.values[index] = random.normal() / Float(features).squareRoot() }
        var w2 = Matrix(rows: hidden, columns: classes)
        for index in w2.values.indices { w2.values[index] = random.normal() }

        func generate(_ count: Int) -> (Matrix, [Int]) {
            var inputs = Matrix(rows: count, columns: features)
            var labels = [Int](repeating: 0, count: count)
            var hiddenValues = [Float](repeating: 0, count: hidden)
            for sample in 0..<count {
                for f in 0..<features { inputs[sample, f] = random.normal() }
                for h in 0..<hidden {
                    var sum: Float = 0
                    for f in 0..<features { sum += inputs[sample, f] * w1[f, h] }
                    hiddenValues[h] = tanh(sum)
                }
                var best = 0
                var bestValue = -Float.infinity
                for c in 0..<classes {
                    var sum: Float = 0
                    for h in 0..<hidden { sum += hiddenValues[h] * w2[h, c] }
                    if sum > bestValue { (best, bestValue) = (c, sum) }
                }
                labels[sample] = Double.random(in: 0..<1, using: &random) < noise ? Int.random(in: 0..<classes, using: &random) : best
            }
            return (inputs, labels)
        }
        (trainInputs, trainLabels) = generate(trainSamples)
        (testInputs, testLabels) = generate(testSamples)
    }
}

@inline(__always) func tanh(_ x: Float) -> Float {
    let e = Float(exp(Double(2 * x)))
    return (e - 1) / (e + 1)
}
