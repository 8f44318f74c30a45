"""Layer arithmetic shared by the families: output sizes, shapes through a stack,
parameter counts, receptive fields, multiply-accumulates. Layers are the contract's
dicts in torch.nn vocabulary; all results are exact integers."""

from __future__ import annotations

from typing import Any

Layer = dict[str, Any]
Shape = list[int]  # [C, H, W]


def _side(value: Any) -> int:
    """Square kernels/strides: accept 3 or [3, 3]."""
    if isinstance(value, list | tuple):
        if len(set(value)) != 1:
            raise ValueError(f"only square sizes are supported, got {value}")
        return int(value[0])
    return int(value)


def geometry(layer: Layer) -> tuple[int, int, int]:
    """(kernel, stride, dilation) of a conv or pool layer, with torch's defaults: a pool
    strides by its kernel size unless told otherwise."""
    k = _side(layer["kernel_size"])
    default_stride = 1 if layer["type"] == "Conv2d" else k
    return k, _side(layer.get("stride") or default_stride), _side(layer.get("dilation", 1))


def conv_output_size(n: int, kernel: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """floor((n + 2p - d(k-1) - 1) / s) + 1, as torch.nn.Conv2d computes it."""
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    return dilation * (kernel - 1) + 1


def conv_params(in_channels: int, out_channels: int, kernel: int, bias: bool = True, groups: int = 1) -> int:
    return out_channels * (in_channels // groups) * kernel * kernel + (out_channels if bias else 0)


def batchnorm_params(channels: int) -> int:
    """Trainable: a scale and a shift per channel (running statistics are buffers)."""
    return 2 * channels


def layer_params(layer: Layer) -> int:
    kind = layer["type"]
    if kind == "Conv2d":
        return conv_params(
            layer["in_channels"], layer["out_channels"], _side(layer["kernel_size"]),
            layer.get("bias", True), layer.get("groups", 1),
        )
    if kind == "BatchNorm2d":
        return batchnorm_params(layer["num_features"]) if layer.get("affine", True) else 0
    if kind == "Linear":
        return layer["in_features"] * layer["out_features"] + (
            layer["out_features"] if layer.get("bias", True) else 0
        )
    return 0


def total_params(layers: list[Layer]) -> int:
    return sum(layer_params(layer) for layer in layers)


def output_shape(layer: Layer, shape: Shape) -> Shape:
    """Shape [C, H, W] after one layer (Flatten gives [C*H*W], Linear [out])."""
    kind = layer["type"]
    if kind in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        k, s, d = geometry(layer)
        p = _side(layer.get("padding", 0))
        if kind == "AvgPool2d":
            d = 1  # torch's AvgPool2d has no dilation
        channels = layer["out_channels"] if kind == "Conv2d" else shape[0]
        return [channels] + [conv_output_size(n, k, p, s, d) for n in shape[1:]]
    if kind == "Flatten":
        size = 1
        for n in shape:
            size *= n
        return [size]
    if kind == "Linear":
        return [layer["out_features"]]
    return list(shape)  # ReLU, BatchNorm2d and friends keep the shape


def shapes_through(layers: list[Layer], shape: Shape) -> list[Shape]:
    """The shape after each layer, in order."""
    shapes = []
    for layer in layers:
        shape = output_shape(layer, shape)
        shapes.append(shape)
    return shapes


def receptive_field(layers: list[Layer]) -> int:
    """Receptive field (one side, input pixels) of one output unit of a conv/pool stack:
    r grows by d(k-1) times the product of the strides before the layer."""
    field, jump = 1, 1
    for layer in layers:
        if layer["type"] not in ("Conv2d", "MaxPool2d", "AvgPool2d"):
            continue
        k, s, d = geometry(layer)
        field += d * (k - 1) * jump
        jump *= s
    return field


def conv_macs(in_channels: int, out_channels: int, kernel: int, height: int, width: int, groups: int = 1) -> int:
    """Multiply-accumulates of a conv producing a height x width map (bias ignored)."""
    return out_channels * (in_channels // groups) * kernel * kernel * height * width


def conv_transpose_output_size(n: int, kernel: int, padding: int = 0, stride: int = 1, output_padding: int = 0,
                               dilation: int = 1) -> int:
    """(n - 1)s - 2p + d(k-1) + output_padding + 1, as torch.nn.ConvTranspose2d computes it."""
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def weight_fans(layer: Layer) -> tuple[int, int]:
    """(fan_in, fan_out) of a Linear or Conv2d weight as torch.nn.init counts them: the
    weight is [out, in] or [out, in, k, k], and each fan is its channel count times k*k."""
    if layer["type"] == "Linear":
        return layer["in_features"], layer["out_features"]
    area = _side(layer["kernel_size"]) ** 2
    return layer["in_channels"] * area, layer["out_channels"] * area
