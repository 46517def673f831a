"""Property-based test of CreateProject over gRPC (hypothesis): any body is either stored, or
refused with a caller error carrying field paths — never INTERNAL — and a refusal stores nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baobei.core.grpc_client import read_failure
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import FORM, ORG, struct

CALLER_ERRORS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
                 grpc.StatusCode.FAILED_PRECONDITION}


@pytest.fixture(scope="module")
def stub(start_module_service: StartService) -> pb_grpc.RegistryServiceStub:
    s = pb_grpc.RegistryServiceStub(start_module_service("registry").channel)
    s.UpsertOrg(ORG, timeout=10)
    s.PutForm(FORM, timeout=10)
    return s


scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=20)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
field_keys = st.sampled_from(["industry", "budget", "contact_phone", "sponsor", "floor_price", "po", "other"])


def count(stub: pb_grpc.RegistryServiceStub) -> int:
    n, cursor = 0, ""
    while True:
        resp = stub.ListProjects(pb.ListProjectsRequest(limit=100, cursor=cursor), timeout=10)
        n += len(resp.items)
        cursor = resp.next_cursor
        if not cursor:
            return n


_seq = iter(range(10**9))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=30), customer=st.text(max_size=30), uscc=st.text(max_size=20),
       phone=st.text(max_size=14), amount=st.one_of(st.text(max_size=20), st.decimals(allow_nan=False).map(str)),
       start=st.text(max_size=12), owner=st.sampled_from(["sales1", "fin", "nobody", ""]),
       fields=st.dictionaries(field_keys, values, max_size=6))
def test_create_is_total(stub: pb_grpc.RegistryServiceStub, name: str, customer: str, uscc: str, phone: str,
                         amount: str, start: str, owner: str, fields: dict[str, Any]) -> None:
    before = count(stub)
    req = pb.CreateProjectRequest(
        request_id=f"prop-{next(_seq)}", owner_id=owner, form_key="standard", name=name,
        customer=pb.Customer(name=customer, uscc=uscc, phone=phone), amount=amount, start_date=start,
        fields=struct(fields),
    )
    try:
        stub.CreateProject(req, timeout=10)
    except grpc.RpcError as err:
        failure = read_failure(err)
        assert failure.code in CALLER_ERRORS, failure
        if failure.code is grpc.StatusCode.INVALID_ARGUMENT:
            assert failure.violations and all(v.field for v in failure.violations)
        assert count(stub) == before
    else:
        assert count(stub) == before + 1
