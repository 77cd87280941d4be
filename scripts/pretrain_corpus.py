"""Build the pretraining corpus of the shipped masked LM from ../shared/data (developer script).

Takes the protein sequences that no evaluation here uses as a test set, and leaves out

* every sequence of a shipped sample (``sample:solubility``, ``deeploc``, ``enzyme``, ``gb1``,
  ``secondary-structure``: the benchmark's default tasks train and test on them);
* whole held-out files: DeepLoc's test split, the DeepFRI nrPDB-EC test chains, FLIP's
  secondary-structure test proteins and every GB1 variant (GB1 is scored zero-shot);
* with ``--identity`` (MMseqs2 on the PATH), every corpus sequence with a hit of at least that
  identity over half of either sequence in any of the above.

Kept: DeepSol's validation split, DeepLoc's validation split and FLIP's secondary-structure
training proteins; exact duplicates dropped. Prints a JSON summary; writes ``--out`` (FASTA).

    python scripts/pretrain_corpus.py --data ../shared/data --out runs/corpus.fasta --identity 0.5
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from biolens.core.alphabets import PROTEIN
from biolens.core.seqio import load_sequences, read_fasta
from biolens.data import sample_path


def _seqs(path: Path, **kw) -> list[str]:
    records, _ = load_sequences(path, PROTEIN, on_invalid="skip", **kw)
    return [r.sequence for r in records]


def _secondary_structure(folder: Path) -> tuple[list[str], list[str]]:
    sets = {r.id: ("SET=test" in r.description) for r in read_fasta(folder / "sampled.fasta")}
    records, _ = load_sequences(folder / "sequences.fasta", PROTEIN, on_invalid="skip")
    train = [r.sequence for r in records if not sets.get(r.id, True)]
    test = [r.sequence for r in records if sets.get(r.id, True)]
    return train, test


def sources(data: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    prot = data / "proteins"
    ss_train, ss_test = _secondary_structure(prot / "flip" / "secondary_structure")
    keep = {"deepsol_val": _seqs(prot / "solubility" / "deepsol_val.csv"),
            "deeploc_val": _seqs(prot / "localization" / "deeploc_val.fasta"),
            "flip_ss_train": ss_train}
    held = {"deeploc_test": _seqs(prot / "localization" / "deeploc_test.fasta"),
            "enzyme_test": _seqs(prot / "enzyme" / "nrPDB-EC_2020.04_test_sequences.fasta"),
            "flip_ss_test": ss_test,
            "gb1": _seqs(prot / "flip" / "gb1" / "three_vs_rest.csv.gz")}
    for name in ("solubility", "deeploc", "enzyme", "gb1"):
        held[f"sample:{name}"] = _seqs(sample_path(name))
    held["sample:secondary-structure"] = _seqs(sample_path("secondary-structure") / "sequences.fasta")
    return keep, held


def _write_fasta(path: Path, seqs: list[str], prefix: str) -> None:
    path.write_text("".join(f">{prefix}{i}\n{s}\n" for i, s in enumerate(seqs)))


def homologs(corpus: list[str], held: list[str], identity: float) -> set[int]:
    """Indices of corpus sequences with an MMseqs2 hit >= ``identity`` in ``held``."""
    if shutil.which("mmseqs") is None:
        raise SystemExit("--identity needs mmseqs on the PATH (apt-get install mmseqs2)")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _write_fasta(t / "corpus.fasta", corpus, "c")
        _write_fasta(t / "held.fasta", held, "h")
        subprocess.run(["mmseqs", "easy-search", str(t / "corpus.fasta"), str(t / "held.fasta"), str(t / "hits.m8"),
                        str(t / "work"), "--min-seq-id", str(identity), "-c", "0.5", "--cov-mode", "0",
                        "--threads", "1", "-v", "1"], check=True)
        lines = (t / "hits.m8").read_text().splitlines()
    return {int(line.split("\t")[0][1:]) for line in lines if line}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--identity", type=float, default=None, help="also drop homologs of held-out sequences (MMseqs2)")
    args = ap.parse_args()
    keep, held = sources(args.data)
    held_set = {s for seqs in held.values() for s in seqs}
    corpus, seen = [], set()
    for seqs in keep.values():
        for s in seqs:
            if s not in held_set and s not in seen:
                seen.add(s)
                corpus.append(s)
    exact = sum(map(len, keep.values())) - len(corpus)
    dropped = homologs(corpus, sorted(held_set), args.identity) if args.identity else set()
    corpus = [s for i, s in enumerate(corpus) if i not in dropped]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _write_fasta(args.out, corpus, "corpus")
    print(json.dumps({"kept_sources": {k: len(v) for k, v in keep.items()},
                      "held_out_sources": {k: len(v) for k, v in held.items()},
                      "dropped_exact_or_duplicate": exact, "dropped_homologs": len(dropped),
                      "identity": args.identity, "corpus_sequences": len(corpus),
                      "corpus_residues": sum(map(len, corpus)), "out": str(args.out)}, indent=2))


if __name__ == "__main__":
    main()
