"""Datasets for masked image modeling; every sample's augmentation and mask is a pure function of
(seed, epoch, index), so training and resumed training see exactly the same data."""
from .mim_dataset import ImageFolderMIMDataset, MIMDataset, MIMTransform, RealImageMIMDataset, TarShardMIMDataset
from eva.backbone.mm.sampler import EpochSeededSampler

__all__ = ["MIMDataset", "MIMTransform", "RealImageMIMDataset", "ImageFolderMIMDataset", "TarShardMIMDataset",
           "EpochSeededSampler"]
