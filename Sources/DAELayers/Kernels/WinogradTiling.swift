import CDirectKernels

/// What Winograd F(2×2, 3×3) (``WinogradConvolution``) and F(4×4, 3×3)
/// (``WinogradF4Convolution``) share: the output cut into `m × m` tiles
/// (`m` = ``outputTile``), each carrying ``elements`` transformed entries
/// per channel, run in blocks of ``blockTiles`` tiles.
protocol WinogradTiling {
    /// Output pixels per tile side: 2 or 4.
    static var outputTile: Int { get }
    /// Transformed entries per tile: (m + 2)².
    static var elements: Int { get }
    /// The convolution's geometry: 3×3 kernel, stride 1, any padding.
    var geometry: ConvolutionGeometry { get set }
    /// Filters (Cout).
    var outputChannels: Int { get }
    /// Tiles transformed and multiplied together.
    var blockTiles: Int { get }
    /// Threads the forward pass splits its blocks across (1: the calling
    /// thread alone). Each has its own block scratch in the workspace.
    var threads: Int { get set }
}

extension WinogradTiling {
    /// Tile rows of one image.
    var tileRows: Int { (geometry.outputHeight + Self.outputTile - 1) / Self.outputTile }
    /// Tile columns of one image.
    var tileColumns: Int { (geometry.outputWidth + Self.outputTile - 1) / Self.outputTile }
    /// Tiles of one image.
    var tilesPerImage: Int { tileRows * tileColumns }

    /// Floats of workspace for `batch` images: one block's `V` and `M`, and one edge tile, for each of ``threads``.
    func workspaceCount(batch: Int) -> Int {
        threads * blockWorkspaceCount(batch: batch)
    }

    /// Floats of one thread's block scratch for `batch` images: one block's `V` and `M`, and one edge tile.
    func blockWorkspaceCount(batch: Int) -> Int {
        let tiles = min(blockTiles, max(1, batch * tilesPerImage))
        return tiles * Self.elements * (geometry.inputChannels + outputChannels) + Self.elements * geometry.inputChannels
    }

    /// The geometry as the C transforms take it.
    var shape: dae_winograd_shape {
        let g = geometry
        return dae_winograd_shape(inputHeight: g.inputHeight, inputWidth: g.inputWidth, inputChannels: g.inputChannels,
                                  outputHeight: g.outputHeight, outputWidth: g.outputWidth, outputChannels: outputChannels,
                                  padTop: g.padTop, padLeft: g.padLeft, tileRows: tileRows, tileColumns: tileColumns)
    }

    /// The same pass on images of another size: `geometry` has this one's
    /// kernel, stride and channels, so the transformed kernel serves as it is.
    func resized(to geometry: ConvolutionGeometry) -> Self {
        precondition(geometry.kernelHeight == self.geometry.kernelHeight && geometry.kernelWidth == self.geometry.kernelWidth
                     && geometry.stride == self.geometry.stride && geometry.inputChannels == self.geometry.inputChannels,
                     "a resized Winograd convolution keeps its kernel, stride and channels")
        var resized = self
        resized.geometry = geometry
        return resized
    }
}
