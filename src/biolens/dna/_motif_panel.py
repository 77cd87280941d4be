"""Does a trained model look at a known motif? Its top ISM windows against a panel of motifs.

A model scoring 0.6-0.8 auROC on a factor that binds DNA indirectly (a co-factor, a Polycomb
component, an RNA-binding protein) has usually learnt sequence *context* (GC content, CpG,
promoter-like composition), not a motif. :func:`motif_panel_check` makes that visible: for the
``k`` test positives the model is most sure of, it takes the window of ``width`` bp where in-silico
mutagenesis says the prediction depends most, and counts how many of those windows hold a
near-consensus match (relative log-odds >= ``threshold``, either strand; 0.85 asks for about
the exact consensus of a 6 bp motif, one mismatch in 7-10 bp, three in the 21 bp RE1) of each panel motif,
against the same count in random, equally wide windows of the same sequences (a motif the
positives carry but the model ignores is as frequent there). A motif is *found* when it is in at
least ``min_fraction`` of the top windows and at least ``enrichment`` times as often as in the
random ones. No motif found -> the verdict says so: read such a
model's score as binding context, not as a motif finding.

The panel is IUPAC consensus sequences of common DNA-binding families, as listed by JASPAR 2022
(Castro-Mondragon et al., Nucleic Acids Res. 2022; CC BY 4.0; the matrix id is given per
motif), plus the JASPAR MA0139.1 CTCF count matrix. It is a screen, not a motif database: a
factor whose own motif is missing from the panel is reported as "no known motif".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MOTIF_PANEL", "motif_check_arrays", "motif_check_model", "motif_check_run", "motif_panel_check"]

#: name -> (IUPAC consensus, JASPAR matrix it condenses)
MOTIF_PANEL: dict[str, tuple[str, str]] = {
    "ETS (ELK1/GABPA/ELF1)": ("CCGGAAGT", "MA0062.2 GABPA"),
    "E-box (MYC/MAX/USF)": ("CACGTG", "MA0093.2 USF1, MA0058.3 MAX"),
    "forkhead (FOXA)": ("TGTTTAC", "MA0148.4 FOXA1"),
    "RE1 (REST)": ("TTCAGCACCATGGACAGCGCC", "MA0138.2 REST"),
    "GC-box (SP/KLF)": ("GGGGCGGGGC", "MA0079.3 SP1"),
    "AP-1 (FOS/JUN)": ("TGASTCA", "MA0099.3 FOS::JUN"),
    "CRE (CREB/ATF)": ("TGACGTCA", "MA0018.3 CREB1"),
    "GATA": ("WGATAR", "MA0035.4 GATA1"),
    "NRF1": ("GCGCATGCGC", "MA0506.1 NRF1"),
    "YY1": ("AAGATGGCGGC", "MA0095.2 YY1"),
    "CCAAT (NFY)": ("RRCCAATSR", "MA0060.3 NFYA"),
    "CEBP": ("TTGCGCAA", "MA0466.2 CEBPB"),
    "HNF4": ("CAAAGKYCA", "MA0114.4 HNF4A"),
    "RUNX": ("TGTGGTTT", "MA0002.2 RUNX1"),
    "TEAD": ("ACATTCCA", "MA0090.3 TEAD1"),
    "EGR": ("GCGTGGGCG", "MA0162.4 EGR1"),
    "STAT": ("TTCCNGGAA", "MA0144.2 STAT3"),
    "NF-kB": ("GGGRNTTTCC", "MA0107.1 RELA"),
    "p53": ("RRRCATGYYYRRRCATGYYY", "MA0106.3 TP53"),
    "E2F": ("TTTSGCGC", "MA0024.3 E2F1"),
    "octamer (POU)": ("ATGCAAAT", "MA1115.1 POU5F1"),
    "CArG (SRF)": ("CCWWWWWWGG", "MA0083.3 SRF"),
    "MEF2": ("CTAWWWWTAG", "MA0052.4 MEF2A"),
    "TATA box": ("TATAWAWR", "MA0108.2 TBP"),
}


def _motifs():
    from ..interpret import CTCF_MOTIF, motif_from_consensus

    return [CTCF_MOTIF] + [motif_from_consensus(name, consensus) for name, (consensus, _) in MOTIF_PANEL.items()]


def _best_relative(motif, windows: np.ndarray) -> np.ndarray:
    """Best relative log-odds score (0 worst, 1 consensus) of ``motif`` in each window, either strand."""
    from ..interpret import scan_scores

    lo = motif.log_odds()
    low, high = lo.min(1).sum(), lo.max(1).sum()
    return (scan_scores(motif, windows).max(axis=(1, 2)) - low) / (high - low)


def motif_panel_check(predict, x_pos: np.ndarray, *, width: int = 24, threshold: float = 0.85,
                      min_fraction: float = 0.2, enrichment: float = 2.0, n_background: int = 8,
                      batch_size: int = 1024, seed: int = 0) -> dict[str, Any]:
    """Panel motifs in the top-ISM window of each of ``x_pos`` vs random windows of the same sequences.

    ``predict(x: (B, L, 4)) -> (B,)`` (a logit); ``x_pos`` the positives to explain. The background
    is ``n_background`` random windows of the same width per sequence: a motif the positives carry
    anywhere but the model does not look at is as frequent there as in the top windows. Returns
    per-motif rates, the motifs found and a one-line ``verdict``."""
    from ..interpret import important_window, ism_importance, saturation_mutagenesis

    x_pos = np.asarray(x_pos, np.float32)
    length = x_pos.shape[1]
    width = min(width, length)
    importance = ism_importance(saturation_mutagenesis(predict, x_pos, batch_size=batch_size), x_pos)
    starts = [important_window(imp, width)[0] for imp in importance]
    top = np.stack([x[s : s + width] for x, s in zip(x_pos, starts, strict=True)])
    rng = np.random.default_rng(seed)
    bg_starts = rng.integers(0, length - width + 1, (len(x_pos), n_background))
    background = np.stack([x[s : s + width] for x, row in zip(x_pos, bg_starts, strict=True) for s in row])
    rates = {}
    for motif in _motifs():
        if motif.width > width:
            continue
        in_top = float(np.mean(_best_relative(motif, top) >= threshold))
        in_bg = float(np.mean(_best_relative(motif, background) >= threshold))
        rates[motif.name] = {"top_windows": in_top, "random_windows": in_bg}
    found = sorted((name for name, r in rates.items()
                    if r["top_windows"] >= min_fraction and r["top_windows"] >= enrichment * max(r["random_windows"], 0.01)),
                   key=lambda n: -rates[n]["top_windows"])
    if found:
        best = rates[found[0]]
        verdict = (f"motif found: {found[0]} in {best['top_windows']:.0%} of the top ISM windows of {len(x_pos)} "
                   f"confident positives (vs {best['random_windows']:.0%} of random windows of the same sequences)"
                   + (f"; also {', '.join(found[1:])}" if len(found) > 1 else ""))
    else:
        verdict = (f"NO KNOWN MOTIF: the top ISM windows of {len(x_pos)} confident positives match none of the "
                   f"{len(rates)} panel motifs above background; the model scores sequence context, "
                   "not a known motif (read its auROC as context, not as a motif finding)")
    return {"found": found, "verdict": verdict, "rates": rates, "width": width, "threshold": threshold,
            "n_positives": len(x_pos), "n_background": len(background)}


def motif_check_model(trained, data, *, k: int = 32, **kwargs) -> dict[str, Any]:
    """:func:`motif_panel_check` of a single-task model (a :class:`~biolens.dna.TrainedModel`) on the
    ``k`` positives of ``data`` (a :class:`~biolens.dna.TFData`; all records when it has no labels)
    that it scores highest."""
    from ._encoding import one_hot

    x = one_hot(data.sequences, ids=data.ids, source=data.source)
    labels = np.ones(len(data)) if data.labels is None else np.asarray(data.labels)
    return motif_check_arrays(trained, x[labels == 1], k=k, **kwargs)


def motif_check_arrays(trained, x_pos: np.ndarray, *, k: int = 32, **kwargs) -> dict[str, Any]:
    """:func:`motif_panel_check` of a single-task model on the ``k`` of the one-hot positives
    ``x_pos`` ``(N, L, 4)`` that it scores highest."""
    import jax

    from ._train import make_predict, predict_proba

    prob = predict_proba(trained.model, trained.state, x_pos)[:, 0]
    chosen = np.argsort(-prob, kind="stable")[:k]
    full = jax.jit(make_predict(trained.model, trained.state, output="logit"))
    return motif_panel_check(lambda b: full(b)[:, 0], x_pos[chosen], **kwargs)


def motif_check_run(run: str | Path, test_file: str | Path, **kwargs) -> dict[str, Any]:
    """:func:`motif_check_model` of a run folder on a file."""
    from ._data import read_tf_data
    from ._train import load_model

    return motif_check_model(load_model(run), read_tf_data(test_file), **kwargs)
