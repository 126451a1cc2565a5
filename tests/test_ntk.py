"""Checks of mr_ntk.ntk that a notebook cannot make (the behaviour itself is documented and tested in nbs/06_ntk.ipynb):
a fresh interpreter's imports, and the engine on the real tiny open_clip backbone (an optional dependency, slow)."""
import subprocess, sys, pytest, torch
from mr_ntk.ntk import NtkImpl, reprogram_ntk, transform_params, resolve_impl, MODES


def test_import_is_light():
    "`import mr_ntk.ntk` loads neither matplotlib nor a model (a notebook has both loaded already)."
    code = "import sys, mr_ntk.ntk; print(sorted(m for m in ('matplotlib', 'timm', 'open_clip') if m in sys.modules))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == '[]', out


def test_clip_tiny_source_implementations_agree():
    "closed == jacobian on the tiny random CLIP source model; nvp refuses (open_clip's attention has no forward-mode AD)."
    pytest.importorskip('open_clip')
    from mr_ntk import models
    from mr_ntk.transforms import VisualPrompt, LabelMap, Reprogrammed
    bb = models.get_backbone('clip-tiny-random', device='cpu')
    torch.manual_seed(0)
    src = models.SourceModel(bb, models.ConvHead(1, 8, 5, bb.out_channels))
    m = Reprogrammed(src, VisualPrompt(bb.input_size, bb.input_size // 2), LabelMap('identity', 5, 3)).double()
    x = torch.rand(3, 3, 8, 8, dtype=torch.float64)
    assert resolve_impl(m, transform_params(m)) is NtkImpl.CLOSED
    for mode in MODES:
        Kc, Kj = reprogram_ntk(m, x, mode=mode, method='closed'), reprogram_ntk(m, x, mode=mode, method='jacobian')
        assert ((Kc - Kj).abs().max() / Kj.abs().max()).item() < 1e-10
    with pytest.raises(NotImplementedError, match="method='jacobian'"): reprogram_ntk(m, x, method='nvp')
