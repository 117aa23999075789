extension DenoisingAutoencoder {
    /// A table of the layers, their output shapes and parameter counts, like Keras's `model.summary()`.
    ///
    /// ```
    /// Layer                 Type              Output shape          Params
    /// encoder.conv0         Conv2D            (None, 14, 14, 32)       320
    /// …
    /// Total params: 178,001
    /// ```
    public func summary() -> String {
        let rows = [[configuration.inputShape.isEmpty ? "" : "input", "InputLayer", Self.shapeText(configuration.inputShape), "0"]]
            + network.bareLayers.map { [$0.name, $0.kind, Self.shapeText($0.outputShape), Self.grouped($0.parameterCount)] }
        var text = TextTable(header: ["Layer", "Type", "Output shape", "Params"], alignments: [.left, .left, .left, .right],
                             rows: rows).lines(style: .plain(rule: "─"))
        let rule = text[1]
        text += [rule, "Total params: \(Self.grouped(parameterCount))"]
        if configuration.target == .noise {
            let field = 2 * configuration.receptiveRadius + 1
            text += ["Residual: the layers predict the noise; output = clip(input − prediction, 0, 1)",
                     "Receptive field: \(field)x\(field); runs on images of any size (trained on \(configuration.inputShape[0])x\(configuration.inputShape[1]) patches)"]
        } else {
            text += ["Encoder: \(network.bareLayers[..<decoderStart].map(\.name).joined(separator: " → "))",
                     "Decoder: \(network.bareLayers[decoderStart...].map(\.name).joined(separator: " → "))"]
        }
        return text.joined(separator: "\n")
    }

    static func shapeText(_ shape: [Int]) -> String {
        "(None, " + shape.map(String.init).joined(separator: ", ") + ")"
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}
