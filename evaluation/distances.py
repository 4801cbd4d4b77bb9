"""Pairwise distances shared by the pixel and feature-space metrics (one implementation for all of them)."""

import numpy as np


def pairwise_squared_euclidean(a, b):
    """``[len(a), len(b)]`` squared Euclidean distances between rows, float64, as ``|a|^2 + |b|^2 - 2 a.b``.

    One matrix product instead of a double loop. For 8-bit pixel rows every term is an integer below
    2^53, so the result is exact (identical rows give exactly 0); for float features, rounding can make
    tiny results negative, so they are clipped at 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    squared = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(squared, 0.0)


def kth_neighbour_radii(features, k):
    """Euclidean distance from each row to its ``k``-th nearest other row (the row itself excluded)."""
    if len(features) <= k:
        raise ValueError(f"the k-th nearest neighbour needs more than k={k} points, got {len(features)}")
    distances = np.sqrt(pairwise_squared_euclidean(features, features))
    np.fill_diagonal(distances, np.inf)
    return np.partition(distances, k - 1, axis=1)[:, k - 1]
