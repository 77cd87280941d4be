import shutil

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.data import sample_path
from biolens.proteins.supervised import SplitConfig, make_split, read_split
from biolens.proteins.tasks import load_task


def test_random_split_is_seeded_and_sized(tmp_path):
    d = load_task("solubility", sample_path("solubility"))
    a = make_split(d, SplitConfig(method="random", seed=3))
    b = make_split(d, SplitConfig(method="random", seed=3))
    c = make_split(d, SplitConfig(method="random", seed=4))
    assert (a.assign == b.assign).all() and not (a.assign == c.assign).all()
    assert a.counts() == {"train": 280, "valid": 40, "test": 80}
    a.save(tmp_path / "split.csv")
    back = read_split(tmp_path / "split.csv", d.ids)
    assert (back.assign == a.assign).all()
    with pytest.raises(InputError, match="does not cover the same records"):
        read_split(tmp_path / "split.csv", d.ids[:-1])


def test_dataset_split_is_used_and_validation_carved():
    d = load_task("localization", sample_path("deeploc"))  # train/test only
    s = make_split(d, SplitConfig())
    assert s.method == "dataset" and (s.assign[d.splits == "test"] == "test").all()
    assert s.counts()["valid"] == round(0.1 * (d.splits == "train").sum())
    ss = load_task("secondary-structure", sample_path("secondary-structure"))
    assert (make_split(ss, SplitConfig()).assign == ss.splits).all()


def test_empty_split_is_an_error():
    d = load_task("solubility", sample_path("solubility")).subset(range(3))
    with pytest.raises(InputError, match=r"the valid split is empty"):
        make_split(d, SplitConfig(method="random", valid_fraction=0.0, test_fraction=0.34))
    with pytest.raises(InputError, match="has no split of its own"):
        make_split(d, SplitConfig(method="dataset"))


@pytest.mark.skipif(shutil.which("mmseqs") is None, reason="MMseqs2 not installed (apt-get install mmseqs2)")
def test_homology_split_keeps_relatives_together():
    d = load_task("solubility", sample_path("solubility")).subset(range(60))
    rng = np.random.default_rng(0)
    # add a close relative (3 substitutions) of each of the first 20 proteins
    relatives = []
    for s in d.sequences[:20]:
        pos = rng.choice(len(s), 3, replace=False)
        relatives.append("".join("A" if i in pos and c != "A" else ("G" if i in pos else c) for i, c in enumerate(s)))
    from dataclasses import replace

    d = replace(d, ids=d.ids + [f"rel{i}" for i in range(20)], sequences=d.sequences + relatives,
                labels=np.concatenate([d.labels, d.labels[:20]]))
    s = make_split(d, SplitConfig(method="homology", identity=0.5, seed=1))
    assert s.method == "homology" and s.clusters is not None
    for i in range(20):
        assert s.assign[i] == s.assign[60 + i] and s.clusters[i] == s.clusters[60 + i]
    # no test protein shares a cluster with a training protein
    train_clusters = set(s.clusters[s.assign == "train"])
    assert not train_clusters & set(s.clusters[s.assign == "test"])
