# EVA-02-L/14 MIM: the B recipe (IN-21K, 150 epochs, batch 2048, lr 1.5e-3, EVA-CLIP-g teacher) on the L model.
_base_ = ["./eva02_base_p14_in21k.py"]

variant = "eva02_large_patch14_224"
model = dict(backbone=dict(name=variant))
