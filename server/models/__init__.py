"""All models, imported here so that Base.metadata knows every table."""

from server.models.base import Base
from server.models.blobs import Blob, BlobGrant, BlobRef
from server.models.cases import Case, CaseEvent, CaseNumberCounter, MergeConflict
from server.models.changes import (
    Change,
    FeedEntry,
    FeedRevocation,
    MutationReceipt,
    RejectedIntent,
    ServerState,
)
from server.models.checkins import Checkin, Route, Site
from server.models.console import CaseHandoff, ConsoleSession
from server.models.jobs import DailyStat, JobLock, JobRun
from server.models.members import Member
from server.models.people import Device, DeviceKey, LoginAttempt, User
from server.models.towns import Category, Grid, Town

__all__ = [
    "Base",
    "Blob",
    "BlobGrant",
    "BlobRef",
    "Case",
    "CaseEvent",
    "CaseHandoff",
    "CaseNumberCounter",
    "Category",
    "Change",
    "Checkin",
    "ConsoleSession",
    "DailyStat",
    "Device",
    "DeviceKey",
    "FeedEntry",
    "FeedRevocation",
    "Grid",
    "JobLock",
    "JobRun",
    "LoginAttempt",
    "Member",
    "MergeConflict",
    "MutationReceipt",
    "RejectedIntent",
    "Route",
    "ServerState",
    "Site",
    "Town",
    "User",
]
