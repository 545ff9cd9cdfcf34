"""Search quality over a query set: recall@1, recall@5 and mean reciprocal rank (MRR).

Used by tests/test_search.py (thresholds) and benchmarks/bench_search_quality.py (old vs new ranking).
"""

from __future__ import annotations

from pathlib import Path

import yaml

TESTS = Path(__file__).resolve().parent
QUERY_SETS = {"keywords": TESTS / "search_queries.yaml", "questions": TESTS / "search_questions.yaml",
              "hurried": TESTS / "search_hurried.yaml"}  # typed in a hurry (issue #29)


def load(name: str) -> list[dict]:
    queries = yaml.safe_load(QUERY_SETS[name].read_text(encoding="utf-8"))
    for q in queries:
        q["expect"] = q["expect"] if isinstance(q["expect"], list) else [q["expect"]]
    return queries


def measure(search_box, queries: list[dict]) -> dict:
    """Type every query into the real search box; return the scores and one row per query."""
    rows = []
    for q in queries:
        top = search_box.search(q["query"])["paths"]
        rank = next((i + 1 for i, p in enumerate(top) if p in q["expect"]), None)
        rows.append({**q, "top5": top[:5], "rank": rank})
    n = len(rows)
    return {
        "queries": n,
        "recall@1": sum(r["rank"] == 1 for r in rows) / n,
        "recall@5": sum(r["rank"] is not None and r["rank"] <= 5 for r in rows) / n,
        "mrr": sum(1 / r["rank"] for r in rows if r["rank"]) / n,
        "rows": rows,
    }
