// `import DAEKit` is all a user needs: the layer module's public types
// (Tensor, DAEError, SplitMix64, Adam, the layers) come with it.
@_exported import DAELayers
