"""The organization tree with the SCPs and RCPs of every root, OU and account, read from the
management account or a delegated administrator. A policy or a listing that could not be read
becomes a policy whose Content is unreadable: the snapshot loader refuses the tree rather than
compute answers as if that level allowed everything."""

from __future__ import annotations

from dataclasses import dataclass, field

from reasoner.collect.reads import Read, Reader, pages
from reasoner.collect.services import GLOBAL_REGION, unreadable_policy

POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


@dataclass
class OrgResult:
    id: str | None = None
    management_account: str | None = None
    tree: dict | None = None
    accounts: list[str] = field(default_factory=list)
    in_use: bool = True
    problems: list[str] = field(default_factory=list)


def collect_organization(r: Reader) -> OrgResult:
    desc = r.read("organizations.DescribeOrganization", GLOBAL_REGION, "organization")
    if not desc.ok:
        out = OrgResult(in_use=desc.status != "absent")
        if desc.status == "unknown":
            out.problems.append(f"organizations.DescribeOrganization: {desc.error}")
        return out
    org = desc.value.get("Organization", {})
    out = OrgResult(id=org.get("Id"), management_account=org.get("MasterAccountId"))
    roots = r.read("organizations.ListRoots", GLOBAL_REGION, "roots")
    if not roots.ok:
        out.problems.append(f"organizations.ListRoots: {roots.error}")
        out.tree = {
            "Id": "r-unreadable",
            "Arn": org.get("Arn", ""),
            "Policies": [_unreadable("root", "organizations.ListRoots", roots)],
            "Children": [],
        }
        return out
    root = pages(roots, "Roots")[0]
    out.tree = _node(r, out, root["Id"], root.get("Arn", ""), root.get("Name", "Root"), "ROOT")
    return out


def _unreadable(name: str, call: str, read: Read, ptype: str = "SERVICE_CONTROL_POLICY") -> dict:
    return {"Name": f"unreadable-{name}", "Type": ptype, "Content": unreadable_policy(call, read.error)}


def _node(r: Reader, out: OrgResult, nid: str, arn: str, name: str, kind: str) -> dict:
    node: dict = {"Id": nid, "Arn": arn, "Name": name, "Policies": _policies(r, out, nid)}
    if kind == "ACCOUNT":
        out.accounts.append(nid)
        return node
    node["Children"] = []
    ous = r.read("organizations.ListOrganizationalUnitsForParent", GLOBAL_REGION, nid, ParentId=nid)
    accounts = r.read("organizations.ListAccountsForParent", GLOBAL_REGION, nid, ParentId=nid)
    for listing, call in ((ous, "ListOrganizationalUnitsForParent"), (accounts, "ListAccountsForParent")):
        if not listing.ok:
            out.problems.append(f"organizations.{call} {nid}: {listing.error}")
            node["Policies"].append(_unreadable(f"children-of-{nid}", f"organizations.{call}", listing))
    for ou in pages(ous, "OrganizationalUnits"):
        node["Children"].append(_node(r, out, ou["Id"], ou.get("Arn", ""), ou.get("Name", ""), "OU"))
    for acct in pages(accounts, "Accounts"):
        node["Children"].append(_node(r, out, acct["Id"], acct.get("Arn", ""), acct.get("Name", ""), "ACCOUNT"))
    return node


def _policies(r: Reader, out: OrgResult, target: str) -> list[dict]:
    found = []
    for ptype in POLICY_TYPES:
        listed = r.read("organizations.ListPoliciesForTarget", GLOBAL_REGION, target, TargetId=target, Filter=ptype)
        if listed.status == "unknown":
            out.problems.append(f"organizations.ListPoliciesForTarget {target} {ptype}: {listed.error}")
            found.append(_unreadable(target, "organizations.ListPoliciesForTarget", listed, ptype))
        for summary in pages(listed, "Policies"):
            desc = r.read("organizations.DescribePolicy", GLOBAL_REGION, summary["Id"], PolicyId=summary["Id"])
            if desc.ok:
                policy = desc.value["Policy"]
                found.append({**policy["PolicySummary"], "Content": policy["Content"]})
            else:
                out.problems.append(f"organizations.DescribePolicy {summary['Id']}: {desc.error}")
                found.append(
                    _unreadable(summary.get("Name", summary["Id"]), "organizations.DescribePolicy", desc, ptype)
                )
    return found
