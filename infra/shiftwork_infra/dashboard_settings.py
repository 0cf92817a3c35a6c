"""The hosted dashboard's context, read before anything is made: -c dashboard=true turns it on; dashboardDomain (the
host name the team opens) and dashboardCertificateArn (an ACM certificate for that name, in the stack's region) are
required with it; dashboardSubnetIds (public subnets, comma-separated) with -c vpcId, whose subnets hold the
runners only. A missing or malformed value is refused by name, saying how to get a good one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]+$")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]+$")
# where CloudFormation has no Cognito user pools (its registry, as cfn-lint's schemas hold it): no sign-in, no dashboard
NO_USER_POOLS = ("cn-north-1", "cn-northwest-1")


@dataclass(frozen=True)
class DashboardSettings:
    """What -c dashboard=true needs, read from the context."""

    domain: str
    certificate_arn: str
    region: str  # the certificate's, which must be the stack's: an ALB takes certificates of its own region
    subnet_ids: tuple[str, ...]  # the load balancer's public subnets; () in the stack's own new VPC


def _missing(key: str, how: str) -> ValueError:
    return ValueError(f"context {key} is missing: -c dashboard=true needs it. {how}")


def _enabled(scope: Construct) -> bool:
    value = scope.node.try_get_context("dashboard")
    if value is None or str(value).lower() in ("false", ""):
        return False
    if str(value).lower() == "true":
        return True
    raise ValueError(f"context dashboard={value!r}: must be true or false (cdk deploy -c dashboard=true)")


def dashboard_settings(scope: Construct) -> DashboardSettings | None:
    """The hosted dashboard's settings when -c dashboard=true, else None; a missing or malformed value is refused
    by name, with how to get it, before anything is made."""
    if not _enabled(scope):
        return None
    domain = str(scope.node.try_get_context("dashboardDomain") or "").strip().lower()
    if not domain:
        raise _missing(
            "dashboardDomain",
            "Pass the host name the team will open, -c dashboardDomain=shiftwork.example.com: the certificate "
            "covers it, and its DNS (a CNAME) points at the DashboardLoadBalancer output after the deploy.",
        )
    if not HOST_NAME.match(domain):
        raise ValueError(
            f"context dashboardDomain={domain!r}: must be a host name such as shiftwork.example.com "
            "(no scheme, no port, no path)"
        )
    certificate_arn = str(scope.node.try_get_context("dashboardCertificateArn") or "").strip()
    if not certificate_arn:
        raise _missing(
            "dashboardCertificateArn",
            f"The load balancer serves HTTPS only and its own DNS name cannot carry a public certificate: request "
            f"one for {domain} in ACM, in the region you deploy to (aws acm request-certificate --domain-name "
            f"{domain} --validation-method DNS, then add the CNAME it asks for), and pass its ARN: "
            "-c dashboardCertificateArn=arn:aws:acm:REGION:ACCOUNT:certificate/ID",
        )
    match = CERTIFICATE_ARN.match(certificate_arn)
    if match is None:
        raise ValueError(
            f"context dashboardCertificateArn={certificate_arn!r}: must be an ACM certificate's ARN, "
            "arn:aws:acm:REGION:ACCOUNT:certificate/ID (aws acm list-certificates shows them)"
        )
    if match["region"] in NO_USER_POOLS:
        raise ValueError(
            f"context dashboardCertificateArn={certificate_arn!r}: the hosted dashboard signs users in with a "
            f"Cognito user pool, which CloudFormation does not offer in {match['region']}; deploy without "
            "-c dashboard=true there and run `shiftwork dashboard --endpoint API_URL` on your machine instead"
        )
    return DashboardSettings(domain, certificate_arn, match["region"], _subnet_ids(scope))


def _subnet_ids(scope: Construct) -> tuple[str, ...]:
    """The load balancer's public subnets: the context's, required when the stack runs in an existing VPC."""
    subnet_ids = tuple(s.strip() for s in str(scope.node.try_get_context("dashboardSubnetIds") or "").split(","))
    subnet_ids = tuple(s for s in subnet_ids if s)
    if not subnet_ids and scope.node.try_get_context("vpcId") and scope.node.try_get_context("subnetIds"):
        raise _missing(
            "dashboardSubnetIds",
            "With -c vpcId the stack knows only the runners' subnets: pass two or more public subnets of that VPC "
            "(routed to an internet gateway) for the load balancer: -c dashboardSubnetIds=subnet-a,subnet-b",
        )
    bad = [s for s in subnet_ids if not SUBNET_ID.match(s)]
    if bad:
        raise ValueError(f"context dashboardSubnetIds: {bad[0]!r} is not a subnet id (subnet-0123abcd)")
    return subnet_ids
