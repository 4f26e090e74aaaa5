import Foundation
import Collectives
import Datasets
import Energy
import Model

extension TrainConfig: Codable {
    package enum CodingKeys: String, CodingKey {
        case model, gptLayers = "gpt_layers", gptChannels = "gpt_channels", gptHeads = "gpt_heads", context
        case lrMinFactor = "lr_min_factor", gradClip = "grad_clip", evalWindows = "eval_windows", evalEvery = "eval_every"
        case layers, batchSize = "batch_size", epochs, steps, optimizer, lr, momentum, weightDecay = "weight_decay"
        case schedule, warmupSteps = "warmup_steps", seed, evalBatch = "eval_batch", data, out
        case flushEvery = "flush_every", checkpointEvery = "checkpoint_every", resume, verifyEvery = "verify_every"
        case onNonfinite = "on_nonfinite", stallSeconds = "stall_seconds", algorithm, segmentBytes = "segment_bytes"
        case smallMessageBytes = "small_message_bytes", largeMessageBytes = "large_message_bytes"
        case bucketBytes = "bucket_bytes", overlap, wire = "wire_dtype", powerSource = "power_source"
        case sampleHz = "sample_hz", idleSeconds = "idle_seconds", dram, estimateCoreWatts = "estimate_watts_per_busy_core"
        case estimateIdleWatts = "estimate_node_idle_watts", pue, networkJoulesPerByte = "network_joules_per_byte"
        case carbon = "carbon_g_per_kwh", price = "price_per_kwh", energyBudget = "energy_budget_j"
        case powercapRoot = "powercap_root", hwmonRoot = "hwmon_root"
    }

    /// Absent keys keep this type's defaults, so configurations written before a field existed still read.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.model, &model); try read(.gptLayers, &gpt.layers); try read(.gptChannels, &gpt.channels)
        try read(.gptHeads, &gpt.heads); try read(.context, &gpt.context)
        try read(.lrMinFactor, &lrMinFactor); try read(.gradClip, &gradClip); try read(.evalWindows, &evalWindows); try read(.evalEvery, &evalEvery)
        try read(.layers, &layers); try read(.batchSize, &batchSize); try read(.epochs, &epochs)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps)
        try read(.optimizer, &optimizer); try read(.lr, &learningRate); try read(.momentum, &momentum)
        try read(.weightDecay, &weightDecay); try read(.schedule, &schedule); try read(.warmupSteps, &warmupSteps)
        if let s = try c.decodeIfPresent(Int.self, forKey: .seed) { seed = UInt64(truncatingIfNeeded: s) }
        try read(.evalBatch, &evalBatch)
        if let d = try c.decodeIfPresent(String.self, forKey: .data) { data = try DataSpec.parse(d) }
        try read(.out, &out); try read(.flushEvery, &flushEvery)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery)
        resume = try c.decodeIfPresent(String.self, forKey: .resume)
        try read(.verifyEvery, &verifyEvery); try read(.onNonfinite, &onNonfinite); try read(.stallSeconds, &stallSeconds)
        try read(.algorithm, &algorithm); try read(.segmentBytes, &segmentBytes)
        try read(.smallMessageBytes, &smallMessageBytes); try read(.largeMessageBytes, &largeMessageBytes)
        bucketBytes = try c.decodeIfPresent(AutoOr<Int>.self, forKey: .bucketBytes)?.value
        overlap = try c.decodeIfPresent(AutoOr<Bool>.self, forKey: .overlap)?.value
        try read(.wire, &wire); try read(.powerSource, &powerSource); try read(.sampleHz, &sampleHz); try read(.idleSeconds, &idleSeconds); try read(.dram, &includeDRAM)
        try read(.estimateCoreWatts, &estimate.wattsPerBusyCore); try read(.estimateIdleWatts, &estimate.nodeIdleWatts)
        try read(.pue, &accounting.pue); try read(.networkJoulesPerByte, &accounting.networkJoulesPerByte)
        try read(.carbon, &accounting.carbonGramsPerKWh)
        accounting.pricePerKWh = try c.decodeIfPresent(Double.self, forKey: .price)
        energyBudgetJoules = try c.decodeIfPresent(Double.self, forKey: .energyBudget)
        try read(.powercapRoot, &powercapRoot); try read(.hwmonRoot, &hwmonRoot)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Only settings that apply are recorded: the GPT's shape and windows for the GPT, the
        // MLP's widths for the MLP, momentum for SGD (absent keys read back as the defaults).
        try c.encode(model, forKey: .model)
        if model == .gpt {
            try c.encode(gpt.layers, forKey: .gptLayers); try c.encode(gpt.channels, forKey: .gptChannels)
            try c.encode(gpt.heads, forKey: .gptHeads); try c.encode(gpt.context, forKey: .context)
            try c.encode(evalWindows, forKey: .evalWindows)
        } else {
            try c.encode(layers, forKey: .layers)
        }
        try c.encode(lrMinFactor, forKey: .lrMinFactor); try c.encode(gradClip, forKey: .gradClip)
        try c.encode(evalEvery, forKey: .evalEvery)
        try c.encode(batchSize, forKey: .batchSize); try c.encode(epochs, forKey: .epochs)
        try c.encode(steps, forKey: .steps); try c.encode(optimizer, forKey: .optimizer); try c.encode(learningRate, forKey: .lr)
        if optimizer == .sgd { try c.encode(momentum, forKey: .momentum) }
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(schedule, forKey: .schedule); try c.encode(warmupSteps, forKey: .warmupSteps)
        try c.encode(Int(truncatingIfNeeded: seed), forKey: .seed); try c.encode(evalBatch, forKey: .evalBatch)
        try c.encode(data.description, forKey: .data); try c.encode(out, forKey: .out); try c.encode(flushEvery, forKey: .flushEvery)
        try c.encode(checkpointEvery, forKey: .checkpointEvery); try c.encode(resume, forKey: .resume)
        try c.encode(verifyEvery, forKey: .verifyEvery); try c.encode(onNonfinite, forKey: .onNonfinite)
        try c.encode(stallSeconds, forKey: .stallSeconds); try c.encode(algorithm, forKey: .algorithm)
        try c.encode(segmentBytes, forKey: .segmentBytes); try c.encode(smallMessageBytes, forKey: .smallMessageBytes)
        try c.encode(largeMessageBytes, forKey: .largeMessageBytes)
        try c.encode(AutoOr(bucketBytes), forKey: .bucketBytes); try c.encode(AutoOr(overlap), forKey: .overlap)
        try c.encode(wire, forKey: .wire); try c.encode(powerSource, forKey: .powerSource); try c.encode(sampleHz, forKey: .sampleHz)
        try c.encode(idleSeconds, forKey: .idleSeconds)
        try c.encode(includeDRAM, forKey: .dram); try c.encode(estimate.wattsPerBusyCore, forKey: .estimateCoreWatts)
        try c.encode(estimate.nodeIdleWatts, forKey: .estimateIdleWatts); try c.encode(accounting.pue, forKey: .pue)
        try c.encode(accounting.networkJoulesPerByte, forKey: .networkJoulesPerByte)
        try c.encode(accounting.carbonGramsPerKWh, forKey: .carbon); try c.encode(accounting.pricePerKWh, forKey: .price)
        try c.encode(energyBudgetJoules, forKey: .energyBudget)
        // Fixture roots only: the real ones are the same on every machine and say nothing.
        let defaults = TrainConfig()
        if powercapRoot != defaults.powercapRoot { try c.encode(powercapRoot, forKey: .powercapRoot) }
        if hwmonRoot != defaults.hwmonRoot { try c.encode(hwmonRoot, forKey: .hwmonRoot) }
    }
}

/// A setting that is a value or "auto" in run files.
package struct AutoOr<T: Codable>: Codable {
    package var value: T?
    package init(_ value: T?) { self.value = value }
    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        value = (try? c.decode(String.self)) == "auto" ? nil : try c.decode(T.self)
    }
    package func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encode("auto") }
    }
}
