"""Jobs at run time, and the rules that say which agents may work which jobs."""

from __future__ import annotations

import enum

import attrs

from agt_server.config import AgentConfig, JobConfig
from agt_server.protocol import ErrorCode, JobStatus, JobType, WorkClass

__all__ = ["Job", "JobState", "is_applicable", "work_class_error"]


class JobState(enum.Enum):
    """A job's life cycle."""

    INACTIVE = "inactive"  #: configured, never started
    RUNNING = "running"  #: dialing; agents may attach and work
    PAUSED = "paused"  #: temporarily not dialing; agents move elsewhere
    STOPPED = "stopped"  #: stopped by a supervisor
    COMPLETED = "completed"  #: every record finished ("dialed out")


#: The job types each work class may join (AGTSetWorkClass, PC 5.2 p. 208).
WORK_CLASS_JOB_TYPES: dict[WorkClass, frozenset[JobType]] = {
    WorkClass.OUTBOUND: frozenset({JobType.OUTBOUND, JobType.BLEND}),
    WorkClass.INBOUND: frozenset({JobType.INBOUND, JobType.BLEND}),
    WorkClass.BLEND: frozenset({JobType.BLEND}),
    WorkClass.PERSON_TO_PERSON: frozenset({JobType.OUTBOUND, JobType.INBOUND, JobType.BLEND}),
    WorkClass.MANAGED: frozenset({JobType.MANAGED}),
}


@attrs.define(eq=False)
class Job:
    """A job and its run-time state (identity object, mutated by the engine only)."""

    config: JobConfig
    state: JobState

    @property
    def name(self) -> str:
        """The job's name."""
        return self.config.name

    @property
    def type(self) -> JobType:
        """Outbound, inbound, blend or managed."""
        return self.config.type

    @property
    def running(self) -> bool:
        """Whether agents may attach and work."""
        return self.state is JobState.RUNNING

    @property
    def status(self) -> JobStatus:
        """What AGTListJobs shows: active when running, inactive otherwise."""
        return JobStatus.ACTIVE if self.running else JobStatus.INACTIVE

    @property
    def listing(self) -> str:
        """The AGTListJobs record ``<type>,<name>,<status>``."""
        return f"{self.type.value},{self.name},{self.status.value}"


def is_applicable(agent: AgentConfig, job: JobConfig) -> bool:
    """Whether ``agent`` may work ``job``: one of its work classes fits the job's type, and it has one of
    the job's required skills (a job without required skills takes everyone)."""
    fits = any(job.type in WORK_CLASS_JOB_TYPES[work_class] for work_class in agent.work_classes)
    skilled = not job.required_skills or bool(job.required_skills & agent.skills)
    return fits and skilled


def work_class_error(work_class: WorkClass, job_type: JobType) -> ErrorCode | None:
    """The AGTAvailWork error for an agent of ``work_class`` joining a job of ``job_type``, or ``None``."""
    if job_type in WORK_CLASS_JOB_TYPES[work_class]:
        return None
    if job_type is JobType.MANAGED:
        return ErrorCode.E29000
    if work_class is WorkClass.MANAGED:
        return ErrorCode.E28814
    if job_type is JobType.INBOUND:
        return ErrorCode.E28816
    if job_type is JobType.OUTBOUND:
        return ErrorCode.E28817
    return ErrorCode.E28818
