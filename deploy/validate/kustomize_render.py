#!/usr/bin/env python3
"""Fallback renderer for k8s/ when neither `kustomize` nor `kubectl kustomize` is installed.

Supports exactly what k8s/ uses: `resources` (files and directories with a kustomization),
`namespace`, `images` (newName/newTag), `labels` (pairs, metadata only) and `patches` with a `path`
to strategic-merge patches (maps merge; lists of maps that all have `name` merge by name; other
lists are replaced). Anything else in a kustomization is an error, so a new feature must be added
here or the real tool installed. scripts/validate-deploy.sh compares this renderer's output with
`kubectl kustomize` whenever kubectl is present, so the two cannot drift silently.

Usage: kustomize_render.py DIR  > rendered.yaml
"""

from __future__ import annotations

import pathlib
import sys

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "labels", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def merge(base, patch):
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v) if k in base else v
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(x, dict) and "name" in x for x in base + patch)
    ):
        out = list(base)
        for item in patch:
            idx = next((i for i, x in enumerate(out) if x["name"] == item["name"]), None)
            if idx is None:
                out.append(item)
            else:
                out[idx] = merge(out[idx], item)
        return out
    return patch


def set_images(node, images):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "image" and isinstance(v, str):
                name, _, tag = v.partition(":")
                for img in images:
                    if img["name"] == name:
                        node[k] = f"{img.get('newName', name)}:{img.get('newTag', tag or 'latest')}"
            else:
                set_images(v, images)
    elif isinstance(node, list):
        for x in node:
            set_images(x, images)


def render(directory: pathlib.Path) -> list[dict]:
    kfile = directory / "kustomization.yaml"
    k = yaml.safe_load(kfile.read_text())
    unknown = set(k) - SUPPORTED
    if unknown:
        sys.exit(f"kustomize_render: {kfile}: unsupported fields {sorted(unknown)}")
    docs: list[dict] = []
    for res in k.get("resources", []):
        path = directory / res
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for p in k.get("patches", []):
        if set(p) != {"path"}:
            sys.exit(f"kustomize_render: {kfile}: only `path` patches are supported")
        for patch in yaml.safe_load_all((directory / p["path"]).read_text()):
            if not patch:
                continue
            key = (patch["kind"], patch["metadata"]["name"])
            hits = [i for i, d in enumerate(docs) if (d["kind"], d["metadata"]["name"]) == key]
            if len(hits) != 1:
                sys.exit(f"kustomize_render: patch target {key} matched {len(hits)} resources")
            docs[hits[0]] = merge(docs[hits[0]], patch)
    for lab in k.get("labels", []):
        if set(lab) - {"pairs"}:
            sys.exit("kustomize_render: only `labels: - pairs:` (no selectors/templates) is supported")
        for d in docs:
            d.setdefault("metadata", {}).setdefault("labels", {}).update(lab["pairs"])
    if k.get("images"):
        for d in docs:
            set_images(d, k["images"])
    if k.get("namespace"):
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = k["namespace"]
    return docs


def main():
    docs = render(pathlib.Path(sys.argv[1]))
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=True, default_flow_style=False))


if __name__ == "__main__":
    main()
