"""Grid over fusion settings on the dev sets only; prints one line per setting.

    python scripts/tune_fusion.py --index /work/ix/cq ../shared/bench/chongqing/dev.jsonl bench/chongqing-en.jsonl

Kept so the numbers in docs/benchmarks.md can be re-run; never point it at test data.
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from qa import Assistant, SearchSettings
from qa.evaluation import run_system
from qa.questions import load_questions

_OFF = dict(w_dense_translated=0, w_lexical_translated=0, w_title=0, w_title_zh=0, translate=False, lookups=False)
LEVERS = {
    "bm25 only": dict(_OFF, w_dense=0),
    "dense only": dict(_OFF, w_lexical=0),
    "rrf plain (bm25 + dense)": dict(_OFF, fusion="rrf"),
    "score-sum plain (bm25 + dense)": dict(_OFF),
    "+ translation, dictionary only": dict(_OFF, w_dense_translated=1, w_lexical_translated=1, translate=True,
                                           translator="dict"),
    "+ glossary": dict(_OFF, w_dense_translated=1, w_lexical_translated=1, translate=True, translator="glossary"),
    "+ weighted alternatives": dict(_OFF, w_dense_translated=1, w_lexical_translated=1, translate=True),
    "+ law titles (language-aware weights)": dict(lookups=False),
    "+ article/commencement lookup = chosen": dict(),
    "chosen, rrf instead of score-sum": dict(fusion="rrf"),
    "chosen, translated signals unscoped": dict(scope_translated=False),
    "chosen, normalised per passage language": dict(normalise_languages=True),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--grid", action="store_true", help="also sweep weights")
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    sets = {Path(p).name: load_questions(Path(p)) for p in args.questions}
    retriever = assistant.retriever
    base_translator = retriever.translator

    def run(name: str, **kw) -> None:
        translator = kw.pop("translator", None)
        from qa.translate import Translator

        vocab = base_translator.in_vocab
        retriever.translator = {"dict": Translator(vocab, use_glossary=False, weighted=False),
                                "glossary": Translator(vocab, weighted=False)}.get(translator, base_translator)
        settings = SearchSettings(**kw)
        cells = []
        for set_name, items in sets.items():
            report = run_system(assistant, items, settings, k=100)
            for lang in ("zh", "en"):
                if lang in report:
                    r = report[lang]
                    cells.append(f"{set_name}:{lang} h1={r['hit@1']:.2f} h5={r['hit@5']:.2f} "
                                 f"h10={r['hit@10']:.2f} mrr={r['mrr@10']:.2f}")
        print(f"{name:<40} " + " | ".join(cells), flush=True)

    for name, kw in LEVERS.items():
        run(name, **dict(kw))
    if args.grid:
        for fusion, wd, wl, wdt, wlt, wt in itertools.product(
                ["rrf", "score"], [1.0], [0.5, 1.0], [0.5, 1.0, 1.5], [0.5, 1.0, 1.5], [0.0, 0.5, 1.0, 2.0]):
            run(f"{fusion} d={wd} l={wl} dt={wdt} lt={wlt} t={wt}", fusion=fusion, w_dense=wd, w_lexical=wl,
                w_dense_translated=wdt, w_lexical_translated=wlt, w_title=wt, w_title_zh=wt)


if __name__ == "__main__":
    main()
