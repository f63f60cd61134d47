import Foundation

/// `--svg FILE`: writes a chart, whole or not at all (a temporary file renamed over the target).
enum SVGOutput {
    static func write(_ svg: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try Data(svg.utf8).write(to: url, options: .atomic)
        } catch {
            throw CommandFailure(
                "cannot write the picture to \(path): \((error as NSError).localizedDescription); give --svg a path in a directory you can write")
        }
    }

    /// The line that says where the picture went (on stderr when stdout carries JSON).
    static func announce(_ path: String, json: Bool) {
        let line = "picture: \(path)\n"
        if json { FileHandle.standardError.write(Data(line.utf8)) } else { print(line, terminator: "") }
    }
}
