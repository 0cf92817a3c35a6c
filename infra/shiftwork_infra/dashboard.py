"""The hosted dashboard (-c dashboard=true): Streamlit on Fargate behind an internet-facing ALB that signs users in
with a Cognito user pool before any request reaches it, over HTTPS only; it calls the stack's API with its task role.

Context: dashboard=true turns it on; dashboard_domain (the host name the team opens) and dashboard_certificate_arn
(an ACM certificate for that name, in the stack's region) are required with it; dashboard_subnet_ids (public subnets,
comma-separated) is required with -c vpcId, whose subnets hold the runners only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import region_info
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge

REPOSITORY = Path(__file__).resolve().parents[2]
DOCKERFILE = "infra/dashboard.Dockerfile"
# what the dashboard image's Dockerfile COPYs (.dockerignore style: all out, these back in)
BUILD_CONTEXT = (DOCKERFILE, "pyproject.toml", "README.md", "src", "dashboard")
EXCLUDE = ["*", *(f"!{path}" for path in BUILD_CONTEXT), "**/__pycache__", "**/*.egg-info"]
PORT = 8501
HEALTH_PATH = "/_stcore/health"
LOG_PREFIX = "dashboard-alb"  # the load balancer's access logs, in the stack's access-log bucket
# the installed package's app.py, found where pip put it when the container starts (no site-packages path assumed)
STREAMLIT = (
    "exec python -m streamlit run "
    '"$(python -c \'import importlib.util; print(importlib.util.find_spec("dashboard.app").origin)\')" '
    f"--server.port {PORT} --server.headless true --server.address 0.0.0.0 --browser.gatherUsageStats false"
)
COMMAND = ["sh", "-c", STREAMLIT]
HEALTH_COMMAND = [
    "CMD",
    "python",
    "-c",
    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}{HEALTH_PATH}', timeout=4)",
]
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
    domain = str(scope.node.try_get_context("dashboard_domain") or "").strip().lower()
    if not domain:
        raise _missing(
            "dashboard_domain",
            "Pass the host name the team will open, -c dashboard_domain=shiftwork.example.com: the certificate "
            "covers it, and its DNS (a CNAME) points at the DashboardLoadBalancer output after the deploy.",
        )
    if not HOST_NAME.match(domain):
        raise ValueError(
            f"context dashboard_domain={domain!r}: must be a host name such as shiftwork.example.com "
            "(no scheme, no port, no path)"
        )
    certificate_arn = str(scope.node.try_get_context("dashboard_certificate_arn") or "").strip()
    if not certificate_arn:
        raise _missing(
            "dashboard_certificate_arn",
            f"The load balancer serves HTTPS only and its own DNS name cannot carry a public certificate: request "
            f"one for {domain} in ACM, in the region you deploy to (aws acm request-certificate --domain-name "
            f"{domain} --validation-method DNS, then add the CNAME it asks for), and pass its ARN: "
            "-c dashboard_certificate_arn=arn:aws:acm:REGION:ACCOUNT:certificate/ID",
        )
    match = CERTIFICATE_ARN.match(certificate_arn)
    if match is None:
        raise ValueError(
            f"context dashboard_certificate_arn={certificate_arn!r}: must be an ACM certificate's ARN, "
            "arn:aws:acm:REGION:ACCOUNT:certificate/ID (aws acm list-certificates shows them)"
        )
    if match["region"] in NO_USER_POOLS:
        raise ValueError(
            f"context dashboard_certificate_arn={certificate_arn!r}: the hosted dashboard signs users in with a "
            f"Cognito user pool, which CloudFormation does not offer in {match['region']}; deploy without "
            "-c dashboard=true there and run `shiftwork dashboard --endpoint API_URL` on your machine instead"
        )
    return DashboardSettings(domain, certificate_arn, match["region"], _subnet_ids(scope))


def _subnet_ids(scope: Construct) -> tuple[str, ...]:
    """The load balancer's public subnets: the context's, required when the stack runs in an existing VPC."""
    subnet_ids = tuple(s.strip() for s in str(scope.node.try_get_context("dashboard_subnet_ids") or "").split(","))
    subnet_ids = tuple(s for s in subnet_ids if s)
    if not subnet_ids and scope.node.try_get_context("vpcId") and scope.node.try_get_context("subnetIds"):
        raise _missing(
            "dashboard_subnet_ids",
            "With -c vpcId the stack knows only the runners' subnets: pass two or more public subnets of that VPC "
            "(routed to an internet gateway) for the load balancer: -c dashboard_subnet_ids=subnet-a,subnet-b",
        )
    bad = [s for s in subnet_ids if not SUBNET_ID.match(s)]
    if bad:
        raise ValueError(f"context dashboard_subnet_ids: {bad[0]!r} is not a subnet id (subnet-0123abcd)")
    return subnet_ids


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DashboardSettings,
        vpc: ec2.IVpc,
        service_subnets: ec2.SubnetSelection,
        cluster: ecs.ICluster,
        api: apigw.HttpApi,
        logs_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.service = self._service(vpc, service_subnets, cluster, api)
        self.user_pool, self.client, self.domain = self._user_pool()
        self.load_balancer = self._load_balancer(vpc, logs_bucket)
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            vpc=vpc,
            port=PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=[self.service],
            health_check=elbv2.HealthCheck(path=HEALTH_PATH, healthy_http_codes="200"),
            deregistration_delay=cdk.Duration.seconds(30),
            # a Streamlit session lives in one task's memory: a reconnecting browser must come back to it
            stickiness_cookie_duration=cdk.Duration.days(1),
        )
        self._listeners()
        cdk.CfnOutput(scope, "DashboardUrl", value=f"https://{settings.domain}")
        cdk.CfnOutput(
            scope,
            "DashboardLoadBalancer",
            value=self.load_balancer.load_balancer_dns_name,
            description=f"point {settings.domain} at this name (a CNAME, or a Route 53 alias)",
        )
        cdk.CfnOutput(
            scope,
            "DashboardUserPool",
            value=self.user_pool.user_pool_id,
            description="add the team's users here (aws cognito-idp admin-create-user): no one can sign up",
        )

    def _service(
        self, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, cluster: ecs.ICluster, api: apigw.HttpApi
    ) -> ecs.FargateService:
        """The dashboard's task and service, in the runners' cluster and subnets, reachable from the ALB only."""
        task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=512,
            memory_limit_mib=1024,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        # the Client signs each request with SigV4 from boto3's default credentials: on ECS, the task role's
        task_definition.add_to_task_role_policy(
            iam.PolicyStatement(actions=["execute-api:Invoke"], resources=[api.arn_for_execute_api()])
        )
        task_definition.add_container(
            "dashboard",
            image=ecs.ContainerImage.from_asset(
                str(REPOSITORY),
                file=DOCKERFILE,
                exclude=EXCLUDE,
                ignore_mode=cdk.IgnoreMode.DOCKER,
                platform=ecr_assets.Platform.LINUX_ARM64,  # the task's architecture, whatever the deploying machine's
            ),
            command=COMMAND,
            environment={"SHIFTWORK_API_URL": api.api_endpoint, "AWS_REGION": cdk.Stack.of(self).region},
            port_mappings=[ecs.PortMapping(container_port=PORT)],
            health_check=ecs.HealthCheck(
                command=HEALTH_COMMAND, start_period=cdk.Duration.seconds(30), timeout=cdk.Duration.seconds(5)
            ),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="dashboard",
                log_group=logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS),
            ),
        )
        acknowledge(task_definition, "AwsSolutions-ECS2", "The environment holds the API's URL and region only.")
        acknowledge(
            task_definition,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, which the execution role needs to pull the image, takes no resource",
        )
        acknowledge(
            task_definition,
            f"AwsSolutions-IAM5[Resource::{_execute_api_finding(api)}]",
            "execute-api:Invoke on every route of this stack's own API, and only that API: the dashboard's pages "
            "call them all (the API authorises each request by IAM; the ALB has already authenticated the user)",
        )
        security_group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=vpc,
            description=f"Shiftwork dashboard tasks: in from the dashboard load balancer on {PORT} only",
            allow_all_outbound=True,  # the API, ECR and CloudWatch Logs, through the VPC's NAT
        )
        return ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task_definition,
            desired_count=1,
            min_healthy_percent=100,  # a new task serves before the old one stops
            max_healthy_percent=200,
            security_groups=[security_group],
            vpc_subnets=subnets,
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            health_check_grace_period=cdk.Duration.seconds(60),
        )

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient, cognito.UserPoolDomain]:
        """The team's users: added by an administrator (no sign-up), strong passwords, TOTP MFA required."""
        url = f"https://{self.settings.domain}"
        user_pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),  # an authenticator app: no SMS role
            # Plus: compromised-credential checks and adaptive authentication act on risky sign-ins (cdk-nag COG8)
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="Your Shiftwork dashboard account",
                email_body=f"Sign in at {url} as {{username}} with the temporary password {{####}}.",
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        client = user_pool.add_client(
            "LoadBalancer",
            generate_secret=True,  # the ALB is a confidential client: it exchanges the code with its secret
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=[f"{url}/oauth2/idpresponse"],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
        )
        # the sign-in pages' prefix: unique per account and region, as Cognito requires
        prefix = f"{cdk.Stack.of(self).stack_name.lower()}-{cdk.Aws.ACCOUNT_ID}"
        domain = user_pool.add_domain("SignIn", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix))
        return user_pool, client, domain

    def _load_balancer(self, vpc: ec2.IVpc, logs_bucket: s3.IBucket) -> elbv2.ApplicationLoadBalancer:
        """Internet-facing, in public subnets, dropping invalid headers, logging every request."""
        security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description="Shiftwork dashboard load balancer: in on 443 (and 80, redirected to 443) from anyone",
            allow_all_outbound=False,  # out: the tasks on the dashboard's port, Cognito on 443 (added as bound)
        )
        acknowledge(
            security_group,
            "AwsSolutions-EC23",
            "The team's entry point on the internet: 443, where Cognito authenticates every request before any "
            "reaches the dashboard, and 80, which only redirects to 443.",
        )
        if self.settings.subnet_ids:
            ids = self.settings.subnet_ids
            subnets = ec2.SubnetSelection(
                subnets=[ec2.Subnet.from_subnet_id(self, f"PublicSubnet{i}", s) for i, s in enumerate(ids)]
            )
        else:
            subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
        load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=subnets,
            security_group=security_group,
            drop_invalid_header_fields=True,
        )
        _log_access(load_balancer, logs_bucket, self.settings.region)
        return load_balancer

    def _listeners(self) -> None:
        """443: authenticate with Cognito, then forward; 80: redirect to 443, nothing else."""
        self.https = self.load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(self.settings.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_action=actions.AuthenticateCognitoAction(
                user_pool=self.user_pool,
                user_pool_client=self.client,
                user_pool_domain=self.domain,
                scope="openid email",
                session_timeout=cdk.Duration.hours(12),
                next=elbv2.ListenerAction.forward([self.target_group]),
            ),
        )
        self.http = self.load_balancer.add_redirect(source_port=80, target_port=443)


def _log_access(load_balancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, region: str) -> None:
    """Access logs to `bucket`, under LOG_PREFIX. ApplicationLoadBalancer.log_access_logs needs the stack's region at
    synth, which this stack (deployable to any region) leaves to CloudFormation; the certificate's region is the
    deployment's, so it names who delivers the logs there: Elastic Load Balancing's account in a region opened before
    August 2022, its log-delivery service principal in a newer one."""
    account = region_info.RegionInfo.get(region).elbv2_account
    writer: iam.IPrincipal = (
        iam.AccountPrincipal(account)
        if account
        else iam.ServicePrincipal("logdelivery.elasticloadbalancing.amazonaws.com")
    )
    objects = bucket.arn_for_objects(f"{LOG_PREFIX}/AWSLogs/{cdk.Aws.ACCOUNT_ID}/*")
    bucket.add_to_resource_policy(
        iam.PolicyStatement(actions=["s3:PutObject"], principals=[writer], resources=[objects])
    )
    load_balancer.set_attribute("access_logs.s3.enabled", "true")
    load_balancer.set_attribute("access_logs.s3.bucket", bucket.bucket_name)
    load_balancer.set_attribute("access_logs.s3.prefix", LOG_PREFIX)
    policy = bucket.policy
    if policy is not None:  # the ALB checks it may write there when its attributes are set
        load_balancer.node.add_dependency(policy)


def _execute_api_finding(api: apigw.HttpApi) -> str:
    """The API's execute-api ARN (any stage, method and path) as cdk-nag names it: references as <LogicalId>."""
    logical = cdk.Stack.of(api).get_logical_id(api.node.default_child)  # type: ignore[arg-type]
    return f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{logical}>/*/*/*"
