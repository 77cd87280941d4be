"""biolens benchmark through main(argv) on a tiny suite of shipped samples: the outputs, a rerun
that reuses everything, a killed benchmark that resumes, bad input, and the report as a person
sees it in headless Chromium."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from biolens.benchmark import parse_heads
from biolens.cli import main

# 2 encoders x 2 tasks, linear heads (one-hot mean-pooled is the composition: same map, not repeated)
TINY = ["--suite", "quick", "--encoders", "composition,onehot", "--heads", "linear", "--tasks", "membrane,gb1", "--pooled-epochs", "20",
        "--bootstrap", "30", "--map", "pca", "--quiet"]


def _bench(out, cache, *extra):
    return main(["benchmark", *TINY, "--out", str(out), "--cache", str(cache), *extra])


def _last(out):
    return json.loads((out / "benchmark.json").read_text())["history"][-1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    assert _bench(root / "out", root / "cache.sqlite") == 0
    return root


def test_tiny_benchmark_writes_the_leaderboard_and_the_report(tiny):
    out = tiny / "out"
    board = json.loads((out / "leaderboard.json").read_text())
    assert [t["name"] for t in board["tasks"]] == ["membrane", "gb1"]
    assert [t["metric"] for t in board["tasks"]] == ["auroc", "spearman"]
    assert {m["name"] for m in board["models"]} == {"composition + linear", "onehot + linear"}
    means = [m["mean_delta"]["value"] for m in board["models"]]
    assert means == sorted(means, reverse=True) and [m["rank"] for m in board["models"]] == [1, 2]
    for m in board["models"]:
        cell = json.loads((out / "runs" / "gb1" / f"{m['encoder']}+linear" / "result.json").read_text())
        gb1 = m["entries"]["gb1"]
        assert gb1["score"]["value"] == pytest.approx(cell["metrics"]["spearman"]["value"])
        assert gb1["delta"]["value"] == pytest.approx(cell["deltas"]["composition"])
        assert gb1["delta"]["low"] <= gb1["delta"]["value"] <= gb1["delta"]["high"]
        assert m["mean_delta"]["value"] == pytest.approx(np.mean([e["delta"]["value"] for e in m["entries"].values()]))
    assert "composition" in [b["name"] for b in board["baselines"]]
    csv = (out / "leaderboard.csv").read_text().splitlines()
    assert csv[0].startswith("rank,kind,model") and len(csv) == 1 + 2 + 4  # header, 2 models, 4 baselines
    for task in ("membrane", "gb1"):  # one-hot's mean is the composition: the two models tie, both best
        assert [(m["entries"][task]["rank"], m["entries"][task]["best"]) for m in board["models"]] == [(1.5, True)] * 2
    assert [(m["best_on"], m["compared"], m["mean_rank"]) for m in board["models"]] == [(2, 2, 1.5)] * 2
    page = (out / "report.html").read_text()
    assert "<table class=\"board\">" in page and page.count("data:image/png;base64") >= 3
    # the answer comes first: a verdict per model, before the leaderboard's detail
    answer = page.index("<ol class=\"answer\">")
    assert answer < page.index("<table class=\"board\">") and "(paired tests)" in page[answer:page.index("</ol>")]
    assert "map is not repeated" in page and "<svg" in page  # one map: one-hot's mean equals composition
    for remote in ("src=\"http", "href=\"http", "<script src", "<link"):
        assert remote not in page  # self-contained: nothing fetched
    body = page.split("<body>")[1]
    # legible: settings as a key/value table (no JSON dump, no Python None), one n/a spelling,
    # a compact invocation table, labelled map axes, no class counted 0
    assert "<pre>" not in body and "None" not in body and "null" not in body and "–" not in body
    assert body.count('<table class="kv">') == 2 and "<td>pooled_training</td>" in body
    assert "<th>wall s</th>" in body and "load_average" not in body and "embeddings_cache_hits" not in body
    assert ">PC 1</text>" in body and ">PC 2</text>" in body and ": 0," not in body  # --map pca
    last = _last(out)
    assert last["cells_computed"] == 4 and last["cells_failed"] == 0 and last["maps_computed"] == 1


def test_a_rerun_reuses_every_cell_embedding_and_map(tiny, tmp_path, monkeypatch):
    import biolens.data

    # the rerun reads the samples from another place, as another install of biolens would
    real = biolens.data.resolve_input

    def elsewhere(value):
        path = real(value)
        copy = tmp_path / path.name
        if path != copy:  # resolve_input may see the copy again (load_task resolves sample:NAME too)
            shutil.copyfile(path, copy)
        return copy

    monkeypatch.setattr(biolens.data, "resolve_input", elsewhere)
    out, before = tiny / "out", (tiny / "out" / "leaderboard.csv").read_text()
    assert _bench(out, tiny / "cache.sqlite") == 0
    last = _last(out)
    assert (last["cells_reused"], last["cells_computed"], last["embeddings_computed"], last["maps_reused"]) == (4, 0, 0, 1)
    assert last["embeddings_cache_hits"] > 0 and (out / "leaderboard.csv").read_text() == before


def test_a_killed_benchmark_resumes_and_loses_nothing(tiny, tmp_path, monkeypatch):
    import biolens.benchmark._runner as runner

    real, calls = runner.run_task, []

    def dies_on_the_third_cell(*args, **kwargs):
        calls.append(kwargs["out_dir"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    out = tmp_path / "out"
    monkeypatch.setattr(runner, "run_task", dies_on_the_third_cell)
    assert _bench(out, tiny / "cache.sqlite") == 130  # interrupted
    monkeypatch.setattr(runner, "run_task", real)
    assert not (out / "leaderboard.csv").exists()
    assert _bench(out, tiny / "cache.sqlite") == 0
    last = _last(out)
    assert (last["cells_reused"], last["cells_computed"]) == (2, 2)
    # interrupted and resumed: the same leaderboard as the run that was never interrupted
    assert (out / "leaderboard.csv").read_text() == (tiny / "out" / "leaderboard.csv").read_text()
    # one cell lost (deleted): only that cell is recomputed, every embedding comes from the store
    shutil.rmtree(out / "runs" / "gb1" / "onehot+linear")
    assert _bench(out, tiny / "cache.sqlite") == 0
    last = _last(out)
    assert (last["cells_reused"], last["cells_computed"], last["embeddings_computed"]) == (3, 1, 0)
    assert len(json.loads((out / "benchmark.json").read_text())["history"]) == 2  # every finished invocation


@pytest.mark.parametrize(("args", "message"), [
    (["--encoders", "composition,nosuch"], "unknown encoder 'nosuch'"),
    (["--encoders", "esm2:/no/such/folder"], "esm2:/no/such/folder"),
    (["--tasks", "solubility,nosuch"], "unknown benchmark task(s) ['nosuch']"),
    (["--heads", "transformer"], "unknown head 'transformer'"),
    (["--encoders", "composition", "--heads", "onehot=cnn"], "--heads names encoder 'onehot'"),
    (["--encoders", "composition", "--heads", "cnn"], "the cnn head reads per-residue states"),
])
def test_bad_names_are_clear_errors(args, message, tmp_path, capsys):
    assert main(["benchmark", *args, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unwritable_out_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert main(["benchmark", "--encoders", "composition", "--out", str(tmp_path / "file" / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the benchmark folder" in err and "Traceback" not in err


def test_encoder_names_are_not_special_cased():
    models = parse_heads(["mlm:runs/my-lm", "esm2:/models/esm2_t6", "onehot"], ["mlm:runs/my-lm=mlp", "linear"])
    assert [(m.encoder, m.head) for m in models] == [("mlm:runs/my-lm", "mlp"), ("esm2:/models/esm2_t6", "linear"),
                                                     ("onehot", "linear")]


def test_list_shows_tasks_encoders_and_heads(capsys):
    assert main(["benchmark", "--list"]) == 0
    out = capsys.readouterr().out
    assert "localization" in out and "unirep-64" in out and "per_residue" in out


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not on PATH (Debian: apt-get install chromium)")
def test_the_report_as_a_person_sees_it_in_headless_chromium(tiny, tmp_path):
    from matplotlib.image import imread

    page = (tiny / "out" / "report.html").resolve()
    shot = tmp_path / "report.png"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400"]
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=False)
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<table class=\"board\">" in dom and "composition + linear" in dom  # the leaderboard, as rendered
    assert dom.count("<img") >= 3 and "<svg" in dom  # figures (mean delta, per task) and the embedding map
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    # not a blank page: plenty of ink, and the palette's colours (figures and map) are drawn
    assert (pixels.mean(-1) < 0.9).mean() > 0.03
    colour = (pixels.max(-1) - pixels.min(-1)) > 0.3
    assert colour.sum() > 2000


def test_a_folder_run_with_other_settings_is_refused_before_any_work(tiny, capsys):
    before = (tiny / "out" / "benchmark.json").read_text()
    assert _bench(tiny / "out", tiny / "cache.sqlite", "--pooled-epochs", "7") == 2
    err = capsys.readouterr().err
    assert "other settings (pooled_training)" in err and "new --out folder" in err
    assert (tiny / "out" / "benchmark.json").read_text() == before
