"End-to-end checks of mr_ntk.ntk that complement the notebook tests (tiny sizes, CPU)."
import math, pytest, torch, torch.nn as nn
from mr_ntk.ntk import (empirical_ntk, reprogram_ntk, fc_ntk, head_ntk, cntk_gap, spectrum, flatten_kernel,
                        source_spectrum, MODES)
from mr_ntk.transforms import VisualPrompt, FCTransform, VPFC, LabelMap, Reprogrammed
from mr_ntk import models


class TinySource(nn.Module):
    def __init__(self, n_classes=6, side_stride=1):
        super().__init__(); self.n_classes = n_classes
        self.net = nn.Sequential(nn.Conv2d(3, 5, 3, stride=side_stride, padding=1), nn.GELU(), nn.AdaptiveAvgPool2d(2),
                                 nn.Flatten(), nn.Linear(20, n_classes))
    def forward(self, s): return self.net(s)


def _model(transform, label_map='random', seed=0):
    torch.manual_seed(seed)
    m = Reprogrammed(TinySource(), transform, LabelMap(label_map, 6, 4, seed=seed)).double()
    with torch.no_grad():
        for p in m.transform.parameters(): p.normal_(0, 0.5)
    return m


def _rel(a, b): return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize('make', [lambda: VisualPrompt(12, 6), lambda: VisualPrompt(12, full=True),
                                  lambda: FCTransform(5, 12), lambda: VPFC(12, 6, 5)])
def test_closed_forms_equal_autodiff(make):
    m = _model(make(), seed=1)
    x1, x2 = torch.rand(4, 3, 9, 9, dtype=torch.float64), torch.rand(2, 3, 7, 7, dtype=torch.float64)
    for mode in MODES:
        Kc = reprogram_ntk(m, x1, x2, mode=mode, method='closed')
        assert _rel(Kc, reprogram_ntk(m, x1, x2, mode=mode, method='jacobian')) < 1e-5
    assert _rel(reprogram_ntk(m, x1, x2), reprogram_ntk(m, x1, x2, method='nvp', chunk_size=2)) < 1e-5
    K = flatten_kernel(reprogram_ntk(m, x1))
    assert torch.equal(K, K.T)
    ev = torch.linalg.eigvalsh(K)
    assert ev[0] >= -1e-6 * ev[-1]


def test_linear_label_map_uses_current_matrix():
    m = _model(VisualPrompt(12, 6), label_map='linear')
    with torch.no_grad(): m.label_map.linear.weight.normal_()
    x = torch.rand(4, 3, 6, 6, dtype=torch.float64)
    assert _rel(reprogram_ntk(m, x), empirical_ntk(m, ['transform.delta'], x)) < 1e-5


def test_clip_tiny_source_closed_equals_jacobian():
    bb = models.get_backbone('clip-tiny-random', device='cpu')
    torch.manual_seed(0)
    src = models.SourceModel(bb, models.ConvHead(1, 8, 5, bb.out_channels))
    m = Reprogrammed(src, VisualPrompt(bb.input_size, bb.input_size // 2), LabelMap('identity', 5, 3)).double()
    x = torch.rand(3, 3, 8, 8, dtype=torch.float64)
    assert _rel(reprogram_ntk(m, x, method='closed'), reprogram_ntk(m, x, method='jacobian')) < 1e-5
    with pytest.raises(NotImplementedError, match="method='jacobian'"): reprogram_ntk(m, x, method='nvp')


def test_fc_paper_size_closed_form():
    "3*32*32 -> 3*224*224, c_T=10 (n=32 here; n=100 in benchmarks/ntk_closed_form.py): closed form from u = a(x) and z."
    torch.manual_seed(0)
    src = nn.Sequential(nn.Conv2d(3, 4, 8, stride=8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    u, z = torch.rand(32, 3, 224, 224), torch.rand(32, 3 * 32 * 32)
    K = fc_ntk(src, u, z, chunk_size=16)
    assert K.shape == (32, 32, 10, 10)
    sp = spectrum(K); assert sp.lambda_min >= -1e-5 * sp.lambda_max
    K2 = fc_ntk(src, u[:3], z[:3], u[3:5], z[3:5])   # cross kernel == block of the symmetric one
    assert _rel(K2, K[:3, 3:5]) < 1e-4


def test_memory_guard_refuses_fc_jacobian():
    m = _model(FCTransform(16, 32))
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    with pytest.raises(MemoryError, match='memory_budget_gb=0.01'): reprogram_ntk(m, x, method='jacobian', memory_budget_gb=0.01)
    assert reprogram_ntk(m, x, method='closed', memory_budget_gb=0.01).shape == (2, 2, 4, 4)


def test_convhead_ntk_approaches_cntk():
    torch.manual_seed(0)
    feats = torch.randn(3, 3, 4, 4)
    ka = 2 * cntk_gap(feats, depth=2)
    errs = []
    for w in (64, 256, 1024):
        e = []
        for sd in range(2):
            torch.manual_seed(sd); h = models.ConvHead(2, w, 2, 3, ntk_param=True)
            e.append(((head_ntk(h, feats, mode='trace').double() - ka).norm() / ka.norm()).item())
        errs.append(sum(e) / len(e))
    assert errs[2] < errs[0] / 2 and errs[2] < 0.08, errs


def test_source_spectrum_protocol():
    torch.manual_seed(0)
    feats, labels = torch.randn(40, 4, 3, 3), torch.arange(4).repeat(10)
    h = models.ConvHead(2, 16, 4, 4, ntk_param=True)
    r = source_spectrum(h, feats, labels, n_per_class=3, draws=3, kernel='analytic')
    assert len(r['spectra']) == 3 and len(r['spectra'][0]) == 3 * 4 * 4 and r['mean']['lambda_min'] > 0
    re = source_spectrum(h, feats, labels, n_per_class=3, draws=2, mode='trace')
    assert len(re['spectra'][0]) == 12
