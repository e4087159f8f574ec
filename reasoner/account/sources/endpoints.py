"""VPC endpoints as in `aws ec2 describe-vpc-endpoints` (VpcEndpointId, VpcId, ServiceName,
PolicyDocument as a JSON string)."""

from __future__ import annotations

from typing import Any

from reasoner.account.model import Endpoint, Snapshot
from reasoner.account.sources.embedded import embedded_policy
from reasoner.errors import InputError


def load_endpoints(snap: Snapshot, src: str, items: Any, prefix: tuple) -> None:
    if not isinstance(items, list):
        raise InputError("expected a list of VPC endpoints", source=src, path=prefix)
    for i, ep in enumerate(items):
        path = prefix + (i,)
        eid = ep.get("VpcEndpointId") if isinstance(ep, dict) else None
        if not eid:
            raise InputError("VPC endpoint without VpcEndpointId", source=src, path=path)
        svc = str(ep.get("ServiceName", "")).rsplit(".", 1)[-1]
        pol = None
        if ep.get("PolicyDocument") is not None:
            pol = embedded_policy(snap, src, ep["PolicyDocument"], path + ("PolicyDocument",), f"{eid}#policy")
            if pol is None:
                raise InputError(f"the policy of {eid} is not valid", source=src, path=path + ("PolicyDocument",))
        snap.endpoints[eid] = Endpoint(id=eid, vpc=ep.get("VpcId"), service=svc, policy=pol)
