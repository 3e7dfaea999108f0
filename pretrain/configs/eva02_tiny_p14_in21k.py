# EVA-02-Ti/14 MIM (EVA-02 paper): ImageNet-21K, 240 epochs, batch 4000, lr 3e-3, stop-grad on the patch
# embedding, teacher EVA-01-CLIP-g/14 (1024-d).
_base_ = ["./_base_/mim_recipe.py"]

recipe = dict(dataset="ImageNet-21K", epochs=240, batch_size=4000, lr=3e-3, warmup_epochs=1, drop_path=0.0,
              teacher="EVA-01-CLIP-g/14", stop_grad_conv1=True, img_size=224, mask_ratio=105 / 256)
variant = "eva02_tiny_patch14_224"
num_gpus, accum = 32, 1  # 32 x 125 = 4000
per_gpu = recipe["batch_size"] // (num_gpus * accum)

model = dict(
    type="EVAMIM",
    backbone=dict(name=variant, drop_path_rate=recipe["drop_path"]),
    teacher=dict(type="eva_clip", variant="eva_giant_patch14_clip_224", embed_dim=1024,
                 checkpoint="checkpoints/EVA01_CLIP_g_14_psz14_s11B.pt",
                 dtype="bf16", compile=True),  # frozen: bf16 weights, compiled (benchmarks/gpu.py)
    stop_grad_conv1=recipe["stop_grad_conv1"],
)
train_dataloader = dict(batch_size=per_gpu, dataset=dict(
    root="data/imagenet21k/train", transform=dict(img_size=recipe["img_size"], mask_ratio=recipe["mask_ratio"])))
train_cfg = dict(max_epochs=recipe["epochs"])
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"]), accumulative_counts=accum)
