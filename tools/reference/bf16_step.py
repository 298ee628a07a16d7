"""One training step of a small conv net under the engine's emulated-bf16 rule, in PyTorch.

The rule (engine/Graph/PRECISION.md): every stored activation and activation gradient is rounded
to bf16 (round to nearest even, float storage); convolution and GEMM weights are fed as bf16
copies while the fp32 masters take the gradient; biases, batch-norm parameters and statistics,
the loss and parameter gradients stay fp32. Here the rounding is torch's own float -> bfloat16
conversion, so the engine's rounding and its placement are both checked
(tests/MixedPrecision/Bf16TorchCrossCheckTests.cs).

usage: bf16_step.py DIR   DIR holds x.npy, labels.npy and PARAM.npy per parameter; writes
                          torch-bf16.PARAM.npy (gradients) and prints the losses as JSON.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


class Stored(torch.autograd.Function):
    """A stored tensor: bf16 value, bf16 gradient."""

    @staticmethod
    def forward(ctx, x):
        return x.to(torch.bfloat16).to(torch.float32)

    @staticmethod
    def backward(ctx, g):
        return g.to(torch.bfloat16).to(torch.float32)


class Operand(torch.autograd.Function):
    """A weight fed to a product as a bf16 copy; its gradient goes to the fp32 master as it is."""

    @staticmethod
    def forward(ctx, w):
        return w.to(torch.bfloat16).to(torch.float32)

    @staticmethod
    def backward(ctx, g):
        return g


def step(d, p, bf16):
    s = Stored.apply if bf16 else (lambda t: t)
    o = Operand.apply if bf16 else (lambda t: t)
    x = s(torch.from_numpy(np.load(os.path.join(d, "x.npy"))).float())
    labels = torch.from_numpy(np.load(os.path.join(d, "labels.npy"))).long()
    h = s(F.conv2d(x, o(p["c1.weight"]), p["c1.bias"], padding=1))
    h = s(F.batch_norm(h, None, None, p["n1.weight"], p["n1.bias"], training=True, eps=1e-5))
    h = s(F.relu(h))
    h = s(F.max_pool2d(h, 2, 2))
    h = s(F.conv2d(h, o(p["c2.weight"]), None, padding=1))
    h = s(F.batch_norm(h, None, None, p["n2.weight"], p["n2.bias"], training=True, eps=1e-5))
    h = s(F.relu(h))
    h = s(h.mean((2, 3)))
    logits = s(F.linear(h, o(p["fc.weight"]), p["fc.bias"]))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return loss.item()


def main():
    d = sys.argv[1]
    names = ["c1.weight", "c1.bias", "n1.weight", "n1.bias", "c2.weight", "n2.weight", "n2.bias", "fc.weight", "fc.bias"]
    losses = {}
    for bf16 in (True, False):
        p = {n: torch.from_numpy(np.load(os.path.join(d, n + ".npy"))).float().requires_grad_() for n in names}
        losses["bf16" if bf16 else "fp32"] = step(d, p, bf16)
        if bf16:
            for n in names:
                np.save(os.path.join(d, "torch-bf16." + n + ".npy"), p[n].grad.double().numpy())
    print(json.dumps(losses))


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)
    main()
