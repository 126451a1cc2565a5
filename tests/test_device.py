"""Device placement without a GPU (issue 28, section 2). The model and its inputs go to PyTorch's `meta` device, which
holds shapes but no values and, like CUDA, refuses to mix with a CPU tensor. So a forward pass, a backward pass or a
kernel that creates a tensor on the CPU (a missing `device=`) fails here as it would on a GPU.

What needs values cannot run on `meta`: `.item()`, `.cpu()`, training loops, eigenvalues, and the CNTK's `unique`.
Those paths were reviewed by hand instead (see the closing note of issue 28)."""
import pytest, torch
from torch import nn
from mr_ntk import ntk
from mr_ntk.models import ConvHead, SourceModel, get_backbone
from mr_ntk.transforms import LabelMap, Reprogrammed, make_transform

KINDS, LABEL_MAPS = ('vp', 'vp_full', 'fc', 'vpfc'), ('identity', 'random', 'frequency', 'linear')

@pytest.fixture(scope='module')
def backbone(): return get_backbone('clip-tiny-random', device='cpu')

def _on_meta(backbone, kind:str, label_map:str) -> Reprogrammed:
    lm = LabelMap(label_map, 10, 10)
    if label_map == 'frequency':   # fitting needs values: set a fitted assignment directly
        lm._set_assignment(torch.randperm(10, generator=torch.Generator().manual_seed(0))); lm.fitted = True
    source = SourceModel(backbone, ConvHead(2, 8, 10, backbone.out_channels))
    return Reprogrammed(source, make_transform(kind, backbone.input_size, 16, 8), lm).to('meta')

def test_meta_refuses_a_cpu_tensor():
    "The check can fail: a module that builds a tensor without `device=` is caught on `meta`."
    class ForgetsDevice(nn.Module):
        def forward(self, x): return x + torch.ones(x.shape[1:])
    with pytest.raises(RuntimeError, match='device'): ForgetsDevice()(torch.rand(2, 3, device='meta'))

@pytest.mark.parametrize('label_map', LABEL_MAPS)
@pytest.mark.parametrize('kind', KINDS)
def test_reprogrammed_forward_backward_and_kernel_stay_on_the_device(backbone, kind, label_map):
    model, x = _on_meta(backbone, kind, label_map), torch.rand(4, 3, 28, 28, device='meta')
    out = model(x); out.sum().backward()
    assert out.shape == (4, 10) and out.device.type == 'meta'
    grads = [p.grad for p in ntk.transform_params(model).values()]
    assert grads and all(g is not None and g.device.type == 'meta' for g in grads)
    K = ntk.reprogram_ntk(model, x)   # the closed form
    assert K.shape == (4, 4, 10, 10) and K.device.type == 'meta'

@pytest.mark.parametrize('method', ['jacobian', 'nvp'])
def test_autodiff_kernels_stay_on_the_device(backbone, method):
    model, x = _on_meta(backbone, 'vp', 'identity'), torch.rand(3, 3, 28, 28, device='meta')
    K = ntk.reprogram_ntk(model, x, torch.rand(2, 3, 28, 28, device='meta'), method=method)
    assert K.shape == (3, 2, 10, 10) and K.device.type == 'meta'

def test_head_kernels_stay_on_the_device(backbone):
    head = ConvHead(2, 8, 10, backbone.out_channels).to('meta')
    f = torch.rand(5, backbone.out_channels, 2, 2, device='meta')
    for K in (ntk.head_ntk(head, f), ntk.conv_head_ntk(head, f), ntk.head_ntk(head, f, method='jacobian')):
        assert K.shape == (5, 5, 10, 10) and K.device.type == 'meta'
