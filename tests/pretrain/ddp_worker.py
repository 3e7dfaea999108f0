"""Run by test_ddp.py under `torchrun --nproc_per_node 2`: one DDP step of EVA MIM on half of a fixed real
batch per rank (gloo, CPU); rank 0 writes the averaged gradients."""
import sys

import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel

from eva.pretrain import EVAMIM
from eva.pretrain.data import RealImageMIMDataset

BACKBONE = dict(name="eva02_tiny_patch14_224", img_size=64, patch_size=8, depth=2, rope_ref_grid=8,
                drop_path_rate=0.0)
TEACHER = dict(type="efficientnet_lite0", block=10, input_size=128)


def global_batch(n=8):
    ds = RealImageMIMDataset(dict(img_size=64, patch_size=8, min_block=4), num_samples=64, seed=3)
    items = [ds[(0, i)]["inputs"] for i in range(n)]
    return torch.stack([it["image"] for it in items]), torch.stack([it["mask"] for it in items])


def build():
    torch.manual_seed(0)
    return EVAMIM(backbone=BACKBONE, teacher=TEACHER)


def main(out_path):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    model = MMDistributedDataParallel(build())
    images, masks = global_batch()
    per = images.shape[0] // world
    sl = slice(rank * per, (rank + 1) * per)
    loss = model(inputs=dict(image=images[sl], mask=masks[sl]), mode="loss")["loss"]  # through DDP.forward
    loss.backward()
    wrapped = {n for n, _ in model.named_parameters()}
    if rank == 0:
        grads = {n: p.grad for n, p in model.module.named_parameters()}
        torch.save({"grads": grads, "wrapped": sorted(wrapped)}, out_path)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
