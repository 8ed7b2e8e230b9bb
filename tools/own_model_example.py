"""The README's "Using the package on your own model" code, run as written on Character Trajectories, with its output.

The book's "Build and performance" page shows the code in full and what this prints.

The mirror's arrays stand in for a user's (``data.load``'s splits passed through ``data.from_arrays``, as a user's
arrays would be) and our CNN, trained here, for ``my_classifier``. Usage::

    TSINSIGHT_DATA_MIRROR=../shared/data python tools/own_model_example.py
"""

import time

import pandas as pd
import torch

from tsinsight import data, tuning
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.training import TrainConfig, accuracy, fit_autoencoder, fit_classifier

source = data.load("character_trajectories")
x_train, y_train = source.train.x, source.train.y
x_test, y_test = source.test.x, source.test.y
torch.manual_seed(0)

# --- the README's code, from here ---
dataset = data.from_arrays(x_train, y_train, x_test, y_test, name="mine")
config = TrainConfig(lr=1e-3, batch_size=32, max_epochs=200)
my_classifier = make_classifier("cnn", dataset.n_channels, dataset.n_classes, dataset.length)
fit_classifier(my_classifier, dataset, TrainConfig(lr=1e-3, batch_size=32, max_epochs=10, progress=False))
autoencoder = AutoEncoder(dataset.n_channels, dataset.length)
fit_autoencoder(autoencoder, dataset, TrainConfig(lr=1e-3, batch_size=32, max_epochs=10, progress=False))
start = time.perf_counter()
result = tuning.tune(my_classifier, autoencoder, dataset, config, gamma=4.0, beta=1e-4)
seconds = time.perf_counter() - start
with pd.option_context(
    "display.width", 200, "display.max_columns", 30, "display.precision", 3, "display.max_colwidth", None
):
    print(result.table)
print(
    f"chosen: gamma={result.gamma:g}, beta={result.beta:g}, fell back: {result.fell_back}; sweep took {seconds:.0f} s"
)
explainer = result.explainer
attribution = explainer.attribute(dataset.test.x)
print(
    f"test accuracy: classifier {accuracy(my_classifier, dataset.test.x, dataset.test.y):.4f}, "
    f"with TSInsight {accuracy(explainer.pipeline, dataset.test.x, dataset.test.y):.4f}; "
    f"attribution shaped {attribution.shape}"
)
