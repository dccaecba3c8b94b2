"""Loading CIFAR-10 (provided code: nothing to implement here).

The data set lives in a ``cifar-10-batches-py`` folder holding the python version of CIFAR-10:
five training batches ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` (pickles whose
``b'data'`` is a uint8 array of shape (n, 3072), each row one 32x32 colour image stored channel
by channel: 1024 red values, then 1024 green, then 1024 blue, row-major inside a channel), and
``batches.meta`` (the class names).

Where the loader looks, first match wins:
1. the ``cifar10_dir`` argument of ``get_CIFAR10_data``;
2. the environment variable ``CS239_CIFAR10_DIR``;
3. ``datasets/cifar-10-batches-py`` in the folder that contains the ``cs239`` package (the
   repository or your homework folder), which is where ``bash datasets/get_cifar10.sh`` puts it.

Typical use in the notebooks::

    data = get_CIFAR10_data()
    for k, v in data.items():
        print(k, v.shape)      # X_train (49000, 3, 32, 32), y_train (49000,), ...
"""
import os
import pickle

import numpy as np

#: The ten CIFAR-10 class names, indexed by label.
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")

#: The environment variable that points the loader at another cifar-10-batches-py folder.
ENV_VAR = "CS239_CIFAR10_DIR"

_TRAIN_BATCHES = ["data_batch_%d" % b for b in range(1, 6)]
_TEST_BATCH = "test_batch"
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HINT = ("download it by running `bash datasets/get_cifar10.sh` (or `python "
         "datasets/get_cifar10.py`) in %s; offline, add `--from cifar-10-python.tar.gz` (an "
         "archive copied from elsewhere); or point the environment variable %s at a "
         "cifar-10-batches-py folder" % (_ROOT, ENV_VAR))


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10 batches only: numpy arrays, lists, dicts, strings and numbers.

    A batch file is a pickle; refusing every other global means that a damaged or malicious
    file cannot run code while it is being loaded.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError("unexpected object %s.%s in the file" % (module, name))


def default_cifar10_dir():
    """The folder the loader uses when none is given: $CS239_CIFAR10_DIR or the default.

    Returns:
    - The path of a ``cifar-10-batches-py`` folder (a str; it may not exist yet).
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return os.path.expanduser(env)
    return os.path.join(_ROOT, "datasets", "cifar-10-batches-py")


def _load_batch_raw(filename):
    """Read one batch file without converting it.

    Inputs:
    - filename: Path of a CIFAR-10 batch file (e.g. .../data_batch_1).

    Returns a tuple of:
    - data: uint8 array of shape (n, 3072), each row one image, channel-major (R, G, B planes).
    - labels: int64 array of shape (n,), values in 0..9.

    Raises FileNotFoundError when the file is missing, ValueError when it is not a valid batch.
    """
    if not os.path.isfile(filename):
        raise FileNotFoundError("CIFAR-10 batch file %s is missing; %s" % (filename, _HINT))
    try:
        with open(filename, "rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
        data = batch[b"data"]
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
        if not isinstance(data, np.ndarray):
            raise ValueError("b'data' is a %s, not a numpy array" % type(data).__name__)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            raise ValueError("b'data' has shape %s and dtype %s, expected (n, 3072) uint8"
                             % (data.shape, data.dtype))
        if labels.shape != (data.shape[0],):
            raise ValueError("%d labels for %d images" % (labels.size, data.shape[0]))
        if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
            raise ValueError("labels outside 0..9")
    except Exception as e:  # any failure here means a damaged or foreign file
        if isinstance(e, KeyError):
            reason = "no %r entry" % (e.args[0],)
        elif isinstance(e, EOFError):
            reason = "the file is empty" if os.path.getsize(filename) == 0 else "truncated (EOF)"
        else:
            reason = str(e) or type(e).__name__
        raise ValueError("%s is not a valid CIFAR-10 batch file (%s); download the data set "
                         "again with `bash datasets/get_cifar10.sh --force` in %s"
                         % (filename, reason, _ROOT)) from None
    return data, labels


def _to_images(data, channels_first):
    """uint8 rows (n, 3072) -> float32 images (n, 3, 32, 32) or (n, 32, 32, 3)."""
    x = data.reshape(-1, 3, 32, 32)
    if not channels_first:  # transpose the small uint8 array, then convert (2x faster)
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x.astype(np.float32)


def load_CIFAR_batch(filename):
    """Load a single batch of CIFAR-10.

    Inputs:
    - filename: Path of a batch file such as ``.../cifar-10-batches-py/data_batch_1``.

    Returns a tuple of:
    - X: float32 array of shape (n, 32, 32, 3) with pixel values 0..255 (n = 10000 for the
      real data set), channels last as in CS231n.
    - Y: int64 array of shape (n,) with labels in 0..9 (see CLASSES).

    Raises FileNotFoundError if the file is missing and ValueError if it is not a valid batch.
    """
    data, labels = _load_batch_raw(filename)
    return _to_images(data, channels_first=False), labels


def _check_folder(root):
    """Raise a FileNotFoundError with the download command if root lacks a batch file."""
    names = _TRAIN_BATCHES + [_TEST_BATCH]
    if not os.path.isdir(root):
        raise FileNotFoundError("CIFAR-10 not found: the folder %s does not exist; %s"
                                % (root, _HINT))
    missing = [n for n in names if not os.path.isfile(os.path.join(root, n))]
    if missing:
        raise FileNotFoundError("CIFAR-10 is incomplete in %s (missing %s); %s"
                                % (root, ", ".join(missing), _HINT))


def _load_raw(root):
    """All batches of root as uint8 rows: (Xtr (N, 3072), ytr (N,), Xte (M, 3072), yte (M,))."""
    _check_folder(root)
    parts = [_load_batch_raw(os.path.join(root, n)) for n in _TRAIN_BATCHES]
    Xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    del parts
    Xte, yte = _load_batch_raw(os.path.join(root, _TEST_BATCH))
    return Xtr, ytr, Xte, yte


def load_CIFAR10(ROOT):
    """Load all of CIFAR-10 from a cifar-10-batches-py folder.

    Inputs:
    - ROOT: Path of the folder holding data_batch_1..5 and test_batch.

    Returns a tuple of:
    - Xtr: float32 array of shape (N_train, 32, 32, 3), pixel values 0..255 (N_train = 50000
      for the real data set: the five training batches in order).
    - ytr: int64 array of shape (N_train,) with labels in 0..9.
    - Xte: float32 array of shape (N_test, 32, 32, 3) (N_test = 10000 for the real data set).
    - yte: int64 array of shape (N_test,).

    Raises FileNotFoundError (saying how to download the data) if a file is missing, and
    ValueError naming the file if one is damaged.
    """
    Xtr, ytr, Xte, yte = _load_raw(ROOT)
    return _to_images(Xtr, False), ytr, _to_images(Xte, False), yte


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, num_dev=500,
                     subtract_mean=True, cifar10_dir=None):
    """Load CIFAR-10 and prepare it for the classifiers, as in CS231n.

    Splits: the training set is the first num_training images of the training batches, the
    validation set the next num_validation ones, the test set the first num_test images of
    test_batch, and the dev set a random subset (fixed seed, no repeats) of num_dev training
    images, for quick experiments. If subtract_mean, the mean image of the training split is
    subtracted from every split.

    Inputs:
    - num_training: Number of training images (default 49000).
    - num_validation: Number of validation images (default 1000).
    - num_test: Number of test images (default 1000).
    - num_dev: Number of dev images, 0 <= num_dev <= num_training (default 500).
    - subtract_mean: Whether to subtract the training mean image (default True).
    - cifar10_dir: Path of a cifar-10-batches-py folder; None means $CS239_CIFAR10_DIR, or else
      datasets/cifar-10-batches-py next to the cs239 package.

    Returns a dict with:
    - 'X_train': float32 array of shape (num_training, 3, 32, 32) (channels first)
    - 'y_train': int64 array of shape (num_training,)
    - 'X_val': float32 array of shape (num_validation, 3, 32, 32)
    - 'y_val': int64 array of shape (num_validation,)
    - 'X_test': float32 array of shape (num_test, 3, 32, 32)
    - 'y_test': int64 array of shape (num_test,)
    - 'X_dev': float32 array of shape (num_dev, 3, 32, 32)
    - 'y_dev': int64 array of shape (num_dev,)

    Raises FileNotFoundError (saying how to download the data) if the folder or a file is
    missing, ValueError if more images are asked for than the folder holds or a file is damaged.
    """
    root = default_cifar10_dir() if cifar10_dir is None else os.fspath(cifar10_dir)
    counts = dict(num_training=num_training, num_validation=num_validation, num_test=num_test,
                  num_dev=num_dev)
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError("%s must be a non-negative integer, got %r" % (name, value))
    if num_dev > num_training:
        raise ValueError("num_dev (%d) cannot exceed num_training (%d): the dev set is drawn "
                         "from the training split" % (num_dev, num_training))

    Xtr, ytr, Xte, yte = _load_raw(root)
    if num_training + num_validation > len(Xtr) or num_test > len(Xte):
        val_hint = num_validation if num_validation < len(Xtr) else len(Xtr) // 10
        raise ValueError(
            "%s holds %d training and %d test images, but num_training + num_validation = %d + "
            "%d and num_test = %d were asked for; ask for fewer (e.g. num_training=%d, "
            "num_validation=%d, num_test=%d)"
            % (root, len(Xtr), len(Xte), num_training, num_validation, num_test,
               len(Xtr) - val_hint, val_hint, min(num_test, len(Xte))))

    # Convert only what is used, straight to float32 channels-first (a reshape, no transpose).
    X_train = _to_images(Xtr[:num_training], channels_first=True)
    X_val = _to_images(Xtr[num_training:num_training + num_validation], channels_first=True)
    X_test = _to_images(Xte[:num_test], channels_first=True)
    y_train = ytr[:num_training].copy()
    y_val = ytr[num_training:num_training + num_validation].copy()
    y_test = yte[:num_test].copy()
    del Xtr, Xte

    dev = np.random.default_rng(0).choice(num_training, num_dev, replace=False)
    X_dev, y_dev = X_train[dev], y_train[dev]

    if subtract_mean and num_training > 0:
        mean_image = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)
        for X in (X_train, X_val, X_test, X_dev):
            X -= mean_image

    return {
        "X_train": X_train, "y_train": y_train,
        "X_val": X_val, "y_val": y_val,
        "X_test": X_test, "y_test": y_test,
        "X_dev": X_dev, "y_dev": y_dev,
    }
