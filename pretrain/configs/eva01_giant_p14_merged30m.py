# EVA-01-g/14 MIM (EVA paper, Tab. "pre-training settings"): Merged-30M images, 150 epochs, batch 4096,
# lr 1e-3, 2 warmup epochs, drop path 0.1, teacher OpenAI CLIP ViT-L/14 at 224 (projected patch tokens).
_base_ = ["./_base_/mim_recipe.py"]

recipe = dict(dataset="Merged-30M", epochs=150, batch_size=4096, lr=1e-3, warmup_epochs=2, drop_path=0.1,
              teacher="CLIP ViT-L/14", stop_grad_conv1=False, img_size=224, mask_ratio=105 / 256)
num_gpus, accum = 128, 1  # 128 x 32 x 1 = 4096; change together to keep the global batch
per_gpu = recipe["batch_size"] // (num_gpus * accum)

model = dict(
    type="EVAMIM",
    backbone=dict(name="eva_giant_patch14_224", drop_path_rate=recipe["drop_path"], fp32_norm=True),
    teacher=dict(type="open_clip", model_name="ViT-L-14", checkpoint="checkpoints/openai_clip_vit_l14.pt"),
    stop_grad_conv1=recipe["stop_grad_conv1"],
)
train_dataloader = dict(batch_size=per_gpu, dataset=dict(
    root="data/merged30m", transform=dict(img_size=recipe["img_size"], mask_ratio=recipe["mask_ratio"])))
train_cfg = dict(max_epochs=recipe["epochs"])
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"]), accumulative_counts=accum)
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=recipe["warmup_epochs"],
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=recipe["warmup_epochs"], eta_min=1e-5,
         convert_to_iter_based=True),
]
