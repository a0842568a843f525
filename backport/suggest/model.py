"""Logistic regression over named binary features, in plain Python.

Each row is a set of feature names and a label; the model is a weight per
name. Training is stochastic gradient descent with per-feature step sizes
(AdaGrad) and L2 shrinkage, over a fixed shuffled order: the same rows
always give the same model. A name seen in fewer than `min_count` rows is
dropped before training, which is most of a project's vocabulary and none
of its signal.

Why not scikit-learn: on real Xen history (benchmarks/eval_suggest.py
--compare, same rows, same features) its LogisticRegression (liblinear,
C=0.3) ranked no better: average precision 0.593 against 0.610 here on the
cutoff split, 0.392 against 0.405 in the replay. It trains faster (4.5 s
against 5.8 s on the cutoff's 20,000 rows; 155 s against 857 s for the
replay's 76 models on a loaded machine), but one cold `suggest` trains one
model, well inside its budget, and scikit-learn with numpy and scipy is
over 200 MB installed (45 + 113 + 51 MB here) for a few thousand weights.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence

from backport.record import record


@record
class Model:
    weights: Mapping[str, float]

    def margin(self, tokens: Iterable[str]) -> float:
        w = self.weights
        return sum(w.get(t, 0.0) for t in tokens)

    def score(self, tokens: Iterable[str]) -> float:
        """The probability the model gives the row."""
        return _sigmoid(self.margin(tokens))

    def reasons(self, tokens: Iterable[str], count: int = 3) -> list[tuple[str, float]]:
        """The features that raise the row's score most, with their weights."""
        w = self.weights
        weighed = sorted(((w[t], t) for t in set(tokens) if t in w and t != "bias" and w[t] > 0), reverse=True)
        return [(t, weight) for weight, t in weighed[:count]]

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in self.weights.items() if v}

    @classmethod
    def from_json(cls, data: object) -> Model | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls({str(k): float(v) for k, v in data.items()})
        except (TypeError, ValueError):
            return None


def train(
    rows: Sequence[tuple[Sequence[str], bool]],
    *,
    epochs: int = 6,
    rate: float = 0.15,
    c: float = 0.1,
    min_count: int = 3,
    seed: int = 0,
    weights: Sequence[float] | None = None,
) -> Model:
    """Fit the weights to `rows` (features, label).

    `c` is the inverse strength of the L2 penalty, as scikit-learn's C: the
    loss summed over rows plus |w|^2 / 2c. Each feature's share of the
    penalty is paid on the steps that touch it (1 / (c * its count) each),
    so a rare name is held back as much as a common one. `weights`, one
    per row, scale what each row teaches (recent history counts more)."""
    counts, keep = _kept(rows, min_count)
    data = [([t for t in tokens if t in keep], 1.0 if label else 0.0) for tokens, label in rows]
    scale = list(weights) if weights is not None else [1.0] * len(data)
    positives = sum(y for _, y in data)
    if not data or positives in (0, len(data)):
        # nothing to tell apart: every row gets the base rate
        rate_known = (positives + 0.5) / (len(data) + 1.0)
        return Model({"bias": math.log(rate_known / (1 - rate_known))})
    learned: dict[str, float] = dict.fromkeys(keep, 0.0)
    learned["bias"] = math.log(positives / (len(data) - positives))
    squares: dict[str, float] = dict.fromkeys(keep, 1e-8)
    penalty = {t: 1.0 / (c * counts[t]) for t in keep if t in counts}
    penalty["bias"] = 0.0
    order = list(range(len(data)))
    shuffle = random.Random(seed).shuffle
    for _ in range(epochs):
        shuffle(order)
        _epoch(data, order, scale, learned, squares, penalty, rate)
    return Model({t: w for t, w in learned.items() if w})


def _kept(rows: Sequence[tuple[Sequence[str], bool]], min_count: int) -> tuple[dict[str, int], set[str]]:
    """How often each feature occurs, and those seen at least `min_count` times (and the bias)."""
    counts: dict[str, int] = {}
    for tokens, _ in rows:
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
    keep = {t for t, n in counts.items() if n >= min_count}
    keep.add("bias")
    return counts, keep


def _epoch(
    data: Sequence[tuple[list[str], float]],
    order: Sequence[int],
    scale: Sequence[float],
    learned: dict[str, float],
    squares: dict[str, float],
    penalty: Mapping[str, float],
    rate: float,
) -> None:
    """One pass over the rows in `order`: AdaGrad steps of the penalised log loss."""
    for i in order:
        tokens, y = data[i]
        z = sum(learned[t] for t in tokens)
        g = (_sigmoid(z) - y) * scale[i]
        for t in tokens:
            grad = g + penalty[t] * learned[t]
            squares[t] += grad * grad
            learned[t] -= rate * grad / math.sqrt(squares[t])


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
