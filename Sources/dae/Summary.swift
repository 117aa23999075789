import ArgumentParser
import DAEKit
import Foundation

/// `dae summary`: the layer table of a model.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers, output shapes and parameter counts.",
        discussion: """
        Without --model, shows the tutorial's architecture, changed by \
        --filters, --kernel-size, --latent-dim and --input-shape if given.

        Examples:
          dae summary
          dae summary --model out/model.safetensors
          dae summary --filters 32,64,128 --input-shape 32,32,3
        """)

    @Option(help: ArgumentHelp("A checkpoint to describe.", valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("Height,width,channels of a new model's input (default: 28,28,1), or of a "
                               + "weights-only --model file's input instead of the inferred one.", valueName: "h,w,c"),
            transform: Parse.positiveIntegers)
    var inputShape: [Int]?

    @OptionGroup(title: "Architecture of a new model")
    var architecture: ArchitectureOptions

    func validate() throws {
        if let inputShape, inputShape.count != 3 {
            throw ValidationError("--input-shape needs three numbers: height,width,channels")
        }
        if model != nil && architecture.isSpecified {
            throw ValidationError("--model describes a saved model; --filters, --kernel-size and --latent-dim apply without it")
        }
    }

    func run() throws {
        if let model {
            let loaded = try ModelFile.load(model, inputShape: inputShape)
            Console.output(loaded.summary())
            var state = "Trained epochs: \(loaded.epochsCompleted)"
            if let seed = loaded.trainingSeed { state += " (seed \(seed))" }
            if let last = loaded.history.epochs.last {
                state += ", last train loss \(last.trainLoss)"
                if let validation = last.validationLoss { state += ", val loss \(validation)" }
            }
            Console.output(state)
        } else {
            let configuration = architecture.configuration(inputShape: inputShape ?? [28, 28, 1])
            Console.output(try DenoisingAutoencoder(configuration: configuration, seed: 0).summary())
        }
    }
}
