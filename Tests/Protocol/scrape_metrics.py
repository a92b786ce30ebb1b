#!/usr/bin/env python3
"""Scrapes a service's metrics endpoint and parses it with prometheus_client's own text parser, as Prometheus
would read it: prints every sample as one JSON object per line ({"name", "labels", "value"}), or fails (exit 1)
naming what does not parse. Used by Tests/RPCTests/MetricsEndpointTests.swift."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/plain; version=0.0.4"):
            sys.exit(f"unexpected Content-Type {content_type!r}")
        text = response.read().decode("utf-8")
    families = 0
    for family in text_string_to_metric_families(text):
        families += 1
        for sample in family.samples:
            print(json.dumps({"name": sample.name, "type": family.type, "labels": sample.labels,
                              "value": sample.value}))
    if families == 0:
        sys.exit("no metric families in the answer")


if __name__ == "__main__":
    main(sys.argv[1])
