"""ViT-Adapter's spatial prior: a small convolutional stem giving the ViT local detail at strides 4 to 32."""
from __future__ import annotations

from typing import Tuple

import torch
from mmcv.cnn import build_norm_layer
from torch import nn


def _conv_norm_relu(cin: int, cout: int, stride: int, norm_cfg: dict):
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), build_norm_layer(norm_cfg, cout)[1], nn.ReLU(inplace=True)]


class SpatialPriorModule(nn.Module):
    """ResNet-style stem -> maps at strides 4, 8, 16, 32, each projected to the ViT width by a 1x1 conv.

    Module names (``stem``, ``conv2``..``conv4``, ``fc1``..``fc4``) follow ViT-Adapter's, so BAAI's EVA-01
    segmentation checkpoints load by name.

    Args:
        inplanes: stem width (channels at stride 4; 2x at stride 8, 4x at 16 and 32).
        embed_dim: ViT width ``D``.
        norm_cfg: mmcv norm config (``SyncBN`` for multi-GPU training, ``BN`` on one device).
    """

    def __init__(self, inplanes: int = 64, embed_dim: int = 768, norm_cfg: dict = dict(type="SyncBN")):
        super().__init__()
        self.stem = nn.Sequential(*_conv_norm_relu(3, inplanes, 2, norm_cfg),
                                  *_conv_norm_relu(inplanes, inplanes, 1, norm_cfg),
                                  *_conv_norm_relu(inplanes, inplanes, 1, norm_cfg),
                                  nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.conv2 = nn.Sequential(*_conv_norm_relu(inplanes, 2 * inplanes, 2, norm_cfg))
        self.conv3 = nn.Sequential(*_conv_norm_relu(2 * inplanes, 4 * inplanes, 2, norm_cfg))
        self.conv4 = nn.Sequential(*_conv_norm_relu(4 * inplanes, 4 * inplanes, 2, norm_cfg))
        self.fc1, self.fc2, self.fc3, self.fc4 = (nn.Conv2d(c, embed_dim, 1) for c in
                                                  (inplanes, 2 * inplanes, 4 * inplanes, 4 * inplanes))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Images ``[B, 3, H, W]`` -> maps ``[B, D, ceil(H / s), ceil(W / s)]`` for s = 4, 8, 16, 32."""
        c1 = self.stem(x)
        c2 = self.conv2(c1)
        c3 = self.conv3(c2)
        c4 = self.conv4(c3)
        return self.fc1(c1), self.fc2(c2), self.fc3(c3), self.fc4(c4)
