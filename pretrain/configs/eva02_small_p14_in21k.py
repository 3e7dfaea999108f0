# EVA-02-S/14 MIM: the Ti recipe (IN-21K, 240 epochs, batch 4000, lr 3e-3, stop-grad) on the S model.
_base_ = ["./eva02_tiny_p14_in21k.py"]

variant = "eva02_small_patch14_224"
model = dict(backbone=dict(name=variant))
