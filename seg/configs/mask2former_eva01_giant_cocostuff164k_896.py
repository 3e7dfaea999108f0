# EVA-01-g + Mask2Former on COCO-Stuff-164K at 896 (EVA paper's recipe): batch 32, 60k iterations, AdamW lr 1.5e-5
# with layer decay 0.95, drop path 0.5, 200 queries, 8 transformer-decoder layers. As in BAAI's release, the ViT
# runs inside a ViT-Adapter (four stages of ten blocks; deformable-attention interactions with 16 heads, 4 points,
# value width 0.5; ConvFFN 0.25; conv stem 64) that hands strides 4, 8, 16, 32 to mmseg's own Mask2FormerHead
# (mmdet's pixel decoder, matcher and losses) at BAAI's head width 1024 (32 heads, FFN 4096); slide inference
# with an 896 window. Built on mmseg's Mask2Former config; the ADE20K stage
# (mask2former_eva01_giant_ade20k_896.py) starts from this model.
_base_ = ["mmseg::mask2former/mask2former_r50_8xb2-160k_ade20k-512x512.py"]
custom_imports = dict(imports=["mmdet.models", "eva.seg"], allow_failed_imports=False)

recipe = dict(variant="eva_giant_patch14_224", crop=896, batch_size=32, iters=60000, lr=1.5e-5, layer_decay=0.95,
              drop_path=0.5, num_queries=200, decoder_layers=8, num_classes=171, warmup_iters=1500, slide_stride=512,
              stages=[[0, 9], [10, 19], [20, 29], [30, 39]], head_width=1024, head_heads=32, head_ffn=4096)
num_gpus = 8
crop_size = (recipe["crop"], recipe["crop"])
data_preprocessor = dict(size=crop_size)
num_classes = recipe["num_classes"]
width, heads, ffn = recipe["head_width"], recipe["head_heads"], recipe["head_ffn"]
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(_delete_=True, type="EVAAdapterBackbone", variant=recipe["variant"], img_size=recipe["crop"],
                  patch_size=16, interaction_indexes=recipe["stages"], conv_inplane=64, deform_num_heads=16,
                  n_points=4, deform_ratio=0.5, cffn_ratio=0.25, drop_path_rate=recipe["drop_path"],
                  norm_cfg=dict(type="SyncBN", requires_grad=True), grad_checkpointing=True,
                  pretrained="checkpoints/eva_psz14.pt"),
    decode_head=dict(
        in_channels=[1408] * 4,
        feat_channels=width,
        out_channels=width,
        num_classes=num_classes,
        num_queries=recipe["num_queries"],
        pixel_decoder=dict(
            encoder=dict(layer_cfg=dict(self_attn_cfg=dict(embed_dims=width, num_heads=heads),
                                        ffn_cfg=dict(embed_dims=width, feedforward_channels=ffn))),
            positional_encoding=dict(num_feats=width // 2)),
        positional_encoding=dict(num_feats=width // 2),
        transformer_decoder=dict(
            num_layers=recipe["decoder_layers"],
            layer_cfg=dict(self_attn_cfg=dict(embed_dims=width, num_heads=heads),
                           cross_attn_cfg=dict(embed_dims=width, num_heads=heads),
                           ffn_cfg=dict(embed_dims=width, feedforward_channels=ffn))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
    ),
    test_cfg=dict(mode="slide", crop_size=crop_size, stride=(recipe["slide_stride"],) * 2),
)

# COCO-Stuff-164K (mmseg's COCOStuffDataset and folder layout), the Mask2Former pipeline at the 896 crop
dataset_type = "COCOStuffDataset"
data_root = "data/coco_stuff164k"
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="RandomChoiceResize", scales=[int(recipe["crop"] * x * 0.1) for x in range(5, 21)],
         resize_type="ResizeShortestEdge", max_size=4 * recipe["crop"]),
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PhotoMetricDistortion"),
    dict(type="PackSegInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="Resize", scale=(4 * recipe["crop"], recipe["crop"]), keep_ratio=True),
    dict(type="LoadAnnotations"),
    dict(type="PackSegInputs"),
]
# multi-scale + flip test: short sides at the single-scale test size times these ratios (mmseg 0.x's semantics;
# mmseg 1.x's `scale_factor` would scale the original image instead)
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type="LoadImageFromFile", backend_args=None),
    dict(type="TestTimeAug", transforms=[
        [dict(type="Resize", scale=(4 * int(recipe["crop"] * r), int(recipe["crop"] * r)), keep_ratio=True)
         for r in img_ratios],
        [dict(type="RandomFlip", prob=0.0, direction="horizontal"),
         dict(type="RandomFlip", prob=1.0, direction="horizontal")],
        [dict(type="LoadAnnotations")],
        [dict(type="PackSegInputs")],
    ]),
]
train_dataloader = dict(
    batch_size=recipe["batch_size"] // num_gpus,
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path="images/train2017", seg_map_path="annotations/train2017"),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path="images/val2017", seg_map_path="annotations/val2017"),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type="SafeOptimWrapper",
    optimizer=dict(type="AdamW", lr=recipe["lr"], betas=(0.9, 0.999), weight_decay=0.05),
    constructor="LayerDecayOptimWrapperConstructor",
    paramwise_cfg=dict(layer_decay=recipe["layer_decay"], backbone_prefix="backbone.",
                       no_decay_names=[f"decode_head.{n}.weight" for n in ("query_embed", "query_feat",
                                                                           "level_embed")]),
    clip_grad=dict(max_norm=0.01, norm_type=2),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6, by_epoch=False, begin=0, end=recipe["warmup_iters"]),
    dict(type="PolyLR", power=1.0, eta_min=0.0, by_epoch=False, begin=recipe["warmup_iters"], end=recipe["iters"]),
]
# mmengine's IterBasedTrainLoop, but a resumed run starts its sampler where it stopped instead of loading every
# batch it skips, and each sample is augmented under a seed of its own (eva.backbone.mm.loops)
train_cfg = dict(type="ResumableIterBasedTrainLoop", max_iters=recipe["iters"], val_interval=5000)
default_hooks = dict(
    logger=dict(type="LoggerHook", interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=5000, max_keep_ckpts=2),
)
# exact resume, and checkpoints that load with torch.load(weights_only=True) (eva.backbone.mm.ResumeStateHook);
# the fixed seed fixes the sampler's order and the per-sample seeds
custom_hooks = [dict(type="ResumeStateHook")]
randomness = dict(seed=0)
