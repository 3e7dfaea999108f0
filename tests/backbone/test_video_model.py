"""EVA inflated to video (eva.backbone.video): inflation is exact where it should be (one frame, still clips),
the space-time position table resamples as trilinear interpolation does, and any frame count and size runs."""
import pytest
import torch
import torch.nn.functional as F

from eva.backbone import CheckpointError, convert_state_dict, create_model, create_video_model, load_checkpoint
from eva.backbone.layers import RotaryEmbedding2D, resize_pos_embed, resize_pos_embed_3d

SMALL = {
    "eva02_tiny_patch14_224": dict(depth=2, img_size=56),  # RoPE, SwiGLU, class token
    "eva_giant_patch14_224": dict(depth=2, img_size=56, embed_dim=64, num_heads=4, mlp_hidden_dim=128),  # EVA-01
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_one_frame_equals_the_image_model(name):
    image = create_model(name, num_classes=7, **SMALL[name]).eval()
    video = create_video_model(name, num_frames=1, tubelet_size=1, num_classes=7, **SMALL[name]).eval()
    sd, report = convert_state_dict(image.state_dict(), video)
    assert report.ok and ("patch_embed.proj.weight", (192 if "tiny" in name else 64, 3, 14, 14),
                          (192 if "tiny" in name else 64, 3, 1, 14, 14)) in report.resized
    video.load_state_dict(sd)
    x = torch.randn(2, 3, 56, 56)
    torch.testing.assert_close(video(x[:, :, None]), image(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("inflation", ["average", "central"])
def test_still_clip_equals_the_image_when_inflated_over_frames_and_tubelets(inflation):
    """Without a class token, joint attention over T identical copies of each token is the image's attention, and
    an inflated tubelet kernel (summing to the image kernel over time) embeds identical frames as the image."""
    kw = dict(SMALL["eva02_tiny_patch14_224"], class_token=False)
    image = create_model("eva02_tiny_patch14_224", **kw).eval()
    video = create_video_model("eva02_tiny_patch14_224", num_frames=8, tubelet_size=2, inflation=inflation,
                               **kw).eval()
    load_checkpoint(video, image.state_dict())
    kernel = video.patch_embed.proj.weight
    if inflation == "central":  # ViViT: the image kernel on the middle frame, zeros elsewhere
        assert torch.equal(kernel[:, :, 1], image.patch_embed.proj.weight) and not kernel[:, :, 0].any()
    else:
        assert torch.equal(kernel[:, :, 0], kernel[:, :, 1])
    x = torch.randn(2, 3, 56, 56)
    torch.testing.assert_close(video(x[:, :, None].expand(-1, -1, 8, -1, -1)), image(x), rtol=1e-5, atol=1e-5)


def test_position_table_8_to_16_frames_is_trilinear_in_time():
    t, h, w, c = 8, 4, 4, 6
    table = torch.randn(1, 1 + t * h * w, c)
    out = resize_pos_embed_3d(table, (t, h, w), (16, h, w))
    ref = F.interpolate(table[:, 1:].reshape(1, t, h, w, c).permute(0, 4, 1, 2, 3), size=(16, h, w),
                        mode="trilinear", align_corners=False).permute(0, 2, 3, 4, 1).reshape(1, -1, c)
    torch.testing.assert_close(out[:, 1:], ref)
    assert torch.equal(out[:, :1], table[:, :1])  # class-token slot untouched


def test_position_table_space_uses_the_image_resampler_per_frame():
    table = torch.randn(1, 1 + 3 * 4 * 4, 6)
    out = resize_pos_embed_3d(table, (3, 4, 4), (3, 6, 5))
    for f in range(3):
        frame = torch.cat((table[:, :1], table[:, 1 + 16 * f:1 + 16 * (f + 1)]), dim=1)
        torch.testing.assert_close(out[:, 1 + 30 * f:1 + 30 * (f + 1)], resize_pos_embed(frame, (4, 4), (6, 5))[:, 1:])
    image = torch.randn(1, 1 + 16, 6)  # an image table (t = 1) is replicated for every frame
    inflated = resize_pos_embed_3d(image, (1, 4, 4), (5, 4, 4))
    assert torch.equal(inflated[:, 1:].reshape(5, 16, 6), image[:, 1:].expand(5, 16, 6))


def test_an_8_frame_checkpoint_loads_into_a_16_frame_model():
    kw = SMALL["eva02_tiny_patch14_224"]
    v8 = create_video_model("eva02_tiny_patch14_224", num_frames=8, **kw)
    with torch.no_grad():
        v8.pos_embed.normal_()
    v16 = create_video_model("eva02_tiny_patch14_224", num_frames=16, **kw)
    report = load_checkpoint(v16, v8.state_dict())
    assert report.resized == [("pos_embed", (1, 1 + 8 * 16, 192), (1, 1 + 16 * 16, 192))]
    torch.testing.assert_close(v16.pos_embed.data, resize_pos_embed_3d(v8.pos_embed.data, (8, 4, 4), (16, 4, 4)))
    v70 = create_video_model("eva02_tiny_patch14_224", num_frames=8, **dict(kw, img_size=70))  # another size
    assert load_checkpoint(v70, v8.state_dict()).resized[0] == ("pos_embed", (1, 129, 192), (1, 1 + 8 * 25, 192))
    torch.testing.assert_close(v70.pos_embed.data, resize_pos_embed_3d(v8.pos_embed.data, (8, 4, 4), (8, 5, 5)))


@pytest.mark.parametrize("frames,hw,tubelet", [(5, (45, 39), 2), (7, (56, 56), 1), (3, (30, 61), 4)])
def test_forward_backward_at_odd_frame_counts_and_sizes(frames, hw, tubelet):
    model = create_video_model("eva02_tiny_patch14_224", num_frames=8, tubelet_size=tubelet, num_classes=3,
                               drop_path_rate=0.1, **SMALL["eva02_tiny_patch14_224"])
    model.set_grad_checkpointing(True)
    out = model(torch.randn(2, 3, frames, *hw))
    assert out.shape == (2, 3)
    out.sum().backward()
    assert model.pos_embed.grad.abs().sum() > 0 and model.patch_embed.proj.weight.grad.abs().sum() > 0
    maps = model.forward_intermediates(torch.randn(1, 3, frames, *hw), indices=[1], output_fmt="NCTHW",
                                       intermediates_only=True)
    assert maps[0].shape == (1, 192, *model.feature_grid((frames, *hw)))


def test_odd_frame_counts_repeat_the_last_frame():
    """A frame count that is not a multiple of the tubelet is completed with the last frame, so a central-inflated
    kernel still sees every real frame (a zero frame would hide it)."""
    model = create_video_model("eva02_tiny_patch14_224", num_frames=4, tubelet_size=2, inflation="central",
                               **SMALL["eva02_tiny_patch14_224"])
    clip = torch.randn(1, 3, 3, 28, 28)
    padded = torch.cat((clip, clip[:, :, -1:]), dim=2)
    torch.testing.assert_close(model.patch_embed(clip), model.patch_embed(padded), rtol=0, atol=0)


def test_video_rope_repeats_the_spatial_rows_per_frame():
    rope = RotaryEmbedding2D(16, (4, 4))
    cos2, sin2 = rope((4, 4), num_prefix_tokens=0)
    cos3, sin3 = rope((3, 4, 4), num_prefix_tokens=1)
    assert cos3.shape == (1 + 3 * 16, 16)
    assert torch.equal(cos3[1:], cos2.repeat(3, 1)) and torch.equal(sin3[0], torch.zeros(16))


def test_clear_errors():
    with pytest.raises(ValueError, match="window_size"):
        create_video_model("eva02_tiny_patch14_224", window_size=4, class_token=False, depth=1)
    model = create_video_model("eva02_tiny_patch14_224", depth=1, img_size=28)
    with pytest.raises(ValueError, match=r"clips \[B, C, T, H, W\]"):
        model(torch.randn(1, 3, 28, 28))
    with pytest.raises(ValueError, match="inflation must be one of"):
        create_video_model("eva02_tiny_patch14_224", depth=1, inflation="mean")
    image_sd = create_model("eva02_small_patch14_224", depth=1, img_size=28).state_dict()
    with pytest.raises(CheckpointError, match="mismatched|different variant"):
        load_checkpoint(model, image_sd)
