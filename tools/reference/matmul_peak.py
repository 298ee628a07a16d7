#!/usr/bin/python3
"""The card's measured matmul peak (cuBLAS through PyTorch, 8192^3, CUDA events): fp32, TF32, bf16 TFLOP/s.
The whole-step and per-convolution TFLOP/s of `step` are read against these (results/gpu-*.md).
Usage on the GPU machine: python3 tools/reference/matmul_peak.py [--n 8192] [--repeat 20]"""
import argparse

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8192)
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("error: no CUDA device: torch.cuda.is_available() is False")
    n = a.n
    x32, y32 = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
    for name, tf32, dtype in [("fp32", False, torch.float32), ("tf32", True, torch.float32), ("bf16", False, torch.bfloat16)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        x, y = x32.to(dtype), y32.to(dtype)
        for _ in range(3):
            x @ y
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        for _ in range(a.repeat):
            x @ y
        end.record()
        torch.cuda.synchronize()
        ms = start.elapsed_time(end) / a.repeat
        print(f"matmul {n}^3 {name}: {ms:.3f} ms, {2 * n ** 3 / ms / 1e9:.1f} TFLOP/s  "
              f"(torch {torch.__version__}, {torch.cuda.get_device_name(0)})")


if __name__ == "__main__":
    main()
