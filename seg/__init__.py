"""eva.seg: the mmsegmentation 1.x plugin, UperNet and Mask2Former (not built yet)."""
