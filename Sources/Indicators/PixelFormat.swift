/// A framebuffer's memory layout: bits per pixel (1 = mono, 16 = RGB565, 32 = XRGB8888, all
/// little-endian as Linux framebuffers store them), bytes per line and, for 1 bpp, the bit
/// order of the leftmost pixel in a byte.
public struct PixelFormat: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let bitsPerPixel: Int
    /// Bytes per line (at least the packed width).
    public let stride: Int
    /// 1 bpp: the leftmost pixel is the most significant bit (else the least significant).
    public let msbFirst: Bool

    public init(width: Int, height: Int, bitsPerPixel: Int, stride: Int? = nil, msbFirst: Bool = true) {
        self.width = max(1, width)
        self.height = max(1, height)
        self.bitsPerPixel = bitsPerPixel
        let packed = PixelFormat.packedLineBytes(width: self.width, bitsPerPixel: bitsPerPixel)
        self.stride = max(packed, stride ?? packed)
        self.msbFirst = msbFirst
    }

    /// The supported depths.
    public static let supportedDepths = [1, 16, 32]

    /// Bytes of one full frame.
    public var frameBytes: Int { stride * height }

    static func packedLineBytes(width: Int, bitsPerPixel: Int) -> Int {
        bitsPerPixel == 1 ? (width + 7) / 8 : width * (bitsPerPixel / 8)
    }

    /// `canvas` (cropped or padded to this geometry) in this format. In 1 bpp a dark pixel
    /// (luminance under half) is a 1 bit: ink.
    public func pack(_ canvas: Canvas) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: frameBytes)
        for y in 0..<min(height, canvas.height) {
            let line = y * stride
            for x in 0..<min(width, canvas.width) {
                let p = canvas.pixels[y * canvas.width + x]
                let r = (p >> 16) & 0xFF
                let g = (p >> 8) & 0xFF
                let b = p & 0xFF
                switch bitsPerPixel {
                case 1:
                    let luminance = (r * 299 + g * 587 + b * 114) / 1000
                    if luminance < 128 {
                        let bit = msbFirst ? UInt8(0x80) >> UInt8(x & 7) : UInt8(1) << UInt8(x & 7)
                        out[line + x / 8] |= bit
                    }
                case 16:
                    let v = UInt16((r >> 3) << 11 | (g >> 2) << 5 | (b >> 3))
                    out[line + 2 * x] = UInt8(v & 0xFF)
                    out[line + 2 * x + 1] = UInt8(v >> 8)
                default:
                    out[line + 4 * x] = UInt8(b)
                    out[line + 4 * x + 1] = UInt8(g)
                    out[line + 4 * x + 2] = UInt8(r)
                    out[line + 4 * x + 3] = 0xFF
                }
            }
        }
        return out
    }

    /// A frame in this format back to RGB (what the display would show). Mono frames use
    /// `ink` and `clear`, e.g. a greyish-green LCD look for snapshots.
    public func unpack(_ bytes: [UInt8], ink: UInt32 = 0x000000, clear: UInt32 = 0xFFFFFF) -> Canvas {
        var canvas = Canvas(width: width, height: height)
        if bytes.count < frameBytes { return canvas }
        for y in 0..<height {
            let line = y * stride
            for x in 0..<width {
                var p: UInt32
                switch bitsPerPixel {
                case 1:
                    let bit = msbFirst ? UInt8(0x80) >> UInt8(x & 7) : UInt8(1) << UInt8(x & 7)
                    p = bytes[line + x / 8] & bit != 0 ? ink : clear
                case 16:
                    let v = UInt32(bytes[line + 2 * x]) | UInt32(bytes[line + 2 * x + 1]) << 8
                    let r = (v >> 11) & 0x1F
                    let g = (v >> 5) & 0x3F
                    let b = v & 0x1F
                    p = (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2)
                default:
                    p =
                        UInt32(bytes[line + 4 * x + 2]) << 16 | UInt32(bytes[line + 4 * x + 1]) << 8
                        | UInt32(bytes[line + 4 * x])
                }
                canvas.pixels[y * width + x] = p
            }
        }
        return canvas
    }
}
