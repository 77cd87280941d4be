"""User-facing text printed through rich keeps its square brackets (install hints name their extra)."""

from __future__ import annotations

import re

from biolens.cli import main
from biolens.core.progress import print_above
from biolens.proteins.encoders import list_encoders


def _extras(text: str) -> set[str]:
    return set(re.findall(r"biolens\[(\w+)\]", text))


def test_install_hints_keep_their_extra(capsys):
    wanted = _extras(" ".join(how for _, _, how in list_encoders()))
    assert wanted, "no install hint names an extra: the test would prove nothing"
    for argv in (["encoders"], ["benchmark", "--list"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "'biolens'" not in out, f"{argv}: an install hint lost its extra"
        assert _extras(out) == wanted, argv


def test_log_lines_are_printed_verbatim(capsys):
    from rich.console import Console

    console = Console(stderr=True, width=200)
    print_above("note: pip install 'biolens[unirep]' for [bold]this[/bold]", console)
    assert "pip install 'biolens[unirep]' for [bold]this[/bold]" in capsys.readouterr().err


def test_benchmark_help_and_list_name_the_default_run(capsys):
    from biolens.benchmark import DEFAULT_ENCODERS, DEFAULT_TASKS

    assert main(["benchmark", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Default: " + ", ".join(DEFAULT_ENCODERS) in help_text
    assert "Default: " + ", ".join(DEFAULT_TASKS) in help_text
    assert main(["benchmark", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in DEFAULT_ENCODERS:
        row = rf"{re.escape(name.split(':')[0])}\s*│\s*{re.escape(name)}" if ":" in name else rf"{re.escape(name)}\s*│\s*yes"
        assert re.search(row, listed), f"{name} is run by default but --list does not say so"


def test_readme_python_api_and_aliases_work_on_the_shipped_samples(capsys):
    from biolens.proteins.tasks import load_task

    assert len(load_task("gb1", "sample:gb1")) > 0  # the README's example
    assert main(["lm", "mutations", "--help"]) == 0
    assert "Score mutations" in capsys.readouterr().out


def test_graph_summary_has_no_spread_for_one_seed_and_no_zero_second_epochs(tmp_path, capsys):
    from dataclasses import replace

    from biolens.cli.graphs import _print_summary
    from biolens.graphs import GraphResult

    metric = {"mean": 0.25, "std": 0.0}
    one = GraphResult(valid={"hits@20": metric, "auc": metric}, seeds=(0,), epoch_seconds_median=0.0123,
                      epoch_cpu_seconds_median=0.02, peak_rss_mb=300.0)
    _print_summary(one, tmp_path)
    err = capsys.readouterr().err
    assert "±" not in err and "(seed 0)" in err and "0.012 s wall" in err and "0.0 s" not in err
    _print_summary(replace(one, seeds=(0, 1, 2), epoch_seconds_median=12.34), tmp_path)
    err = capsys.readouterr().err
    assert "hits@20 0.2500 ± 0.0000" in err and "over seeds 0, 1, 2" in err and "12.3 s wall" in err


def test_task_auto_recognises_deeploc_fasta(write, capsys):
    from biolens.cli.proteins import _load
    from biolens.data import sample_path
    from biolens.proteins.tasks import is_deeploc_fasta

    deeploc = sample_path("deeploc")
    assert is_deeploc_fasta(deeploc)
    assert not is_deeploc_fasta(sample_path("solubility"))
    assert not is_deeploc_fasta(write("plain.fasta", ">p1 some protein\nMKV\n"))
    assert not is_deeploc_fasta(write("odd.fasta", ">p1 Cytoplasm-S extra words\nMKV\n"))
    loaded = _load("auto", str(deeploc), sequence_column=None, id_column=None, label_columns=(), labels=None,
                   on_missing="error", on_invalid="error", ec_level=None, min_count=None, aspect=None, taxon=(),
                   propagate=None, obo=None, annotations=None)  # fmt: skip
    assert loaded.task.name == "localization" and len(loaded.task.label_names) == 10
    assert "DeepLoc FASTA headers" in loaded.notes[0]
    from biolens.proteins.tasks import load_task  # the library agrees with the CLI

    assert load_task("auto", deeploc).task.name == "localization"


def test_metrics_table_shows_na_and_drops_baselines_that_do_not_apply():
    from types import SimpleNamespace

    from rich.console import Console

    from biolens.cli.proteins import _deltas, _metrics_table

    nan = float("nan")
    value = {"value": 0.5, "low": 0.4, "high": 0.6}
    result = SimpleNamespace(
        task="gb1", encoder="onehot", head="cnn", primary="spearman", metrics={"spearman": value, "mse": value},
        baselines={"majority": {"metrics": {"spearman": {"value": nan, "low": nan, "high": nan}}},
                   "composition": {"metrics": {"spearman": value}}},
    )  # fmt: skip
    console = Console(width=200, record=True)
    console.print(_metrics_table(result))
    text = console.export_text()
    assert "majority" not in text and "nan" not in text
    assert "composition" in text and "n/a" in text and "0.500 [0.400, 0.600]" in text
    assert _deltas({"majority": nan, "composition": 0.125}) == "composition +0.125"


def test_dms_heat_map_axis_is_one_based_like_mutation_codes():
    import numpy as np

    from biolens.proteins.lm import dms_figure

    wild_type = "MKVLA"
    scores = np.zeros((5, 20))
    fig = dms_figure(scores, wild_type)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.5, 5.5) and "1-based" in ax.get_xlabel()
    dots = [line.get_xdata()[0] for line in ax.lines]
    assert dots == [1, 2, 3, 4, 5]  # M1 is drawn at 1, as in the code M1A


def test_piped_output_is_as_wide_as_the_tables(monkeypatch):
    from biolens.cli._common import LOG_WIDTH, _console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert _console().width == LOG_WIDTH == _console(stderr=True).width  # pytest's capture is not a TTY


def test_collapsed_codebook_is_flagged():
    from biolens.structure import codebook_warning

    assert "collapsed" in codebook_warning({"perplexity": 1.0, "codebook_usage": 0.02})
    assert "collapsed" in codebook_warning({"perplexity": 1.5, "codebook_usage": 0.5})
    assert codebook_warning({"perplexity": 9.3, "codebook_usage": 0.6}) is None
    assert codebook_warning({"rmsd": 1.0}) is None  # not a VQ model
