"End-to-end checks of `mr_ntk.data` complementing the notebook tests in nbs/01_data.ipynb."
import subprocess, sys
import numpy as np, pytest, torch
import mr_ntk.data as D
from mr_ntk.data import get_dataset, balanced_indices, n_classes, resize_images, train_val_split

torch.set_num_threads(1)  # tests share a small CPU with other jobs


def test_import_is_light():
    code = ("import sys, mr_ntk.data as D; "
            "print(sorted(m for m in ('torchvision', 'matplotlib', 'sklearn', 'mlxtend', 'scipy.io') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'


def test_shapes_deterministic_across_calls_and_cache():
    x1, y1 = get_dataset('shapes', n_per_class=5, seed=3, difficulty=0.7)
    D.clear_cache()
    x2, y2 = get_dataset('shapes', n_per_class=5, seed=3, difficulty=0.7)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    # the same image index gives the same pixels whatever else is drawn with it
    full, _ = get_dataset('shapes', difficulty=0.7, n_train=200)
    idx = balanced_indices(get_dataset('shapes', difficulty=0.7, n_train=200)[1], 2, seed=1)
    assert torch.equal(get_dataset('shapes', n_per_class=2, seed=1, difficulty=0.7, n_train=200)[0], full[idx])
    # train and test differ, other generation seeds differ
    xt, _ = get_dataset('shapes', 'test', n_per_class=5, seed=3, difficulty=0.7)
    assert not torch.equal(x1, xt)
    assert not torch.equal(x1, get_dataset('shapes', n_per_class=5, seed=3, difficulty=0.7, data_seed=1)[0])


@pytest.mark.parametrize('name,split,npc,shape', [('shapes', 'train', 7, (3, 32, 32)), ('mnist5k', 'test', 20, (3, 28, 28)),
                                                  ('digits', 'train', 30, (3, 8, 8))])
def test_balanced_counts_ranges_dtypes(name, split, npc, shape):
    x, y = get_dataset(name, split, n_per_class=npc, seed=5)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.shape == (npc * n_classes(name), *shape) and y.shape == (len(x),)
    assert torch.bincount(y, minlength=n_classes(name)).tolist() == [npc] * n_classes(name)
    assert 0 <= float(x.min()) and float(x.max()) <= 1 and float(x.max()) > 0.5
    assert torch.equal(y, torch.arange(n_classes(name)).repeat_interleave(npc))  # grouped by class


def test_n_subsets_stratified_and_nested():
    _, y = get_dataset('mnist5k')
    i100, i200 = [D.stratified_indices(y, n, seed=2) for n in (100, 200)]
    assert torch.bincount(y[i100]).tolist() == [10] * 10
    assert set(i100.tolist()) <= set(i200.tolist())
    x, y2 = get_dataset('mnist5k', n=100, seed=2)
    assert torch.equal(y2, y[i100])


def test_splits_fixed_and_disjoint():
    xtr, _ = get_dataset('mnist5k', 'train'); xte, _ = get_dataset('mnist5k', 'test')
    assert len(xtr) == 4000 and len(xte) == 1000
    tr = {hash(a.numpy().tobytes()) for a in xtr[:, 0]}
    assert sum(hash(a.numpy().tobytes()) in tr for a in xte[:, 0]) < 10  # MNIST has a few duplicate images at most


def test_resize_and_train_val_split_on_a_dataset():
    x, y = get_dataset('digits', n_per_class=10)
    big = resize_images(x, 32)
    assert big.shape == (100, 3, 32, 32) and 0 <= float(big.min()) and float(big.max()) <= 1
    tr, va = train_val_split(len(y), 0.2, seed=0, labels=y)
    assert len(va) == 20 and torch.bincount(y[va]).tolist() == [2] * 10 and not set(tr.tolist()) & set(va.tolist())


FASHION = D.FASHION_MNIST_SYSTEM_DIR


@pytest.mark.skipif(not (FASHION/'t10k-images-idx3-ubyte.gz').exists(), reason='Debian package dataset-fashion-mnist not installed')
def test_fashion_mnist_from_debian_package():
    x, y = get_dataset('fashion_mnist', 'test')
    assert x.shape == (10000, 3, 28, 28) and torch.bincount(y).tolist() == [1000] * 10
    xs, ys = get_dataset('fashion_mnist', 'train', n_per_class=3, seed=0)
    assert xs.shape == (30, 3, 28, 28) and float(xs.max()) == 1.0
    assert len(D._load_fashion_mnist('train').labels) == 60000   # the full split stays uint8 (all of it as float is 564 MB)


def test_fashion_mnist_missing_explains(tmp_path, monkeypatch):
    monkeypatch.setattr(D, 'FASHION_MNIST_SYSTEM_DIR', tmp_path/'absent')
    with pytest.raises(FileNotFoundError) as e: get_dataset('fashion_mnist', root=tmp_path/'mine')
    msg = str(e.value)
    for s in ('fashion_mnist', str(tmp_path/'mine'), str(tmp_path/'absent'), 'apt-get install dataset-fashion-mnist', 'root=', 'download=True'):
        assert s in msg


@pytest.mark.parametrize('name', ['cifar10', 'svhn', 'stl10', 'mnist'])
def test_torchvision_datasets_missing_root(name, tmp_path):
    with pytest.raises(D.DatasetNotFoundError) as e: get_dataset(name, 'test', root=tmp_path, download=False)
    assert name in str(e.value) and str(tmp_path) in str(e.value) and 'download=True' in str(e.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match='valid names: '): get_dataset('imagenet')
    with pytest.raises(ValueError, match="split='valid'"): get_dataset('digits', 'valid')
    with pytest.raises(ValueError, match='n_per_class=101'): get_dataset('mnist5k', 'test', n_per_class=101)
