import CLinux
import Reactor

/// The LCD on a Linux framebuffer (`/dev/fb0`) or a plain file of the same layout: the layout
/// drawn with the built-in font, packed to 1, 16 (RGB565) or 32 bpp and written at offset 0.
/// Geometry comes from the board profile, or from FBIOGET_VSCREENINFO when not configured.
/// Changes within one loop iteration give one redraw when a reactor is given.
public final class FramebufferBackend: IndicatorBackend {
    private let path: String
    private var fd: Int32 = -1
    private let reactor: Reactor?
    private let layout: LCDLayout
    private let palette: LCDPalette
    private let faults: IndicatorFaults
    /// The pixel format in use (nil until known: configured or read from the device).
    public private(set) var format: PixelFormat?
    private var lcd = LCDState()
    private var pending = false
    private var closed = false
    /// The last frame written (the device's bytes).
    public private(set) var lastFrame: [UInt8] = []
    /// Number of frames written.
    public private(set) var frameCount = 0

    /// Opens `path` (created when it is a missing plain file). `format` nil: ask the device.
    public init(
        path: String, format: PixelFormat?, layout: LCDLayout, palette: LCDPalette, reactor: Reactor?,
        faults: IndicatorFaults
    ) {
        self.path = path
        self.format = format
        self.layout = layout
        self.palette = palette
        self.reactor = reactor
        self.faults = faults
        _ = ensureOpen()
    }

    private func ensureOpen() -> Bool {
        if closed { return false }
        if fd < 0 {
            let r = cl_open(path, O_RDWR | O_CREAT, 0o644)
            if r < 0 {
                faults.report("fb:" + path, IndicatorError("framebuffer: open " + path, errno: -r))
                return false
            }
            fd = r
        }
        if format == nil {
            var w: Int32 = 0
            var h: Int32 = 0
            var bpp: Int32 = 0
            var stride: Int32 = 0
            let rc = cl_fb_geometry(fd, &w, &h, &bpp, &stride)
            if rc < 0 {
                let why = IndicatorError("FBIOGET_VSCREENINFO", errno: -rc).message
                faults.report(
                    "fb:" + path,
                    IndicatorError(
                        "framebuffer: " + path + ": geometry unknown (" + why
                            + "); set lcd.width, lcd.height and lcd.bpp"))
                return false
            }
            if !PixelFormat.supportedDepths.contains(Int(bpp)) {
                faults.report(
                    "fb:" + path,
                    IndicatorError(
                        "framebuffer: " + path + ": " + String(bpp) + " bpp is not supported (1, 16 or 32)"))
                return false
            }
            format = PixelFormat(width: Int(w), height: Int(h), bitsPerPixel: Int(bpp), stride: Int(stride))
        }
        return true
    }

    /// The canvas for `lcd` at this backend's geometry (nil while the geometry is unknown).
    public func render(_ lcd: LCDState) -> Canvas? {
        guard let format else { return nil }
        return LCDRaster(width: format.width, height: format.height, layout: layout, palette: palette).render(lcd)
    }

    public func ledChanged(_ id: LEDID, _ state: LEDState) {}

    public func lcdChanged(_ lcd: LCDState) {
        self.lcd = lcd
        guard let reactor else {
            draw()
            return
        }
        if pending || closed { return }
        pending = true
        reactor.runSoon { [self] in
            pending = false
            draw()
        }
    }

    /// Draws the current contents now.
    public func draw() {
        guard ensureOpen(), let format, let canvas = render(lcd) else { return }
        let bytes = format.pack(canvas)
        let n = bytes.withUnsafeBytes { cl_pwrite_all(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            faults.report("fb:" + path, IndicatorError("framebuffer: write " + path, errno: Int32(-n)))
            return
        }
        faults.recovered("fb:" + path)
        lastFrame = bytes
        frameCount += 1
    }

    public func close() {
        closed = true
        if fd >= 0 { _ = cl_close(fd) }
        fd = -1
    }
}
