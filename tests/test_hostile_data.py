"""Hostile inputs, end to end (issue 25, "Inputs"): images are converted by bit depth, label files are checked against
their images, and NaN/Inf inputs are refused by training and by the NTK with an error naming the argument.
The unit tests of each check are in nbs/01_data.ipynb, nbs/03_train.ipynb and nbs/06_ntk.ipynb."""
import gzip, struct, zlib
import numpy as np, pytest, torch, torch.nn as nn
from PIL import Image
from scipy.io import savemat
from mr_ntk import data, experiment, ntk, train, transforms
from mr_ntk.models import ConvHead


@pytest.fixture(autouse=True)
def _one_thread():
    "These tests share 2 cores with other work; one thread is faster there and keeps float results identical."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _write_idx(path, a): # a uint8 array as a gzipped idx file (the MNIST format)
    with gzip.open(path, 'wb') as f: f.write(b'\x00\x00\x08' + bytes([a.ndim]) + np.array(a.shape, '>u4').tobytes() + a.tobytes())


def _picture(k:int, rng, side=8) -> np.ndarray: # (side, side) uint8 grayscale; class k sets the brightness
    return np.clip(rng.normal(60 * k + 30, 20, (side, side)), 0, 255).astype(np.uint8)


def _imagefolder(root, save, n_train=10, n_test=5, n_classes=4):
    "root/{train,test}/c<k>/<i>.png, written by `save(array, path)` from the same seeded pictures."
    rng = np.random.default_rng(0)
    for split, n in (('train', n_train), ('test', n_test)):
        for k in range(n_classes):
            (root/split/f'c{k}').mkdir(parents=True)
            for i in range(n): save(_picture(k, rng), root/split/f'c{k}'/f'{i}.png')
    return f'imagefolder:{root}'


def _mode(path) -> str:
    with Image.open(path) as im: return im.mode

def _save8(a, path): Image.fromarray(a).save(path)
def _save16(a, path): Image.fromarray(a.astype(np.uint16) * 257).save(path) # the same picture with 16 bits: value * 257


# --- 16-bit images train like their 8-bit version (the issue: clipped to white, a run "ok" at chance accuracy)

@pytest.fixture(scope='module')
def smoke_runs(tmp_path_factory):
    "The smoke profile reprogrammed on the same pictures as 8-bit and as 16-bit PNGs: {bits: Experiment}."
    tmp = tmp_path_factory.mktemp('bits')
    names = {8: _imagefolder(tmp/'g8', _save8), 16: _imagefolder(tmp/'g16', _save16)}
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('MR_NTK_CACHE', str(tmp/'cache'))
        torch.set_num_threads(1)
        for bits, name in names.items():
            cfg = experiment.resolve_config('smoke', target=name, n_target=40, n_target_test=20, out_dir=str(tmp/'out'), device='cpu')
            ex = experiment.Experiment(cfg).load_data().build_source().build_reprogrammed()
            ex.target_eval = ex.reprogram()
            runs[bits] = ex
    return runs


def test_16bit_png_is_read_as_16bit(tmp_path):
    name = _imagefolder(tmp_path/'g16', _save16, n_train=2, n_test=1, n_classes=2)
    assert _mode(tmp_path/'g16'/'train'/'c0'/'0.png') == 'I;16'
    x, _ = data.get_dataset(name, 'train')
    assert float(x.mean()) < 0.5 # the pictures average about 60/255; clipped to white they would be 1.0


def test_16bit_imagefolder_trains_like_8bit(smoke_runs):
    ex8, ex16 = smoke_runs[8], smoke_runs[16]
    for split in ('target_train', 'target_test'):
        x8, x16 = getattr(ex8, split)[0], getattr(ex16, split)[0]
        assert (x16 - x8).abs().max() <= 1/255 # the acceptance bound; in fact identical (stored as uint8)
        assert torch.equal(x16, x8) and torch.equal(getattr(ex8, split)[1], getattr(ex16, split)[1])
    no_time = lambda h: [{k: v for k, v in r.items() if k != 'seconds'} for r in h]
    assert no_time(ex16.histories['target']) == no_time(ex8.histories['target'])
    assert ex16.target_eval['acc'] == ex8.target_eval['acc'] > 0.25 # better than chance (4 classes)


def _png_rgb16(path, a): # a (H,W,3) uint16 array as a 48-bit PNG (PIL cannot write one)
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    h, w, _ = a.shape
    raw = b''.join(b'\x00' + a[i].astype('>u2').tobytes() for i in range(h))
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0))
                     + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def test_16bit_rgb_png_reads_like_8bit(tmp_path):
    rgb = np.stack([_picture(k, np.random.default_rng(k)) for k in range(3)], -1)
    for split in ('train', 'test'):
        (tmp_path/'g8'/split/'c').mkdir(parents=True); (tmp_path/'g16'/split/'c').mkdir(parents=True)
        Image.fromarray(rgb).save(tmp_path/'g8'/split/'c'/'0.png')
        _png_rgb16(tmp_path/'g16'/split/'c'/'0.png', rgb.astype(np.uint16) * 257)
    assert _mode(tmp_path/'g16'/'train'/'c'/'0.png') == 'RGB' # PIL keeps the high byte of each 16-bit channel
    x8, x16 = [data.get_dataset(f'imagefolder:{tmp_path/d}')[0] for d in ('g8', 'g16')]
    assert (x16 - x8).abs().max() <= 1/255 and float(x16.std()) > 0.1


def test_every_readable_mode_in_one_folder(tmp_path):
    "One class folder holding 8-bit gray, gray+alpha, palette, RGBA and 16-bit images of one picture loads as that picture."
    g = _picture(2, np.random.default_rng(0)); d = tmp_path/'modes'
    ims = dict(L=Image.fromarray(g), LA=Image.fromarray(g).convert('LA'), P=Image.fromarray(g).convert('P'),
               RGBA=Image.fromarray(np.dstack([g, g, g, 255 - g])), I16=Image.fromarray(g.astype(np.uint16) * 257))
    for c in ('a', 'b'):
        (d/c).mkdir(parents=True)
        for k, im in ims.items(): im.save(d/c/f'{k}.png')
    x = torch.cat([data.get_dataset(f'imagefolder:{d}', split)[0] for split in ('train', 'test')]) # split 80/20
    assert x.shape == (10, 3, 8, 8) and torch.equal(x, torch.from_numpy(g / 255.).float().expand(10, 3, 8, 8))


@pytest.mark.parametrize('mode, make, msg', [
    ('LAB', lambda g: Image.new('LAB', (8, 8)), "has PIL mode 'LAB', which is not read"),
    ('F', lambda g: Image.fromarray(np.where(g > 90, np.nan, g / 255.).astype(np.float32)), "holds values nan..nan, outside 0..1"),
    ('F255', lambda g: Image.fromarray(g.astype(np.float32)), "outside 0..1 (black..white)"),
], ids=['LAB', 'F-nan', 'F-0..255'])
def test_unreadable_modes_are_refused_by_name(tmp_path, mode, make, msg):
    _imagefolder(tmp_path/'f', _save8, n_train=2, n_test=1, n_classes=2)
    bad = tmp_path/'f'/'train'/'c1'/f'{mode}.tif'
    make(_picture(1, np.random.default_rng(0))).save(bad)
    with pytest.raises(ValueError, match='imagefolder: ') as e: data.get_dataset(f'imagefolder:{tmp_path/"f"}', 'train')
    assert str(bad) in str(e.value) and msg in str(e.value)


# --- label files checked against their images

def _fashion_files(root, n_images=60, labels=None):
    _write_idx(root/'train-images-idx3-ubyte.gz', np.zeros((n_images, 28, 28), np.uint8))
    _write_idx(root/'train-labels-idx1-ubyte.gz', np.arange(n_images, dtype=np.uint8) % 10 if labels is None else labels)
    return root/'train-images-idx3-ubyte.gz', root/'train-labels-idx1-ubyte.gz'


def test_test_labels_next_to_train_images_are_refused(tmp_path, monkeypatch):
    "The issue's case: the 10k test labels next to the 60k train images (here 10 and 60), through the smoke profile's loader."
    monkeypatch.setenv('MR_NTK_CACHE', str(tmp_path/'cache'))
    imgs, labs = _fashion_files(tmp_path, labels=np.arange(10, dtype=np.uint8))
    cfg = experiment.resolve_config('smoke', source='fashion_mnist', data_root=str(tmp_path), n_source=20, n_source_test=10,
                                    out_dir=str(tmp_path/'out'), device='cpu')
    with pytest.raises(ValueError) as e: experiment.Experiment(cfg).load_data()
    assert f"{imgs} holds 60 images but {labs} holds 10 labels" in str(e.value)
    assert 'same split' in str(e.value)


@pytest.mark.parametrize('labels, msg', [
    (np.arange(60, dtype=np.uint8) % 11, "5 of 60 labels lie outside 0..9 (found 0..10)"),
    (np.full(60, 255, np.uint8), "60 of 60 labels lie outside 0..9 (found 255..255)"),
], ids=['label-10', 'label-255'])
def test_idx_labels_out_of_range_are_refused(tmp_path, labels, msg):
    _, labs = _fashion_files(tmp_path, labels=labels)
    with pytest.raises(ValueError, match='not this dataset') as e: data.get_dataset('fashion_mnist', root=tmp_path)
    assert f"{labs}: {msg}" in str(e.value)


def test_mismatch_is_not_cached(tmp_path):
    "A refused pair is not kept in memory: once the right labels file is in place, the same call loads."
    _fashion_files(tmp_path, labels=np.arange(10, dtype=np.uint8))
    with pytest.raises(ValueError, match='holds 60 images but'): data.get_dataset('fashion_mnist', root=tmp_path)
    _fashion_files(tmp_path)
    assert data.get_dataset('fashion_mnist', root=tmp_path)[1].bincount().tolist() == [6] * 10


def _bad_cifar(root):
    (d := root/'cifar-10-batches-bin').mkdir()
    rec = np.zeros((3, 3073), np.uint8); rec[:, 0] = [1, 2, 12]; rec.tofile(d/'test_batch.bin')
    return d/'test_batch.bin', "1 of 3 labels lie outside 0..9 (found 1..12)"

def _bad_stl10(root):
    (d := root/'stl10_binary').mkdir()
    np.zeros((2, 3, 96, 96), np.uint8).tofile(d/'test_X.bin'); np.array([1, 11], np.uint8).tofile(d/'test_y.bin')
    return d/'test_y.bin', "1 of 2 labels lie outside 1..10 (found 1..11)"

def _bad_svhn(root):
    savemat(root/'test_32x32.mat', dict(X=np.zeros((32, 32, 3, 2), np.uint8), y=np.array([[0], [3]])))
    return root/'test_32x32.mat', "1 of 2 labels lie outside 1..10 (found 0..3)"

def _bad_mnist(root):
    (d := root/'MNIST'/'raw').mkdir(parents=True)
    _write_idx(d/'t10k-images-idx3-ubyte.gz', np.zeros((2, 28, 28), np.uint8)); _write_idx(d/'t10k-labels-idx1-ubyte.gz', np.array([3, 10], np.uint8))
    return d/'t10k-labels-idx1-ubyte.gz', "1 of 2 labels lie outside 0..9 (found 3..10)"

@pytest.mark.parametrize('name, make', [('cifar10', _bad_cifar), ('stl10', _bad_stl10), ('svhn', _bad_svhn), ('mnist', _bad_mnist)],
                         ids=['cifar10', 'stl10', 'svhn', 'mnist'])
def test_every_file_loader_refuses_foreign_labels(tmp_path, name, make):
    f, msg = make(tmp_path)
    with pytest.raises(ValueError) as e: data.get_dataset(name, 'test', root=tmp_path)
    assert str(f) in str(e.value) and msg in str(e.value)


# --- NaN / Inf inputs: a clear ValueError, never a LinAlgError or a run that ends "ok"

def _nan_images(x, k=3): # a copy of x with k NaN pixels in its first image
    x = x.clone().contiguous(); x.view(len(x), -1)[0, :k] = float('nan'); return x


def test_nan_target_images_refused_by_train_reprogram(smoke_runs):
    ex = smoke_runs[8]
    X, y = ex.target_train
    m = transforms.Reprogrammed(ex.source_model, transforms.make_transform('vp', 32, 16),
                                transforms.LabelMap('frequency', 10, 4)) # the frequency map is fitted first, on NaN logits
    with pytest.raises(ValueError, match=r'train X holds 3 non-finite value\(s\) \(3 NaN, 0 Inf\)'):
        transforms.train_reprogram(m, (_nan_images(X), y), epochs=1, device='cpu', progress=False)
    with pytest.raises(ValueError, match=r'val X holds 3 non-finite'):
        transforms.train_reprogram(m, (X, y), (_nan_images(X), y), epochs=1, device='cpu', progress=False)
    with pytest.raises(ValueError, match=r'data X holds 3 non-finite'): train.evaluate(ex.model, _nan_images(X), y, device='cpu')


def test_nan_inputs_refused_by_the_ntk(smoke_runs):
    ex = smoke_runs[8]
    X = ex.target_train[0][:6]
    with pytest.raises(ValueError, match=r'^x holds 3 non-finite'): ntk.reprogram_spectrum(ex.model, _nan_images(X))
    with pytest.raises(ValueError, match=r'^x1 holds 3 non-finite'): ntk.reprogram_ntk(ex.model, _nan_images(X))
    with pytest.raises(ValueError, match=r'^x2 holds 3 non-finite'): ntk.reprogram_ntk(ex.model, X, _nan_images(X), method='jacobian')
    feats = ex.source_features("source_test")
    bad = feats.clone(); bad[0, 0, 0, 0] = float('inf')
    with pytest.raises(ValueError, match=r'^draws\[0\] holds 1 non-finite value\(s\) \(0 NaN, 1 Inf\)'):
        ntk.source_spectrum(ex.source_model.head, [bad[:4]])
    with pytest.raises(ValueError, match=r'^feats1 holds'): ntk.head_ntk(ex.source_model.head, _nan_images(feats[:4]))
    with pytest.raises(ValueError, match=r'^feats1 holds'): ntk.cntk_gap(_nan_images(feats[:4]))


def test_nan_kernel_has_no_spectrum():
    "A model whose weights went NaN gives a NaN kernel; its spectrum is refused, naming K, not a LinAlgError from eigvalsh."
    torch.manual_seed(0); head = ConvHead(1, 8, 3, 4)
    f = torch.randn(5, 4, 3, 3)
    with torch.no_grad(): head.readout.weight[0, 0] = float('nan')
    with pytest.raises(ValueError, match=r"^parameter 'readout.weight' holds 1 non-finite"): ntk.head_ntk(head, f)
    K = ntk.empirical_ntk(head, ['convs.0.bias'], f) # the NaN weight is outside the differentiated set
    with pytest.raises(ValueError, match=r"^K holds \d+ non-finite value\(s\)"): ntk.spectrum(K)
    with pytest.raises(ValueError, match=r'^eigs holds 1 non-finite'): ntk.Spectrum([1., float('nan')])


def test_fit_refuses_nan_before_any_epoch():
    "With a forward that tolerates NaN the loss stays finite, so only the input check stands between NaN data and an 'ok' run."
    net = nn.Linear(4, 2); w0 = net.weight.detach().clone()
    X, y = torch.randn(20, 4), torch.arange(20) % 2
    nan_proof = lambda m, xb: m(xb.nan_to_num())
    Xn = X.clone(); Xn[3, 1] = float('nan')
    with pytest.raises(ValueError, match=r'^train X holds 1 non-finite'):
        train.fit(net, (Xn, y), forward=nan_proof, progress=False, device='cpu')
    assert torch.equal(net.weight, w0)
