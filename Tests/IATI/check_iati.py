#!/usr/bin/env python3
"""Checks an IATI 2.03 activities file the way IATI's validator does, offline.

Usage: check_iati.py FILE.xml

1. The XML Schema (reference/iati-activities-schema.xsd), through lxml.
2. Every coded value against its codelist (reference/codelists/), e.g. transaction-type/@code in TransactionType.
3. Every rule of IATI's standard ruleset (reference/rulesets/standard.json) whose context the file holds,
   evaluated as reference/rulesets/SPEC.rst describes each rule name. Cases with an idCondition need IATI's
   registry of publishers and are reported as not checked.

Prints one JSON object: schema errors, codelist errors, and the broken rules as {id, severity, message, where},
plus the number of rule cases checked and skipped. Exits 0 when the file passes (no schema or codelist error and
no broken rule of severity "error"), 1 otherwise. The reference files are IATI's own, copied unchanged (see
reference/README.md).
"""
import datetime
import json
import re
import sys
from pathlib import Path

from lxml import etree

REFERENCE = Path(__file__).resolve().parent / "reference"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Which codelist each coded attribute takes its values from (the vocabulary-1 ones for sectors).
CODED = [
    ("//reporting-org/@type | //participating-org/@type | //provider-org/@type | //receiver-org/@type",
     "OrganisationType"),
    ("//participating-org/@role", "OrganisationRole"),
    ("//activity-status/@code", "ActivityStatus"),
    ("//activity-date/@type", "ActivityDateType"),
    ("//recipient-country/@code", "Country"),
    ("//sector[@vocabulary='1' or not(@vocabulary)]/@code", "Sector"),
    ("//budget/@type", "BudgetType"),
    ("//budget/@status", "BudgetStatus"),
    ("//value/@currency | //iati-activity/@default-currency", "Currency"),
    ("//transaction-type/@code", "TransactionType"),
    ("//finance-type/@code | //default-finance-type/@code", "FinanceType"),
    ("//flow-type/@code | //default-flow-type/@code", "FlowType"),
    ("//description/@type", "DescriptionType"),
    ("//related-activity/@type", "RelatedActivityType"),
    ("//result/@type", "ResultType"),
    ("//indicator/@measure", "IndicatorMeasure"),
    ("//@xml:lang", "Language"),
]


def codelist(name):
    tree = etree.parse(str(REFERENCE / "codelists" / f"{name}.xml"))
    return {code.text.strip() for code in tree.iter("code") if code.text}


def schema_errors(document):
    schema = etree.XMLSchema(etree.parse(str(REFERENCE / "iati-activities-schema.xsd")))
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def codelist_errors(document):
    errors = []
    for path, name in CODED:
        allowed = codelist(name)
        for value in document.xpath(path):
            if str(value) not in allowed:
                owner = value.getparent()
                errors.append(f"line {owner.sourceline}: {owner.tag}: \"{value}\" is not in the {name} codelist")
    return errors


def values(context, path):
    """The nodes a path selects, as a list (an XPath that computes a value gives a list of one)."""
    result = context.xpath(path)
    return result if isinstance(result, list) else [result]


def text(node):
    return (node.text or "") if isinstance(node, etree._Element) else str(node)


def truth(context, expression):
    return bool(context.xpath(f"boolean({expression})"))


def day(value):
    if value == "NOW":
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class Rules:
    def __init__(self):
        self.broken, self.checked, self.skipped = [], 0, 0

    def fail(self, case, context, detail=""):
        info = case.get("ruleInfo", {})
        self.broken.append({"id": info.get("id"), "severity": info.get("severity"), "message": info.get("message"),
                            "where": f"line {context.sourceline}: {context.tag}" + (f" ({detail})" if detail else "")})

    def run(self, name, case, context):
        if "idCondition" in case:
            self.skipped += 1
            return
        if "condition" in case and not truth(context, case["condition"]):
            return
        self.checked += 1
        check = getattr(self, name, None)
        if check is None:
            raise SystemExit(f"rule {name} is not implemented")
        check(case, context)

    def atleast_one(self, case, context):
        if not any(values(context, path) for path in case["paths"]):
            self.fail(case, context)

    def no_more_than_one(self, case, context):
        if sum(len(values(context, path)) for path in case["paths"]) > 1:
            self.fail(case, context)

    def dependent(self, case, context):
        found = [bool(values(context, path)) for path in case["paths"]]
        if any(found) and not all(found):
            self.fail(case, context)

    def one_or_all(self, case, context):
        if values(context, case["one"]):
            return
        every = {"lang": ".//narrative[not(@xml:lang)]", "currency": ".//value[not(@currency)]",
                 "sector": "transaction[not(sector)]"}[case["all"]]
        if values(context, every) or (case["all"] == "sector" and not values(context, "transaction")):
            self.fail(case, context)

    def strict_sum(self, case, context):
        total = sum(float(text(node)) for path in case["paths"] for node in values(context, path))
        if abs(total - float(case["sum"])) > 1e-9:
            self.fail(case, context, f"sum {total}")

    sum = strict_sum

    def range(self, case, context):
        for path in case["paths"]:
            for node in values(context, path):
                number = float(text(node))
                if number < case.get("min", float("-inf")) or number > case.get("max", float("inf")):
                    self.fail(case, context, f"{number}")

    def date_order(self, case, context):
        lesser = [day(text(node)) for node in values(context, case["less"])]
        greater = [day(case["more"])] if case["more"] == "NOW" else [day(text(n)) for n in values(context, case["more"])]
        for less in filter(None, lesser):
            for more in filter(None, greater):
                if less > more:
                    self.fail(case, context, f"{less} after {more}")

    def date_now(self, case, context):
        for node in values(context, case["date"]):
            if day(text(node)) and day(text(node)) > datetime.date.today():
                self.fail(case, context, text(node))

    def time_limit(self, case, context):
        starts, ends = values(context, case["start"]), values(context, case["end"])
        if starts and ends:
            start, end = day(text(starts[0])), day(text(ends[0]))
            if start and end and (end - start).days > 365 + (1 if _leap_between(start, end) else 0):
                self.fail(case, context, f"{start} to {end}")

    def between_dates(self, case, context):
        for node in values(context, case["date"]):
            start, end = values(context, case["start"]), values(context, case["end"])
            if start and end and not (day(text(start[0])) <= day(text(node)) <= day(text(end[0]))):
                self.fail(case, context, text(node))

    def regex_matches(self, case, context):
        for path in case["paths"]:
            for node in values(context, path):
                if not re.search(case["regex"], text(node)):
                    self.fail(case, context, text(node))

    def regex_no_matches(self, case, context):
        for path in case["paths"]:
            for node in values(context, path):
                if re.search(case["regex"], text(node)):
                    self.fail(case, context, text(node))

    def startswith(self, case, context):
        prefixes = [text(node) for path in case["prefix"] for node in values(context, path)]
        separator = case.get("separator", "")
        for path in case["paths"]:
            for node in values(context, path):
                if not any(text(node).startswith(prefix + separator) for prefix in prefixes):
                    self.fail(case, context, text(node))

    def unique(self, case, context):
        seen = [text(node) for path in case["paths"] for node in values(context, path)]
        if len(seen) != len(set(seen)):
            self.fail(case, context)

    def if_then(self, case, context):
        if truth(context, case["if"]) and not truth(context, case["then"]):
            self.fail(case, context)

    def no_spaces(self, case, context):
        for path in case["paths"]:
            for node in values(context, path):
                if text(node) != text(node).strip():
                    self.fail(case, context, repr(text(node)))

    def loop(self, case, context):
        for value in {text(node) for node in values(context, case["foreach"])}:
            for name, inner in case["do"].items():
                for sub in inner["cases"]:
                    substituted = dict(sub)
                    for key in case.get("subs", []):
                        if key in substituted:
                            replace = lambda item: item.replace("$1", value)
                            substituted[key] = ([replace(item) for item in substituted[key]]
                                                if isinstance(substituted[key], list) else replace(substituted[key]))
                    if "condition" in substituted:
                        substituted["condition"] = substituted["condition"].replace("$1", value)
                    self.run(name, substituted, context)


def _leap_between(start, end):
    return any(_is_leap(year) and start <= datetime.date(year, 2, 29) <= end
               for year in range(start.year, end.year + 1))


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def main():
    document = etree.parse(sys.argv[1])
    rules = Rules()
    ruleset = json.loads((REFERENCE / "rulesets" / "standard.json").read_text())
    for context_path, named in ruleset.items():
        for context in document.xpath(context_path):
            for name, group in named.items():
                for case in group["cases"]:
                    rules.run(name, case, context)
    report = {"schema": schema_errors(document), "codelists": codelist_errors(document), "broken": rules.broken,
              "checked": rules.checked, "skipped": rules.skipped}
    print(json.dumps(report, indent=1))
    failed = report["schema"] or report["codelists"] or any(r["severity"] == "error" for r in rules.broken)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
