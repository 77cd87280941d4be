"""One structure run of the ``tiny`` preset on the shipped sample, trained through the Python API
and shared by the tests of this folder (they copy it before changing anything in it)."""

import pytest


@pytest.fixture(scope="session")
def structure_run(tmp_path_factory):
    """``(run folder, the StructureResult train_structure_model returned)``."""
    pytest.importorskip("gemmi")
    pytest.importorskip("mini3di")
    from biolens.structure import PRESETS, train_structure_model

    out = tmp_path_factory.mktemp("structure") / "run"
    return out, train_structure_model("sample:structures", out, PRESETS["tiny"])
