"End-to-end checks of mr_ntk.transforms that complement the notebook tests (tiny data, CPU, seconds)."
import pytest, torch, torch.nn as nn
from mr_ntk.transforms import (VisualPrompt, FCTransform, VPFC, LabelMap, Reprogrammed, make_transform,
                               train_reprogram, load_reprogram, estimate_fc_memory)
from mr_ntk import models
from mr_ntk.train import evaluate


@pytest.fixture(scope='module')
def source():
    torch.manual_seed(0)
    bb = models.get_backbone('clip-tiny-random', device='cpu')
    head = models.ConvHead(1, 8, 10, bb.out_channels)
    return models.SourceModel(bb, head)


def _toy_target(n=48, side=12, c_t=4, seed=0):
    "Class = bright quadrant: a task the transforms can learn."
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % c_t
    X = 0.2 * torch.rand(n, 3, side, side, generator=g)
    h = side // 2
    for i, c in enumerate(y.tolist()):
        r, q = divmod(c, 2)
        X[i, :, r*h:(r+1)*h, q*h:(q+1)*h] += 0.8
    return X, y


@pytest.mark.parametrize('kind', ['vp', 'vp_full', 'fc', 'vpfc'])
def test_train_keeps_source_frozen_and_checkpoint_roundtrips(source, kind, tmp_path):
    S = source.input_size
    inner = S // 2 if (S - S // 2) % 2 == 0 else S // 2 - 1
    t = make_transform(kind, S, inner_size=None if kind in ('vp_full', 'fc') else inner,
                       target_size=8 if kind in ('fc', 'vpfc') else None)
    rp = Reprogrammed(source, t, LabelMap('random', 10, 4, seed=3))
    before = {k: v.clone() for k, v in source.state_dict().items()}
    t_before = [p.detach().clone() for p in rp.trainable_parameters()]
    X, y = _toy_target()
    hist = train_reprogram(rp, (X, y), (X, y), epochs=2, batch_size=16, device='cpu', checkpoint=tmp_path / 'rp.pt')
    assert len(hist) == 2
    assert all(p.grad is None and not p.requires_grad for p in source.parameters())
    for k, v in source.state_dict().items(): assert torch.equal(v, before[k]), k
    assert any(not torch.equal(a, b.detach()) for a, b in zip(t_before, rp.trainable_parameters()))
    assert not source.training
    rp2 = load_reprogram(tmp_path / 'rp.pt', source)
    assert rp2.describe() == rp.describe()
    rp.eval(); rp2.eval()
    with torch.no_grad(): assert torch.equal(rp(X[:5]), rp2(X[:5]))
    ev = evaluate(rp, X, y, device='cpu')
    assert 0 <= ev['acc'] <= 1 and len(ev['per_class_acc']) == 4


def test_vp_learns_faster_lr_and_frequency_map(source):
    "Frequency label map is fitted inside train_reprogram; VP delta gets lr*vp_lr_mult; MSE loss runs."
    S = source.input_size
    rp = Reprogrammed(source, VisualPrompt(S, full=True), LabelMap('frequency', 10, 4))
    groups = rp.param_groups(1e-3, 100.)
    assert [g['lr'] for g in groups] == [pytest.approx(0.1)]
    X, y = _toy_target()
    train_reprogram(rp, (X, y), epochs=1, batch_size=16, device='cpu', loss='mse')
    assert rp.label_map.fitted and rp.label_map.counts.sum() == len(X)
    assert sorted(set(rp.label_map.assignment.tolist())).__len__() == 4   # one-to-one


def test_linear_label_map_trains_and_vpfc_groups(source):
    S = source.input_size
    rp = Reprogrammed(source, VPFC(S, target_size=8), LabelMap('linear', 10, 4))
    names = [g['name'] for g in rp.param_groups()]
    assert names == ['vp', 'other']
    w0 = rp.label_map.linear.weight.detach().clone()
    X, y = _toy_target()
    train_reprogram(rp, (X, y), epochs=1, batch_size=16, device='cpu')
    assert not torch.equal(w0, rp.label_map.linear.weight.detach())


def test_vp_gradient_through_effnet_backbone():
    "The real offline backbone is differentiable w.r.t. its input: the prompt gets a gradient, the backbone none."
    bb = models.get_backbone('effnet-lite0', device='cpu')
    head = models.ConvHead(1, 8, 10, bb.out_channels)
    rp = Reprogrammed(models.SourceModel(bb, head), VisualPrompt(bb.input_size, 56), LabelMap('identity', 10, 10))
    rp(torch.rand(2, 3, 28, 28)).sum().backward()
    g = rp.transform.delta.grad
    assert g is not None and g[:, 0, 0].abs().sum() > 0       # border receives gradient
    assert g[:, 56, 56].abs().sum() == 0                      # the masked-out inner region does not
    assert all(p.grad is None for p in rp.source_model.parameters())


def test_fc_refuses_paper_size():
    assert estimate_fc_memory(224, 224)['gb'] > 300
    with pytest.raises(ValueError, match='memory_budget_gb'): FCTransform(224, 224)
