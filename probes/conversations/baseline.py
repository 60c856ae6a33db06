#!/usr/bin/env python3
"""How hard is the probe for plain retrieval over raw turns? BM25 (k1 1.2, b 0.75) over each
caller's turns, one document per turn or per caller turn with the agent turn before it (the
shape of memvox episodes); a question hits at k when one of the top k documents contains an
evidence turn. No product involved: a reference point for `memvox eval recall`.

    python3 probes/conversations/baseline.py
"""

from __future__ import annotations

import collections
import json
import math
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
STOP = set("a an the and or of to in on at for with is are was were be been it its this that "
           "what which who whom when where why how do does did has have had any caller caller's "
           "their they them i me my you your we our us".split())


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP]


def bm25(docs: list[list[str]], query: list[str], k1=1.2, b=0.75) -> list[float]:
    n = len(docs)
    avg = sum(map(len, docs)) / max(1, n)
    df = collections.Counter(w for d in docs for w in set(d))
    scores = []
    for d in docs:
        tf = collections.Counter(d)
        s = 0.0
        for w in query:
            if w in tf:
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                s += idf * tf[w] * (k1 + 1) / (tf[w] + k1 * (1 - b + b * len(d) / avg))
        scores.append(s)
    return scores


def main() -> None:
    calls = [json.loads(line) for line in (HERE / "calls.jsonl").open()]
    questions = [json.loads(line) for line in (HERE / "questions.jsonl").open()]
    for mode in ("turn", "episode"):
        docs_by_caller = collections.defaultdict(list)
        for call in calls:
            for i, turn in enumerate(call["turns"]):
                if mode == "turn":
                    docs_by_caller[call["caller"]].append((call["conversation_id"], {i}, turn["message"]))
                elif turn["role"] == "user":
                    before = call["turns"][i - 1]["message"] if i else ""
                    docs_by_caller[call["caller"]].append(
                        (call["conversation_id"], {i - 1, i}, before + " " + turn["message"]))
        hits = collections.defaultdict(lambda: [0, 0, 0, 0])
        for q in questions:
            docs = docs_by_caller[q["caller"]]
            scores = bm25([words(d[2]) for d in docs], words(q["question"]))
            ranked = sorted(range(len(docs)), key=lambda i: -scores[i])[:10]
            evidence = {(e["conversation_id"], e["turn"]) for e in q["evidence"]}
            position = next((r for r, i in enumerate(ranked)
                             if any((docs[i][0], t) in evidence for t in docs[i][1])), None)
            for key in ("all", q["category"]):
                hits[key][0] += 1
                for slot, k in enumerate((1, 5, 10), start=1):
                    hits[key][slot] += position is not None and position < k
        print(f"BM25 over {mode}s")
        print("| category | questions | R@1 | R@5 | R@10 |\n|---|---|---|---|---|")
        for key in ["all"] + sorted(k for k in hits if k != "all"):
            n, a, b5, c = hits[key]
            print(f"| {key} | {n} | {a / n:.3f} | {b5 / n:.3f} | {c / n:.3f} |")
        print()


if __name__ == "__main__":
    main()
