#!/usr/bin/env python3
"""PyTorch twins of tools/bench: the same ops on the same shapes (vovnet57 at batch 64 and
224x224, SegNet, an ADE20K-sized segmentation head), timed the same way (CUDA events around
each run, L2 flushed before it), printing a comparable table: mean and best microseconds,
GB/s from the same compulsory byte counts, and % of the measured device-to-device copy.

Forward runs the functional op; backward runs torch.autograd.grad on a retained graph, so it
times the backward kernels alone. Usage:
  bench_ops.py [--filter TEXT] [--repeat N] [--markdown FILE] [--device cuda|cpu] [--quick]
--quick shrinks every batch to 2 (a smoke test that also runs on a CPU)."""
import argparse
import datetime
import time

import torch
import torch.nn.functional as F

FLUSH_BYTES = 256 << 20


class Timer:
    def __init__(self, device):
        self.device = device
        self.flush = torch.empty(FLUSH_BYTES // 4, dtype=torch.float32, device=device) if device == "cuda" else None

    def time(self, fn, repeats):
        fn()  # warm-up
        self.sync()
        times = []
        for i in range(repeats):
            if self.device == "cuda":
                self.flush.fill_(float(i))
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) * 1000.0)
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e6)
        return sum(times) / len(times), min(times)

    def sync(self):
        if self.device == "cuda":
            torch.cuda.synchronize()

    def copy_bandwidth(self, nbytes=1 << 30):
        if self.device != "cuda":
            nbytes = 1 << 26
        a = torch.empty(nbytes // 4, dtype=torch.float32, device=self.device)
        b = torch.empty_like(a)
        _, best = self.time(lambda: b.copy_(a), 10)
        return 2.0 * nbytes / (best * 1e3)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def backward_of(fn, inputs):
    """A closure timing d(fn(inputs))/d(inputs) with a fixed random output gradient."""
    out = fn(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    dy = torch.randn_like(out)
    wrt = [t for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad]
    return lambda: torch.autograd.grad(out, wrt, dy, retain_graph=True)


def cases(batch_scale, device):
    """(kernel, direction, shape, bytes, closure) for every benchmark; shapes as tools/bench/Program.cs."""
    def b(n):
        return max(1, n if batch_scale is None else min(n, batch_scale))

    g = torch.Generator(device="cpu").manual_seed(0)

    def rand(*shape, lo=-3.0, hi=3.0, grad=False):
        t = (torch.rand(*shape, generator=g) * (hi - lo) + lo).to(device)
        return t.requires_grad_(grad)

    for bwd in (False, True):
        d = "bwd" if bwd else "fwd"
        for shape in [(b(64), 64, 112, 112), (b(64), 128, 56, 56), (b(64), 1024, 7, 7)]:
            n = numel(shape)
            x = rand(*shape, lo=-8, hi=8, grad=bwd)
            yield ("mish", d, shape, (16 if bwd else 8) * n, backward_of(F.mish, [x]) if bwd else (lambda x=x: F.mish(x)))

        for part in [(b(64), 128, 56, 56), (b(64), 224, 7, 7)]:
            parts = [rand(*part, grad=bwd) for _ in range(5)]
            total = 5 * numel(part)
            shape = (part[0], part[1] * 5, part[2], part[3])
            if bwd:
                dy = torch.randn(*shape, device=device)
                dxs = [torch.zeros(*part, device=device) for _ in range(5)]
                c = part[1]

                def split(dy=dy, dxs=dxs, c=c):
                    for i, dx in enumerate(dxs):
                        dx.add_(dy[:, i * c:(i + 1) * c])
                yield ("concat", d, shape, 12 * total, split)
            else:
                yield ("concat", d, shape, 8 * total, lambda parts=parts: torch.cat(parts, dim=1))

        for shape in [(b(64), 128, 112, 112), (b(64), 768, 14, 14)]:
            x = rand(*shape, grad=bwd)
            out = numel((shape[0], shape[1], (shape[2] - 1) // 2 + 1, (shape[3] - 1) // 2 + 1))
            fn = lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True)
            if bwd:
                yield ("max_pool2d", d, shape, 8 * out + 8 * numel(shape), backward_of(fn, [x]))
            else:
                yield ("max_pool2d", d, shape, 4 * numel(shape) + 8 * out, lambda x=x: fn(x))

        for pooled in [(b(4), 32, 32, 32), (b(16), 64, 112, 112)]:
            full = (pooled[0], pooled[1], pooled[2] * 2, pooled[3] * 2)
            _, idx = F.max_pool2d(rand(*full), 2, 2, return_indices=True)
            v = rand(*pooled, grad=bwd)
            n = numel(pooled)
            fn = lambda v, idx=idx, full=full: F.max_unpool2d(v, idx, 2, 2, output_size=full[2:])
            if bwd:
                yield ("max_unpool2d", d, pooled, 16 * n, backward_of(fn, [v]))
            else:
                yield ("max_unpool2d", d, pooled, 16 * n + 12 * n, lambda v=v: fn(v))

        for shape in [(b(64), 1000), (b(4), 22, 64, 64), (b(8), 151, 320, 480)]:
            x = rand(*shape, lo=-6, hi=6, grad=bwd)
            label_shape = (shape[0],) + tuple(shape[2:])
            labels = torch.randint(0, shape[1], label_shape, generator=g).to(device)
            if len(shape) > 2:
                labels.view(-1)[::7] = 255
            e = numel(label_shape)
            fn = lambda x, labels=labels: F.cross_entropy(x, labels, ignore_index=255)
            if bwd:
                loss = fn(x)
                yield ("cross_entropy", d, shape, 12 * numel(shape) + 8 * e,
                       lambda loss=loss, x=x: torch.autograd.grad(loss, [x], retain_graph=True))
            else:
                yield ("cross_entropy", d, shape, 4 * numel(shape) + 12 * e, lambda x=x: fn(x))

        for shape in [(b(64), 128, 56, 56), (b(64), 1024, 7, 7)]:
            x = rand(*shape, lo=-2, hi=4, grad=bwd)
            w = rand(shape[1], lo=0.5, hi=1.5, grad=bwd)
            bias = rand(shape[1], lo=-0.5, hi=0.5, grad=bwd)
            fn = lambda x, w, bias: F.group_norm(x, 32, w, bias, 1e-5)
            n = numel(shape)
            if bwd:
                yield ("group_norm", d, shape, 16 * n, backward_of(fn, [x, w, bias]))
            else:
                yield ("group_norm", d, shape, 8 * n, lambda x=x, w=w, bias=bias: fn(x, w, bias))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filter")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--markdown")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="batch 2 everywhere (smoke test)")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch sees no CUDA device")
    timer = Timer(a.device)
    name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    copy = timer.copy_bandwidth()
    print(f"# PyTorch {torch.__version__} op benchmarks on {name}"
          + (f", CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}" if a.device == "cuda" else ""))
    print(f"# device copy: {copy:.0f} GB/s (read + write); {a.repeat} timed runs per op, L2 flushed before each")
    rows = ["| op | dir | shape | mean µs | best µs | GB/s | % of copy |", "|---|---|---|---|---|---|---|"]
    for op, direction, shape, nbytes, fn in cases(2 if a.quick else None, a.device):
        label = f"{op} {direction} {'x'.join(map(str, shape))}"
        if a.filter and a.filter.lower() not in label.lower():
            continue
        mean, best = timer.time(fn, a.repeat)
        gbs = nbytes / (mean * 1e3)
        print(f"{label}: {mean:.1f} µs mean, {best:.1f} µs best, {gbs:.0f} GB/s", flush=True)
        rows.append(f"| {op} | {direction} | {'x'.join(map(str, shape))} | {mean:.1f} | {best:.1f} | {gbs:.0f} | {100 * gbs / copy:.0f}% |")
    print()
    print("\n".join(rows))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(f"PyTorch {torch.__version__} on {name}, copy bandwidth {copy:.0f} GB/s, {datetime.date.today()}\n\n")
            f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
