"""eva.video: the mmaction2 1.x plugin, EVA inflated to video (not built yet)."""
