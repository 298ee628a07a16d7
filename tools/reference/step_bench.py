#!/usr/bin/python3
"""Times one training step (forward, backward, optimizer update) of the PyTorch twin of a net.

Same measurement as tools/bench/Step (`step`): random images in [0, 1), random labels, float32
weights, inputs kept on the device, median wall time over --steps after --warmup steps, each
step ending with the device synchronised.

CPU (default): one run, prints "RESULT torch <ms> <images/s> -" (tools/bench/cpu-step.sh).
GPU (--device cuda): the variants one after the other, each from fresh weights with peak memory
reset between them; prints "RESULT torch-<variant> <ms> <images/s> <peak MiB>", or
"RESULT torch-<variant> failed <reason>" for a variant that could not run (the others go on):
    fp32      TF32 off for cuDNN and cuBLAS, NCHW                 (the engine's --gpu default)
    tf32      TF32 on, NCHW                                        (the engine's --precision tf32)
    tf32-cl   TF32 on, channels_last, cudnn.benchmark
    bf16-cl   autocast bfloat16, channels_last, cudnn.benchmark
    compile   bf16-cl through torch.compile
--weights FILE loads the engine's initial weights (`step --save-weights FILE`, safetensors).
"""
import argparse
import gc
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402

VARIANTS = ["fp32", "tf32", "tf32-cl", "bf16-cl", "compile"]
LEARNING_RATE = 0.001


def read_safetensors(path):
    """The tensors of a safetensors file by name (F32/F64), without the safetensors package."""
    dtypes = {"F32": np.float32, "F64": np.float64}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] not in dtypes:
            raise SystemExit(f"error: --weights {path}: tensor '{name}' has dtype {e['dtype']}; expected F32 or F64")
        begin, end = e["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(a.astype(np.float32))
    return out


def load_weights(model, path):
    state = read_safetensors(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own if k in state and state[k].shape != own[k].shape]
    if missing or extra or wrong:
        raise SystemExit(f"error: --weights {path} does not fit this net: missing {missing[:3]}, extra {extra[:3]}, "
                         f"shape {wrong[:3]} (same --net/--input/--classes/--width/--norm as the engine's --save-weights?)")
    model.load_state_dict(state, strict=False)  # the key sets were compared above (nets.py hides BN's num_batches_tracked)


def make_optimizer(kind, params):
    if kind == "adam":
        return torch.optim.Adam(params, lr=LEARNING_RATE)
    return torch.optim.SGD(params, lr=LEARNING_RATE)


def build(a, shape, device, weights):
    torch.manual_seed(3)
    m = nets.build(a.net, classes=a.classes, input_shape=shape, norm=a.norm, width=a.width)
    if weights:
        load_weights(m, weights)
    return m.to(device).train()


def time_steps(step, sync, warmup, steps):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)


def cpu_main(a, shape):
    torch.set_num_threads(os.cpu_count() or 1)  # Debian's build may default to 1; use every core, as the engine does
    m = build(a, shape, "cpu", a.weights)
    x = torch.rand(a.batch, *shape)
    with torch.no_grad():
        logits = m(x)
    y = torch.randint(0, logits.shape[1], (a.batch,) + tuple(logits.shape[2:]))
    opt = make_optimizer(a.optimizer, m.parameters())

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()

    times = time_steps(step, lambda: None, a.warmup, a.steps)
    median = times[len(times) // 2]
    print(f"torch {torch.__version__} {a.net} input {a.input} batch {a.batch}: median {median:.1f} ms/step "
          f"(min {times[0]:.1f}, max {times[-1]:.1f}, {a.steps} steps, {torch.get_num_threads()} threads)")
    print(f"RESULT torch {median:.3f} {a.batch * 1000 / median:.2f} -")
    if a.profile:
        print_profile(step, a.steps)


def print_profile(step, steps):
    """Self CPU time per step of each aten op over `steps` more steps (the engine's `step --profile` counterpart)."""
    with torch.autograd.profiler.profile() as prof:
        for _ in range(steps):
            step()
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in rows) or 1
    print("\n| op | calls/step | self ms/step | share |\n|---|---:|---:|---:|")
    for e in rows:
        if e.self_cpu_time_total / total < 0.002:
            break
        print(f"| {e.key} | {e.count / steps:.0f} | {e.self_cpu_time_total / 1000 / steps:.3f} | {100 * e.self_cpu_time_total / total:.1f}% |")
    print(f"| (all ops) | | {total / 1000 / steps:.3f} | |")


def gpu_variant(a, shape, variant):
    tf32 = variant != "fp32"
    channels_last = variant in ("tf32-cl", "bf16-cl", "compile")
    bf16 = variant in ("bf16-cl", "compile")
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = channels_last
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    m = build(a, shape, "cuda", a.weights).to(memory_format=fmt)
    x = torch.rand(a.batch, *shape, device="cuda").contiguous(memory_format=fmt)
    with torch.no_grad():
        logits = m(x)
    y = torch.randint(0, logits.shape[1], (a.batch,) + tuple(logits.shape[2:]), device="cuda")
    del logits
    opt = make_optimizer(a.optimizer, m.parameters())
    forward = m
    if variant == "compile":
        if not hasattr(torch, "compile"):
            raise RuntimeError(f"torch.compile is absent in torch {torch.__version__}")
        forward = torch.compile(m)

    def step():
        opt.zero_grad(set_to_none=False)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(forward(x), y)
        loss.backward()
        opt.step()

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = time_steps(step, torch.cuda.synchronize, a.warmup, a.steps)
    peak = torch.cuda.max_memory_allocated() / 2**20
    return times, peak


def gpu_main(a, shape):
    if not torch.cuda.is_available():
        raise SystemExit("error: --device cuda: torch.cuda.is_available() is False")
    variants = a.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"error: --variants: unknown {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name(0)}; {a.optimizer}, lr {LEARNING_RATE}", flush=True)
    for v in variants:
        try:
            times, peak = gpu_variant(a, shape, v)
            median = times[len(times) // 2]
            print(f"torch-{v} {a.net} input {a.input} batch {a.batch}: median {median:.2f} ms/step "
                  f"(min {times[0]:.2f}, max {times[-1]:.2f}, {a.steps} steps); {a.batch * 1000 / median:.1f} images/s; "
                  f"peak {peak:.0f} MiB (max_memory_allocated)")
            print(f"RESULT torch-{v} {median:.3f} {a.batch * 1000 / median:.2f} {peak:.0f}", flush=True)
        except Exception as e:  # noqa: BLE001 -- one variant failing (compile, out of memory) must not end the run
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            print(f"RESULT torch-{v} failed {type(e).__name__}: {reason}", flush=True)
        finally:
            gc.collect()
            torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", default="segnet")
    p.add_argument("--input", default="3x64x64")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--classes", type=int)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--norm", choices=["bn", "gn", "none"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--variants", help=f"GPU only, comma separated (default: all of {','.join(VARIANTS)})")
    p.add_argument("--weights", help="safetensors file of initial weights (the engine's step --save-weights)")
    p.add_argument("--profile", action="store_true", help="CPU: after timing, self time per aten op over --steps more steps")
    a = p.parse_args()
    try:
        shape = tuple(int(d) for d in a.input.split("x"))
        assert len(shape) == 3 and min(shape) > 0
    except (ValueError, AssertionError):
        p.error(f"--input '{a.input}': expected CxHxW, e.g. 3x224x224")
    for name in ("batch", "steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name} {getattr(a, name)}: expected a positive whole number")
    if a.warmup < 0:
        p.error(f"--warmup {a.warmup}: expected 0 or more")
    if a.weights and not os.path.isfile(a.weights):
        p.error(f"--weights {a.weights}: no such file")
    if a.device == "cpu":
        if a.variants:
            p.error("--variants needs --device cuda")
        cpu_main(a, shape)
    else:
        a.variants = a.variants or ",".join(VARIANTS)
        gpu_main(a, shape)


if __name__ == "__main__":
    main()
