"""The vocabulary of a case: enumerations shared by the API, the console and the database, with labels."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AssignmentMethod",
    "AssignmentStatus",
    "Cause",
    "ChangeKind",
    "ChangeStatus",
    "DisclosureKind",
    "Instance",
    "PartyRole",
    "PartyType",
    "PauseKind",
    "Side",
    "label",
]


class Cause(StrEnum):
    """Cause of action: labor-dispute subtypes (劳动争议案由)."""

    WAGES = "wages"  # 追索劳动报酬
    SEVERANCE = "severance"  # 经济补偿金 / 赔偿金
    CONTRACT = "labor_contract"  # 劳动合同纠纷 (订立、履行、变更、解除、终止)
    WORK_INJURY = "work_injury"  # 工伤待遇
    SOCIAL_INSURANCE = "social_insurance"  # 社会保险
    OVERTIME = "overtime"  # 加班费
    LABOR_RELATIONSHIP = "labor_relationship"  # 确认劳动关系
    DISPATCH = "labor_dispatch"  # 劳务派遣
    NON_COMPETE = "non_compete"  # 竞业限制
    OTHER = "other"


class Instance(StrEnum):
    FIRST = "first"
    SECOND = "second"


class Side(StrEnum):
    APPLICANT = "applicant"  # 申请人 / 原告
    RESPONDENT = "respondent"  # 被申请人 / 被告


class PartyRole(StrEnum):
    PRINCIPAL = "principal"  # the worker or employer itself
    AGENT = "agent"  # 委托代理人 (lawyer or other agent)
    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人 of an employer


class PartyType(StrEnum):
    WORKER = "worker"  # 劳动者 (natural person)
    EMPLOYER = "employer"  # 用人单位
    PERSON = "person"  # an agent or representative (natural person)


class AssignmentMethod(StrEnum):
    JOINT_CHOICE = "joint_choice"  # 当事人共同选定
    DESIGNATED = "designated"  # 法院指定


class AssignmentStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # not accepted within 3 working days
    REPLACED = "replaced"  # the court designated someone else, or a change request was granted


class DisclosureKind(StrEnum):
    NONE = "none"  # no conflict to disclose
    PARTY_OR_RELATIVE = "party_or_relative"
    INTEREST = "interest"
    OTHER_RELATIONSHIP = "other_relationship"


class ChangeKind(StrEnum):
    RECUSAL = "recusal"  # 回避
    CHANGE = "change"  # 更换调解员


class ChangeStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class PauseKind(StrEnum):
    APPRAISAL = "appraisal"  # 鉴定评估
    SUSPECTED_FALSE_MEDIATION = "suspected_false_mediation"  # 涉嫌虚假调解
    MEDIATOR_CHANGE = "mediator_change"  # from a granted change until the new mediator accepts


_LABELS: dict[str, tuple[str, str]] = {
    "wages": ("追索劳动报酬", "Unpaid wages"),
    "severance": ("经济补偿金/赔偿金", "Severance or compensation"),
    "labor_contract": ("劳动合同纠纷", "Labor contract"),
    "work_injury": ("工伤待遇", "Work-injury benefits"),
    "social_insurance": ("社会保险", "Social insurance"),
    "overtime": ("加班费", "Overtime pay"),
    "labor_relationship": ("确认劳动关系", "Existence of an employment relationship"),
    "labor_dispatch": ("劳务派遣", "Labor dispatch"),
    "non_compete": ("竞业限制", "Non-compete"),
    "other": ("其他", "Other"),
    "first": ("一审", "First instance"),
    "second": ("二审", "Second instance"),
    "applicant": ("申请人", "Applicant"),
    "respondent": ("被申请人", "Respondent"),
    "principal": ("当事人本人", "Party"),
    "agent": ("委托代理人", "Agent"),
    "legal_representative": ("法定代表人", "Legal representative"),
    "worker": ("劳动者", "Worker"),
    "employer": ("用人单位", "Employer"),
    "person": ("自然人", "Person"),
    "joint_choice": ("当事人共同选定", "Chosen jointly by the parties"),
    "designated": ("法院指定", "Designated by the court"),
    "pending": ("待处理", "Pending"),
    "accepted": ("已接受", "Accepted"),
    "declined": ("已拒绝", "Declined"),
    "expired": ("逾期未接受", "Not accepted in time"),
    "replaced": ("已更换", "Replaced"),
    "none": ("无需披露事项", "Nothing to disclose"),
    "party_or_relative": ("系当事人或其近亲属", "Party or a party's relative"),
    "interest": ("与纠纷有利害关系", "Interest in the dispute"),
    "other_relationship": ("其他可能影响公正的关系", "Other relationship"),
    "recusal": ("申请回避", "Recusal"),
    "change": ("申请更换调解员", "Change of mediator"),
    "granted": ("准许", "Granted"),
    "refused": ("驳回", "Refused"),
    "appraisal": ("鉴定评估", "Appraisal"),
    "suspected_false_mediation": ("涉嫌虚假调解", "Suspected false mediation"),
    "mediator_change": ("更换调解员", "Change of mediator"),
    "ordinary": ("普通程序", "Ordinary procedure"),
    "simple": ("简易程序", "Simple procedure"),
    "delegated": ("委派调解", "Delegated (pre-filing)"),
    "entrusted": ("委托调解", "Entrusted (post-filing)"),
}


def label(value: str, language: str = "zh-CN") -> str:
    """The Chinese (default) or English label of a vocabulary value; the value itself if unknown."""
    pair = _LABELS.get(value)
    if pair is None:
        return value
    return pair[1] if language.startswith("en") else pair[0]
