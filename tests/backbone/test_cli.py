"""`eva convert` end to end, through the installed entry point's module."""
import subprocess
import sys

import timm
import torch

from eva.backbone import create_model, load_checkpoint, read_checkpoint

from .helpers import randomize_, to_baai_layout


def _eva(*args):
    return subprocess.run([sys.executable, "-m", "eva.backbone.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def _baai_file(tmp_path):
    ref = randomize_(create_model("eva02_small_patch14_224")).eval()
    path = tmp_path / "eva02_S_pt_in21k_p14.pt"
    torch.save({"module": to_baai_layout(ref.state_dict(), split_qkv=False, mlp="w12", mim=True,
                                         rope_grid=16)}, path)
    return ref, path


def test_convert_baai_to_eva_and_timm(tmp_path):
    ref, src = _baai_file(tmp_path)
    out = tmp_path / "eva02_s.safetensors"
    res = _eva("convert", src, out)
    assert res.returncode == 0, res.stderr
    assert "model: eva02_small_patch14_224" in res.stdout and "source layout: baai" in res.stdout
    assert "mask_token: MIM mask token" in res.stdout and "wrote" in res.stdout
    model = create_model("eva02_small_patch14_224")
    assert load_checkpoint(model, out).ok
    for k, v in model.state_dict().items():
        if not k.startswith(("norm.", "fc_norm.")):  # the MIM norm moved to fc_norm, checked below
            torch.testing.assert_close(v, ref.state_dict()[k], msg=k)
    torch.testing.assert_close(model.fc_norm.weight, ref.fc_norm.weight)

    res = _eva("convert", src, tmp_path / "timm.pth", "--to", "timm")
    assert res.returncode == 0, res.stderr
    peer = timm.create_model("eva02_small_patch14_224", pretrained=False, num_classes=0).eval()
    peer.load_state_dict(read_checkpoint(tmp_path / "timm.pth"), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(peer(x), model.eval()(x), atol=1e-4, rtol=0)


def test_convert_to_patch16(tmp_path):
    _, src = _baai_file(tmp_path)
    out = tmp_path / "p16.pth"
    res = _eva("convert", src, out, "--patch-size", "16", "--img-size", "224")
    assert res.returncode == 0, res.stderr
    assert "patch_embed.proj.weight: (384, 3, 14, 14) -> (384, 3, 16, 16)" in res.stdout
    assert read_checkpoint(out)["state_dict"]["pos_embed"].shape == (1, 197, 384)


def test_convert_inflates_a_baai_image_checkpoint_to_video(tmp_path):
    ref, src = _baai_file(tmp_path)
    out = tmp_path / "video.safetensors"
    res = _eva("convert", src, out, "--frames", "8", "--tubelet", "2")
    assert res.returncode == 0, res.stderr
    assert "patch_embed.proj.weight: (384, 3, 14, 14) -> (384, 3, 2, 14, 14)" in res.stdout
    assert "pos_embed: (1, 257, 384) -> (1, 1025, 384)" in res.stdout  # 16 x 16 grid x 4 tubelets
    sd = read_checkpoint(out)
    torch.testing.assert_close(sd["patch_embed.proj.weight"].sum(2), ref.patch_embed.proj.weight)
    assert _eva("convert", src, tmp_path / "t.pth", "--frames", "8", "--to", "timm").returncode == 2
    res = _eva("convert", src, tmp_path / "c.safetensors", "--frames", "4", "--tubelet", "2", "--inflation", "central")
    assert res.returncode == 0, res.stderr
    central = read_checkpoint(tmp_path / "c.safetensors")["patch_embed.proj.weight"]
    assert torch.equal(central[:, :, 1], ref.patch_embed.proj.weight) and not central[:, :, 0].any()
    res = _eva("convert", src, tmp_path / "x.pth", "--tubelet", "2")
    assert res.returncode == 2 and "give --frames" in res.stderr


def test_convert_reports_bad_input(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 100)
    res = _eva("convert", bad, tmp_path / "out.pt")
    assert res.returncode == 2 and "truncated or corrupt" in res.stderr
    assert not (tmp_path / "out.pt").exists()

    _, src = _baai_file(tmp_path)
    res = _eva("convert", src, tmp_path / "out.pt", "--model", "eva02_base_patch14_224")
    assert res.returncode == 2 and "different variant" in res.stdout and "nothing written" in res.stderr
