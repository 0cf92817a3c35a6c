"""The hosted dashboard (-c dashboard=true): off by default; on, an ALB that authenticates with Cognito before
forwarding to Streamlit on Fargate, which invokes the stack's API with its task role. One synth of the app with the
dashboard on, shared by this module; cdk-nag ran on it (synth raises on an unacknowledged finding), cfn-lint too."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.conftest import build_app, synthesize
from tests.infra.test_stack import CDK_GENERATED, ROOT

pytest.importorskip("aws_cdk", reason="the infra extra is not installed")
sys.path.insert(0, str(ROOT / "infra"))  # the CDK app's modules: app, shiftwork_infra

CERTIFICATE = "arn:aws:acm:eu-west-2:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
DOMAIN = "shiftwork.example.com"
ELB_ACCOUNT_EU_WEST_2 = "652711504416"  # Elastic Load Balancing's log-delivery account in the certificate's region
DASHBOARD = {"dashboard": "true", "dashboardCertificateArn": CERTIFICATE, "dashboardDomain": DOMAIN}


@dataclass(frozen=True)
class Synthesized:
    template: object  # aws_cdk.assertions.Template
    resources: dict
    outputs: dict
    outdir: Path


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    return Synthesized(*synthesize(DASHBOARD, outdir), outdir)


def _one(resources: dict, kind: str, **properties) -> tuple[str, dict]:
    """The logical id and properties of the one resource of `kind` whose properties include `properties`."""
    found = [
        (name, r["Properties"])
        for name, r in resources.items()
        if r["Type"] == kind and all(r["Properties"].get(k) == v for k, v in properties.items())
    ]
    assert len(found) == 1, f"{len(found)} {kind} with {properties}"
    return found[0]


def _service(resources: dict) -> dict:
    return _one(resources, "AWS::ECS::Service")[1]


def test_the_default_stack_has_no_load_balancer_no_user_pool_and_no_dashboard():
    """The default app built (not synthesised: cdk-nag's pass is what takes the time; test_stack synthesises it):
    its resources are the template's, and none is the dashboard's."""
    import aws_cdk as cdk

    _, stack = build_app({})
    kinds = [c.cfn_resource_type for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)]
    assert "AWS::ECS::Cluster" in kinds and kinds.count("AWS::ECS::TaskDefinition") == 1  # the runner's only
    dashboard_kinds = ("AWS::ElasticLoadBalancingV2::", "AWS::Cognito::", "AWS::ECS::Service")
    assert [kind for kind in kinds if kind.startswith(dashboard_kinds)] == []
    assert stack.node.try_find_child("Dashboard") is None
    outputs = [c.node.id for c in stack.node.children if isinstance(c, cdk.CfnOutput)]
    assert "ApiUrl" in outputs and not [name for name in outputs if name.startswith("Dashboard")]


def test_https_authenticates_with_cognito_then_forwards_to_the_dashboard(dashboard):
    from aws_cdk.assertions import Match

    pool, _ = _one(dashboard.resources, "AWS::Cognito::UserPool")
    client, _ = _one(dashboard.resources, "AWS::Cognito::UserPoolClient")
    domain, _ = _one(dashboard.resources, "AWS::Cognito::UserPoolDomain")
    targets, _ = _one(dashboard.resources, "AWS::ElasticLoadBalancingV2::TargetGroup")
    dashboard.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": CERTIFICATE}],
            "SslPolicy": Match.string_like_regexp("TLS13"),
            "DefaultActions": [
                {
                    "Type": "authenticate-cognito",
                    "Order": 1,
                    "AuthenticateCognitoConfig": Match.object_like(
                        {
                            "UserPoolArn": {"Fn::GetAtt": [pool, "Arn"]},
                            "UserPoolClientId": {"Ref": client},
                            "UserPoolDomain": {"Ref": domain},
                        }
                    ),
                },
                {"Type": "forward", "Order": 2, "TargetGroupArn": {"Ref": targets}},
            ],
        },
    )
    assert _service(dashboard.resources)["LoadBalancers"] == [
        {"ContainerName": "dashboard", "ContainerPort": 8501, "TargetGroupArn": {"Ref": targets}}
    ]


def test_http_only_redirects_to_https(dashboard):
    dashboard.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
            ],
        },
    )


def test_no_listener_or_rule_forwards_without_authenticating_first(dashboard):
    dashboard.template.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 2)
    routes = [
        r["Properties"]["DefaultActions" if r["Type"].endswith("Listener") else "Actions"]
        for r in dashboard.resources.values()
        if r["Type"] in ("AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule")
    ]
    for route in routes:
        for action in route:
            if action["Type"] == "forward":
                assert any(a["Type"] == "authenticate-cognito" and a["Order"] < action["Order"] for a in route), (
                    f"forwards without authentication: {route}"
                )
    assert sorted(a["Type"] for route in routes for a in route) == ["authenticate-cognito", "forward", "redirect"]


def test_the_task_role_may_invoke_this_stacks_api_and_nothing_else(dashboard):
    resources = dashboard.resources
    api, _ = _one(resources, "AWS::ApiGatewayV2::Api")
    task = resources[_service(resources)["TaskDefinition"]["Ref"]]["Properties"]
    role = task["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":execute-api:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":",
                        {"Ref": api},
                        "/*/*/*",
                    ],
                ]
            },
        }
    ]
    assert not [r for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy"]


def test_the_container_runs_streamlit_on_the_stacks_api_with_health_checks(dashboard):
    from aws_cdk.assertions import Match

    api, _ = _one(dashboard.resources, "AWS::ApiGatewayV2::Api")
    command = Match.string_like_regexp(
        r"^exec python -m streamlit run .*dashboard\.app.* --server\.port 8501 --server\.headless true "
        r"--server\.address 0\.0\.0\.0 --browser\.gatherUsageStats false$"
    )
    dashboard.template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "dashboard",
                        "Command": ["sh", "-c", command],
                        "Environment": [
                            {"Name": "SHIFTWORK_API_URL", "Value": {"Fn::GetAtt": [api, "ApiEndpoint"]}},
                            {"Name": "AWS_REGION", "Value": {"Ref": "AWS::Region"}},
                        ],
                        "PortMappings": [{"ContainerPort": 8501, "Protocol": "tcp"}],
                        "HealthCheck": Match.object_like(
                            {"Command": Match.array_with([Match.string_like_regexp("/_stcore/health")])}
                        ),
                        "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
                    }
                )
            ],
        },
    )
    dashboard.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"HealthCheckPath": "/_stcore/health", "Port": 8501, "Protocol": "HTTP", "TargetType": "ip"},
    )


def test_the_service_runs_in_the_runners_cluster_and_private_subnets(dashboard):
    service = _service(dashboard.resources)
    cluster, _ = _one(dashboard.resources, "AWS::ECS::Cluster")
    assert service["Cluster"] == {"Ref": cluster}
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    subnets = [dashboard.resources[s["Ref"]]["Properties"] for s in network["Subnets"]]
    assert [s["MapPublicIpOnLaunch"] for s in subnets] == [False, False]
    [load_balancer] = [r for r in dashboard.resources.values() if r["Type"].endswith("::LoadBalancer")]
    assert load_balancer["Properties"]["Scheme"] == "internet-facing"
    public = [dashboard.resources[s["Ref"]]["Properties"] for s in load_balancer["Properties"]["Subnets"]]
    assert [s["MapPublicIpOnLaunch"] for s in public] == [True, True]


def test_the_service_is_reachable_only_from_the_load_balancer_on_8501(dashboard):
    resources = dashboard.resources
    [service_group] = _service(resources)["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    [balancer] = [r for r in resources.values() if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"]
    [balancer_group] = balancer["Properties"]["SecurityGroups"]
    service_id, balancer_id = service_group["Fn::GetAtt"][0], balancer_group["Fn::GetAtt"][0]
    assert "SecurityGroupIngress" not in resources[service_id]["Properties"]
    ingress = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"]["GroupId"] == service_group
    ]
    assert [(i["SourceSecurityGroupId"], i["IpProtocol"], i["FromPort"], i["ToPort"]) for i in ingress] == [
        (balancer_group, "tcp", 8501, 8501)
    ]
    # the load balancer: open on 443 and 80 only; out only to the tasks and to Cognito (443)
    balancer_rules = resources[balancer_id]["Properties"]
    assert sorted((i["CidrIp"], i["FromPort"], i["ToPort"]) for i in balancer_rules["SecurityGroupIngress"]) == [
        ("0.0.0.0/0", 80, 80),
        ("0.0.0.0/0", 443, 443),
    ]
    assert [(e["CidrIp"], e["FromPort"]) for e in balancer_rules["SecurityGroupEgress"]] == [("0.0.0.0/0", 443)]
    egress = [
        (r["Properties"]["DestinationSecurityGroupId"], r["Properties"]["FromPort"])
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupEgress" and r["Properties"]["GroupId"] == balancer_group
    ]
    assert egress == [(service_group, 8501)]


def test_only_invited_users_sign_in_with_a_strong_password_and_mfa(dashboard):
    from aws_cdk.assertions import Match

    dashboard.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": Match.object_like({"AllowAdminCreateUserOnly": True}),
            "MfaConfiguration": "ON",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": 12,
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                    }
                )
            },
            "UserPoolTier": "PLUS",
            "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
        },
    )
    dashboard.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": Match.array_with(["openid"]),
            "CallbackURLs": [f"https://{DOMAIN}/oauth2/idpresponse"],
            "SupportedIdentityProviders": ["COGNITO"],
        },
    )
    dashboard.template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    assert dashboard.outputs["DashboardUrl"]["Value"] == f"https://{DOMAIN}"
    assert {"DashboardLoadBalancer", "DashboardUserPool"} <= set(dashboard.outputs)


def test_the_load_balancer_drops_invalid_headers_and_logs_every_request(dashboard):
    from aws_cdk.assertions import Match

    logs_bucket, _ = _one(
        dashboard.resources,
        "AWS::S3::Bucket",
        LifecycleConfiguration={"Rules": [{"ExpirationInDays": 90, "Status": "Enabled"}]},
    )
    dashboard.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": logs_bucket}},
                    {"Key": "access_logs.s3.prefix", "Value": "dashboard-alb"},
                ]
            )
        },
    )
    dashboard.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logs_bucket},
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            {
                                "Action": "s3:PutObject",
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": {
                                        "Fn::Join": [
                                            "",
                                            ["arn:", {"Ref": "AWS::Partition"}, f":iam::{ELB_ACCOUNT_EU_WEST_2}:root"],
                                        ]
                                    }
                                },
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            {"Fn::GetAtt": [logs_bucket, "Arn"]},
                                            "/dashboard-alb/AWSLogs/",
                                            {"Ref": "AWS::AccountId"},
                                            "/*",
                                        ],
                                    ]
                                },
                            }
                        ]
                    )
                }
            ),
        },
    )


def test_cdk_nag_passes_with_every_dashboard_finding_acknowledged_for_a_reason(dashboard):
    [report] = json.loads((dashboard.outdir / "validation-report.json").read_text())["pluginReports"]
    assert (report["pluginName"], report["conclusion"], report["violations"]) == ("AwsSolutions", "success", [])
    api, _ = _one(dashboard.resources, "AWS::ApiGatewayV2::Api")
    # each finding on the dashboard's resources, acknowledged inside the Dashboard construct, for its own reason
    ours = {
        (s["ruleName"], s["acknowledgedAt"]): s["reason"]
        for s in report["suppressedViolations"]
        if any("/Dashboard/" in v["constructPath"] for v in s["violatingConstructs"])
    }
    execute_api = f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api}>/*/*/*"
    assert sorted(ours) == [
        ("AwsSolutions-EC23", "Shiftwork/Dashboard/LoadBalancerSecurityGroup"),
        ("AwsSolutions-ECS2", "Shiftwork/Dashboard/Task"),
        ("AwsSolutions-IAM5[Resource::*]", "Shiftwork/Dashboard/Task"),
        (f"AwsSolutions-IAM5[Resource::{execute_api}]", "Shiftwork/Dashboard/Task"),
    ]
    assert "ecr:GetAuthorizationToken" in ours["AwsSolutions-IAM5[Resource::*]", "Shiftwork/Dashboard/Task"]
    assert all(len(reason) > 40 for reason in ours.values())


def test_cfn_lint_is_clean_with_the_dashboard(dashboard):
    """In the primary region and the certificate's (every region would take 20 s: the next test covers where each
    resource type exists)."""
    from cfnlint.api import lint
    from cfnlint.helpers import REGION_PRIMARY

    template = (dashboard.outdir / "Shiftwork.template.json").read_text()
    findings = [
        f"{m.rule.id} {m.message}"
        for m in lint(template, regions=[REGION_PRIMARY, "eu-west-2"])
        if m.rule.id[0] in "EW" and m.rule.id not in CDK_GENERATED
    ]
    assert findings == []


def test_the_dashboard_is_refused_exactly_where_cloudformation_lacks_one_of_its_resource_types(dashboard):
    """cfn-lint's per-region registry schemas: the regions where some resource type the dashboard adds does not
    exist are the ones its settings refuse (NO_USER_POOLS: Cognito user pools)."""
    from cfnlint.helpers import REGIONS
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError
    from shiftwork_infra.dashboard_settings import NO_USER_POOLS

    kinds = {r["Type"] for name, r in dashboard.resources.items() if name.startswith("Dashboard")}
    assert {"AWS::Cognito::UserPool", "AWS::ElasticLoadBalancingV2::Listener", "AWS::ECS::Service"} <= kinds
    lacking = set()
    for region in REGIONS:
        for kind in kinds:
            try:
                PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, kind)
            except ResourceNotFoundError:
                lacking.add(region)
    assert sorted(lacking) == sorted(NO_USER_POOLS)


def test_the_image_is_built_for_arm64_from_the_dashboard_and_the_package_only(dashboard):
    manifest = json.loads((dashboard.outdir / "Shiftwork.assets.json").read_text())
    [image] = [i for i in manifest["dockerImages"].values() if i["displayName"].startswith("Dashboard/")]
    assert image["source"]["dockerFile"] == "infra/dashboard.Dockerfile"
    assert image["source"]["platform"] == "linux/arm64"
    context = dashboard.outdir / image["source"]["directory"]
    assert sorted(p.name for p in context.iterdir()) == ["README.md", "dashboard", "infra", "pyproject.toml", "src"]
    assert [p.name for p in (context / "infra").iterdir()] == ["dashboard.Dockerfile"]
    assert (context / "dashboard" / "views" / "jobs.py").is_file()
    assert not list(context.rglob("__pycache__")) and not list(context.rglob("*.egg-info"))


@pytest.mark.parametrize(
    ("missing", "says"),
    [
        (
            "dashboardCertificateArn",
            ["aws acm request-certificate", DOMAIN, "-c dashboardCertificateArn=arn:aws:acm:"],
        ),
        ("dashboardDomain", ["-c dashboardDomain=", "CNAME"]),
    ],
)
def test_dashboard_without_its_certificate_or_domain_is_refused_by_name(missing, says):
    context = {key: value for key, value in DASHBOARD.items() if key != missing}
    with pytest.raises(ValueError, match=rf"^context {missing} is missing: -c dashboard=true needs it\.") as error:
        build_app(context)  # refused first thing: nothing of the stack is made
    for words in says:
        assert words in str(error.value)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"dashboard": "yes"}, r"context dashboard='yes': must be true or false"),
        ({**DASHBOARD, "dashboardDomain": "https://x.example.com/"}, r"dashboardDomain='https://x.example.com/'"),
        ({**DASHBOARD, "dashboardCertificateArn": "my-cert"}, r"dashboardCertificateArn='my-cert': must be an ACM"),
        (
            {
                **DASHBOARD,
                "dashboardCertificateArn": CERTIFICATE.replace("aws:acm:eu-west-2", "aws-cn:acm:cn-north-1"),
            },
            r"Cognito user pool, which CloudFormation does not offer in cn-north-1",
        ),
        ({**DASHBOARD, "vpcId": "vpc-1", "subnetIds": "subnet-1"}, r"context dashboardSubnetIds is missing"),
        ({**DASHBOARD, "dashboardSubnetIds": "subnet-1,sn2"}, r"'sn2' is not a subnet id"),
    ],
)
def test_a_malformed_dashboard_context_is_refused_by_name(context, message):
    import aws_cdk as cdk
    from shiftwork_infra.dashboard_settings import dashboard_settings

    with pytest.raises(ValueError, match=message):
        dashboard_settings(cdk.Stack(cdk.App(context=context), "Probe"))


def test_dashboard_false_or_absent_is_off():
    import aws_cdk as cdk
    from shiftwork_infra.dashboard_settings import dashboard_settings

    for context in ({}, {"dashboard": "false"}, {"dashboard": False}):
        assert dashboard_settings(cdk.Stack(cdk.App(context=context), "Probe")) is None
    settings = dashboard_settings(cdk.Stack(cdk.App(context={**DASHBOARD, "dashboard": True}), "Probe"))
    assert (settings.domain, settings.region, settings.subnet_ids) == (DOMAIN, "eu-west-2", ())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_container_command_serves_the_installed_dashboard(tmp_path):
    """The task's command, run here as the container runs it (sh, `python` on the PATH, a working directory away
    from the sources): Streamlit finds the installed package's app.py and answers its health check."""
    from shiftwork_infra.dashboard import COMMAND, PORT

    dockerfile = (ROOT / "infra" / "dashboard.Dockerfile").read_text().splitlines()
    assert json.loads(next(line for line in dockerfile if line.startswith("CMD "))[4:]) == COMMAND
    port = _free_port()  # 8501 may be taken on this machine: the same command on a free port
    command = [*COMMAND[:2], COMMAND[2].replace(f"--server.port {PORT}", f"--server.port {port}")]
    environment = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "HOME": str(tmp_path),
        "SHIFTWORK_API_URL": "https://abc123.execute-api.eu-west-2.amazonaws.com",
    }
    assert shutil.which("sh")
    process = subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    assert (response.status, response.read()) == (200, b"ok")
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "Streamlit did not answer its health check within 60 s"
                time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_in_an_existing_vpc_the_load_balancer_takes_the_given_public_subnets_and_a_newer_region_its_log_principal():
    """The Dashboard construct alone in a small stack (no full synth): -c vpcId's runners' subnets for the service,
    dashboardSubnetIds for the ALB; a certificate in a region opened after August 2022 (ap-southeast-5), whose
    access logs Elastic Load Balancing delivers as its log-delivery service principal."""
    import aws_cdk as cdk
    from aws_cdk import aws_apigatewayv2 as apigw
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Match, Template
    from shiftwork_infra.dashboard import Dashboard
    from shiftwork_infra.dashboard_settings import dashboard_settings
    from shiftwork_infra.network import Network

    context = {
        **DASHBOARD,
        "dashboardCertificateArn": CERTIFICATE.replace("eu-west-2", "ap-southeast-5"),
        "vpcId": "vpc-0123",
        "subnetIds": "subnet-a1,subnet-b2",
        "dashboardSubnetIds": "subnet-0a,subnet-0b",
    }
    stack = cdk.Stack(cdk.App(context=context), "Probe")
    network = Network(stack, "Network")
    Dashboard(
        stack,
        "Dashboard",
        settings=dashboard_settings(stack),
        vpc=network.vpc,
        service_subnets=network.subnets,
        cluster=ecs.Cluster(stack, "Cluster", vpc=network.vpc),
        api=apigw.HttpApi(stack, "Api"),
        logs_bucket=s3.Bucket(stack, "Logs", enforce_ssl=True),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"Scheme": "internet-facing", "Subnets": ["subnet-0a", "subnet-0b"]},
    )
    template.has_resource_properties(
        "AWS::ECS::Service",
        {"NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({"Subnets": ["subnet-a1", "subnet-b2"]})}},
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": "s3:PutObject",
                                    "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                                }
                            )
                        ]
                    )
                }
            )
        },
    )
