#!/usr/bin/python3
"""PyTorch twins of the engine's nets (engine/Nets), for parity checks on a GPU machine.

state_dict keys equal the engine's parameter and state names ("stage4.osa2.conv3.weight",
"stage4.osa2.conv3_norm.running_mean"); BN's num_batches_tracked buffer is dropped so the key
sets match exactly. Weights: Dense keeps PyTorch's Linear layout [out, in], convs [out, in, k, k].

    /usr/bin/python3 tools/reference/nets.py --count vovnet57     # parameter counts
    /usr/bin/python3 tools/reference/nets.py --keys all           # net, kind, name, shape per line
    /usr/bin/python3 tools/reference/nets.py --parity DIR         # see parity()

Dropout masks differ from the engine's hashed masks: compare in eval mode, or without dropout.
"""
import argparse
import math
import sys

import torch
from torch import nn
import torch.nn.functional as F


def scale(channels, width):
    """A channel count times the width multiplier, rounded half away from zero, at least 1."""
    return max(1, int(math.floor(channels * width + 0.5)))


def group_count(channels):
    """32 groups, or the largest divisor of the channel count below 32."""
    for g in range(min(32, channels), 1, -1):
        if channels % g == 0:
            return g
    return 1


def make_norm(norm, channels):
    if norm == "bn":
        bn = nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
        bn.num_batches_tracked = None  # not an engine state; PyTorch skips None buffers
        return bn
    if norm == "gn":
        return nn.GroupNorm(group_count(channels), channels, eps=1e-5)
    return None


class Seq(nn.Module):
    """Applies its children in registration order (names chosen by the caller, like the engine's nodes)."""

    def add(self, name, module):
        self.add_module(name, module)
        return self

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


def conv_unit(module, name, cin, cout, kernel, norm, act, bias, stride=1, padding=None):
    """conv -> norm -> activation registered on `module` as '{name}', '{name}_norm', '{name}_{relu|mish}'."""
    module.add_module(name, nn.Conv2d(cin, cout, kernel, stride, kernel // 2 if padding is None else padding, bias=bias))
    normalization = make_norm(norm, cout)
    if normalization is not None:
        module.add_module(name + "_norm", normalization)
    module.add_module(name + ("_mish" if act == "mish" else "_relu"), nn.Mish() if act == "mish" else nn.ReLU())
    return cout


# ---------------------------------------------------------------- VoVNet-57

class Osa(nn.Module):
    def __init__(self, cin, mid, cout, norm, input_in_concat):
        super().__init__()
        self.input_in_concat = input_in_concat
        c = cin
        for i in range(1, 6):
            c = conv_unit(self, f"conv{i}", c, mid, 3, norm, "mish", bias=False)
        cat = 5 * mid + (cin if input_in_concat else 0)
        conv_unit(self, "proj", cat, cout, 1, norm, "mish", bias=False)

    def _unit(self, name, x):
        x = getattr(self, name)(x)
        if hasattr(self, name + "_norm"):
            x = getattr(self, name + "_norm")(x)
        return getattr(self, name + "_mish")(x)

    def forward(self, x):
        parts = [x] if self.input_in_concat else []
        y = x
        for i in range(1, 6):
            y = self._unit(f"conv{i}", y)
            parts.append(y)
        return self._unit("proj", torch.cat(parts, 1))


class VoVNet57(nn.Module):
    STAGES = [(128, 256, 1), (160, 512, 1), (192, 768, 4), (224, 1024, 3)]

    def __init__(self, classes=1000, in_channels=3, norm="bn", width=1.0, input_in_concat=False, head=True):
        super().__init__()
        self.stem = Seq()
        c = in_channels
        for i, w in enumerate([64, 64, 128]):
            c = conv_unit(self.stem, f"conv{i + 1}", c, scale(w, width), 3, norm, "mish", bias=False, stride=2 if i == 0 else 1)
        for s, (mid, out, modules) in enumerate(self.STAGES):
            stage = Seq().add("pool", nn.MaxPool2d(3, 2, 1))
            for m in range(modules):
                stage.add(f"osa{m + 1}", Osa(c, scale(mid, width), scale(out, width), norm, input_in_concat))
                c = scale(out, width)
            self.add_module(f"stage{s + 2}", stage)
        self.channels = c
        if head:
            self.head = Seq().add("gap", nn.AdaptiveAvgPool2d(1)).add("flatten", nn.Flatten()).add("fc", nn.Linear(c, classes))

    def features(self, x):
        """The stages' outputs, at strides 4, 8, 16 and 32."""
        x = self.stem(x)
        out = []
        for s in range(2, 6):
            x = getattr(self, f"stage{s}")(x)
            out.append(x)
        return out

    def forward(self, x):
        return self.head(self.features(x)[-1])


def unit(module, name, x):
    """Applies the conv unit '{name}' registered by conv_unit (conv, optional norm, activation)."""
    x = getattr(module, name)(x)
    if hasattr(module, name + "_norm"):
        x = getattr(module, name + "_norm")(x)
    act = getattr(module, name + "_mish", None) or getattr(module, name + "_relu")
    return act(x)


def separable_unit(module, name, cin, cout, norm, dilation=1):
    """Depthwise 3x3 '{name}_dw' (groups = channels, no bias, dilated) + pointwise conv unit '{name}'."""
    module.add_module(name + "_dw", nn.Conv2d(cin, cin, 3, 1, dilation, dilation, groups=cin, bias=False))
    return conv_unit(module, name, cin, cout, 1, norm, "mish", bias=False)


def separable(module, name, x):
    return unit(module, name, getattr(module, name + "_dw")(x))


class VoVNet57Seg(nn.Module):
    """vovnet57-seg (engine/Nets/VoVNetSeg.cs): backbone features at strides 4..32, JPU, DeepLabv3+-like decoder."""

    def __init__(self, classes=151, in_channels=3, norm="bn", width=1.0):
        super().__init__()
        backbone = VoVNet57(in_channels=in_channels, norm=norm, width=width, head=False)
        self.stem = backbone.stem
        for s in range(2, 6):
            self.add_module(f"stage{s}", getattr(backbone, f"stage{s}"))
        widths = [scale(w, width) for w in (256, 512, 768, 1024)]
        jpu, dec, skip = scale(512, width), scale(320, width), scale(64, width)
        self.jpu = nn.Module()
        for i, stride in enumerate((8, 16, 32)):
            conv_unit(self.jpu, f"conv{stride}", widths[i + 1], jpu, 3, norm, "mish", bias=False)
        for d in (1, 2, 4, 8):
            separable_unit(self.jpu, f"dilation{d}", 3 * jpu, jpu, norm, d)
        self.decoder = nn.Module()
        conv_unit(self.decoder, "reduce", 4 * jpu, dec, 1, norm, "mish", bias=False)
        conv_unit(self.decoder, "skip", widths[0], skip, 1, norm, "mish", bias=False)
        separable_unit(self.decoder, "fuse", dec + skip, dec, norm)
        self.classifier = nn.Conv2d(dec, classes, 1)

    def forward(self, x):
        x = self.stem(x)
        f = []
        for s in range(2, 6):
            x = getattr(self, f"stage{s}")(x)
            f.append(x)
        up = lambda t, k: F.interpolate(t, scale_factor=k, mode="nearest")
        maps = [unit(self.jpu, f"conv{8 << i}", f[i + 1]) for i in range(3)]
        joint = torch.cat([maps[0], up(maps[1], 2), up(maps[2], 4)], 1)
        context = torch.cat([separable(self.jpu, f"dilation{d}", joint) for d in (1, 2, 4, 8)], 1)
        y = up(unit(self.decoder, "reduce", context), 2)
        y = torch.cat([y, unit(self.decoder, "skip", f[0])], 1)
        y = up(up(separable(self.decoder, "fuse", y), 2), 2)
        return self.classifier(y)


# ---------------------------------------------------------------- losses

def focal_loss(logits, labels, gamma, ignore):
    """Softmax focal loss: mean over non-ignored positions of -(1 - p)^gamma ln p (engine/Ops/SoftmaxFocalLoss.cs)."""
    keep = labels != ignore
    logp = F.log_softmax(logits, 1).gather(1, torch.where(keep, labels, 0).long().unsqueeze(1)).squeeze(1)
    terms = -((1 - logp.exp()) ** gamma) * logp
    count = keep.sum()
    return (terms * keep).sum() / count if count > 0 else terms.sum() * 0


def dice_loss(logits, labels, smooth, ignore):
    """Soft Dice over the batch's positions, 1 - mean over classes of (2I + s) / (P + T + s) (engine/Ops/SoftmaxDiceLoss.cs)."""
    keep = (labels != ignore).unsqueeze(1).to(logits.dtype)
    probs = F.softmax(logits, 1) * keep
    onehot = F.one_hot(torch.where(labels != ignore, labels, 0).long(), logits.shape[1]).movedim(-1, 1).to(logits.dtype) * keep
    dims = [0] + list(range(2, logits.dim()))
    dice = (2 * (probs * onehot).sum(dims) + smooth) / (probs.sum(dims) + onehot.sum(dims) + smooth)
    return 1 - dice.mean()


# ---------------------------------------------------------------- VGG

LRN = "lrn"  # local response normalisation, the paper's size 5, alpha 1e-4 (on the sum: PyTorch's alpha is divided by the size), beta 0.75, k 2
VGG_CONFIGS = {  # width = 3x3 conv, -width = 1x1 conv, 0 = 2x2/2 max pool
    "A": [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
    "A-LRN": [64, LRN, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
    "B": [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
    "C": [64, 64, 0, 128, 128, 0, 256, 256, -256, 0, 512, 512, -512, 0, 512, 512, -512, 0],
    "D": [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
    "E": [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
}


class Vgg(nn.Module):
    def __init__(self, config, classes=1000, input_shape=(3, 224, 224), norm="none", width=1.0,
                 dense_evaluation=False, dense_kernel=7):
        super().__init__()
        c, h, w = input_shape
        block, conv = 1, 1
        self.blocks = []
        current = Seq()
        for layer in VGG_CONFIGS[config]:
            if layer == LRN:
                current.add("lrn", nn.LocalResponseNorm(5, alpha=1e-4 * 5, beta=0.75, k=2))
                continue
            if layer == 0:
                current.add("pool", nn.MaxPool2d(2, 2))
                self.add_module(f"block{block}", current)
                self.blocks.append(f"block{block}")
                current, block, conv, h, w = Seq(), block + 1, 1, h // 2, w // 2
                continue
            c = conv_unit(current, f"conv{conv}", c, scale(abs(layer), width), 3 if layer > 0 else 1, norm, "relu", bias=True)
            conv += 1
        hidden = scale(4096, width)
        self.dense_evaluation = dense_evaluation
        if dense_evaluation:
            self.fc6 = nn.Conv2d(c, hidden, dense_kernel)
            self.fc7 = nn.Conv2d(hidden, hidden, 1)
        else:
            self.fc6 = nn.Linear(c * h * w, hidden)
            self.fc7 = nn.Linear(hidden, hidden)
        self.fc8 = nn.Linear(hidden, classes)

    def forward(self, x):
        for b in self.blocks:
            x = getattr(self, b)(x)
        if not self.dense_evaluation:
            x = torch.flatten(x, 1)
        x = F.dropout(F.relu(self.fc6(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.fc7(x)), 0.5, self.training)
        if self.dense_evaluation:
            x = x.mean(dim=(2, 3))  # averaging fc7's map = averaging fc8's class score map (fc8 is affine)
        return self.fc8(x)


# ---------------------------------------------------------------- SegNet / FCN

ENCODER = [(2, 1), (2, 2), (3, 4), (3, 8), (3, 8)]
DECODERS = {
    "segnet": [(3, 4), (3, 2), (2, 1), (2, 1)],
    "fcn": [(3, 4), (3, 2), (2, 2), (2, 1)],
    "fcn-clean": [(3, 4), (3, 2), (2, 1), (2, 1)],  # segnet's widths and dropout, upsampling: indices the only difference
}


class SegNet(nn.Module):
    def __init__(self, variant="segnet", classes=22, in_channels=3, norm="bn", width=1.0):
        super().__init__()
        f = 32
        self.indices = variant == "segnet"
        self.dropout = variant != "fcn"
        c = in_channels
        for s, (convs, mult) in enumerate(ENCODER):
            enc = Seq()
            for i in range(1, convs + 1):
                c = conv_unit(enc, f"conv{i}", c, scale(f * mult, width), 3, norm, "relu", bias=True)
            self.add_module(f"enc{s + 1}", enc)
        for s, (convs, mult) in enumerate(DECODERS[variant]):
            dec = Seq()
            for i in range(1, convs + 1):
                c = conv_unit(dec, f"conv{i}", c, scale(f * mult, width), 3, norm, "relu", bias=True)
            self.add_module(f"dec{4 - s}", dec)
        self.classifier = nn.Conv2d(c, classes, 3, padding=1)

    def forward(self, x):
        skips = []
        for s in range(1, 6):
            x = getattr(self, f"enc{s}")(x)
            if s == 5:
                break
            if self.indices:
                size = x.shape[-2:]
                x, idx = F.max_pool2d(x, 2, 2, return_indices=True)
                skips.append((idx, size))
            else:
                x = F.max_pool2d(x, 2, 2)
        if self.dropout:
            x = F.dropout(x, 0.5, self.training)
        for s in range(4, 0, -1):
            if self.indices:
                idx, size = skips.pop()
                x = F.max_unpool2d(x, idx, 2, 2, output_size=size)
            else:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = getattr(self, f"dec{s}")(x)
        return self.classifier(x)


# ---------------------------------------------------------------- registry

def build(name, classes=None, input_shape=None, norm=None, width=1.0, dense_evaluation=False, dense_kernel=7):
    if name == "vovnet57-seg":
        return VoVNet57Seg(classes or 151, (input_shape or (3, 320, 480))[0], norm or "bn", width)
    if name.startswith("vovnet57"):
        return VoVNet57(classes or 1000, (input_shape or (3, 224, 224))[0], norm or "bn", width, name == "vovnet57-paper")
    vgg = {"vgg11": "A", "vgg11-lrn": "A-LRN", "vgg13": "B", "vgg16-c": "C", "vgg16": "D", "vgg19": "E"}
    if name in vgg:
        return Vgg(vgg[name], classes or 1000, input_shape or (3, 224, 224), norm or "none", width, dense_evaluation, dense_kernel)
    if name in DECODERS:
        return SegNet(name, classes or 22, (input_shape or (3, 64, 64))[0], norm or "bn", width)
    raise SystemExit(f"error: unknown net '{name}'; known nets: {', '.join(NAMES)}")


NAMES = ["vovnet57", "vovnet57-paper", "vgg11", "vgg11-lrn", "vgg13", "vgg16-c", "vgg16", "vgg19", "segnet", "vovnet57-seg", "fcn", "fcn-clean"]


def parity(root):
    """For each folder under `root` holding args.txt (a net name and options, as on this command
    line), image.npy and one NAME.npy per parameter and state of the engine's net: loads them
    into the twin (float64, eval mode), writes logits.npy and keys.txt (kind, name, shape)."""
    import os
    import numpy as np
    for sub in sorted(os.listdir(root)):
        folder = os.path.join(root, sub)
        with open(os.path.join(folder, "args.txt")) as f:
            a = parser().parse_args(f.read().split())
        m = build(a.net, **options(a)).double().eval()
        trainable = {id(t) for t in m.parameters()}
        with open(os.path.join(folder, "keys.txt"), "w") as f:
            for key, t in m.state_dict(keep_vars=True).items():
                f.write(f"{'param' if id(t) in trainable else 'state'}\t{key}\t{'x'.join(str(d) for d in t.shape)}\n")
        state = {}
        for key, t in m.state_dict().items():
            path = os.path.join(folder, key + ".npy")
            if os.path.exists(path):
                state[key] = torch.from_numpy(np.load(path)).reshape(t.shape)
        m.load_state_dict(state, strict=False)
        with torch.no_grad():
            logits = m(torch.from_numpy(np.load(os.path.join(folder, "image.npy"))))
        np.save(os.path.join(folder, "logits.npy"), logits.numpy())


def run_for_xcheck(args, x, p, s, training):
    """For tools/reference/xcheck.py: the twin of args["net"] run on the engine's parameters and
    states (dicts by name); returns [logits, loss] in the engine's output order (by name)."""
    from torch.nn.utils.stateless import functional_call
    import torch.nn.functional as F
    shape = tuple(x["image"].shape[1:])
    m = build(args["net"], classes=args["classes"], input_shape=shape, norm=args.get("norm"), width=args["width"])
    m = m.to(x["image"].dtype).train(training)
    logits = functional_call(m, {**p, **s}, (x["image"],))
    ignore = args.get("ignore", -100)
    if args.get("loss") == "focal_dice":
        loss = focal_loss(logits, x["label"], 2, ignore) + dice_loss(logits, x["label"], 1, ignore)
    else:
        loss = F.cross_entropy(logits, x["label"].long(), ignore_index=ignore)
    return [logits, loss.reshape(1)]


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("net", nargs="?", help="net name (for --parity's args.txt)")
    p.add_argument("--count", metavar="NET", help="print the parameter count of NET (or 'all')")
    p.add_argument("--keys", metavar="NET", help="print NET's parameter and state names with shapes (or 'all')")
    p.add_argument("--parity", metavar="DIR", help="run the twins on the engine's exported nets (see parity())")
    p.add_argument("--classes", type=int)
    p.add_argument("--norm", choices=["bn", "gn", "none"])
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--input", help="CxHxW")
    p.add_argument("--dense-eval", action="store_true")
    p.add_argument("--dense-kernel", type=int, default=7)
    return p


def options(a):
    shape = tuple(int(d) for d in a.input.split("x")) if a.input else None
    return dict(classes=a.classes, input_shape=shape, norm=a.norm, width=a.width,
                dense_evaluation=a.dense_eval, dense_kernel=a.dense_kernel)


def main():
    p = parser()
    a = p.parse_args()
    kw = options(a)
    if a.count:
        for name in NAMES if a.count == "all" else [a.count]:
            m = build(name, **kw)
            params = sum(t.numel() for t in m.parameters())
            states = sum(t.numel() for t in m.buffers())
            print(f"{name}: {params:,} parameters, {states:,} running statistics")
    elif a.keys:
        for name in NAMES if a.keys == "all" else [a.keys]:
            m = build(name, **kw)
            trainable = {id(t) for t in m.parameters()}
            for key, t in m.state_dict(keep_vars=True).items():
                kind = "param" if id(t) in trainable else "state"
                print(f"{name}\t{kind}\t{key}\t{'x'.join(str(d) for d in t.shape)}")
    elif a.parity:
        parity(a.parity)
    else:
        p.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
