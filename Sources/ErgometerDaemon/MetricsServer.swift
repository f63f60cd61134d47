import ErgometerCore
import ErgometerProbes
public import Hummingbird
import ErgometerWire
import NIOCore

/// The read-only TCP side of ergod: `GET /metrics` in Prometheus text format. It answers from
/// the board; the sampler is asked (never waited on while it ticks) only when the page is stale.
public enum MetricsRoutes {
    public static func router(sampler: Sampler) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let board = sampler.board
        router.get("/metrics") { _, _ -> Response in
            var body = board.current(now: sampler.clock.monotonicNanoseconds())
            if body == nil {
                await sampler.publishMetricsIfStale()
                body = board.latest()
            }
            return Response(
                status: .ok, headers: [.contentType: PrometheusTextWriter.contentType],
                body: .init(byteBuffer: body ?? ByteBuffer()))
        }
        router.get("/") { _, _ -> Response in
            let page = "ergod \(ErgometerVersion.current): Prometheus metrics at /metrics\n"
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        return router
    }
}
