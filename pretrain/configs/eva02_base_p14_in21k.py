# EVA-02-B/14 MIM (EVA-02 paper; BAAI's command): ImageNet-21K, 150 epochs, batch 2048, lr 1.5e-3, teacher
# EVA-01-CLIP-g/14, stop-grad on the patch embedding (0.1 of its gradient, as for every EVA-02 size).
_base_ = ["./eva02_tiny_p14_in21k.py"]

recipe = dict(dataset="ImageNet-21K", epochs=150, batch_size=2048, lr=1.5e-3, warmup_epochs=1, drop_path=0.0,
              teacher="EVA-01-CLIP-g/14", stop_grad_conv1=True, img_size=224, mask_ratio=105 / 256)
variant = "eva02_base_patch14_224"
num_gpus, accum = 32, 1  # 32 x 64 = 2048
per_gpu = recipe["batch_size"] // (num_gpus * accum)

model = dict(backbone=dict(name=variant, drop_path_rate=recipe["drop_path"]),
             stop_grad_conv1=recipe["stop_grad_conv1"])
train_dataloader = dict(batch_size=per_gpu)
train_cfg = dict(max_epochs=recipe["epochs"])
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"]), accumulative_counts=accum)
