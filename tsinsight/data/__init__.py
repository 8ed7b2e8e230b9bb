"""The paper's eight data sets (Table 1) with the paper's splits, from a processed cache, an offline mirror or the
original archives, and ``from_arrays`` for any other data.

>>> from tsinsight import data
>>> ford = data.load("ford_a")                    # Dataset with .train, .val, .test (x: (n, channels, length))
>>> data.summary()                                # our splits beside the paper's Table 1
"""

from tsinsight.data.dataset import Dataset, Split, from_arrays
from tsinsight.data.registry import available, is_available, load, planted_sets, summary
from tsinsight.data.sources import DataNotFoundError

__all__ = [
    "DataNotFoundError",
    "Dataset",
    "Split",
    "available",
    "from_arrays",
    "is_available",
    "load",
    "planted_sets",
    "summary",
]
