"""Hugging Face model ids name the same encoders as the registry names."""

from __future__ import annotations

import pytest

from biolens.core.errors import MissingWeightsError
from biolens.proteins.encoders import ENCODERS, HF_IDS, canonical_name, get_encoder


def test_every_hf_id_maps_to_a_registered_encoder_that_names_it():
    for hf_id, name in HF_IDS.items():
        assert name in ENCODERS and hf_id in ENCODERS[name].description
        assert canonical_name(hf_id) == name == canonical_name(hf_id.lower())
    assert canonical_name("unirep-64") == "unirep-64"


def test_hf_id_reaches_the_esm2_builder(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("BIOLENS_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(MissingWeightsError) as caught:
        get_encoder("facebook/esm2_t6_8M_UR50D")
    assert "esm2-8m" in str(caught.value)  # not "unknown encoder"
