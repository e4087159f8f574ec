"""Network origin of a request on a path, and the context keys AWS sends with it: the one place
every hop (role assumption, first call, service hop) takes its network and always-sent keys from.

AWS, IAM User Guide, "AWS global condition context keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):

* aws:SourceIp: "included in the request context, except when the requester uses a VPC endpoint";
  only public addresses reach a public endpoint (a private address of a VPC is never the
  aws:SourceIp; AWS re:Post "iam-restrict-access-policy": only public IP addresses are supported).
* aws:SourceVpce, aws:SourceVpc: "included in the request context only if the requester uses a
  VPC endpoint"; aws:VpcSourceIp: "only if the request is made using a VPC endpoint".
* aws:SecureTransport, aws:CurrentTime, aws:EpochTime, aws:ViaAWSService: "always included".
* Forward access sessions (service hops): aws:SourceVpce / SourceVpc / VpcSourceIp are not carried;
  aws:SourceIp is left open (reasoner/data/service_chains.json, "hop_rules").

So a caller's own request comes either from *outside* every endpoint (a public aws:SourceIp, no
VPC keys) or *through an endpoint* E (aws:SourceVpce = E, its aws:SourceVpc, an aws:VpcSourceIp,
no aws:SourceIp). When the snapshot lists no endpoints, "through some endpoint" is one more origin
whose aws:SourceVpce is searched (never one --not-from-vpce names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reasoner.account.session import plain_time_context

# Some endpoint the snapshot does not list (its aws:SourceVpce is searched).
UNLISTED_ENDPOINT = "*"

# Addresses that are never a public source address (IANA special-purpose registries, RFC 6890:
# private, shared, loopback, link-local, documentation, benchmarking, reserved, multicast).
NON_PUBLIC_NETWORKS = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "100::/64",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)

# Values of concrete tries (a witness must be a request AWS can send).
PUBLIC_SOURCE_IP = "93.184.216.34"
ENDPOINT_SOURCE_IP = "10.0.0.10"
UNLISTED_ENDPOINT_ID = "vpce-0unlisted00000000"
UNLISTED_VPC_ID = "vpc-0unlisted00000000"

_VPC_KEYS = ("aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp")
# Lower case: the keys whose presence or value tells the origins apart.
NETWORK_KEYS = frozenset({"aws:sourceip", "aws:sourcevpce", "aws:sourcevpc", "aws:vpcsourceip"})


@dataclass
class OriginKeys:
    """What the origin fixes, removes, requires and forbids in a hop's request context."""

    where: dict[str, list[str]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    exclude: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def origin_keys(
    called_via: tuple[str, ...], endpoint: str | None, vpc: str | None, fas_absent: list[str]
) -> OriginKeys:
    """The keys of one hop: a service hop (called_via not empty: the service's FAS request), or
    the caller's own request from outside (endpoint None) or through `endpoint`."""
    out = OriginKeys()
    if called_via:
        out.where["aws:CalledVia"] = list(called_via)
        out.where["aws:ViaAWSService"] = ["true"]
        out.absent += fas_absent
        return out
    out.absent.append("aws:CalledVia")
    out.where["aws:ViaAWSService"] = ["false"]
    if endpoint is None:
        out.absent += _VPC_KEYS
        out.present.append("aws:SourceIp")
        out.exclude["aws:SourceIp"] = [("ip_address", n) for n in NON_PUBLIC_NETWORKS]
        return out
    out.absent.append("aws:SourceIp")
    out.present += ["aws:VpcSourceIp", "aws:SourceVpce", "aws:SourceVpc"]
    if endpoint != UNLISTED_ENDPOINT:
        out.where["aws:SourceVpce"] = [endpoint]
        if vpc:
            out.where["aws:SourceVpc"] = [vpc]
    return out


def concrete_defaults(principal_arn: str, absent: list[str], now: dt.datetime | None = None) -> dict[str, str]:
    """Values for a concrete try of the keys AWS always sends (aws:SecureTransport true, the time
    now, a role session issued now: session.py) and of the origin's network keys, told by what
    the origin removes: no VPC keys, a public aws:SourceIp; no aws:SourceIp, an endpoint's keys.
    A service hop (aws:CalledVia not absent) gets no network keys (aws:SourceIp is open there)."""
    t = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    out = {"aws:SecureTransport": "true", **{k: v[0] for k, v in plain_time_context(principal_arn, t).items()}}
    gone = {k.lower() for k in absent}
    if "aws:calledvia" not in gone:
        return out
    if "aws:sourcevpce" in gone:
        out["aws:SourceIp"] = PUBLIC_SOURCE_IP
    elif "aws:sourceip" in gone:
        out.update(
            {
                "aws:SourceVpce": UNLISTED_ENDPOINT_ID,
                "aws:SourceVpc": UNLISTED_VPC_ID,
                "aws:VpcSourceIp": ENDPOINT_SOURCE_IP,
            }
        )
    return out
