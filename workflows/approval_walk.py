"""The approval walk of a project's registration (ProjectLifecycle) as plain state: what the
workflow knows of the submission, the chain and the open step, and how each event changes it.

No Temporal here (no clock, no activity, no condition): ProjectLifecycle asks this object what to
do, runs the activities, feeds their results back and waits on its conditions; the unit tests
(tests/unit/test_approval_walk.py) walk it without a worker.

    submitted ─► begin_round ─► planned | resumed ─► open_step ─► step_opened ─┬─ Skip ────► next
                                                                               ├─ Rejected
                                                                               └─ Wait ─► (timer_due ─►
        timer_fired)* / decision / withdrawn ─► step_done ─► next | returned | rejected | cancelled
    finished / returned / after_cancel close the round; ack() releases the deciding callers.

An approval that settles the open step may carry the next step already opened by the approval
service in the same transaction (``next_opening`` predicts it, ``take_preopened`` hands it to the
next ``open_step`` in place of an OpenStep call; patch "open-next-in-decision"). Planning a chain
does the same for its first step (``first_opening``, then ``planned`` holds the answer; patch
"plan-opens-first"), and a resubmission for the step it resumes at (``resume_opening``, then
``resumed``; patch "resume-opens-step").

Callers that decide a step wait until the walk has acted on the opening they decided
(``acted_seq``; the first version keys them by ``acted``): the next step open, or the round done.
Every method keeps the order of the first, interleaved version's state changes, so the workflow's
command sequence is the one recorded histories hold (tests/replay).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.contracts.approval import DecisionOutcome, FireTimerResult, OpenedStep, PlannedStep, TaskRef, TimerRef
from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_VALIDATION
from workflows.contracts.lifecycle import LifecycleCarry, LifecycleState
from workflows.contracts.registry import ProjectSnapshot

ACTIONS = ("approve", "reject")
ACTIONS_V2 = ("approve", "reject", "return", "transfer", "add_approver")
SUBMITTABLE = ("draft", "returned")
WITHDRAWABLE = ("draft", "approval", "returned")
# 催办 at most this often per project.
REMIND_INTERVAL = timedelta(minutes=10)
SYSTEM = "system"
TIMEOUT_COMMENT = "审批超时，按策略自动处理"


def text(locale: str, zh: str, en: str) -> str:
    return en if locale.lower().startswith("en") else zh


def following_opening(action: str, *, step_index: int, steps: int, open_seq: int,
                      settled: bool) -> tuple[int, int] | None:
    """The opening (step index, seq) that follows if ``action`` settles the open step
    ``step_index`` approved: the next of ``steps`` steps, opened afresh as opening ``open_seq + 1``.
    None when it cannot (not an approval, no step open, the last step, ``settled`` already).
    Shared by ApprovalWalk and ChainWalk (acceptance, change)."""
    if action != "approve" or settled or step_index < 0 or step_index + 1 >= steps:
        return None
    return step_index + 1, open_seq + 1


def held_opening(held: tuple[int, int, OpenedStep] | None, index: int, seq: int) -> OpenedStep | None:
    """The step opened by another call (``held``: index, seq, answer) when it is this opening."""
    if held is None or held[:2] != (index, seq):
        return None
    return held[2]


@dataclass(frozen=True)
class Refusal:
    """Why an update is refused: its error type, the message in both languages and, for bad
    input, the field it names."""

    type: str
    zh: str
    en: str
    field: str = ""
    field_zh: str = ""
    field_en: str = ""

    def message(self, locale: str) -> str:
        return text(locale, self.zh, self.en)

    def violations(self, locale: str) -> list[dict[str, str]]:
        if not self.field:
            return []
        return [{"field": self.field, "message": text(locale, self.field_zh, self.field_en)}]


NOT_PENDING = Refusal(ERR_CONFLICT, "项目不在审批中", "project is not pending approval")


@dataclass(frozen=True)
class Skip:
    """The step opened already settled (approved or skipped): go on with the next one;
    ``auto_approved``: record the system's approval."""

    auto_approved: bool


@dataclass(frozen=True)
class Rejected:
    """The step opened rejected: the round ends rejected."""


@dataclass(frozen=True)
class Wait:
    """The step waits for its approvers: tell the pending ones, fire the timers as they fall due."""

    pending: list[TaskRef]


@dataclass(frozen=True)
class TimerDue:
    """The open step's next timer and the seconds until it is due (<= 0: fire it now)."""

    timer: TimerRef
    delay: float


@dataclass(frozen=True)
class Decided:
    """A decision recorded by the approval service, as it bears on the walk: ``current`` (the
    open step), ``settles`` (approved / rejected / returned), the opening it was made on (``seq``:
    the caller waits for ``acted(seq)`` when it settles the current step) and whether the open
    step's approvers changed."""

    current: bool
    settles: bool
    seq: int
    approvers_changed: bool

    @property
    def wait_for_ack(self) -> bool:
        return self.current and self.settles


@dataclass
class ApprovalWalk:
    project: ProjectSnapshot
    stage: str = "draft"
    status: str = "draft"
    # Successful submissions so far (one approval round each) and the rounds handled.
    round: int = 0
    rounds_started: int = 0
    submit_attempts: int = 0
    submitting: bool = False
    # Planning the chain or opening a step is in flight (its instance/tasks are being created):
    # a withdrawal waits for it, so it cancels what was created instead of racing it.
    opening: bool = False
    # The open step: "<instance>:<index>[:<seq>]", its index and pending approvers.
    instance_id: str = ""
    step_key: str = ""
    step_index: int = -1
    approvers: list[str] = field(default_factory=list)
    # Outcome of the open step handed over by a decision or a timer, and who decided it.
    step_outcome: str | None = None
    decider: str = ""
    decision_comment: str = ""
    # First version: steps whose outcome the walk has acted on (decide callers wait for this).
    acted: set[str] = field(default_factory=set)
    unacked: list[str] = field(default_factory=list)
    # ---- approval engine (v2)
    plan: list[PlannedStep] = field(default_factory=list)
    # Position in the plan of the step to open next.
    cursor: int = 0
    # Openings so far; decide callers wait until the walk has acted on the opening they decided.
    open_seq: int = 0
    acted_seq: int = 0
    ack_seq_pending: int = 0
    # The open step was returned to this earlier step (-1: to the submitter).
    return_to: int = -1
    resume_pending: bool = False
    cancelled: bool = False
    # Something happened that the waiting loop should look at (continue-as-new check).
    wake: bool = False
    timers: list[TimerRef] = field(default_factory=list)
    timers_fired: int = 0
    sla_deadline_iso: str = ""
    last_remind_at: str = ""
    runs: int = 1
    # The next step as the approval service opened it inside the decision that approved the open
    # step (patch "open-next-in-decision"), or the first step inside the planning of the chain
    # (patch "plan-opens-first"): (index, seq, opened). Transient, never carried: the main loop
    # takes it when it opens that step, in the activation the answer came in, while the decide
    # caller (or a withdrawal, see ``opening``) still waits (so before any continue-as-new).
    preopened: tuple[int, int, OpenedStep] | None = None

    # ---------------------------------------------------------------- carry over continue-as-new

    def restore(self, c: LifecycleCarry) -> None:
        self.project = ProjectSnapshot(**c.project)
        self.stage, self.status = c.stage, c.status
        self.round, self.rounds_started, self.submit_attempts = c.round, c.rounds_started, c.submit_attempts
        self.instance_id = c.instance_id
        self.plan = [PlannedStep(**s) for s in c.steps]
        self.step_index = c.step_index
        # The opening being waited on has not been acted on yet.
        self.open_seq = c.open_seq
        self.acted_seq = self.ack_seq_pending = c.open_seq - 1
        self.timers_fired = c.timers_fired
        self.resume_pending = c.resume_pending
        self.last_remind_at = c.last_remind_at
        self.runs = c.runs

    def carry(self) -> LifecycleCarry:
        return LifecycleCarry(
            project=dataclasses.asdict(self.project),
            stage=self.stage,
            status=self.status,
            round=self.round,
            rounds_started=self.rounds_started,
            submit_attempts=self.submit_attempts,
            instance_id=self.instance_id,
            steps=[dataclasses.asdict(s) for s in self.plan],
            step_index=self.step_index,
            open_seq=self.open_seq,
            timers_fired=self.timers_fired,
            resume_pending=self.resume_pending,
            last_remind_at=self.last_remind_at,
            runs=self.runs + 1,
        )

    def state(self, project_id: str) -> LifecycleState:
        return LifecycleState(
            project_id=project_id,
            stage=self.stage,
            status=self.status,
            step_index=self.step_index,
            approvers=list(self.approvers),
            instance_id=self.instance_id,
            sla_deadline=self.sla_deadline_iso,
            round=self.round,
            runs=self.runs,
        )

    # ---------------------------------------------------------------- created / submitted

    def created(self, project: ProjectSnapshot) -> bool:
        """The project as created; False when a submit already brought a newer snapshot."""
        if self.round != 0:
            return False
        self.project = project
        self.status = project.status
        return True

    def submit_started(self) -> int:
        """A submission is being recorded: its attempt number (part of its request id)."""
        self.submitting = True
        self.submit_attempts += 1
        return self.submit_attempts

    def submitted(self, project: ProjectSnapshot) -> None:
        self.project = project
        self.stage = "approval"
        self.status = project.status
        self.round += 1

    @property
    def round_due(self) -> bool:
        """A submission is waiting for its round."""
        return self.round > self.rounds_started

    def start_round(self) -> int:
        self.rounds_started = self.round
        return self.round

    # ---------------------------------------------------------------- one round (v2)

    def begin_round(self, *, resuming: bool) -> None:
        """Walk from where it stands: a continued run re-opens the step it was waiting on; a new
        submission plans (or resumes) first, with a withdrawal waiting for it."""
        self.cursor = self.step_index
        if not resuming:
            self.opening = True
            self.stage = "approval"

    @property
    def resumes(self) -> bool:
        """The submission follows a return to the submitter: resume the instance's chain."""
        return self.resume_pending and bool(self.instance_id)

    def first_opening(self) -> tuple[int, int]:
        """The opening (step index, seq) of the first step of a chain about to be planned: the
        cursor after ``planned`` (0) and the next opening number — what ``open_step`` will ask for
        right after planning."""
        return 0, self.open_seq + 1

    def planned(self, instance_id: str, steps: list[PlannedStep], first_opened: OpenedStep | None = None,
                asked: tuple[int, int] | None = None) -> None:
        """The chain as planned. ``asked``: the opening (``first_opening``) the planning asked the
        service to make; its answer (``first_opened``) is held for the main loop's ``open_step``."""
        self.instance_id, self.plan, self.cursor = instance_id, steps, 0
        self.resume_pending = False
        if asked is not None and first_opened is not None and steps and asked[0] == self.cursor:
            self.preopened = (*asked, first_opened)

    def resume_opening(self) -> tuple[int, int] | None:
        """The opening (step index, seq) a resubmission is expected to continue with: the step that
        returned the chain to the submitter (where the service resumes it unless it re-plans) and
        the next opening number. None without a step to resume at."""
        if self.step_index < 0 or self.step_index >= len(self.plan):
            return None
        return self.step_index, self.open_seq + 1

    def resumed(self, steps: list[PlannedStep], resume_from: int, first_opened: OpenedStep | None = None,
                asked: tuple[int, int] | None = None) -> None:
        """The chain as resumed (or re-planned) at ``resume_from``. ``asked``: the opening
        (``resume_opening``) the resume asked the service to make; its answer (``first_opened``,
        only when the chain continues at that step) is held for the main loop's ``open_step``."""
        self.plan, self.cursor = steps, resume_from
        self.resume_pending = False
        if asked is not None and first_opened is not None and asked[0] == resume_from < len(steps):
            self.preopened = (*asked, first_opened)

    def approved_without_steps(self, policy_key: str) -> None:
        """An explicit no-approval policy (or no step applies): the system approves."""
        self.decider = SYSTEM
        self.decision_comment = f"审批策略 {policy_key} 无需审批，提交即通过"

    def next_step(self) -> PlannedStep | None:
        return self.plan[self.cursor] if self.cursor < len(self.plan) else None

    def open_step(self, *, reopen: bool) -> int:
        """The step at the cursor is being opened: its opening number. A re-opening (a continued
        run asking for the step as it is now) keeps the opening and the timers already fired."""
        if not reopen:
            self.open_seq += 1
            self.timers_fired = 0
        self.step_index = self.cursor
        self.step_key = f"{self.instance_id}:{self.cursor}:{self.open_seq}"
        self.step_outcome = None
        self.return_to = -1
        return self.open_seq

    def step_opened(self, opened: OpenedStep, *, reopen: bool) -> Skip | Rejected | Wait:
        """What the opened step asks for. Waiting on it, the previous step's decide caller is
        released: the next step's to-dos exist."""
        if opened.status in ("approved", "skipped"):
            self.ack_seq_pending = self.open_seq
            self.cursor += 1
            return Skip(auto_approved=opened.auto_approved and not reopen)
        if opened.status == "rejected":
            self.ack_seq_pending = self.open_seq
            return Rejected()
        pending = [t for t in opened.tasks if t.status == "pending"]
        self.approvers = sorted({t.approver_id for t in pending})
        self.sla_deadline_iso = opened.due_at
        self.timers = sorted(opened.timers, key=lambda t: t.index)
        self.ack()
        return Wait(pending=pending)

    @property
    def settled(self) -> bool:
        """The open step has an outcome, or the approval was withdrawn."""
        return self.step_outcome is not None or self.cancelled

    def timer_due(self, now: datetime) -> TimerDue | None:
        """The open step's next timer not fired yet, in index order (remind, the SLA's action,
        then each rung of the escalation ladder)."""
        for timer in self.timers:
            if timer.index >= self.timers_fired:
                return TimerDue(timer, (datetime.fromisoformat(timer.at) - now).total_seconds())
        return None

    def escalated(self, pending_approvers: list[str]) -> None:
        self.approvers = sorted(set(pending_approvers))

    def timer_fired(self, timer: TimerRef, result: FireTimerResult) -> None:
        """The timer was applied (or found the step settled: ``fired`` false). A timeout that
        settles the step counts only if no decision got there first."""
        if result.fired and result.step_outcome in ("approved", "rejected") and self.step_outcome is None:
            self.decider = SYSTEM
            self.decision_comment = TIMEOUT_COMMENT
            self.step_outcome = result.step_outcome
        self.timers_fired = timer.index + 1

    def next_opening(self, action: str) -> tuple[int, int] | None:
        """The opening (step index, seq) that follows if ``action`` settles the open step approved:
        the next step of the plan, opened afresh — what ``step_done`` then ``open_step`` will ask
        for. None when it cannot (not an approval, no step waiting, the last step, already settled)."""
        return following_opening(action, step_index=self.step_index, steps=len(self.plan), open_seq=self.open_seq,
                                 settled=self.step_outcome is not None or self.cancelled or self.opening)

    def take_preopened(self, index: int, seq: int) -> OpenedStep | None:
        """The step opened inside the decision (or the planning), when it is this opening; it is
        used once. The opening is then done: a withdrawal waiting for it may go on."""
        held, self.preopened = self.preopened, None
        opened = held_opening(held, index, seq)
        if opened is None:
            return None
        self.opening = False
        return opened

    def decision(self, outcome: DecisionOutcome, user_id: str, comment: str,
                 asked: tuple[int, int] | None = None) -> Decided:
        """A decision recorded by the approval service: the first that settles the open step is
        its outcome; one that does not (transfer, add_approver, one of several) updates its
        approvers. ``asked``: the opening the decision asked the service to make when it approves
        the step; the service's answer (``next_opened``) is held for the main loop."""
        current = outcome.instance_id == self.instance_id and outcome.step_index == self.step_index
        settles = outcome.step_outcome in ("approved", "rejected", "returned")
        changed = False
        if current and settles and self.step_outcome is None:
            self.decider = user_id
            self.decision_comment = comment
            self.return_to = outcome.return_to
            self.step_outcome = outcome.step_outcome
            if asked is not None and outcome.next_opened is not None and outcome.step_outcome == "approved":
                self.preopened = (*asked, outcome.next_opened)
        elif current and not settles:
            self.approvers = sorted(set(outcome.pending_approvers))
            changed = True
        return Decided(current=current, settles=settles, seq=self.open_seq, approvers_changed=changed)

    @property
    def wait_outcome(self) -> str:
        return "cancelled" if self.cancelled else str(self.step_outcome)

    def step_done(self, outcome: str) -> str | None:
        """The open step ended with ``outcome``: the round's outcome ("rejected", "returned",
        "cancelled"), or None to go on at the cursor (the next step, or the earlier step it was
        returned to)."""
        self.ack_seq_pending = self.open_seq
        self.unacked.append(self.step_key)
        if outcome in ("cancelled", "rejected"):
            return outcome
        if outcome == "returned":
            if self.return_to < 0:
                return "returned"
            self.cursor = self.return_to
            return None
        self.cursor += 1
        return None

    # ---------------------------------------------------------------- end of a round

    def ack(self) -> None:
        """The walk has acted on the outcomes handed over: release their decide callers."""
        self.acted.update(self.unacked)
        self.unacked = []
        self.acted_seq = max(self.acted_seq, self.ack_seq_pending)

    def acted_on(self, seq: int) -> bool:
        return self.acted_seq >= seq

    def finished(self, status: str, project: ProjectSnapshot) -> None:
        """Approved ("active") or rejected."""
        self.project = project
        self.stage = status
        self.status = status
        self.approvers = []
        self.ack()

    def returned(self, project: ProjectSnapshot) -> None:
        """Back to the owner: a resubmission resumes at the returning step."""
        self.project = project
        self.stage = self.status = "returned"
        self.approvers = []
        self.resume_pending = True
        self.ack()

    @property
    def cancels_instance(self) -> bool:
        """A withdrawal cancels the approval instance too."""
        return bool(self.instance_id) and self.stage in ("approval", "returned")

    def withdrawn(self, project: ProjectSnapshot, actor_id: str) -> list[str]:
        """Withdrawn (or cancelled by an admin): the approvers who were waiting."""
        previous = list(self.approvers)
        self.project = project
        self.stage = self.status = "cancelled"
        self.decider = actor_id
        self.cancelled = True
        self.wake = True
        return previous

    def after_cancel(self) -> None:
        self.approvers = []
        self.ack_seq_pending = self.open_seq
        self.ack()

    # ---------------------------------------------------------------- actions on the open step

    def reminded(self, now: datetime) -> list[str]:
        self.last_remind_at = now.isoformat()
        return list(self.approvers)

    def current_step_name(self) -> str:
        return self.plan[self.step_index].name if self.plan else ""

    def step_name(self, index: int) -> str:
        return self.plan[index].name if 0 <= index < len(self.plan) else ""

    def reassigned(self, index: int, pending_approvers: list[str]) -> bool:
        """True when the open step's approvers changed."""
        if index != self.step_index:
            return False
        self.approvers = sorted(set(pending_approvers))
        return True

    # ---------------------------------------------------------------- first version

    def open_v1_step(self, instance_id: str, index: int) -> None:
        self.step_key = f"{instance_id}:{index}"
        self.step_index = index
        self.step_outcome = None

    def sla_deadline_v1(self, step: PlannedStep, pending: list[TaskRef], now: datetime) -> datetime | None:
        dues = sorted(datetime.fromisoformat(t.due_at) for t in pending if t.due_at)
        if dues:
            return dues[0]
        if step.sla_seconds > 0:
            return now + timedelta(seconds=step.sla_seconds)
        return None

    def decision_v1(self, outcome: DecisionOutcome, user_id: str, comment: str) -> str | None:
        """First version: the step key whose acting on the caller waits for, if any."""
        key = f"{outcome.instance_id}:{outcome.step_index}"
        known = key == self.step_key or key in self.unacked or key in self.acted
        if not (outcome.step_outcome in ("approved", "rejected") and known):
            return None
        if key == self.step_key and self.step_outcome is None and key not in self.acted:
            self.step_outcome = outcome.step_outcome
            self.decider = user_id
            self.decision_comment = comment
        return key

    # ---------------------------------------------------------------- refusals (validators)

    def submit_refusal(self) -> Refusal | None:
        if self.submitting or self.stage not in SUBMITTABLE:
            return Refusal(ERR_CONFLICT, f"项目当前状态（{self.status}）不能提交",
                           f"project cannot be submitted in status {self.status}")
        return None

    def withdraw_refusal(self) -> Refusal | None:
        if self.submitting or self.cancelled or self.stage not in WITHDRAWABLE:
            return Refusal(ERR_CONFLICT, f"项目当前状态（{self.status}）不能撤回",
                           f"project cannot be withdrawn in status {self.status}")
        return None

    def decide_refusal(self, action: str, to_user_id: str) -> Refusal | None:
        if self.stage != "approval":
            return NOT_PENDING
        if action not in ACTIONS_V2:
            return Refusal(ERR_VALIDATION, "不支持的审批操作", "unsupported decision action", "action",
                           "应为 approve、reject、return、transfer 或 add_approver",
                           "must be approve, reject, return, transfer or add_approver")
        if action in ("transfer", "add_approver") and not to_user_id:
            return Refusal(ERR_VALIDATION, "请指定目标用户", "to_user_id is required", "to_user_id", "必填", "required")
        return None

    def remind_refusal(self, now: datetime) -> Refusal | None:
        if self.stage != "approval" or not self.instance_id:
            return NOT_PENDING
        last = self.last_remind_at
        if last and now - datetime.fromisoformat(last) < REMIND_INTERVAL:
            return Refusal(ERR_CONFLICT, "催办过于频繁，请稍后再试", "reminded too recently, try later")
        return None

    def cc_refusal(self) -> Refusal | None:
        if self.stage not in ("approval", "returned") or not self.instance_id:
            return NOT_PENDING
        return None

    def reassign_refusal(self) -> Refusal | None:
        if self.stage != "approval" or not self.instance_id:
            return NOT_PENDING
        return None


# ---------------------------------------------------------------- who may act (update bodies)


def v1_action_refusal(action: str) -> Refusal | None:
    if action not in ACTIONS:
        return Refusal(ERR_VALIDATION, "不支持的审批操作", "unsupported decision action", "action",
                       "应为 approve 或 reject", "must be approve or reject")
    return None


def withdraw_forbidden(*, cancel: bool, is_owner: bool, is_admin: bool) -> Refusal | None:
    if cancel and not is_admin:
        return Refusal(ERR_FORBIDDEN, "只有管理员可以取消审批", "only an admin may cancel")
    if not cancel and not is_owner and not is_admin:
        return Refusal(ERR_FORBIDDEN, "只有负责人可以撤回", "only the owner may withdraw")
    return None


def remind_forbidden(*, is_owner: bool, is_admin: bool) -> Refusal | None:
    if not is_owner and not is_admin:
        return Refusal(ERR_FORBIDDEN, "只有负责人可以催办", "only the owner may send a reminder")
    return None


def cc_forbidden(*, is_owner_or_approver: bool, is_admin: bool) -> Refusal | None:
    if not is_owner_or_approver and not is_admin:
        return Refusal(ERR_FORBIDDEN, "只有负责人或当前审批人可以抄送", "only the owner or a current approver may cc")
    return None
