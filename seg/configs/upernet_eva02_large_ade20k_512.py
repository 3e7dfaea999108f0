# EVA-02-L + UperNet on ADE20K at 512 (EVA-02 paper's recipe): batch 16, 80k iterations, lr 4e-5 with layer decay
# 0.9, drop path 0.2, head width 1024, features of blocks 7, 11, 15, 23. Changes only what differs from EVA-02-B.
_base_ = ["./upernet_eva02_base_ade20k_512.py"]

recipe = dict(variant="eva02_large_patch14_224", crop=512, batch_size=16, iters=80000, lr=4e-5, layer_decay=0.9,
              drop_path=0.2, head_channels=1024, out_indices=(7, 11, 15, 23), num_classes=150, warmup_iters=1500)
model = dict(
    backbone=dict(variant="eva02_large_patch14_224", out_indices=(7, 11, 15, 23), drop_path_rate=0.2,
                  pretrained="checkpoints/eva02_L_pt_m38m_p14.pt"),
    neck=dict(embed_dim=1024),
    decode_head=dict(in_channels=[1024] * 4, channels=1024),
    auxiliary_head=dict(in_channels=1024),
)
train_dataloader = dict(batch_size=16 // 8)
optim_wrapper = dict(optimizer=dict(lr=4e-5), paramwise_cfg=dict(layer_decay=0.9))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type="PolyLR", power=1.0, eta_min=0.0, by_epoch=False, begin=1500, end=80000),
]
train_cfg = dict(max_iters=80000)
