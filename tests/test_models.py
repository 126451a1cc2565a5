"What the notebooks cannot check for `mr_ntk.models` (its behaviour is tested in nbs/02_models.ipynb)."
import os, subprocess, sys


def test_offline_tag_fails_with_instructions():
    """No network: a pretrained tag fails fast with the cache dir, the file to place and the local-path alternative.
    A subprocess, because HF_HUB_OFFLINE must be set before huggingface_hub is imported."""
    code = ("from mr_ntk.models import get_backbone\n"
            "try: get_backbone('clip:ViT-B-32', pretrained='laion2b_s34b_b79k', device='cpu')\n"
            "except RuntimeError as e: print('MSG', e)\n")
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert 'MSG' in out, out
    assert 'huggingface' in out and 'open_clip_pytorch_model.bin' in out and "pretrained='/path/to/" in out

def test_tiny_clip_registration_leaves_no_temporary_folder(tmp_path):
    "Registering the tiny CLIP config (every test that builds it) leaves no mr_ntk_clip_cfg_* folder behind."
    import subprocess, sys, os
    code = ("from mr_ntk.models import get_backbone; bb = get_backbone('clip-tiny-random', device='cpu'); "
            "import torch; print(bb(torch.zeros(1, 3, 32, 32)).shape)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(tmp_path)), timeout=300)
    assert r.returncode == 0, r.stderr
    assert not list(tmp_path.glob('mr_ntk_clip_cfg_*'))
