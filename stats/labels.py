"""The words of the statistics in Simplified Chinese (first) and English: the console page, the PDF report.

:data:`MESSAGES` has the same shape as the console's catalogue (:mod:`web.console.i18n` includes it), keys
under ``stats.``; every figure of :data:`stats.figures.FIELDS` is named ``stats.field.<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from cases.lifecycle import REASON_LABELS_EN, REASON_LABELS_ZH, TerminationReason

__all__ = ["MESSAGES", "reason_short", "text"]

ZH: Final = "zh-CN"
EN: Final = "en"


def _m(zh: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({ZH: zh, EN: en})


_REASON_SHORT: Final = {
    TerminationReason.SETTLED_WITHDRAWN: ("自行和解撤回", "Settled, withdrawn"),
    TerminationReason.PARTY_UNREACHABLE: ("无法联系当事人", "Party unreachable"),
    TerminationReason.PARTY_REFUSES: ("当事人拒绝调解", "Party refuses"),
    TerminationReason.POSITIONS_TOO_FAR: ("分歧较大", "Too far apart"),
    TerminationReason.PERIOD_EXPIRED: ("期限届满", "Period expired"),
    TerminationReason.REFUSED_TO_SIGN: ("拒绝签章", "Refused to sign"),
    TerminationReason.OTHER: ("其他", "Other"),
}

MESSAGES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "stats.nav": _m("统计分析", "Statistics"),
        "stats.title": _m("调解工作统计分析", "Mediation statistics"),
        "stats.report_title": _m("调解工作季度分析报告", "Quarterly mediation analysis report"),
        "stats.help": _m(
            "按季度或任意日期区间（北京时间）统计调解员、调解组织和法院的调解工作，口径见统计说明。",
            "Mediation work per mediator, organisation and court, by quarter or any date range (Beijing "
            "time); see the definitions for what each figure counts.",
        ),
        "stats.period": _m("统计期间", "Period"),
        "stats.quarter": _m("季度", "Quarter"),
        "stats.from": _m("起始日期", "From"),
        "stats.to": _m("截止日期", "To"),
        "stats.group_by": _m("分组", "Group by"),
        "stats.group.mediator": _m("调解员", "Mediator"),
        "stats.group.organisation": _m("调解组织", "Organisation"),
        "stats.group.court": _m("法院", "Court"),
        "stats.show": _m("查询", "Show"),
        "stats.download_csv": _m("下载 CSV", "Download CSV"),
        "stats.scope": _m("统计范围", "Scope"),
        "stats.scope.all": _m("全部法院和调解组织", "All courts and organisations"),
        "stats.generated": _m("生成时间：{at}", "Generated {at}"),
        "stats.overview": _m("总体情况", "Overview"),
        "stats.trends": _m("季度趋势", "Trends by quarter"),
        "stats.trends.counts": _m("收案、结案与调解成功件数", "Cases received, closed and agreed"),
        "stats.trends.rates": _m("调解成功率与音视频调解率", "Success rate and audio/video rate"),
        "stats.ranking": _m("调解员排名", "Ranking of mediators"),
        "stats.ranking.help": _m(
            "按调解成功件数排序，其次为调解成功率、结案数。",
            "By cases agreed, then success rate, then cases closed.",
        ),
        "stats.rank": _m("名次", "Rank"),
        "stats.reasons": _m("调解终结原因", "Reasons mediation ended without agreement"),
        "stats.durations": _m("调解时长分布（天）", "Duration of mediation (days)"),
        "stats.deadlines_jc": _m("期限执行与司法确认", "Deadlines and judicial confirmation"),
        "stats.by_group": _m("分组明细", "Figures by group"),
        "stats.none": _m("本期间无数据。", "No data for this period."),
        "stats.unassigned": _m("未分配调解员", "No mediator"),
        "stats.total": _m("合计", "Total"),
        "stats.name": _m("名称", "Name"),
        "stats.figure": _m("指标", "Figure"),
        "stats.value": _m("数值", "Value"),
        "stats.days": _m("{value} 天", "{value} days"),
        "stats.hours": _m("{value} 小时", "{value} h"),
        "stats.count": _m("{value} 件", "{value}"),
        "stats.definitions": _m(
            "口径：收案按法院委派/委托日期，接受按调解期限起算日期，结案按结案日期计入期间；成功率、音视频"
            "调解率、调解时长和期限执行情况均以期间内结案的案件计算；调解时长为接受至结案的天数，扣除中止"
            "（鉴定评估、涉嫌虚假调解）及更换调解员期间。",
            "Received counts by the date the court delegated or entrusted the case, accepted by the start of "
            "the mediation period, closed by the closing date; success rate, audio/video rate, duration and "
            "deadline compliance are over the cases closed within the period; duration is the days from "
            "acceptance to closing minus suspensions (appraisal, suspected false mediation) and changes of "
            "mediator.",
        ),
        "stats.field.received": _m("收案数", "Received"),
        "stats.field.accepted": _m("接受数", "Accepted"),
        "stats.field.closed": _m("结案数", "Closed"),
        "stats.field.agreed": _m("调解成功", "Agreed"),
        "stats.field.agreed_full": _m("全部达成协议", "Agreed on all claims"),
        "stats.field.agreed_partial": _m("部分达成协议", "Agreed on part"),
        "stats.field.terminated": _m("调解不成", "Not agreed"),
        **{
            f"stats.field.terminated_{reason.value}": _m(f"终结：{zh}", f"Ended: {en}")
            for reason, (zh, en) in _REASON_SHORT.items()
        },
        "stats.field.success_rate": _m("调解成功率", "Success rate"),
        "stats.field.av_cases": _m("音视频调解案件", "Cases with video"),
        "stats.field.av_rate": _m("音视频调解率", "Audio/video rate"),
        "stats.field.duration_cases": _m("计时案件", "Cases timed"),
        "stats.field.duration_median_days": _m("调解时长中位数（天）", "Median duration (days)"),
        "stats.field.duration_mean_days": _m("平均调解时长（天）", "Mean duration (days)"),
        "stats.field.duration_0_7": _m("0–7 天", "0–7 days"),
        "stats.field.duration_8_15": _m("8–15 天", "8–15 days"),
        "stats.field.duration_16_30": _m("16–30 天", "16–30 days"),
        "stats.field.duration_31_60": _m("31–60 天", "31–60 days"),
        "stats.field.duration_61_plus": _m("61 天以上", "61 days or more"),
        "stats.field.acceptance_cases": _m("接受计时案件", "Acceptances timed"),
        "stats.field.acceptance_median_hours": _m("接受用时中位数（小时）", "Median time to accept (h)"),
        "stats.field.within_period": _m("期限内结案", "Closed within the period"),
        "stats.field.overdue": _m("超期结案", "Closed late"),
        "stats.field.extended": _m("延长期限", "Extended"),
        "stats.field.compliance_rate": _m("期限内结案率", "Closed in time"),
        "stats.field.jc_applied": _m("申请司法确认", "JC applied for"),
        "stats.field.jc_confirmed": _m("司法确认", "JC confirmed"),
        "stats.field.jc_rejected": _m("司法确认驳回", "JC rejected"),
    }
)


def text(language: str, key: str, /, **values: object) -> str:
    """The message ``key`` in ``language`` (zh-CN for anything but English) with ``values`` filled in."""
    entry = MESSAGES[key]
    words = entry[EN] if language == EN else entry[ZH]
    return words.format(**values) if values else words


def reason_short(language: str, reason: TerminationReason) -> str:
    """A short name of an OMR 25 reason for charts; the rule's full wording is REASON_LABELS_*."""
    zh, en = _REASON_SHORT.get(reason, (REASON_LABELS_ZH[reason], REASON_LABELS_EN[reason]))
    return en if language == EN else zh
