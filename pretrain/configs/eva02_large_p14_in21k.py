# EVA-02-L/14 MIM (BAAI's command): the B recipe (IN-21K, 150 epochs, batch 2048, lr 1.5e-3, EVA-CLIP-g teacher,
# stop-grad on the patch embedding) on the L model, with drop path 0.1.
_base_ = ["./eva02_base_p14_in21k.py"]

recipe = dict(drop_path=0.1)
variant = "eva02_large_patch14_224"
model = dict(backbone=dict(name=variant, drop_path_rate=0.1))
