#!/usr/bin/env python3
"""Golden values for the convolutional ops of package nn (conv, pooling, batch norm) and the parameter counts of vision's models.

Computes with torch in float64, on small inputs given by formulas (written
into the JSON too), the forward outputs and the gradients for an upstream
gradient dy (also a formula) of: conv2d (3x3 stride 1 and 2 with padding 1,
1x1 stride 2), max-pooling (2x2 stride 2 with ties, 3x3 stride 2),
batch norm in training mode (output, gradients, updated running
statistics; with and without a following ReLU) and in evaluation mode,
and global average pooling; and the parameter counts of the CIFAR VGG-19
and ResNet-18 of github.com/kuangliu/pytorch-cifar and of the small "cnn".

Run from the repository root:

    /usr/bin/python3 nn/testdata/golden_cnn.py > nn/testdata/golden_cnn.json
"""

import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def pattern(shape, seed, scale=1.0, offset=0.0):
    """A deterministic, irregular tensor: scale*sin(0.7*i*1.37 + seed) + offset."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (scale * torch.sin(0.7 * i * 1.37 + seed) + offset).reshape(shape)


def enc(t):
    t = t.detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def conv_case(xs, ws, stride, pad, bias, seed):
    x = pattern(xs, seed).requires_grad_()
    w = pattern(ws, seed + 1, 0.5).requires_grad_()
    b = pattern([ws[0]], seed + 2, 0.3).requires_grad_() if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=pad)
    dy = pattern(list(y.shape), seed + 3)
    y.backward(dy)
    out = {"stride": stride, "pad": pad, "x": enc(x), "w": enc(w), "y": enc(y), "dy": enc(dy),
           "dx": enc(x.grad), "dw": enc(w.grad)}
    if bias:
        out["b"] = enc(b)
        out["db"] = enc(b.grad)
    return out


def pool_case(xs, k, stride, seed, ties):
    x = pattern(xs, seed)
    if ties:
        x = torch.round(x * 3) / 2  # few distinct values: many ties
    x.requires_grad_()
    y = F.max_pool2d(x, k, stride)
    dy = pattern(list(y.shape), seed + 1)
    y.backward(dy)
    return {"k": k, "stride": stride, "x": enc(x), "y": enc(y), "dy": enc(dy), "dx": enc(x.grad)}


def bn_case(xs, train, relu, seed):
    c = xs[1]
    x = pattern(xs, seed, 2.0, 0.5).requires_grad_()
    gamma = pattern([c], seed + 1, 0.5, 1.0).requires_grad_()
    beta = pattern([c], seed + 2, 0.3).requires_grad_()
    rm0 = pattern([c], seed + 3, 0.2)
    rv0 = pattern([c], seed + 4, 0.3, 1.2)
    rm, rv = rm0.clone(), rv0.clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=train, momentum=0.1, eps=1e-5)
    if relu:
        y = F.relu(y)
    dy = pattern(list(y.shape), seed + 5)
    y.backward(dy)
    return {"train": train, "relu": relu, "x": enc(x), "gamma": enc(gamma), "beta": enc(beta),
            "running_mean": enc(rm0), "running_var": enc(rv0), "y": enc(y), "dy": enc(dy),
            "dx": enc(x.grad), "dgamma": enc(gamma.grad), "dbeta": enc(beta.grad),
            "new_running_mean": enc(rm), "new_running_var": enc(rv)}


def gap_case(xs, seed):
    x = pattern(xs, seed).requires_grad_()
    y = F.adaptive_avg_pool2d(x, 1).flatten(1)
    dy = pattern(list(y.shape), seed + 1)
    y.backward(dy)
    return {"x": enc(x), "y": enc(y), "dy": enc(dy), "dx": enc(x.grad)}


# The CIFAR models of github.com/kuangliu/pytorch-cifar (models/vgg.py,
# models/resnet.py), as published.

VGG19 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M']


class VGG(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        layers, in_channels = [], 3
        for x in cfg:
            if x == 'M':
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1), nn.BatchNorm2d(x), nn.ReLU(inplace=True)]
                in_channels = x
        layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, 10)

    def forward(self, x):
        out = self.features(x)
        return self.classifier(out.view(out.size(0), -1))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(block, 64, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 128, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 256, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, 512, num_blocks[3], stride=2)
        self.linear = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


class SmallCNN(nn.Module):
    """vision's "cnn": three conv3x3(no bias)-BN-ReLU-maxpool stages, flatten, linear."""

    def __init__(self, width=1):
        super().__init__()
        layers, c = [], 3
        for v in (32, 64, 128):
            layers += [nn.Conv2d(c, v * width, 3, padding=1, bias=False), nn.BatchNorm2d(v * width),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2, 2)]
            c = v * width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c * 16, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def count(model, x):
    assert model(x).shape == (2, 10)  # the published models run on CIFAR images
    return sum(p.numel() for p in model.parameters())  # running statistics are buffers, not parameters


def dumps(golden):
    """JSON with one field of a case per line."""
    def one(v):
        return json.dumps(v, separators=(",", ":"))

    cases = []
    for k, v in golden.items():
        if isinstance(v, dict):
            fields = ",\n".join(f"  {one(f)}: {one(x)}" for f, x in v.items())
            cases.append(f" {one(k)}: {{\n{fields}\n }}")
        else:
            cases.append(f" {one(k)}: {one(v)}")
    return "{\n" + ",\n".join(cases) + "\n}\n"


def main():
    torch.manual_seed(0)
    cifar = torch.zeros(2, 3, 32, 32)
    golden = {
        "torch": torch.__version__,
        "conv_s1": conv_case([2, 3, 5, 6], [4, 3, 3, 3], 1, 1, True, 1.0),
        "conv_s2": conv_case([2, 3, 7, 6], [4, 3, 3, 3], 2, 1, True, 2.0),
        "conv_1x1_s2": conv_case([2, 4, 5, 6], [3, 4, 1, 1], 2, 0, False, 3.0),
        "conv_wide": conv_case([3, 5, 8, 8], [18, 5, 3, 3], 1, 1, False, 4.0),
        "pool_2x2": pool_case([2, 3, 6, 5], 2, 2, 5.0, True),
        "pool_3x3_s2": pool_case([2, 2, 7, 7], 3, 2, 6.0, False),
        "bn_train": bn_case([3, 4, 3, 5], True, False, 7.0),
        "bn_train_relu": bn_case([3, 4, 3, 5], True, True, 8.0),
        "bn_eval": bn_case([3, 4, 3, 5], False, False, 9.0),
        "bn_eval_relu": bn_case([3, 4, 3, 5], False, True, 10.0),
        "gap": gap_case([2, 3, 4, 5], 11.0),
        "params": {
            "vgg19": count(VGG(VGG19), cifar),
            "resnet18": count(ResNet(BasicBlock, [2, 2, 2, 2]), cifar),
            "cnn": count(SmallCNN(1), cifar),
            "cnn_width2": count(SmallCNN(2), cifar),
        },
    }
    sys.stdout.write(dumps(golden))
    print("parameters:", golden["params"], file=sys.stderr)


if __name__ == "__main__":
    main()
