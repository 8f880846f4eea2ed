# %% [markdown]
# # phyll from Python
#
# A notebook-style tour of the Python API (run it as a script, or cell by cell in an editor
# that understands `# %%`): train with a progress callback, look at the per-epoch metrics,
# predict and evaluate, save and load a checkpoint, build and probe a system by name.
# `tests/test_api.py` runs this file.

# %%
import sys
import tempfile
from pathlib import Path

import numpy as np

import phyll_core

# %% [markdown]
# ## Train, with a progress callback
#
# `train_model` takes the options of `phyll train` as keywords (or a `TrainConfig`) and calls
# `progress(metrics)` after every epoch.

# %%
seen = []


def progress(metrics):
    seen.append(metrics.epoch)
    if metrics.test_accuracy is not None:
        print(f"epoch {metrics.epoch}: test accuracy {metrics.test_accuracy:.3f}")


model = phyll_core.train_model(
    dataset="vowels", system="random-features", epochs=20, eval_every=5, seed=0,
    progress=progress,
)
print(model)
assert seen == list(range(1, 21))

# %% [markdown]
# ## Per-epoch metrics
#
# `model.metrics()` is a pandas DataFrame indexed by epoch (pandas is optional: without it,
# `model.history()` gives the same rows as dicts).

# %%
try:
    frame = model.metrics()
except phyll_core.PhyllError as exc:  # pandas not installed
    print(exc)
    rows = model.history()
else:
    print(frame[["test_accuracy", "physical_queries"]].dropna().tail())
    rows = frame.reset_index().to_dict("records")
assert len(rows) == 20

# %% [markdown]
# ## Predict and evaluate
#
# `predict` takes raw feature rows (here the first rows of the dataset) and returns class
# names; `evaluate()` reports the accuracy of every prediction method on the run's own split,
# `evaluate(dataset)` on all rows of another dataset.

# %%
from phyll_core.datasets import load  # noqa: E402

vowels = load("vowels")
labels = model.predict(vowels.x[:5])
print("predicted:", labels.tolist(), "true:", [vowels.class_names[i] for i in vowels.y[:5]])
scores = model.evaluate()
print(scores)
assert scores[f"{model.method}/test_accuracy"] > 0.6
everything = model.evaluate("vowels")
assert 0.0 <= everything[f"{model.method}/accuracy"] <= 1.0

# %% [markdown]
# ## Save and load
#
# `save` writes the same checkpoint folder as `phyll train --out`, which `phyll evaluate`,
# `phyll predict` and `load_model` read.

# %%
folder = Path(tempfile.mkdtemp()) / "vowels-run"
model.save(folder)
again = phyll_core.load_model(folder)
assert (again.predict(vowels.x) == model.predict(vowels.x)).all()
print("reloaded:", again)

# %% [markdown]
# ## Build and probe a system
#
# `build_system(name, **params)` checks the parameters against the system's schema;
# `probe` reports throughput and the nonlinearity score (1 - R^2 of the best affine fit on
# held-out samples: 0 is affine, above 1 the affine fit is worse than predicting the mean).

# %%
system = phyll_core.build_system("random-features", nonlinearity="cos", scale=1.5, seed=1)
outputs = system.forward(system.domain.sample(np.random.default_rng(0), (4, system.input_dim)))
print(system.name, system.input_dim, "->", system.output_dim, outputs.shape)
result = phyll_core.probe_system(system, samples=1024)
print(f"nonlinearity {result.nonlinearity:.4g}, {result.samples_per_second:,.0f} samples/s")
assert result.nonlinearity > 0.0
try:
    phyll_core.build_system("random-features", nonlinearity="relu")
except phyll_core.PhyllError as exc:
    print("refused:", exc)
else:
    sys.exit("a bad parameter was accepted")
