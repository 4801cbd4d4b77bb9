"""What every metric receives (`Comparison`), computes (`MetricValues`), is registered as (`MetricSpec`) and
reports (`MetricResult`, its values stamped with its name and version)."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from evaluation.images import EvaluationInputError
from evaluation.inception import FEATURE_VERSION, inception_features
from evaluation.reference_cache import ReferenceCache


@dataclass(frozen=True)
class MetricValues:
    """What a metric's ``compute`` returns.

    ``values``: set values by name (floats). ``per_image``: one array per column, one entry per synthetic
    image, in synthetic-set order (column names are unique across all metrics). ``tables``: further
    results as pandas DataFrames (e.g. the LBP vector, the memorisation pairs).
    """

    values: dict
    per_image: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MetricResult(MetricValues):
    """A metric's values stamped with its registry name and version (`MetricSpec.result`)."""

    name: str
    version: str


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: ``compute(comparison, **options)`` returns its `MetricValues`.

    ``minimum_real``/``minimum_synthetic``: the fewest images per set for which it is defined; the
    registry checks these before anything is computed.
    """

    name: str
    version: str
    compute: Callable
    description: str
    uses_inception: bool = False
    minimum_real: int = 1
    minimum_synthetic: int = 1

    def result(self, comparison, **options):
        """This metric on ``comparison``, stamped with its name and version."""
        computed = self.compute(comparison, **options)
        return MetricResult(
            name=self.name,
            version=self.version,
            values=computed.values,
            per_image=computed.per_image,
            tables=computed.tables,
        )


class Comparison:
    """A real (reference) and a synthetic `ImagePixels` at the same matched resolution, plus shared features.

    Real-set features come from the `ReferenceCache`; synthetic Inception features are computed at most
    once per comparison and shared by every metric that needs them.
    """

    def __init__(self, real, synthetic, cache=None, seed=0, batch_size=50, progress=False):
        if real.size != synthetic.size or real.resize_mode != synthetic.resize_mode:
            raise EvaluationInputError(
                f"real ({real.size} px, {real.resize_mode}) and synthetic ({synthetic.size} px, "
                f"{synthetic.resize_mode}) images must share one matched resolution and resize mode"
            )
        self.real = real
        self.synthetic = synthetic
        self.cache = cache if cache is not None else ReferenceCache(None)
        self.seed = seed
        self.batch_size = batch_size
        self.progress = progress
        self._synthetic_features = None

    def reference(self, kind, version, compute):
        """Arrays computed from the real set by ``compute()``, cached per (real images, resolution, version)."""
        return self.cache.load_or_compute(self.real, kind, version, compute)

    def real_inception_features(self):
        return self.reference("inception", FEATURE_VERSION, lambda: {"features": self._features(self.real)})["features"]

    def synthetic_inception_features(self):
        if self._synthetic_features is None:
            self._synthetic_features = self._features(self.synthetic)
        return self._synthetic_features

    def _features(self, images):
        return inception_features(images.pixels, batch_size=self.batch_size, progress=self.progress)

    def rng(self, purpose):
        """A generator seeded by the comparison seed and ``purpose``, so each metric's draws are reproducible
        and independent of which other metrics run."""
        return np.random.default_rng([self.seed, *purpose.encode()])
