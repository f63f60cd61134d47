import Dispatch
import Foundation
import Synchronization

/// A multi-layer perceptron (features → hidden → hidden → classes, ReLU, softmax) trained by
/// data-parallel minibatch SGD: each thread takes a shard of the batch through the forward and
/// backward passes, the shards' gradients are summed, and one update follows, as multi-device
/// training does. Every floating-point operation is counted where it is performed: 2·M·N·K per
/// matrix product, one per element for every element-wise add, multiply, compare, exp, log and
/// divide. Transposes and copies move data and are not counted.
struct Network {
    var weights: [Matrix]
    var biases: [[Float]]
    let kernel: Kernel
    let threads: Int
    /// Floating-point operations performed so far.
    private(set) var flops: Double = 0

    /// One shard's contribution: gradients (already divided by the whole batch), loss sum,
    /// errors, and the FLOPs it took.
    struct Gradients: Sendable {
        var weights: [Matrix]
        var biases: [[Float]]
        var lossSum: Double
        var errors: Int
        var flops: Double
    }

    init(sizes: [Int], kernel: Kernel, threads: Int, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        weights = []
        biases = []
        for (input, output) in zip(sizes, sizes.dropFirst()) {
            var w = Matrix(rows: input, columns: output)
            let scale = (2 / Float(input)).squareRoot()  // He initialisation for ReLU
            for index in w.values.indices { w.values[index] = random.normal() * scale }
            weights.append(w)
            biases.append([Float](repeating: 0, count: output))
        }
        self.kernel = kernel
        self.threads = threads
    }

    var parameterCount: Int { weights.map(\.values.count).reduce(0, +) + biases.map(\.count).reduce(0, +) }

    /// One SGD step on the minibatch `batch` (sample indices into `inputs`/`labels`); returns
    /// its mean cross-entropy loss and its errors. Each thread gathers its own shard of rows,
    /// computes its gradients, then sums and applies its slice of every parameter array.
    mutating func train(_ inputs: Matrix, labels: [Int], batch: ArraySlice<Int>, learningRate: Float) -> (loss: Double, errors: Int) {
        let samples = Array(batch)
        let shards = Self.shards(rows: samples.count, threads: threads)
        let parts = Self.parallel(shards.count) { [self] index in
            let rows = samples[shards[index]]
            var shard = Matrix(rows: rows.count, columns: inputs.columns)
            for (row, sample) in rows.enumerated() {
                for column in 0..<inputs.columns { shard[row, column] = inputs[sample, column] }
            }
            return gradients(shard, labels: rows.map { labels[$0] }[...], batchSize: samples.count)
        }
        // Sum the shards' gradients and update, each thread over its own slice of each array.
        let updated = Self.parallel(shards.count) { [weights, biases] index -> ([[Float]], [[Float]]) in
            func step(_ current: [Float], _ gradient: (Gradients) -> [Float]) -> [Float] {
                let slice = Self.shards(rows: current.count, threads: parts.count)[index]
                var values = Array(current[slice])
                let gradients = parts.map(gradient)
                for (position, element) in slice.enumerated() {
                    var sum: Float = 0
                    for shard in gradients { sum += shard[element] }
                    values[position] -= learningRate * sum
                }
                return values
            }
            return (
                weights.indices.map { layer in step(weights[layer].values) { $0.weights[layer].values } },
                biases.indices.map { layer in step(biases[layer]) { $0.biases[layer] } })
        }
        for layer in weights.indices {
            weights[layer].values = updated.flatMap { $0.0[layer] }
            biases[layer] = updated.flatMap { $0.1[layer] }
        }
        // Each shard's passes; the sum (parts − 1 adds per parameter); the update (multiply, subtract).
        flops += parts.map(\.flops).reduce(0, +) + Double((parts.count - 1) * parameterCount) + 2 * Double(parameterCount)
        return (parts.map(\.lossSum).reduce(0, +) / Double(samples.count), parts.map(\.errors).reduce(0, +))
    }

    /// Forward and backward passes over one shard.
    func gradients(_ inputs: Matrix, labels: ArraySlice<Int>, batchSize: Int) -> Gradients {
        var counted = 0.0
        let (activations, preActivations, probabilities) = forward(inputs, flops: &counted)
        var lossSum = 0.0
        var errors = 0
        var gradient = probabilities  // dL/dz of the last layer: (p − onehot) / batch
        for (row, label) in labels.enumerated() {
            lossSum -= log(Double(max(probabilities[row, label], 1e-30)))
            if Self.argmax(probabilities, row: row) != label { errors += 1 }
            gradient[row, label] -= 1
        }
        let scale = 1 / Float(batchSize)
        for index in gradient.values.indices { gradient.values[index] *= scale }
        // log and add per row, the subtract, the scale; argmax: columns − 1 compares per row.
        counted += 3 * Double(inputs.rows) + Double(gradient.values.count) + Double(inputs.rows * (gradient.columns - 1))

        var weightGradients = [Matrix](repeating: Matrix(rows: 0, columns: 0), count: weights.count)
        var biasGradients = [[Float]](repeating: [], count: weights.count)
        for layer in weights.indices.reversed() {
            weightGradients[layer] = multiply(activations[layer].transposed(), gradient, flops: &counted)
            var biasGradient = [Float](repeating: 0, count: gradient.columns)
            for row in 0..<gradient.rows { for column in 0..<gradient.columns { biasGradient[column] += gradient[row, column] } }
            counted += Double(gradient.values.count)
            biasGradients[layer] = biasGradient
            if layer > 0 {
                var previous = multiply(gradient, weights[layer].transposed(), flops: &counted)
                let z = preActivations[layer - 1]
                for index in previous.values.indices where z.values[index] <= 0 { previous.values[index] = 0 }
                counted += Double(previous.values.count)  // the ReLU mask: one compare per element
                gradient = previous
            }
        }
        return Gradients(weights: weightGradients, biases: biasGradients, lossSum: lossSum, errors: errors, flops: counted)
    }

    /// Activations of every layer (input first), pre-activations, and softmax probabilities.
    func forward(_ inputs: Matrix, flops: inout Double) -> (activations: [Matrix], preActivations: [Matrix], probabilities: Matrix) {
        var activations = [inputs]
        var preActivations: [Matrix] = []
        for layer in weights.indices {
            var z = multiply(activations[layer], weights[layer], flops: &flops)
            let bias = biases[layer]
            for row in 0..<z.rows { for column in 0..<z.columns { z[row, column] += bias[column] } }
            flops += Double(z.values.count)
            preActivations.append(z)
            if layer < weights.count - 1 {
                var a = z
                for index in a.values.indices where a.values[index] < 0 { a.values[index] = 0 }
                flops += Double(a.values.count)  // one compare per element
                activations.append(a)
            }
        }
        var probabilities = preActivations.last!
        for row in 0..<probabilities.rows {
            var largest = -Float.infinity
            for column in 0..<probabilities.columns { largest = max(largest, probabilities[row, column]) }
            var sum: Float = 0
            for column in 0..<probabilities.columns {
                let e = Float(exp(Double(probabilities[row, column] - largest)))
                probabilities[row, column] = e
                sum += e
            }
            for column in 0..<probabilities.columns { probabilities[row, column] /= sum }
        }
        flops += 5 * Double(probabilities.values.count)  // compare, subtract, exp, add, divide
        return (activations, preActivations, probabilities)
    }

    /// Errors on a labelled set: forward passes, sharded over the threads, counted too.
    mutating func errors(_ inputs: Matrix, labels: [Int], batch: Int) -> Int {
        var errors = 0
        var start = 0
        while start < inputs.rows {
            let end = min(start + batch, inputs.rows)
            let shards = Self.shards(rows: end - start, threads: threads).map { ($0.lowerBound + start)..<($0.upperBound + start) }
            let parts = Self.parallel(shards.count) { [self] index -> (Int, Double) in
                var counted = 0.0
                let probabilities = forward(Self.rows(inputs, shards[index]), flops: &counted).probabilities
                var wrong = 0
                for row in 0..<shards[index].count where Self.argmax(probabilities, row: row) != labels[shards[index].lowerBound + row] { wrong += 1 }
                return (wrong, counted + Double(shards[index].count * (probabilities.columns - 1)))
            }
            errors += parts.map(\.0).reduce(0, +)
            flops += parts.map(\.1).reduce(0, +)
            start = end
        }
        return errors
    }

    private func multiply(_ a: Matrix, _ b: Matrix, flops: inout Double) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        kernel.multiply(a, b, into: &c, threads: 1)
        flops += 2 * Double(a.rows) * Double(b.columns) * Double(a.columns)
        return c
    }

    static func argmax(_ m: Matrix, row: Int) -> Int {
        var best = 0
        for column in 1..<m.columns where m[row, column] > m[row, best] { best = column }
        return best
    }

    static func rows(_ m: Matrix, _ range: Range<Int>) -> Matrix {
        var result = Matrix(rows: range.count, columns: m.columns)
        result.values.replaceSubrange(0..<result.values.count, with: m.values[(range.lowerBound * m.columns)..<(range.upperBound * m.columns)])
        return result
    }

    /// `rows` split into at most `threads` contiguous shards.
    static func shards(rows: Int, threads: Int) -> [Range<Int>] {
        let count = max(min(threads, rows), 1)
        return (0..<count).map { index in (rows * index / count)..<(rows * (index + 1) / count) }
    }

    /// Runs `body` for 0..<count on that many threads (inline for one) and returns the results in order.
    static func parallel<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        if count == 1 { return [body(0)] }
        let results = Mutex<[T?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let value = body(index)
            results.withLock { $0[index] = value }
        }
        return results.withLock { $0.map { $0! } }
    }
}
