"""Writes tests/fixtures/aws_batch_register_job_definition.json: the shapes of AWS Batch's
RegisterJobDefinition request (the structure the deploy/aws-batch job definition is), taken from botocore's
service model (botocore/data/batch/2016-08-10/service-2.json), without documentation strings.
tests/deploy_test.ts validates deploy/aws-batch/job-definition.json against it (types, required members,
enums, no unknown keys).

    /tmp/pa/bin/pip download botocore --no-deps -d /tmp/boto && python scripts/make_batch_shape.py /tmp/boto/botocore-*.whl
"""
import gzip
import json
import sys
import zipfile

wheel = sys.argv[1]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.startswith("botocore/data/batch/") and "service-2.json" in n)
    raw = z.read(name)
    version = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    botocore_version = next(
        l.split(":", 1)[1].strip() for l in z.read(version).decode().splitlines() if l.startswith("Version:")
    )
model = json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)
shapes = model["shapes"]
keep = {}


def visit(shape_name):
    if shape_name in keep:
        return
    s = {k: v for k, v in shapes[shape_name].items() if k not in ("documentation", "deprecated", "deprecatedMessage")}
    if "members" in s:
        s["members"] = {m: {"shape": v["shape"]} for m, v in s["members"].items()}
    keep[shape_name] = s
    for v in s.get("members", {}).values():
        visit(v["shape"])
    for k in ("member", "key", "value"):
        if k in s:
            s[k] = {"shape": s[k]["shape"]}
            visit(s[k]["shape"])


visit("RegisterJobDefinitionRequest")
out = {
    "source": f"botocore {botocore_version}, {name}",
    "root": "RegisterJobDefinitionRequest",
    "shapes": dict(sorted(keep.items())),
}
with open("tests/fixtures/aws_batch_register_job_definition.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write("\n")
print(len(keep), "shapes from", out["source"])
