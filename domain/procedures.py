"""Where a rule comes from, in the words people at the company use: the procedure's title and clause.

The time-limit table (domain.sla) keeps each number's source as the developers cite it ("seed 001
四.2: 销售分公司 5 天"), and a running clock stores the text it started with. Screens never show
that shorthand; `cite()` turns it into the procedure's name (《客户投诉管理办法》四.2：销售分公司
5 天). It also reads the texts stored by clocks started before this existed, so nothing has to be
rewritten in the database. The titles are those of the procedures in the seeds.
"""
from __future__ import annotations

import re

# The prefix before ":" as written in domain.sla → the procedure and clause.
_PREFIXES = {
    "generic": "通用时限",
    # the last document of the procedures collection: 24 h contact, 48 h solution, 72 h revisit
    "seed 001 末篇": "《客户投诉处理制度》第五条",
    "seed 004 / seed 001 末篇": "《客户投诉处理制度》第五条、GB/T 19012《组织投诉处理指南》",
    "seed 002": "《银行客户投诉处理管理办法》第十一条",
    "seed 000 IATF": "《客户投诉处理程序》（IATF 16949）",
    "seed 000 食品厂 3.3": "《顾客投诉的控制程序》（食品工厂）3.3",
    "seed 003": "《食品厂客户投诉闭环处理制度》",
}
# Rules on inquiries and "complex" complaints are in the consultation procedure, whatever the
# developers' shorthand says.
_BY_TEXT = (("咨询", "《咨询和投诉处理制度》"), ("复杂投诉", "《咨询和投诉处理制度》"))
# Any other shorthand: the seed's document.
_SEEDS = {
    "000": "《顾客投诉和售后服务管理程序》",
    "001": "《客户投诉管理办法》",
    "002": "《咨询和投诉处理制度》",
    "003": "《食品厂客户投诉闭环处理制度》",
    "004": "GB/T 19012《组织投诉处理指南》",
}
_SEED = re.compile(r"seed (\d{3})")
_CLAUSE = re.compile(r"^seed (\d{3})\s+([一二三四五六七八九十]+(?:\.\d+)*|\d+(?:\.\d+)*)$")


def _name(prefix: str, text: str) -> str:
    for start, name in _BY_TEXT:
        if text.startswith(start) and prefix.startswith("seed"):
            return name
    if prefix in _PREFIXES:
        return _PREFIXES[prefix]
    clause = _CLAUSE.match(prefix)
    if clause and clause.group(1) in _SEEDS:
        return _SEEDS[clause.group(1)] + clause.group(2)
    names = [_SEEDS.get(n, "公司制度") for n in _SEED.findall(prefix)]
    return "、".join(dict.fromkeys(names)) or "公司制度"


def cite(source: str | None) -> str:
    """The source of a limit or rule as a reader should see it (never "seed"/"generic")."""
    if not source:
        return ""
    prefix, sep, text = source.partition(":")
    if not sep:
        return _SEED.sub(lambda m: _SEEDS.get(m.group(1), "公司制度"), source)
    text = text.strip()
    return f"{_name(prefix.strip(), text)}：{text}"
