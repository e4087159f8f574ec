"""The tables reasoner/data/ ships precomputed from the catalogue (bench/gen_data_tables.py) are
what the generator computes from the installed catalogue now, and are used only while current."""

from __future__ import annotations

import json

from reasoner.account import chains
from reasoner.policy import catalogue
from reasoner.resources import data_file


def test_shipped_service_chain_table_is_what_the_generator_computes():
    assert json.loads(data_file("service_chain_table.json").read_text()) == chains.chain_table()


def test_shipped_condition_key_types_are_what_the_generator_computes():
    assert json.loads(data_file("condition_key_types.json").read_text()) == catalogue.key_types_table()


def test_the_loaded_chains_are_the_validated_ones():
    """load_chains() through the table gives the same chains and trigger expansions as the full
    validation against the catalogue."""
    raw = json.loads(chains.DATA_FILE.read_text())
    checked = chains.parse_chains(raw)
    loaded = chains.load_chains()
    assert loaded.model_dump() == checked.model_dump()
    assert [c.trigger_actions() for c in loaded.chains] == [
        sorted({a for p in c.triggers for a in chains.expand_pattern(p)}) for c in checked.chains
    ]


def test_a_table_for_other_bytes_or_another_catalogue_is_not_used(monkeypatch):
    raw = chains.DATA_FILE.read_bytes()
    assert chains._current_table(raw) is not None
    assert chains._current_table(raw + b" ") is None
    monkeypatch.setattr(catalogue, "data_version", lambda: "0.0.0")
    assert chains._current_table(raw) is None


def test_every_pattern_names_an_action():
    table = chains.chain_table()
    assert table["pattern_actions"] and all(n > 0 for n in table["pattern_actions"].values())
