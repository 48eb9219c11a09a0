"""Parses Prometheus text exposition with prometheus_client's own parser and prints the
samples as JSON: {"metric{database=...}": value}. Used by the tests of --metrics-file and
--pushgateway. Reads the text from a file argument or from an http(s) URL."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

source = sys.argv[1]
if source.startswith("http://") or source.startswith("https://"):
    text = urllib.request.urlopen(source, timeout=10).read().decode()
else:
    text = open(source).read()
samples = {}
types = {}
for family in text_string_to_metric_families(text):
    types[family.name] = family.type
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()) if k in ("database", "job", "instance_class"))
        samples[f"{sample.name}{{{labels}}}"] = sample.value
print(json.dumps({"samples": samples, "types": types}, sort_keys=True))
