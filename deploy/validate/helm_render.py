#!/usr/bin/env python3
"""Render the memvox Helm chart without helm (no helm binary is installable offline here).

A small interpreter for the subset of Go templates + Sprig the chart uses: text/actions with
`{{-`/`-}}` trimming, comments, `define`/`include`, `if`/`else if`/`else`, `range` (with
`$k, $v :=` or `$v :=`), `with`, variables, pipelines, parenthesised calls, and the functions
listed in FUNCS. Anything else is an error, so a template that uses more than this subset fails
loudly here instead of rendering wrongly. `.Files.Get` reads files of the chart and
`.Files.Glob` maps the chart's paths matching a pattern to their contents.

Usage: helm_render.py CHART_DIR [--set-file values.yaml ...] [--release NAME] [--namespace NS]
Writes the rendered manifests (a YAML stream, like `helm template`) to stdout and NOTES.txt to
stderr with --notes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import posixpath
import re
import sys

import yaml

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:\\.|[^"\\])*"|`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)|(?P<decl>:=)|(?P<assign>=)'
    r"|(?P<punct>[()|,])|(?P<word>\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
    r"|\$(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?))"
)


class TemplateError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Parsing: text and actions into a tree of nodes.


def lex(src: str):
    """Splits a template into ('text', s) and ('action', body) items, applying trim markers."""
    items, pos = [], 0
    for m in ACTION.finditer(src):
        text = src[pos : m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        items.append(["text", text])
        items.append(["action", m.group(2), bool(m.group(3))])
        pos = m.end()
    items.append(["text", src[pos:]])
    for i, it in enumerate(items):
        if it[0] == "action" and it[2] and i + 1 < len(items):
            items[i + 1][1] = items[i + 1][1].lstrip(" \t\r\n")
    return [(it[0], it[1]) for it in items if not (it[0] == "text" and it[1] == "")]


def tokens(expr: str):
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"cannot parse `{expr}` at {pos}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    return out


def parse(src: str, defines: dict):
    """Returns the node list of `src`; `define` blocks go into `defines`."""
    root: list = []
    stack = [("root", root, None)]
    for kind, body in lex(src):
        cur = stack[-1][1]
        if kind == "text":
            cur.append(("text", body))
            continue
        if body.startswith("/*"):
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word) :].strip()
        if word in ("if", "range", "with"):
            node = {"kind": word, "expr": rest, "body": [], "else": []}
            cur.append(("block", node))
            stack.append((word, node["body"], node))
        elif word == "define":
            name = json.loads(rest)
            node = {"kind": "define", "body": []}
            defines[name] = node["body"]
            stack.append(("define", node["body"], node))
        elif word == "else":
            tag, _, node = stack.pop()
            if rest.startswith("if "):
                inner = {"kind": "if", "expr": rest[3:], "body": [], "else": []}
                node["else"].append(("block", inner))
                node.setdefault("chained", []).append(inner)
                stack.append(("elseif", inner["body"], inner))
                inner["parent"] = (tag, node)
            else:
                stack.append((tag + "-else", node["else"], node))
        elif word == "end":
            while True:
                tag, _, node = stack.pop()
                if tag.startswith("elseif"):
                    continue
                break
            if tag == "root":
                raise TemplateError("unexpected end")
        else:
            cur.append(("expr", body))
    if len(stack) != 1:
        raise TemplateError(f"unclosed {stack[-1][0]}")
    return root


# ---------------------------------------------------------------------------------------------
# Evaluation.


def truthy(v) -> bool:
    return not (v is None or v is False or v == 0 and not isinstance(v, bool) or v == "" or v == [] or v == {})


def to_str(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def to_yaml(v) -> str:
    if v is None:
        return "null"
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True, width=10**6).rstrip("\n")


def indent(n, s):
    pad = " " * int(n)
    return "\n".join(pad + line for line in to_str(s).split("\n"))


def go_printf(fmt, *args):
    args = list(args)

    def repl(m):
        verb = m.group(1)
        if verb == "%":
            return "%"
        a = args.pop(0)
        if verb == "q":
            return json.dumps(to_str(a))
        return to_str(a)

    return re.sub(r"%([svdq%])", repl, fmt)


class Renderer:
    def __init__(self, chart: pathlib.Path, values: dict, release: str, namespace: str):
        self.chart = chart
        self.defines: dict = {}
        meta = yaml.safe_load((chart / "Chart.yaml").read_text())
        self.root = {
            "Values": values,
            "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": True},
            "Chart": {
                "Name": meta["name"],
                "Version": meta["version"],
                "AppVersion": meta.get("appVersion", ""),
            },
            "Files": {
                "Get": lambda path: (chart / path).read_text(),
                "Glob": lambda pattern: {
                    p.relative_to(chart).as_posix(): p.read_text() for p in sorted(chart.glob(pattern))
                },
            },
        }
        self.funcs = {
            "include": lambda name, data: self.render_nodes(self.defines[name], data, {"$": data}),
            "toYaml": to_yaml,
            "toJson": lambda v: json.dumps(v, separators=(",", ":")),
            "nindent": lambda n, s: "\n" + indent(n, s),
            "indent": indent,
            "quote": lambda *a: " ".join(json.dumps(to_str(x)) for x in a),
            "squote": lambda v: "'" + to_str(v) + "'",
            "default": lambda d, v=None: v if truthy(v) else d,
            "printf": go_printf,
            "eq": lambda a, *b: any(a == x for x in b),
            "ne": lambda a, b: a != b,
            "not": lambda v: not truthy(v),
            "empty": lambda v: not truthy(v),
            "contains": lambda sub, s: to_str(sub) in to_str(s),
            "trunc": lambda n, s: to_str(s)[: int(n)],
            "trimSuffix": lambda suf, s: to_str(s)[: -len(suf)] if suf and to_str(s).endswith(suf) else to_str(s),
            "lower": lambda s: to_str(s).lower(),
            "base": lambda s: posixpath.basename(to_str(s)),
            "sha256sum": lambda s: hashlib.sha256(to_str(s).encode()).hexdigest(),
            "required": self.required,
            "int": lambda v: int(v),
        }

    @staticmethod
    def required(msg, v):
        if not truthy(v):
            raise TemplateError(msg)
        return v

    # -- expressions --

    def resolve(self, word: str, dot, scope: dict):
        if word == ".":
            return dot
        if word == "$":
            return scope["$"]
        if word.startswith("$"):
            head, *fields = word.split(".")
            if head not in scope:
                raise TemplateError(f"undefined variable {head}")
            val = scope[head]
        elif word.startswith("."):
            val, fields = dot, word[1:].split(".")
        else:
            raise TemplateError(f"not a value: {word}")
        for f in fields:
            if isinstance(val, dict):
                val = val.get(f)
            elif val is None:
                return None
            else:
                raise TemplateError(f"cannot read field {f} of {type(val).__name__} in {word}")
        return val

    def eval_pipeline(self, toks, dot, scope):
        cmds, cur, depth = [], [], 0
        for t in toks:
            if t == ("punct", "(") :
                depth += 1
            elif t == ("punct", ")"):
                depth -= 1
            if t == ("punct", "|") and depth == 0:
                cmds.append(cur)
                cur = []
            else:
                cur.append(t)
        cmds.append(cur)
        val, first = None, True
        for cmd in cmds:
            val = self.eval_command(cmd, dot, scope, None if first else [val])
            first = False
        return val

    def eval_args(self, toks, dot, scope):
        args, i = [], 0
        while i < len(toks):
            kind, text = toks[i]
            if (kind, text) == ("punct", "("):
                depth, j = 1, i + 1
                while depth:
                    if toks[j] == ("punct", "("):
                        depth += 1
                    elif toks[j] == ("punct", ")"):
                        depth -= 1
                    j += 1
                args.append(self.eval_pipeline(toks[i + 1 : j - 1], dot, scope))
                i = j
                continue
            if kind == "str":
                args.append(json.loads(text) if text.startswith('"') else text[1:-1])
            elif kind == "num":
                args.append(float(text) if "." in text else int(text))
            elif kind == "word" and text in ("true", "false", "nil"):
                args.append({"true": True, "false": False, "nil": None}[text])
            elif kind == "word" and (text.startswith(".") or text.startswith("$")):
                args.append(("value", text))
            elif kind == "word":
                args.append(("func", text))
            else:
                raise TemplateError(f"unexpected {text}")
            i += 1
        return args

    def eval_command(self, toks, dot, scope, piped):
        args = self.eval_args(toks, dot, scope)
        if not args:
            raise TemplateError("empty command")
        head, rest = args[0], args[1:]

        def val(a):
            if isinstance(a, tuple) and a[0] == "value":
                return self.resolve(a[1], dot, scope)
            if isinstance(a, tuple) and a[0] == "func":
                return self.call(a[1], [], dot, scope)
            return a

        if isinstance(head, tuple) and head[0] == "func":
            params = [val(a) for a in rest] + (piped or [])
            return self.call(head[1], params, dot, scope)
        if isinstance(head, tuple) and head[0] == "value":
            v = self.resolve(head[1], dot, scope)
            if callable(v):
                return v(*[val(a) for a in rest], *(piped or []))
            if rest or piped:
                raise TemplateError(f"{head[1]} is not a function")
            return v
        if rest or piped:
            raise TemplateError("a literal takes no arguments")
        return head

    def call(self, name, params, dot, scope):
        if name == "and":
            out = True
            for p in params:
                out = p
                if not truthy(p):
                    return p
            return out
        if name == "or":
            for p in params:
                if truthy(p):
                    return p
            return params[-1] if params else None
        if name not in self.funcs:
            raise TemplateError(f"function {name} is not supported by this renderer")
        return self.funcs[name](*params)

    def eval_expr(self, expr: str, dot, scope):
        toks = tokens(expr)
        if len(toks) >= 2 and toks[1][0] in ("decl", "assign") and toks[0][1].startswith("$"):
            scope[toks[0][1]] = self.eval_pipeline(toks[2:], dot, scope)
            return None
        return self.eval_pipeline(toks, dot, scope)

    # -- nodes --

    def render_nodes(self, nodes, dot, scope) -> str:
        out = []
        for kind, node in nodes:
            if kind == "text":
                out.append(node)
            elif kind == "expr":
                v = self.eval_expr(node, dot, scope)
                if not re.match(r"^\$\w+\s*:?=", node.strip()):
                    out.append(to_str(v))
            else:
                out.append(self.render_block(node, dot, scope))
        return "".join(out)

    def render_block(self, node, dot, scope) -> str:
        kind, expr = node["kind"], node["expr"]
        inner = dict(scope)
        if kind == "if":
            if truthy(self.eval_expr(expr, dot, inner)):
                return self.render_nodes(node["body"], dot, inner)
            return self.render_nodes(node["else"], dot, dict(scope))
        if kind == "with":
            v = self.eval_expr(expr, dot, inner)
            if truthy(v):
                return self.render_nodes(node["body"], v, inner)
            return self.render_nodes(node["else"], dot, dict(scope))
        if kind == "range":
            m = re.match(r"^(\$\w+)\s*(?:,\s*(\$\w+)\s*)?:=\s*(.*)$", expr, re.S)
            names, src = ((m.group(1), m.group(2)), m.group(3)) if m else ((None, None), expr)
            coll = self.eval_expr(src, dot, inner)
            pairs = sorted(coll.items()) if isinstance(coll, dict) else list(enumerate(coll or []))
            if not pairs:
                return self.render_nodes(node["else"], dot, dict(scope))
            out = []
            for k, v in pairs:
                s = dict(scope)
                if names[1]:
                    s[names[0]], s[names[1]] = k, v
                elif names[0]:
                    s[names[0]] = v
                out.append(self.render_nodes(node["body"], v, s))
            return "".join(out)
        raise TemplateError(f"unknown block {kind}")

    def render_chart(self):
        tdir = self.chart / "templates"
        for helper in sorted(tdir.glob("_*.tpl")):
            parse(helper.read_text(), self.defines)
        docs = []
        for path in sorted(tdir.glob("*.yaml")):
            nodes = parse(path.read_text(), self.defines)
            text = self.render_nodes(nodes, self.root, {"$": self.root})
            docs.append((path.name, text))
        notes = None
        if (tdir / "NOTES.txt").exists():
            nodes = parse((tdir / "NOTES.txt").read_text(), self.defines)
            notes = self.render_nodes(nodes, self.root, {"$": self.root})
        return docs, notes


def deep_merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base.get(k), v) if k in base else v
        return out
    return over


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chart")
    ap.add_argument("-f", "--values", action="append", default=[])
    ap.add_argument("--release", default="memvox")
    ap.add_argument("--namespace", default="memvox")
    ap.add_argument("--notes", action="store_true")
    a = ap.parse_args()
    chart = pathlib.Path(a.chart)
    values = yaml.safe_load((chart / "values.yaml").read_text())
    for f in a.values:
        values = deep_merge(values, yaml.safe_load(pathlib.Path(f).read_text()) or {})
    try:
        docs, notes = Renderer(chart, values, a.release, a.namespace).render_chart()
    except TemplateError as e:
        sys.exit(f"helm_render: {e}")
    for name, text in docs:
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            if doc.strip() and any(l.strip() and not l.lstrip().startswith("#") for l in doc.splitlines()):
                sys.stdout.write(f"---\n# Source: {chart.name}/templates/{name}\n{doc.strip(chr(10))}\n")
    if a.notes and notes:
        sys.stderr.write(notes)


if __name__ == "__main__":
    main()
