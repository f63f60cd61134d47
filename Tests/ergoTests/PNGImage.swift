import CZlib
import Foundation

/// A PNG read back to pixels (8-bit RGB or RGBA, not interlaced: what Chromium writes), so a
/// test can say a rendered chart is the size it should be and not blank.
struct PNGImage {
    var width: Int
    var height: Int
    /// RGB triples, row by row.
    var pixels: [UInt8]

    struct Malformed: Error, CustomStringConvertible { var description: String }

    init(contentsOf path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count > 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Malformed(description: "\(path) is not a PNG")
        }
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        var offset = 8
        var compressed: [UInt8] = []
        var header: (width: Int, height: Int, depth: UInt8, colour: UInt8, interlace: UInt8)?
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = offset + 8
            guard data + length + 4 <= bytes.count else { throw Malformed(description: "\(path): chunk \(type) runs past the end") }
            switch type {
            case "IHDR": header = (be32(data), be32(data + 4), bytes[data + 8], bytes[data + 9], bytes[data + 12])
            case "IDAT": compressed += bytes[data..<(data + length)]
            default: break
            }
            if type == "IEND" { break }
            offset = data + length + 4
        }
        guard let header else { throw Malformed(description: "\(path) has no IHDR") }
        guard header.depth == 8, header.colour == 2 || header.colour == 6, header.interlace == 0 else {
            throw Malformed(description: "\(path): bit depth \(header.depth), colour type \(header.colour), interlace \(header.interlace) not read here")
        }
        let channels = header.colour == 6 ? 4 : 3
        let stride = header.width * channels
        var raw = [UInt8](repeating: 0, count: header.height * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in uncompress(out.baseAddress, &rawLength, input.baseAddress, uLong(input.count)) }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { throw Malformed(description: "\(path): inflate failed (\(status))") }
        // Undo the per-row filters (PNG spec, section 9).
        var image = [UInt8](repeating: 0, count: header.height * stride)
        for row in 0..<header.height {
            let filter = raw[row * (stride + 1)]
            for column in 0..<stride {
                let x = raw[row * (stride + 1) + 1 + column]
                let a = column >= channels ? Int(image[row * stride + column - channels]) : 0
                let b = row > 0 ? Int(image[(row - 1) * stride + column]) : 0
                let c = row > 0 && column >= channels ? Int(image[(row - 1) * stride + column - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Malformed(description: "\(path): row \(row) has filter \(filter)")
                }
                image[row * stride + column] = UInt8((Int(x) + predictor) & 0xFF)
            }
        }
        width = header.width
        height = header.height
        pixels = channels == 3 ? image : (0..<(header.width * header.height)).flatMap { image[($0 * 4)..<($0 * 4 + 3)] }
    }

    /// The share of pixels that are not (near) white.
    var inkedShare: Double {
        var inked = 0
        for index in stride(from: 0, to: pixels.count, by: 3) where Int(pixels[index]) + Int(pixels[index + 1]) + Int(pixels[index + 2]) < 720 {
            inked += 1
        }
        return Double(inked) / Double(width * height)
    }

    /// How many distinct colours it has (quantized to 4 bits a channel: anti-aliasing aside).
    var colourCount: Int {
        var seen = Set<Int>()
        for index in stride(from: 0, to: pixels.count, by: 3) {
            seen.insert(Int(pixels[index] >> 4) << 8 | Int(pixels[index + 1] >> 4) << 4 | Int(pixels[index + 2] >> 4))
        }
        return seen.count
    }
}
