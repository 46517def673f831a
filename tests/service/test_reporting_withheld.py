"""Reporting withholds per project what the caller may not read (the registry's form read
restrictions, passed by the edge as ``withheld``): a hidden amount is blank in the project's row
and left out of the sums; a hidden region is blank, matches no filter and groups as unset."""

from __future__ import annotations

from typing import Any

from baobei.reporting.v1 import reporting_service_pb2 as pb
from tests.service.test_reporting_analytics import T0, env, event, project  # noqa: F401
from tests.service.test_reporting_service import ingest


def test_withheld_amount_and_region(env: dict[str, Any]) -> None:  # noqa: F811
    stub = env["stub"]
    project(stub, "w1", amount="700000.00", region="华南")
    project(stub, "w2", amount="300000.00", region="华东")
    ingest(stub, event("w1:act", "w1", T0, "project.approved", status="active"))
    ids = ["w1", "w2"]
    held = [pb.Withheld(project_id="w1", paths=["amount", "region"])]

    def portfolio(**kw: Any) -> pb.PortfolioResponse:
        return stub.Portfolio(pb.PortfolioRequest(project_ids=ids, **kw), timeout=10)

    full = portfolio()
    assert full.total_amount == "1000000.00"
    got = portfolio(withheld=held)
    assert got.total_amount == "300000.00" and got.contracted_amount in ("0", "0.00", "")
    rows = {p.id: p for p in got.projects}
    assert rows["w1"].amount == "" and rows["w1"].region == "" and rows["w2"].amount == "300000.00"
    assert "700000" not in str(got)
    # No guessing the hidden region by filtering on it.
    assert {p.id for p in portfolio(filters=pb.Filters(region="华南")).projects} == {"w1"}
    assert not portfolio(filters=pb.Filters(region="华南"), withheld=held).projects
    def cycle_times(**kw: Any) -> str:
        req = pb.AnalyticsRequest(report="cycle_times", group_by="region", project_ids=ids, **kw)
        return str(stub.Analytics(req, timeout=10).table)

    assert "华南" in cycle_times() and "华南" not in cycle_times(withheld=held)
