"""Words in "what happened" that suggest food safety, health or personal safety (SPEC §2: such a
complaint is major). The clerk is prompted to tick the safety box — a hint, never forced: "玻璃" may
be the packaging's window and "医院" where the customer works. The intake form's script reads the
same list from the page, so this is the one place to edit it.
"""
from __future__ import annotations

SAFETY_WORDS: tuple[str, ...] = (
    # injuries
    "受伤", "划破", "划伤", "割伤", "割破", "扎伤", "刺伤", "烫伤", "烧伤", "流血", "出血", "骨折",
    "窒息", "噎住", "崩牙", "硌牙",
    # illness after eating or using the product
    "食物中毒", "中毒", "腹泻", "拉肚子", "呕吐", "过敏",
    # what should not be there
    "异物", "玻璃", "金属", "铁丝", "钢丝", "发霉", "霉变", "变质",
    # the customer needed a doctor
    "住院", "送医", "就医", "急诊", "医院",
)


def safety_words_in(text: str | None, words: tuple[str, ...] = SAFETY_WORDS) -> list[str]:
    """The words of the list that occur in `text`, in the list's order, leaving out one that is
    part of a longer one found ("中毒" when "食物中毒" is there): the hint names what it saw."""
    if not text:
        return []
    found = [w for w in words if w in text]
    return [w for w in found if not any(o != w and w in o for o in found)]
