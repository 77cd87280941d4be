"""``biolens dna benchmark`` on a tiny folder of two factors, and the known-motif panel check."""

import gzip
import json
import shutil

import numpy as np
import pytest

from biolens.cli import main
from biolens.core.errors import InputError
from biolens.data import resolve_input
from biolens.dna import factor_pairs, one_hot, reverse_complement
from biolens.dna._motif_panel import motif_panel_check
from biolens.interpret import motif_from_consensus, scan_scores

TINY = ["--set", "conv_filters=8", "--set", "kernel_size=5", "--set", "dense_units=16"]
EBOX = "CACGTG"


def planted(n, seed, motif=EBOX, length=101):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = list(rng.choice(list("ACGT"), size=length))
        p = int(rng.integers(40, 55))  # near the centre, as ChIP-seq peaks are
        s[p : p + len(motif)] = motif if rng.random() < 0.5 else reverse_complement(motif)
        out.append("".join(s))
    return out


def write_deepbind(path, seqs, labels):
    lines = ["FoldID\tEventID\tseq\tBound"] + [f"A\tseq_{i:05d}\t{s}\t{y}" for i, (s, y) in enumerate(zip(seqs, labels))]
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("factors")
    shutil.copy(resolve_input("sample:ctcfl_train"), d / "CTCFL_K562_sample_AC.seq.gz")
    shutil.copy(resolve_input("sample:ctcfl_test"), d / "CTCFL_K562_sample_B.seq.gz")
    write_deepbind(d / "EBOX_synthetic_AC.seq.gz", planted(400, 0), [1] * 400)
    rng = np.random.default_rng(1)
    neg = ["".join(rng.choice(list("ACGT"), size=101)) for _ in range(60)]
    write_deepbind(d / "EBOX_synthetic_B.seq.gz", planted(60, 2) + neg, [1] * 60 + [0] * 60)
    write_deepbind(d / "LONELY_x_AC.seq.gz", planted(5, 3), [1] * 5)  # no _B: not a pair
    return d


def test_factor_pairs_match_ac_with_b_files(folder, tmp_path):
    assert [tf for tf, _, _ in factor_pairs(folder)] == ["CTCFL", "EBOX"]
    with pytest.raises(InputError, match="no DeepBind"):
        factor_pairs(tmp_path)


def test_benchmark_writes_a_per_factor_table_with_intervals(folder, tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["dna", "benchmark", "--train-dir", str(folder), "--out", str(out), "--model", "cnn",
            "--max-steps", "150", "--lr", "3e-3", "--bootstrap", "100", *TINY]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert sorted(results) == ["CTCFL/cnn", "EBOX/cnn"]
    for row in results.values():
        for metric in ("auroc", "auprc"):
            m = row["test"][metric]
            assert m["low"] <= m["value"] <= m["high"]
        assert row["cpu_s"] > 0 and row["steps"] <= 150 and "verdict" in row["motif"]
    assert results["EBOX/cnn"]["test"]["auroc"]["value"] > 0.7  # a planted 6-mer is learnt in 150 steps
    assert results["EBOX/cnn"]["motif"]["found"][0].startswith("E-box")  # and the model looks at it
    table = (out / "table.md").read_text()
    assert "| CTCFL |" in table and "| EBOX |" in table and "**mean**" in table and "**worst**" in table
    run = out / "runs" / "EBOX" / "cnn"
    assert all((run / f).exists() for f in ("config.json", "checkpoint", "train", "validation.json", "report.html"))
    # a re-run skips finished pairs (same results, no training) and only adds a missing motif check
    before = (run / "checkpoint" / "model.eqx").read_bytes()
    del results["EBOX/cnn"]["motif"]
    (out / "results.json").write_text(json.dumps(results))
    assert main(args + ["--quiet"]) == 0
    assert (run / "checkpoint" / "model.eqx").read_bytes() == before
    again = json.loads((out / "results.json").read_text())
    assert again["EBOX/cnn"]["motif"]["found"][0].startswith("E-box")
    assert again["CTCFL/cnn"]["test"] == results["CTCFL/cnn"]["test"]
    assert "| EBOX |" in capsys.readouterr().out


def test_benchmark_refuses_an_unknown_preset(folder, tmp_path, capsys):
    assert main(["dna", "benchmark", "--train-dir", str(folder), "--out", str(tmp_path), "--model", "rnn"]) != 0
    assert "not a preset" in capsys.readouterr().err


def test_motif_panel_finds_the_motif_a_scanner_looks_at_and_flags_a_context_model():
    x_pos = one_hot(planted(24, 4))
    ebox = motif_from_consensus("ebox", EBOX)

    def scanner(x):  # a "model" that scores the best E-box match: its ISM windows hold the E-box
        return scan_scores(ebox, np.asarray(x)).max(axis=(1, 2))

    found = motif_panel_check(scanner, x_pos)
    assert found["found"][0].startswith("E-box") and found["verdict"].startswith("motif found: E-box")
    assert found["rates"]["E-box (MYC/MAX/USF)"]["top_windows"] == 1.0

    def gc_content(x):  # a "model" of composition only: no motif in its windows
        x = np.asarray(x)
        return (x[..., 1] + x[..., 2]).mean(-1) + 0.01 * x[..., 60:, 0].sum(-1)

    flagged = motif_panel_check(gc_content, x_pos)
    assert flagged["found"] == [] and flagged["verdict"].startswith("NO KNOWN MOTIF")
