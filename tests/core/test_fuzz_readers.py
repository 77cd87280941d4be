"""Property-based fuzzing of every reader (issue 14): random bytes, and valid files mutated byte by
byte (flips, inserts of random bytes or of tokens that matter to parsers, deletions, truncations,
duplicated spans), must give a valid result or a :class:`~biolens.core.errors.BiolensError` --
never another exception type (a traceback at the CLI).

Bounded and deterministic: ``derandomize=True`` (the same examples every run), ``EXAMPLES`` per
reader, no deadline. Each seed is a small real file (slices of the shipped samples or a file the
library itself writes), so mutations reach deep into the parsers rather than failing at byte 0.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biolens.core.errors import BiolensError
from pt_files import dict_pickle, tensor, zip_bytes

EXAMPLES = int(os.environ.get("BIOLENS_FUZZ_EXAMPLES", "60"))  # CI: 60 per reader; more for a local hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SAMPLES = Path(__file__).resolve().parents[2] / "src" / "biolens" / "data"
DATA = Path(__file__).resolve().parents[1] / "data"

# bytes that mean something to one of the parsers (separators, headers, non-ASCII, NaN, huge numbers)
TOKENS = [b",", b"\t", b"\n", b"\r\n", b">", b'"', b"\x00", b"\xff\xfe", "ſ".encode(), "ﬁ".encode(), b"nan",
          b"inf", b"-1", b"99999999999999999999", b"1e309", b"ATOM  ", b"END", b"loop_", b"_atom_site.",
          b"{", b"}", b"[", b"]", b"PK\x03\x04", b"\x80\x02", b"\x93NUMPY", b"|", b"*", b" "]


def _apply(seed: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for kind, where, blob in ops:
        at = where % (len(data) + 1)
        if kind == "flip" and data:
            data[at % len(data)] ^= blob[0] or 1
        elif kind == "insert":
            data[at:at] = blob
        elif kind == "delete":
            del data[at : at + len(blob) * 4]
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            data[at:at] = data[at : at + len(blob) * 8]
    return bytes(data)


_OPS = st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]), st.integers(0, 1 << 20),
              st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(TOKENS))),
    min_size=1, max_size=6,
)


def variants(seed: bytes, *, gzipped: bool = False) -> st.SearchStrategy[bytes]:
    """Mutations of ``seed`` (its text before gzip when ``gzipped``, sometimes the gzip bytes
    themselves), or short random bytes."""
    text = _OPS.map(lambda ops: _apply(seed, ops))
    if gzipped:
        packed = gzip.compress(seed, mtime=0)
        raw = _OPS.map(lambda ops: _apply(packed, ops))
        return st.one_of(text.map(lambda b: gzip.compress(b, mtime=0)), raw, st.binary(max_size=64))
    return st.one_of(text, st.binary(max_size=256))


def check(read: Callable[[Path], object], path: Path, data: bytes) -> None:
    """``read(path)`` after writing ``data`` there: a result or a BiolensError, nothing else."""
    path.write_bytes(data)
    try:
        read(path)
    except BiolensError:
        pass


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- sequence files -----------------------------------------------------------------------------

FASTA = b">sp|P1 first protein\nMKTAYIAKQRQISFVKSHFSRQ\nLEERLGLIEVQ\n>p2\nmkvlaagivg*\n>p3 x=1\nMSTNPKPQRK\n"
CSV = b"".join((SAMPLES / "proteins" / "solubility.csv").read_bytes().splitlines(keepends=True)[:6])
DEEPBIND = b"".join(gzip.open(SAMPLES / "dna" / "CTCFL_K562_HudsonAlpha_B_sample.seq.gz").readlines()[:8])


@FUZZ
@given(variants(FASTA))
def test_fuzz_fasta(work, data):
    from biolens.core.alphabets import PROTEIN
    from biolens.core.seqio import load_sequences

    check(lambda p: load_sequences(p, PROTEIN, on_invalid="error"), work / "in.fasta", data)


@FUZZ
@given(variants(FASTA, gzipped=True))
def test_fuzz_fasta_gz(work, data):
    from biolens.core.seqio import read_sequences

    check(read_sequences, work / "in.fasta.gz", data)


@FUZZ
@given(variants(CSV))
def test_fuzz_csv_task_file(work, data):
    from biolens.proteins.tasks import load_task

    check(lambda p: load_task("auto", p), work / "task.csv", data)
    check(lambda p: load_task("solubility", p), work / "task.csv", data)


@FUZZ
@given(variants(CSV.replace(b",", b"\t")))
def test_fuzz_tsv_sequences(work, data):
    from biolens.core.alphabets import PROTEIN
    from biolens.core.seqio import load_sequences

    check(lambda p: load_sequences(p, PROTEIN, on_invalid="skip"), work / "in.tsv", data)


@FUZZ
@given(variants(DEEPBIND, gzipped=True))
def test_fuzz_deepbind_seq_gz(work, data):
    from biolens.dna import read_tf_data

    check(read_tf_data, work / "TF_B.seq.gz", data)


# --- structures ---------------------------------------------------------------------------------

PDB = b"".join(line for line in gzip.open(SAMPLES / "structure" / "bm5" / "1CLV_l_u.pdb.gz").readlines()
               if line.startswith((b"ATOM", b"TER", b"END")))[: 81 * 48]
CIF = gzip.decompress((SAMPLES / "structure" / "cath" / "2QTI.cif.gz").read_bytes())


@FUZZ
@given(variants(PDB))
def test_fuzz_pdb(work, data):
    pytest.importorskip("gemmi")
    from biolens.structure import read_backbones

    check(read_backbones, work / "x.pdb", data)


@FUZZ
@given(variants(CIF))
def test_fuzz_mmcif(work, data):
    pytest.importorskip("gemmi")
    from biolens.structure import read_backbones

    check(read_backbones, work / "x.cif", data)


@FUZZ
@given(st.lists(st.sampled_from([*"0123456789 |\n\t-x٣", "15", "99999"]), max_size=30).map("".join))
def test_fuzz_structure_tokens(text):
    from biolens.structure import parse_tokens

    try:
        tokens, segment = parse_tokens(text, 16)
    except BiolensError:
        return
    assert tokens.max() < 16 and len(tokens) == len(segment)
    assert set(text) <= set("0123456789 |\n\t"), "a non-ASCII digit or stray letter was read as a token"


@FUZZ
@given(st.lists(st.sampled_from([*"AGKMDW0123456789:;,_- *ſﬁ", "WT", "A1G", "K3"]), max_size=12).map("".join))
def test_fuzz_mutation_codes(code):
    from biolens.proteins.mutations import parse_mutations

    try:
        parse_mutations(code, "MKTAYIAKQRQISFVKSHFSRQ")
    except BiolensError:
        pass


# --- graphs ---------------------------------------------------------------------------------------

EDGES = b"0,1\n1,2\n2,3\n3,0\n4,2\n"
NAMED = b"source,target\nDB01,DB02\nDB02,DB03\nDB03,DB01\n"


@FUZZ
@given(st.one_of(variants(EDGES), variants(NAMED)))
def test_fuzz_edge_list(work, data):
    from biolens.graphs import read_edge_list

    check(read_edge_list, work / "edges.csv", data)


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


SPLIT_NPZ = _npz(edge=np.array([[0, 1], [2, 3]]), edge_neg=np.array([[0, 4], [1, 3]]))
SPLIT_PT = zip_bytes(dict_pickle({"edge": tensor((2, 2), (2, 1), key="0", numel=4),
                                  "edge_neg": tensor((2, 2), (2, 1), key="1", numel=4)}),
                     {"0": np.array([0, 1, 2, 3], np.int64).tobytes(), "1": np.array([0, 4, 1, 3], np.int64).tobytes()})


@FUZZ
@given(variants(SPLIT_NPZ))
def test_fuzz_split_npz(work, data):
    from biolens.graphs import read_split

    check(lambda p: read_split(p, 5), work / "valid.npz", data)


@FUZZ
@given(variants(SPLIT_PT))
def test_fuzz_pt_file(work, data):
    from biolens.core.ptfile import read_pt_file

    check(lambda p: read_pt_file(p, max_bytes=1 << 20), work / "valid.pt", data)


# --- arrays and weights ---------------------------------------------------------------------------

@FUZZ
@given(variants(_npz(ids=np.array(["a", "b"]), embeddings=np.ones((2, 3), np.float32))))
def test_fuzz_npz_export(work, data):
    from biolens.core.export import load_embeddings

    check(load_embeddings, work / "emb.npz", data)


@FUZZ
@given(variants((DATA / "unirep_tiny_weights.npz").read_bytes()))
def test_fuzz_npz_unirep_weights(work, data):
    from biolens.proteins.encoders.unirep import UniRepEncoder

    check(lambda p: UniRepEncoder("unirep-tiny", p), work / "model_weights.npz", data)


@pytest.fixture(scope="module")
def esm_folder(work) -> Path:
    folder = work / "esm2"
    shutil.copytree(DATA / "esm2_tiny", folder)
    return folder


@FUZZ
@given(variants((DATA / "esm2_tiny" / "model.safetensors").read_bytes()[:2048]))
def test_fuzz_safetensors_header(esm_folder, data):
    from biolens.proteins.esm2_io import load_esm2

    check(lambda p: load_esm2(p.parent), esm_folder / "model.safetensors", data)


@settings(FUZZ, max_examples=20)
@given(variants((DATA / "esm2_tiny" / "model.safetensors").read_bytes()))
def test_fuzz_safetensors_whole(esm_folder, data):
    from biolens.proteins.esm2_io import load_esm2

    check(lambda p: load_esm2(p.parent), esm_folder / "model.safetensors", data)


CONFIG = (DATA / "esm2_tiny" / "config.json").read_bytes()


@FUZZ
@given(st.one_of(variants(CONFIG), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8).map(lambda v: json.dumps(v).encode())))
def test_fuzz_json_config(work, data):
    from biolens.core.files import read_json
    from biolens.proteins.esm2_io import read_config

    folder = work / "cfg"
    folder.mkdir(exist_ok=True)
    check(read_json, folder / "config.json", data)
    check(lambda p: read_config(p.parent), folder / "config.json", data)
