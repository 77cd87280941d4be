"""Issue 20, finding 7: Hugging Face model ids are encoder names (ESM2, ESM C, ProtT5), resolved to local
weights as the registry names are; an unknown org/name id lists the ids known."""

import pytest

from biolens.cli import main
from biolens.core.errors import InputError, MissingWeightsError
from biolens.proteins.encoders import (
    ENCODERS,
    HF_IDS,
    canonical_name,
    get_encoder,
    hf_aliases,
)

ESM2 = {"facebook/esm2_t6_8M_UR50D": "esm2-8m", "facebook/esm2_t12_35M_UR50D": "esm2-35m",
        "facebook/esm2_t30_150M_UR50D": "esm2-150m", "facebook/esm2_t33_650M_UR50D": "esm2-650m",
        "facebook/esm2_t36_3B_UR50D": "esm2-3b"}
OTHERS = {"Rostlab/prot_t5_xl_uniref50": "prott5-xl", "Rostlab/prot_t5_xl_half_uniref50-enc": "prott5-xl",
          "EvolutionaryScale/esmc-300m-2024-12": "esmc-300m", "EvolutionaryScale/esmc-600m-2024-12": "esmc-600m"}


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    """No weights anywhere and no network: an empty weights folder and Hugging Face cache, hub offline."""
    monkeypatch.setenv("BIOLENS_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_each_field_id_names_its_registry_entry():
    assert {**ESM2, **OTHERS}.items() <= HF_IDS.items()
    for hf_id, name in {**ESM2, **OTHERS}.items():
        assert canonical_name(hf_id) == canonical_name(hf_id.upper()) == name and hf_id in hf_aliases(name)
        assert ENCODERS[name].width is not None


@pytest.mark.parametrize("hf_id", ["facebook/esm2_t12_35M_UR50D", "EvolutionaryScale/esmc-600m-2024-12",
                                   "Rostlab/prot_t5_xl_uniref50"])
def test_an_id_without_local_weights_reaches_its_family_and_says_how_to_get_them(no_weights, hf_id):
    with pytest.raises(MissingWeightsError) as caught:
        get_encoder(hf_id)
    assert OTHERS.get(hf_id, ESM2.get(hf_id)) in str(caught.value) and "unknown encoder" not in str(caught.value)


def test_the_full_prott5_checkpoint_found_locally_is_used(no_weights):
    from biolens.proteins.encoders import prott5

    full = no_weights / "weights" / "prot_t5_xl_uniref50"
    full.mkdir(parents=True)
    (full / "config.json").write_text("{}")
    assert prott5.find_weights("prott5-xl", download=False) == full
    half = no_weights / "weights" / "prot_t5_xl_half_uniref50-enc"
    half.mkdir()
    (half / "config.json").write_text("{}")
    assert prott5.find_weights("prott5-xl", download=False) == half  # the -enc model first, as documented


def test_an_unknown_org_name_id_lists_the_known_ids():
    with pytest.raises(InputError) as caught:
        get_encoder("facebook/esm1b_t33_650M_UR50S")
    text = str(caught.value)
    assert "unknown encoder 'facebook/esm1b_t33_650M_UR50S'" in text and "esm2-8m" in text
    assert all(hf_id in text for hf_id in HF_IDS) and "esm2:DIR" in text
    with pytest.raises(InputError) as plain:
        get_encoder("esm3")
    assert "Hugging Face ids" not in str(plain.value)


def test_encoders_command_lists_the_aliases(no_weights, capsys, monkeypatch):
    from biolens.cli import _common

    # the console's width is fixed when biolens.cli is first imported: widen the console itself
    monkeypatch.setattr(_common.console, "width", 400)
    assert main(["encoders"]) == 0
    out = capsys.readouterr().out
    for hf_id in HF_IDS:
        assert hf_id in out, hf_id
