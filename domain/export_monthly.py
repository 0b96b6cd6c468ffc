"""The monthly report as an Excel sheet (SPEC §8: every report to Excel): the figures of
domain.monthly.figures for one month, within what the user may see, as titled tables one under
another — the tables the report page draws as charts, with their numbers. A kind of
domain.exports (written by the worker like the lists, a few hundred rows)."""
from __future__ import annotations

from domain.errors import N_


class Heading(list):
    """A row written in bold (a table's title or its column names)."""


def lines(session, user, month: str, now, _) -> list[list]:
    from domain.intake import CHANNEL_LABELS
    from domain.monthly import figures
    from domain.severity import SEVERITY_LABELS
    from domain.workflow.choices import CAUSES
    d = figures(session, user, month, now=now)
    out: list[list] = [Heading([_(N_("月度客诉报告")), d["month"]]), []]

    def table(title, header, rows):
        out.append(Heading([_(title)]))
        out.append(Heading([_(h) for h in header]))
        out.extend(list(r) for r in rows)
        out.append([])

    table(N_("概况"), (N_("项目"), N_("数值")), [
        [_(N_("受理投诉")), d["total"]], [_(N_("已结案")), d["closed"]], [_(N_("按时结案")), d["closed_in_time"]],
        [_(N_("二次投诉")), d["repeats"]], [_(N_("已评价")), d["rated"]], [_(N_("平均满意度")), d["satisfaction_avg"]]])
    table(N_("频次×紧急程度"), (N_("类别"), N_("紧急"), N_("普通"), N_("不急"), N_("合计"), N_("高频")),
          [[label, high, medium, low, n, _(N_("是")) if frequent else ""]
           for _i, label, high, medium, low, n, frequent in d["matrix"]])
    table(N_("类别（帕累托）"), (N_("类别"), N_("件数"), N_("占比"), N_("累计占比")),
          [[label, n, share, running] for _k, label, n, share, running in d["pareto_categories"]])
    table(N_("原因类别（帕累托）"), (N_("原因"), N_("件数"), N_("占比"), N_("累计占比")),
          [[_(CAUSES[k]) if k in CAUSES else k, n, share, running] for k, _l, n, share, running in d["causes"]])
    table(N_("严重程度"), (N_("严重程度"), N_("件数")),
          [[_(SEVERITY_LABELS[s]) if s in SEVERITY_LABELS else s, n] for s, n in d["severity"]])
    table(N_("渠道"), (N_("渠道"), N_("件数")),
          [[_(CHANNEL_LABELS[c]) if c in CHANNEL_LABELS else c, n] for c, n in d["channel"]])
    table(N_("受理单位"), (N_("单位"), N_("所属分公司"), N_("件数")),
          [[name, branch, n] for _i, name, _kind, branch, n in d["receiving"]])
    table(N_("责任部门"), (N_("部门"), N_("件数")),
          [[name or _(N_("未分派")), n] for _i, name, n in d["departments"]])
    table(N_("商品"), (N_("商品"), N_("件数")), d["products"])
    table(N_("满意度"), (N_("评分"), N_("件数")), d["satisfaction"])
    table(N_("12 个月趋势"), (N_("月份"), N_("受理"), N_("按时结案")), [row[:3] for row in d["trend"]])
    return out
