"""Runs every kernel of kernels/ABI.md on the CPU emulator (libkernels_emu.so, see build.sh)
and compares it with PyTorch / NumPy references on small shapes chosen to reach every code
path: grid-stride loops (small grids), float4 and scalar paths (aligned and misaligned
pointers), 32- and 64-bit-free index paths, ceil mode, ignore labels, ties and NaN.
Prints one line per check; exits 1 on any mismatch. Needs torch (use /usr/bin/python3 here)."""
import ctypes
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = os.path.dirname(HERE)
LIB_PATH = os.environ.get("EMU_LIB", os.path.join(KERNELS, "build", "emulator", "libkernels_emu.so"))

CTYPES = {"int": ctypes.c_int, "unsigned int": ctypes.c_uint, "long long": ctypes.c_longlong,
          "unsigned long long": ctypes.c_ulonglong, "float": ctypes.c_float}


def load():
    lib = ctypes.CDLL(LIB_PATH)
    abi = open(os.path.join(KERNELS, "ABI.md")).read()
    kernels = {}
    for name, params in re.findall(r"^###\s+(\w+)\s*\n`\(([^)]*)\)`", abi, re.M):
        types = []
        for p in params.split(","):
            t = p.strip().replace("const ", "").rsplit(" ", 1)[0].strip()
            types.append(ctypes.c_void_p if p.strip().rsplit(" ", 1)[0].endswith("*") else CTYPES[t])
        fn = getattr(lib, "emu_" + name)
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint] + types
        fn.restype = None
        kernels[name] = fn
    return kernels


K = load()


class At:
    """A pointer `offset` elements into a NumPy array (offset 1 makes it misaligned for float4)."""
    def __init__(self, array, offset=0):
        self.array, self.offset = array, offset

    @property
    def address(self):
        return self.array.ctypes.data + self.offset * self.array.itemsize


def launch(name, grid, block, *args, shared=0):
    conv = []
    for a in args:
        if isinstance(a, np.ndarray):
            assert a.flags.c_contiguous
            conv.append(a.ctypes.data)
        elif isinstance(a, At):
            conv.append(a.address)
        elif a is None:
            conv.append(None)
        else:
            conv.append(a)
    K[name](grid, block, shared, *conv)


failures = 0
checks = 0


def check(label, got, want, atol=1e-6, rtol=1e-5):
    """llm.c-style: elementwise |got - want| <= atol + rtol * |want|, NaN must match NaN; shows up to 10 mismatches."""
    global failures, checks
    checks += 1
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        failures += 1
        print(f"FAIL {label}: shape {got.shape} vs {want.shape}")
        return
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):
        bad = ~both_nan & ~(np.abs(got - want) <= atol + rtol * np.abs(want))
        bad |= ~both_nan & (np.isinf(got) | np.isinf(want)) & (got != want)
    if bad.any():
        failures += 1
        idx = np.flatnonzero(bad)
        print(f"FAIL {label}: {len(idx)} of {got.size} differ")
        for i in idx[:10]:
            print(f"    [{i}] got {got[i]!r} want {want[i]!r}")
    else:
        err = np.nanmax(np.abs(got - want)[~both_nan]) if (~both_nan).any() else 0.0
        print(f"ok   {label} (max abs err {err:.2e})")


# ---------------------------------------------------------------- bf16 helpers
# bf16 arrays are np.uint16 bit patterns (NumPy has no bf16).
def round_bits(x):
    """Engine.Tensors.Bf16.Round on the bits (float32 in, uint16 out): nearest even; NaN keeps sign
    and upper payload with the quiet bit."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (b & 0x7FFFFFFF) > 0x7F800000
    r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) & 0xFFFF
    r = np.where(nan, ((b | 0x00400000) >> 16) & 0xFFFF, r)
    return r.astype(np.uint16)


def torch_bits(x):
    """PyTorch's own float32 -> bfloat16 conversion, as bits (the reference's rounding)."""
    t = torch.tensor(np.asarray(x, dtype=np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def widen(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def bf16(x):
    """A float array rounded to bf16 by PyTorch: (bits, the same values as float32)."""
    bits = torch_bits(x)
    return bits, widen(bits)


def ordered(bits):
    """bf16 bits -> integers in value order (so that |difference| counts ulps)."""
    b = np.asarray(bits, dtype=np.uint16).astype(np.int64)
    return np.where(b & 0x8000, 0x8000 - b, b)


def check_bf16(label, got_bits, want, ulps=1, atol=0.0):
    """bf16 kernel output against the float64 reference rounded to float32 and then to bf16 by
    PyTorch: at most `ulps` bf16 ulps apart (the kernel's float32 arithmetic can land on the other
    side of a rounding boundary: 1 ulp; 0 for exact ops), or within `atol` of the exact value
    (results of cancellation near 0, where float32's absolute error exceeds a bf16 ulp); NaN must
    match NaN."""
    global failures, checks
    checks += 1
    got_bits = np.asarray(got_bits, dtype=np.uint16).ravel()
    want64 = np.asarray(want, dtype=np.float64).ravel()
    if got_bits.shape != want64.shape:
        failures += 1
        print(f"FAIL {label}: shape {got_bits.shape} vs {want64.shape}")
        return
    want_bits = torch_bits(want64.astype(np.float32))
    g, w = widen(got_bits), widen(want_bits)
    both_nan = np.isnan(g) & np.isnan(w)
    dist = np.abs(ordered(got_bits) - ordered(want_bits))
    with np.errstate(invalid="ignore"):
        far = (dist > ulps) & ~(np.abs(g - want64) <= atol)
    bad = ~both_nan & (far | (np.isnan(g) != np.isnan(w)) | ((np.isinf(g) | np.isinf(w)) & (g != w)))
    if bad.any():
        failures += 1
        idx = np.flatnonzero(bad)
        print(f"FAIL {label}: {len(idx)} of {g.size} differ by more than {ulps} bf16 ulp")
        for i in idx[:10]:
            print(f"    [{i}] got {g[i]!r} (0x{got_bits[i]:04x}) want {w[i]!r} (0x{want_bits[i]:04x}, exact {want64[i]!r})")
    else:
        exact = (got_bits == want_bits) | both_nan
        print(f"ok   {label} ({exact.mean() * 100:.1f}% bit-exact, max {dist[~both_nan].max() if (~both_nan).any() else 0} ulp)")


def bfbuf(n, fill=np.nan):
    return round_bits(np.full(n, fill, dtype=np.float32))


rng = np.random.default_rng(1234)


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def buf(n, fill=np.nan):
    return np.full(n, fill, dtype=np.float32)


# ---------------------------------------------------------------- elementwise
def test_elementwise():
    for n, off in [(1003, 0), (1003, 1), (8, 0), (3, 2)]:
        tag = f"n={n} offset={off}"
        y = buf(n + off + 1, 5.0)
        launch("fill_f32", 3, 64, At(y, off), np.float32(-2.5), n)
        want = np.full(n + off + 1, 5.0, np.float32); want[off:off + n] = -2.5
        check(f"fill_f32 {tag}", y, want, 0, 0)

        y0 = randn(n + off + 1); y = y0.copy()
        launch("scale_f32", 2, 64, At(y, off), np.float32(0.75), n)
        want = y0.copy(); want[off:off + n] *= np.float32(0.75)
        check(f"scale_f32 {tag}", y, want, 0, 0)

        a, b = randn(n + off), randn(n + off); y = buf(n + off)
        launch("add_f32", 2, 64, At(y, off), At(a, off), At(b, off), n)
        check(f"add_f32 {tag}", y[off:], a[off:] + b[off:], 0, 0)

        y0 = randn(n + off); x = randn(n + off); y = y0.copy()
        launch("axpy_f32", 2, 64, At(y, off), At(x, off), np.float32(-1.5), n)
        check(f"axpy_f32 {tag}", y[off:], y0[off:].astype(np.float64) - 1.5 * x[off:], 1e-6, 1e-6)
    # mixed alignment: y aligned, x not
    y0 = randn(101); x = randn(102); y = y0.copy()
    launch("axpy_f32", 1, 32, y, At(x, 1), np.float32(1.0), 101)
    check("axpy_f32 mixed alignment", y, y0 + x[1:], 1e-6, 1e-6)


# ---------------------------------------------------------------- activation
def mish_ref(x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = t * torch.tanh(F.softplus(t))
    y.backward(torch.ones_like(t))
    return y.detach().numpy(), t.grad.numpy()


def test_activation():
    special = np.array([-100, -40, -20, -1e-3, 0, 1e-3, 1, 19.99, 20, 20.01, 40, 100], np.float32)
    for n, off in [(1001, 0), (1001, 1)]:
        x = np.concatenate([special, randn(n - len(special) + off, scale=6)])
        m = x[off:off + n]
        y = buf(n + off)
        launch("relu_fwd_f32", 2, 64, At(y, off), At(x, off), n)
        check(f"relu_fwd_f32 offset={off}", y[off:], np.maximum(m, 0), 0, 0)
        dy = randn(n + off); dx0 = randn(n + off); dx = dx0.copy()
        launch("relu_bwd_f32", 2, 64, At(dx, off), At(x, off), At(dy, off), n)
        check(f"relu_bwd_f32 offset={off}", dx[off:], dx0[off:] + np.where(m > 0, dy[off:], 0), 0, 0)

        ym, gm = mish_ref(m)
        y = buf(n + off)
        launch("mish_fwd_f32", 2, 64, At(y, off), At(x, off), n)
        check(f"mish_fwd_f32 offset={off}", y[off:], ym, 1e-6, 2e-6)
        dx = dx0.copy()
        launch("mish_bwd_f32", 2, 64, At(dx, off), At(x, off), At(dy, off), n)
        check(f"mish_bwd_f32 offset={off}", dx[off:], dx0[off:] + dy[off:].astype(np.float64) * gm, 1e-6, 2e-6)

    # 2-D forms: layer output [N, C, HW] into the channel slice at cOffset of [N, Ctot, HW]
    for N, C, Ctot, cOff, HW in [(3, 4, 10, 2, 8), (3, 3, 7, 1, 5)]:
        x = randn(N, C, HW, scale=3)
        cat = buf(N * Ctot * HW).reshape(N, Ctot, HW)
        launch("mish_fwd_2d_f32", 3, 64, At(cat.reshape(-1), cOff * HW), Ctot * HW, x, C * HW, N, C * HW)
        ym, gm = mish_ref(x)
        check(f"mish_fwd_2d_f32 HW={HW}", cat[:, cOff:cOff + C], ym, 1e-6, 2e-6)
        assert np.isnan(np.delete(cat, range(cOff, cOff + C), axis=1)).all(), "mish_fwd_2d wrote outside its slice"
        dcat = randn(N, Ctot, HW); dx0 = randn(N, C, HW); dx = dx0.copy()
        launch("mish_bwd_2d_f32", 3, 64, dx, C * HW, x, C * HW, At(dcat.reshape(-1), cOff * HW), Ctot * HW, N, C * HW)
        check(f"mish_bwd_2d_f32 HW={HW}", dx, dx0 + dcat[:, cOff:cOff + C].astype(np.float64) * gm, 1e-6, 2e-6)


# ---------------------------------------------------------------- bf16 elementwise, conversion, transpose
# Sizes with tails that are not multiples of 8 and starts 1 or 4 elements in (2 or 8 bytes: the
# 16-byte vector path must fall back to scalar), plus one all-aligned case.
BF16_SIZES = [(1003, 0), (1003, 1), (1003, 4), (16, 0), (7, 0), (5, 3)]


def special_floats():
    """Rounding ties both ways, subnormals, the overflow boundary, infinities, NaNs with payloads."""
    bits = np.array([0x3F808000, 0x3F818000, 0x3F808001, 0x3F817FFF, 0x00000001, 0x00008000, 0x80018000,
                     0x007FFFFF, 0x7F7F7FFF, 0x7F7F8000, 0xFF7F8000, 0x7F800000, 0xFF800000, 0x7FC00000,
                     0xFFC00001, 0x7F800001, 0x7FA00000, 0xFF812345, 0x00000000, 0x80000000], dtype=np.uint32)
    return bits.view(np.float32)


def test_convert():
    sp = special_floats()
    for n, off in BF16_SIZES + [(4099, 0)]:
        tag = f"n={n} offset={off}"
        x = np.concatenate([sp, randn(max(0, n + off - len(sp)), scale=50)])[:n + off]
        if n + off < len(sp):
            x = sp[:n + off].copy()
        y = bfbuf(n + off + 1, 7.0)
        launch("f32_to_bf16", 2, 64, At(y, off), At(x, off), n)
        want = round_bits(np.full(n + off + 1, 7.0, np.float32)); want[off:off + n] = round_bits(x[off:off + n])
        check(f"f32_to_bf16 == Bf16.Round bit for bit {tag}", y.astype(np.float64), want.astype(np.float64), 0, 0)
        finite = ~np.isnan(x[off:off + n])
        check(f"f32_to_bf16 == torch .to(bfloat16) on non-NaN {tag}", y[off:off + n][finite].astype(np.float64),
              torch_bits(x[off:off + n][finite]).astype(np.float64), 0, 0)
        xb = round_bits(x)
        f = buf(n + off + 1, 7.0)
        launch("bf16_to_f32", 2, 64, At(f, off), At(xb, off), n)
        check(f"bf16_to_f32 exact {tag}", f[off:off + n].view(np.uint32), widen(xb[off:off + n]).view(np.uint32), 0, 0)
        f0 = randn(n + off); f = f0.copy()
        xb = bf16(randn(n + off))[0]
        launch("add_bf16_to_f32", 2, 64, At(f, off), At(xb, off), n)
        check(f"add_bf16_to_f32 {tag}", f[off:], f0[off:] + widen(xb[off:]), 0, 0)
    # mixed alignment: y aligned, x not
    x = randn(101); y = bfbuf(100)
    launch("f32_to_bf16", 1, 32, y, At(x, 1), 100)
    check("f32_to_bf16 mixed alignment", y.astype(np.float64), round_bits(x[1:]).astype(np.float64), 0, 0)


def test_transpose():
    for N, C, HW in [(2, 3, 5), (2, 37, 70), (1, 64, 33), (3, 1, 40), (2, 40, 1)]:
        tag = f"N{N} C{C} HW{HW}"
        x = randn(N, C, HW)
        y = buf(N * HW * C)
        launch("nchw_to_nhwc_f32", 3, 256, y, x, N, C, HW)
        want = x.transpose(0, 2, 1)
        tx = torch.tensor(x.reshape(N, C, HW, 1)).contiguous(memory_format=torch.channels_last)
        check(f"nchw_to_nhwc_f32 {tag}", y, want, 0, 0)
        check(f"nchw_to_nhwc_f32 == torch channels_last storage {tag}", y,
              torch.as_strided(tx, (tx.numel(),), (1,)).numpy(), 0, 0)
        back = buf(N * C * HW)
        launch("nhwc_to_nchw_f32", 2, 64, back, y, N, C, HW)
        check(f"nhwc_to_nchw_f32 {tag}", back, x, 0, 0)
        xb = bf16(x)[0]
        yb = bfbuf(N * HW * C)
        launch("nchw_to_nhwc_bf16", 3, 128, yb, xb, N, C, HW)
        check(f"nchw_to_nhwc_bf16 {tag}", yb.astype(np.float64), xb.reshape(N, C, HW).transpose(0, 2, 1).astype(np.float64), 0, 0)
        bb = bfbuf(N * C * HW)
        launch("nhwc_to_nchw_bf16", 1, 256, bb, yb, N, C, HW)
        check(f"nhwc_to_nchw_bf16 {tag}", bb.astype(np.float64), xb.astype(np.float64), 0, 0)
        yb = bfbuf(N * HW * C)
        launch("nchw_f32_to_nhwc_bf16", 2, 256, yb, x, N, C, HW)
        check_bf16(f"nchw_f32_to_nhwc_bf16 {tag}", yb, want, 0)
        f = buf(N * C * HW)
        launch("nhwc_bf16_to_nchw_f32", 2, 256, f, yb, N, C, HW)
        check(f"nhwc_bf16_to_nchw_f32 {tag}", f, widen(yb).reshape(N, HW, C).transpose(0, 2, 1), 0, 0)


def test_bf16_elementwise():
    for n, off in BF16_SIZES:
        tag = f"n={n} offset={off}"
        a, af = bf16(randn(n + off)); b, bf = bf16(randn(n + off))
        y = bfbuf(n + off)
        launch("add_bf16", 2, 64, At(y, off), At(a, off), At(b, off), n)
        check_bf16(f"add_bf16 {tag}", y[off:], af[off:].astype(np.float64) + bf[off:], 0)
        y = a.copy()
        launch("axpy_bf16", 2, 64, At(y, off), At(b, off), np.float32(-1.5), n)
        check_bf16(f"axpy_bf16 {tag}", y[off:], af[off:].astype(np.float64) - 1.5 * bf[off:])


def test_bf16_activation():
    special = np.array([-100, -40, -20, -1e-3, 0, 1e-3, 1, 19.99, 20, 20.01, 40, 100], np.float32)
    for n, off in BF16_SIZES:
        x = np.concatenate([special, randn(max(0, n - len(special) + off), scale=6)])[:n + off]
        xb, xf = bf16(x)
        m = xf[off:off + n]
        tag = f"n={n} offset={off}"
        y = bfbuf(n + off)
        launch("relu_fwd_bf16", 2, 64, At(y, off), At(xb, off), n)
        check_bf16(f"relu_fwd_bf16 {tag}", y[off:], np.maximum(m, 0), 0)
        dyb, dyf = bf16(randn(n + off)); dx0b, dx0f = bf16(randn(n + off)); dx = dx0b.copy()
        launch("relu_bwd_bf16", 2, 64, At(dx, off), At(xb, off), At(dyb, off), n)
        check_bf16(f"relu_bwd_bf16 {tag}", dx[off:], dx0f[off:].astype(np.float64) + np.where(m > 0, dyf[off:], 0), 0)
        ym, gm = mish_ref(m)
        y = bfbuf(n + off)
        launch("mish_fwd_bf16", 2, 64, At(y, off), At(xb, off), n)
        check_bf16(f"mish_fwd_bf16 {tag}", y[off:], ym)
        dx = dx0b.copy()
        launch("mish_bwd_bf16", 2, 64, At(dx, off), At(xb, off), At(dyb, off), n)
        check_bf16(f"mish_bwd_bf16 {tag}", dx[off:], dx0f[off:].astype(np.float64) + dyf[off:].astype(np.float64) * gm)
    # in place ReLU
    xb, xf = bf16(randn(1003)); y = xb.copy()
    launch("relu_fwd_bf16", 2, 64, y, y, 1003)
    check_bf16("relu_fwd_bf16 in place", y, np.maximum(xf, 0), 0)

    # 2-D forms: NCHW slice (rows N, cols C*HW) and NHWC slice (rows N*HW, cols C) of a concatenation
    for layout, N, C, Ctot, cOff, HW in [("nchw", 3, 4, 10, 2, 8), ("nchw", 3, 3, 7, 1, 5),
                                          ("nhwc", 2, 8, 24, 8, 6), ("nhwc", 2, 5, 11, 3, 6), ("nhwc", 2, 16, 40, 16, 5)]:
        xb, xf = bf16(randn(N, C, HW, scale=3))
        if layout == "nchw":
            rows, cols, ys, off = N, C * HW, Ctot * HW, cOff * HW
        else:
            rows, cols, ys, off = N * HW, C, Ctot, cOff
        tag = f"{layout} C={C} Ctot={Ctot} offset={cOff} HW={HW}"
        cat = bfbuf(N * Ctot * HW)
        launch("mish_fwd_2d_bf16", 3, 64, At(cat, off), ys, xb, cols, rows, cols)
        ym, gm = mish_ref(xf)   # xf viewed as [rows, cols]
        got = np.stack([cat[off + r * ys: off + r * ys + cols] for r in range(rows)])
        check_bf16(f"mish_fwd_2d_bf16 {tag}", got, ym.reshape(rows, cols))
        mask = np.ones(cat.size, bool)
        for r in range(rows): mask[off + r * ys: off + r * ys + cols] = False
        assert np.isnan(widen(cat[mask])).all(), "mish_fwd_2d_bf16 wrote outside its slice"
        dcat, dcatf = bf16(randn(N * Ctot * HW)); dx0b, dx0f = bf16(randn(rows * cols)); dx = dx0b.copy()
        launch("mish_bwd_2d_bf16", 3, 64, dx, cols, xb, cols, At(dcat, off), ys, rows, cols)
        g = np.stack([dcatf[off + r * ys: off + r * ys + cols] for r in range(rows)]).astype(np.float64)
        check_bf16(f"mish_bwd_2d_bf16 {tag}", dx, dx0f.reshape(rows, cols) + g * gm.reshape(rows, cols))


# ---------------------------------------------------------------- bias
def test_bias():
    for N, C, inner in [(3, 5, 7), (2, 6, 8), (4, 9, 1)]:
        y0 = randn(N, C, inner); b = randn(C); y = y0.copy()
        launch("bias_add_f32", 2, 64, y, b, C, inner, N * C * inner)
        check(f"bias_add_f32 inner={inner}", y, y0 + b[None, :, None], 0, 0)
        dy = randn(N, C, inner); db0 = randn(C); db = db0.copy()
        launch("bias_grad_f32", 2, 64, db, dy, N, C, inner)
        check(f"bias_grad_f32 inner={inner}", db, db0 + dy.astype(np.float64).sum(axis=(0, 2)), 1e-5, 1e-5)


def test_concat_bias_bf16_nhwc():
    # concat: NCHW bf16 and NHWC (fp32 kernel and bf16 with N = pixels, HW = 1); parts of 8 and 16
    # channels (vector path in NHWC), of 3/5/4 (scalar), and the 8-aligned NCHW plane (HW = 16).
    for layout, HW, parts in [("nchw", 7, [3, 5, 4]), ("nchw", 16, [3, 5, 4]), ("nhwc", 6, [3, 5, 4]), ("nhwc", 6, [8, 16, 8])]:
        N = 3
        Cy = sum(parts)
        xs = [randn(N, c, HW) for c in parts]
        want = np.concatenate(xs, axis=1)
        lay = (lambda a: np.ascontiguousarray(a.transpose(0, 2, 1))) if layout == "nhwc" else (lambda a: a)
        rows, hw = (N * HW, 1) if layout == "nhwc" else (N, HW)
        for dt in (["f32", "bf16"] if layout == "nhwc" else ["bf16"]):
            conv = round_bits if dt == "bf16" else (lambda a: a.astype(np.float32))
            y = bfbuf(N * Cy * HW) if dt == "bf16" else buf(N * Cy * HW)
            off = 0
            for x, c in zip(xs, parts):
                launch(f"concat_fwd_{dt}", 2, 64, y, conv(lay(x)), rows, c, hw, Cy, off)
                off += c
            tag = f"{layout} {dt} HW={HW} parts={parts}"
            wl = lay(want)
            if dt == "bf16":
                check_bf16(f"concat_fwd {tag}", y, wl, 0)
            else:
                check(f"concat_fwd {tag}", y, wl, 0, 0)
            dyb, dyf = bf16(randn(N, Cy, HW))
            dy = round_bits(lay(dyf)) if dt == "bf16" else lay(dyf).astype(np.float32)
            off = 0
            for c in parts:
                dx0b, dx0f = bf16(randn(N, c, HW))
                dx = round_bits(lay(dx0f)) if dt == "bf16" else lay(dx0f).astype(np.float32)
                launch(f"concat_bwd_{dt}", 2, 64, dx, dy, rows, c, hw, Cy, off)
                w = lay(dx0f.astype(np.float64) + dyf[:, off:off + c])
                if dt == "bf16":
                    check_bf16(f"concat_bwd {tag} offset={off}", dx, w)
                else:
                    check(f"concat_bwd {tag} offset={off}", dx, w, 1e-6, 1e-6)
                off += c
    # bias in bf16: NCHW planes (inner 8: vector, 7: scalar), NHWC / [N, F] (inner 1, C 16: vector; C 5: scalar)
    for N, C, inner, off in [(3, 5, 7, 0), (2, 6, 8, 0), (2, 6, 8, 1), (12, 16, 1, 0), (12, 16, 1, 4), (9, 5, 1, 0)]:
        n = N * C * inner
        y0b, y0f = bf16(randn(n + off)); b = randn(C)
        y = y0b.copy()
        launch("bias_add_bf16", 2, 64, At(y, off), b, C, inner, n)
        ch = (np.arange(n) // inner) % C
        check_bf16(f"bias_add_bf16 C={C} inner={inner} offset={off}", y[off:], y0f[off:].astype(np.float64) + b[ch])
        dyb, dyf = bf16(randn(N, C, inner)); db0 = randn(C); db = db0.copy()
        launch("bias_grad_bf16", 2, 64, db, dyb, N, C, inner)
        check(f"bias_grad_bf16 C={C} inner={inner}", db, db0 + dyf.astype(np.float64).sum(axis=(0, 2)), 1e-5, 1e-5)


# ---------------------------------------------------------------- dropout
M64 = (1 << 64) - 1


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def hash24(seed, stream, index):
    return mix(seed ^ mix((stream + 0x632BE59BD9B4E019) & M64) ^ ((index * 0x9E3779B97F4A7C15) & M64)) >> 40


def test_dropout():
    for p, base, n, off in [(0.3, 0, 1001, 0), (0.5, 77, 1001, 1), (0.1, 0, 64, 0)]:
        seed, node, step = 0xC0FFEE, 5, np.array([9], dtype=np.int64)
        stream = (node << 32) + int(step[0])
        threshold = math.ceil(p * 16777216.0)
        scale = np.float32(1.0 / (1.0 - p))
        keep = np.array([hash24(seed, stream, base + i) >= threshold for i in range(n)])
        x = randn(n + off); y = buf(n + off)
        launch("dropout_fwd_f32", 2, 64, At(y, off), At(x, off), seed, node, step, base, threshold, scale, n)
        check(f"dropout_fwd_f32 p={p} base={base} offset={off}", y[off:], np.where(keep, x[off:] * scale, 0), 0, 0)
        dy = randn(n + off); dx0 = randn(n + off); dx = dx0.copy()
        launch("dropout_bwd_f32", 2, 64, At(dx, off), At(dy, off), seed, node, step, base, threshold, scale, n)
        check(f"dropout_bwd_f32 p={p} base={base} offset={off}", dx[off:], dx0[off:] + np.where(keep, dy[off:] * scale, 0), 0, 0)
        print(f"     kept {keep.mean():.3f} (expected {1 - p:.3f})")


def test_dropout_bf16():
    for p, base, n, off in [(0.3, 0, 1001, 0), (0.5, 77, 1001, 1), (0.1, 0, 64, 0), (0.5, 5, 37, 4)]:
        seed, node, step = 0xC0FFEE, 5, np.array([9], dtype=np.int64)
        stream = (node << 32) + int(step[0])
        threshold = math.ceil(p * 16777216.0)
        scale = np.float32(1.0 / (1.0 - p))
        keep = np.array([hash24(seed, stream, base + i) >= threshold for i in range(n)])
        xb, xf = bf16(randn(n + off)); y = bfbuf(n + off)
        launch("dropout_fwd_bf16", 2, 64, At(y, off), At(xb, off), seed, node, step, base, threshold, scale, n)
        tag = f"p={p} base={base} n={n} offset={off}"
        check_bf16(f"dropout_fwd_bf16 {tag}", y[off:], np.where(keep, xf[off:].astype(np.float64) * np.float64(scale), 0))
        dyb, dyf = bf16(randn(n + off)); dx0b, dx0f = bf16(randn(n + off)); dx = dx0b.copy()
        launch("dropout_bwd_bf16", 2, 64, At(dx, off), At(dyb, off), seed, node, step, base, threshold, scale, n)
        check_bf16(f"dropout_bwd_bf16 {tag}", dx[off:], dx0f[off:].astype(np.float64) + np.where(keep, dyf[off:].astype(np.float64) * np.float64(scale), 0))


# ---------------------------------------------------------------- concat
def test_concat():
    for HW in [7, 16]:
        N, parts = 3, [3, 5, 4]
        Cy = sum(parts)
        xs = [randn(N, c, HW) for c in parts]
        y = buf(N * Cy * HW)
        off = 0
        for x, c in zip(xs, parts):
            launch("concat_fwd_f32", 2, 64, y, x, N, c, HW, Cy, off)
            off += c
        check(f"concat_fwd_f32 HW={HW}", y, np.concatenate(xs, axis=1), 0, 0)
        dy = randn(N, Cy, HW)
        off = 0
        for c in parts:
            dx0 = randn(N, c, HW); dx = dx0.copy()
            launch("concat_bwd_f32", 2, 64, dx, dy, N, c, HW, Cy, off)
            check(f"concat_bwd_f32 HW={HW} offset={off}", dx, dx0 + dy[:, off:off + c], 0, 0)
            off += c


# ---------------------------------------------------------------- pooling
def pool_out(size, k, s, p, ceil):
    span = size + 2 * p - k
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= size + p:
        o -= 1
    return o


POOLS = [(3, 2, 1, False), (2, 2, 0, True), (3, 1, 1, False), (3, 2, 0, True), (2, 2, 0, False), (3, 3, 1, True)]


def test_maxpool():
    for (k, s, p, ceil) in POOLS:
        for kind in ["random", "ties", "nan"]:
            N, C, H, W = 2, 3, 9, 11
            if kind == "ties":
                x = rng.integers(-2, 3, size=(N, C, H, W)).astype(np.float32)
            else:
                x = randn(N, C, H, W)
            if kind == "nan":
                x[0, 1, 4, 5] = np.nan
                x[1, 2, 0, 0] = np.nan
            OH, OW = pool_out(H, k, s, p, ceil), pool_out(W, k, s, p, ceil)
            t = torch.tensor(x, requires_grad=True)
            ty, ti = F.max_pool2d(t, k, s, p, ceil_mode=ceil, return_indices=True)
            assert ty.shape[2:] == (OH, OW), (ty.shape, OH, OW)
            y = buf(N * C * OH * OW); idx = np.full(N * C * OH * OW, -7, np.int32)
            args = (N * C, H, W, OH, OW, k, k, s, s, p, p)
            launch("maxpool_fwd_f32", 3, 64, y, idx, x, *args)
            tag = f"k{k}/s{s} p{p} ceil={ceil} {kind}"
            check(f"maxpool_fwd_f32 values {tag}", y, ty.detach().numpy(), 0, 0)
            check(f"maxpool_fwd_f32 indices {tag}", idx, ti.numpy(), 0, 0)
            if kind == "nan":
                continue
            dy = randn(N, C, OH, OW)
            ty.backward(torch.tensor(dy))
            dx0 = randn(N, C, H, W); dx = dx0.copy()
            launch("maxpool_bwd_f32", 3, 64, dx, dy, ti.numpy().astype(np.int32), *args)
            check(f"maxpool_bwd_f32 {tag}", dx, dx0 + t.grad.numpy().astype(np.float64), 1e-6, 1e-6)


def test_maxunpool():
    N, C, H, W = 2, 3, 8, 10
    x = randn(N, C, H, W)
    _, ti = F.max_pool2d(torch.tensor(x), 2, 2, return_indices=True)
    v = randn(N, C, H // 2, W // 2)
    tv = torch.tensor(v, requires_grad=True)
    ty = F.max_unpool2d(tv, ti, 2, 2, output_size=(H, W))
    idx = ti.numpy().astype(np.int32)
    y = buf(N * C * H * W)
    launch("fill_f32", 2, 64, y, np.float32(0), y.size)
    launch("maxunpool_fwd_f32", 2, 64, y, v, idx, N * C, (H // 2) * (W // 2), H * W)
    check("maxunpool_fwd_f32", y, ty.detach().numpy(), 0, 0)
    dy = randn(N, C, H, W)
    ty.backward(torch.tensor(dy))
    dv0 = randn(N, C, H // 2, W // 2); dv = dv0.copy()
    launch("maxunpool_bwd_f32", 2, 64, dv, dy, idx, N * C, (H // 2) * (W // 2), H * W)
    check("maxunpool_bwd_f32", dv, dv0 + tv.grad.numpy(), 0, 0)
    # out-of-range indices are skipped (fwd) and contribute nothing (bwd)
    bad = idx.copy(); bad.flat[3] = H * W; bad.flat[5] = -1
    y = np.zeros(N * C * H * W, np.float32)
    launch("maxunpool_fwd_f32", 1, 64, y, v, bad, N * C, (H // 2) * (W // 2), H * W)
    want = ty.detach().numpy().ravel().copy()
    for j in (3, 5):
        want[(j // ((H // 2) * (W // 2))) * H * W + idx.flat[j]] = 0
    check("maxunpool_fwd_f32 out-of-range indices skipped", y, want, 0, 0)
    dv = dv0.copy()
    launch("maxunpool_bwd_f32", 1, 64, dv, dy, bad, N * C, (H // 2) * (W // 2), H * W)
    want = dv0 + tv.grad.numpy(); want.flat[3] = dv0.flat[3]; want.flat[5] = dv0.flat[5]
    check("maxunpool_bwd_f32 out-of-range indices add nothing", dv, want, 0, 0)


def test_avgpool():
    for (k, s, p, ceil) in POOLS:
        for include in [True, False]:
            N, C, H, W = 2, 3, 9, 11
            x = randn(N, C, H, W)
            OH, OW = pool_out(H, k, s, p, ceil), pool_out(W, k, s, p, ceil)
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            ty = F.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=include)
            assert ty.shape[2:] == (OH, OW)
            args = (N * C, H, W, OH, OW, k, k, s, s, p, p, int(include))
            y = buf(N * C * OH * OW)
            launch("avgpool_fwd_f32", 3, 64, y, x, *args)
            tag = f"k{k}/s{s} p{p} ceil={ceil} includePad={include}"
            check(f"avgpool_fwd_f32 {tag}", y, ty.detach().numpy(), 1e-6, 1e-5)
            dy = randn(N, C, OH, OW)
            ty.backward(torch.tensor(dy, dtype=torch.float64))
            dx0 = randn(N, C, H, W); dx = dx0.copy()
            launch("avgpool_bwd_f32", 3, 64, dx, dy, *args)
            check(f"avgpool_bwd_f32 {tag}", dx, dx0 + t.grad.numpy(), 1e-6, 1e-5)


def test_global_avgpool():
    for NC, HW in [(19, 49), (5, 3), (4, 200)]:
        x = randn(NC, HW)
        y = buf(NC)
        launch("global_avgpool_fwd_f32", 2, 64, y, x, NC, HW)
        check(f"global_avgpool_fwd_f32 NC={NC} HW={HW}", y, x.astype(np.float64).mean(axis=1), 1e-6, 1e-5)
        dy = randn(NC); dx0 = randn(NC, HW); dx = dx0.copy()
        launch("global_avgpool_bwd_f32", 2, 64, dx, dy, NC, HW)
        check(f"global_avgpool_bwd_f32 NC={NC} HW={HW}", dx, dx0 + dy[:, None].astype(np.float64) / HW, 1e-6, 1e-5)


def test_upsample():
    for s in [2, 3]:
        N, C, H, W = 2, 3, 4, 5
        x = randn(N, C, H, W)
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ty = F.interpolate(t, scale_factor=s, mode="nearest")
        y = buf(N * C * H * W * s * s)
        launch("upsample_nearest_fwd_f32", 2, 64, y, x, N * C, H, W, s)
        check(f"upsample_nearest_fwd_f32 x{s}", y, ty.detach().numpy(), 0, 0)
        dy = randn(*ty.shape)
        ty.backward(torch.tensor(dy, dtype=torch.float64))
        dx0 = randn(N, C, H, W); dx = dx0.copy()
        launch("upsample_nearest_bwd_f32", 2, 64, dx, dy, N * C, H, W, s)
        check(f"upsample_nearest_bwd_f32 x{s}", dx, dx0 + t.grad.numpy(), 1e-6, 1e-5)


# ---------------------------------------------------------------- bf16 and NHWC pooling / upsampling
VARIANTS = [("nchw", "bf16"), ("nhwc", "f32"), ("nhwc", "bf16")]


class Variant:
    """Inputs and outputs of one (layout, dtype) variant: NCHW float arrays in, kernel buffers
    (NHWC-permuted, bf16 bits) out, and comparison of kernel buffers with NCHW references."""
    def __init__(self, layout, dt):
        self.layout, self.dt = layout, dt
        self.sfx = f"_{dt}" if layout == "nchw" else f"_nhwc_{dt}"

    def lay(self, a):                      # NCHW -> the kernel's layout (float)
        a = np.asarray(a)
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)) if self.layout == "nhwc" else np.ascontiguousarray(a)

    def values(self, a):                   # an NCHW input as the kernel sees its values (bf16-rounded)
        return bf16(a)[1].reshape(a.shape) if self.dt == "bf16" else a

    def dev(self, a):                      # NCHW float values -> kernel buffer
        v = self.lay(a)
        return round_bits(v) if self.dt == "bf16" else v.astype(np.float32)

    def empty(self, shape, fill=np.nan):
        n = int(np.prod(shape))
        return bfbuf(n, fill) if self.dt == "bf16" else buf(n, fill)

    def check(self, label, got, want_nchw, atol=1e-6, rtol=1e-5, ulps=1):
        want = self.lay(want_nchw)
        if self.dt == "bf16":
            check_bf16(f"{label} {self.layout} bf16", got, want, ulps, atol)
        else:
            check(f"{label} {self.layout} f32", got, want, atol, rtol)


def test_pool_bf16_nhwc():
    for layout, dt in VARIANTS:
        v = Variant(layout, dt)
        for (k, s, p, ceil), kind, C, lead in [(pool, kind, 3, 0) for pool in POOLS for kind in ["random", "ties", "nan"]] + \
                ([(pool, kind, 16, 0) for pool in POOLS[:3] for kind in ["random", "ties", "nan"]] + [(POOLS[0], "random", 16, 1)] if layout == "nhwc" else []):
            if True:
                N, H, W = 2, 9, 11
                x = rng.integers(-2, 3, size=(N, C, H, W)).astype(np.float32) if kind == "ties" else randn(N, C, H, W)
                if kind == "nan":
                    x[0, 1, 4, 5] = np.nan
                    x[1, 2, 0, 0] = np.nan
                x = v.values(x)
                OH, OW = pool_out(H, k, s, p, ceil), pool_out(W, k, s, p, ceil)
                t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                ty, ti = F.max_pool2d(t, k, s, p, ceil_mode=ceil, return_indices=True)
                tag = f"k{k}/s{s} p{p} ceil={ceil} {kind} C={C} lead={lead}"
                y, idx = v.empty((N * C * OH * OW + lead,)), np.full(N * C * OH * OW + lead, -7, np.int32)
                if layout == "nchw":
                    args = (N * C, H, W, OH, OW, k, k, s, s, p, p)
                else:
                    args = (N, H, W, C, OH, OW, k, k, s, s, p, p)
                launch("maxpool_fwd" + v.sfx, 3, 64, At(y, lead), At(idx, lead), v.dev(x), *args)
                y, idx = y[lead:], idx[lead:]
                v.check(f"maxpool_fwd values {tag}", y, ty.detach().numpy(), 0, 0, 0)
                check(f"maxpool_fwd indices {tag} {layout} {dt}", idx, v.lay(ti.numpy()), 0, 0)
                if kind == "nan":
                    continue
                dy = v.values(randn(N, C, OH, OW))
                ty.backward(torch.tensor(dy, dtype=torch.float64))
                dx0 = v.values(randn(N, C, H, W)); dxl = np.concatenate([v.dev(np.zeros(1, np.float32).reshape(1, 1, 1, 1)).ravel()[:lead], v.dev(dx0).ravel()])
                launch("maxpool_bwd" + v.sfx, 3, 64, At(dxl, lead), v.dev(dy), v.lay(ti.numpy()).astype(np.int32), *args)
                v.check(f"maxpool_bwd {tag}", dxl[lead:], dx0 + t.grad.numpy(), 1e-6, 1e-6)

        # max unpooling (SegNet's 2x2/2), with out-of-range indices skipped / adding nothing
        N, C, H, W = 2, 3, 8, 10
        _, ti = F.max_pool2d(torch.tensor(randn(N, C, H, W)), 2, 2, return_indices=True)
        idx = ti.numpy().astype(np.int32)
        idx.flat[3] = H * W; idx.flat[5] = -1
        xin = v.values(randn(N, C, H // 2, W // 2))
        want = np.zeros((N, C, H * W))
        for n in range(N):
            for c in range(C):
                for j in range((H // 2) * (W // 2)):
                    at = idx[n, c].flat[j]
                    if 0 <= at < H * W: want[n, c, at] = xin[n, c].flat[j]
        want = want.reshape(N, C, H, W)
        y = v.dev(np.zeros((N, C, H, W), np.float32))
        args = (N * C, 1) if layout == "nchw" else (N, C)
        largs = (N * C, (H // 2) * (W // 2), H * W) if layout == "nchw" else (N, C, (H // 2) * (W // 2), H * W)
        launch("maxunpool_fwd" + v.sfx, 2, 64, y, v.dev(xin), v.lay(idx), *largs)
        v.check("maxunpool_fwd", y, want, 0, 0, 0)
        dy = v.values(randn(N, C, H, W))
        dx0 = v.values(randn(N, C, H // 2, W // 2)); dx = v.dev(dx0)
        launch("maxunpool_bwd" + v.sfx, 2, 64, dx, v.dev(dy), v.lay(idx), *largs)
        gathered = np.zeros_like(dx0, dtype=np.float64)
        for n in range(N):
            for c in range(C):
                for j in range((H // 2) * (W // 2)):
                    at = idx[n, c].flat[j]
                    if 0 <= at < H * W: gathered[n, c].flat[j] = dy[n, c].flat[at]
        v.check("maxunpool_bwd", dx, dx0 + gathered, 1e-6, 1e-6, 1)

        for (k, s, p, ceil) in POOLS:
            for include in [True, False]:
                N, C, H, W = 2, 3, 9, 11
                x = v.values(randn(N, C, H, W))
                OH, OW = pool_out(H, k, s, p, ceil), pool_out(W, k, s, p, ceil)
                t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                ty = F.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=include)
                if layout == "nchw":
                    args = (N * C, H, W, OH, OW, k, k, s, s, p, p, int(include))
                else:
                    args = (N, H, W, C, OH, OW, k, k, s, s, p, p, int(include))
                y = v.empty((N, C, OH, OW))
                launch("avgpool_fwd" + v.sfx, 3, 64, y, v.dev(x), *args)
                tag = f"k{k}/s{s} p{p} ceil={ceil} includePad={include}"
                v.check(f"avgpool_fwd {tag}", y, ty.detach().numpy())
                dy = v.values(randn(N, C, OH, OW))
                ty.backward(torch.tensor(dy, dtype=torch.float64))
                dx0 = v.values(randn(N, C, H, W)); dx = v.dev(dx0)
                launch("avgpool_bwd" + v.sfx, 3, 64, dx, v.dev(dy), *args)
                v.check(f"avgpool_bwd {tag}", dx, dx0 + t.grad.numpy())

        for N, C, HW in [(2, 19, 49), (5, 1, 3), (2, 4, 200)]:
            x = v.values(randn(N, C, HW, 1))
            y = v.empty((N, C, 1, 1))
            args = (N * C, HW) if layout == "nchw" else (N, C, HW)
            launch("global_avgpool_fwd" + v.sfx, 2, 64, y, v.dev(x), *args)
            v.check(f"global_avgpool_fwd N={N} C={C} HW={HW}", y, x.astype(np.float64).mean(axis=(2, 3), keepdims=True))
            dy = v.values(randn(N, C, 1, 1)); dx0 = v.values(randn(N, C, HW, 1)); dx = v.dev(dx0)
            launch("global_avgpool_bwd" + v.sfx, 2, 64, dx, v.dev(dy), *args)
            v.check(f"global_avgpool_bwd N={N} C={C} HW={HW}", dx, dx0 + dy.astype(np.float64) / HW)

        for sc, C in [(2, 3), (3, 3), (2, 8), (2, 4), (3, 16)]:
            N, H, W = 2, 4, 5
            x = v.values(randn(N, C, H, W))
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            ty = F.interpolate(t, scale_factor=sc, mode="nearest")
            args = (N * C, H, W, sc) if layout == "nchw" else (N, H, W, C, sc)
            y = v.empty(ty.shape)
            launch("upsample_nearest_fwd" + v.sfx, 2, 64, y, v.dev(x), *args)
            v.check(f"upsample_nearest_fwd x{sc} C={C}", y, ty.detach().numpy(), 0, 0, 0)
            # misaligned output (the vector path must fall back)
            y2 = v.empty((y.size + 1,))
            launch("upsample_nearest_fwd" + v.sfx, 2, 64, At(y2, 1), v.dev(x), *args)
            v.check(f"upsample_nearest_fwd misaligned x{sc} C={C}", y2[1:], ty.detach().numpy(), 0, 0, 0)
            dy = v.values(randn(*ty.shape))
            ty.backward(torch.tensor(dy, dtype=torch.float64))
            dx0 = v.values(randn(N, C, H, W)); dx = v.dev(dx0)
            launch("upsample_nearest_bwd" + v.sfx, 2, 64, dx, v.dev(dy), *args)
            v.check(f"upsample_nearest_bwd x{sc} C={C}", dx, dx0 + t.grad.numpy())
            dxl = np.concatenate([v.dev(dx0).ravel()[:1], v.dev(dx0).ravel()])   # one element in: scalar fallback
            launch("upsample_nearest_bwd" + v.sfx, 2, 64, At(dxl, 1), v.dev(dy), *args)
            v.check(f"upsample_nearest_bwd misaligned x{sc} C={C}", dxl[1:], dx0 + t.grad.numpy())


def test_lrn():
    # (N, C, H, W, size, alpha, beta, k): VGG's settings, a strong cross-channel term, fewer channels than the window, one pixel.
    for N, C, H, W, size, alpha, beta, k in [(2, 7, 3, 5, 5, 1e-4, 0.75, 2.0), (2, 6, 4, 3, 3, 0.6, 0.9, 1.2),
                                              (3, 2, 5, 1, 5, 0.5, 0.75, 1.0), (2, 9, 1, 1, 7, 0.3, 1.3, 0.8)]:
        x = randn(N, C, H, W, scale=1.5)
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        # The kernels' alpha multiplies the window's sum; PyTorch divides its alpha by the size.
        ty = F.local_response_norm(t, size, alpha=alpha * size, beta=beta, k=k)
        tag = f"C={C} HW={H * W} size={size} alpha={alpha}"
        y = buf(x.size)
        launch("lrn_fwd_f32", 3, 64, y, x, N, C, H * W, size, alpha, beta, k)
        check(f"lrn_fwd_f32 {tag}", y, ty.detach().numpy(), 1e-6, 1e-5)
        dy = randn(N, C, H, W)
        ty.backward(torch.tensor(dy, dtype=torch.float64))
        dx0 = randn(N, C, H, W); dx = dx0.copy()
        launch("lrn_bwd_f32", 3, 64, dx, dy, x, N, C, H * W, size, alpha, beta, k)
        check(f"lrn_bwd_f32 {tag}", dx, dx0 + t.grad.numpy(), 1e-5, 1e-5)


def test_lrn_bf16_nhwc():
    for layout, dt in VARIANTS:
        v = Variant(layout, dt)
        for N, C, H, W, size, alpha, beta, k in [(2, 7, 3, 5, 5, 1e-4, 0.75, 2.0), (2, 6, 4, 3, 3, 0.6, 0.9, 1.2), (2, 9, 1, 1, 7, 0.3, 1.3, 0.8)]:
            x = v.values(randn(N, C, H, W, scale=1.5))
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            ty = F.local_response_norm(t, size, alpha=alpha * size, beta=beta, k=k)
            tag = f"C={C} HW={H * W} size={size} alpha={alpha}"
            y = v.empty(x.shape)
            launch("lrn_fwd" + v.sfx, 3, 64, y, v.dev(x), N, C, H * W, size, alpha, beta, k)
            v.check(f"lrn_fwd {tag}", y, ty.detach().numpy(), 1e-6, 1e-5)
            dy = v.values(randn(N, C, H, W))
            ty.backward(torch.tensor(dy, dtype=torch.float64))
            dx0 = v.values(randn(N, C, H, W)); dx = v.dev(dx0)
            launch("lrn_bwd" + v.sfx, 3, 64, dx, v.dev(dy), v.dev(x), N, C, H * W, size, alpha, beta, k)
            v.check(f"lrn_bwd {tag}", dx, dx0 + t.grad.numpy(), 1e-5, 1e-5)


# ---------------------------------------------------------------- softmax cross-entropy
def test_softmax_ce():
    cases = [("per-sample K=10", (37, 10), -1), ("per-sample K=1000", (9, 1000), -1),
             ("per-pixel", (2, 5, 6, 7), 255), ("per-pixel S=3", (3, 4, 3, 1), 255)]
    for label, shape, ignore in cases:
        N, Kc = shape[0], shape[1]
        S = int(np.prod(shape[2:])) if len(shape) > 2 else 1
        x = randn(*shape, scale=3)
        labels = rng.integers(0, Kc, size=(N,) + shape[2:]).astype(np.int32)
        labels.flat[::4] = ignore
        E = N * S
        loss, lse = buf(E), buf(E)
        bad = np.array([ignore], np.int32)
        launch("softmax_ce_fwd_f32", 2, 64, loss, lse, x, labels, N, Kc, S, ignore, bad)
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tl = torch.tensor(labels.astype(np.int64))
        want_loss = F.cross_entropy(tx, tl, ignore_index=ignore, reduction="none")
        check(f"softmax_ce_fwd_f32 loss {label}", loss, want_loss.detach().numpy(), 1e-5, 1e-5)
        want_lse = torch.logsumexp(tx.detach(), dim=1)
        check(f"softmax_ce_fwd_f32 lse {label}", lse, want_lse.numpy(), 1e-5, 1e-6)
        check(f"softmax_ce_fwd_f32 badLabel untouched {label}", bad, [ignore], 0, 0)
        result = buf(2)
        launch("softmax_ce_mean_f32", 1, 1024 if E > 100 else 64, result, loss, labels, E, Kc, ignore)
        mean = F.cross_entropy(tx, tl, ignore_index=ignore)
        check(f"softmax_ce_mean_f32 {label}", result, [mean.item(), (labels != ignore).sum()], 1e-6, 1e-6)
        dloss = np.array([0.7], np.float32)
        (mean * 0.7).backward()
        dx0 = randn(*shape); dx = dx0.copy()
        launch("softmax_ce_bwd_f32", 2, 64, dx, x, lse, labels, dloss, result, N, Kc, S, ignore)
        check(f"softmax_ce_bwd_f32 {label}", dx, dx0 + tx.grad.numpy(), 1e-6, 1e-5)

    # a label outside [0, K): NaN loss, reported, NaN mean, not counted
    N, Kc = 6, 4
    x = randn(N, Kc); labels = np.array([0, 1, 9, -1, 3, 2], np.int32)
    loss, lse, bad = buf(N), buf(N), np.array([-1], np.int32)
    launch("softmax_ce_fwd_f32", 1, 64, loss, lse, x, labels, N, Kc, 1, -1, bad)
    check("softmax_ce_fwd_f32 bad label -> NaN loss", np.isnan(loss), [0, 0, 1, 0, 0, 0], 0, 0)
    check("softmax_ce_fwd_f32 bad label reported", bad, [9], 0, 0)
    result = buf(2)
    launch("softmax_ce_mean_f32", 1, 64, result, loss, labels, N, Kc, -1)
    check("softmax_ce_mean_f32 bad label -> NaN mean, count 4", result, [np.nan, 4], 0, 0)

    # everything ignored: loss 0, count 0, backward adds nothing
    labels = np.full(N, -1, np.int32)
    launch("softmax_ce_fwd_f32", 1, 64, loss, lse, x, labels, N, Kc, 1, -1, None)
    launch("softmax_ce_mean_f32", 1, 64, result, loss, labels, N, Kc, -1)
    check("softmax_ce_mean_f32 all ignored", result, [0, 0], 0, 0)
    dx0 = randn(N, Kc); dx = dx0.copy()
    launch("softmax_ce_bwd_f32", 1, 64, dx, x, lse, labels, np.ones(1, np.float32), result, N, Kc, 1, -1)
    check("softmax_ce_bwd_f32 all ignored adds nothing", dx, dx0, 0, 0)


# ---------------------------------------------------------------- softmax focal loss and soft Dice
LOSS_CASES = [("per-sample K=10", (37, 10), -1), ("per-pixel", (2, 5, 6, 7), 255), ("per-pixel S=3", (3, 4, 3, 1), 255)]


def loss_case(shape, ignore):
    N, Kc = shape[0], shape[1]
    S = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    x = randn(*shape, scale=3)
    labels = rng.integers(0, Kc, size=(N,) + shape[2:]).astype(np.int32)
    labels.flat[::4] = ignore
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    return N, Kc, S, x, labels, tx, torch.tensor(labels.astype(np.int64))


def test_softmax_focal():
    for gamma in [2.0, 0.5]:
        for label, shape, ignore in LOSS_CASES:
            N, Kc, S, x, labels, tx, tl = loss_case(shape, ignore)
            E = N * S
            loss, lse, bad = buf(E), buf(E), np.array([ignore], np.int32)
            launch("softmax_focal_fwd_f32", 2, 64, loss, lse, x, labels, N, Kc, S, ignore, gamma, bad)
            keep = tl != ignore
            logp = F.log_softmax(tx, 1).gather(1, torch.where(keep, tl, 0).unsqueeze(1)).squeeze(1)
            terms = -((1 - logp.exp()) ** gamma) * logp * keep
            check(f"softmax_focal_fwd_f32 gamma {gamma} loss {label}", loss, terms.detach().numpy(), 1e-5, 1e-5)
            check(f"softmax_focal_fwd_f32 gamma {gamma} badLabel untouched {label}", bad, [ignore], 0, 0)
            result = buf(2)
            launch("softmax_ce_mean_f32", 1, 64, result, loss, labels, E, Kc, ignore)
            mean = terms.sum() / keep.sum()
            check(f"softmax_focal mean gamma {gamma} {label}", result, [mean.item(), keep.sum()], 1e-6, 1e-6)
            (mean * 0.7).backward()
            dx0 = randn(*shape); dx = dx0.copy()
            launch("softmax_focal_bwd_f32", 2, 64, dx, x, lse, labels, np.array([0.7], np.float32), result, N, Kc, S, ignore, gamma)
            check(f"softmax_focal_bwd_f32 gamma {gamma} {label}", dx, dx0 + tx.grad.numpy(), 1e-6, 1e-5)
    N, Kc = 6, 4
    x = randn(N, Kc); labels = np.array([0, 1, 9, -1, 3, 2], np.int32)
    loss, lse, bad = buf(N), buf(N), np.array([-1], np.int32)
    launch("softmax_focal_fwd_f32", 1, 64, loss, lse, x, labels, N, Kc, 1, -1, 2.0, bad)
    check("softmax_focal_fwd_f32 bad label -> NaN loss, reported", [np.isnan(loss[2]), bad[0]], [1, 9], 0, 0)


def test_softmax_dice():
    smooth = 1.0
    for label, shape, ignore in LOSS_CASES:
        N, Kc, S, x, labels, tx, tl = loss_case(shape, ignore)
        E = N * S
        ce, lse, bad = buf(E), buf(E), np.array([ignore], np.int32)
        launch("softmax_ce_fwd_f32", 2, 64, ce, lse, x, labels, N, Kc, S, ignore, bad)
        keep = (tl != ignore).unsqueeze(1).double()
        probs = F.softmax(tx, 1) * keep
        onehot = F.one_hot(torch.where(tl != ignore, tl, 0), Kc).movedim(-1, 1).double() * keep
        dims = [0] + list(range(2, tx.dim()))
        inter, pred, target = (probs * onehot).sum(dims), probs.sum(dims), onehot.sum(dims)
        sums = buf(3 * Kc)
        launch("softmax_dice_sums_f32", 3, 64, sums, x, lse, labels, N, Kc, S, ignore)
        want = torch.cat([inter, pred, target]).detach().numpy()
        check(f"softmax_dice_sums_f32 {label}", sums, want, 1e-5, 1e-5)
        result, coeff = buf(1), buf(2 * Kc)
        launch("softmax_dice_loss_f32", 1, 64, result, coeff, sums, Kc, smooth)
        dice = 1 - ((2 * inter + smooth) / (pred + target + smooth)).mean()
        check(f"softmax_dice_loss_f32 {label}", result, [dice.item()], 1e-5, 1e-6)
        (dice * 0.7).backward()
        dx0 = randn(*shape); dx = dx0.copy()
        launch("softmax_dice_bwd_f32", 2, 64, dx, x, lse, labels, np.array([0.7], np.float32), coeff, N, Kc, S, ignore)
        check(f"softmax_dice_bwd_f32 {label}", dx, dx0 + tx.grad.numpy(), 1e-6, 1e-5)


def test_softmax_losses_bf16_nhwc():
    """CE, focal and Dice with bf16 logits (NCHW [N, K, S] and per-sample [N, K]) and NHWC logits
    [N, H, W, K] (fp32 and bf16 kernels with N*H*W rows and S = 1); losses, lse and sums fp32,
    logit gradients in the logits' type. References: PyTorch float64 on the bf16-rounded logits."""
    cases = [("per-sample K=10", (37, 10), -1, "nchw"), ("per-pixel", (2, 5, 6, 7), 255, "nchw"),
             ("per-pixel", (2, 5, 6, 7), 255, "nhwc"), ("per-pixel K=40", (2, 40, 3, 5), 255, "nhwc")]
    for label, shape, ignore, layout in cases:
        for dt in (["bf16"] if layout == "nchw" else ["f32", "bf16"]):
            N, Kc = shape[0], shape[1]
            S = int(np.prod(shape[2:])) if len(shape) > 2 else 1
            E = N * S
            x = randn(*shape, scale=3)
            if dt == "bf16": _, x = bf16(x); x = x.reshape(shape)
            labels = rng.integers(0, Kc, size=(N,) + shape[2:]).astype(np.int32)
            labels.flat[::4] = ignore
            lay = (lambda a: np.ascontiguousarray(np.moveaxis(np.asarray(a), 1, -1))) if layout == "nhwc" else (lambda a: np.ascontiguousarray(a))
            dev = (lambda a: round_bits(lay(a))) if dt == "bf16" else (lambda a: lay(a).astype(np.float32))
            kN, kS = (E, 1) if layout == "nhwc" else (N, S)
            xk = dev(x)
            tag = f"{label} {layout} {dt}"
            tl = torch.tensor(labels.astype(np.int64))
            keep = tl != ignore

            def grad_check(name, dx0, dx, want):
                w = lay(dx0.astype(np.float64) + want)
                if dt == "bf16":
                    check_bf16(f"{name} {tag}", dx, w, 1, 1e-6)
                else:
                    check(f"{name} {tag}", dx, w, 1e-6, 1e-5)

            # cross-entropy
            tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            loss, lse, bad = buf(E), buf(E), np.array([ignore], np.int32)
            launch(f"softmax_ce_fwd_{dt}", 2, 64, loss, lse, xk, labels, kN, Kc, kS, ignore, bad)
            want_loss = F.cross_entropy(tx, tl, ignore_index=ignore, reduction="none")
            check(f"softmax_ce_fwd loss {tag}", loss, want_loss.detach().numpy(), 1e-5, 1e-5)
            check(f"softmax_ce_fwd lse {tag}", lse, torch.logsumexp(tx.detach(), dim=1).numpy(), 1e-5, 1e-6)
            check(f"softmax_ce_fwd badLabel untouched {tag}", bad, [ignore], 0, 0)
            result = buf(2)
            launch("softmax_ce_mean_f32", 1, 64, result, loss, labels, E, Kc, ignore)
            mean = F.cross_entropy(tx, tl, ignore_index=ignore)
            (mean * 0.7).backward()
            dx0 = randn(*shape, scale=1e-3)
            if dt == "bf16": _, dx0 = bf16(dx0); dx0 = dx0.reshape(shape)
            dx = dev(dx0)
            launch(f"softmax_ce_bwd_{dt}", 2, 64, dx, xk, lse, labels, np.array([0.7], np.float32), result, kN, Kc, kS, ignore)
            grad_check("softmax_ce_bwd", dx0, dx, tx.grad.numpy())

            # focal, gamma 2
            gamma = 2.0
            tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            loss, lse2 = buf(E), buf(E)
            launch(f"softmax_focal_fwd_{dt}", 2, 64, loss, lse2, xk, labels, kN, Kc, kS, ignore, gamma, bad)
            logp = F.log_softmax(tx, 1).gather(1, torch.where(keep, tl, 0).unsqueeze(1)).squeeze(1)
            terms = -((1 - logp.exp()) ** gamma) * logp * keep
            check(f"softmax_focal_fwd loss {tag}", loss, terms.detach().numpy(), 1e-5, 1e-5)
            launch("softmax_ce_mean_f32", 1, 64, result, loss, labels, E, Kc, ignore)
            (terms.sum() / keep.sum() * 0.7).backward()
            dx = dev(dx0)
            launch(f"softmax_focal_bwd_{dt}", 2, 64, dx, xk, lse2, labels, np.array([0.7], np.float32), result, kN, Kc, kS, ignore, gamma)
            grad_check("softmax_focal_bwd", dx0, dx, tx.grad.numpy())

            # Dice
            smooth = 1.0
            tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            k1 = keep.unsqueeze(1).double()
            probs = F.softmax(tx, 1) * k1
            onehot = F.one_hot(torch.where(keep, tl, 0), Kc).movedim(-1, 1).double() * k1
            dims = [0] + list(range(2, tx.dim()))
            inter, pred, target = (probs * onehot).sum(dims), probs.sum(dims), onehot.sum(dims)
            sums = buf(3 * Kc)
            launch(f"softmax_dice_sums_{dt}", 3, 64, sums, xk, lse, labels, kN, Kc, kS, ignore)
            check(f"softmax_dice_sums {tag}", sums, torch.cat([inter, pred, target]).detach().numpy(), 1e-5, 1e-5)
            res1, coeff = buf(1), buf(2 * Kc)
            launch("softmax_dice_loss_f32", 1, 64, res1, coeff, sums, Kc, smooth)
            dice = 1 - ((2 * inter + smooth) / (pred + target + smooth)).mean()
            check(f"softmax_dice_loss {tag}", res1, [dice.item()], 1e-5, 1e-6)
            (dice * 0.7).backward()
            dx = dev(dx0)
            launch(f"softmax_dice_bwd_{dt}", 2, 64, dx, xk, lse, labels, np.array([0.7], np.float32), coeff, kN, Kc, kS, ignore)
            grad_check("softmax_dice_bwd", dx0, dx, tx.grad.numpy())

    # a bad label in bf16: NaN loss, reported
    N, Kc = 6, 4
    xb, _ = bf16(randn(N, Kc)); labels = np.array([0, 1, 9, -1, 3, 2], np.int32)
    loss, lse, bad = buf(N), buf(N), np.array([-1], np.int32)
    launch("softmax_ce_fwd_bf16", 1, 64, loss, lse, xb, labels, N, Kc, 1, -1, bad)
    check("softmax_ce_fwd_bf16 bad label -> NaN loss, reported", [np.isnan(loss[2]), bad[0]], [1, 9], 0, 0)


# ---------------------------------------------------------------- group norm
def test_groupnorm():
    for N, C, HW, G, block in [(2, 8, 12, 4, 128), (2, 16, 5, 2, 64), (3, 6, 33, 3, 32), (2, 64, 16, 32, 64)]:
        x = randn(N, C, HW, scale=2) + 3
        gamma, beta = randn(C), randn(C)
        eps = 1e-5
        tag = f"N{N} C{C} HW{HW} G{G} block{block}"
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tg = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
        ty = F.group_norm(tx, G, tg, tb, eps)
        y, mean, rstd = buf(N * C * HW), buf(N * G), buf(N * G)
        launch("groupnorm_fwd_f32", 3, block, y, mean, rstd, x, gamma, beta, N, C, HW, G, np.float32(eps))
        xg = x.astype(np.float64).reshape(N * G, -1)
        check(f"groupnorm_fwd_f32 y {tag}", y, ty.detach().numpy(), 1e-5, 1e-5)
        check(f"groupnorm_fwd_f32 mean {tag}", mean, xg.mean(axis=1), 1e-6, 1e-6)
        check(f"groupnorm_fwd_f32 rstd {tag}", rstd, 1 / np.sqrt(xg.var(axis=1) + eps), 1e-6, 1e-5)
        dy = randn(N, C, HW)
        ty.backward(torch.tensor(dy, dtype=torch.float64))
        scratch = buf(2 * N * C)
        dx0 = randn(N, C, HW); dx = dx0.copy()
        launch("groupnorm_bwd_f32", 3, block, dx, scratch, dy, x, mean, rstd, gamma, N, C, HW, G)
        check(f"groupnorm_bwd_f32 dx {tag}", dx, dx0 + tx.grad.numpy(), 1e-5, 1e-4)
        dg0, db0 = randn(C), randn(C); dg, db = dg0.copy(), db0.copy()
        launch("groupnorm_param_grad_f32", 1, 32, dg, db, scratch, rstd, N, C, G)
        check(f"groupnorm_param_grad_f32 dgamma {tag}", dg, dg0 + tg.grad.numpy(), 1e-5, 1e-4)
        check(f"groupnorm_param_grad_f32 dbeta {tag}", db, db0 + tb.grad.numpy(), 1e-5, 1e-5)
        scratch2 = buf(2 * N * C)
        launch("groupnorm_bwd_f32", 2, block, None, scratch2, dy, x, mean, rstd, gamma, N, C, HW, G)
        check(f"groupnorm_bwd_f32 dx=NULL fills the same scratch {tag}", scratch2, scratch, 0, 0)


def test_groupnorm_bf16_nhwc():
    # (N, C, HW, G, block): Cg 2 (several pixel groups per block), Cg 8, Cg 3 with HW 33, Cg 64 > block 32.
    for layout, dt in VARIANTS:
        v = Variant(layout, dt)
        for N, C, HW, G, block in [(2, 8, 12, 4, 128), (2, 16, 5, 2, 64), (3, 6, 33, 2, 32), (2, 128, 4, 2, 32)]:
            x = v.values(randn(N, C, HW, 1, scale=2) + 3)
            gamma, beta = randn(C), randn(C)
            eps = 1e-5
            tag = f"N{N} C{C} HW{HW} G{G} block{block}"
            tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            tg = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
            tb = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
            ty = F.group_norm(tx, G, tg, tb, eps)
            y, mean, rstd = v.empty((N, C, HW, 1)), buf(N * G), buf(N * G)
            launch("groupnorm_fwd" + v.sfx, 3, block, y, mean, rstd, v.dev(x), gamma, beta, N, C, HW, G, np.float32(eps))
            xg = x.astype(np.float64).reshape(N * G, -1)
            v.check(f"groupnorm_fwd y {tag}", y, ty.detach().numpy(), 1e-5, 1e-5)
            check(f"groupnorm_fwd mean {tag} {layout} {dt}", mean, xg.mean(axis=1), 1e-6, 1e-6)
            check(f"groupnorm_fwd rstd {tag} {layout} {dt}", rstd, 1 / np.sqrt(xg.var(axis=1) + eps), 1e-6, 1e-5)
            dy = v.values(randn(N, C, HW, 1))
            ty.backward(torch.tensor(dy, dtype=torch.float64))
            scratch = buf(2 * N * C)
            dx0 = v.values(randn(N, C, HW, 1)); dx = v.dev(dx0)
            launch("groupnorm_bwd" + v.sfx, 3, block, dx, scratch, v.dev(dy), v.dev(x), mean, rstd, gamma, N, C, HW, G)
            v.check(f"groupnorm_bwd dx {tag}", dx, dx0 + tx.grad.numpy(), 1e-5, 1e-4)
            dg0, db0 = randn(C), randn(C); dg, db = dg0.copy(), db0.copy()
            launch("groupnorm_param_grad_f32", 1, 32, dg, db, scratch, rstd, N, C, G)
            check(f"groupnorm_param_grad_f32 dgamma {tag} {layout} {dt}", dg, dg0 + tg.grad.numpy(), 1e-5, 1e-4)
            check(f"groupnorm_param_grad_f32 dbeta {tag} {layout} {dt}", db, db0 + tb.grad.numpy(), 1e-5, 1e-5)


# ---------------------------------------------------------------- batch norm + activation
def test_bnact():
    # (N, C, HW, block, grid): planes smaller than the block (flat walk) with fewer blocks than
    # channels, whole planes, and [N, C] features.
    for N, C, HW, block, grid in [(3, 5, 7, 64, 2), (2, 3, 130, 64, 3), (4, 6, 1, 32, 6)]:
        for act in (0, 1):
            for training in (True, False):
                tag = f"N{N} C{C} HW{HW} block{block} {'mish' if act else 'relu'} {'train' if training else 'eval'}"
                eps, momentum, sample = 1e-5, 0.3, C * HW
                x = randn(N, C, HW, scale=2) + 0.5
                w, b = randn(C) * 0.5 + 1, randn(C) * 0.5
                rm, rv = randn(C) * 0.3, (0.5 + rng.random(C)).astype(np.float32)
                tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
                tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
                trm, trv = torch.tensor(rm, dtype=torch.float64), torch.tensor(rv, dtype=torch.float64)
                tz = F.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=momentum, eps=eps)
                ty = F.mish(tz) if act else F.relu(tz)

                mean, invstd, krm, krv = buf(C), buf(C), rm.copy(), rv.copy()
                if training:
                    launch("bnact_stats_f32", grid, block, mean, invstd, krm, krv, x, N, C, HW, np.float32(eps), np.float32(momentum))
                    xc = x.astype(np.float64).transpose(1, 0, 2).reshape(C, -1)
                    check(f"bnact_stats_f32 mean {tag}", mean, xc.mean(axis=1), 1e-6, 1e-5)
                    check(f"bnact_stats_f32 invstd {tag}", invstd, 1 / np.sqrt(xc.var(axis=1) + eps), 1e-6, 1e-5)
                    check(f"bnact_stats_f32 running_mean {tag}", krm, trm.numpy(), 1e-6, 1e-5)
                    check(f"bnact_stats_f32 running_var {tag}", krv, trv.numpy(), 1e-6, 1e-5)
                else:
                    launch("bnact_running_stats_f32", 1, 32, mean, invstd, rm, rv, C, np.float32(eps))
                    check(f"bnact_running_stats_f32 {tag}", np.concatenate([mean, invstd]),
                          np.concatenate([rm, 1 / np.sqrt(rv.astype(np.float64) + eps)]), 1e-7, 1e-6)

                # y and dy as channel slices of a wider buffer, one element in (misaligned).
                stride, lead = sample + 3, 1
                span = lead + (N - 1) * stride + sample
                rows = [lead + n * stride for n in range(N)]
                y = buf(span + 2, 7.0)
                launch("bnact_fwd_f32", 3, 64, At(y, lead), stride, x, mean, invstd, w, b, N, C, HW, act)
                got = np.stack([y[r:r + sample] for r in rows])
                check(f"bnact_fwd_f32 y {tag}", got, ty.detach().numpy(), 1e-5, 1e-5)
                gaps = np.ones(len(y), bool)
                for r in rows: gaps[r:r + sample] = False
                check(f"bnact_fwd_f32 leaves the gaps {tag}", y[gaps], np.full(gaps.sum(), 7.0), 0, 0)

                dy_c = randn(N, sample)
                dy = buf(span + 2)
                for n, r in enumerate(rows): dy[r:r + sample] = dy_c[n]
                ty.backward(torch.tensor(dy_c.reshape(N, C, HW), dtype=torch.float64))
                sums = buf(2 * C)
                dw0, db0 = randn(C), randn(C); dw, db = dw0.copy(), db0.copy()
                launch("bnact_bwd_reduce_f32", grid, block, sums, dw, db, x, At(dy, lead), stride, mean, invstd, w, b, N, C, HW, act)
                check(f"bnact_bwd_reduce_f32 dweight {tag}", dw, dw0 + tw.grad.numpy(), 1e-5, 1e-4)
                check(f"bnact_bwd_reduce_f32 dbias {tag}", db, db0 + tb.grad.numpy(), 1e-5, 1e-4)
                dx0 = randn(N, C, HW); dx = dx0.copy()
                launch("bnact_bwd_dx_f32", 3, 64, dx, x, At(dy, lead), stride, mean, invstd, w, b, sums if training else None, N, C, HW, act, 1)
                check(f"bnact_bwd_dx_f32 dx {tag}", dx, dx0 + tx.grad.numpy(), 1e-5, 1e-4)
                dx = buf(N * C * HW).reshape(N, C, HW)   # NaN: the executor's first writer, dx is not read
                launch("bnact_bwd_dx_f32", 3, 64, dx, x, At(dy, lead), stride, mean, invstd, w, b, sums if training else None, N, C, HW, act, 0)
                check(f"bnact_bwd_dx_f32 dx overwritten {tag}", dx, tx.grad.numpy(), 1e-5, 1e-4)


def test_bnact_bf16_nhwc():
    """bnact in bf16 NCHW, NHWC fp32 and NHWC bf16 against PyTorch (float64 on the bf16-rounded
    inputs; NHWC results compared with the NCHW reference permuted to channels-last)."""
    # (N, C, HW, block, grid, lead): C <= block with several row groups; C a multiple of 8 (vector
    # paths) with y/dy 8 elements in (aligned) or 1 in (scalar fallback); C > block (thread per
    # channel); [N, C] features.
    cases = [(3, 5, 7, 64, 2, 1), (2, 16, 30, 64, 3, 8), (2, 16, 30, 64, 3, 1), (2, 70, 5, 64, 3, 8), (4, 8, 1, 32, 6, 8)]
    for layout, dt in [("nchw", "bf16"), ("nhwc", "f32"), ("nhwc", "bf16")]:
        for N, C, HW, block, grid, lead in cases:
            if layout == "nchw" and lead == 8 and C == 16: continue
            for act in (0, 1):
                for training in (True, False):
                    tag = f"{layout} {dt} N{N} C{C} HW{HW} block{block} grid{grid} lead{lead} {'mish' if act else 'relu'} {'train' if training else 'eval'}"
                    eps, momentum = 1e-5, 0.3
                    x = randn(N, C, HW, scale=2) + 0.5
                    if dt == "bf16":
                        _, x = bf16(x)
                    nhwc = lambda a: np.ascontiguousarray(np.asarray(a).reshape(N, C, HW).transpose(0, 2, 1))
                    xs = nhwc(x) if layout == "nhwc" else x
                    xk = round_bits(xs) if dt == "bf16" else xs
                    w, b = randn(C) * 0.5 + 1, randn(C) * 0.5
                    rm, rv = randn(C) * 0.3, (0.5 + rng.random(C)).astype(np.float32)
                    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
                    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
                    trm, trv = torch.tensor(rm, dtype=torch.float64), torch.tensor(rv, dtype=torch.float64)
                    tz = F.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=momentum, eps=eps)
                    ty = F.mish(tz) if act else F.relu(tz)
                    sfx = f"_{dt}" if layout == "nchw" else f"_nhwc_{dt}"

                    mean, invstd, krm, krv = buf(C), buf(C), rm.copy(), rv.copy()
                    if training:
                        if layout == "nchw":
                            launch("bnact_stats" + sfx, grid, block, mean, invstd, krm, krv, xk, N, C, HW, np.float32(eps), np.float32(momentum))
                        else:
                            partial = buf((2 * grid + 1) * C)
                            launch("bnact_stats" + sfx, grid, block, partial, xk, N, C, HW)
                            launch("bnact_stats_finalize_f32", 1, 32, mean, invstd, krm, krv, partial, grid, N, C, HW, np.float32(eps), np.float32(momentum))
                        xc = x.astype(np.float64).transpose(1, 0, 2).reshape(C, -1)
                        check(f"bnact_stats mean {tag}", mean, xc.mean(axis=1), 1e-6, 1e-5)
                        check(f"bnact_stats invstd {tag}", invstd, 1 / np.sqrt(xc.var(axis=1) + eps), 1e-6, 1e-5)
                        check(f"bnact_stats running_mean {tag}", krm, trm.numpy(), 1e-6, 1e-5)
                        check(f"bnact_stats running_var {tag}", krv, trv.numpy(), 1e-6, 1e-5)
                    else:
                        launch("bnact_running_stats_f32", 1, 32, mean, invstd, rm, rv, C, np.float32(eps))

                    # y and dy strided: NCHW samples of C*HW at stride C*HW + 3; NHWC pixels of C at stride C + 8.
                    rows, rowLen = (N, C * HW) if layout == "nchw" else (N * HW, C)
                    stride = rowLen + (3 if layout == "nchw" else 8)
                    span = lead + (rows - 1) * stride + rowLen
                    starts = [lead + r * stride for r in range(rows)]
                    mk = (lambda n, v: bfbuf(n, v)) if dt == "bf16" else (lambda n, v: buf(n, v))
                    y = mk(span + 2, 7.0)
                    launch("bnact_fwd" + sfx, 3, 64, At(y, lead), stride, xk, mean, invstd, w, b, N, C, HW, act)
                    got = np.stack([y[r:r + rowLen] for r in starts])
                    want_y = ty.detach().numpy()
                    want_y = nhwc(want_y).reshape(rows, rowLen) if layout == "nhwc" else want_y.reshape(rows, rowLen)
                    if dt == "bf16":
                        check_bf16(f"bnact_fwd y {tag}", got, want_y, 1, 1e-5)
                    else:
                        check(f"bnact_fwd y {tag}", got, want_y, 1e-5, 1e-5)
                    gaps = np.ones(len(y), bool)
                    for r in starts: gaps[r:r + rowLen] = False
                    fill7 = round_bits(np.array([7.0], np.float32))[0] if dt == "bf16" else np.float32(7.0)
                    check(f"bnact_fwd leaves the gaps {tag}", y[gaps].astype(np.float64), np.full(gaps.sum(), float(fill7)), 0, 0)

                    dy_c = randn(N, C, HW)
                    if dt == "bf16":
                        _, dy_c = bf16(dy_c)
                    dy_rows = nhwc(dy_c).reshape(rows, rowLen) if layout == "nhwc" else dy_c.reshape(rows, rowLen)
                    dy = mk(span + 2, np.nan)
                    for r, st in enumerate(starts):
                        dy[st:st + rowLen] = round_bits(dy_rows[r]) if dt == "bf16" else dy_rows[r]
                    ty.backward(torch.tensor(dy_c, dtype=torch.float64))
                    sums = buf(2 * C)
                    dw0, db0 = randn(C), randn(C); dw, db = dw0.copy(), db0.copy()
                    if layout == "nchw":
                        launch("bnact_bwd_reduce" + sfx, grid, block, sums, dw, db, xk, At(dy, lead), stride, mean, invstd, w, b, N, C, HW, act)
                    else:
                        partial = buf(2 * grid * C)
                        launch("bnact_bwd_reduce" + sfx, grid, block, partial, xk, At(dy, lead), stride, mean, invstd, w, b, N, C, HW, act)
                        launch("bnact_bwd_reduce_finalize_f32", 1, 32, sums, dw, db, partial, invstd, grid, C)
                    check(f"bnact_bwd_reduce dweight {tag}", dw, dw0 + tw.grad.numpy(), 1e-5, 1e-4)
                    check(f"bnact_bwd_reduce dbias {tag}", db, db0 + tb.grad.numpy(), 1e-5, 1e-4)
                    want_dx = tx.grad.numpy()
                    if layout == "nhwc": want_dx = nhwc(want_dx)
                    dx0 = randn(*xs.shape)
                    if dt == "bf16":
                        dx0b, dx0 = bf16(dx0); dx = dx0b.copy()
                    else:
                        dx = dx0.copy()
                    launch("bnact_bwd_dx" + sfx, 3, 64, dx, xk, At(dy, lead), stride, mean, invstd, w, b, sums if training else None, N, C, HW, act, 1)
                    if dt == "bf16":
                        check_bf16(f"bnact_bwd_dx dx {tag}", dx, dx0.astype(np.float64) + want_dx, 1, 1e-5)
                    else:
                        check(f"bnact_bwd_dx dx {tag}", dx, dx0 + want_dx, 1e-5, 1e-4)
                    dx = mk(xs.size, np.nan).reshape(xs.shape)
                    launch("bnact_bwd_dx" + sfx, 3, 64, dx, xk, At(dy, lead), stride, mean, invstd, w, b, sums if training else None, N, C, HW, act, 0)
                    if dt == "bf16":
                        check_bf16(f"bnact_bwd_dx dx overwritten {tag}", dx, want_dx, 1, 1e-5)
                    else:
                        check(f"bnact_bwd_dx dx overwritten {tag}", dx, want_dx, 1e-5, 1e-4)


# ---------------------------------------------------------------- optimizers
def test_optimizer():
    n = 1001
    for off in [0, 1]:
        for unit in [False, True]:
            w0, v0, g = randn(n + off), randn(n + off), randn(n + off)
            w, v = w0.copy(), v0.copy()
            lr, m, wd = 0.1, 0.9, 5e-4
            gain = 1 - m if unit else 1.0
            launch("sgd_momentum_f32", 2, 64, At(w, off), At(v, off), At(g, off), np.array([lr], dtype=np.float32), np.float32(m), np.float32(gain), np.float32(wd), n)
            gd = g.astype(np.float64) + wd * w0
            vv = m * v0 + gain * gd
            check(f"sgd_momentum_f32 unitGain={unit} offset={off} v", v[off:], vv[off:], 1e-6, 1e-5)
            check(f"sgd_momentum_f32 unitGain={unit} offset={off} w", w[off:], (w0 - lr * vv)[off:], 1e-6, 1e-5)
        w0, m0, g = randn(n + off), randn(n + off) * 0.1, randn(n + off)
        v0 = np.abs(randn(n + off)) * 0.01
        w, mm, vv = w0.copy(), m0.copy(), v0.copy()
        lr, b1, b2, eps, wd, t = 1e-3, 0.9, 0.999, 1e-8, 1e-4, 7
        step = lr / (1 - b1 ** t); sq = math.sqrt(1 - b2 ** t)
        launch("adam_f32", 2, 64, At(w, off), At(mm, off), At(vv, off), At(g, off), np.float32(b1), np.float32(b2), np.float32(eps), np.float32(wd), np.array([step, sq], dtype=np.float32), n)
        gd = g.astype(np.float64) + wd * w0
        m1 = b1 * m0 + (1 - b1) * gd
        m2 = b2 * v0 + (1 - b2) * gd * gd
        check(f"adam_f32 offset={off} m", mm[off:], m1[off:], 1e-6, 1e-5)
        check(f"adam_f32 offset={off} v", vv[off:], m2[off:], 1e-7, 1e-5)
        check(f"adam_f32 offset={off} w", w[off:], (w0 - step * m1 / (np.sqrt(m2) / sq + eps))[off:], 1e-6, 1e-5)


def test_optimizer_copy_bf16():
    n = 1001
    for off in [0, 1]:
        w0, v0, g = randn(n + off), randn(n + off), randn(n + off)
        w, v, wc = w0.copy(), v0.copy(), bfbuf(n + off)
        lr, m, wd = 0.1, 0.9, 5e-4
        launch("sgd_momentum_f32", 2, 64, At(w, off), At(v, off), At(g, off), np.array([lr], dtype=np.float32), np.float32(m), np.float32(1.0), np.float32(wd), n)
        w2, v2 = w0.copy(), v0.copy()
        launch("sgd_momentum_copy_bf16", 2, 64, At(w2, off), At(wc, off), At(v2, off), At(g, off), np.array([lr], dtype=np.float32), np.float32(m), np.float32(1.0), np.float32(wd), n)
        check(f"sgd_momentum_copy_bf16 offset={off} w, v == sgd_momentum_f32", np.concatenate([w2[off:], v2[off:]]), np.concatenate([w[off:], v[off:]]), 0, 0)
        check(f"sgd_momentum_copy_bf16 offset={off} copy == Bf16.Round(w)", wc[off:].astype(np.float64), round_bits(w[off:]).astype(np.float64), 0, 0)
        m0 = randn(n + off) * 0.1; va0 = np.abs(randn(n + off)) * 0.01
        bias = np.array([1e-3 / (1 - 0.9 ** 7), math.sqrt(1 - 0.999 ** 7)], dtype=np.float32)
        w, mm, vv = w0.copy(), m0.copy(), va0.copy()
        launch("adam_f32", 2, 64, At(w, off), At(mm, off), At(vv, off), At(g, off), np.float32(0.9), np.float32(0.999), np.float32(1e-8), np.float32(1e-4), bias, n)
        w2, mm2, vv2, wc = w0.copy(), m0.copy(), va0.copy(), bfbuf(n + off)
        launch("adam_copy_bf16", 2, 64, At(w2, off), At(wc, off), At(mm2, off), At(vv2, off), At(g, off), np.float32(0.9), np.float32(0.999), np.float32(1e-8), np.float32(1e-4), bias, n)
        check(f"adam_copy_bf16 offset={off} w, m, v == adam_f32", np.concatenate([w2[off:], mm2[off:], vv2[off:]]), np.concatenate([w[off:], mm[off:], vv[off:]]), 0, 0)
        check(f"adam_copy_bf16 offset={off} copy == Bf16.Round(w)", wc[off:].astype(np.float64), round_bits(w[off:]).astype(np.float64), 0, 0)


# ---------------------------------------------------------------- reductions and metrics
def test_reduce():
    for n, off in [(10007, 0), (10007, 1), (3, 0)]:
        x = randn(n + off)
        out = buf(1)
        launch("sum_f32", 1, 256, out, At(x, off), n)
        check(f"sum_f32 n={n} offset={off}", out, [x[off:].astype(np.float64).sum()], 1e-5, 1e-6)
        launch("sum_squares_f32", 1, 256, out, At(x, off), n)
        check(f"sum_squares_f32 n={n} offset={off}", out, [(x[off:].astype(np.float64) ** 2).sum()], 1e-5, 1e-6)

    for N, Kc in [(23, 10), (5, 100)]:
        x = rng.integers(-3, 4, size=(N, Kc)).astype(np.float32)  # many ties
        labels = rng.integers(0, Kc, size=N).astype(np.int32); labels[2] = Kc; labels[3] = -1
        want = []
        for i in range(N):
            L = labels[i]
            if not 0 <= L < Kc:
                want.append(-1)
                continue
            want.append(sum(1 for k in range(Kc) if x[i, k] > x[i, L] or (x[i, k] == x[i, L] and k < L)))
        x[4, labels[4]] = np.nan  # a NaN label score ranks last
        want[4] = Kc
        rank = np.full(N, -9, np.int32)
        launch("class_rank_f32", 2, 64, rank, x, labels, N, Kc)
        check(f"class_rank_f32 N={N} K={Kc}", rank, want, 0, 0)
        xt = randn(N, Kc)
        launch("class_rank_f32", 2, 64, rank, xt, labels, N, Kc)
        ok = (labels >= 0) & (labels < Kc)
        top5 = torch.topk(torch.tensor(xt), 5, dim=1).indices.numpy()
        want5 = np.array([labels[i] in top5[i] for i in range(N)])
        check(f"class_rank_f32 top-5 matches torch.topk N={N} K={Kc}", (rank < 5) & ok, want5 & ok, 0, 0)

    N, Kc, H, W = 2, 5, 6, 7
    x = rng.integers(-2, 3, size=(N, Kc, H, W)).astype(np.float32)
    x[0, 2, 1, 1] = np.nan
    pred = np.full(N * H * W, -1, np.int32)
    launch("argmax_classes_f32", 2, 64, pred, x, N, Kc, H * W)
    want = []
    for n in range(N):
        for s in range(H * W):
            col = x[n, :, s // W, s % W]
            best, at = col[0], 0
            for k in range(1, Kc):
                if col[k] > best or (np.isnan(best) and not np.isnan(col[k])):
                    best, at = col[k], k
            want.append(at)
    check("argmax_classes_f32 (first max, NaN never wins)", pred, want, 0, 0)
    labels = rng.integers(0, Kc, size=(N, H, W)).astype(np.int32)
    labels.flat[::5] = 255
    labels.flat[7] = Kc + 1
    wantc = np.zeros((Kc, Kc), np.int64)
    for e, L in enumerate(labels.ravel()):
        if 0 <= L < Kc:
            wantc[L, want[e]] += 1
    for use_shared in [0, 1]:
        conf0 = rng.integers(0, 5, size=Kc * Kc).astype(np.int32); conf = conf0.copy()
        launch("confusion_f32", 3, 64, conf, x, labels, N, Kc, H * W, 255, use_shared, shared=Kc * Kc * 4 if use_shared else 0)
        check(f"confusion_f32 useShared={use_shared}", conf, conf0 + wantc.ravel(), 0, 0)


def test_reduce_bf16():
    for N, Kc in [(23, 10), (5, 100)]:
        x = rng.integers(-3, 4, size=(N, Kc)).astype(np.float32)  # many ties (exact in bf16)
        x[:, 0] += 0.001                                          # rounds away in bf16: ties stay ties
        labels = rng.integers(0, Kc, size=N).astype(np.int32); labels[2] = Kc; labels[3] = -1
        xb, xf = bf16(x); xf = xf.reshape(N, Kc)
        want = []
        for i in range(N):
            L = labels[i]
            want.append(-1 if not 0 <= L < Kc else sum(1 for k in range(Kc) if xf[i, k] > xf[i, L] or (xf[i, k] == xf[i, L] and k < L)))
        rank = np.full(N, -9, np.int32)
        launch("class_rank_bf16", 2, 64, rank, xb, labels, N, Kc)
        check(f"class_rank_bf16 N={N} K={Kc}", rank, want, 0, 0)
    # NCHW [N, K, S] and NHWC [N*S, K] (S = 1) logits in bf16
    N, Kc, H, W = 2, 5, 6, 7
    x = rng.integers(-2, 3, size=(N, Kc, H, W)).astype(np.float32)
    x[0, 2, 1, 1] = np.nan
    labels = rng.integers(0, Kc, size=(N, H, W)).astype(np.int32)
    labels.flat[::5] = 255
    labels.flat[7] = Kc + 1
    want = []
    for n in range(N):
        for s in range(H * W):
            col = x[n, :, s // W, s % W]
            best, at = col[0], 0
            for k in range(1, Kc):
                if col[k] > best or (np.isnan(best) and not np.isnan(col[k])):
                    best, at = col[k], k
            want.append(at)
    wantc = np.zeros((Kc, Kc), np.int64)
    for e, L in enumerate(labels.ravel()):
        if 0 <= L < Kc:
            wantc[L, want[e]] += 1
    for layout in ["nchw", "nhwc"]:
        xb = round_bits(np.ascontiguousarray(np.moveaxis(x, 1, -1)) if layout == "nhwc" else x)
        kN, kS = (N * H * W, 1) if layout == "nhwc" else (N, H * W)
        pred = np.full(N * H * W, -1, np.int32)
        launch("argmax_classes_bf16", 2, 64, pred, xb, kN, Kc, kS)
        check(f"argmax_classes_bf16 {layout}", pred, want, 0, 0)
        for use_shared in [0, 1]:
            conf0 = rng.integers(0, 5, size=Kc * Kc).astype(np.int32); conf = conf0.copy()
            launch("confusion_bf16", 3, 64, conf, xb, labels, kN, Kc, kS, 255, use_shared, shared=Kc * Kc * 4 if use_shared else 0)
            check(f"confusion_bf16 {layout} useShared={use_shared}", conf, conf0 + wantc.ravel(), 0, 0)


def main():
    tests = [test_elementwise, test_activation, test_convert, test_transpose, test_bf16_elementwise, test_bf16_activation, test_bias, test_dropout, test_dropout_bf16, test_concat, test_concat_bias_bf16_nhwc, test_maxpool, test_maxunpool,
             test_avgpool, test_global_avgpool, test_upsample, test_pool_bf16_nhwc, test_lrn, test_lrn_bf16_nhwc, test_softmax_ce, test_softmax_focal, test_softmax_dice, test_softmax_losses_bf16_nhwc, test_groupnorm, test_groupnorm_bf16_nhwc, test_bnact, test_bnact_bf16_nhwc, test_optimizer, test_optimizer_copy_bf16, test_reduce, test_reduce_bf16]
    only = sys.argv[1:]
    for t in tests:
        if only and not any(o in t.__name__ for o in only):
            continue
        print(f"== {t.__name__[5:]}")
        t()
    print(f"{checks - failures} of {checks} checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
