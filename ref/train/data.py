"""The training data: scikit-learn's bundled ``digits`` (8x8 images, 10 classes).

No download: ``load_digits`` ships with scikit-learn. The split is fixed and
stratified (25 % test, ``random_state`` fixed), and the features are standardised with
the mean and standard deviation of the training set (constant pixels keep scale 1);
``digits_pixels`` is the same split with the raw integer pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_SEED = 0
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Dataset:
    """Standardised features (float64, shape (samples, 64)) and labels (int64, 0..9)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


@lru_cache(maxsize=1)
def digits_pixels() -> Dataset:
    """The fixed stratified train/test split of ``digits`` with the raw pixels: int64
    0..16 (what the fixed-point trainer streams, real value pixel / 16)."""
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x.astype(np.int64), y.astype(np.int64), test_size=TEST_FRACTION,
        stratify=y, random_state=SPLIT_SEED)
    return Dataset(x_train, y_train, x_test, y_test)


@lru_cache(maxsize=1)
def digits() -> Dataset:
    """The same split as :func:`digits_pixels`, standardised on train (float64)."""
    raw = digits_pixels()
    x_train, x_test = raw.x_train.astype(np.float64), raw.x_test.astype(np.float64)
    y_train, y_test = raw.y_train, raw.y_test
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    return Dataset((x_train - mean) / std, y_train, (x_test - mean) / std, y_test)
