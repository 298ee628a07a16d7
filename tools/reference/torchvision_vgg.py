"""torchvision's VGG for the import/export tests (tests/PyTorch/TorchvisionImportTests.cs).

A width-reduced VGG built with torchvision's own VGG class and make_layers (the module
structure, and so the state-dict names, of torchvision.models.vgg11 / vgg16_bn), its three
classifier Linear layers resized to the reduced width. Random weights, BN statistics and
affine parameters drawn so that every tensor matters.

  make NET WIDTH SIDE CLASSES SEED WEIGHTS.pth INPUT.npy PROBS.npy
      saves the state dict with torch.save (zip format), a random preprocessed input
      [1, 3, SIDE, SIDE] and torchvision's softmax probabilities (eval mode)
  load NET WIDTH CLASSES WEIGHTS.safetensors INPUT.npy PROBS.npy
      loads a safetensors file in torchvision's names (strict load_state_dict) and writes the
      softmax probabilities of INPUT
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn
from torchvision.models.vgg import VGG, cfgs, make_layers

CONFIGS = {"vgg11": ("A", False), "vgg13": ("B", False), "vgg16": ("D", False), "vgg19": ("E", False),
           "vgg11_bn": ("A", True), "vgg16_bn": ("D", True)}


def scaled(c, width):
    return max(1, int(np.floor(c * width + 0.5)))


def build(net, width, classes):
    letter, bn = CONFIGS[net]
    cfg = [v if v == "M" else scaled(v, width) for v in cfgs[letter]]
    model = VGG(make_layers(cfg, batch_norm=bn), num_classes=classes)
    hidden, last = scaled(4096, width), cfg[-2]
    model.classifier[0] = nn.Linear(last * 7 * 7, hidden)
    model.classifier[3] = nn.Linear(hidden, hidden)
    model.classifier[6] = nn.Linear(hidden, classes)
    return model.eval()


def probabilities(model, x):
    with torch.no_grad():
        return torch.softmax(model(x), dim=1).numpy()


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    types = {"F32": np.float32, "F64": np.float64}
    return {k: torch.from_numpy(np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=types[v["dtype"]])
                                .reshape(v["shape"]).astype(np.float32))
            for k, v in header.items() if k != "__metadata__"}


def main():
    mode, net, width = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if mode == "make":
        side, classes, seed = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        weights, inp, out = sys.argv[7:10]
        torch.manual_seed(seed)
        model = build(net, width, classes)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
                elif isinstance(m, (nn.Linear, nn.Conv2d)):
                    m.bias.uniform_(-0.05, 0.05)
            model.classifier[6].weight.mul_(30)   # spread the probabilities so that the top 5 are distinct
        torch.save(model.state_dict(), weights)
        x = torch.randn(1, 3, side, side)
        np.save(inp, x.numpy())
        np.save(out, probabilities(model, x))
    elif mode == "load":
        classes = int(sys.argv[4])
        weights, inp, out = sys.argv[5:8]
        model = build(net, width, classes)
        model.load_state_dict(read_safetensors(weights), strict=True)
        np.save(out, probabilities(model.eval(), torch.from_numpy(np.load(inp))))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
