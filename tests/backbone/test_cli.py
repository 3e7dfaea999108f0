"""`eva convert` end to end, through the installed entry point's module."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
import timm
import torch

from eva.backbone import create_model, load_checkpoint, read_checkpoint

from .helpers import randomize_, to_baai_layout


def _eva(*args):
    """Through the module's entry point, in a new process (the first test only: the others run in-process)."""
    return subprocess.run([sys.executable, "-m", "eva.backbone.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def eva(capsys):
    """``eva`` in this process: ``eva(*args)`` -> returncode / stdout / stderr like ``subprocess.run``'s."""
    from eva.backbone.cli import main

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    return run


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


def test_convert_to_patch16(tmp_path, eva):
    _, src = _baai_file(tmp_path)
    out = tmp_path / "p16.pth"
    res = eva("convert", src, out, "--patch-size", "16", "--img-size", "224")
    assert res.returncode == 0, res.stderr
    assert "patch_embed.proj.weight: (384, 3, 14, 14) -> (384, 3, 16, 16)" in res.stdout
    assert read_checkpoint(out)["state_dict"]["pos_embed"].shape == (1, 197, 384)


def test_convert_inflates_a_baai_image_checkpoint_to_video(tmp_path, eva):
    ref, src = _baai_file(tmp_path)
    out = tmp_path / "video.safetensors"
    res = eva("convert", src, out, "--frames", "8", "--tubelet", "2")
    assert res.returncode == 0, res.stderr
    assert "patch_embed.proj.weight: (384, 3, 14, 14) -> (384, 3, 2, 14, 14)" in res.stdout
    assert "pos_embed: (1, 257, 384) -> (1, 1025, 384)" in res.stdout  # 16 x 16 grid x 4 tubelets
    sd = read_checkpoint(out)
    torch.testing.assert_close(sd["patch_embed.proj.weight"].sum(2), ref.patch_embed.proj.weight)
    assert eva("convert", src, tmp_path / "t.pth", "--frames", "8", "--to", "timm").returncode == 2
    res = eva("convert", src, tmp_path / "c.safetensors", "--frames", "4", "--tubelet", "2", "--inflation", "central")
    assert res.returncode == 0, res.stderr
    central = read_checkpoint(tmp_path / "c.safetensors")["patch_embed.proj.weight"]
    assert torch.equal(central[:, :, 1], ref.patch_embed.proj.weight) and not central[:, :, 0].any()
    res = eva("convert", src, tmp_path / "x.pth", "--tubelet", "2")
    assert res.returncode == 2 and "give --frames" in res.stderr
    # a video file read back: its recorded frames are the defaults, and the table is frames x grid, not one image
    res = eva("convert", out, tmp_path / "again.safetensors")
    assert res.returncode == 0, res.stderr
    assert '"num_frames": 8, "tubelet_size": 2' in res.stdout and "resized" not in res.stdout
    torch.save({"state_dict": read_checkpoint(out)}, tmp_path / "trained_video.pth")  # no recorded settings
    res = eva("convert", tmp_path / "trained_video.pth", tmp_path / "v.pth", "--frames", "8", "--tubelet", "2")
    assert res.returncode == 0 and "img_size" not in res.stdout and "resized" not in res.stdout, res.stdout
    res = eva("convert", out, tmp_path / "y.pth", "--set", "windw_size=16")
    assert res.returncode == 2 and "windw_size" in res.stderr  # a clear error, not a traceback


def test_convert_reports_bad_input(tmp_path, eva):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 100)
    res = eva("convert", bad, tmp_path / "out.pt")
    assert res.returncode == 2 and "truncated or corrupt" in res.stderr
    assert not (tmp_path / "out.pt").exists()

    _, src = _baai_file(tmp_path)
    res = eva("convert", src, tmp_path / "out.pt", "--model", "eva02_base_patch14_224")
    assert res.returncode == 2 and "different variant" in res.stdout and "nothing written" in res.stderr


def test_convert_keeps_the_checkpoint_architecture(tmp_path, eva):
    """Without --model, a conversion changes the layout only: a patch-16 or cut-down checkpoint is not resampled to
    the nearest registered variant, and a file this tool wrote is read back with its recorded settings."""
    from eva.backbone import save_checkpoint

    ref = randomize_(create_model("eva02_tiny_patch14_224", depth=6, patch_size=8, img_size=80)).eval()
    save_checkpoint(ref.state_dict(), tmp_path / "demo.safetensors")  # like `eva demo`'s backbone
    res = eva("convert", tmp_path / "demo.safetensors", tmp_path / "a.safetensors")
    assert res.returncode == 0, res.stderr
    assert '{"depth": 6, "patch_size": 8, "img_size": 80}' in res.stdout and "resized" not in res.stdout
    res = eva("convert", tmp_path / "a.safetensors", tmp_path / "b.pth", "--set", "img_size=96")
    assert res.returncode == 0, res.stderr
    assert "pos_embed: (1, 101, 192) -> (1, 145, 192)" in res.stdout  # the recorded settings, then --set
    model = create_model("eva02_tiny_patch14_224", depth=6, patch_size=8, img_size=80)
    load_checkpoint(model, tmp_path / "a.safetensors")
    key = "blocks.5.attn.qkv.weight"
    torch.testing.assert_close(model.state_dict()[key], ref.state_dict()[key])
    assert eva("convert", tmp_path / "a.safetensors", tmp_path / "c.pth", "--set", "nokey").returncode == 2

    det = randomize_(create_model("eva02_tiny_patch14_224", depth=2, patch_size=16, img_size=128, class_token=False,
                                  global_pool=""))  # a detection backbone: its table keeps the unused class slot
    save_checkpoint(det.state_dict(), tmp_path / "det.safetensors")
    res = eva("convert", tmp_path / "det.safetensors", tmp_path / "d.safetensors")
    assert res.returncode == 0 and "resized" not in res.stdout and '"img_size": 128' in res.stdout, res.stdout
    assert not load_checkpoint(det, tmp_path / "d.safetensors").resized  # the 8x8 table comes back as it was
