"""Regenerate the small samples shipped in src/biolens/data from ../shared/data.

Samples are seeded random subsets of public datasets, copied unchanged (rows/records are
selected, never edited), with the source's licence beside them. Run from the repo root:

    python scripts/make_samples.py [--shared ../shared/data]

The EC sample's split lists (``nrPDB-EC_sample_{train,valid,test}.txt``) are homology-aware:
they need biolens importable (``PYTHONPATH=src``) and MMseqs2 (``apt-get install mmseqs2``).

``--standard`` writes only the benchmark's default suite (``src/biolens/data/proteins/standard/``):
larger seeded subsets whose test sets hold about 1,000 proteins where the source allows, with
homology-aware splits (MMseqs2 at 30% identity) where the dataset has no official split.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import shutil
from pathlib import Path

import numpy as np

OUT = Path("src/biolens/data")


def solubility(shared: Path, n: int = 400, seed: int = 0) -> None:
    src = shared / "proteins/solubility/deepsol_val.csv"
    with src.open() as fh:
        rows = list(csv.DictReader(fh))
    picked = sorted(random.Random(seed).sample(range(len(rows)), n))
    dst = OUT / "proteins/solubility.csv"
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["sequences", "labels"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[i] for i in picked)
    shutil.copy(shared / "proteins/solubility/LICENSE", OUT / "proteins/LICENSE-DeepSol")


def ogbl_ddi(shared: Path, n: int = 400, seed: int = 0) -> None:
    """A random ``n``-node induced subgraph of ogbl-ddi in the OGB layout, nodes renumbered in
    increasing original index; valid positives/negatives are the real valid split's pairs whose
    two drugs are both kept. Also writes valid.pt as OGB does (torch.save, legacy format)."""
    src = shared / "graphs/ogbl_ddi"
    dst = OUT / "graphs/ogbl_ddi_sample"
    shutil.rmtree(dst, ignore_errors=True)
    with gzip.open(src / "raw/num-node-list.csv.gz", "rt") as fh:
        total = int(fh.read().split()[0])
    keep = np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
    new_id = np.full(total, -1, dtype=np.int64)
    new_id[keep] = np.arange(n)

    def remap(pairs: np.ndarray) -> np.ndarray:
        mapped = new_id[pairs]
        return mapped[(mapped >= 0).all(1)]

    with gzip.open(src / "raw/edge.csv.gz", "rt") as fh:
        edges = remap(np.loadtxt(fh, delimiter=",", dtype=np.int64))
    (dst / "raw").mkdir(parents=True)
    with gzip.GzipFile(dst / "raw/edge.csv.gz", "wb", mtime=0) as fh:
        fh.write("".join(f"{u},{v}\n" for u, v in edges).encode())
    for name, value in (("num-node-list", n), ("num-edge-list", len(edges))):
        with gzip.GzipFile(dst / f"raw/{name}.csv.gz", "wb", mtime=0) as fh:
            fh.write(f"{value}\n".encode())
    with gzip.open(src / "mapping/nodeidx2drugid.csv.gz", "rt") as fh:
        rows = list(csv.reader(fh))
    (dst / "mapping").mkdir()
    with gzip.GzipFile(dst / "mapping/nodeidx2drugid.csv.gz", "wb", mtime=0) as fh:
        fh.write((",".join(rows[0]) + "\n" + "".join(f"{i},{rows[1 + old][1]}\n" for i, old in enumerate(keep))).encode())
    with np.load(src / "split/target/valid.npz", allow_pickle=False) as z:
        valid = {"edge": remap(z["edge"]), "edge_neg": remap(z["edge_neg"])}
    (dst / "split/target").mkdir(parents=True)
    np.savez_compressed(dst / "split/target/valid.npz", **valid)
    try:
        import torch
    except ImportError:
        print("torch is not installed: valid.pt not written")
    else:
        torch.save(valid, dst / "split/target/valid.pt", _use_new_zipfile_serialization=False)
    print(f"ogbl_ddi_sample: {n} nodes, {len(edges)} edges, {len(valid['edge'])} valid positives, "
          f"{len(valid['edge_neg'])} valid negatives")


def _fasta_blocks(path: Path) -> list[list[str]]:
    """Records of a FASTA file as their original lines (header + wrapped sequence lines)."""
    blocks: list[list[str]] = []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def deeploc(shared: Path, n_each: int = 150, seed: int = 0) -> None:
    """DeepLoc records as published: n_each from the validation file and n_each from the test file."""
    src = shared / "proteins/localization"
    rng = random.Random(seed)
    out = []
    for name in ("deeploc_val.fasta", "deeploc_test.fasta"):
        blocks = _fasta_blocks(src / name)
        out += [blocks[i] for i in sorted(rng.sample(range(len(blocks)), n_each))]
    (OUT / "proteins/deeploc.fasta").write_text("".join("\n".join(b) + "\n" for b in out))
    shutil.copy(src / "LICENSE", OUT / "proteins/LICENSE-DeepLoc")


def enzyme(shared: Path, n: int = 300, seed: int = 0) -> None:
    """DeepFRI EC: n test chains with their sequences and annotation rows (header kept whole)."""
    src = shared / "proteins/enzyme"
    dst = OUT / "proteins/enzyme"
    dst.mkdir(parents=True, exist_ok=True)
    blocks = _fasta_blocks(src / "nrPDB-EC_2020.04_test_sequences.fasta")
    picked = [blocks[i] for i in sorted(random.Random(seed).sample(range(len(blocks)), n))]
    ids = {b[0][1:].split()[0] for b in picked}
    (dst / "nrPDB-EC_sample_sequences.fasta").write_text("".join("\n".join(b) + "\n" for b in picked))
    lines = (src / "nrPDB-EC_2020.04_annot.tsv").read_text().splitlines()
    rows = [ln for ln in lines[3:] if ln.split("\t")[0] in ids]
    (dst / "nrPDB-EC_sample_annot.tsv").write_text("\n".join(lines[:3] + rows) + "\n")
    shutil.copy(src / "LICENSE", dst / "LICENSE-DeepFRI")


def enzyme_split(seed: int = 0) -> None:
    """Split lists beside the EC sample, read by the enzyme loader as the dataset's own split:
    MMseqs2 clusters at 30% identity (80% coverage), whole clusters in one split (60/10/30)."""
    from biolens.proteins.supervised import SplitConfig, make_split
    from biolens.proteins.tasks import load_task

    dst = OUT / "proteins/enzyme"
    for part in ("train", "valid", "test"):
        (dst / f"nrPDB-EC_sample_{part}.txt").unlink(missing_ok=True)
    data = load_task("enzyme", dst / "nrPDB-EC_sample_sequences.fasta")
    split = make_split(data, SplitConfig(method="homology", identity=0.3, coverage=0.8, valid_fraction=0.1,
                                         test_fraction=0.3, seed=seed))
    for part in ("train", "valid", "test"):
        ids = [i for i, s in zip(split.ids, split.assign, strict=True) if s == part]
        (dst / f"nrPDB-EC_sample_{part}.txt").write_text("\n".join(ids) + "\n")


def gb1(shared: Path, n: int = 400, seed: int = 0) -> None:
    """FLIP GB1 three_vs_rest: n variants, rows unchanged (columns sequence,target,set,validation)."""
    with gzip.open(shared / "proteins/flip/gb1/three_vs_rest.csv.gz", "rt") as fh:
        lines = fh.read().splitlines()
    picked = sorted(random.Random(seed).sample(range(1, len(lines)), n))
    (OUT / "proteins/gb1_three_vs_rest.csv").write_text("\n".join([lines[0]] + [lines[i] for i in picked]) + "\n")
    shutil.copy(shared / "proteins/flip/LICENSE", OUT / "proteins/LICENSE-FLIP")


def secondary_structure(shared: Path, counts=(("train", 70), ("valid", 15), ("test", 15)), seed: int = 0,
                        dst: Path = OUT / "proteins/secondary_structure") -> None:
    """FLIP secondary structure: proteins from each set, with their labels and masks."""
    src = shared / "proteins/flip/secondary_structure"
    dst.mkdir(parents=True, exist_ok=True)
    labels = _fasta_blocks(src / "sampled.fasta")

    def group(header: str) -> str:
        return "valid" if "VALIDATION=True" in header else ("test" if "SET=test" in header else "train")

    rng = random.Random(seed)
    ids = set()
    for name, k in counts:
        members = [b[0][1:].split()[0] for b in labels if group(b[0]) == name]
        ids |= set(rng.sample(members, k))
    for name in ("sequences.fasta", "sampled.fasta", "mask.fasta"):
        blocks = [b for b in _fasta_blocks(src / name) if b[0][1:].split()[0] in ids]
        (dst / name).write_text("".join("\n".join(b) + "\n" for b in blocks))
    shutil.copy(shared / "proteins/flip/LICENSE", dst / "LICENSE-FLIP")


def _deepbind_rows(path: Path, n: int, seed: int, balanced: bool) -> tuple[str, list[str]]:
    with gzip.open(path, "rt") as fh:
        header, *rows = fh.read().splitlines()
    rng = random.Random(seed)
    if balanced:  # half bound, half unbound, each in file order
        pos = [i for i, r in enumerate(rows) if r.endswith("\t1")]
        neg = [i for i, r in enumerate(rows) if r.endswith("\t0")]
        picked = sorted(rng.sample(pos, n // 2) + rng.sample(neg, n // 2))
    else:
        picked = sorted(rng.sample(range(len(rows)), n))
    return header, [rows[i] for i in picked]


def dna(shared: Path, seed: int = 0) -> None:
    """CTCFL (DeepBind ENCODE) training positives and test rows, and CTCF test rows (lab-rasool/TFBS)."""
    src = shared / "dna/tf_binding"
    ctcfl_ac = next((src / "deepbind_encode").glob("CTCFL_*_AC.seq.gz"))
    ctcfl_b = next((src / "deepbind_encode").glob("CTCFL_*_B.seq.gz"))
    picks = [
        (ctcfl_ac, 600, False, "CTCFL_K562_HudsonAlpha_AC_sample.seq.gz"),
        (ctcfl_b, 200, True, "CTCFL_K562_HudsonAlpha_B_sample.seq.gz"),
        (src / "CTCF_NH-A_CTCF_Broad_B.seq.gz", 200, True, "CTCF_NH-A_Broad_B_sample.seq.gz"),
    ]
    (OUT / "dna").mkdir(parents=True, exist_ok=True)
    for path, n, balanced, name in picks:
        header, rows = _deepbind_rows(path, n, seed, balanced)
        with gzip.GzipFile(OUT / "dna" / name, "wb", mtime=0) as fh:
            fh.write(("\n".join([header, *rows]) + "\n").encode())
    shutil.copy(src / "LICENSE-lab-rasool-TFBS", OUT / "dna/LICENSE-lab-rasool-TFBS")


PROVENANCE = """\
# sample:structures

Copied byte for byte by `scripts/make_samples.py` (seed 0, files of at most 25 kB):

- `bm5/`: unbound PDB files of the protein docking benchmark 5, from haddocking/BM5-clean
  (Apache-2.0, `bm5/LICENSE`).
- `cath/`: whole PDB entries in mmCIF, as collected by zibaee-2021/MSc_2024_project for CATH
  single-domain chains; `chains.lst` keeps their lines of its `pdbchains_565.lst` (the chain to
  take). The coordinates are Protein Data Bank archive files, released under CC0 1.0 by the wwPDB.
"""


def structures(shared: Path, per_source: int = 4, max_bytes: int = 25_000, seed: int = 0) -> None:
    """A few small files from each structure source, copied byte for byte; the CATH part keeps
    the chosen entries' lines of its chain list (a `.lst` file, read by the folder rules)."""
    src = shared / "structures"
    dst = OUT / "structure"
    shutil.rmtree(dst, ignore_errors=True)
    rng = random.Random(seed)
    bm5 = sorted(p for p in (src / "bm5_unbound").glob("*.pdb.gz") if p.stat().st_size <= max_bytes)
    (dst / "bm5").mkdir(parents=True)
    for path in sorted(rng.sample(bm5, per_source)):
        shutil.copyfile(path, dst / "bm5" / path.name)
    shutil.copyfile(src / "bm5_unbound/LICENSE", dst / "bm5/LICENSE")
    listed = {line.split("_")[0]: line for line in (src / "cath_single_domain/pdbchains_565.lst").read_text().split()}
    cath = sorted(p for p in (src / "cath_single_domain").glob("*.cif.gz")
                  if p.stat().st_size <= max_bytes and p.name.split(".")[0] in listed)
    (dst / "cath").mkdir(parents=True)
    picked = sorted(rng.sample(cath, per_source))
    for path in picked:
        shutil.copyfile(path, dst / "cath" / path.name)
    lines = [listed[p.name.split(".")[0]] for p in picked]
    (dst / "cath/chains.lst").write_text("\n".join(lines) + "\n")
    (dst / "PROVENANCE.md").write_text(PROVENANCE)


def _gzip_text(path: Path, text: str) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as fh:  # byte-identical when rebuilt
        fh.write(text.encode())


def _homology_split(sequences: list[str], test: float, valid: float, seed: int) -> list[str]:
    """Whole MMseqs2 clusters (30% identity, 80% coverage) per split, seeded."""
    from biolens.proteins.supervised import SplitConfig, make_split
    from biolens.proteins.tasks import TaskData, load_task

    base = load_task("solubility", OUT / "proteins/solubility.csv")  # any task: only sequences matter here
    data = TaskData(task=base.task, ids=[f"s{i}" for i in range(len(sequences))], sequences=sequences,
                    labels=np.zeros(len(sequences), dtype=np.int64))
    split = make_split(data, SplitConfig(method="homology", identity=0.3, coverage=0.8, valid_fraction=valid,
                                         test_fraction=test, seed=seed))
    return list(split.assign)


def standard(shared: Path, seed: int = 0) -> None:
    """The default suite: DeepSol 2,700 (homology split, ~1,000 test); DeepLoc 1,200 from its
    validation file + 1,000 from its test file (DeepLoc's own split); DeepFRI EC every chain with a
    sequence (1,920; homology split, 40% test: the source's maximum); GB1 three_vs_rest all 2,990
    training variants + 1,000 of its test variants; FLIP secondary structure every test protein of its
    sampled split (364) + 900 training and 100 validation proteins. Records are selected, never edited."""
    dst = OUT / "proteins/standard"
    dst.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with (shared / "proteins/solubility/deepsol_val.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    picked = [rows[i] for i in sorted(rng.sample(range(len(rows)), 2700))]
    assign = _homology_split([r["sequences"] for r in picked], test=0.37, valid=0.07, seed=seed)
    _gzip_text(dst / "solubility.csv.gz", "sequences,labels,split\n" + "".join(
        f"{r['sequences']},{r['labels']},{a}\n" for r, a in zip(picked, assign, strict=True)))
    src = shared / "proteins/localization"
    out = []
    for name, n in (("deeploc_val.fasta", 1200), ("deeploc_test.fasta", 1000)):
        blocks = _fasta_blocks(src / name)
        out += [blocks[i] for i in sorted(rng.sample(range(len(blocks)), n))]
    _gzip_text(dst / "deeploc.fasta.gz", "".join("\n".join(b) + "\n" for b in out))
    ec_src, ec_dst = shared / "proteins/enzyme", dst / "enzyme"
    ec_dst.mkdir(exist_ok=True)
    blocks = _fasta_blocks(ec_src / "nrPDB-EC_2020.04_test_sequences.fasta")
    ids = {b[0][1:].split()[0] for b in blocks}
    lines = (ec_src / "nrPDB-EC_2020.04_annot.tsv").read_text().splitlines()
    (ec_dst / "nrPDB-EC_standard_annot.tsv").write_text("\n".join(lines[:3] + [ln for ln in lines[3:]
                                                                               if ln.split("\t")[0] in ids]) + "\n")
    (ec_dst / "nrPDB-EC_standard_sequences.fasta").write_text("".join("\n".join(b) + "\n" for b in blocks))
    for part in ("train", "valid", "test"):
        (ec_dst / f"nrPDB-EC_standard_{part}.txt").unlink(missing_ok=True)
    from biolens.proteins.tasks import load_task

    chains = load_task("enzyme", ec_dst / "nrPDB-EC_standard_sequences.fasta")
    assign = _homology_split(chains.sequences, test=0.4, valid=0.1, seed=seed)
    for part in ("train", "valid", "test"):
        chosen = [i for i, a in zip(chains.ids, assign, strict=True) if a == part]
        (ec_dst / f"nrPDB-EC_standard_{part}.txt").write_text("\n".join(chosen) + "\n")
    with gzip.open(shared / "proteins/flip/gb1/three_vs_rest.csv.gz", "rt") as fh:
        lines = fh.read().splitlines()
    train = [i for i in range(1, len(lines)) if ",train," in lines[i]]
    test = sorted(rng.sample([i for i in range(1, len(lines)) if ",test," in lines[i]], 1000))
    _gzip_text(dst / "gb1_three_vs_rest.csv.gz", "\n".join([lines[0]] + [lines[i] for i in sorted(train + test)]) + "\n")
    test = sum(1 for b in _fasta_blocks(shared / "proteins/flip/secondary_structure/sampled.fasta") if "SET=test" in b[0])
    secondary_structure(shared, counts=(("train", 900), ("valid", 100), ("test", test)), seed=seed,
                        dst=dst / "secondary_structure")
    for licence, name in (("solubility", "DeepSol"), ("localization", "DeepLoc"), ("enzyme", "DeepFRI")):
        shutil.copy(shared / f"proteins/{licence}/LICENSE", dst / f"LICENSE-{name}")
    shutil.copy(shared / "proteins/flip/LICENSE", dst / "LICENSE-FLIP")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--standard", action="store_true", help="write only the default benchmark suite's data")
    args = parser.parse_args()
    if args.standard:
        standard(args.shared)
        return
    solubility(args.shared)
    ogbl_ddi(args.shared)
    deeploc(args.shared)
    enzyme(args.shared)
    enzyme_split()
    gb1(args.shared)
    secondary_structure(args.shared)
    dna(args.shared)
    structures(args.shared)


if __name__ == "__main__":
    main()
