"""eva.det: the detectron2 plugin, Cascade Mask R-CNN with a simple feature pyramid (not built yet)."""
