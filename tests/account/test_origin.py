"""Network origin of a path's requests (reasoner/account/origin.py): `who-can` lists only
principals whose path AWS can send.

IAM User Guide, "AWS global condition context keys": aws:SourceIp is present except through a
VPC endpoint (and then it is a public address); aws:SourceVpce / aws:SourceVpc / aws:VpcSourceIp
are present only through a VPC endpoint; aws:SecureTransport is always present."""

from __future__ import annotations

import pytest
from snapshot_builders import A, allow, role, snapshot, trust

from reasoner.account.origin import NON_PUBLIC_NETWORKS, concrete_defaults, origin_keys
from reasoner.account.paths import Constraints, PathFinder
from reasoner.account.snapshot import load_snapshot

OBJECT = "arn:aws:s3:::data/k"
ENDPOINTS = [
    {"VpcEndpointId": "vpce-bad", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"},
    {"VpcEndpointId": "vpce-1", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"},
]


def who_can(tmp_path, condition, endpoints: bool, **cons) -> list[str]:
    extra = {"vpc_endpoints": ENDPOINTS} if endpoints else {}
    f = snapshot(
        tmp_path,
        roles=[role("r0", trust({"AWS": f"arn:aws:iam::{A}:root"}), [allow("s3:GetObject", "*", condition)])],
        **extra,
    )
    a = PathFinder(load_snapshot(f)).who_can("s3:GetObject", OBJECT, Constraints(**cons))
    assert not a.unknown
    return [p.principal.rsplit("/", 1)[-1] for p in a.principals]


UNSENDABLE = {
    # aws:SourceIp is absent through an endpoint, aws:SourceVpce absent outside one
    "source-ip-and-source-vpce-at-once": {
        "IpAddress": {"aws:SourceIp": "52.0.0.0/8"},
        "StringEquals": {"aws:SourceVpce": "vpce-1"},
    },
    # a private address is never the aws:SourceIp of a request from outside an endpoint
    "private-source-ip": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    # aws:SecureTransport is always in the request context
    "absent-secure-transport": {"Null": {"aws:SecureTransport": "true"}},
    # aws:VpcSourceIp is present only through an endpoint, where aws:SourceVpce is too
    "vpc-source-ip-without-endpoint": {
        "IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"},
        "Null": {"aws:SourceVpce": "true"},
    },
}

SENDABLE = {
    "public-source-ip": {"IpAddress": {"aws:SourceIp": "52.0.0.0/8"}},
    "vpc-source-ip": {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}},
    "source-vpce": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    "plain-http": {"Bool": {"aws:SecureTransport": "false"}},
    "not-from-a-private-range": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    "no-source-ip-through-an-endpoint": {"Null": {"aws:SourceIp": "true"}},
}


@pytest.mark.parametrize("endpoints", [False, True], ids=["no-endpoints-listed", "endpoints-listed"])
@pytest.mark.parametrize("name", sorted(UNSENDABLE))
def test_a_request_aws_cannot_send_is_no_path(tmp_path, name, endpoints):
    assert who_can(tmp_path, UNSENDABLE[name], endpoints) == []


@pytest.mark.parametrize("endpoints", [False, True], ids=["no-endpoints-listed", "endpoints-listed"])
@pytest.mark.parametrize("name", sorted(SENDABLE))
def test_a_request_aws_can_send_is_a_path(tmp_path, name, endpoints):
    assert who_can(tmp_path, SENDABLE[name], endpoints) == ["r0"]


@pytest.mark.parametrize("endpoints", [False, True], ids=["no-endpoints-listed", "endpoints-listed"])
def test_not_from_vpce_holds_whether_or_not_the_snapshot_lists_endpoints(tmp_path, endpoints):
    only_bad = {"StringEquals": {"aws:SourceVpce": "vpce-bad"}}
    assert who_can(tmp_path, only_bad, endpoints) == ["r0"]
    assert who_can(tmp_path, only_bad, endpoints, not_from_vpce=("vpce-bad",)) == []


def test_origin_keys_of_each_origin():
    outside = origin_keys((), None, None, [])
    assert {"aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp"} <= set(outside.absent)
    assert outside.present == ["aws:SourceIp"]
    assert ("ip_address", "10.0.0.0/8") in outside.exclude["aws:SourceIp"]
    through = origin_keys((), "vpce-1", "vpc-1", [])
    assert "aws:SourceIp" in through.absent
    assert through.where["aws:SourceVpce"] == ["vpce-1"] and through.where["aws:SourceVpc"] == ["vpc-1"]
    hop = origin_keys(("athena.amazonaws.com",), None, None, ["aws:SourceVpce"])
    assert hop.absent == ["aws:SourceVpce"] and "aws:SourceIp" not in hop.present  # open on a FAS hop


def test_concrete_defaults_are_requests_aws_can_send():
    import ipaddress

    outside = concrete_defaults(f"arn:aws:iam::{A}:role/r", ["aws:CalledVia", "aws:SourceVpce"])
    assert outside["aws:SecureTransport"] == "true" and ipaddress.ip_address(outside["aws:SourceIp"]).is_global
    through = concrete_defaults(f"arn:aws:iam::{A}:user/u", ["aws:CalledVia", "aws:SourceIp"])
    assert "aws:SourceIp" not in through and through["aws:SourceVpce"].startswith("vpce-")
    # every listed network is special-purpose: not global, multicast or reserved
    for text in NON_PUBLIC_NETWORKS:
        net = ipaddress.ip_network(text)
        assert not net.is_global or net.is_multicast or net.is_reserved, text


def test_a_fixed_target_key_the_origin_cannot_send(tmp_path):
    """--where aws:SourceIp=10.0.0.1 on the target: no first call carries a private aws:SourceIp,
    and through an endpoint there is no aws:SourceIp at all."""
    f = snapshot(tmp_path, roles=[role("r0", trust({"AWS": f"arn:aws:iam::{A}:root"}), [allow("s3:GetObject")])])
    finder = PathFinder(load_snapshot(f))
    private = finder.reach("r0", "s3:GetObject", OBJECT, Constraints(where=(("aws:SourceIp", "10.0.0.1"),)))
    assert private.answer == "impossible"
    public = finder.reach("r0", "s3:GetObject", OBJECT, Constraints(where=(("aws:SourceIp", "52.1.1.1"),)))
    assert public.answer == "possible" and "aws:SourceVpce" not in public.paths[0].hops[0].context
