"""Language models, measured: held-out masked-residue accuracy / perplexity, and GB1 zero-shot Spearman.

* Held out: each masked LM on FASTA files it never trained on (BERT masking drawn with a fixed
  seed; proteins cut to their first ``--crop`` residues), beside two references: the
  perplexity of guessing the corpus's amino-acid frequencies (unigram) and UniRep's
  next-residue perplexity (autoregressive: not the same task, shown for scale).
* GB1 (FLIP, Olson et al. 2014): every variant scored zero-shot against the wild type --
  masked-marginal and wt-marginal for masked LMs, log-likelihood ratio for UniRep -- and the
  Spearman correlation with the measured fitness. The wild type is derived from the file: the
  one variant carrying V39, D40, G41 and V54 (the four sites FLIP's GB1 variants change); the
  script checks that every other variant differs from it only at those sites.

    python benchmarks/lm_zero_shot.py --mlm mlm:small --heldout runs/mlm-small/valid.fasta \\
        --heldout ../shared/data/proteins/localization/deeploc_test.fasta \\
        --gb1 ../shared/data/proteins/flip/gb1/three_vs_rest.csv.gz --unirep unirep-64

Prints one JSON object (timings in CPU seconds of this process).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from biolens.core.alphabets import PROTEIN
from biolens.core.seqio import load_sequences
from biolens.data import resolve_input
from biolens.proteins.lm import (
    AMINO_ACIDS,
    evaluate_mlm,
    language_model,
    mutations_from_sequence,
    score_variants,
)
from biolens.proteins.tasks import load_task

GB1_SITES = {39: "V", 40: "D", 41: "G", 54: "V"}  # 1-based wild-type residues at FLIP's four sites


def _standard(path: str, limit: int | None) -> list[str]:
    records, _ = load_sequences(resolve_input(path), PROTEIN, on_invalid="skip")
    seqs = [r.sequence for r in records if set(r.sequence) <= set(AMINO_ACIDS)]
    return seqs[:limit] if limit else seqs


def unigram_perplexity(train: list[str], test: list[str], crop: int) -> float:
    counts = Counter("".join(train))
    total = sum(counts.values())
    logp = {a: math.log(counts[a] / total) for a in counts}
    letters = "".join(s[:crop] for s in test)
    return math.exp(-sum(logp[c] for c in letters) / len(letters))


def heldout(args) -> dict:
    out = {}
    corpus = _standard(args.corpus, None) if args.corpus else None
    unirep = language_model(args.unirep) if args.unirep else None
    for path in args.heldout:
        seqs = _standard(path, args.limit)
        row = {"sequences": len(seqs), "residues_scored_upto": sum(min(len(s), args.crop) for s in seqs)}
        for name in args.mlm:
            t0 = time.process_time()
            lm = language_model(name)
            row[name] = {**evaluate_mlm(lm.model, seqs, crop=args.crop, seed=0), "cpu_s": time.process_time() - t0}
        if corpus:
            row["unigram_perplexity"] = unigram_perplexity(corpus, seqs, args.crop)
        if unirep is not None:
            t0 = time.process_time()
            few = [s[: args.crop] for s in seqs[: args.unirep_limit]]
            ll = unirep.log_likelihoods(few)
            row[f"{args.unirep}_next_residue_perplexity"] = {
                "perplexity": float(np.exp(-ll.sum() / sum(map(len, few)))), "sequences": len(few),
                "cpu_s": time.process_time() - t0}
        out[path] = row
    return out


def gb1_wild_type(sequences: list[str]) -> str:
    """Any variant with its four sites set to V39 D40 G41 V54 (GB1's wild-type residues); every
    variant must then differ from it only at those sites."""
    first = list(sequences[0])
    for p, a in GB1_SITES.items():
        first[p - 1] = a
    wt = "".join(first)
    others = {m.position + 1 for s in sequences for m in mutations_from_sequence(s, wt)}
    if not others <= set(GB1_SITES):
        raise SystemExit(f"variants differ from the wild type at {sorted(others - set(GB1_SITES))}")
    return wt


def gb1(args) -> dict:
    data = load_task("gb1", resolve_input(args.gb1))
    seqs, fitness = data.sequences, np.asarray(data.labels, float)
    wt = gb1_wild_type(seqs)
    variants = [mutations_from_sequence(s, wt) for s in seqs]
    out = {"file": args.gb1, "variants": len(seqs), "wild_type_length": len(wt),
           "wild_type_in_file": wt in seqs,
           "wild_type_fitness": float(fitness[seqs.index(wt)]) if wt in seqs else None,
           "sites": [f"{a}{p}" for p, a in GB1_SITES.items()], "spearman": {}}
    for name in args.mlm + ([args.unirep] if args.unirep else []):
        lm = language_model(name)
        for method in (["masked-marginal", "wt-marginal"] if lm.kind == "masked" else ["llr"]):
            t0 = time.process_time()
            scores = score_variants(lm, wt, variants, method)
            rho = spearmanr(scores, fitness).statistic
            out["spearman"][f"{name} {method}"] = {"rho": float(rho), "cpu_s": time.process_time() - t0}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mlm", nargs="*", default=["mlm:small"], help="masked LMs (mlm:RUN, esm2:DIR, esm2-8m...)")
    ap.add_argument("--unirep", default=None, help="an autoregressive reference (unirep-64)")
    ap.add_argument("--heldout", nargs="*", default=[], help="FASTA/CSV files no model trained on")
    ap.add_argument("--corpus", default=None, help="the pretraining corpus (for the unigram reference)")
    ap.add_argument("--crop", type=int, default=1022)
    ap.add_argument("--limit", type=int, default=None, help="at most this many held-out sequences per file")
    ap.add_argument("--unirep-limit", type=int, default=300)
    ap.add_argument("--gb1", default="sample:gb1")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    t0 = time.process_time()
    result = {"heldout": heldout(args), "gb1": gb1(args) if args.gb1 else None}
    result["cpu_s_total"] = time.process_time() - t0
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
