// `import DAEKit` is all a user needs: the layer module's public types
// (Tensor, DAEError, SplitMix64, Adam, the layers) and the image module's
// (Image, PNG, JPEG, ImageReader, PNGRowWriter, TilePlan) come with it.
@_exported import DAELayers
@_exported import DAEImageIO
