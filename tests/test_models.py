"End-to-end checks of mr_ntk.models that complement the notebook tests (tiny data, CPU, seconds)."
import os, subprocess, sys, time
import pytest, torch
import skimage.data
from mr_ntk import train as models
from mr_ntk.models import get_backbone, ConvHead, SourceModel, tiny_clip_model, image_to_tensor, TINY_CLIP
from mr_ntk.features import train_source, extract_features, FEATURE_CACHE
from mr_ntk.train import evaluate, save_checkpoint, load_checkpoint
from mr_ntk.data import get_dataset


@pytest.fixture
def cache(tmp_path, monkeypatch):
    "A private, empty feature cache."
    monkeypatch.setenv('MR_NTK_CACHE', str(tmp_path/'cache'))
    FEATURE_CACHE.mem.clear()
    yield tmp_path/'cache'
    FEATURE_CACHE.mem.clear()


def test_tiny_clip_checkpoint_roundtrip_through_pretrained_path(tmp_path):
    "A tiny open_clip model saved to a file loads back through `pretrained=path` with identical features."
    m = tiny_clip_model(seed=3)
    torch.save(m.state_dict(), tmp_path/'tiny.pt')
    bb = get_backbone(f'clip:{TINY_CLIP}', pretrained=str(tmp_path/'tiny.pt'), device='cpu')
    assert bb.pretrained and bb.weights == str(tmp_path/'tiny.pt')
    x = torch.rand(3, 3, 32, 32)
    m.visual.output_tokens = True
    with torch.no_grad():
        xn = (x - bb.mean) / bb.std
        ref = m.visual(xn)[1].transpose(1, 2).reshape(3, 64, 4, 4)
        assert torch.allclose(bb(x), ref, atol=1e-5)
        rnd = get_backbone('clip-tiny-random', device='cpu')
        assert rnd.describe()['pretrained'] is False and rnd.describe()['weights'] == 'random-init'
        assert not torch.allclose(rnd(x), ref)


def test_effnet_imagenet_sanity():
    "The packaged ImageNet weights recognise scikit-image's cat (285) and espresso (967) at 224 px."
    bb = get_backbone('effnet-lite0', device='cpu', input_size=224)
    assert bb.pretrained and bb.feature_shape == (1280, 7, 7)
    with torch.no_grad():
        preds = [bb.imagenet_logits(image_to_tensor(img)).argmax(1).item() for img in (skimage.data.chelsea(), skimage.data.coffee())]
    assert preds == [285, 967]


def test_effnet_random_init_is_labelled():
    bb = get_backbone('effnet-lite0', pretrained=False, device='cpu')
    assert bb.describe() == dict(name='effnet-lite0', weights='random-init', pretrained=False, input_size=112, feature_shape=[1280, 4, 4])


def test_offline_tag_fails_with_instructions():
    "No network: a pretrained tag fails fast with the cache dir, the file to place and the local-path alternative."
    code = ("from mr_ntk.models import get_backbone\n"
            "try: get_backbone('clip:ViT-B-32', pretrained='laion2b_s34b_b79k', device='cpu')\n"
            "except RuntimeError as e: print('MSG', e)\n")
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert 'MSG' in out, out
    assert 'huggingface' in out and 'open_clip_pytorch_model.bin' in out and "pretrained='/path/to/" in out


def test_source_pipeline_on_shapes_with_cache_and_checkpoint(cache, tmp_path):
    "shapes -> tiny CLIP features (cached on disk) -> head trained -> checkpoint reloads to the same predictions."
    X, y = get_dataset('shapes', 'train', n=120)
    bb = get_backbone('clip-tiny-random', device='cpu')
    model = SourceModel(bb, ConvHead(2, 16, 10, bb.out_channels))
    key = dict(dataset='shapes', split='train', n=120, seed=0)
    h = train_source(model, (X, y), epochs=3, cache_key=key, progress=False)
    assert len(h) == 3 and h.meta['n_train'] == 108 and h.meta['n_val'] == 12
    assert len(list((cache/'features').glob('*.pt'))) == 1
    FEATURE_CACHE.mem.clear()
    t = time.time(); f = extract_features(bb, X, cache_key=key, progress=False); t_cached = time.time() - t
    assert f.shape == (120, 64, 4, 4) and t_cached < 5
    # other images under the same key never get stale features
    f2 = extract_features(bb, X.flip(0), cache_key=key, progress=False)
    assert torch.allclose(f2, f.flip(0))
    save_checkpoint(tmp_path/'head.pt', model.head, model.head.config())
    sd, cfg = load_checkpoint(tmp_path/'head.pt')
    head2 = ConvHead.from_config(cfg); head2.load_state_dict(sd)
    m2 = SourceModel(bb, head2)
    ev1, ev2 = evaluate(model, X, y, device='cpu'), evaluate(m2, X, y, device='cpu')
    assert ev1 == ev2 and ev1['n'] == 120


def test_fit_mse_and_early_stopping():
    "MSE on one-hot targets trains; early stopping keeps the best val-loss state."
    torch.manual_seed(0)
    X = torch.randn(200, 6); y = (X[:, 0] + X[:, 1] > 0).long()
    net = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    h = models.fit(net, (X[:150], y[:150]), (X[150:], y[150:]), loss='mse', epochs=60, lr=0.05, patience=2,
                   progress=False, device='cpu')
    ev = evaluate(net, X[150:], y[150:], loss='mse', device='cpu')
    assert abs(ev['loss'] - h.best['val_loss']) < 1e-5 and ev['acc'] > 0.85
