"""Every domain names its presets the same way: ``PRESETS: dict[str, <Domain>RunConfig]``."""

import pytest


@pytest.mark.parametrize("domain, config_type", [("dna", "DnaRunConfig"), ("graphs", "GraphRunConfig"),
                                                  ("structure", "StructureConfig")])
def test_presets_map_names_to_the_domains_run_config(domain, config_type):
    import importlib

    module = importlib.import_module(f"biolens.{domain}")
    kind = getattr(module, config_type)
    assert module.PRESETS and all(isinstance(k, str) and type(v) is kind for k, v in module.PRESETS.items())


def test_graph_presets_keep_their_provenance_for_the_listing():
    from biolens.graphs import PRESET_NOTES, PRESETS, preset

    assert set(PRESET_NOTES) == set(PRESETS)
    assert "PLNLP" in PRESET_NOTES["plnlp"] and "OGB" in PRESET_NOTES["ogb"]
    assert preset("tiny") == PRESETS["tiny"]
    assert preset("tiny", train={"max_epochs": 3}).train.max_epochs == 3
