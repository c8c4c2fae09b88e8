"""Copy quality on real products: the system against a plain template, in one run.

    python bench/copy_quality.py [--products 40] [--out var/copy_quality.json]

On Office products that have a description (passed whole as `description`), runs the
generation handlers the gpu worker runs (its model, verifier and batcher, in process, 16
jobs at a time as its threads pool does) and reads every result with an independent checker
(bench/copy_audit.py, which shares no code with the gate). The baseline is what a shop could
do without us: title + brand + the first two sentences of the description; for SEO the title
cut at 60 characters and the description cut at 157 + "...". Prints, per job type: model
sentence share, results with any unsupported number/material/name, meta-text hits, SEO
defects; writes every result to --out for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.copy_audit import meta_hits, seo_defects, unsupported  # noqa: E402
from tests.support.events import office_products_with_descriptions  # noqa: E402

SOCIAL = [
    ("Does this come in other colours?", "question"), ("When will my order ship?", "question"),
    ("Love it, best purchase this year!", "praise"),
    ("It arrived broken and I want a refund.", "complaint"),
    ("You are scammers, total garbage", "abuse"), ("什么时候发货？", "question"),
    ("收到的时候已经坏了", "complaint"), ("你们是骗子", "abuse"),
]
REPLY_SETTINGS = {"shipping": {"en": "We ship every order within 2 business days.",
                               "zh": "我们会在两个工作日内发货。"},
                  "contact": {"en": "send us a direct message", "zh": "私信我们"}}


def baseline_description(product: dict) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", product.get("description", ""))
    by = f" by {product['brand']}" if product.get("brand") else ""
    return " ".join([f"{product['title']}{by}.", *sentences[:2]]).strip()


def baseline_seo(product: dict) -> dict:
    description = product.get("description", "")
    return {"meta_title": product["title"][:60],
            "meta_description": description if len(description) <= 160 else
            description[:157] + "...",
            "keywords": [w.lower() for w in re.findall(r"[A-Za-z]{4,}", product["title"])][:8]}


def source_of(product: dict) -> str:
    return json.dumps(product, ensure_ascii=False)


def run_jobs(jobs: list[tuple[str, dict]]) -> list[dict]:
    """Each (type, input) through the worker's handler; results or {"failed": message}."""
    import torch

    from shared.settings import Settings
    from worker.contract import JobContext, QualityCheckFailed
    from worker.generation.family import GenerationFamily
    from worker.models.registry import ModelRegistry, resolve_sources

    class QuietContext(JobContext):
        def report_progress(self, *args, **kwargs) -> None:
            pass

    torch.set_num_threads(os.cpu_count() or 1)
    settings = Settings.from_env()
    registry = ModelRegistry.load(resolve_sources(["embedding", "generation"], settings),
                                  "cpu", settings)
    family = GenerationFamily()
    family.setup(settings, "cpu", registry)

    def run(job: tuple[str, dict]) -> dict:
        context = QuietContext(job_id=None, job_type=job[0], job_input=job[1], tenant_id=None,
                               db=None, settings=settings, soft_limit_s=600)
        try:
            return family.handler(job[0])(context).result
        except QualityCheckFailed as exc:
            return {"failed": str(exc)}

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(run, jobs))


def _rate(values: list[bool]) -> str:
    return f"{sum(values)}/{len(values)}"


def report(products: list[dict], results: dict[str, list[dict]]) -> list[str]:
    rows = ["| type | side | model sentence share | results with unsupported claims | "
            "meta-text hits | SEO defects | failed |", "|---|---|---:|---:|---:|---:|---:|"]
    for kind in ("product_description", "marketing_copy"):
        done = [(r, s) for r, s in results[kind] if "failed" not in r]
        claims = [any(unsupported(r["text"], s).values()) for r, s in done]
        meta = [bool(meta_hits(r["text"])) for r, _ in done]
        share = sum(r["model_share"] for r, _ in done) / max(1, len(done))
        rows.append(f"| {kind} | system | {share:.2f} | {_rate(claims)} | {_rate(meta)} | - | "
                    f"{len(results[kind]) - len(done)} |")
        if kind == "product_description":
            base = [baseline_description(p) for p in products]
            rows.append(f"| {kind} | template | - | "
                        f"{_rate([any(unsupported(b, source_of(p)).values()) for b, p in zip(base, products, strict=True)])} | "  # noqa: E501
                        f"{_rate([bool(meta_hits(b)) for b in base])} | - | 0 |")
    seo = [(r, p) for (r, _), p in zip(results["seo_metadata"], products, strict=True)
           if "failed" not in r]
    defects = [seo_defects(r, p["title"], p.get("brand")) for r, p in seo]
    claims = [any(unsupported(f"{r['meta_title']}. {r['meta_description']}", source_of(p))
                  .values()) for r, p in seo]
    share = sum(r["model_share"] for r, _ in seo) / max(1, len(seo))
    rows.append(f"| seo_metadata | system | {share:.2f} | {_rate(claims)} | "
                f"{_rate([bool(meta_hits(r['meta_description'])) for r, _ in seo])} | "
                f"{_rate([bool(d) for d in defects])} | {len(products) - len(seo)} |")
    base = [baseline_seo(p) for p in products]
    base_defects = [seo_defects(b, p["title"], p.get("brand")) for b, p in
                    zip(base, products, strict=True)]
    rows.append(f"| seo_metadata | template | - | 0/{len(base)} | - | "
                f"{_rate([bool(d) for d in base_defects])} | 0 |")
    social = results["social_reply"]
    language_ok = [bool(re.search(r"[\u4e00-\u9fff]", r["reply"])) ==
                   bool(re.search(r"[\u4e00-\u9fff]", message)) for (r, message), _ in
                   zip(social, range(len(social)), strict=True)]
    expected = [SOCIAL[i % len(SOCIAL)][1] for i in range(len(social))]
    escalated = [r["escalate"] for (r, _), e in zip(social, expected, strict=True)
                 if e in {"complaint", "abuse"}]
    intents = [r["intent"] == e for (r, _), e in zip(social, expected, strict=True)]
    answered = [r["answered"] for (r, m), e in zip(social, expected, strict=True)
                if e == "question" and "ship" in m or "发货" in m]
    rows.append("")
    rows.append(f"social_reply: reply in the customer's language {_rate(language_ok)}, "
                f"intent as labelled {_rate(intents)}, complaints/abuse escalated "
                f"{_rate(escalated)}, shipping questions answered {_rate(answered)}, "
                f"meta-text hits {_rate([bool(meta_hits(r['reply'])) for r, _ in social])}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--skip", type=int, default=20,
                        help="skip the first products (the tests use them)")
    parser.add_argument("--out", default=str(ROOT / "var" / "copy_quality.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="re-read the results in --out instead of generating")
    args = parser.parse_args()
    products = office_products_with_descriptions()[args.skip: args.skip + args.products]
    jobs: list[tuple[str, dict]] = []
    jobs += [("product_description", {"product": p, "options": {"max_words": 80, "seed": i}})
             for i, p in enumerate(products)]
    jobs += [("seo_metadata", {"product": p, "options": {"seed": i}})
             for i, p in enumerate(products)]
    formats = ["article", "email", "social_post", "video_script"]
    marketing = [("marketing_copy", {"format": formats[i % 4], "topic": "Office essentials",
                                     "products": products[i * 2: i * 2 + 2],
                                     "options": {"max_words": 100, "seed": i}})
                 for i in range(min(8, len(products) // 2))]
    jobs += marketing
    social = [("social_reply", {"platform": "instagram", "message": SOCIAL[i % len(SOCIAL)][0],
                                "product": products[i], "reply_settings": REPLY_SETTINGS,
                                "options": {"seed": i}})
              for i in range(min(16, len(products)))]
    jobs += social
    started = time.perf_counter()
    if args.report_only:
        outputs = [entry["result"] for entry in json.loads(Path(args.out).read_text())]
    else:
        outputs = run_jobs(jobs)
    seconds = time.perf_counter() - started
    by_type: dict[str, list] = {"product_description": [], "seo_metadata": [],
                                "marketing_copy": [], "social_reply": []}
    for (kind, job_input), result in zip(jobs, outputs, strict=True):
        source = (source_of(job_input["product"]) if "product" in job_input and kind !=
                  "social_reply" else json.dumps(job_input, ensure_ascii=False))
        by_type[kind].append((result, job_input.get("message", source)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        records = [{"type": k, "input": i, "result": r}
                   for (k, i), r in zip(jobs, outputs, strict=True)]
        Path(args.out).write_text(json.dumps(records, ensure_ascii=False, indent=1))
    print(f"{len(jobs)} jobs on {len(products)} products in {seconds:.0f} s "
          f"(results in {args.out})\n")
    print("\n".join(report(products, by_type)))


if __name__ == "__main__":
    main()
