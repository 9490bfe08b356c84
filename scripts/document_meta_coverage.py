"""How many documents of a corpus get each date field and each region (qa.document_meta).

    python scripts/document_meta_coverage.py ../shared/corpus/chongqing [--list]

Loads every file as ``qa index build`` would (nothing is embedded), then prints the count of
documents with a promulgated / amended / in-force date and a version label, the count per region
(unknown included), and with ``--list`` one line per document to check by eye.
"""
from __future__ import annotations

import argparse
from collections import Counter

from qa.loaders import LoadError, load_sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--list", action="store_true", help="one line per document")
    args = parser.parse_args()
    docs = [d for d in load_sources(args.sources) if not isinstance(d, LoadError)]
    print(f"{len(docs)} documents")
    for field in ("promulgated", "amended", "in_force_from", "version_label"):
        print(f"  {field:<14} {sum(1 for d in docs if getattr(d, field)):>4}")
    print("  regions: " + ", ".join(f"{r or 'unknown'} {n}" for r, n in Counter(d.region for d in docs).most_common()))
    print("  kinds: " + ", ".join(f"{k} {n}" for k, n in Counter(d.kind for d in docs).most_common()))
    if args.list:
        for d in sorted(docs, key=lambda d: (d.region or "", d.id)):
            print(f"{d.region or '-':<9} promulgated={d.promulgated} amended={d.amended} "
                  f"in_force_from={d.in_force_from} label={d.version_label} | {d.id}")


if __name__ == "__main__":
    main()
