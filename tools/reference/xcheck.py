#!/usr/bin/python3
"""Cross-check of the engine against PyTorch (CPU).

Usage: /usr/bin/python3 tools/reference/xcheck.py CASES_DIR

CASES_DIR holds one folder per case, written by the engine's test suite:
  case.json        {"case": name, "dtype": "float32"|"float64", "training": bool,
                    "inputs": [names], "int_inputs": [names], "params": [names],
                    "states": [names], "outputs": n, "args": {...}}
  <input>.npy      every input; <param>.npy every parameter and state
  r<i>.npy         the projection of float output i: the objective is sum_i sum(r_i * y_i)
                   (a net case backpropagates from its loss: r is 1 for "loss", 0 for "logits";
                   nets.run_for_xcheck takes the labels and args["ignore"] for the loss)
This script writes torch_y<i>.npy, torch_grad_<name>.npy for every float input and parameter,
and torch_state_<name>.npy for states after the forward pass.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402  (the twins and their losses)


def mish(x):
    return x * torch.tanh(F.softplus(x))


def conv(a, x, p):
    return [F.conv2d(x["x0"], p["op.weight"], p.get("op.bias"), stride=a["stride"], padding=a["padding"],
                     dilation=a["dilation"], groups=a["groups"])]


def dense(a, x, p):
    return [F.linear(x["x0"].flatten(1), p["op.weight"], p.get("op.bias"))]


def batch_norm(a, x, p, s, training):
    return [F.batch_norm(x["x0"], s["op.running_mean"], s["op.running_var"], p["op.weight"], p["op.bias"],
                         training=training, momentum=a["momentum"], eps=a["eps"])]


def group_norm(a, x, p):
    return [F.group_norm(x["x0"], a["groups"], p["op.weight"], p["op.bias"], eps=a["eps"])]


def max_pool(a, x, p):
    return [F.max_pool2d(x["x0"], a["kernel"], a["stride"], a["padding"], ceil_mode=a["ceil"])]


def max_pool_indices(a, x, p):
    y, i = F.max_pool2d(x["x0"], a["kernel"], a["stride"], a["padding"], ceil_mode=a["ceil"], return_indices=True)
    return [y, i.to(torch.int32)]


def pool_unpool(a, x, p):
    y, i = F.max_pool2d(x["x0"], a["kernel"], a["stride"], 0, return_indices=True)
    u = F.max_unpool2d(y * 2, i, a["kernel"], a["stride"], output_size=x["x0"].shape[-2:])
    return [u]


def avg_pool(a, x, p):
    return [F.avg_pool2d(x["x0"], a["kernel"], a["stride"], a["padding"], ceil_mode=a["ceil"],
                         count_include_pad=a["count_include_pad"])]


def lrn(a, x, p):
    # The engine's alpha multiplies the window's sum of squares (the AlexNet/VGG papers' formula);
    # PyTorch divides its alpha by the size, so it gets alpha * size.
    return [F.local_response_norm(x["x0"], a["size"], alpha=a["alpha"] * a["size"], beta=a["beta"], k=a["k"])]


def cross_entropy(a, x, p):
    return [F.cross_entropy(x["x0"], x["x1"].long(), ignore_index=a["ignore"]).reshape(1)]


def focal_loss(a, x, p):
    return [nets.focal_loss(x["x0"], x["x1"], a["gamma"], a["ignore"]).reshape(1)]


def dice_loss(a, x, p):
    return [nets.dice_loss(x["x0"], x["x1"], a["smooth"], a["ignore"]).reshape(1)]


CASES = {
    "conv": conv,
    "dense": dense,
    "group_norm": group_norm,
    "mish": lambda a, x, p: [mish(x["x0"])],
    "relu": lambda a, x, p: [F.relu(x["x0"])],
    "lrn": lrn,
    "add": lambda a, x, p: [x["x0"] + x["x1"]],
    "max_pool": max_pool,
    "max_pool_indices": max_pool_indices,
    "pool_unpool": pool_unpool,
    "avg_pool": avg_pool,
    "global_avg_pool": lambda a, x, p: [F.adaptive_avg_pool2d(x["x0"], 1)],
    "adaptive_avg_pool": lambda a, x, p: [F.adaptive_avg_pool2d(x["x0"], (a["height"], a["width"]))],
    "upsample": lambda a, x, p: [F.interpolate(x["x0"], scale_factor=a["scale"], mode="nearest")],
    "concat": lambda a, x, p: [torch.cat([x[k] for k in sorted(x)], dim=1)],
    "dropout_eval": lambda a, x, p: [F.dropout(x["x0"], a["p"], training=False)],
    "cross_entropy": cross_entropy,
    "focal_loss": focal_loss,
    "dice_loss": dice_loss,
}


def load(d, name, dtype):
    arr = np.load(os.path.join(d, name + ".npy"))
    t = torch.from_numpy(arr)
    return t.to(dtype) if t.is_floating_point() else t


def run_case(d):
    with open(os.path.join(d, "case.json")) as f:
        c = json.load(f)
    dtype = torch.float64 if c["dtype"] == "float64" else torch.float32
    x = {n: load(d, n, dtype).requires_grad_() for n in c["inputs"]}
    x.update({n: load(d, n, dtype) for n in c["int_inputs"]})
    p = {n: load(d, n, dtype).requires_grad_() for n in c["params"]}
    s = {n: load(d, n, dtype) for n in c["states"]}
    kind = c["case"]
    if kind == "net":
        ys = nets.run_for_xcheck(c["args"], x, p, s, c["training"])
    elif kind == "batch_norm":
        ys = batch_norm(c["args"], x, p, s, c["training"])
    elif kind == "batch_norm_act":
        z = batch_norm(c["args"], x, p, s, c["training"])[0]
        ys = [mish(z) if c["args"]["activation"] == "mish" else F.relu(z)]
    else:
        ys = CASES[kind](c["args"], x, p)
    objective = 0
    for i, y in enumerate(ys):
        if y.is_floating_point():
            objective = objective + (load(d, f"r{i}", dtype) * y).sum()
        np.save(os.path.join(d, f"torch_y{i}.npy"), y.detach().numpy())
    objective.backward()
    for n, t in list(x.items()) + list(p.items()):
        if t.is_floating_point():
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            np.save(os.path.join(d, f"torch_grad_{n}.npy"), g.numpy())
    for n, t in s.items():
        np.save(os.path.join(d, f"torch_state_{n}.npy"), t.numpy())


def main():
    root = sys.argv[1]
    torch.set_num_threads(1)
    failures = 0
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(d):
            continue
        try:
            run_case(d)
        except Exception as e:  # report per case; the C# side names the missing outputs
            failures += 1
            with open(os.path.join(d, "torch_error.txt"), "w") as f:
                f.write(f"{type(e).__name__}: {e}")
    print(f"xcheck: {len(os.listdir(root))} cases, {failures} raised")


if __name__ == "__main__":
    main()
