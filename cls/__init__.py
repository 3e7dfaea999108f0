"""eva.cls: image classification fine-tuning, linear probe, evaluation and EVA-CLIP zero-shot (not built yet)."""
