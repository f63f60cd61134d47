import ArgumentParser
import ErgometerClient
import Foundation

/// `ergo-train`: a real training workload for Ergometer. An MLP learns a generated task with a
/// known best achievable error, by minibatch SGD over real matrices, on `--threads` threads,
/// with the plain or the tiled matrix kernel. It reports its exact FLOPs, steps, loss and test
/// error to ergod through ErgometerClient while it runs under `ergo run`.
@main
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ergo-train",
        abstract: "Train an MLP on a generated task with a known best error; report FLOPs to ergod.",
        discussion: "Run it under `ergo run -- ergo-train ...` to measure it. `--benchmark` measures this CPU's peak single-core FLOP/s and each kernel's share of it."
    )

    @Option(help: "Worker threads: each takes a shard of every minibatch (data parallelism).") var threads = 1
    @Option(help: "Passes over the training set.") var epochs = 3
    @Option(help: "Units in each of the two hidden layers.") var hidden = 256
    @Option(help: "Samples per SGD step.") var batch = 128
    @Option(help: "Seed of the data and the initial weights.") var seed: UInt64 = 1
    @Option(help: "Matrix kernel: naive (a plain triple loop) or tiled (cache-blocked SIMD).") var kernel: Kernel = .tiled
    @Option(help: "Training samples.") var samples = 16384
    @Option(help: "Test samples, drawn from the same task (default: a quarter of --samples, at least --batch).") var testSamples: Int?
    @Option(help: "Input features.") var features = 32
    @Option(help: "Classes.") var classes = 8
    @Option(help: "Label noise: the best achievable error is noise × (classes − 1) / classes.") var noise = 0.1
    @Option(help: "SGD learning rate.") var learningRate: Float = 0.1
    @Flag(help: "Measure peak single-core FLOP/s and each kernel's FLOP/s instead of training.") var benchmark = false

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads): 1 to 256") }
        guard (1...10_000).contains(epochs) else { throw ValidationError("--epochs \(epochs): 1 to 10000") }
        guard (8...8192).contains(hidden) else { throw ValidationError("--hidden \(hidden): 8 to 8192") }
        guard (1...65_536).contains(batch) else { throw ValidationError("--batch \(batch): 1 to 65536") }
        guard samples >= batch && samples <= 10_000_000 else { throw ValidationError("--samples \(samples): at least --batch, at most 10000000") }
        if let testSamples, !(batch...10_000_000).contains(testSamples) {
            throw ValidationError("--test-samples \(testSamples): at least --batch, at most 10000000")
        }
        guard (1...4096).contains(features) else { throw ValidationError("--features \(features): 1 to 4096") }
        guard (2...1000).contains(classes) else { throw ValidationError("--classes \(classes): 2 to 1000") }
        guard (0..<1).contains(noise) else { throw ValidationError("--noise \(noise): from 0 up to (not including) 1") }
        guard learningRate > 0 && learningRate.isFinite else { throw ValidationError("--learning-rate: a positive number") }
    }

    func run() throws {
        if benchmark {
            KernelBenchmark.run(threads: threads)
            return
        }
        let reporter = TrainingReporter.fromEnvironment()
        defer { reporter.finish() }
        let data = Dataset(trainSamples: samples, testSamples: testSamples ?? max(samples / 4, batch), features: features, classes: classes, noise: noise, seed: seed)
        var network = Network(sizes: [features, hidden, hidden, classes], kernel: kernel, threads: threads, seed: seed)
        print("ergo-train: \(samples) samples × \(features) features, \(classes) classes, best achievable error \(percent(data.bestAchievableError)); MLP \(features)-\(hidden)-\(hidden)-\(classes) (\(network.parameterCount) parameters), batch \(batch), \(kernel.rawValue) kernel, \(threads) thread(s)")
        var order = Array(0..<samples)
        var random = SeededGenerator(seed: seed &+ 99)
        let started = Date()
        for epoch in 1...epochs {
            let epochStart = Date()
            let flopsBefore = network.flops
            order.shuffle(using: &random)
            var loss = 0.0
            var errors = 0
            var steps = 0
            var start = 0
            while start + batch <= samples {
                let before = network.flops
                let result = network.train(data.trainInputs, labels: data.trainLabels, batch: order[start..<(start + batch)], learningRate: learningRate)
                loss += result.loss
                errors += result.errors
                steps += 1
                reporter.add(flops: network.flops - before, steps: 1, samples: batch)
                start += batch
            }
            let before = network.flops
            let testErrors = network.errors(data.testInputs, labels: data.testLabels, batch: batch)
            reporter.add(flops: network.flops - before)
            let testError = Double(testErrors) / Double(data.testLabels.count)
            reporter.record("loss", loss / Double(steps))
            reporter.record("train_error", Double(errors) / Double(steps * batch))
            reporter.record("test_error", testError)
            let seconds = Date().timeIntervalSince(epochStart)
            let epochFlops = network.flops - flopsBefore
            print("epoch \(epoch)/\(epochs): loss \(fixed(loss / Double(steps), 4)), train error \(percent(Double(errors) / Double(steps * batch))), test error \(percent(testError)) (best achievable \(percent(data.bestAchievableError))), \(fixed(epochFlops / 1e9, 2)) GFLOP in \(fixed(seconds, 2)) s = \(fixed(epochFlops / seconds / 1e9, 2)) GFLOP/s")
        }
        let total = Date().timeIntervalSince(started)
        print("ergo-train: \(fixed(network.flops / 1e9, 3)) GFLOP (counted) in \(fixed(total, 2)) s, \(fixed(network.flops / total / 1e9, 2)) GFLOP/s on \(threads) thread(s)\(reporter.isMeasured ? ", reported to Ergometer as job \(reporter.jobID ?? "")" : "")")
    }
}

extension Kernel: ExpressibleByArgument {}

func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
