"""The structure commands end to end on the shipped sample, with the tiny preset."""

import json

import numpy as np
import pytest

from biolens.cli import main
from biolens.data import resolve_input
from biolens.structure import Chain, load_run, parse_tokens, read_backbones, residue_features, rmsd
from biolens.structure._tokenizer import reconstruct
from structure_files import atom, pdb, real_residues

pytest.importorskip("gemmi")
pytest.importorskip("mini3di")
SMALL = "sample:structures/bm5/1CLV_l_u.pdb.gz"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("structure") / "run"
    assert main(["structure", "train", "--structures", "sample:structures", "--out", str(out), "--preset", "tiny", "-q"]) == 0
    return out


def test_train_writes_a_complete_run(run):
    for name in ("config.json", "split.json", "data.json", "train/metrics.jsonl", "checkpoint/meta.json",
                 "evaluation.json", "report.html", "result.json"):
        assert (run / name).exists(), name
    rows = [json.loads(x) for x in (run / "train" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if r["split"] == "train"]
    assert losses[-1] < losses[0]  # it learns
    split = json.loads((run / "split.json").read_text())
    assert sum(len(v) for v in split.values()) == 8


def test_train_again_returns_the_finished_run_and_refuses_other_settings(run, capsys):
    log = (run / "train" / "metrics.jsonl").read_bytes()
    assert main(["structure", "train", "--structures", "sample:structures", "--out", str(run), "--preset", "tiny", "-q"]) == 0
    assert (run / "train" / "metrics.jsonl").read_bytes() == log  # not trained again
    assert main(["structure", "train", "--structures", "sample:structures", "--out", str(run), "--preset", "tiny", "-k", "8"]) == 2
    err = capsys.readouterr().err
    assert "holds another run" in err and "settings.model.codebook_size: 16 → 8" in err and "Traceback" not in err


def test_evaluate_prints_json(run, capsys):
    assert main(["structure", "evaluate", str(run), "--structures", "sample:structures", "--split", "all", "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["chains"] == 8 and result["rmsd"] > 0 and 0 < result["codebook_usage"] <= 1
    assert 1 <= result["perplexity"] <= 16 and 0 < result["lddt"] <= 1
    assert result["3di"]["codebook_size"] == 20 and 0 < result["3di"]["codebook_usage"] <= 1


def test_tokenize_decode_round_trip(run, capsys, tmp_path):
    assert main(["structure", "tokenize", str(run), SMALL]) == 0
    text = capsys.readouterr().out
    header, tokens_line = text.strip().split("\n")
    original = read_backbones(resolve_input(SMALL))[0][0]
    assert header == f">{original.id}"
    tokens, segment = parse_tokens(tokens_line, 16)
    assert len(tokens) == len(original) and segment.tolist() == original.segment.tolist()
    (tmp_path / "tokens.txt").write_text(text)
    out = tmp_path / "decoded.pdb"
    assert main(["structure", "decode", str(run), str(tmp_path / "tokens.txt"), "--out", str(out)]) == 0
    decoded = read_backbones(out)[0][0]
    assert len(decoded) == len(original) and decoded.mask[:, :4].all()
    # decoding the tokens gives exactly the model's reconstruction of the original chain
    model, book, config = load_run(run)
    rec = reconstruct(model, book, Chain(original, residue_features(original, config.model.neighbours)[0]))
    np.testing.assert_array_equal(rec.codes, tokens)
    np.testing.assert_allclose(decoded.coords[:, :4], rec.coords, atol=2e-3)
    # and re-encoding the decoded backbone is measured the same way as evaluate does
    assert np.isfinite(rmsd(decoded.coords[:, :4], original.coords[:, :4], original.mask[:, :4], original.segment))
    assert main(["structure", "decode", str(run), "1 2 3 / 4 5"]) == 0
    assert capsys.readouterr().out.count(" CA ") == 5


def test_decode_against_the_reference_superposes_and_writes_each_residues_error(run, capsys, tmp_path):
    import gemmi

    assert main(["structure", "tokenize", str(run), SMALL]) == 0
    (tmp_path / "tokens.txt").write_text(capsys.readouterr().out)
    out = tmp_path / "decoded.pdb"
    assert main(["structure", "decode", str(run), str(tmp_path / "tokens.txt"), "--reference", SMALL,
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    original = read_backbones(resolve_input(SMALL))[0][0]
    true, mask = np.nan_to_num(original.coords[:, :4]), original.mask[:, :4]
    model, book, config = load_run(run)
    rec = reconstruct(model, book, Chain(original, residue_features(original, config.model.neighbours)[0]))
    expected = rmsd(rec.coords, true, mask, original.segment)  # evaluate's number for this chain
    assert f"{original.id} on {original.id}: RMSD {expected:.2f} Å" in err
    # the file lies on the reference as written (no superposition needed) ...
    decoded = read_backbones(out)[0][0]
    sq = np.where(mask, np.sum((decoded.coords[:, :4] - true) ** 2, axis=-1), 0.0)
    assert np.sqrt(sq.sum() / mask.sum()) == pytest.approx(expected, abs=2e-3)
    # ... and each residue's B-factor is its backbone RMSD to the reference
    st = gemmi.read_structure(str(out))
    b = np.array([res[0].b_iso for res in st[0][0]])
    assert {atom.b_iso for res in st[0][0] for atom in res} != {0.0}
    np.testing.assert_allclose(b, np.sqrt(sq.sum(1) / mask.sum(1)), atol=6e-3)
    assert f"RMSD {expected:.2f} A" in out.read_text()  # and the remark says so
    # raw token ids pair with a one-chain reference; counts that do not match are named
    n = len(original)
    assert main(["structure", "decode", str(run), " ".join(["1"] * n), "--reference", SMALL]) == 0
    assert main(["structure", "decode", str(run), "1 2 3", "--reference", SMALL]) == 2
    err = capsys.readouterr().err
    assert f"has 3 tokens in 1 segment(s) but chain {original.id} has {n} residues" in err and "Traceback" not in err
    (tmp_path / "two.txt").write_text(">other_A\n1 2 3\n>x\n4\n")
    assert main(["structure", "decode", str(run), str(tmp_path / "two.txt"), "--reference", SMALL]) == 2
    assert f"token record 'other_A' names no chain of the reference (its chains: {original.id})" in capsys.readouterr().err
    assert main(["structure", "decode", str(run), "1 2", "--chain", "A"]) == 2
    assert "give --reference FILE" in capsys.readouterr().err


def test_bad_inputs_get_clear_messages(run, capsys, write):
    x = real_residues(6)
    ca_only = write("ca.pdb", pdb([atom(i + 1, "CA", "ALA", i + 1, x[i, 1]) for i in range(6)]))
    water = write("water.pdb", pdb([atom(1, "O", "HOH", 1, [0, 0, 0], het=True)]))
    cases = [
        (["tokenize", str(run), str(ca_only)], "CA-only model"),
        (["tokenize", str(run), str(water)], "has no protein chain"),
        (["tokenize", str(run), SMALL, "--chain", "Z"], "has no chain 'Z'; its chains are"),
        (["decode", str(run), "1 99"], "is not a token id 0..15"),
        (["decode", str(run), "no-such-file.txt"], "neither a file nor token ids"),
        (["evaluate", str(ca_only.parent), "--structures", "sample:structures"], "not a structure run"),
    ]
    for args, message in cases:
        assert main(["structure", *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (args, err)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["vae", "3di"])
def test_other_model_kinds_train_and_evaluate(kind, tmp_path, capsys):
    out = tmp_path / kind
    args = ["structure", "train", "--structures", "sample:structures", "--out", str(out), "--preset", "tiny",
            "--model", kind, "--max-steps", "4", "-q"]
    assert main(args) == 0
    assert main(["structure", "evaluate", str(out), "--structures", "sample:structures", "--split", "all",
                 "--no-3di", "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == kind and result["chains"] == 8 and np.isfinite(result["rmsd"])
    if kind == "vae":
        assert result["codebook_usage"] is None  # continuous latents
        assert main(["structure", "tokenize", str(out), SMALL]) == 2
        assert "Gaussian VAE" in capsys.readouterr().err
    else:
        assert result["codebook_size"] == 20 and 0 < result["codebook_usage"] <= 1


def test_pdb_writer_refuses_columns_it_cannot_hold_and_mmcif_holds_them():
    import gemmi

    from biolens.structure import backbone_mmcif, backbone_pdb

    x = real_residues(6)[:, :4].astype(np.float64)
    far = x + np.array([9_000.0, -1_300.0, 93_220.0])  # past the 8-column coordinate fields
    with pytest.raises(ValueError, match=r"coordinates from -1.*to 932.* Å \(PDB columns hold -999.999 to 9999.999\)"):
        backbone_pdb([("far", far, np.zeros(6, np.int32))])
    long_chain = np.zeros(10_000, np.int32)
    with pytest.raises(ValueError, match="residue numbers up to 10000"):
        backbone_pdb([("long", np.zeros((10_000, 4, 3)), long_chain)])
    with pytest.raises(ValueError, match="100005 atom serials"):
        backbone_pdb([(f"c{i}", np.zeros((5_000, 4, 3)), np.zeros(5_000, np.int32)) for i in range(5)])
    text = backbone_mmcif([("far", far, np.array([0, 0, 0, 1, 1, 1], np.int32)), ("b", x, np.zeros(6, np.int32))])
    st = gemmi.make_structure_from_block(gemmi.cif.read_string(text).sole_block())
    ca = [(r.seqid.num, r["CA"][0].pos.z) for r in st[0]["A"]]
    assert [n for n, _ in ca] == [1, 2, 3, 5, 6, 7]  # the break skips a number, as in PDB
    np.testing.assert_allclose([z for _, z in ca], far[:, 1, 2], atol=1e-3)
    assert [ch.name for ch in st[0]] == ["A", "B"] and sum(1 for _ in st[0]["B"]) == 6


def test_decode_of_a_long_chain_writes_mmcif_or_refuses_pdb(run, capsys, tmp_path):
    tokens = " ".join(["3"] * 10_000)
    assert main(["structure", "decode", str(run), tokens]) == 2
    err = capsys.readouterr().err
    assert "the decoded backbones do not fit the PDB format: chain 'tokens' has" in err and "--format cif" in err
    out = tmp_path / "long.cif"
    assert main(["structure", "decode", str(run), tokens, "--out", str(out)]) == 0
    (bb,), _ = read_backbones(out)
    assert len(bb) == 10_000 and bb.residue_ids[-1] == "10000" and np.isfinite(bb.coords[:, :4]).all()


def test_train_messages_and_report_are_legible(run, capsys):
    assert main(["structure", "train", "--structures", "sample:structures", "--out", str(run), "--preset", "tiny"]) == 0
    err = capsys.readouterr().err
    assert "best validation: loss " in err and "{" not in err and "'" not in err  # no dict repr, no JSON
    assert "held-out test: rmsd " in err and "3di_usage " in err and f"wrote {run / 'checkpoint'}" in err
    page = (run / "report.html").read_text()
    assert "<pre>" not in page and "None" not in page and '<table class="kv">' in page
    from biolens.structure import codebook_warning

    evaluation = json.loads((run / "evaluation.json").read_text())
    assert (codebook_warning(evaluation) is not None) == ('<div class="banner" role="alert">' in page)


def test_collapsed_codebook_banner_without_a_test_split(run, tmp_path, monkeypatch):
    import shutil

    import biolens.structure._run
    from biolens.core.errors import InputError
    from biolens.structure import write_run_report

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    meta_path = copy / "checkpoint" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["best_metrics"] = {"loss": 0.5, "codebook_usage": 0.0625, "perplexity": 1.0}
    meta_path.write_text(json.dumps(meta))

    def no_test_files(*args, **kwargs):
        raise InputError("no usable protein chain in any file")

    monkeypatch.setattr(biolens.structure._run, "evaluate_folder", no_test_files)
    assert write_run_report(copy, structures="sample:structures") is None
    page = (copy / "report.html").read_text()
    assert '<div class="banner" role="alert"><strong>Codebook collapse:</strong>' in page and "perplexity 1.00" in page
