"""A short notation for conv/pool networks, as students type them into a responses
CSV, read into the contract's layers (torch.nn vocabulary):

    conv 5x5 16, pool, conv 3x3 32, pool

- `conv KxK N`: a K x K convolution with N filters (output channels); its input channels
  are those of the maps it receives. `conv K N`, `conv 5x5 to 16 channels` and
  `conv3x3 16 filters` work too; `stride S` and `pad P` (or `padding P`) may follow.
- `pool`: a 2 x 2 max pool with stride 2; `pool KxK`, `stride S`, `max pool`,
  `maxpool` and `avg pool` are read as written.
- Layers are separated by commas, semicolons, `->` or new lines; `relu`, `bn` and
  `batchnorm` are skipped (they keep the shape and have no parameters to count here).

What cannot be read raises ValueError saying what was not understood. Whether the
network is allowed is the family's business (conv_architecture.check_design).
"""

from __future__ import annotations

import re
from typing import Any

from .shapes import Layer

NOTATION = "conv 5x5 16, pool, conv 3x3 32, pool"
_SEPARATORS = re.compile(r"\s*(?:,|;|\n|->|→|\|)\s*")
_SIZE = r"(\d+)\s*(?:[x×*]\s*(\d+))?"
_CONV = re.compile(r"conv(?:olution)?(?:2d)?\s*[-:]?\s*" + _SIZE + r"\s*[-:]?\s*(?:(?:to|with)\s+)?(\d+)\s*"
                   r"(?:filters?|channels?|maps?|kernels?|out(?:puts?)?)?\s*(.*)", re.IGNORECASE)
_POOL = re.compile(r"(max|avg|average|mean)?\s*[-_]?\s*pool(?:ing)?(?:2d)?\s*(?:" + _SIZE + r")?\s*(.*)",
                   re.IGNORECASE)
_OPTION = re.compile(r"(stride|padding|pad)\s*[=:]?\s*(\d+)", re.IGNORECASE)
_SKIPPED = re.compile(r"(relu|bn|batch\s*norm(?:2d)?|activation)(\(\))?", re.IGNORECASE)


def parse_design(text: str, in_channels: int) -> list[Layer]:
    """The layers a design in the notation describes, starting from `in_channels` maps.
    A rectangular kernel is kept as [k, j] (shapes.py then refuses to compute with it)."""
    body = text.strip()
    if body[:1] in "[(" and body[-1:] in "])":
        body = body[1:-1]
    items = [item for item in _SEPARATORS.split(body) if item.strip()]
    if not items:
        raise ValueError(f"no layers; write a network as {NOTATION}")
    layers: list[Layer] = []
    channels = in_channels
    for item in items:
        if _SKIPPED.fullmatch(item):
            continue
        options = _options(item) if _OPTION.match(item) else None
        if options is not None:  # `conv 3x3 16, stride 2`: an option of the layer before it
            if not layers:
                raise ValueError(f"{item!r} comes before any layer")
            layers[-1].update(options)
            continue
        layer = _layer(item, channels)
        if layer["type"] == "Conv2d":
            channels = layer["out_channels"]
        layers.append(layer)
    if not layers:
        raise ValueError(f"no convolution or pool; write a network as {NOTATION}")
    return layers


def _layer(item: str, channels: int) -> Layer:
    conv = _CONV.fullmatch(item.strip())
    if conv:
        k, j, filters, rest = conv.groups()
        layer: Layer = {"type": "Conv2d", "in_channels": channels, "out_channels": int(filters),
                        "kernel_size": _size(k, j), "bias": True}
        layer.update(_options(rest, item))
        return layer
    pool = _POOL.fullmatch(item.strip())
    if pool:
        kind, k, j, rest = pool.groups()
        average = (kind or "").lower() in ("avg", "average", "mean")
        size = _size(k, j) if k else 2
        layer = {"type": "AvgPool2d" if average else "MaxPool2d", "kernel_size": size, "stride": 2 if not k else size}
        layer.update(_options(rest, item))
        return layer
    raise ValueError(f"{item.strip()!r} is not a layer; write a network as {NOTATION} (conv KxK FILTERS, pool)")


def _size(k: str, j: str | None) -> int | list[int]:
    return int(k) if j is None or j == k else [int(k), int(j)]


def _options(text: str, item: str | None = None) -> dict[str, Any]:
    """`stride 2 pad 1` -> {"stride": 2, "padding": 1}; anything else left over is an error."""
    found: dict[str, Any] = {}
    rest = text
    for match in _OPTION.finditer(text):
        name = "stride" if match.group(1).lower() == "stride" else "padding"
        found[name] = int(match.group(2))
        rest = rest.replace(match.group(0), " ", 1)
    if rest.strip(" ,"):
        raise ValueError(f"{(item or text).strip()!r}: {rest.strip()!r} is not understood; a layer is conv KxK "
                         "FILTERS or pool, optionally with stride S and pad P")
    return found


def design_text(layers: list[Layer]) -> str:
    """A network (the contract's layers) in the notation: the key's design as a student
    would type it."""
    items = []
    for layer in layers:
        k = layer["kernel_size"]
        size = f"{k}x{k}" if isinstance(k, int) else "x".join(map(str, k))
        if layer["type"] == "Conv2d":
            extra = "".join(f" {name} {layer[name]}" for name in ("stride", "padding")
                            if layer.get(name, 1 if name == "stride" else 0) != (1 if name == "stride" else 0))
            items.append(f"conv {size} {layer['out_channels']}{extra}")
        else:
            kind = "avg pool" if layer["type"] == "AvgPool2d" else "pool"
            plain = layer["kernel_size"] == 2 and layer.get("stride", 2) == 2
            items.append(kind if plain else f"{kind} {size} stride {layer.get('stride', k)}")
    return ", ".join(items)
