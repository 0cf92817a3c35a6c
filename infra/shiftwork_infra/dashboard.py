"""The hosted dashboard (-c dashboard=true): Streamlit on Fargate behind an internet-facing ALB that signs users in
with a Cognito user pool before any request reaches it, over HTTPS only; it calls the stack's API with its task role.
Its context keys are read (and refused by name) in dashboard_settings.py.
"""

from __future__ import annotations

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
from shiftwork_infra.dashboard_settings import DashboardSettings
from shiftwork_infra.user_pools import invited_users_pool

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
        self._outputs(scope)

    def _outputs(self, scope: Construct) -> None:
        """Where to open it, what its DNS name points at, where its users are added."""
        settings = self.settings
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
        """The dashboard's service, in the runners' cluster and subnets, reachable from the ALB only."""
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
            task_definition=self._task_definition(api),
            desired_count=1,
            min_healthy_percent=100,  # a new task serves before the old one stops
            max_healthy_percent=200,
            security_groups=[security_group],
            vpc_subnets=subnets,
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            health_check_grace_period=cdk.Duration.seconds(60),
        )

    def _task_definition(self, api: apigw.HttpApi) -> ecs.FargateTaskDefinition:
        """Streamlit serving the installed dashboard on PORT, on the API's URL, with a task role that may invoke it."""
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
        return task_definition

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient, cognito.UserPoolDomain]:
        """The team's users: added by an administrator (no sign-up), strong passwords, TOTP MFA required."""
        url = f"https://{self.settings.domain}"
        user_pool = invited_users_pool(
            self,
            "Users",
            subject="Your Shiftwork dashboard account",
            body=f"Sign in at {url} as {{username}} with the temporary password {{####}}.",
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
