"""Output that reads well: short titles, tables that never break names at 80 columns, probe
figures rounded with the meaning of a score above 1, probe under the BLAS thread limit,
dataset names in help from the registry, and plots that say what they show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from phyll_core.cli.output import print_table, short_title


def test_short_title_cuts_long_paths_to_the_file_name() -> None:
    long = "phyll on csv:../shared/data/vowels/hillenbrand_women_7vowels.csv through acoustic"
    assert short_title(long) == "phyll on hillenbrand_women_7vowels.csv through acoustic"
    assert short_title("Evaluation of runs/first on iris") == "Evaluation of runs/first on iris"
    assert short_title("output mean / std, 1/2") == "output mean / std, 1/2"


def test_tables_keep_names_whole_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    names = ["random-features-with-a-long-name", "scpi-demo-model", "identity"]
    rows = [[n, 20, 20, "[0, 1]", "phyll-plugin", "0.1.0", "word " * 30] for n in names]
    print_table("Physical systems", ["name", "in", "out", "domain", "plugin", "version",
                                     "description"], rows, optional=("version", "domain"))
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    for name in names:
        assert any(name in line for line in lines), f"{name} broken across lines:\n{out}"
    assert "phyll-plugin" in out and "version" not in out  # optional column dropped


def test_phyll_systems_at_80_columns(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    res = cli("systems")
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("random-features" in line for line in lines)


def test_probe_rounds_and_explains_a_score_above_one(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import phyll_core.probe as probe_module
    from phyll_core.probe import ProbeResult

    seen: dict[str, Any] = {}

    def fake(system: Any, samples: int = 4096, seed: int = 0) -> ProbeResult:
        from threadpoolctl import threadpool_info

        seen["blas"] = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        return ProbeResult(
            system=system.name, samples=samples, samples_per_second=12345.678,
            nonlinearity=1.1923456789, output_mean=0.17934567, output_std=0.0783012,
            output_min=0.0267512345, output_max=0.34631234,
            status={"twin validation RMSE": 0.01784290357249446, "solver": "dense"},
        )

    monkeypatch.delenv("PHYLL_BLAS_THREADS", raising=False)
    monkeypatch.setattr(probe_module, "probe", fake)
    res = cli("probe", "identity")
    assert res.code == 0, res.err
    assert "0.01784 " in res.out and "0.017842903" not in res.out
    assert "1.192 " in res.out and "0.1793 / 0.0783" in res.out
    assert res.err_lines == [
        "note: a nonlinearity above 1 (1.192) means the best affine fit predicts held-out"
        " outputs worse than their mean: no affine trace is left"
    ]
    assert seen["blas"] and set(seen["blas"]) == {1}  # the thread limit of training


def test_probe_of_an_affine_system_adds_no_note(cli: Any) -> None:
    res = cli("probe", "identity", "--samples", "64")
    assert res.code == 0 and not res.err_lines


def test_train_help_lists_the_registered_datasets(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    from phyll_core.plugins import get_host

    res = cli("train", "--help")
    assert res.code == 0
    text = " ".join(res.out.split())
    for entry in get_host().datasets:
        shown = f"{entry.name}:PATH" if entry.spec.takes_argument else entry.name
        assert shown in text, shown
    assert "vowels" in text


# -- plots ------------------------------------------------------------------------------------
@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    pytest.importorskip("matplotlib")
    import phyll_core.plots as plots

    saved: list[Any] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: saved.append(fig))
    monkeypatch.setattr(plots._pyplot(), "close", lambda fig: None)
    return saved


def test_curves_title_is_the_figure_title(figures: list[Any], tmp_path: Path) -> None:
    from phyll_core.plots import plot_curves

    history = [{"epoch": e, "train_accuracy": 0.5, "test_accuracy": 0.5,
                "losses": {"loss_block0": 1.0 / e}} for e in (1, 2, 3)]
    plot_curves(history, tmp_path / "c.png", "phyll on csv:/a/very/long/folder/name/data.csv")
    fig = figures[0]
    assert fig._suptitle.get_text() == "phyll on data.csv"
    assert [ax.get_title() for ax in fig.axes] == ["accuracy", "loss"]


def test_confusion_says_method_and_accuracy(figures: list[Any], tmp_path: Path) -> None:
    from phyll_core.plots import plot_confusion

    y = np.array([0, 0, 1, 1])
    plot_confusion(y, np.array([0, 1, 1, 1]), ["a", "b"], tmp_path / "m.png", method="readout")
    title = figures[0].axes[0].get_title()
    assert "readout prediction" in title and "accuracy 75.0 %" in title and "4 rows" in title


def test_comparison_marks_drift_and_shows_the_spread(figures: list[Any], tmp_path: Path) -> None:
    from matplotlib.collections import PolyCollection

    from phyll_core.plots import plot_comparison

    seeds = [[(2, 0.9), (4, 0.95), (6, 0.9), (8, 0.93)], [(2, 0.8), (4, 0.97), (6, 0.88),
                                                           (8, 0.95)]]
    plot_comparison({"phyll": seeds}, tmp_path / "p.png", "vowels through acoustic",
                    drift_at=4, before_drift={"phyll": [0.95, 0.97]},
                    after_drift={"phyll": [0.55, 0.65]})
    ax = figures[0].axes[0]
    mean = ax.get_lines()[0]
    xs, ys = list(mean.get_xdata()), list(mean.get_ydata())
    assert xs == [2, 4, 4, 6, 8]  # the dip right after the step is on the line
    assert ys[2] == pytest.approx(0.60) and ys[1] == pytest.approx(0.96)
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # spread band
    assert any(list(line.get_xdata()) == [4, 4] for line in ax.get_lines())  # drift marker
    assert "over 2 seeds" in ax.get_title()
