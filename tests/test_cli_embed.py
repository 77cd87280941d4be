"""`biolens embed` end to end through main(argv): outputs, summaries and every bad input."""

from pathlib import Path

import numpy as np
import pytest

from biolens.cli import main
from biolens.core.export import load_embeddings, load_metadata


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return code, out.out + out.err


def test_embed_shipped_sample_writes_ids_and_embeddings(tmp_path, capsys):
    out = tmp_path / "e.npz"
    code, text = run(["embed", "sample:solubility", "--encoder", "composition", "--out", str(out)], capsys)
    assert code == 0 and "records read: 400, kept: 400" in text and "cache hits: 0, computed: 400" in text
    with np.load(out, allow_pickle=False) as f:
        assert f["ids"].shape == (400,) and f["embeddings"].shape == (400, 20)
    # the second run is served from the store
    code, text = run(["embed", "sample:solubility", "--encoder", "composition", "--out", str(out)], capsys)
    assert code == 0 and "cache hits: 400, computed: 0" in text


def test_per_residue_parquet(tmp_path, write, capsys):
    fasta = write("a.fasta", ">a\nMKVLA\n>b\nGG\n")
    code, _ = run(["embed", str(fasta), "-e", "onehot", "--per-residue", "-o", str(tmp_path / "r.parquet")], capsys)
    ids, arrays = load_embeddings(tmp_path / "r.parquet")
    assert code == 0 and ids == ["a", "b"] and [a.shape for a in arrays] == [(5, 20), (2, 20)]


BAD = {
    "empty file": ("", "has no sequence records"),
    "empty sequence": (">a\nMKV\n>b\n\n>c\nAA\n", "record 'b': empty"),
    "text before header": ("MKV\n>a\nMKV\n", ":1: sequence text before the first '>'"),
    "gaps": (">a\nMK--V\n", "'-' (gap) at position 3, 4"),
    "digits and spaces": (">a\n1 MKV\n", "'1' (digit) at position 1"),
    "internal stop": (">a\nMK*V\n", "'*' (internal stop)"),
    "duplicate ids": (">a\nMKV\n>a\nMKV\n", "duplicate id"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_nonzero_with_a_clear_message(case, tmp_path, write, capsys):
    content, message = BAD[case]
    fasta = write("in.fasta", content)
    code, text = run(["embed", str(fasta), "-e", "onehot", "-o", str(tmp_path / "o.npz")], capsys)
    assert code != 0 and message in text and "error:" in text
    assert not (tmp_path / "o.npz").exists()


def test_policies_and_accepted_letters(tmp_path, write, capsys):
    fasta = write("in.fasta", ">a\nmkvl*\n>b\nMK-V\n>c\nUOBZJX\n")
    code, text = run(["embed", str(fasta), "-e", "onehot", "--on-invalid", "skip", "-o", str(tmp_path / "s.npz")], capsys)
    assert code == 0 and "skipped 1 record(s): 1 invalid" in text
    assert "lowercase letters upper-cased in 1" in text and "terminal '*' removed from 1" in text
    ids, _ = load_embeddings(tmp_path / "s.npz")
    assert ids == ["a", "c"]
    code, text = run(["embed", str(fasta), "-e", "onehot", "--on-invalid", "replace", "-o", str(tmp_path / "r.npz")], capsys)
    assert code == 0 and "1 invalid character(s) replaced in 1 record(s)" in text


def test_dedupe_flag(tmp_path, write, capsys):
    fasta = write("in.fasta", ">a\nMKV\n>a\nMKV\n>b\nGG\n")
    code, text = run(["embed", str(fasta), "-e", "onehot", "--dedupe", "-o", str(tmp_path / "d.npz")], capsys)
    assert code == 0 and "duplicate ids dropped: 1" in text


def test_csv_column_errors_and_binary_file(tmp_path, write, capsys):
    csv = write("t.csv", "name,protein\na,MKV\n")
    code, text = run(["embed", str(csv), "-e", "onehot", "-o", str(tmp_path / "o.npz")], capsys)
    assert code != 0 and "no sequence column" in text and "--sequence-column" in text
    code, _ = run(["embed", str(csv), "-e", "onehot", "--sequence-column", "protein", "-o", str(tmp_path / "o.npz")], capsys)
    assert code == 0
    binary = write("x.fasta", bytes(range(256)) * 10)
    code, text = run(["embed", str(binary), "-e", "onehot", "-o", str(tmp_path / "o.npz")], capsys)
    assert code != 0 and "binary" in text


def test_usage_errors(tmp_path, capsys):
    code, text = run(["embed", "sample:solubility", "-e", "onehot", "-o", str(tmp_path / "o.txt")], capsys)
    assert code != 0 and "--out must end in one of" in text
    code, text = run(["embed", "sample:nope", "-o", str(tmp_path / "o.npz")], capsys)
    assert code != 0 and "unknown sample 'nope'" in text
    code, text = run(["embed", "sample:solubility", "-e", "esm9", "-o", str(tmp_path / "o.npz")], capsys)
    assert code != 0 and "unknown encoder 'esm9'" in text
    code, text = run(["embed"], capsys)
    assert code == 2 and "Missing argument" in text


def test_encoders_and_samples_listing(capsys):
    code, text = run(["encoders"], capsys)
    assert code == 0 and "composition" in text and "esm2-650m" in text
    code, text = run(["samples"], capsys)
    assert code == 0 and "solubility" in text


def test_embed_file_records_the_encoder_and_view(tmp_path):
    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a\nMKTAYIAK\n>b\nGGSW\n")
    out = tmp_path / "e.npz"
    assert main(["embed", str(fasta), "-e", "onehot", "--pooling", "max", "--no-cache", "-q", "--out", str(out)]) == 0
    meta = load_metadata(out)
    assert meta["encoder"] == "onehot" and meta["pooling"] == "max" and len(meta["fingerprint"]) == 32


TINY_ESM2 = Path(__file__).parent / "data" / "esm2_tiny"


def test_extract_style_out_dir_matches_single_layer_embeds(tmp_path, capsys):
    fasta = tmp_path / "p.fasta"
    fasta.write_text(">sp|P1|A\nMKTAYIAKQR\n>b\nGGSWLLK\n")
    enc = f"esm2:{TINY_ESM2}"
    code, text = run(["embed", str(fasta), "-e", enc, "--out-dir", str(tmp_path / "x"), "--repr_layers", "0", "-1",
                      "--include", "mean", "per_tok", "bos", "--toks_per_batch", "64"], capsys)
    assert code == 0 and "wrote 2 files" in text
    last = load_metadata(tmp_path / "x" / "b.npz")["layers"][-1]
    with np.load(tmp_path / "x" / "sp|P1|A.npz", allow_pickle=False) as f:
        assert sorted(k for k in f.files if k != "metadata") == sorted(
            f"{v}_{layer}" for v in ("mean", "per_tok", "bos") for layer in (0, last))
        assert f[f"per_tok_{last}"].shape[0] == 10 and f["mean_0"].ndim == 1
        np.testing.assert_allclose(f[f"per_tok_{last}"].mean(0), f[f"mean_{last}"], atol=1e-5)
        mean_last, bos_0 = f[f"mean_{last}"], f["bos_0"]
    # the same vectors as the one-file embed at that layer and pooling
    for layer, pooling, expected in ((last, "mean", mean_last), (0, "cls", bos_0)):
        out = tmp_path / f"{layer}{pooling}.npz"
        assert main(["embed", str(fasta), "-e", enc, "--layer", str(layer), "--pooling", pooling, "-q", "--out", str(out)]) == 0
        ids, arrays = load_embeddings(out)
        np.testing.assert_allclose(arrays[ids.index("sp|P1|A")], expected, atol=1e-6)


def test_extract_style_bad_requests_are_clear(tmp_path, capsys):
    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a/b\nMKTAY\n")
    enc = f"esm2:{TINY_ESM2}"
    code, text = run(["embed", str(fasta), "-e", enc, "--out-dir", str(tmp_path / "x")], capsys)
    assert code == 2 and "id 'a/b' cannot name a file in --out-dir" in text
    fasta.write_text(">a\nMKTAY\n")
    code, text = run(["embed", str(fasta), "-e", enc, "--out-dir", str(tmp_path / "x"), "--include", "contacts"], capsys)
    assert code == 2 and "no contact-prediction head" in text
    code, text = run(["embed", str(fasta), "-e", "onehot", "--out-dir", str(tmp_path / "x"), "--include", "bos"], capsys)
    assert code == 2 and "onehot has none" in text
    code, text = run(["embed", str(fasta), "-e", enc, "--out", str(tmp_path / "e.npz"), "--repr-layers", "1"], capsys)
    assert code == 2 and "use them with --out-dir" in text
    code, text = run(["embed", str(fasta), "-e", enc], capsys)
    assert code == 2 and "give one of --out FILE" in text
