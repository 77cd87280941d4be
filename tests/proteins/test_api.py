"""The public names of ``biolens.proteins`` and its subpackages: each ``__all__`` resolves, names are
re-exported (one object, not copies), every encoder family offers the registry's protocol, and the old
import path of the README examples still works with a deprecation warning."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest

import biolens.proteins as proteins
from biolens.proteins import encoders

PACKAGES = sorted(m.name for m in pkgutil.walk_packages(proteins.__path__, "biolens.proteins.") if m.ispkg)


def test_the_layout_has_one_package_per_concept():
    assert {p for p in PACKAGES if p.count(".") == 2} == {
        f"biolens.proteins.{p}" for p in ("embed", "encoders", "lm", "supervised", "tasks")}
    families = {p.rsplit(".", 1)[1] for p in PACKAGES if p.startswith("biolens.proteins.encoders.")}
    assert families == {e.family for e in encoders.ENCODERS.values()}  # a subpackage per registered family


@pytest.mark.parametrize("name", ["biolens.proteins", *PACKAGES])
def test_every_public_name_resolves_to_the_object_of_its_private_module(name):
    package = importlib.import_module(name)
    assert package.__all__, f"{name} has no __all__"
    assert len(set(package.__all__)) == len(package.__all__)
    for attr in package.__all__:
        obj = getattr(package, attr)
        home = getattr(obj, "__module__", None)
        if home and home.startswith("biolens.proteins.") and callable(obj):
            assert getattr(sys.modules[home], obj.__name__) is obj  # re-exported, not redefined
    private = [a for a in package.__all__ if a.startswith("_")]
    assert not private, f"{name} exports private names {private}"


@pytest.mark.parametrize("family", sorted({e.family for e in encoders.ENCODERS.values()}))
def test_every_family_package_offers_build_and_availability(family):
    module = importlib.import_module(f"biolens.proteins.encoders.{family}")
    assert callable(module.build) and callable(module.availability)
    name = next(e.name for e in encoders.ENCODERS.values() if e.family == family)
    ok, why = encoders.availability(name)
    assert isinstance(ok, bool) and isinstance(why, str)


def test_the_old_run_import_path_warns_and_gives_the_same_objects(monkeypatch):
    monkeypatch.delitem(sys.modules, "biolens.proteins.run", raising=False)
    with pytest.warns(DeprecationWarning, match=r"biolens\.proteins\.run is deprecated"):
        old = importlib.import_module("biolens.proteins.run")
    assert old.run_task is proteins.run_task and old.RunConfig is proteins.RunConfig
    assert old.TaskResult is proteins.TaskResult
