"""``kpitools new-client``: a client folder ready for ``check-data`` and ``report``.

The starter kit lives in ``templates/client_starter/``: ``client.yml.tmpl`` and
``README.md.tmpl`` (``${placeholders}`` filled here), and ``starter.yaml`` (intake files per
business model, default funnel, example values). Column names, types and zh-TW spellings come
from the canonical contract ``kpitools/schemas/tables.yaml``, so the intake files always match
what the loaders expect.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import date
from pathlib import Path
from string import Template
from typing import Any

from kpitools._errors import ArgumentError, KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml
from kpitools.report.export import LANGS, atomic_write, check_lang
from kpitools.report.runner import MAX_SLUG_LENGTH, SLUG_PATTERN, TEMPLATES_DIR

__all__ = ["STARTER_DIR", "new_client"]

STARTER_DIR = TEMPLATES_DIR / "client_starter"
_PACKAGE = Path(__file__).resolve().parents[1]
_TABLES_YAML = _PACKAGE / "schemas" / "tables.yaml"
_MODELS_YAML = _PACKAGE / "catalog" / "business_models.yaml"
_STRATEGIES_YAML = _PACKAGE / "catalog" / "strategies.yaml"
_CJK = re.compile(r"[\u3400-\u9fff]")


def _yaml(path: Path) -> Any:
    return package_yaml(path.read_text(encoding="utf-8"))


def new_client(
    slug: str,
    *,
    name: str,
    lang: str = "zh-TW",
    business_model: str = "saas",
    root: str | os.PathLike[str] = "clients",
    name_en: str | None = None,
) -> Path:
    """Create ``root/slug/`` with client.yml, empty intake CSVs, intake_guide.md and README.md.

    Parameters
    ----------
    slug : folder name and report folder name: lower-case letters, digits, ``-``, ``_``.
    name : the client's name, written as the ``lang`` name (the other language repeats it until
        the analyst translates it, unless ``name_en`` gives the English one).
    lang : report language, ``"zh-TW"`` or ``"en"``.
    business_model : ``saas``, ``ecommerce``, ``services`` or ``content``; picks the intake files.
    root : parent folder (default ``clients/``, which git ignores).
    name_en : the client's English name (``--name-en "Acme Co., Ltd."``), when ``name`` is the
        Chinese one.

    Returns the new folder. Refuses to touch an existing folder. The folder appears complete or
    not at all: it is built beside its destination and renamed into place.
    """
    if not SLUG_PATTERN.match(slug):
        shown = repr(slug)
        if len(slug) > MAX_SLUG_LENGTH:
            shown = f"{slug[:20]!r}… ({len(slug)} characters)"
        raise ArgumentError(
            f"Client slug {shown} is not allowed: use at most {MAX_SLUG_LENGTH} lower-case "
            "letters, digits, '-' or '_', starting with a letter or digit.\nHint: e.g. "
            "'acme-tea' or 'cloudledger'."
        )
    check_lang(lang)
    if not name or not name.strip():
        raise KpitoolsError("The client needs a name.\nHint: --name '雲帳科技股份有限公司'.")
    models = _yaml(_MODELS_YAML)
    if business_model not in models:
        guess = did_you_mean(business_model, list(models))
        raise KpitoolsError(
            f"Unknown business model {business_model!r}; expected one of {sorted(models)}."
            + (f"\nHint: did you mean '{guess}'?" if guess else "")
        )
    root_path = Path(root)
    dest = root_path / slug
    if dest.exists():
        raise KpitoolsError(
            f"{dest} already exists; new-client never overwrites a client folder.\n"
            "Hint: choose another slug, or remove the folder yourself if it is a mistake."
        )
    starter = _yaml(STARTER_DIR / "starter.yaml")
    schema = _yaml(_TABLES_YAML)
    tables = starter["tables"][business_model]
    root_path.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{slug}.", dir=root_path))
    try:
        _write_kit(work, dest, slug=slug, name=name.strip(), lang=lang,
                   name_en=name_en.strip() if name_en and name_en.strip() else None,
                   business_model=business_model, tables=tables, schema=schema,
                   starter=starter, model_label=models[business_model])
        os.chmod(work, 0o777 & ~_umask())
        work.rename(dest)  # fails if a non-empty dest appeared meanwhile; never merges
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _write_kit(work: Path, dest: Path, *, slug: str, name: str, lang: str, business_model: str,
               tables: list[str], schema: dict, starter: dict, model_label: dict,
               name_en: str | None = None) -> None:
    other = next(code for code in LANGS if code != lang)
    names = {lang: name, other: name}
    if name_en:
        names["en"] = name_en
    strategies = list(_yaml(_STRATEGIES_YAML))
    values = {
        "slug": slug,
        "created": date.today().isoformat(),
        "root_hint": dest.as_posix(),
        # JSON strings are valid YAML scalars, so any name (quotes, colons, #) stays intact.
        "name_zh": json.dumps(names["zh-TW"], ensure_ascii=False),
        "name_en": json.dumps(names["en"], ensure_ascii=False),
        "title": name,
        "lang": lang,
        "business_model": business_model,
        "business_model_label": f"{model_label['zh-TW']} / {model_label['en']}",
        "strategy_hint": "[" + ", ".join(strategies[:2]) + "]",
        "funnel_stages": "[" + ", ".join(starter["funnel_stages"][business_model]) + "]",
        "tables": "\n".join(f"  {t}: {{file: {t}.csv}}" for t in tables),
        "file_list": "\n".join(
            f"   - `{t}.csv`: {starter['table_titles'][t]['zh-TW']} / "
            f"{starter['table_titles'][t]['en']}" for t in tables
        ),
    }
    for template, target in (("client.yml.tmpl", "client.yml"), ("README.md.tmpl", "README.md")):
        text = (STARTER_DIR / template).read_text(encoding="utf-8")
        atomic_write(work / target, Template(text).substitute(values))
    for table in tables:
        header = ",".join(schema[table]["columns"])
        atomic_write(work / f"{table}.csv", header + "\n")
    atomic_write(work / "intake_guide.md", _intake_guide(tables, schema, starter))


def _intake_guide(tables: list[str], schema: dict, starter: dict) -> str:
    """Markdown: per intake file, every column with its zh-TW/en name, type and an example."""
    lines = [
        "# 資料填寫說明 · Data intake guide",
        "",
        "每個 CSV 檔的第一列是欄位名稱，請保留原樣；每筆資料一列。日期寫成 2024-09-15，金額只填數字"
        "（未稅，不含 NT$ 與逗號也可以）。標示「必填」的欄位不可空白。",
        "",
        "Keep the first row of each CSV file (the column names) as it is and add one record per "
        "row. Write dates as 2024-09-15 and amounts as plain numbers, tax excluded. Columns marked "
        "required must not be empty.",
    ]
    dtypes = starter["dtypes"]
    for table in tables:
        spec = schema[table]
        title = starter["table_titles"][table]
        lines += [
            "",
            f"## `{table}.csv`: {title['zh-TW']} · {title['en']}",
            "",
            f"{spec['description']['zh-TW']} {spec['description']['en']}",
            "",
            "| 欄位 Column | 中文名稱 | 類型 Type | 必填 Required | 範例 Example |",
            "|---|---|---|---|---|",
        ]
        examples = starter["examples"].get(table, {})
        for column, col in spec["columns"].items():
            zh = next((a for a in col.get("aliases", []) if _CJK.search(str(a))), "")
            kind = dtypes[col["dtype"]]
            kind_text = f"{kind['zh-TW']} {kind['en']}"
            if col.get("allowed"):
                kind_text += ": " + ", ".join(col["allowed"])
            required = "必填 yes" if col.get("required") else "選填 no"
            example = _cell(examples.get(column, ""))
            lines.append(f"| `{column}` | {zh} | {kind_text} | {required} | {example} |")
    lines += [
        "",
        "其他欄位名稱（例如 CRM 匯出的「客戶編號」）也能讀取："
        "在 `client.yml` 的 `columns:` 對應到上表的欄位即可。",
        "Other header spellings (a CRM export's own names) also work: map them to the columns "
        "above with `columns:` in `client.yml`.",
        "",
    ]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|")
