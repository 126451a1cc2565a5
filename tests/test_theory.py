"End-to-end checks of mr_ntk.theory: the kernel's loss prediction against real training, and the Schur bound."
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from mr_ntk.theory import predict_loss_curve, schur_lower_bound, gd_loss_curve
from mr_ntk.ntk import reprogram_ntk, empirical_ntk, spectrum, fc_ntk
from mr_ntk.transforms import VisualPrompt, FCTransform, LabelMap, Reprogrammed


def _source(n_classes=4):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.Tanh(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, n_classes))
    m.n_classes = n_classes
    return m


def _gd(model, params, X, Y, lr, steps): return gd_loss_curve(model, params, X, Y, lr, steps)


def test_fc_gd_matches_prediction_exactly():
    "FC is linear in its parameters; with a linear label map on a linear source the model is linear: exact agreement."
    torch.manual_seed(0)
    src = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4)); src.n_classes = 4
    m = Reprogrammed(src, FCTransform(4, 8, init='default'), LabelMap('identity', 4, 4)).double()
    X, Y = torch.rand(10, 3, 4, 4, dtype=torch.float64), F.one_hot(torch.arange(10) % 4, 4).double()
    K = reprogram_ntk(m, X); lr = 0.5 * 10 / spectrum(K).lambda_max
    with torch.no_grad(): r0 = m(X) - Y
    pred = predict_loss_curve(K, r0, lr, 15)
    meas = _gd(m, list(m.transform.parameters()), X, Y, lr, 15)
    assert ((meas - pred).abs() / meas).max() < 1e-8


def test_vp_gd_tracks_prediction_early():
    m = Reprogrammed(_source(), VisualPrompt(12, 6), LabelMap('identity', 4, 4)).double()
    g = torch.Generator().manual_seed(0)
    X, Y = torch.rand(16, 3, 6, 6, generator=g, dtype=torch.float64), F.one_hot(torch.arange(16) % 4, 4).double()
    K = reprogram_ntk(m, X); lr = 0.05 * 16 / spectrum(K).lambda_max
    with torch.no_grad(): r0 = m(X) - Y
    pred = predict_loss_curve(K, r0, lr, 10)
    meas = _gd(m, [m.transform.delta], X, Y, lr, 10)
    assert meas[-1] < meas[0] and ((meas - pred).abs() / meas).max() < 0.02


def test_schur_bound_holds_for_fc_kernel():
    src = _source(5)
    g = torch.Generator().manual_seed(1)
    u, z = torch.rand(9, 3, 12, 12, generator=g, dtype=torch.float64), torch.rand(9, 30, generator=g, dtype=torch.float64)
    src = src.double()
    Kt = fc_ntk(src, u, z, mode='trace')
    M = fc_ntk(src, u, torch.zeros_like(z), mode='trace')       # z = 0 leaves the gradient Gram (times 1)
    assert torch.allclose(Kt, (z @ z.T + 1) * M)
    assert spectrum(Kt).lambda_min >= schur_lower_bound(z @ z.T + 1, M) > 0
    with pytest.raises(ValueError, match='same shape'): schur_lower_bound(torch.eye(2), torch.eye(3))


def test_predict_loss_curve_flow_and_errors():
    K = torch.diag(torch.tensor([4., 1.], dtype=torch.float64)); r0 = torch.tensor([1., 1.], dtype=torch.float64)
    gd = predict_loss_curve(K, r0, 0.5, 3, n_samples=2)
    assert torch.allclose(gd, torch.tensor([(1 - 0.5 * 4 / 2) ** (2 * t) + (1 - 0.5 / 2) ** (2 * t) for t in range(4)], dtype=torch.float64) / 4)
    fl = predict_loss_curve(K, r0, 0.5, 3, flow=True, n_samples=2)
    assert torch.allclose(fl[1], (torch.exp(torch.tensor(-2 * 0.5 * 4 / 2)) + torch.exp(torch.tensor(-2 * 0.5 / 2))).double() / 4)
    with pytest.raises(ValueError, match='n_samples=None'): predict_loss_curve(K, r0, 0.5, 3)
