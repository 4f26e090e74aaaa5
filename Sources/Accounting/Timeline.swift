/// Per-rank trace events for `--timeline`, kept as flat numbers so ranks can all-gather them, and
/// written by rank 0 as Chrome trace event JSON (Perfetto, chrome://tracing): one process per
/// rank; thread 0 the training loop (phases, forward, backward per layer), thread 1 the
/// communication thread (each bucket's all-reduce); counters for power and bytes sent.
package final class TimelineRecorder {
    package enum Kind: Int {
        case phase = 0, forward = 1, backward = 2, bucket = 3, power = 4, bytes = 5
    }
    /// [kind, detail, start, duration] per event, seconds on the aligned clock.
    package private(set) var flat: [Double] = []
    package let enabled: Bool
    package let limit: Int

    package init(enabled: Bool, limit: Int = 400_000) {
        self.enabled = enabled
        self.limit = limit
    }

    package func add(_ kind: Kind, _ detail: Int, start: Double, duration: Double) {
        guard enabled, flat.count < limit else { return }
        flat += [Double(kind.rawValue), Double(detail), start, duration]
    }

    /// Chrome trace JSON of every rank's events.
    package static func render(ranks: [[Double]], nodeOf: [Int], phaseNames: [String]) -> String {
        var events: [String] = []
        func us(_ s: Double) -> String { String(format: "%.3f", s * 1e6) }
        for (rank, flat) in ranks.enumerated() {
            events.append(#"{"ph":"M","name":"process_name","pid":\#(rank),"args":{"name":"rank \#(rank) (node \#(nodeOf[rank]))"}}"#)
            events.append(#"{"ph":"M","name":"process_sort_index","pid":\#(rank),"args":{"sort_index":\#(rank)}}"#)
            events.append(#"{"ph":"M","name":"thread_name","pid":\#(rank),"tid":0,"args":{"name":"training loop"}}"#)
            events.append(#"{"ph":"M","name":"thread_name","pid":\#(rank),"tid":1,"args":{"name":"communication"}}"#)
            var i = 0
            while i + 4 <= flat.count {
                let kind = Kind(rawValue: Int(flat[i])) ?? .phase, detail = Int(flat[i + 1]), start = flat[i + 2], dur = flat[i + 3]
                switch kind {
                case .phase:
                    events.append(#"{"ph":"X","name":"\#(phaseNames[detail])","cat":"phase","pid":\#(rank),"tid":0,"ts":\#(us(start)),"dur":\#(us(dur))}"#)
                case .forward:
                    events.append(#"{"ph":"X","name":"forward","cat":"compute","pid":\#(rank),"tid":0,"ts":\#(us(start)),"dur":\#(us(dur))}"#)
                case .backward:
                    events.append(#"{"ph":"X","name":"backward layer \#(detail)","cat":"compute","pid":\#(rank),"tid":0,"ts":\#(us(start)),"dur":\#(us(dur))}"#)
                case .bucket:
                    events.append(#"{"ph":"X","name":"all-reduce bucket \#(detail)","cat":"comm","pid":\#(rank),"tid":1,"ts":\#(us(start)),"dur":\#(us(dur))}"#)
                case .power:
                    events.append(#"{"ph":"C","name":"power (W)","pid":\#(rank),"ts":\#(us(start)),"args":{"W":\#(String(format: "%.3f", dur))}}"#)
                case .bytes:
                    events.append(#"{"ph":"C","name":"bytes sent","pid":\#(rank),"ts":\#(us(start)),"args":{"bytes":\#(Int(dur))}}"#)
                }
                i += 4
            }
        }
        return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n]}\n"
    }
}
