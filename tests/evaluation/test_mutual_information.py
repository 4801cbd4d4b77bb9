"""Mutual information: a hand-computed pair, skimage's NMI, and a per-pair histogram2d loop."""

import numpy as np
import pytest
from skimage.metrics import normalized_mutual_information

from evaluation.mutual_information import mutual_information_matrices


def test_hand_computed_pair():
    # 32 bins of 8 gray levels: synthetic bins (0, 0, 1, 1); real bins (0, 0, 0, 25).
    synthetic = np.array([[[0, 7], [8, 15]]], dtype=np.uint8)
    real = np.array([[[3, 5], [1, 200]]], dtype=np.uint8)
    # H(S) = 1 bit; H(R) = -(3/4 log2 3/4 + 1/4 log2 1/4) = 2 - 3/4 log2 3;
    # joint cells (0,0): 2/4, (1,0): 1/4, (1,25): 1/4, so H(S,R) = 1/2 + 1/2 + 1/2 = 1.5 bits.
    h_s, h_r, h_joint = 1.0, 2 - 0.75 * np.log2(3), 1.5
    mi, nmi = mutual_information_matrices(synthetic, real)
    assert mi[0, 0] == pytest.approx(h_s + h_r - h_joint, rel=1e-12)  # 0.3113 bits
    assert nmi[0, 0] == pytest.approx((h_s + h_r) / h_joint, rel=1e-12)


def test_nmi_equals_skimage_for_images_spanning_0_to_255():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 24, 24), dtype=np.uint8)
    images[:, 0, 0], images[:, 0, 1] = 0, 255  # skimage spreads its bins over each image's min..max
    images[3] = np.clip(images[0].astype(int) + rng.integers(-20, 20, size=(24, 24)), 0, 255)  # a dependent pair
    _, nmi = mutual_information_matrices(images[:2], images[2:])
    for i in range(2):
        for j in range(3):
            expected = normalized_mutual_information(images[i], images[2 + j], bins=32)
            assert nmi[i, j] == pytest.approx(expected, rel=1e-10)


def test_every_pair_equals_a_histogram2d_computation():
    rng = np.random.default_rng(1)
    synthetic = rng.integers(0, 256, size=(3, 20, 20), dtype=np.uint8)
    real = rng.integers(0, 256, size=(4, 20, 20), dtype=np.uint8)
    real[0] = synthetic[0] // 2  # one strongly dependent pair
    mi, _ = mutual_information_matrices(synthetic, real)
    edges = np.arange(0, 257, 8)
    for i in range(3):
        for j in range(4):
            joint, _, _ = np.histogram2d(synthetic[i].ravel(), real[j].ravel(), bins=[edges, edges])
            p = joint / joint.sum()
            ps, pr = p.sum(1), p.sum(0)
            nonzero = p > 0
            expected = np.sum(p[nonzero] * np.log2(p[nonzero] / np.outer(ps, pr)[nonzero]))
            assert mi[i, j] == pytest.approx(expected, abs=1e-12)
    assert mi[0, 0] > 2 * mi[0, 1]
