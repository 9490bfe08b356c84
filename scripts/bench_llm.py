"""How often a language model's answers pass the checks, and how long they take.

    python scripts/bench_llm.py --index /work/ix/cq                    # starts SmolLM2-135M (scripts/llm_server.py)
    python scripts/bench_llm.py --index idx/ --llm http://127.0.0.1:11434/v1 --llm-model qwen2.5:0.5b

Asks the first 30 questions of bench/chongqing-en.jsonl with ``--llm`` and prints, per question,
whether the generated answer was shown (passed every check) or why the extractive answer was shown
instead, then: passed / fell back / abstained (no model asked), and p50 / p95 of the whole answer
time for the questions the model was asked.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--questions", default=str(REPO / "bench" / "chongqing-en.jsonl"))
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--llm", default=None, help="a running server; default: start scripts/llm_server.py")
    parser.add_argument("--llm-model", default=None)
    parser.add_argument("--model", default="smollm2", help="GGUF for the started server (default: smollm2)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--max-tokens", type=int, default=None, help="cap on the reply (default: the reader's)")
    parser.add_argument("--json", default=None, help="write every answer's outcome to this file")
    args = parser.parse_args(argv)

    from qa import Assistant
    from qa.generative import GenerativeReader

    server = None
    url = args.llm
    if url is None:
        from llm_server import make_server

        started = time.perf_counter()
        server = make_server(args.model)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        print(f"started {server.model_name} at {url} in {time.perf_counter() - started:.1f}s")
    items = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines()
             if line.strip()][: args.limit]
    rows = []
    with Assistant.open(args.index, llm=url, llm_model=args.llm_model, llm_timeout=args.timeout) as assistant:
        assistant.warm_up()
        reader = assistant.reader
        if args.max_tokens:
            reader = GenerativeReader(reader.fallback, reader.endpoint, max_tokens=args.max_tokens)
        for item in items:
            t = time.perf_counter()
            answer = None
            for answer in assistant.ask_stream(item["question"], reader=reader):
                pass
            seconds = time.perf_counter() - t
            if answer.abstained:
                outcome = "abstained (no model asked)"
            elif answer.generated:
                outcome = "passed" + (f" ({answer.generated.dropped} sentence(s) dropped)"
                                      if answer.generated.dropped else "")
            else:
                outcome = "fell back: " + re.sub(r"^The generated answer is not shown \((.*)\); the quoted.*$",
                                                 r"\1", answer.note or "")
            rows.append({"id": item.get("id"), "question": item["question"], "seconds": round(seconds, 2),
                         "outcome": outcome, "generated": answer.generated.text if answer.generated else None})
            print(f"{item.get('id', '')}\t{seconds:6.1f}s\t{outcome}", flush=True)
            if answer.generated:
                print(f"\t{answer.generated.text}")
    if server is not None:
        server.shutdown()
    asked = [r for r in rows if not r["outcome"].startswith("abstained")]
    passed = [r for r in asked if r["outcome"].startswith("passed")]
    reasons = collections.Counter(re.sub(r"“.*”", "“…”", re.sub(r"\[\d+\]", "[n]", r["outcome"]))
                                  for r in asked if r not in passed)
    times = np.array([r["seconds"] for r in asked]) if asked else np.zeros(1)
    print(f"\n{len(rows)} questions: passed the checks {len(passed)}, fell back {len(asked) - len(passed)}, "
          f"abstained {len(rows) - len(asked)}")
    for reason, n in reasons.most_common():
        print(f"  {n:3d}  {reason}")
    print(f"answer time with the model (s): p50 {np.percentile(times, 50):.1f}  p95 {np.percentile(times, 95):.1f}  "
          f"max {times.max():.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
