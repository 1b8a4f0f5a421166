"""Grouping answers by meaning: average-linkage clustering of unit vectors, cut at a cosine
distance, as pure functions of numpy arrays.

Average linkage joins two groups when their answers are, on average, close; cut at a fixed
distance it needs no number of themes chosen in advance, and a week with one concern gives
one theme. The nearest-neighbour chain finds the same merges as the textbook algorithm in
O(n²) time and one n×n matrix, where the textbook one takes O(n³). Past SAMPLE answers the
tree is grown over a fixed sample and each other answer joins the group it is, on average,
closest to, as average linkage would add it: memory and time stay bounded in a busy week.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

# The most answers the tree is grown over: one 2,000 × 2,000 float32 matrix is 16 MB. A
# sample this size already holds every theme big enough to show in a digest.
SAMPLE = 2000
# Answers beyond the sample are compared with the groups this many at a time.
_BATCH = 1024


def merges(vectors: Vectors) -> list[tuple[int, int, float]]:
    """Every merge of the average-linkage tree over the rows of `vectors` (unit length),
    as (a, b, cosine distance); a and b are members of the two groups merged."""
    n = len(vectors)
    if n < 2:
        return []
    # In place: one n×n float32 matrix is the whole memory cost (2,700 answers: 29 MB).
    distance = np.asarray(vectors, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32).T
    np.subtract(np.float32(1.0), distance, out=distance)
    np.fill_diagonal(distance, np.inf)
    size = np.ones(n, dtype=np.float32)
    active = np.ones(n, dtype=bool)
    out: list[tuple[int, int, float]] = []
    chain: list[int] = []
    remaining = n
    while remaining > 1:
        if not chain:
            chain.append(int(np.flatnonzero(active)[0]))
        tip = chain[-1]
        row = distance[tip]
        nearest = int(np.argmin(row))
        # Ties go back down the chain, or it could cycle.
        if len(chain) > 1 and row[chain[-2]] <= row[nearest]:
            nearest = chain[-2]
        if len(chain) > 1 and nearest == chain[-2]:
            chain.pop()
            chain.pop()
            a, b = min(tip, nearest), max(tip, nearest)
            out.append((a, b, float(row[nearest])))
            # Lance–Williams for average linkage: the size-weighted mean of the two rows.
            joined = (size[a] * distance[a] + size[b] * distance[b]) / (size[a] + size[b])
            distance[a, :] = joined
            distance[:, a] = joined
            distance[a, a] = np.inf
            distance[b, :] = np.inf
            distance[:, b] = np.inf
            size[a] += size[b]
            active[b] = False
            remaining -= 1
        else:
            chain.append(nearest)
    return out


def cut(merged: list[tuple[int, int, float]], n: int, threshold: float) -> list[list[int]]:
    """The groups left when only merges closer than `threshold` are made, each in input
    order, largest first (ties: the group whose first member came first). Average linkage
    never merges closer after farther, so this is the tree cut at that height."""
    parent = list(range(n))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b, d in merged:
        if d <= threshold:
            parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for k in range(n):
        groups.setdefault(root(k), []).append(k)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def cluster(vectors: Vectors, threshold: float, *, sample: int = SAMPLE) -> list[list[int]]:
    """The rows of `vectors` (unit length) grouped by average linkage, cut at `threshold`,
    each group in input order, largest first. Over `sample` rows, the tree is grown over
    `sample` of them (the same ones for the same number of rows) and every other row joins
    the group whose members are on average closest, if that is within `threshold`."""
    n = len(vectors)
    if n <= sample:
        return cut(merges(vectors), n, threshold)
    chosen = np.sort(np.random.default_rng(n).choice(n, size=sample, replace=False))
    groups = [[int(chosen[k]) for k in g] for g in cut(merges(vectors[chosen]), sample, threshold)]
    # The mean cosine similarity to a group's members is the dot product with their mean
    # vector, so one (groups × dimensions) matrix answers "how close on average".
    means = np.stack([vectors[g].mean(axis=0) for g in groups])
    rest = np.setdiff1d(np.arange(n), chosen)
    for start in range(0, len(rest), _BATCH):
        rows = rest[start : start + _BATCH]
        similarity = vectors[rows] @ means.T
        nearest = np.argmax(similarity, axis=1)
        closest = similarity[np.arange(len(rows)), nearest]
        for row, g, close in zip(rows.tolist(), nearest.tolist(), closest.tolist(), strict=True):
            if 1.0 - close <= threshold:
                groups[g].append(row)
            else:
                groups.append([row])
    return sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g[0]))


def unit(vectors: npt.ArrayLike) -> Vectors:
    """The rows scaled to unit length (a zero row stays zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
