#!/usr/bin/python3
"""Times torchvision's DataLoader on the engine loader bench's files and recipe (tools/bench/Loader).

--make N writes N JPEGs first (ImageNet-like: 500x375, quality 90, in 4 class folders) when the
folder is missing: smooth gradients, shapes and noise, so the files compress like photographs
rather than flat colour. Timing: ImageFolder + the vovnet recipe (random square crop of 0.875 of
the shorter side, mirror, bilinear resize to --size, ColorJitter 0.2, ToTensor) + DataLoader with
--threads worker processes (0 workers when --threads is 1 would also be one core, but the main
process would then do it between batches; a worker keeps the measurement alike), images/s over
--batches whole batches after a warm-up batch. Prints "RESULT torch <images/s>".
"""
import argparse
import os
import random
import sys
import time

import torch
from PIL import Image, ImageDraw, ImageFilter
from torchvision import datasets, transforms


def make(root, count, seed=1):
    rnd = random.Random(seed)
    for c in range(4):
        os.makedirs(os.path.join(root, f"class{c}"), exist_ok=True)
    for i in range(count):
        w, h = (500, 375) if i % 3 else (375, 500)
        img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
        r, g, b = (rnd.randint(0, 255) for _ in range(3))
        img = Image.blend(img, Image.new("RGB", (w, h), (r, g, b)), 0.6)
        draw = ImageDraw.Draw(img)
        for _ in range(12):
            x0, y0 = rnd.randint(0, w), rnd.randint(0, h)
            box = [x0, y0, x0 + rnd.randint(10, 200), y0 + rnd.randint(10, 200)]
            fill = tuple(rnd.randint(0, 255) for _ in range(3))
            (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=fill)
        img = img.filter(ImageFilter.GaussianBlur(1.5))
        noise = Image.effect_noise((w, h), 24).convert("RGB")
        img = Image.blend(img, noise, 0.15)
        img.save(os.path.join(root, f"class{i % 4}", f"img{i:05d}.jpg"), quality=90)


class RandomSquareCrop:
    """The vovnet recipe's crop: a square of `fraction` of the shorter side at a random place."""

    def __init__(self, fraction):
        self.fraction = fraction

    def __call__(self, img):
        w, h = img.size
        side = self.fraction * min(w, h)
        x, y = random.random() * (w - side), random.random() * (h - side)
        return img.crop((round(x), round(y), round(x + side), round(y + side)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--make", type=int, default=0, help="write this many JPEGs first if --data does not exist")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--batches", type=int, default=10)
    a = p.parse_args()
    if not os.path.isdir(a.data):
        if a.make < 1:
            sys.exit(f"error: --data {a.data}: no such folder (give --make N to write N JPEGs there)")
        make(a.data, a.make)
        print(f"wrote {a.make} JPEGs to {a.data}")
    torch.set_num_threads(1)
    recipe = transforms.Compose([
        RandomSquareCrop(0.875),
        transforms.RandomHorizontalFlip(),
        transforms.Resize((a.size, a.size), interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.ColorJitter(0.2, 0.2, 0.2),
        transforms.ToTensor(),
    ])
    data = datasets.ImageFolder(a.data, transform=recipe)
    if len(data) < (a.batches + 1) * a.batch:
        sys.exit(f"error: --data {a.data}: {len(data)} images, fewer than {(a.batches + 1) * a.batch}")
    loader = torch.utils.data.DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.threads, drop_last=True)
    seen, timed, start = 0, 0, 0.0
    for images, _ in loader:
        if seen == 0:
            start = time.perf_counter()
        else:
            timed += images.shape[0]
        seen += 1
        if seen > a.batches:
            break
    seconds = time.perf_counter() - start
    rate = timed / seconds
    print(f"torch loader: {timed} images in {seconds:.2f} s with {a.threads} worker(s): {rate:.1f} images/s, "
          f"{rate / a.threads:.1f} per worker ({a.size}x{a.size}, batch {a.batch})")
    print(f"RESULT torch {rate:.1f}")


if __name__ == "__main__":
    main()
