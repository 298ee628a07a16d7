#!/usr/bin/python3
"""Times one CPU training step (forward, backward, plain SGD update) of the PyTorch twin of a net.

Same measurement as tools/bench/CpuStep: random images in [0, 1), random labels, float32,
median over --steps after --warmup steps. Prints "RESULT torch <ms>".
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", default="segnet")
    p.add_argument("--input", default="3x64x64")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--classes", type=int)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    shape = tuple(int(d) for d in a.input.split("x"))
    torch.set_num_threads(os.cpu_count() or 1)  # Debian's build may default to 1; use every core, as the engine does
    torch.manual_seed(3)
    m = nets.build(a.net, classes=a.classes, input_shape=shape).train()
    x = torch.rand(a.batch, *shape)
    logits = m(x)
    classes = logits.shape[1]
    y = torch.randint(0, classes, (a.batch,) + tuple(logits.shape[2:]))
    opt = torch.optim.SGD(m.parameters(), lr=0.001)

    def step():
        t = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        return (time.perf_counter() - t) * 1000

    for _ in range(a.warmup):
        step()
    times = sorted(step() for _ in range(a.steps))
    median = times[len(times) // 2]
    print(f"torch {torch.__version__} {a.net} input {a.input} batch {a.batch}: median {median:.1f} ms/step "
          f"(min {times[0]:.1f}, max {times[-1]:.1f}, {a.steps} steps, {torch.get_num_threads()} threads)")
    print(f"RESULT torch {median:.3f}")


if __name__ == "__main__":
    main()
